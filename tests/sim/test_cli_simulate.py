"""``parcelnet simulate`` end to end: KPIs as JSON, per-parcel results (CSV / Parquet), the HTML
report, options, and one-line errors (exit 2, no results file) for bad input.

The day is the hand-checked one of tests/sim/test_kpis.py: tiny with the 18:00 van T1 (L1,
A->H1) of capacity 1, six parcels, a 3-day horizon; see the computations there.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from parcelnet.demand import write_parcels
from parcelnet.network.pnf import load_network, write_pnf
from tests.conftest import FIXTURES, assert_one_line_error, run_cli
from tests.sim.test_kpis import DELIVERED, EXPECTED_CSV, PARCELS, PATHS, PROMISED, kpis, run as run_api, variant

TINY = FIXTURES / "tiny"
HEADER = "parcel_id,created_minute,origin_facility,dest_station\n"


run = run_cli


def parcels_csv(path: Path, rows) -> Path:
    path.write_text(HEADER + "".join(f"{a},{b},{c},{d}\n" for a, b, c, d in rows), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def van_full_dir(tiny, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("van_full")
    write_pnf(variant(tiny, trips={"T1": 1}), folder)
    return folder


def without_timing(k: dict) -> dict:
    return {key: v for key, v in k.items() if key not in ("seconds", "results", "report")}


# -- end to end -------------------------------------------------------------------------------
def test_simulate_csv_json_report(capsys, tmp_path, van_full_dir):
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    out, report = tmp_path / "R.csv", tmp_path / "X.html"
    code, stdout, err = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out", out,
                            "--json", "--report", report, "--horizon-days", 3)
    assert code == 0, err
    assert stdout.count("\n") == 1
    got = json.loads(stdout)
    assert got["results"] == str(out) and got["report"] == str(report)
    # the same KPIs as the Python API on the same day
    api = kpis(run_api(load_network(van_full_dir), PARCELS, 3 * 1440))
    assert without_timing(got) == without_timing(api)
    assert set(got["seconds"]) == {"paths", "simulation"}
    # and the hand-checked values
    assert (got["parcels"], got["unroutable"], got["delivered"], got["not_delivered"]) == (6, 1, 4, 1)
    assert got["on_time_share"] == 0.5 and got["within_48h_share"] == 0.5
    assert got["saturated_lanes"] == [
        {"lane_id": "L1", "from": "A", "to": "H1", "mode": "van", "left_behind": 2}]
    # results: exactly the four columns, empty cells for unroutable / not delivered
    assert out.read_text(encoding="utf-8") == EXPECTED_CSV
    assert sorted(x.name for x in tmp_path.iterdir()) == ["P.csv", "R.csv", "X.html"]


def test_report_is_self_contained_with_charts(capsys, tmp_path, van_full_dir):
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    code, _, err = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out", tmp_path / "R.csv",
                       "--json", "--report", tmp_path / "X.html")
    assert code == 0, err
    page = (tmp_path / "X.html").read_text(encoding="utf-8")
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert page.rstrip().endswith("</html>")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", page, re.I)
    assert "<link" not in page.lower()
    pngs = re.findall(r"""src=["']data:image/png;base64,([A-Za-z0-9+/=]+)["']""", page)
    assert len(pngs) >= 2
    for b in pngs:
        assert base64.b64decode(b).startswith(b"\x89PNG\r\n\x1a\n")
    # the KPI tables are in it: the saturated lane and a province
    assert "L1" in page and "Beijing" in page


def test_default_report_path_next_to_results(capsys, tmp_path, van_full_dir):
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    code, stdout, _ = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out",
                          tmp_path / "R.parquet", "--json")
    assert code == 0
    assert json.loads(stdout)["report"] == str(tmp_path / "R.html")
    assert (tmp_path / "R.html").is_file()


def test_text_output(capsys, tmp_path, van_full_dir):
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    code, stdout, _ = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out",
                          tmp_path / "R.csv", "--report", tmp_path / "X.html")
    assert code == 0
    assert "6 parcels" in stdout and "L1" in stdout and "X.html" in stdout


