"""Properties of the capacity simulation on random networks."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings, strategies as st

from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.promise import PromiseEngine
from parcelnet.promise.engine import INF
from parcelnet.sim import run_paths, simulate_paths
from tests.conftest import random_network


def _reshape(net: Network, unlimited: bool, cap: int = 1, spm: int = 1) -> Network:
    """The same network with waves that never overtake (a later wave, also the next day's,
    never ends earlier)
    and either unlimited capacity or the given tight capacities."""
    t = {k: v.copy() for k, v in net.tables.items()}
    w = t["waves.csv"].astype({"start_minute": int, "duration_minutes": int})
    w = w.sort_values(["station_id", "start_minute"])
    ends = (w["start_minute"] + w["duration_minutes"]).groupby(w["station_id"]).cummax()
    # ... also across midnight: no wave may end after the next day's first wave does
    first_end = ends.groupby(w["station_id"]).transform("first")
    w["duration_minutes"] = np.minimum(ends, first_end + 1440) - w["start_minute"]
    t["waves.csv"] = w
    t["trips.csv"]["capacity"] = 10**9 if unlimited else cap
    t["facilities.csv"]["sort_per_minute"] = 0 if unlimited else spm
    return Network.from_tables({k: v.astype(str) for k, v in t.items()})


def _parcels(net: Network, seed: int, n: int):
    rng = np.random.default_rng(seed)
    eng = PromiseEngine(net)
    o = rng.integers(0, eng.n, n)
    d = rng.choice(net.stations, n)
    t = rng.integers(0, 2 * 1440, n)
    promise = eng.promise_many(o, d, t)
    keep = promise < INF
    o, d, t = o[keep], d[keep], t[keep]
    promise, (ptr, lanes) = eng.promise_many(o, d, t, paths=True)
    ids = rng.permutation(10 * len(o))[: len(o)]          # ids in no particular order
    return ids, t, o, d, ptr, lanes, promise


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_unlimited_capacity_delivers_exactly_at_the_promise(seed):
    net = _reshape(random_network(seed), unlimited=True)
    ids, t, o, d, ptr, lanes, promise = _parcels(net, seed, 300)
    # random lanes take up to 2,000 minutes: give every promise room within the horizon
    horizon = int(promise.max() - t.max()) + 1
    got = simulate_paths(net, Parcels(ids, t, o, d), ptr, lanes, horizon_minutes=horizon)
    np.testing.assert_array_equal(got, promise)
    # a shorter horizon reports exactly the parcels whose destination sort falls after it
    short = simulate_paths(net, Parcels(ids, t, o, d), ptr, lanes, horizon_minutes=1440)
    assert ((short == -1) | (short == promise)).all()


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), cap=st.integers(1, 3), spm=st.integers(1, 3))
def test_tight_capacity_never_early_and_conserves_parcels(seed, cap, spm):
    net = _reshape(random_network(seed), unlimited=False, cap=cap, spm=spm)
    ids, t, o, d, ptr, lanes, promise = _parcels(net, seed, 300)
    res = run_paths(net, Parcels(ids, t, o, d), ptr, lanes, horizon_minutes=3 * 1440)
    done = res.delivered >= 0
    assert (res.delivered[done] >= promise[done]).all()          # never before the promise
    # conservation: each parcel is delivered or reported not delivered, never lost or doubled
    assert len(res.delivered) == len(ids)
    h_end = t.max() + 3 * 1440
    assert (res.sorted_at_dest[done] >= 0).all() and (res.delivered[done] <= h_end).all()
    # parcels sorted at their destination but not delivered: their wave ends after the horizon
    late = (res.sorted_at_dest >= 0) & ~done
    assert (res.sorted_at_dest[late] <= h_end).all()
    # capacity is respected at every sorter and trip
    assert (res.left_behind >= 0).all() and (res.backlog_peak >= 0).all()


def test_sorter_capacity_is_respected_minute_by_minute(tiny):
    """200 parcels created at 17:40 (1060) at A, whose sorter handles 7 a minute: they are
    sorted over ceil(200/7) = 29 minutes in parcel_id order; only those ready by the 18:00 van
    (sorted in minutes 1060..1070, 11 x 7 = 77 parcels) make it, the rest wait a day."""
    t = {k: v.copy() for k, v in tiny.tables.items()}
    t["facilities.csv"].loc[t["facilities.csv"]["facility_id"] == "A", "sort_per_minute"] = "7"
    net = Network.from_tables(t)
    n = 200
    a, b = net.facility("A"), net.facility("B")
    eng = PromiseEngine(net)
    _, (ptr, lanes) = eng.promise_many(np.full(n, a), np.full(n, b), np.full(n, 1060), paths=True)
    ids = np.arange(n)[::-1] * 3                              # ids descending with position
    res = run_paths(net, Parcels(ids, np.full(n, 1060), np.full(n, a), np.full(n, b)), ptr, lanes)
    assert res.backlog_peak[a] == n - 7
    # the k-th smallest id is sorted in minute 1060 + k // 7 and ready 10 minutes later
    order = np.argsort(ids)
    ready = 1060 + np.arange(n) // 7 + 10
    on_time = ready <= 1080
    assert on_time.sum() == 77
    # those parcels follow the promised 2100; the rest wait a day for the van
    assert (res.delivered[order][on_time] == 2100).all()
    assert (res.delivered[order][~on_time] == 2100 + 1440).all()
    assert res.left_behind.sum() == 0                         # they were never ready for a missed van


def test_bad_paths_are_rejected(tiny):
    import pytest
    from parcelnet.errors import ValidationError
    a, b, h2 = tiny.facility("A"), tiny.facility("B"), tiny.facility("H2")
    lane = {l: i for i, l in enumerate(tiny.lane_index)}
    with pytest.raises(ValidationError, match="parcel 5: path is not a chain"):
        simulate_paths(tiny, Parcels([5], [0], [a], [b]), [0, 2], [lane["L1"], lane["L4"]])
    with pytest.raises(ValidationError, match="destination is not a station"):
        simulate_paths(tiny, Parcels([5], [0], [a], [h2]), [0, 0], [])
    with pytest.raises(ValidationError, match="unique"):
        simulate_paths(tiny, Parcels([5, 5], [0, 0], [a, a], [a, a]), [0, 0, 0], [])
