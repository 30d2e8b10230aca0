"""Routing servers in the commands (--router): a stand-in OSRM/Valhalla server on 127.0.0.1
that answers from the local router gives the same answers as the local router; routes are
drawn from the server's paths; a server that does not answer is one line."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.geo.routing import LocalRouter, OSRMRouter
from parcelnet.geo.streets import load_streets, street_graph
from parcelnet.lastmile.areas import service_areas
from parcelnet.lastmile.station_day import DayPlan, check_day
from tests.conftest import FIXTURES, assert_one_line_error, run_cli
from tests.lastmile.fake_routing import routing_server
from tests.lastmile.test_station_day import _day

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"
PTS = pd.DataFrame({"id": ["a", "b", "c", "far"], "lat": [31.2250, 31.2300, 31.2350, 60.17],
                    "lon": [121.4650, 121.4700, 121.4800, 24.94]})


@pytest.fixture(scope="module")
def ways():
    return load_streets(OSM)


@pytest.mark.parametrize("kind", ["osrm", "valhalla"])
def test_matrix_from_a_server(ways, tmp_path, capsys, kind):
    PTS.to_csv(tmp_path / "p.csv", index=False)
    code, out, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv", "--mode", "ebike",
                           "--json")
    local = json.loads(out)["seconds"]
    with routing_server(LocalRouter(street_graph(ways, "ebike"))) as (url, log):
        code, out, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                               "--mode", "ebike", "--json", "--router", f"{kind}:{url}")
    assert code == 0 and json.loads(out)["seconds"] == local
    assert local[3] == [None] * 4 and len(log) == 1 and log[0][1] == 6     # off the map: not asked


def test_plan_and_its_map_from_a_server(ways, tmp_path, capsys):
    stops, couriers = _day(12)
    couriers = couriers.assign(mode="ebike")
    stops.to_csv(tmp_path / "stops.csv", index=False)
    couriers.to_csv(tmp_path / "couriers.csv", index=False)
    args = ["lastmile", "plan", OSM, "--station", "31.2304,121.4737", "--stops", tmp_path / "stops.csv",
            "--couriers", tmp_path / "couriers.csv", "--seconds", "1", "--json"]
    code, out, _ = run_cli(capsys, *args)
    local = json.loads(out)
    with routing_server(LocalRouter(street_graph(ways, "ebike"))) as (url, log):
        code, out, _ = run_cli(capsys, *args, "--router", f"valhalla:{url}", "--map", tmp_path / "day",
                               "--out", tmp_path / "r.csv")
    assert code == 0
    got = json.loads(out)
    assert got["travel_seconds"] == local["travel_seconds"] and got["unassigned"] == local["unassigned"]
    routes = pd.read_csv(tmp_path / "r.csv").dropna(subset=["seq"])
    lat, lon = np.r_[31.2304, stops["lat"]], np.r_[121.4737, stops["lon"]]
    sec = LocalRouter(street_graph(ways, "ebike")).matrix(lat, lon, lat, lon)
    travel = np.where(np.isfinite(sec), np.ceil(np.nan_to_num(sec)), 10**9).astype(np.int64)
    np.fill_diagonal(travel, 0)
    plan = DayPlan(routes, pd.DataFrame(), pd.DataFrame({"stop_id": [u["stop_id"] for u in got["unassigned"]]}),
                   {"ebike": travel}, 0.0)
    assert check_day(plan, stops, couriers) == []
    legs = len(routes) + routes["courier_id"].nunique()
    assert [k for k, _ in log] == ["sources_to_targets"] + ["route"] * legs     # one path a leg
    assert (tmp_path / "day.png").stat().st_size > 20_000


def test_areas_from_a_server(ways, tmp_path, capsys):
    st = pd.DataFrame({"id": ["A", "B", "C"], "lat": [31.2250, 31.2300, 31.2370],
                       "lon": [121.4650, 121.4800, 121.4700]})
    st.to_csv(tmp_path / "s.csv", index=False)
    local = service_areas(ways, st, "ebike")
    with routing_server(LocalRouter(street_graph(ways, "ebike"))) as (url, log):
        code, out, _ = run_cli(capsys, "lastmile", "areas", OSM, "--stations", tmp_path / "s.csv", "--json",
                               "--router", f"osrm:{url}")
        served = service_areas(ways, st, "ebike", router=OSRMRouter(url))
    assert code == 0 and json.loads(out) == served.table.to_dict("records")
    assert len(log) > 2 * 10 and max(n for _, n in log) <= 100              # asked in blocks
    # the server measures from the stations' feet on their roads, the local search from the
    # node each road leads to: the areas agree but for nodes near their borders
    both = (local.station_of_node >= 0) & (served.station_of_node >= 0)
    assert both.sum() == (local.station_of_node >= 0).sum() > 1000
    assert (local.station_of_node[both] == served.station_of_node[both]).mean() > 0.95
    assert (served.table["nodes"] > 300).all()


def test_unreachable_or_wrong_server(tmp_path, capsys):
    PTS.to_csv(tmp_path / "p.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                           "--router", "osrm:http://127.0.0.1:9")
    assert code == 2
    assert_one_line_error(err, "routing server http://127.0.0.1:9 did not answer")
    code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                           "--router", "graphhopper:http://127.0.0.1:9")
    assert_one_line_error(err, "--router: 'graphhopper:http://127.0.0.1:9' is not a routing server")
    code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                           "--router-profile", "foot")
    assert_one_line_error(err, "--router-profile needs --router")
