"""Service network design (``parcelnet plan service``) on small hand-made networks: the
decomposed coverage equals the promise engine's, the exact MIP equals enumeration of every
subset of candidate trips, the greedy never beats it, and bad input is refused clearly."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError
from parcelnet.network.model import Network
from parcelnet.network.pnf import load_network, write_pnf
from parcelnet.plan.service import build_model
from parcelnet.plan.service.report import apply_design, engine_value, lane_changes
from parcelnet.plan.service.solve import exact, greedy, reach
from parcelnet.promise.coverage import coverage
from parcelnet.parcels import Parcels
from tests.conftest import assert_one_line_error, run_cli

HUBS = {"SH": (31.23, 121.47), "BJ": (39.90, 116.40), "GZ": (23.13, 113.26), "CD": (30.66, 104.07)}


def four_hubs(backbone: list[tuple[str, str, str, int, list[int]]], process: int = 60) -> Network:
    """Four hubs, each with two stations (first mile at 20:00 and 21:00, waves at 08:00 and
    13:00); ``backbone`` rows are (from, to, mode, minutes, departures)."""
    fac, lanes, trips, waves, places = [], [], [], [], []
    for i, (h, (lat, lon)) in enumerate(HUBS.items()):
        fac.append((h, "hub", f"{h} hub", lat, lon, 0, process))
        for k in (1, 2):
            s = f"{h}{k}"
            fac.append((s, "station", f"{h} station {k}", lat + 0.1 * k, lon, 0, 10))
            lanes += [(f"{s}>{h}", s, h, "van", 30 + 15 * k, 20.0, 100, "first_mile"),
                      (f"{h}>{s}", h, s, "van", 30 + 15 * k, 20.0, 100, "last_mile")]
            trips += [(f"{s}>{h}@a", f"{s}>{h}", 1200, 1000), (f"{s}>{h}@b", f"{s}>{h}", 1260, 1000),
                      (f"{h}>{s}@a", f"{h}>{s}", 360, 1000), (f"{h}>{s}@b", f"{h}>{s}", 660, 1000)]
            waves += [(s, 480, 150), (s, 780, 150)]
            places.append((f"p{s}", s, lat, lon, (i + 1) * 1000 * k, h, s, s))
    for a, b, mode, minutes, deps in backbone:
        lid = f"{a}>{b}:{mode}"
        lanes.append((lid, a, b, mode, minutes, 1000.0, 5000 if mode == "truck" else 20000,
                      "linehaul" if mode == "truck" else "air"))
        trips += [(f"{lid}@{d}", lid, d, 5000) for d in deps]
    return from_rows(fac, lanes, trips, waves, places)


def from_rows(fac, lanes, trips, waves, places) -> Network:
    """A network from rows of its five tables (facilities with kind, name, lat, lon, sorter
    rate and process minutes; lanes with a tier)."""
    t = {"facilities.csv": pd.DataFrame(fac, columns=["facility_id", "kind", "name", "lat", "lon",
                                                      "sort_per_minute", "process_minutes"]),
         "lanes.csv": pd.DataFrame(lanes, columns=["lane_id", "from_facility", "to_facility", "mode",
                                                   "duration_minutes", "distance_km", "cost_per_trip",
                                                   "tier"]),
         "trips.csv": pd.DataFrame(trips, columns=["trip_id", "lane_id", "departure_minute", "capacity"]),
         "waves.csv": pd.DataFrame(waves, columns=["station_id", "start_minute", "duration_minutes"]),
         "places.csv": pd.DataFrame(places, columns=["place_id", "name", "lat", "lon", "population",
                                                     "admin1", "admin2", "station_id"])}
    return Network.from_tables({k: v.astype(str) for k, v in t.items()})


RING = [("SH", "BJ", "truck", 700, [1380]), ("BJ", "SH", "truck", 700, [0]),
        ("SH", "GZ", "truck", 800, [1380, 120]), ("GZ", "SH", "truck", 800, [1380]),
        ("BJ", "CD", "truck", 1100, [1380]), ("CD", "GZ", "truck", 1000, [1380]),
        ("GZ", "CD", "truck", 1000, [60]), ("SH", "CD", "air", 200, [120])]


#: every hub's trips leave at one minute, and orders from the stations at 20:00 are ready at
#: their hubs before midnight, so with step 720 the only new departure minute on offer is
#: 00:00: 10 candidates
SMALL = [("SH", "BJ", "truck", 700, [1380]), ("BJ", "SH", "truck", 700, [0]),
         ("SH", "GZ", "truck", 800, [1380]), ("GZ", "SH", "truck", 800, [0]),
         ("BJ", "CD", "truck", 1100, [0]), ("CD", "GZ", "truck", 1000, [0]),
         ("SH", "CD", "air", 200, [1380])]


@pytest.fixture(scope="module")
def ring() -> Network:
    return four_hubs(RING)


def test_decomposed_value_is_the_promise_engines(ring):
    m = build_model(ring, new_air=False)
    assert m.value(m.current) == pytest.approx(coverage(ring).population_share_24h, abs=1e-12)
    rng = np.random.default_rng(3)
    for _ in range(12):
        act = rng.random(len(m.cand)) < 0.6
        if not act.any():
            continue
        new = apply_design(m, act)
        assert m.value(act) == pytest.approx(engine_value(new, m.weights), abs=1e-12)
        assert m.value(act) == pytest.approx(coverage(new).population_share_24h, abs=1e-12)


def _demand(origin, created) -> Parcels:
    """Parcels from ``origin`` (facility positions) at ``created`` (their destinations do not
    weigh in service design)."""
    return Parcels(np.arange(len(origin)), created, origin, origin)


def test_demand_weights_follow_the_parcels(ring):
    # all parcels from SH1 at 20:xx: the objective is the population share SH1 reaches in 24 h
    pos = ring.facility("SH1")
    m = build_model(ring, demand=_demand(np.full(50, pos), np.full(50, 1210)))
    assert m.weights == {(pos, 20): 1.0}
    d = ring.timetable
    eng_share = engine_value(ring, {(pos, 20): 1.0})
    assert m.value(m.current) == pytest.approx(eng_share, abs=1e-12)
    assert 0 < eng_share < 1 and d is not None


def _brute(m, budget=None, target=None, connected=False):
    n = len(m.cand)
    full = reach(m, np.ones(n, bool))
    best = None
    for bits in itertools.product([False, True], repeat=n):
        act = np.array(bits)
        cost = m.cost(act)
        if connected and (full & ~reach(m, act)).any():
            continue
        v = m.value(act)
        if budget is not None and cost <= budget + 1e-9:
            if best is None or v > best[0] + 1e-12:
                best = (v, cost)
        if target is not None and v >= target - 1e-12:
            if best is None or cost < best[1] - 1e-9:
                best = (v, cost)
    return best


@pytest.mark.parametrize("connected", [False, True])
def test_exact_equals_enumeration_and_greedy_is_no_better(connected):
    net = four_hubs(SMALL)
    st = np.repeat(net.stations, 10)
    m = build_model(net, demand=_demand(st, np.full(len(st), 1200)), new_air=False, step=720)
    assert len(m.cand) == 10 and m.cand.existing.sum() == 7   # 2^10 subsets to enumerate
    for budget in (5000.0, 20000.0, 30000.0, 45000.0):
        best = _brute(m, budget=budget, connected=connected)
        if best is None:             # 4 trucks (20,000) are the least that keep every hub connected
            assert connected and budget < 20000
            with pytest.raises(ParameterError):
                exact(m, budget=budget, keep_connected=True)
            with pytest.raises(ParameterError, match="too small"):
                greedy(m, budget=budget, keep_connected=True)
            continue
        bv = best[0]
        ex = exact(m, budget=budget, keep_connected=connected)
        assert ex.value == pytest.approx(bv, abs=1e-9) and ex.cost <= budget
        if connected:
            assert not (reach(m, np.ones(len(m.cand), bool)) & ~reach(m, ex.active)).any()
        gr = greedy(m, budget=budget, keep_connected=connected)
        assert gr.cost <= budget and gr.value <= bv + 1e-12
        assert gr.upper_bound >= bv - 1e-12
    target = m.value(m.current)
    _, bc = _brute(m, target=target, connected=connected)
    ex = exact(m, target=target, keep_connected=connected)
    assert ex.cost == pytest.approx(bc) and ex.value >= target - 1e-12
    gr = greedy(m, target=target, keep_connected=connected)
    assert gr.value >= target - 1e-12 and gr.cost >= bc - 1e-9


def test_greedy_keeps_every_area_connected(ring):
    m = build_model(ring)
    d = greedy(m, budget=m.cost(m.current) * 0.6)
    assert not (reach(m, np.ones(len(m.cand), bool)) & ~reach(m, d.active)).any()
    with pytest.raises(ParameterError, match="too small to keep every area connected"):
        greedy(m, budget=1.0)


def test_new_air_links_and_the_new_network(ring):
    m = build_model(ring)                      # SH-GZ, BJ-GZ, ... are >= 800 km apart
    assert len(m.cand.new_lanes) > 0
    assert set(m.cand.new_lanes["mode"]) == {"air"}
    d = greedy(m, budget=m.cost(m.current) * 1.5)
    new = apply_design(m, d.active)
    ch = lane_changes(m, d.active)
    lanes = new.lanes
    for r in ch.itertuples():
        there = (lanes["lane_id"] == r.lane_id).any()
        assert there == (r.status != "removed")
    assert d.value == pytest.approx(engine_value(new, m.weights), abs=1e-12)
    assert d.value >= m.value(m.current) - 1e-12 or d.cost < m.cost(m.current)


def test_bad_input(ring, tmp_path):
    t = {k: v.copy() for k, v in ring.tables.items()}
    t["lanes.csv"] = t["lanes.csv"].drop(columns=["tier"])
    with pytest.raises(ParameterError, match="no 'tier' column"):
        build_model(Network.from_tables(t))
    with pytest.raises(ParameterError, match="no lane of tier rail"):
        build_model(ring, tiers=("rail",))
    m = build_model(ring, new_air=False)
    with pytest.raises(ParameterError, match="either a budget or a coverage target"):
        greedy(m, budget=1.0, target=0.5)
    with pytest.raises(ParameterError, match="out of reach"):
        greedy(m, target=1.0)
    with pytest.raises(ParameterError, match="share in"):
        exact(m, target=1.5)
    with pytest.raises(ParameterError, match="departure step"):
        build_model(ring, step=0)


def test_two_gateways_in_one_area_are_refused():
    net = four_hubs(RING)
    t = {k: v.copy() for k, v in net.tables.items()}
    extra = pd.DataFrame([("SH1>BJ", "SH1", "BJ", "truck", "900", "1000.0", "100", "feeder")],
                         columns=t["lanes.csv"].columns)
    t["lanes.csv"] = pd.concat([t["lanes.csv"], extra], ignore_index=True)
    t["trips.csv"] = pd.concat([t["trips.csv"], pd.DataFrame(
        [("x", "SH1>BJ", "100", "10")], columns=t["trips.csv"].columns)], ignore_index=True)
    with pytest.raises(ParameterError, match="also connected without it"):
        build_model(Network.from_tables(t))


def test_cli(ring, tmp_path, capsys):
    src = write_pnf(ring, tmp_path / "net")
    code, out, _ = run_cli(capsys, "plan", "service", src, "--out", tmp_path / "new",
                           "--map", tmp_path / "map", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["cost_after"] <= r["cost_before"] + 1e-6          # the default budget: today's
    assert r["objective_after"] >= r["objective_before"] - 1e-12
    assert r["objective_upper_bound"] >= r["objective_after"]
    new = load_network(tmp_path / "new")
    assert r["coverage_24h_after"] == pytest.approx(coverage(new).population_share_24h)
    assert (tmp_path / "new" / "service_changes.csv").exists()
    assert (tmp_path / "map.png").stat().st_size > 10_000
    assert "Changed lanes" in (tmp_path / "map.html").read_text()
    code, out, _ = run_cli(capsys, "plan", "service", src, "--method", "exact", "--no-new-air",
                           "--step", "720", "--json")
    assert code == 0 and json.loads(out)["method"].startswith("exact")
    code, _, err = run_cli(capsys, "plan", "service", src, "--budget", "lots")
    assert code == 2
    assert_one_line_error(err, "--budget", "lots")
    code, _, err = run_cli(capsys, "plan", "service", src, "--target", "0.99999")
    assert code == 2
    assert_one_line_error(err, "out of reach")


def test_design_service_is_the_cli_pipeline_with_progress(ring):
    """The library pipeline reports its stages, checks itself against the promise engine and
    gives the CLI's JSON; the new network has exactly the chosen trips."""
    from parcelnet.plan.service import design_service
    from parcelnet.progress import RecordingProgress
    rec = RecordingProgress()
    d = design_service(ring, new_air=False, progress=rec)
    assert rec.stages()[0] == "decomposing the network" and "choosing trips" in rec.stages()
    assert rec.stages()[-1] == "checking with the promise engine"
    assert d.objective_after == pytest.approx(engine_value(d.network, build_model(ring).weights))
    assert d.cost_after <= d.cost_before + 1e-6
    j = d.to_dict()
    assert list(j)[-2:] == ["network", "weights"] and j["weights"] == "hubs alike"
    assert j["trips_after"] == len(d.network.tables["trips.csv"]) - (
        len(ring.tables["trips.csv"]) - j["trips_before"])
