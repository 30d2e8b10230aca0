"""The grouped simulator of tests/oracles/grouped_sim.py (the cohort idea, measured in
benchmarks/sim_floor.py) gives exactly parcelnet's delivered minutes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from tests.oracles.grouped_sim import path_nodes, simulate_grouped
from parcelnet.sim import run_paths
from parcelnet.parcels import Parcels
from tests.conftest import random_network
from tests.sim.test_engine import _parcels, _reshape


@pytest.mark.long
@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), cap=st.integers(1, 4), spm=st.integers(0, 3))
def test_grouped_equals_the_kernel_under_tight_capacity(seed, cap, spm):
    net = _reshape(random_network(seed), unlimited=False, cap=cap, spm=spm)
    ids, t, o, d, ptr, lanes, _ = _parcels(net, seed, 300)
    # many parcels share a path and a creation minute: groups form and full trips split them
    n, k = len(ids), len(ids) // 2
    ids, t, o, d = (np.concatenate([x, x[:k]]) for x in (ids, t, o, d))
    ids[n:] = ids.max() + 1 + np.arange(k)[::-1]
    path_id = np.concatenate([np.arange(n), np.arange(k)])
    want = run_paths(net, Parcels(ids, t, o, d), ptr, lanes, horizon_minutes=3 * 1440,
                     path_id=path_id).delivered
    stats = np.zeros(4, np.int64)
    got = simulate_grouped(net, ids, t, o, d, ptr, lanes, 3 * 1440, path_id=path_id, stats=stats)
    np.testing.assert_array_equal(got, want)
    assert stats[2] > 0 and stats[0] > 0             # groups handed over, runs split


def test_path_nodes_share_equal_remaining_paths():
    # rows: lanes 0,1 / 2,1 / 1 / empty; lane 1 ends at facility 5
    lane_from, lane_to = np.array([0, 1, 2]), np.array([1, 5, 1])
    nl, nn, nf, start = path_nodes([0, 2, 4, 5, 5], [0, 1, 2, 1, 1], lane_from, lane_to, 6)
    assert start[3] == -1
    assert nn[start[0]] == nn[start[1]] == start[2]      # ... then lane 1: one node for all three
    assert nl[start[2]] == 1 and nn[start[2]] == 5 and nl[5] == -1
    assert nf[start[0]] == 0 and nf[start[1]] == 2 and nf[start[2]] == 1
    assert len(nl) == 6 + 3
