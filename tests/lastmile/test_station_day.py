"""A station's day on the Shanghai extract: routes checked independently of the solver
(windows, loads with pickups, shifts), every stop served or explained with the right reason,
the CLI with its map, and bad files refused with file, line and field."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError, ValidationError
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
    assert why == {"s0": "time window out of reach", "s1": "too large", "s2": "no road within 500 m"}
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
    assert_one_line_error(err, "bad.csv", "line 2", "field 'kind'", "'drop'")
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "here", "--stops",
                           tmp_path / "stops.csv", "--couriers", tmp_path / "couriers.csv")
    assert_one_line_error(err, "--station must be LAT,LON")


def test_bad_couriers(ways):
    stops, couriers = _day(5)
    with pytest.raises(ValidationError, match="shift ends before it starts"):
        plan_day(ways, STATION, stops, couriers.assign(shift_end_minute=400), seconds=1)
    with pytest.raises(ValidationError, match="'tram' is not one of"):
        plan_day(ways, STATION, stops, couriers.assign(mode="tram"), seconds=1)


def _files(tmp_path, n=12):
    stops, couriers = _day(n)
    stops.to_csv(tmp_path / "stops.csv", index=False)
    couriers.to_csv(tmp_path / "couriers.csv", index=False)
    return ["--stops", tmp_path / "stops.csv", "--couriers", tmp_path / "couriers.csv"]


def test_plain_output_reads_times_as_hhmm(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737",
                           *_files(tmp_path), "--seconds", "1", "--out", tmp_path / "r.csv")
    assert code == 0
    lines = out.splitlines()
    couriers = [x for x in lines if x.startswith("c")]
    assert couriers and all(re.search(r"out \d\d:\d\d, back \d\d:\d\d", x) for x in couriers)
    visits = [x for x in lines if x.startswith("  ")]
    assert len(visits) == 9 and all(re.fullmatch(r"  \d\d:\d\d s\d+ \((delivery|pickup)\)", x) for x in visits)
    r = pd.read_csv(tmp_path / "r.csv")
    starts = sorted(f"{int(s) // 3600:02d}:{int(s) % 3600 // 60:02d}" for s in r["start_s"].dropna())
    assert starts == sorted(x.split()[0] for x in visits)        # the CSV keeps seconds (*_s)
    assert "left out s2: no road within 500 m" in out


def test_header_only_files_and_the_file_named(tmp_path, capsys):
    args = _files(tmp_path)
    (tmp_path / "team.csv").write_text(",".join(_day()[1].columns) + "\n")
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737",
                           "--stops", tmp_path / "stops.csv", "--couriers", tmp_path / "team.csv")
    assert code == 2
    assert_one_line_error(err, "team.csv", "no couriers: the file has a header but no rows")
    _day()[1].assign(mode=["ebike", "bus", "walk"]).to_csv(tmp_path / "team.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737",
                           "--stops", tmp_path / "stops.csv", "--couriers", tmp_path / "team.csv")
    assert_one_line_error(err, "team.csv", "line 3", "field 'mode'", "'bus'")
    assert "couriers.csv" not in err
    (tmp_path / "none.csv").write_text(",".join(_day()[0].columns) + "\n")
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737",
                           "--stops", tmp_path / "none.csv", args[2], args[3])
    assert_one_line_error(err, "none.csv", "no stops")


@pytest.mark.parametrize("bad,why", [("-1", "at least 0"), ("99999999999", "at most 4,294,967,295"),
                                     ("x", "must be an integer")])
def test_bad_seed(tmp_path, capsys, bad, why):
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737",
                           *_files(tmp_path), "--seed", bad)
    assert code == 2
    assert_one_line_error(err, "--seed", why)


def test_a_station_off_the_map_is_refused(ways, tmp_path, capsys):
    stops, couriers = _day(5)
    with pytest.raises(ParameterError, match=r"the station at 60.17000,24.94000 is [\d,]+ km from the nearest"):
        plan_day(ways, (60.17, 24.94), stops, couriers, seconds=1)              # Helsinki
    with pytest.raises(ParameterError, match="latitude 91.0 is not in"):
        plan_day(ways, (91.0, 121.47), stops, couriers, seconds=1)
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "60.17,24.94", *_files(tmp_path))
    assert code == 2
    assert_one_line_error(err, "station at 60.17000,24.94000", "km from the nearest ebike road",
                          "the limit is 500 m")
    code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "91,24.94", *_files(tmp_path))
    assert_one_line_error(err, "--station must be LAT,LON with latitude in [-90, 90]")


def test_max_snap_option(tmp_path, capsys):
    args = _files(tmp_path)
    for bad in ("0", "-3", "wide"):
        code, _, err = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737", *args,
                               "--max-snap", bad)
        assert code == 2
        assert_one_line_error(err, "--max-snap must be a distance in metres > 0", bad)
    # a tight limit: stops farther than 60 m from every road are left out with that reason
    stops = pd.read_csv(tmp_path / "stops.csv")
    from parcelnet.geo.routing import LocalRouter
    from parcelnet.geo.streets import street_graph
    snap = LocalRouter(street_graph(load_streets(OSM), "walk")).snap_m(stops["lat"], stops["lon"])
    snap = np.minimum(snap, LocalRouter(street_graph(load_streets(OSM), "ebike")).snap_m(stops["lat"], stops["lon"]))
    code, out, _ = run_cli(capsys, "lastmile", "plan", OSM, "--station", "31.2304,121.4737", *args,
                           "--max-snap", "60", "--seconds", "1", "--json")
    far = {u["stop_id"] for u in json.loads(out)["unassigned"] if u["reason"] == "no road within 60 m"}
    assert far == set(stops["stop_id"][snap > 60]) and 0 < len(far) < 12
