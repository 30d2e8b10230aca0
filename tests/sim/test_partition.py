"""One day split across partitions (parcelnet.sim.partition), in this process: every parcel's
delivered minute and every counter are the single run's, for any number of partitions, any
partitioning and any window up to the limit (docs/simulation.md, "One day split across partitions")."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from parcelnet.demand import sample_parcels
from parcelnet.errors import SolverError, ValidationError
from parcelnet.network.scale import scale_capacity
from parcelnet.parcels import Parcels
from parcelnet.sim import _kernels as K
from parcelnet.sim.engine import run_paths, terminated_routes
from parcelnet.sim.partition import (Partition, Split, facility_load, partition_network,
                                     partitioning)
from parcelnet.sim.run import simulate
from parcelnet.sim.stream import simulate_blocks, simulate_day
from tests.conftest import random_network
from tests.sim.test_engine import _parcels, _reshape
from tests.sim.test_stream import _blocks, _day, _minute_cuts, _tight

FIELDS = ("delivered", "sorted_at_dest", "backlog_peak", "left_behind", "hourly", "trip_boarded",
          "trip_peak", "sort_peak", "last_minute", "hour0")


def assert_same_run(got, want) -> None:
    for f in FIELDS:
        np.testing.assert_array_equal(getattr(got, f), getattr(want, f), err_msg=f)


@pytest.mark.long
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), cap=st.integers(1, 3), spm=st.integers(0, 2),
       k=st.integers(1, 4), given_split=st.booleans(), window=st.integers(1, 400))
def test_any_split_of_a_tight_random_network_is_the_single_run(seed, cap, spm, k, given_split,
                                                                window):
    net = _reshape(random_network(seed, n=9, lanes=20), unlimited=False, cap=cap, spm=spm)
    ids, t, o, d, ptr, lanes, _ = _parcels(net, seed, 400)
    parcels = Parcels(ids, t, o, d)
    want = run_paths(net, parcels, ptr, lanes, horizon_minutes=3 * 1440)
    n_fac = net.timetable.n_facilities
    part = np.random.default_rng(seed).integers(0, k, n_fac) if given_split else None
    route, start = terminated_routes(ptr, lanes)
    limit = Split(k=k, part=part).partitioning(net, facility_load(net, route, start, o)).window
    split = Split(k=k, part=part, window=min(window, limit))
    got = run_paths(net, parcels, ptr, lanes, horizon_minutes=3 * 1440, split=split)
    assert_same_run(got, want)
    assert got.split["partitions"] == k and got.split["window_minutes"] == min(window, limit)


@pytest.fixture(scope="module")
def cn_day(cn_gravity):
    """A peak-day sample on China with capacities that bind (70% of the sample's share)."""
    n = 60_000
    parcels = sample_parcels(cn_gravity, n, "peak", 4)
    net = scale_capacity(cn_gravity, 0.7 * n / cn_gravity.parcels_per_day)
    return net, parcels, simulate(net, parcels)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_china_split_in_k_partitions_is_the_single_run(cn_day, k):
    net, parcels, want = cn_day
    got = simulate(net, parcels, paths=want.paths, split=Split(k=k))
    assert_same_run(got.raw, want.raw)
    s = got.raw.split
    load = np.array(s["load"])
    assert s["partitions"] == k and load.max() <= 1.25 * load.mean()     # balanced
    if k > 1:
        assert s["cut_lanes"] > 0 and s["parcels_crossed"] > 0 and s["windows"] > 1
        assert len(s["partition_peak_bytes"]) == k


def test_one_minute_windows_and_a_bad_partitioning(cn_day):
    net, parcels, want = cn_day
    n_fac = net.timetable.n_facilities
    bad = np.arange(n_fac) % 3                  # neighbours apart: short lanes are cut
    got = simulate(net, parcels, paths=want.paths, split=Split(k=3, part=bad, window=1))
    assert_same_run(got.raw, want.raw)
    assert got.raw.split["window_minutes"] == 1
    first = int(parcels.created_minute[want.routable].min())
    assert got.raw.split["windows"] == got.raw.last_minute - first + 1   # one per minute


def test_the_partitioning_cuts_only_lanes_at_least_a_window_long(cn_gravity):
    net = cn_gravity
    load = np.ones(net.timetable.n_facilities, np.int64)
    for k in (2, 4, 8):
        pt = partition_network(net, k, load)
        dur = net.timetable.lane_duration
        assert pt.cut.any() and dur[pt.cut].min() == pt.window
        assert set(np.unique(pt.part)) == set(range(k))
        again = partition_network(net, k, load)
        np.testing.assert_array_equal(pt.part, again.part)            # deterministic


@pytest.mark.parametrize("seed", range(4))
def test_a_streamed_day_split_is_the_single_run(seed):
    """Blocks fed one after the other, routes appended as the lazy table grows."""
    net = _tight(random_network(seed, n=9, lanes=20), cap=2, spm=3)
    ids, t, o, d = _day(net, seed, 3000)
    cuts = _minute_cuts(t, 5)
    want = simulate_blocks(net, _blocks(ids, t, o, d, cuts), len(ids))
    n_fac = net.timetable.n_facilities
    part = np.arange(n_fac) % 3
    got = simulate_blocks(net, _blocks(ids, t, o, d, cuts), len(ids),
                          split=Split(k=3, part=part, window=1 + seed * 7),
                          split_load=np.ones(n_fac, np.int64))
    np.testing.assert_array_equal(got.delivered, want.delivered)
    for f in FIELDS[2:]:
        np.testing.assert_array_equal(getattr(got.raw, f), getattr(want.raw, f), err_msg=f)
    assert got.raw.split["parcels_crossed"] > 0


@pytest.mark.parametrize("seed, window", [(0, None), (1, 1), (2, 37)])
def test_one_partition_is_pipelined_and_is_the_single_run(seed, window):
    """K = 1 submits windows without waiting for the one before. Three small bursts of
    parcels eight days apart: the partition idles for days with only future parcels, and
    with short windows it is stepped on after it ran dry at the end. The answers, the last
    minute included, are the single run's."""
    net = _tight(random_network(seed, n=9, lanes=20), cap=200, spm=200)
    ids, t, o, d = _day(net, seed, 90)
    t = np.sort(t % 120 + 11520 * (np.arange(len(t)) * 3 // len(t)))
    cuts = sorted({c for c in [30, 60, *_minute_cuts(t, 4)] if t[c] != t[c - 1]})
    want = simulate_blocks(net, _blocks(ids, t, o, d, cuts), len(ids), last_minute=23159)
    n_fac = net.timetable.n_facilities
    got = simulate_blocks(net, _blocks(ids, t, o, d, cuts), len(ids), last_minute=23159,
                          split=Split(k=1, window=window), split_load=np.ones(n_fac, np.int64))
    np.testing.assert_array_equal(got.delivered, want.delivered)
    for f in FIELDS[2:]:
        np.testing.assert_array_equal(getattr(got.raw, f), getattr(want.raw, f), err_msg=f)
    assert (want.delivered >= 0).sum() > 30 and want.raw.last_minute < want.horizon_end
    assert got.raw.split["pipelined"] and got.raw.split["windows"] >= len(cuts) + 1


def test_simulate_day_split_is_balanced_on_a_sample_of_the_day(tiny):
    want = simulate_day(tiny, 20_000, "peak", seed=9)
    got = simulate_day(tiny, 20_000, "peak", seed=9, split=Split(k=2))
    np.testing.assert_array_equal(got.delivered, want.delivered)
    assert got.raw.split["partitions"] == 2 and min(got.raw.split["load"]) > 0


def test_facility_load_counts_every_sort():
    # lanes: 0: 0->1, 1: 1->2; one parcel 0->1->2, one delivered at its origin 2
    net = random_network(1)
    tt = net.timetable
    lane_a = int(np.flatnonzero(tt.lane_from != tt.lane_to)[0])
    route = np.array([-1, lane_a, -1], np.int32)
    load = facility_load(net, route, np.array([1, 0]), np.array([tt.lane_from[lane_a], 2]))
    want = np.zeros(tt.n_facilities, np.int64)
    want[tt.lane_from[lane_a]] += 1
    want[tt.lane_to[lane_a]] += 1
    want[2] += 1
    np.testing.assert_array_equal(load, want)


@pytest.mark.parametrize("part, message", [
    (np.zeros(3, np.int64), "one integer partition per facility"),
    ("negative", "is not in 0..1"),
    ("float", "one integer partition per facility"),
])
def test_a_bad_partitioning_is_refused_with_the_reason(part, message):
    net = random_network(3)
    n = net.timetable.n_facilities
    if isinstance(part, str):
        part = np.full(n, -1) if part == "negative" else np.zeros(n, float)
    with pytest.raises(ValidationError, match=message):
        partitioning(net, part, k=2)


def test_too_many_partitions_and_too_long_windows_are_refused():
    net = random_network(3)
    n = net.timetable.n_facilities
    with pytest.raises(ValidationError, match="at most one per facility"):
        partition_network(net, n + 1, np.ones(n, np.int64))
    with pytest.raises(ValidationError, match="at least 1"):
        partition_network(net, 0, np.ones(n, np.int64))
    split = Split(k=2, part=np.arange(n) % 2)
    limit = split.partitioning(net, np.ones(n, np.int64)).window
    with pytest.raises(ValidationError, match=f"it must be 1 to {limit}"):
        Split(k=2, part=np.arange(n) % 2, window=limit + 1).partitioning(net, np.ones(n, np.int64))


def test_a_load_arriving_inside_a_simulated_window_is_refused():
    net = random_network(3)
    n = net.timetable.n_facilities
    p = Partition(net, 0, np.zeros(n, np.int64), 1, np.array([-1], np.int32), 100, 5000)
    load = np.array([-1 - ((1 << 32) | 0), 50, (7 << 32) | 0], np.int64)   # arrives at 50 < 100
    with pytest.raises(SolverError, match="arrives before minute 100"):
        p.step(load, 200)
    ok = np.array([-1 - ((1 << 32) | 0), 150, (7 << 32) | 0], np.int64)
    s = p.step(ok, 200)                                     # delivered at facility 0: logged
    assert s.in_system == 0 and len(s.log) == 1 and s.log[0] >> 32 == 7 and s.sorted[0] == 150


def test_drain_hands_each_load_to_its_partition():
    pool = K.new_pool(8, K.B, 2)
    data, nxt, free, qs = pool["data"], pool["nxt"], pool["free"], pool["qs"]
    lane_to = np.array([0, 1, 2])
    part_of = np.array([0, 1, 1])
    loads = [(2, 5, [11, 12]), (0, 6, [13]), (1, 7, [14, 15, 16])]
    for lane, arr, es in loads:                 # the kernel's outbox layout: lane in the header
        K._push(data, nxt, free, qs, 1, -1 - ((len(es) << 32) | lane))
        K._push(data, nxt, free, qs, 1, arr)
        for e in es:
            K._push(data, nxt, free, qs, 1, e)
    assert free[1] == 7 and free[2] == 7        # 12 words: one block in use, the most so far
    ptr, out, parcels = K.drain(data, nxt, free, qs, 1, lane_to, part_of, 2)
    assert list(parcels) == [1, 5] and qs[1, 0] == -1 and free[1] == 8 and free[2] == 7
    assert list(out[ptr[0]:ptr[1]]) == [-1 - ((1 << 32) | 0), 6, 13]
    assert list(out[ptr[1]:ptr[2]]) == [-1 - ((2 << 32) | 2), 5, 11, 12,
                                        -1 - ((3 << 32) | 1), 7, 14, 15, 16]


def test_a_grown_pool_copies_only_blocks_ever_taken_and_keeps_every_free_block():
    pool = K.new_pool(4, K.B, 2)
    d, n, f, q = pool["data"], pool["nxt"], pool["free"], pool["qs"]
    for v in range(K.B + 1):                    # two blocks taken
        K._push(d, n, f, q, 0, v)
    assert list(f) == [2, 2, 2, 2]
    for grow_to, taken in ((6, 2), (9, 2)):
        pool = K.grow_pool(pool, grow_to, K.B)
        d, n, f, q = pool["data"], pool["nxt"], pool["free"], pool["qs"]
        assert f[3] == taken and f[1] == grow_to - 2
        chain, b = [], f[0]                     # the free list: never-used blocks in order
        while b >= 0:
            chain.append(int(b))
            b = n[b]
        assert chain == list(range(2, grow_to))
    for v in range(7 * K.B - 1):                # fill every block: all taken, in index order
        K._push(d, n, f, q, 1, v)
    assert f[1] == 0 and f[3] == 9 and f[0] == -1
    pool = K.grow_pool(pool, 11, K.B)           # a full pool grows: the new blocks are free
    assert list(pool["free"][[0, 1, 3]]) == [9, 2, 9]
    assert d[K.B] == K.B and pool["data"][K.B] == K.B      # the queued entries were copied


def test_a_split_run_does_not_record_hops(tiny):
    from parcelnet.errors import ParameterError
    parcels = sample_parcels(tiny, 50, "peak", 1)
    with pytest.raises(ParameterError, match="does not record hops"):
        simulate(tiny, parcels, record_hops=True, split=Split(k=2))
