"""A station's day on the Shanghai extract: routes checked independently of the solver
(windows, loads with pickups, shifts), every stop served or explained with the right reason,
the CLI with its map, and bad files refused with file, line and field."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ValidationError
from parcelnet.geo.streets import load_streets
from parcelnet.lastmile.station_day import check_day, plan_day
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"
STATION = (31.2304, 121.4737)


def _day(n=30, seed=4):
    rng = np.random.default_rng(seed)
    ready = rng.choice([480, 540, 600, 720], n)
    stops = pd.DataFrame({"stop_id": [f"s{i}" for i in range(n)],
                          "kind": rng.choice(["delivery", "pickup"], n, p=[0.8, 0.2]),
                          "lat": rng.uniform(31.2220, 31.2390, n), "lon": rng.uniform(121.4640, 121.4840, n),
                          "ready_minute": ready, "due_minute": ready + 120, "service_seconds": 120,
                          "size": rng.integers(1, 4, n)})
    stops.loc[0, ["ready_minute", "due_minute"]] = [479, 481]   # before anyone can get there
    stops.loc[1, "size"] = 500                                   # larger than every courier
    stops.loc[2, ["lat", "lon"]] = [31.30, 121.60]               # 12 km out of the map
    couriers = pd.DataFrame({"courier_id": ["c1", "c2", "c3"], "mode": ["ebike", "ebike", "walk"],
                             "shift_start_minute": 480, "shift_end_minute": 1080, "capacity": [40, 40, 15]})
    return stops, couriers


@pytest.fixture(scope="module")
def ways():
    return load_streets(OSM)


def test_routes_respect_everything_and_reasons_are_right(ways):
    stops, couriers = _day()
    plan = plan_day(ways, STATION, stops, couriers, seconds=2)
    assert check_day(plan, stops, couriers) == []
    why = dict(zip(plan.unassigned["stop_id"], plan.unassigned["reason"]))
    assert why == {"s0": "time window out of reach", "s1": "too large", "s2": "no road"}
    assert len(plan.routes) == 27
    # the checker is not a rubber stamp: a window moved so the plan breaks it is caught
    late = stops.copy()
    first = plan.routes.sort_values("start_s").iloc[-1]
    late.loc[late["stop_id"] == first["stop_id"], "due_minute"] = 480
    assert any("due" in p for p in check_day(plan, late, couriers))


def test_too_few_couriers(ways):
    stops, couriers = _day(40)
    one = couriers.iloc[[2]].assign(shift_end_minute=600)      # one walker for two hours
    plan = plan_day(ways, STATION, stops, one, seconds=1)
    assert check_day(plan, stops, one) == []
    assert "not enough couriers" in set(plan.unassigned["reason"])


def test_cli(tmp_path, capsys):
    stops, couriers = _day(12)
    stops.to_csv(tmp_path / "stops.csv", index=False)
    couriers.to_csv(tmp_path / "couriers.csv", index=False)
    code, out, _ = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737",
                           "--stops", tmp_path / "stops.csv", "--couriers", tmp_path / "couriers.csv",
                           "--seconds", "1", "--json", "--map", tmp_path / "day", "--out", tmp_path / "r.csv")
    assert code == 0
    r = json.loads(out)
    assert r["served"] == 9 and {u["stop_id"] for u in r["unassigned"]} == {"s0", "s1", "s2"}
    assert (tmp_path / "day.png").stat().st_size > 20_000
    assert "Stops left out" in (tmp_path / "day.html").read_text()
    assert len(pd.read_csv(tmp_path / "r.csv")) == 12
    stops.assign(kind=["drop"] + ["delivery"] * 11).to_csv(tmp_path / "bad.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.23,121.47", "--stops",
                           tmp_path / "bad.csv", "--couriers", tmp_path / "couriers.csv")
    assert code == 2
    assert_one_line_error(err, "stops.csv", "line 2", "field 'kind'", "'drop'")
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "here", "--stops",
                           tmp_path / "stops.csv", "--couriers", tmp_path / "couriers.csv")
    assert_one_line_error(err, "--station must be LAT,LON")


def test_bad_couriers(ways):
    stops, couriers = _day(5)
    with pytest.raises(ValidationError, match="shift ends before it starts"):
        plan_day(ways, STATION, stops, couriers.assign(shift_end_minute=400), seconds=1)
    with pytest.raises(ValidationError, match="'tram' is not one of"):
        plan_day(ways, STATION, stops, couriers.assign(mode="tram"), seconds=1)
