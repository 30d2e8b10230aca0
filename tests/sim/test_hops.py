"""Each parcel's journey, hop by hop (``record_hops``), against the SimPy peer's on random
networks with tight capacities: the same minute at every sorter and on every trip. Recording
changes no result."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from parcelnet.network.pnf import write_pnf
from parcelnet.parcels import Parcels
from parcelnet.sim import run_paths
from tests.conftest import random_network
from tests.oracles.simpy_peer import simulate_simpy
from tests.sim.test_engine import _parcels, _reshape


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), cap=st.integers(1, 3), spm=st.integers(1, 3))
def test_journeys_match_the_simpy_peer(tmp_path_factory, seed, cap, spm):
    net = _reshape(random_network(seed), unlimited=False, cap=cap, spm=spm)
    ids, t, o, d, ptr, lanes, promise = _parcels(net, seed, 120)
    parcels = Parcels(ids, t, o, d)
    plain = run_paths(net, parcels, ptr, lanes, horizon_minutes=3 * 1440)
    res = run_paths(net, parcels, ptr, lanes, horizon_minutes=3 * 1440, record_hops=True)
    np.testing.assert_array_equal(res.delivered, plain.delivered)          # nothing changes
    np.testing.assert_array_equal(res.trip_boarded, plain.trip_boarded)
    folder = tmp_path_factory.mktemp("net")
    write_pnf(net, folder)
    lane_ids = net.lane_id_array
    fac = net.facility_index
    spec = [(int(ids[j]), int(t[j]), str(fac[o[j]]), str(fac[d[j]]),
             [str(x) for x in lane_ids[lanes[ptr[j]:ptr[j + 1]]]]) for j in range(len(ids))]
    journeys: dict = {}
    simulate_simpy(folder, spec, 3 * 1440, journeys=journeys)
    h = res.hops
    for j, pid in enumerate(ids):
        srt = h.sorted[h.ptr[j]:h.ptr[j + 1]]
        brd = h.boarded[h.ptr[j]:h.ptr[j + 1]]
        assert len(srt) == ptr[j + 1] - ptr[j] + 1
        peer = journeys.get(int(pid), [])
        want_s = [x[0] for x in peer] + [-1] * (len(srt) - len(peer))
        want_b = [(-1 if x[1] is None else x[1]) for x in peer] + [-1] * (len(srt) - len(peer))
        assert list(srt) == want_s, (pid, list(srt), peer)
        assert list(brd) == want_b, (pid, list(brd), peer)


def test_journeys_as_a_table(tiny):
    from parcelnet.sim.run import simulate
    a, b = tiny.facility("A"), tiny.facility("B")
    p = Parcels(np.array([7, 3]), np.array([1000, 1060]), np.array([a, a]), np.array([b, b]))
    res = simulate(tiny, p, record_hops=True)
    j = res.journeys()
    assert list(j.columns) == ["parcel_id", "hop", "facility_id", "sorted_minute", "lane_id",
                               "departed_minute", "arrived_minute"]
    one = j[j["parcel_id"] == 7]
    assert one["facility_id"].iloc[0] == "A" and one["facility_id"].iloc[-1] == "B"
    assert pd.isna(one["lane_id"].iloc[-1]) and one["departed_minute"].iloc[-1] == -1
    # every hop: sorted before it departs, and the next hop is sorted after the arrival
    s, dep, arr = (one[c].to_numpy() for c in ("sorted_minute", "departed_minute", "arrived_minute"))
    assert (dep[:-1] >= s[:-1]).all() and (s[1:] >= arr[:-1]).all()
    assert res.delivered[0] > s[-1]
    with pytest.raises(Exception, match="record_hops"):
        simulate(tiny, p).journeys()
