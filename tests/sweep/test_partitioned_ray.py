"""``parcelnet simulate --engine ray --partitions K``: each partition a Ray actor on the test
session's small local cluster; per-parcel results and counters identical to the
single-process run for K = 1, 2, 4, on tight random networks with a bad partitioning and
one-minute windows; a worker lost mid-run fails the run loudly."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pandas as pd
import pytest

from parcelnet.demand import write_parcels
from parcelnet.errors import WorkerLostError
from parcelnet.parcels import Parcels
from parcelnet.sim.engine import run_paths
from parcelnet.sim.partition import Split
from parcelnet.sim.run import simulate
from tests.conftest import FIXTURES, random_network, run_cli
from tests.sim.test_engine import _parcels, _reshape
from tests.sim.test_partition import assert_same_run, cn_day  # noqa: F401  (fixture)

pytest.importorskip("ray")
from parcelnet.sweep.partitioned import RayPartitions, ray_split  # noqa: E402


@pytest.mark.parametrize("k", [1, 2, 4])
def test_ray_partitions_give_the_single_run(ray_cluster, cn_day, k):  # noqa: F811
    net, parcels, want = cn_day
    got = simulate(net, parcels, paths=want.paths, split=ray_split(k))
    assert_same_run(got.raw, want.raw)
    s = got.raw.split
    assert s["partitions"] == k and len(s["partition_peak_bytes"]) == k
    assert all(b > 0 for b in s["partition_peak_bytes"])        # each partition's state, measured
    assert all(r > b for r, b in zip(s["worker_peak_rss"], s["partition_peak_bytes"]))  # and its process


@pytest.mark.parametrize("seed, k, window", [(3, 2, 1), (17, 4, None)])
def test_tight_random_networks_bad_partitions_one_minute_windows(ray_cluster, seed, k, window):
    net = _reshape(random_network(seed, n=9, lanes=20), unlimited=False, cap=1, spm=1)
    ids, t, o, d, ptr, lanes, _ = _parcels(net, seed, 400)
    parcels = Parcels(ids, t, o, d)
    want = run_paths(net, parcels, ptr, lanes, horizon_minutes=1440)
    assert (want.left_behind > 0).any()                 # the capacities bind
    bad = np.arange(net.timetable.n_facilities) % k     # neighbours apart
    got = run_paths(net, parcels, ptr, lanes, horizon_minutes=1440,
                    split=ray_split(k, part=bad, window=window))
    assert_same_run(got, want)
    assert got.split["parcels_crossed"] > 0
    if window:
        assert got.split["window_minutes"] == 1


class _KillAfter(RayPartitions):
    """Ray partitions whose partition 1's actor is SIGKILLed before the given window."""

    kill_at = 5

    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.windows = 0

    def submit(self, incoming, m_stop):
        self.windows += 1
        if self.windows == self.kill_at:
            os.kill(self.pids()[1], signal.SIGKILL)
        return super().submit(incoming, m_stop)


def test_a_worker_lost_mid_run_fails_the_run_loudly(ray_cluster, cn_day):  # noqa: F811
    net, parcels, want = cn_day
    split = Split(k=2, partitions=_KillAfter)
    with pytest.raises(WorkerLostError, match="partition 1's worker was lost in a window"):
        simulate(net, parcels, paths=want.paths, split=split)
    # the cluster is fine afterwards: the next run is whole
    got = simulate(net, parcels, paths=want.paths, split=ray_split(2))
    assert_same_run(got.raw, want.raw)


def test_cli_simulate_on_ray_writes_the_single_run_results(ray_cluster, tiny, tmp_path, capsys):
    from parcelnet.demand import generate_parcels
    df = generate_parcels(tiny, 5_000, "peak", seed=3)
    write_parcels(df, tmp_path / "p.parquet")
    base = ["simulate", str(FIXTURES / "tiny"), "--parcels", str(tmp_path / "p.parquet"),
            "--capacity-scale", "0.01", "--json"]
    code, out, _ = run_cli(capsys, *base, "--out", str(tmp_path / "one.csv"), "--report",
                           str(tmp_path / "one.html"))
    assert code == 0
    code, out, err = run_cli(capsys, *base, "--out", str(tmp_path / "ray.csv"), "--report",
                             str(tmp_path / "ray.html"), "--engine", "ray", "--partitions", "2")
    assert code == 0, err
    parts = json.loads(out)["partitions"]
    assert parts["partitions"] == 2 and parts["windows"] > 1
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "ray.csv"), pd.read_csv(tmp_path / "one.csv"))
