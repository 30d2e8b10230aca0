"""Promise semantics: hand-checked answers on the tiny network, properties on random ones."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from parcelnet.errors import NotFoundError, ValidationError
from parcelnet.promise import PromiseEngine
from parcelnet.promise.engine import INF
from tests.conftest import random_network
from tests.promise import oracle


# -- hand-checked (see the comments for the arithmetic) -------------------------------------
def test_two_hubs_by_air(tiny):
    # ready at A 1000+10=1010; L1 18:00 -> 1140, ready H1 1170; air L3 22:30 -> 1440, ready H2 1470;
    # L4 next at day1 05:00=1740 -> 1800, ready B 1810; wave 08:00 day1 (1920) ends 2100.
    # Truck L2 (21:00 -> 2160, ready 2190) misses the 05:00 van and cannot achieve 2100.
    p = PromiseEngine(tiny).query("A", "B", 1000)
    assert p.promise_minute == 2100
    assert p.path == ("L1", "L3", "L4")
    assert p.hours == pytest.approx(18.33, abs=0.01)


def test_missed_cutoff_waits_a_day(tiny):
    # ready 1081 misses the 18:00 van (1080): everything shifts by one day.
    assert PromiseEngine(tiny).query("A", "B", 1071).promise_minute == 2100 + 1440


def test_multi_day_truck(tiny):
    # H1 ready 1170; L5 20:00 (1200) + 3000 = 4200, ready C 4210; wave 10:00 on day 3 (4920) ends 5160.
    p = PromiseEngine(tiny).query("A", "C", 1000)
    assert (p.promise_minute, p.path) == (5160, ("L1", "L5"))


def test_same_station_goes_straight_to_the_wave(tiny):
    eng = PromiseEngine(tiny)
    assert eng.query("A", "A", 1000).promise_minute == 1440 + 480 + 180  # ready 1010, next wave day 1
    assert eng.query("A", "A", 400).promise_minute == 480 + 180          # ready 410, wave 08:00 day 0
    assert eng.query("A", "A", 470).promise_minute == 660                # ready 480 = start: allowed
    assert eng.query("A", "A", 471).promise_minute == 1440 + 660         # ready 481 misses it
    assert eng.query("A", "A", 470).path == ()


def test_unreachable(tiny):
    p = PromiseEngine(tiny).query("B", "A", 0)
    assert p.promise_minute is None and p.hours is None and p.path == ()


def test_later_days_shift_exactly(tiny):
    eng = PromiseEngine(tiny)
    for t in (0, 500, 1000, 1070, 1071, 1439):
        base = eng.query("A", "B", t).promise_minute
        assert eng.query("A", "B", t + 3 * 1440).promise_minute == base + 3 * 1440


def test_bad_queries(tiny):
    eng = PromiseEngine(tiny)
    with pytest.raises(NotFoundError, match="unknown facility 'NOPE'"):
        eng.query("NOPE", "B", 0)
    with pytest.raises(NotFoundError, match="not a station"):
        eng.query("A", "H2", 0)
    with pytest.raises(ValidationError, match="integer from 0 to"):
        eng.query("A", "B", -5)
    with pytest.raises(ValidationError, match="integer from 0 to"):
        eng.query("A", "B", 10**13)


def test_latest_order(tiny):
    # At 17:50 (1070) ready 18:00 makes the van and arrives 2100: 1030 min <= 1440. At 1071 it
    # waits a day. Before 660 the same delivery is more than 24 h away.
    r = PromiseEngine(tiny).latest_order("A", "B").to_dict()
    assert r["cutoff_24h"] == 1070
    assert r["windows_24h"] == [[660, 1070]]
    assert r["next_day_cutoff"] == 1070


def test_latest_order_none_when_never_within_24h(tiny):
    r = PromiseEngine(tiny).latest_order("A", "C").to_dict()
    assert r["cutoff_24h"] is None and r["windows_24h"] == []


# -- properties on random networks ----------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), created=st.integers(0, 5 * 1440))
def test_matches_independent_oracle(seed, created):
    net = random_network(seed)
    eng = PromiseEngine(net)
    fac = net.facilities
    for o in fac["facility_id"]:
        for d in fac.loc[fac["kind"] == "station", "facility_id"]:
            p = eng.query(o, d, created)
            assert p.promise_minute == oracle.promise(net, o, d, created)
            if p.promise_minute is not None:
                # never before creation + processing at the origin
                assert p.promise_minute >= created + int(fac.set_index("facility_id").at[o, "process_minutes"])
                # the path is a chain of lanes from o to d that achieves the promise
                assert oracle.path_delivery(net, o, list(p.path), created) == (d, p.promise_minute)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_later_order_never_promised_earlier(seed):
    net = random_network(seed)
    eng = PromiseEngine(net)
    o = eng.network.facility("F1")
    created = np.arange(0, 3 * 1440, 7)
    d = eng.delivered_from(o, created)
    ok = d < INF
    assert (ok == ok[0]).all()  # reachability does not depend on the time
    assert (np.diff(d[:, ok[0]], axis=0) >= 0).all()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_batch_and_profiles_equal_single_queries(seed):
    net = random_network(seed)
    eng = PromiseEngine(net)
    rng = np.random.default_rng(seed)
    m = 60
    o = rng.integers(0, eng.n, m)
    d = rng.choice(eng.stations, m)
    t = rng.integers(0, 4 * 1440, m)
    got, (ptr, lanes) = eng.promise_many(o, d, t, paths=True)
    ids = net.facility_index
    for i in range(m):
        p = eng.query(ids[o[i]], ids[d[i]], int(t[i]))
        assert (got[i] if got[i] < INF else None) == p.promise_minute
        if p.promise_minute is not None:
            path = [net.lane_index[x] for x in lanes[ptr[i]:ptr[i + 1]]]
            assert oracle.path_delivery(net, ids[o[i]], path, int(t[i])) == (ids[d[i]], p.promise_minute)
    # delivered_from (profiles) agrees with single queries at every station
    created = np.array([0, 59, 600, 1439, 2000])
    rows = eng.delivered_from(int(o[0]), created)
    for j, s in enumerate(eng.stations):
        for k, c in enumerate(created):
            p = eng.query(ids[o[0]], ids[s], int(c)).promise_minute
            assert (rows[k, j] if rows[k, j] < INF else None) == p


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 10_000))
def test_precomputed_profiles_equal_cold_batches(seed):
    net = random_network(seed)
    rng = np.random.default_rng(seed)
    m = 200
    o = rng.integers(0, net.timetable.n_facilities, m)
    d = rng.choice(net.stations, m)
    t = rng.integers(0, 5 * 1440, m)
    cold = PromiseEngine(net).promise_many(o, d, t)
    warm = PromiseEngine(net)
    warm.precompute(origins=o[: m // 2])   # half the origins warm, the rest searched cold
    assert warm.profiles.covered[o[: m // 2]].all()
    np.testing.assert_array_equal(warm.promise_many(o, d, t), cold)


def test_precompute_all_on_tiny(tiny):
    eng = PromiseEngine(tiny)
    pt = eng.precompute()
    assert pt.covered.all() and pt.nbytes > 0
    ids = tiny.facility_index
    o, d = ids.get_indexer(["A", "A", "B", "A"]), ids.get_indexer(["B", "C", "A", "A"])
    got = eng.promise_many(o, d, np.array([1000, 1000, 0, 470]))
    assert got.tolist() == [2100, 5160, INF, 660]


def test_overlapping_waves_later_arrival_delivers_earlier():
    """tests/fixtures/overlap: the 00:00 trip arrives at 100 and makes the long wave (ends 600);
    the 00:50 trip arrives at 150 and makes the short wave that starts later but ends at 160.
    The promise is the earliest delivery over all paths, so it is 160, by waiting for T2."""
    from parcelnet.network.pnf import load_network
    from tests.conftest import FIXTURES
    net = load_network(FIXTURES / "overlap")
    eng = PromiseEngine(net)
    p = eng.query("O", "D", 0)
    assert (p.promise_minute, p.path) == (160, ("L1",))
    assert eng.query("O", "D", 51).promise_minute == 1440 + 160   # both trips gone: next day
    # profiles and batches agree
    o, d = net.facility("O"), net.facility("D")
    assert eng.delivered_from(o, np.array([0, 51]))[:, 0].tolist() == [160, 1600]
    eng.precompute()
    assert eng.promise_many(np.array([o]), np.array([d]), np.array([0])).tolist() == [160]