def test_parquet_in_and_out(capsys, tmp_path, van_full_dir):
    p = write_parcels(pd.DataFrame(PARCELS, columns=["parcel_id", "created_minute",
                                                     "origin_facility", "dest_station"]),
                      tmp_path / "P.parquet")
    out = tmp_path / "R.parquet"
    code, stdout, err = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out", out, "--json",
                            "--report", tmp_path / "X.html", "--horizon-days", 3)
    assert code == 0, err
    assert json.loads(stdout)["not_delivered"] == 1
    t = pq.read_table(out)
    assert t.column_names == ["parcel_id", "promised_minute", "delivered_minute", "path"]
    assert t.schema.field("delivered_minute").type == pa.int64()
    ids = [q[0] for q in PARCELS]
    assert t.column("parcel_id").to_pylist() == ids
    assert t.column("promised_minute").to_pylist() == [PROMISED[i] for i in ids]
    assert t.column("delivered_minute").to_pylist() == [DELIVERED[i] for i in ids]
    assert t.column("path").to_pylist() == [PATHS[i] for i in ids]


def test_horizon_days_1(capsys, tmp_path, van_full_dir):
    # H = 1100 + 1440 = 2540: only 1 (2100) and 4 (660) are delivered by then;
    # 2 (3540) and 6 (5160) are not any more, 5 never was
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    out = tmp_path / "R.csv"
    code, stdout, _ = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out", out, "--json",
                          "--report", tmp_path / "X.html", "--horizon-days", 1)
    assert code == 0
    k = json.loads(stdout)
    assert k["horizon_end_minute"] == 2540
    assert (k["delivered"], k["not_delivered"], k["unroutable"]) == (2, 3, 1)
    assert k["on_time_share"] == pytest.approx(2 / 6, abs=1e-6)
    assert out.read_text(encoding="utf-8") == (
        "parcel_id,promised_minute,delivered_minute,path\n"
        "1,2100,2100,L1;L3;L4\n2,2100,,L1;L3;L4\n3,,,\n4,660,660,\n5,6600,,L1;L5\n6,5160,,L5\n")


def test_default_horizon_is_seven_days(capsys, tmp_path, van_full_dir):
    # H = 1100 + 7 x 1440 = 11180: 5 now arrives (day-2 T1 3960 -> H1 4020, ready 4050, T6 4080
    # -> C 7080, ready 7090, day-5 wave 7800 -> 8040), late against its promise 6600
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    out = tmp_path / "R.csv"
    code, stdout, _ = run(capsys, "simulate", van_full_dir, "--parcels", p, "--out", out, "--json",
                          "--report", tmp_path / "X.html")
    assert code == 0
    k = json.loads(stdout)
    assert (k["horizon_end_minute"], k["delivered"], k["not_delivered"]) == (11180, 5, 0)
    assert k["on_time_share"] == 0.5
    assert "5,6600,8040,L1;L5\n" in out.read_text(encoding="utf-8")


def test_capacity_scale_half(capsys, tmp_path, tiny):
    # tiny with T1 of capacity 2; x 0.5 -> 1: the full-van day again
    folder = tmp_path / "net"
    write_pnf(variant(tiny, trips={"T1": 2}), folder)
    p = parcels_csv(tmp_path / "P.csv", PARCELS)
    out = tmp_path / "R.csv"
    code, stdout, _ = run(capsys, "simulate", folder, "--parcels", p, "--out", out, "--json",
                          "--report", tmp_path / "X.html", "--horizon-days", 3,
                          "--capacity-scale", 0.5)
    assert code == 0
    assert out.read_text(encoding="utf-8") == EXPECTED_CSV
    assert json.loads(stdout)["saturated_lanes"][0]["left_behind"] == 2
    # unscaled, T1 takes 1 and 2 at 1080 and 5 on day 1: everything at its promise but 5,
    # which the 3-day horizon cuts (promise 6600 > H 5420)
    code, stdout, _ = run(capsys, "simulate", folder, "--parcels", p, "--out", out, "--json",
                          "--report", tmp_path / "X.html", "--horizon-days", 3,
                          "--capacity-scale", 1)
    assert code == 0
    k = json.loads(stdout)
    assert (k["delivered"], k["not_delivered"], k["saturated_lanes"]) == (4, 1, [])
    assert "2,2100,2100,L1;L3;L4\n" in out.read_text(encoding="utf-8")


