"""Station service areas by road on the Shanghai extract: every reached node belongs to the
station that reaches it soonest, checked against per-station Dijkstra."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from parcelnet.geo.streets import load_streets
from parcelnet.lastmile.areas import service_areas
from tests.conftest import FIXTURES, run_cli

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
