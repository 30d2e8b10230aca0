"""``parcelnet sweep --engine ray``: on the test session's small local Ray cluster
(tests/conftest.py: 2 CPUs, a small object store); the same results as the single-process
run, in any order,
and after a Ray worker is killed mid-task (Ray runs the task again)."""

from __future__ import annotations

import numpy as np
import pytest

from parcelnet.sweep import load_sweep, run_sweep
from tests.sweep.test_sweep import folder, key, kill_when_seen, reference  # noqa: F401  (fixtures)

ray = pytest.importorskip("ray")


@pytest.fixture()
def cluster(ray_cluster):
    return ray_cluster


def test_ray_gives_the_single_process_results(cluster, folder, reference, tmp_path):  # noqa: F811
    s = load_sweep(folder / "s.toml")
    order = list(np.random.default_rng(9).permutation(len(s.scenarios)))
    res = run_sweep(s, cache_dir=tmp_path / "cache", engine="ray", order=order)
    assert res.engine == "ray" and res.ran == len(s.scenarios)
    assert key(res.runs) == key(reference)


def test_a_ray_worker_killed_mid_task_is_retried(cluster, folder, reference, tmp_path):  # noqa: F811
    s = load_sweep(folder / "s.toml")
    t, killed = kill_when_seen(b"ray::run_task")
    res = run_sweep(s, cache_dir=tmp_path / "cache", engine="ray")
    t.join()
    assert killed, "no Ray worker was seen running a task"
    assert key(res.runs) == key(reference)
