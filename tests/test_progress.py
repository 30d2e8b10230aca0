"""One Progress protocol: long operations report stages through it, with totals that add up."""

from __future__ import annotations

import numpy as np

from parcelnet.parcels import Parcels
from parcelnet.progress import Counter, NoProgress, Progress, RecordingProgress


def test_the_protocol_and_the_counter():
    rec = RecordingProgress()
    assert isinstance(rec, Progress) and isinstance(NoProgress(), Progress)
    c = Counter(rec, "stage", 10)
    for done in (3, 3, 7, 10):
        c(done)
    c.finish()
    assert rec.events == [("start", "stage", 10), ("advance", "stage", 3), ("advance", "stage", 4),
                          ("advance", "stage", 3), ("finish", "stage", None)]


def test_simulate_reports_paths_and_parcels(tiny):
    from parcelnet.sim.run import simulate
    f = tiny.facility
    n = 50
    parcels = Parcels(np.arange(n), np.full(n, 1000), np.full(n, f("A")), np.full(n, f("B")))
    rec = RecordingProgress()
    simulate(tiny, parcels, progress=rec)
    assert rec.stages() == ["paths", "simulation"]
    assert rec.done("paths") == n and rec.done("simulation") == n


def test_coverage_and_a_streamed_day_report_their_stages(tiny):
    from parcelnet.promise.coverage import coverage
    from parcelnet.sim.stream import simulate_day
    rec = RecordingProgress()
    coverage(tiny, progress=rec)
    assert rec.stages() == ["coverage"] and rec.done("coverage") == len(tiny.hubs)
    rec = RecordingProgress()
    day = simulate_day(tiny, 2000, progress=rec)
    assert rec.stages() == ["route table", "parcels", "delivered"]
    assert rec.done("parcels") == 2000
    assert rec.done("delivered") == int((day.promise >= 0).sum())


def test_the_build_reports_every_stage():
    from parcelnet.network.params import load_params
    from parcelnet.plan.build import SIZING_STAGE, build_network
    rec = RecordingProgress()
    build_network("LU", load_params("LU").updated({"capacity": {"sizing_parcels": 2000}}), progress=rec)
    assert rec.stages() == ["loading places", "placing stations, centres and hubs",
                            "laying lanes and timing trips", "sizing capacities for a normal day",
                            SIZING_STAGE]


def test_hub_location_and_routes_report_their_stages():
    import pytest

    from parcelnet.plan import local_search, read_ap, solve_multiple, solve_single
    from tests.conftest import FIXTURES
    inst = read_ap(FIXTURES / "hubs" / "10.2")
    rec = RecordingProgress()
    local_search(inst, progress=rec)
    assert rec.stages() == ["hub swaps"] and rec.events[-1][0] == "finish"
    rec = RecordingProgress()
    solve_single(inst, 3, progress=rec)             # p = 3 needs branch and bound (136,008.13)
    assert rec.stages() == ["LP relaxation", "branch and bound"]
    rec = RecordingProgress()
    solve_multiple(inst, 2, progress=rec)
    assert rec.stages() == ["branch and bound"]
    pytest.importorskip("pyvrp")
    from parcelnet.lastmile.solomon import read_solomon
    from parcelnet.lastmile.vrp import solve_vrptw
    rec = RecordingProgress()
    solve_vrptw(read_solomon(FIXTURES / "solomon" / "C101.txt"), 0.2, progress=rec)
    assert rec.stages() == ["route search"]
