"""``parcelnet lastmile matrix`` on the Shanghai extract: a CSV of points in, seconds out,
GCJ-02 handled, bad point files refused with file, line and field."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from parcelnet.geo.coords import wgs84_to_gcj02
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"
PTS = pd.DataFrame({"id": ["a", "b", "c"], "lat": [31.2250, 31.2300, 31.2350],
                    "lon": [121.4650, 121.4700, 121.4800]})


def test_matrix_csv_and_json(tmp_path, capsys):
    PTS.to_csv(tmp_path / "p.csv", index=False)
    code, out, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                           "--mode", "ebike", "--json")
    assert code == 0
    r = json.loads(out)
    m = np.array(r["seconds"], float)
    assert r["from"] == ["a", "b", "c"] and m.shape == (3, 3)
    assert (np.diag(m) == 0).all() and (m[~np.eye(3, dtype=bool)] > 60).all()
    code, _, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                         "--mode", "ebike", "--out", tmp_path / "m.csv")
    back = pd.read_csv(tmp_path / "m.csv", index_col="from")
    np.testing.assert_allclose(back.to_numpy(), m, atol=1e-3)
    # the same points in GCJ-02 (as Chinese map apps give them) give the same matrix
    lon, lat = wgs84_to_gcj02(PTS["lon"].to_numpy(), PTS["lat"].to_numpy())
    PTS.assign(lat=lat, lon=lon).to_csv(tmp_path / "g.csv", index=False)
    code, out, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "g.csv",
                           "--mode", "ebike", "--gcj02", "--json")
    np.testing.assert_allclose(np.array(json.loads(out)["seconds"], float), m, atol=1e-3)


def test_bad_points(tmp_path, capsys):
    PTS.assign(lat=["31.2", "north", "31.3"]).to_csv(tmp_path / "p.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv")
    assert code == 2
    assert_one_line_error(err, "p.csv", "line 3", "field 'lat'", "north")
    PTS.drop(columns="lon").to_csv(tmp_path / "q.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "q.csv")
    assert_one_line_error(err, "q.csv", "missing column 'lon'")
    PTS.to_csv(tmp_path / "ok.csv", index=False)
    code, _, err = run_cli(capsys, "lastmile", "matrix", tmp_path / "no.osm", "--points", tmp_path / "ok.csv")
    assert code == 2
    assert_one_line_error(err, "no.osm", "file not found")


def test_snapping_limit(tmp_path, capsys):
    far = pd.concat([PTS, pd.DataFrame({"id": ["helsinki"], "lat": [60.17], "lon": [24.94]})])
    far.to_csv(tmp_path / "p.csv", index=False)
    code, out, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv", "--json")
    m = np.array(json.loads(out)["seconds"], float)
    assert code == 0 and np.isnan(m[3]).all() and np.isnan(m[:, 3]).all() and np.isfinite(m[:3, :3]).all()
    for bad in ("0", "-1", "x"):
        code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv",
                               "--max-snap", bad)
        assert code == 2
        assert_one_line_error(err, "--max-snap must be a distance in metres > 0")
    from parcelnet.geo.routing import LocalRouter
    from parcelnet.geo.streets import load_streets, street_graph
    snap = LocalRouter(street_graph(load_streets(OSM), "car")).snap_m(PTS["lat"], PTS["lon"])
    limit = float(np.sort(snap)[1]) + 0.5                     # two of the three points within
    code, out, _ = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "p.csv", "--json",
                           "--max-snap", limit)
    m = np.array(json.loads(out)["seconds"], float)
    assert (np.isfinite(np.diag(m)) == np.r_[snap <= limit, False]).all()
    (tmp_path / "e.csv").write_text("id,lat,lon\n")
    code, _, err = run_cli(capsys, "lastmile", "matrix", OSM, "--points", tmp_path / "e.csv")
    assert_one_line_error(err, "e.csv", "no points: the file has a header but no rows")
