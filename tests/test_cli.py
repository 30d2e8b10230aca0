"""The ``parcelnet`` command line: answers, files written, and one-line errors with exit 2."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from parcelnet.cli import main
from parcelnet.promise import PromiseEngine
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

TINY = FIXTURES / "tiny"
SRC = Path(__file__).resolve().parents[1] / "src"
POP = {"A": 1_000_000, "B": 2_000_000, "C": 500_000}  # tiny's places, one per station
TOTAL = sum(POP.values())


run = run_cli


def read_csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- promise ----------------------------------------------------------------------------------
def test_promise_json(capsys):
    code, out, err = run(capsys, "promise", TINY, "--from", "A", "--to", "B", "--at", 1000, "--json")
    assert code == 0 and err == ""
    assert out == '{"promise_minute": 2100, "hours": 18.33, "path": ["L1", "L3", "L4"]}\n'
    assert json.loads(out) == {"promise_minute": 2100, "hours": 18.33, "path": ["L1", "L3", "L4"]}


def test_promise_multi_day_json(capsys):
    code, out, _ = run(capsys, "promise", TINY, "--from", "A", "--to", "C", "--at", 1000, "--json")
    assert code == 0 and json.loads(out) == {"promise_minute": 5160, "hours": 69.33, "path": ["L1", "L5"]}


def test_promise_unreachable_json(capsys):
    code, out, _ = run(capsys, "promise", TINY, "--from", "B", "--to", "A", "--at", 0, "--json")
    assert code == 0
    assert json.loads(out) == {"promise_minute": None, "hours": None, "path": []}
    assert '"promise_minute": null' in out


def test_promise_text(capsys):
    code, out, _ = run(capsys, "promise", TINY, "--from", "A", "--to", "B", "--at", 1000)
    assert code == 0
    assert out.strip() == ("created day 0 16:40 at A, delivered day 1 11:00 at B: "
                           "18.33 h via L1 -> L3 -> L4")
    _, out, _ = run(capsys, "promise", TINY, "--from", "A", "--to", "A", "--at", 470)
    assert "(same station)" in out and "day 0 11:00" in out
    _, out, _ = run(capsys, "promise", TINY, "--from", "B", "--to", "A", "--at", 0)
    assert out.strip() == "A is not reachable from B"


@pytest.mark.parametrize("args, parts", [
    (["--from", "NOPE", "--to", "B", "--at", "0"], ["unknown facility 'NOPE'"]),
    (["--from", "A", "--to", "H1", "--at", "0"], ["'H1' is a hub, not a station"]),
    (["--from", "A", "--to", "B"], ["--at MINUTE"]),
    (["--batch", "q.csv"], ["--batch needs --out"]),
], ids=["unknown origin", "hub destination", "no --at", "batch without --out"])
def test_promise_errors(capsys, args, parts):
    code, out, err = run(capsys, "promise", TINY, *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, *parts)


@pytest.mark.parametrize("at, word", [("-5", "negative"), ("abc", "not an integer minute"),
                                      ("1.5", "not an integer minute"),
                                      ("99999999999999999999", "too large")])
def test_bad_at_is_an_argparse_error(capsys, at, word):
    with pytest.raises(SystemExit) as e:
        main(["promise", str(TINY), "--from", "A", "--to", "B", f"--at={at}"])
    assert e.value.code == 2
    err = capsys.readouterr().err
    assert "argument --at" in err and word in err and "Traceback" not in err


def test_at_minus_five_as_separate_argument(capsys):
    with pytest.raises(SystemExit) as e:
        main(["promise", str(TINY), "--from", "A", "--to", "B", "--at", "-5"])
    assert e.value.code == 2
    assert "-5 is negative" in capsys.readouterr().err


def test_promise_on_a_bundle(capsys, tmp_path):
    assert run(capsys, "import", TINY, "--out", tmp_path / "t.pnfz")[0] == 0
    code, out, _ = run(capsys, "promise", tmp_path / "t.pnfz", "--from", "A", "--to", "B", "--at", 1000,
                       "--json")
    assert code == 0 and json.loads(out)["promise_minute"] == 2100


# -- batch ------------------------------------------------------------------------------------
QUERIES = '''query_id,origin,destination,created_minute,note
007,A,B,1000,"x, y"
q2,B,A,0,unreachable
q3,A,A,470,same station
q4,A,C,1000,
q5,H2,B,0,中文
q6,A,B,1071,"say ""hi"""
q7,H1,C,4000,
q8,A,A,1000,
'''


def test_batch_answers_equal_single_queries(capsys, tmp_path, tiny):
    q = write_text(tmp_path / "queries.csv", QUERIES)
    out = tmp_path / "res" / "OUT.csv"
    code, stdout, err = run(capsys, "promise", TINY, "--batch", q, "--out", out)
    assert code == 0 and err == ""
    assert "8 promises (1 unreachable)" in stdout

    with q.open(encoding="utf-8", newline="") as fh:
        in_rows = list(csv.reader(fh))
    with out.open(encoding="utf-8", newline="") as fh:
        out_rows = list(csv.reader(fh))
    assert out_rows[0] == in_rows[0] + ["promise_minute", "path"]
    assert len(out_rows) == len(in_rows)
    eng = PromiseEngine(tiny)
    for src, got in zip(in_rows[1:], out_rows[1:]):
        assert got[:len(src)] == src  # input columns kept as written ("007" stays "007")
        p = eng.query(src[1], src[2], int(src[3]))
        assert got[-2] == ("" if p.promise_minute is None else str(p.promise_minute))
        assert got[-1] == ";".join(p.path)

    rows = {r["query_id"]: r for r in read_csv_rows(out)}
    assert (rows["007"]["promise_minute"], rows["007"]["path"]) == ("2100", "L1;L3;L4")
    assert (rows["q2"]["promise_minute"], rows["q2"]["path"]) == ("", "")          # unreachable
    assert (rows["q3"]["promise_minute"], rows["q3"]["path"]) == ("660", "")       # same station
    assert (rows["q4"]["promise_minute"], rows["q4"]["path"]) == ("5160", "L1;L5")
    assert rows["q6"]["promise_minute"] == str(2100 + 1440)
    assert rows["q8"]["promise_minute"] == str(1440 + 660)
    assert rows["q6"]["note"] == 'say "hi"' and rows["q5"]["note"] == "中文"


def test_batch_keeps_a_carriage_return_in_an_input_value(capsys, tmp_path):
    q = tmp_path / "q.csv"
    q.write_bytes(b'query_id,origin,destination,created_minute,note\nq1,A,B,1000,"a\rb"\n')
    code, _, _ = run(capsys, "promise", TINY, "--batch", q, "--out", tmp_path / "o.csv")
    assert code == 0
    assert read_csv_rows(tmp_path / "o.csv") == [{"query_id": "q1", "origin": "A", "destination": "B",
                                                  "created_minute": "1000", "note": "a\rb",
                                                  "promise_minute": "2100", "path": "L1;L3;L4"}]


def test_batch_with_no_queries(capsys, tmp_path):
    q = write_text(tmp_path / "q.csv", "query_id,origin,destination,created_minute\n")
    code, out, _ = run(capsys, "promise", TINY, "--batch", q, "--out", tmp_path / "o.csv")
    assert code == 0 and "0 promises" in out
    assert (tmp_path / "o.csv").read_text() == "query_id,origin,destination,created_minute,promise_minute,path\n"


HEAD = "query_id,origin,destination,created_minute\n"


@pytest.mark.parametrize("text, line, field, reason", [
    (HEAD + "q1,A,B,1000\nq2,NOPE,B,5\n", 3, "origin", "unknown facility 'NOPE'"),
    (HEAD + "q1,A,B,1000\nq2,A,B,5\nq3,A,B,1.5\n", 4, "created_minute", "'1.5' is not an integer"),
    (HEAD + "q1,A,B,1000\nq2,A,B,-1\n", 3, "created_minute", "negative"),
    (HEAD + "q1,A,B,99999999999999999999\n", 2, "created_minute", "too large"),
    (HEAD + "q1,A,B,1000000000001\n", 2, "created_minute", "above the maximum 1000000000000"),
    ("query_id,origin,destination\nq1,A,B\n", 1, "created_minute", "missing column 'created_minute'"),
    (HEAD + "q1,A,H2,1000\n", 2, "destination", "'H2' is not a station"),
    (HEAD + "q1,A,B,1000\nq1,A,C,1000\n", 3, "query_id", "duplicate id 'q1' (first at line 2)"),
], ids=["unknown origin", "fractional minute", "negative minute", "huge minute", "minute beyond bound",
        "missing column", "hub destination", "duplicate query id"])
def test_batch_bad_input(capsys, tmp_path, text, line, field, reason):
    q = write_text(tmp_path / "queries.csv", text)
    out = tmp_path / "OUT.csv"
    code, stdout, err = run(capsys, "promise", TINY, "--batch", q, "--out", out)
    assert code == 2 and stdout == ""
    assert_one_line_error(err, f"queries.csv, line {line}, field '{field}': ", reason)
    assert not out.exists()


def test_batch_query_file_missing(capsys, tmp_path):
    code, _, err = run(capsys, "promise", TINY, "--batch", tmp_path / "none.csv", "--out", tmp_path / "o.csv")
    assert code == 2
    assert_one_line_error(err, "none.csv", "not found")
    assert not (tmp_path / "o.csv").exists()


# -- cutoff ------------------------------------------------------------------------------------
def test_cutoff_json(capsys):
    code, out, _ = run(capsys, "cutoff", TINY, "--from", "A", "--to", "B", "--json")
    assert code == 0
    assert json.loads(out) == {"origin": "A", "destination": "B", "cutoff_24h": 1070,
                               "next_day_cutoff": 1070, "windows_24h": [[660, 1070]]}


def test_cutoff_never_within_24h(capsys):
    code, out, _ = run(capsys, "cutoff", TINY, "--from", "A", "--to", "C", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["cutoff_24h"] is None and r["windows_24h"] == []


def test_cutoff_text(capsys):
    code, out, _ = run(capsys, "cutoff", TINY, "--from", "A", "--to", "B")
    assert code == 0
    assert out.strip() == ("A -> B: latest order for 24h delivery 17:50, next-day cut-off 17:50; "
                           "24h windows: 11:00-17:50")


def test_cutoff_to_a_hub(capsys):
    code, _, err = run(capsys, "cutoff", TINY, "--from", "A", "--to", "H1")
    assert code == 2
    assert_one_line_error(err, "not a station")


# -- validate, import, export --------------------------------------------------------------------
def test_validate(capsys):
    code, out, _ = run(capsys, "validate", TINY)
    assert code == 0
    assert out.strip() == "valid PNF v1: 2 hubs, 3 stations, 6 lanes, 7 trips, 3 places, 3500000 population"
    code, out, _ = run(capsys, "validate", TINY, "--json")
    assert code == 0 and json.loads(out) == {"valid": True, "hubs": 2, "stations": 3, "lanes": 6,
                                             "trips": 7, "places": 3, "population": 3_500_000}


def test_validate_reports_the_bad_line(capsys, tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    p = folder / "trips.csv"
    p.write_text(p.read_text().replace("T4,L4,300", "T4,L4,1440"))
    code, out, err = run(capsys, "validate", folder)
    assert code == 2 and out == ""
    assert err == ("parcelnet: error: trips.csv, line 5, field 'departure_minute': "
                   "1440 is above the maximum 1439\n")


def test_a_line_break_in_a_bad_value_is_escaped(capsys, tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    p = folder / "facilities.csv"
    p.write_text(p.read_text().replace("H1,hub", 'H1,"hu\nb"'))
    code, _, err = run(capsys, "validate", folder)
    assert code == 2
    assert_one_line_error(err, "facilities.csv, line 3, field 'kind': 'hu\\nb' is not one of")


def test_import_then_export_round_trip(capsys, tmp_path):
    bundle = tmp_path / "tiny.pnfz"
    code, out, _ = run(capsys, "import", TINY, "--out", bundle)
    assert code == 0 and bundle.is_file() and "6 lanes" in out
    code, out, _ = run(capsys, "validate", bundle, "--json")
    assert code == 0 and json.loads(out)["trips"] == 7
    code, _, _ = run(capsys, "export", bundle, "--out", tmp_path / "back")
    assert code == 0
    for f in TINY.iterdir():
        assert (tmp_path / "back" / f.name).read_bytes() == f.read_bytes(), f.name
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == sorted(p.name for p in TINY.iterdir())


def test_import_export_keeps_extra_columns_ids_and_meta(capsys, tmp_path):
    from tests.network.test_pnf import make_rich
    rich = make_rich(tmp_path / "rich")
    assert run(capsys, "import", rich, "--out", tmp_path / "r.pnfz")[0] == 0
    assert run(capsys, "export", tmp_path / "r.pnfz", "--out", tmp_path / "back")[0] == 0
    names = sorted(p.name for p in rich.iterdir())
    assert sorted(p.name for p in (tmp_path / "back").iterdir()) == names
    for n in names:
        assert (tmp_path / "back" / n).read_bytes() == (rich / n).read_bytes(), n
    # folder -> folder too
    assert run(capsys, "export", rich, "--out", tmp_path / "back2")[0] == 0
    for n in names:
        assert (tmp_path / "back2" / n).read_bytes() == (rich / n).read_bytes(), n


def test_import_of_an_invalid_folder_writes_nothing(capsys, tmp_path):
    folder = tmp_path / "net"
    shutil.copytree(TINY, folder)
    (folder / "waves.csv").unlink()
    code, _, err = run(capsys, "import", folder, "--out", tmp_path / "x.pnfz")
    assert code == 2
    assert_one_line_error(err, "waves.csv: file is missing")
    assert not (tmp_path / "x.pnfz").exists()


def test_export_onto_a_file_is_a_clean_error(capsys, tmp_path):
    (tmp_path / "taken").write_text("x")
    code, _, err = run(capsys, "export", TINY, "--out", tmp_path / "taken")
    assert code == 2
    assert_one_line_error(err, "taken")


@pytest.mark.parametrize("cmd", [["validate"], ["promise", "--from", "A", "--to", "B", "--at", "0"],
                                 ["cutoff", "--from", "A", "--to", "B"], ["export", "--out", "o"],
                                 ["find", "hub"], ["coverage", "--json"]])
def test_missing_network_folder(capsys, tmp_path, cmd):
    args = [cmd[0], str(tmp_path / "no-such-net"), *cmd[1:]]
    code, out, err = run(capsys, *args)
    assert code == 2 and out == ""
    assert_one_line_error(err, "no-such-net", "not a PNF folder")


# -- find ----------------------------------------------------------------------------------------
def test_find(capsys):
    code, out, _ = run(capsys, "find", TINY, "hub")
    assert code == 0
    assert "2 facilities match 'hub'" in out
    assert "H1" in out and "H2" in out and "Hub One" in out and "Station A" not in out
    code, out, _ = run(capsys, "find", TINY, "station", "--kind", "station")
    assert code == 0 and "3 facilities match" in out
    code, out, _ = run(capsys, "find", TINY, "h", "--kind", "hub", "--limit", "1")
    assert code == 0 and "2 facilities match" in out and "H1" in out and "H2" not in out
    code, out, err = run(capsys, "find", TINY, "zzz")
    assert code == 1 and out == "" and "no facility id or name contains 'zzz'" in err


# -- coverage ------------------------------------------------------------------------------------
def expected_by_hour(tiny, origins: list[str]) -> list[float]:
    """Share of population whose station an order made at minute 60h reaches within 24 h,
    from single promise queries, averaged over origins."""
    eng = PromiseEngine(tiny)
    res = []
    for h in range(24):
        t = 60 * h
        share = 0.0
        for o in origins:
            for s, pop in POP.items():
                p = eng.query(o, s, t).promise_minute
                if p is not None and p - t <= 1440:
                    share += pop / TOTAL
        res.append(share / len(origins))
    return res


def test_coverage_from_one_origin(capsys, tmp_path, tiny):
    prefix = tmp_path / "maps" / "x"
    code, out, _ = run(capsys, "coverage", TINY, "--origin", "A", "--json", "--map", prefix)
    assert code == 0
    r = json.loads(out)
    assert r["origins"] == ["A"]
    assert len(r["by_hour"]) == 24
    assert r["by_hour"] == pytest.approx(expected_by_hour(tiny, ["A"]), abs=1e-6)
    # By hand. A (1.0M) is within 24 h except for orders at 08:00, 09:00, 10:00: ready 10 min
    # later, they miss A's only wave (08:00-11:00) and wait for the next day's, which ends at
    # day 1 11:00 = 2100, more than 1440 after 480/540/600 (11:00 itself: 2100-660 = 1440, ok).
    # B (2.0M) is within 24 h for orders at 11:00..17:00 (cut-off window [660, 1070]).
    # C (0.5M) never (the truck takes 50 h).
    one, three = 1 / 3.5, 3 / 3.5
    hand = [one] * 8 + [0.0] * 3 + [three] * 7 + [one] * 6
    assert r["by_hour"] == pytest.approx(hand, abs=1e-6)
    assert r["by_hour"][12] == pytest.approx(0.857143, abs=1e-6)
    assert r["population_share_24h"] == pytest.approx(35 / 84, abs=1e-6)
    assert r["by_admin1"] == pytest.approx({"Zhejiang": 21 / 24, "Beijing": 7 / 24, "Tibet": 0.0},
                                           abs=1e-6)
    png, html = Path(r["map_png"]), Path(r["map_html"])
    assert (png, html) == (tmp_path / "maps" / "x.png", tmp_path / "maps" / "x.html")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "<html" in html.read_text(encoding="utf-8").lower()


def test_coverage_mean_over_hubs(capsys, tmp_path, tiny):
    code, out, _ = run(capsys, "coverage", TINY, "--json", "--map", tmp_path / "m")
    assert code == 0
    r = json.loads(out)
    assert r["origins"] == ["H1", "H2"]
    assert r["by_hour"] == pytest.approx(expected_by_hour(tiny, ["H1", "H2"]), abs=1e-6)
    assert r["population_share_24h"] == pytest.approx(sum(r["by_hour"]) / 24, abs=1e-5)


def test_coverage_default_map_prefix_and_text(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run(capsys, "coverage", TINY, "--origin", "A")
    assert code == 0
    assert "Population within 24h: 41.7%" in out
    assert (tmp_path / "tiny-coverage.png").is_file() and (tmp_path / "tiny-coverage.html").is_file()


def test_coverage_unknown_origin(capsys, tmp_path):
    code, _, err = run(capsys, "coverage", TINY, "--origin", "NOPE", "--json", "--map", tmp_path / "m")
    assert code == 2
    assert_one_line_error(err, "unknown facility 'NOPE'")
    assert not (tmp_path / "m.png").exists()


# -- usage -----------------------------------------------------------------------------------------
def test_version_and_missing_command(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0 and capsys.readouterr().out.startswith("parcelnet ")
    with pytest.raises(SystemExit) as e:
        main([])
    assert e.value.code == 2


# -- a real process: exit codes and stderr ---------------------------------------------------------
def cli(*args, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-m", "parcelnet.cli", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_process_success(tmp_path):
    r = cli("promise", TINY, "--from", "A", "--to", "B", "--at", 1000, "--json", cwd=tmp_path)
    assert r.returncode == 0 and r.stderr == ""
    assert r.stdout == '{"promise_minute": 2100, "hours": 18.33, "path": ["L1", "L3", "L4"]}\n'


@pytest.mark.parametrize("case", ["missing folder", "overflowing minute", "line break in value"])
def test_process_errors_are_one_line(tmp_path, case):
    if case == "missing folder":
        args = ["validate", tmp_path / "nope"]
    elif case == "overflowing minute":
        (tmp_path / "q.csv").write_text(HEAD + "q1,A,B,99999999999999999999\n")
        args = ["promise", TINY, "--batch", "q.csv", "--out", "o.csv"]
    else:
        shutil.copytree(TINY, tmp_path / "net")
        p = tmp_path / "net" / "lanes.csv"
        p.write_text(p.read_text().replace(",air,", ',"air\r\n",'))
        args = ["validate", "net"]
    r = cli(*args, cwd=tmp_path)
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith("parcelnet: error: ")
    assert r.stderr.count("\n") == 1 and "\r" not in r.stderr and "Traceback" not in r.stderr


def test_process_argparse_error(tmp_path):
    r = cli("promise", TINY, "--from", "A", "--to", "B", "--at", "-5", cwd=tmp_path)
    assert r.returncode == 2 and "Traceback" not in r.stderr and "negative" in r.stderr


def test_import_needs_a_bundle_name(capsys, tmp_path):
    code, out, err = run(capsys, "import", str(TINY), "--out", str(tmp_path / "x.zip"))
    assert code == 2
    assert_one_line_error(err, "--out must end in .pnfz")
    assert not (tmp_path / "x.zip").exists()