def test_demand_then_simulate(capsys, tmp_path):
    p = tmp_path / "P.parquet"
    code, _, err = run(capsys, "demand", TINY, "--parcels", 1000, "--out", p)
    assert code == 0, err
    parcels = pd.read_parquet(p)
    assert len(parcels) == 1000
    out = tmp_path / "R.parquet"
    code, stdout, err = run(capsys, "simulate", TINY, "--parcels", p, "--out", out, "--json",
                            "--report", tmp_path / "X.html")
    assert code == 0, err
    k = json.loads(stdout)
    assert k["parcels"] == 1000
    # which destinations each facility reaches in tiny (nothing leaves B or C; nothing reaches A
    # but A itself): unroutable parcels are exactly the others
    reach = {"A": {"A", "B", "C"}, "H1": {"B", "C"}, "H2": {"B", "C"}, "B": {"B"}, "C": {"C"}}
    ok = [d in reach[o] for o, d in zip(parcels["origin_facility"].astype(str),
                                        parcels["dest_station"].astype(str))]
    assert k["unroutable"] == ok.count(False) > 0
    # capacities of tiny are far above 1000 parcels a day and sorters unlimited: all routable
    # parcels are delivered at their promise within the 7-day horizon
    assert k["delivered"] == ok.count(True) and k["not_delivered"] == 0
    assert k["on_time_share"] == k["delivered_share"] == pytest.approx(ok.count(True) / 1000, abs=1e-6)
    assert k["saturated_lanes"] == [] and k["busiest_hubs"] == []
    assert sum(r["parcels"] for r in k["late_by_province"]) == 1000
    r = pd.read_parquet(out)
    assert r["parcel_id"].tolist() == parcels["parcel_id"].tolist()
    assert r["promised_minute"].notna().tolist() == ok
    assert (r["delivered_minute"].dropna() == r["promised_minute"][r["delivered_minute"].notna()]).all()
    assert ((r["path"] == "") | r["promised_minute"].notna()).all()


# -- bad input: one line, exit 2, no results file -----------------------------------------------
GOOD = [(1, 0, "A", "B"), (2, 5, "A", "C")]


@pytest.mark.parametrize("name, text, parts", [
    ("unknown_origin.csv", HEADER + "1,0,A,B\n2,5,X,B\n",
     ["unknown_origin.csv", "line 3", "origin_facility", "unknown facility 'X'"]),
    ("hub_dest.csv", HEADER + "1,0,A,B\n2,5,A,H1\n",
     ["hub_dest.csv", "line 3", "dest_station", "'H1' is a hub, not a station"]),
    ("missing_col.csv", "parcel_id,created_minute,origin_facility\n1,0,A\n",
     ["missing_col.csv", "line 1", "dest_station", "missing column"]),
    ("float_minute.csv", HEADER + "1,0,A,B\n2,1.5,A,B\n",
     ["float_minute.csv", "line 3", "created_minute", "'1.5' is not an integer"]),
    ("dup_id.csv", HEADER + "1,0,A,B\n2,5,A,B\n1,7,A,B\n",
     ["dup_id.csv", "line 4", "parcel_id", "duplicate parcel_id 1", "line 2"]),
])
def test_bad_csv(capsys, tmp_path, name, text, parts):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    out = tmp_path / "out" / "R.csv"
    code, stdout, err = run(capsys, "simulate", TINY, "--parcels", p, "--out", out,
                            "--report", tmp_path / "out" / "X.html", "--json")
    assert code == 2 and stdout == ""
    assert_one_line_error(err, *parts)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("rows, parts", [
    ([(1, 0, "A", "B"), (2, 5, "X", "B")], ["row 2", "origin_facility", "unknown facility 'X'"]),
    ([(1, 0, "A", "B"), (2, 5, "A", "H2")], ["row 2", "dest_station", "'H2' is a hub, not a station"]),
    ([(3, 0, "A", "B"), (2, 5, "A", "B"), (3, 7, "A", "B")],
     ["row 3", "parcel_id", "duplicate parcel_id 3", "row 1"]),
])
def test_bad_parquet(capsys, tmp_path, rows, parts):
    p = tmp_path / "P.parquet"
    pq.write_table(pa.table({"parcel_id": [r[0] for r in rows], "created_minute": [r[1] for r in rows],
                             "origin_facility": [r[2] for r in rows], "dest_station": [r[3] for r in rows]}), p)
    out = tmp_path / "R.parquet"
    code, _, err = run(capsys, "simulate", TINY, "--parcels", p, "--out", out,
                       "--report", tmp_path / "X.html", "--json")
    assert code == 2
    assert_one_line_error(err, "P.parquet", *parts)
    assert "line" not in err
    assert sorted(x.name for x in tmp_path.iterdir()) == ["P.parquet"]


