"""Station service areas by road on the Shanghai extract: every reached node belongs to the
station that reaches it soonest, checked against per-station Dijkstra."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy.sparse.csgraph import dijkstra

from parcelnet.errors import ValidationError
from parcelnet.geo.streets import load_streets
from parcelnet.lastmile.areas import service_areas
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"
ST = pd.DataFrame({"id": ["A", "B", "C"], "lat": [31.2250, 31.2300, 31.2370], "lon": [121.4650, 121.4800, 121.4700]})


def test_each_node_goes_to_its_soonest_station():
    ar = service_areas(load_streets(OSM), ST, "ebike")
    g = ar.graph
    from parcelnet.geo.routing import LocalRouter
    start = g.v[LocalRouter(g).snap(ST["lat"].to_numpy(), ST["lon"].to_numpy()).edge]
    d = dijkstra(g.csr, directed=True, indices=start)
    best = d.min(axis=0)
    reached = np.isfinite(best)
    assert (ar.station_of_node[~reached] == -1).all()
    own = ar.station_of_node[reached]
    assert np.allclose(d[own, np.flatnonzero(reached)], best[reached])
    assert ar.table["nodes"].sum() == reached.sum() and (ar.table["nodes"] > 50).all()


def test_cli(tmp_path, capsys):
    ST.to_csv(tmp_path / "s.csv", index=False)
    code, out, _ = run_cli(capsys, "lastmile", "areas", OSM, "--stations", tmp_path / "s.csv",
                           "--map", tmp_path / "a", "--json")
    assert code == 0 and [r["station_id"] for r in json.loads(out)] == ["A", "B", "C"]
    assert (tmp_path / "a.png").stat().st_size > 20_000 and "<table>" in (tmp_path / "a.html").read_text()


def test_a_station_off_the_map(tmp_path, capsys):
    pd.concat([ST, pd.DataFrame({"id": ["H"], "lat": [60.17], "lon": [24.94]})]).to_csv(tmp_path / "s.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "areas", OSM, "--stations", tmp_path / "s.csv")
    assert code == 2
    assert_one_line_error(err, "s.csv", "line 5", "station 'H' at 60.17000,24.94000", "km from the nearest road",
                          "the limit is 500 m")
    with pytest.raises(ValidationError, match="station 'A' at 31.22500,121.46500 is .* m from the nearest road"):
        service_areas(load_streets(OSM), ST, "ebike", max_snap_m=1)           # a table: no file, no line
    code, _, err = run_cli(capsys, "lastmile", "areas", OSM, "--stations", tmp_path / "s.csv", "--max-snap", "0")
    assert_one_line_error(err, "--max-snap must be a distance in metres > 0")
