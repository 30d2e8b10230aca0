"""The route table answers exactly as assign_paths: same promise, same lanes."""

from __future__ import annotations

import numpy as np
import pytest

from parcelnet.errors import ValidationError
from parcelnet.network.model import Network
from parcelnet.promise import PromiseEngine
from parcelnet.promise.engine import INF
from parcelnet.sim import routes
from parcelnet.sim.paths import assign_paths
from parcelnet.sim.routes import RouteTable
from parcelnet.parcels import Parcels
from tests.conftest import random_network

DAY = 1440


def _same(eng: PromiseEngine, rt: RouteTable, o, d, t) -> tuple[np.ndarray, np.ndarray]:
    """Assert the table's promise and route equal assign_paths' for every parcel."""
    o, d, t = (np.asarray(x, np.int64) for x in (o, d, t))
    want = assign_paths(eng, Parcels(np.arange(len(o)), t, o, d))
    promise, start = rt.lookup(o, d, t)
    assert promise.dtype == np.int64 and start.dtype == np.int64
    np.testing.assert_array_equal(promise, want.promise)
    np.testing.assert_array_equal(start < 0, want.path_id < 0)
    assert ((promise >= INF) == (start < 0)).all()
    route = rt.route
    assert route.dtype == np.int32 and route[0] == -1
    for i in np.flatnonzero(start >= 0):
        q = want.path_id[i]
        lanes = want.path_lanes[want.path_ptr[q]:want.path_ptr[q + 1]]
        h = len(lanes)
        np.testing.assert_array_equal(route[start[i]:start[i] + h], lanes)
        assert route[start[i] + h] == -1
    return promise, start


def _grid(n: int, minutes: np.ndarray):
    """Every (origin, destination facility, created minute)."""
    o, d, t = np.meshgrid(np.arange(n), np.arange(n), minutes, indexing="ij")
    return o.ravel(), d.ravel(), t.ravel()


@pytest.mark.parametrize("lazy", [True, False])
def test_tiny_every_pair_over_several_days(tiny, lazy):
    eng = PromiseEngine(tiny)
    rt = RouteTable(eng, lazy=lazy)
    minutes = np.concatenate([np.arange(0, 5 * DAY, 7), [10**9, 10**12 - 1, 10**12]])
    o, d, t = _grid(eng.n, minutes)
    promise, start = _same(eng, rt, o, d, t)
    stations = np.isin(d, tiny.stations)
    assert (promise[~stations] >= INF).all()            # a hub is no destination
    home = (o == d) & stations & (promise < INF)
    assert home.any() and (start[home] == 0).all()       # delivered at the origin: empty route
    assert (promise[stations] < INF).any()


@pytest.mark.parametrize("lazy", [True, False])
def test_random_networks(lazy):
    unreachable = empty = 0
    for seed in range(25):
        net = random_network(seed, n=int(5 + seed % 6), lanes=int(6 + seed % 13))
        eng = PromiseEngine(net)
        rt = RouteTable(eng, lazy=lazy)
        rng = np.random.default_rng(seed)
        m = 2000
        o = rng.integers(0, eng.n, m)
        d = np.where(rng.random(m) < 0.2, o, rng.integers(0, eng.n, m))   # many origin == destination
        t = rng.integers(0, 6 * DAY, m)
        promise, start = _same(eng, rt, o, d, t)
        unreachable += int((promise >= INF).sum())
        empty += int((start == 0).sum())
        # blocks: a second look-up of other parcels and then of the same ones again
        o2, d2, t2 = _grid(eng.n, np.arange(0, 3 * DAY, 97))
        _same(eng, rt, o2, d2, t2)
        again = rt.lookup(o, d, t)
        np.testing.assert_array_equal(again[0], promise)
        np.testing.assert_array_equal(again[1], start)
    assert unreachable > 0 and empty > 0


