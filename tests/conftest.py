"""Shared fixtures: small named networks, loaded once."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from parcelnet.network.model import Network
from parcelnet.network.pnf import load_network

FIXTURES = Path(__file__).parent / "fixtures"


def pytest_collection_modifyitems(config, items):
    """The tests marked ``long`` run first, in their files' order, and the rest after them.
    The suite runs on pytest-xdist's workers (pyproject's addopts), which take tests in
    this order: a long test started last would leave the other workers idle while it runs."""
    items.sort(key=lambda item: item.get_closest_marker("long") is None)


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """Run ``parcelnet ARGS`` in-process: (exit code, stdout, stderr)."""
    from parcelnet.cli import main
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str, *parts: str) -> None:
    """The CLI's error contract: one line, no traceback, naming each of ``parts``."""
    assert err.startswith("parcelnet: error: "), err
    assert err.endswith("\n") and err.count("\n") == 1, repr(err)
    assert "Traceback" not in err
    for p in parts:
        assert p in err, (p, err)


@pytest.fixture(scope="session")
def ray_cluster():
    """One small local Ray cluster for the whole test session (Ray 2.x has no local mode):
    2 CPUs and a small object store. Skips the test when Ray is not installed."""
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, object_store_memory=80 * 1024 ** 2, include_dashboard=False,
             log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def tiny() -> Network:
    """Five facilities, six lanes; answers hand-checked in tests/promise/test_engine.py."""
    return load_network(FIXTURES / "tiny")


@pytest.fixture(scope="session")
def cn_gravity() -> Network:
    """China's default network with capacities by the gravity model (a few seconds; the
    layout, lanes and timetable are the default build's)."""
    from parcelnet.network.params import load_params
    from parcelnet.plan.build import build_network
    return build_network("CN", load_params("CN").updated({"capacity": {"method": "gravity"}}))


def random_network(seed: int, n: int = 7, lanes: int = 14, max_trips: int = 3) -> Network:
    """A small random PNF network (stations and hubs, random timetable)."""
    rng = np.random.default_rng(seed)
    kinds = ["station" if i % 2 == 0 else "hub" for i in range(n)]
    fac = pd.DataFrame({"facility_id": [f"F{i}" for i in range(n)], "kind": kinds,
                        "name": [f"Facility {i}" for i in range(n)],
                        "lat": rng.uniform(20, 45, n).round(3), "lon": rng.uniform(80, 125, n).round(3),
                        "sort_per_minute": 0, "process_minutes": rng.integers(0, 120, n)})
    pairs = set()
    while len(pairs) < lanes:
        a, b = rng.integers(0, n, 2)
        if a != b:
            pairs.add((int(a), int(b)))
    pairs = sorted(pairs)
    lan = pd.DataFrame({"lane_id": [f"L{i}" for i in range(len(pairs))],
                        "from_facility": [f"F{a}" for a, _ in pairs], "to_facility": [f"F{b}" for _, b in pairs],
                        "mode": rng.choice(["truck", "air", "van"], len(pairs)),
                        "duration_minutes": rng.integers(1, 2000, len(pairs)),
                        "distance_km": 100.0, "cost_per_trip": 10.0})
    trips = [(f"T{i}_{k}", f"L{i}", int(rng.integers(0, 1440)), 10)
             for i in range(len(pairs)) for k in range(int(rng.integers(1, max_trips + 1)))]
    tri = pd.DataFrame(trips, columns=["trip_id", "lane_id", "departure_minute", "capacity"])
    waves = [(f"F{i}", int(rng.integers(0, 1440)), int(rng.integers(0, 300)))
             for i in range(0, n, 2) for _ in range(int(rng.integers(1, 3)))]
    wav = pd.DataFrame(waves, columns=["station_id", "start_minute", "duration_minutes"])
    pla = pd.DataFrame({"place_id": [f"P{i}" for i in range(0, n, 2)], "name": "x", "lat": 30.0, "lon": 110.0,
                        "population": rng.integers(1, 1000, len(range(0, n, 2))),
                        "admin1": [f"R{i % 3}" for i in range(0, n, 2)], "admin2": "",
                        "station_id": [f"F{i}" for i in range(0, n, 2)]})
    tables = {"facilities.csv": fac, "lanes.csv": lan, "trips.csv": tri, "waves.csv": wav,
              "places.csv": pla}
    return Network.from_tables({k: v.astype(str) for k, v in tables.items()})