def test_bad_parquet_column(capsys, tmp_path):
    p = tmp_path / "P.parquet"
    pq.write_table(pa.table({"parcel_id": [1, 2], "created_minute": [0.0, 1.5],
                             "origin_facility": ["A", "A"], "dest_station": ["B", "B"]}), p)
    code, _, err = run(capsys, "simulate", TINY, "--parcels", p, "--out", tmp_path / "R.parquet",
                       "--report", tmp_path / "X.html")
    assert code == 2
    assert_one_line_error(err, "P.parquet", "row 1", "created_minute", "not an integer")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["P.parquet"]


@pytest.mark.parametrize("case", ["parcels_missing", "network_missing", "horizon_0", "scale_0",
                                  "scale_negative"])
def test_bad_arguments(capsys, tmp_path, case):
    p = parcels_csv(tmp_path / "P.csv", GOOD)
    net, extra, parts = TINY, [], []
    if case == "parcels_missing":
        p, parts = tmp_path / "nope.csv", ["nope.csv", "missing"]
    elif case == "network_missing":
        net, parts = tmp_path / "nonet", ["nonet"]
    elif case == "horizon_0":
        extra, parts = ["--horizon-days", 0], ["--horizon-days", "at least 1", "0"]
    elif case == "scale_0":
        extra, parts = ["--capacity-scale", 0], ["--capacity-scale", "positive"]
    else:
        extra, parts = ["--capacity-scale", -2], ["--capacity-scale", "positive", "-2"]
    out = tmp_path / "out" / "R.csv"
    code, stdout, err = run(capsys, "simulate", net, "--parcels", p, "--out", out,
                            "--report", tmp_path / "out" / "X.html", "--json", *extra)
    assert code == 2 and stdout == ""
    assert_one_line_error(err, *parts)
    assert not (tmp_path / "out").exists()