def test_lazy_computes_each_key_once_and_keeps_old_starts():
    net = random_network(3, n=9, lanes=20)
    eng = PromiseEngine(net)
    rt = RouteTable(eng)
    assert rt.n_built == 0 and len(rt.route) == 1
    rng = np.random.default_rng(0)
    o, d, t = rng.integers(0, eng.n, 500), rng.choice(net.stations, 500), rng.integers(0, 4 * DAY, 500)
    p1, s1 = rt.lookup(o[:250], d[:250], t[:250])
    built, length = rt.n_built, len(rt.route)
    assert 0 < built < rt.n_keys
    assert rt.lookup(o[:250], d[:250], t[:250 ]) is not None and rt.n_built == built
    assert len(rt.route) == length
    rt.lookup(o[250:], d[250:], t[250:])
    route = rt.route
    for i in np.flatnonzero(s1 >= 0):            # starts handed out before stay valid
        lanes = rt.lanes(int(s1[i]))
        assert route[s1[i] + len(lanes)] == -1
    _same(eng, rt, o, d, t)
    eager = RouteTable(eng, lazy=False)
    assert eager.n_built == eager.n_keys
    pe, se = eager.lookup(o[:250], d[:250], t[:250])
    np.testing.assert_array_equal(pe, p1)
    for a, b in zip(se, s1):
        np.testing.assert_array_equal(eager.lanes(int(a)), rt.lanes(int(b)))


def test_routes_shared_between_breakpoints(tiny):
    eng = PromiseEngine(tiny)
    rt = RouteTable(eng, lazy=False)
    starts = rt.start_of[rt.start_of > 0]
    # every stored route is used by some key, and keys with equal routes share one
    ends = np.flatnonzero(rt.route == -1)
    assert set(np.concatenate([[1], ends[:-1] + 1]).tolist()) == set(starts.tolist()) | ({1} if len(ends) == 1 else set())
    texts = [tuple(rt.lanes(int(s))) for s in starts]
    by_text: dict = {}
    for s, x in zip(starts, texts):
        by_text.setdefault(x, set()).add(int(s))
    assert all(len(v) == 1 for v in by_text.values())


@pytest.mark.parametrize("lazy", [True, False])
def test_small_buffer_and_int64_starts(monkeypatch, lazy):
    monkeypatch.setattr(routes, "ROUTE_BUFFER", 2)
    monkeypatch.setattr(routes, "START32_LIMIT", 6)
    net = random_network(11, n=10, lanes=24)
    eng = PromiseEngine(net)
    rt = RouteTable(eng, lazy=lazy)
    o, d, t = _grid(eng.n, np.arange(0, 2 * DAY, 131))
    _same(eng, rt, o, d, t)
    assert rt.start_of.dtype == np.int64 and len(rt.route) > 6


def test_origin_subset_and_errors(tiny):
    eng = PromiseEngine(tiny)
    a = tiny.facility("A")
    rt = RouteTable(eng, origins=[a])
    assert rt.covered.sum() == 1
    o, d, t = _grid(eng.n, np.arange(0, 3 * DAY, 11))
    keep = o == a
    _same(eng, rt, o[keep], d[keep], t[keep])
    with pytest.raises(ValidationError, match="not in the route table"):
        rt.lookup([tiny.facility("B")], [a], [0])
    with pytest.raises(ValidationError, match="facility positions"):
        rt.lookup([a], [eng.n], [0])
    with pytest.raises(ValidationError, match="same length"):
        rt.lookup([a, a], [a], [0])
    with pytest.raises(ValidationError, match="origin positions"):
        RouteTable(eng, origins=[-1])
    p, s = rt.lookup(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    assert len(p) == len(s) == 0
    assert rt.lanes(-1).size == 0 and rt.nbytes > 0


@pytest.fixture(scope="module")
def cn(cn_gravity) -> Network:
    """China's default network; capacities by the gravity model (seconds, not a simulated
    design day): the timetable, all that promises and paths read, is the same."""
    return cn_gravity


@pytest.mark.parametrize("lazy", [True, False])
def test_china_sample(cn, lazy):
    eng = PromiseEngine(cn)
    rng = np.random.default_rng(7)
    origins = np.concatenate([rng.choice(cn.stations, 30, replace=False), rng.choice(cn.hubs, 3, replace=False)])
    rt = RouteTable(eng, origins=origins, lazy=lazy)
    m = 30_000
    o = rng.choice(origins, m)
    d = rng.choice(cn.stations, m)
    d[:300] = o[:300]                                     # origin == destination (hubs: unreachable)
    d[300:400] = rng.choice(cn.hubs, 100)                 # not a station: unreachable
    t = rng.integers(0, 4 * DAY, m)
    promise, start = _same(eng, rt, o, d, t)
    assert (promise[300:400] >= INF).all() and (start[:300][np.isin(o[:300], cn.stations)] == 0).all()
    assert (promise[400:] < INF).mean() > 0.99