def test_unwritable_output_fails_before_simulating(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    p = parcels_csv(tmp_path / "P.csv", GOOD)
    code, _, err = run(capsys, "simulate", TINY, "--parcels", p, "--out", blocker / "R.csv")
    assert code == 2
    assert_one_line_error(err, "--out", "cannot create its folder")


# -- a streamed day: --generate -------------------------------------------------------------------
@pytest.mark.long
def test_generate_streams_the_same_day_as_demand_then_simulate(capsys, tmp_path):
    p = tmp_path / "P.parquet"
    assert run(capsys, "demand", TINY, "--parcels", 3000, "--day", "peak", "--seed", 4,
               "--out", p)[0] == 0
    code, stdout, err = run(capsys, "simulate", TINY, "--parcels", p, "--json",
                            "--capacity-scale", 0.01, "--report", tmp_path / "A.html")
    assert code == 0, err
    from_file = json.loads(stdout)
    code, stdout, err = run(capsys, "simulate", TINY, "--generate", 3000, "--day", "peak",
                            "--seed", 4, "--json", "--capacity-scale", 0.01,
                            "--report", tmp_path / "B.html")
    assert code == 0, err
    streamed = json.loads(stdout)
    assert streamed["saturated_lanes"]                  # capacities bind on this day
    for k in (from_file, streamed):
        k.pop("seconds"), k.pop("report"), k.pop("results")
    assert streamed == from_file
    page = (tmp_path / "B.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 2
    # the per-parcel arrays in files: the same KPIs, and nothing left in the folder
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    code, stdout, err = run(capsys, "simulate", TINY, "--generate", 3000, "--day", "peak",
                            "--seed", 4, "--json", "--capacity-scale", 0.01,
                            "--report", tmp_path / "C.html", "--scratch", scratch)
    assert code == 0, err
    paged = json.loads(stdout)
    for k in ("seconds", "report", "results"):
        paged.pop(k)
    assert paged == from_file and list(scratch.iterdir()) == []


@pytest.mark.parametrize("extra, parts", [
    ([], ["either --parcels FILE or --generate N"]),
    (["--generate", 10, "--parcels", "x.csv"], ["either --parcels FILE or --generate N"]),
    (["--generate", "ten"], ["--generate", "must be an integer", "ten"]),
    (["--generate", 0], ["number of parcels must be positive"]),
    (["--generate", 10, "--day", "holiday"], ["unknown day 'holiday'"]),
    (["--generate", 10, "--seed", "x"], ["--seed", "must be an integer"]),
    (["--generate", 10, "--out", "R.csv"], ["--out", "keeps no per-parcel paths"]),
    (["--parcels", "x.csv", "--day", "peak"], ["--day, --seed and --scratch go with --generate"]),
    (["--parcels", "x.csv", "--scratch", "."], ["--scratch go with --generate"]),
    (["--generate", 10, "--scratch", "no/such/dir"], ["--scratch", "no/such/dir", "not a directory"]),
])
def test_generate_bad_arguments(capsys, tmp_path, extra, parts):
    code, stdout, err = run(capsys, "simulate", TINY, *extra, "--report", tmp_path / "X.html")
    assert code == 2 and stdout == ""
    assert_one_line_error(err, *parts)
    assert not (tmp_path / "X.html").exists()


def test_creations_over_more_than_a_year_are_refused(capsys, tmp_path):
    """A creation minute far in the future would make one run span centuries (and its hourly
    tallies petabytes): one clear refusal naming the parcel, nothing simulated."""
    p = tmp_path / "far.csv"
    p.write_text("parcel_id,created_minute,origin_facility,dest_station\n"
                 "1,1000,A,B\n2,100000000000,A,B\n")
    code, out, err = run(capsys, "simulate", TINY, "--parcels", p, "--report", tmp_path / "r.html")
    assert code == 2 and out == ""
    assert_one_line_error(err, "parcel 2", "100,000,000,000", "at most 366 days")
    assert not (tmp_path / "r.html").exists()
    # far in the future but all together is legal: it simulates from there
    p.write_text("parcel_id,created_minute,origin_facility,dest_station\n"
                 "1,100000000000,A,B\n2,100000000060,A,B\n")
    code, out, err = run(capsys, "simulate", TINY, "--parcels", p, "--report", tmp_path / "r.html",
                         "--json")
    assert code == 0 and json.loads(out)["delivered"] == 2


def test_a_sample_on_full_day_capacities_is_warned_about(capsys, tmp_path):
    """--generate N on a network built for a day of V parcels, without --capacity-scale: the
    sorters and trips would look empty; the warning says which scale to pass."""
    net = load_network(TINY)
    folder = write_pnf(net.replace(meta={"build.json": '{"parcels_per_day": 1000000}'}),
                       tmp_path / "net")
    code, out, err = run(capsys, "simulate", folder, "--generate", 1000, "--json",
                         "--report", tmp_path / "r.html")
    assert code == 0 and json.loads(out)["parcels"] == 1000
    assert err.startswith("parcelnet: warning: 1,000 parcels on capacities built for 1,000,000 a day")
    assert "--capacity-scale 0.001" in err
    code, _, err = run(capsys, "simulate", folder, "--generate", 1000, "--capacity-scale", "0.001",
                       "--json", "--report", tmp_path / "r.html")
    assert code == 0 and "warning" not in err
