"""Courier routes by PyVRP on Solomon instances: the CLI's JSON contract, routes checked
independently (every customer once, capacity, time windows in double precision), the
distance close to the best known, and bad files refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from parcelnet.errors import ValidationError
from parcelnet.lastmile.solomon import check_routes, named_customers, read_solomon, route_distance
from parcelnet.lastmile.vrp import solve_vrptw
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

C101 = FIXTURES / "solomon" / "C101.txt"
R201 = FIXTURES / "solomon" / "R201.txt"


def test_reader():
    inst = read_solomon(C101)
    assert (inst.name, inst.vehicles, inst.capacity, inst.n_customers) == ("C101", 25, 200, 100)
    assert inst.xy[0].tolist() == [40, 50] and inst.due[0] == 1236
    assert (inst.demand[1], inst.ready[1], inst.due[1], inst.service[1]) == (10, 912, 967, 90)


def test_checker_catches_what_breaks(tmp_path):
    inst = read_solomon(C101)
    assert check_routes(inst, [list(range(1, 101))])        # one route: capacity, windows
    assert any("missing" in p for p in check_routes(inst, [[1, 2]]))
    one_each = [[c] for c in range(1, 101)]
    probs = check_routes(inst, one_each)
    assert any("routes for 25 vehicles" in p for p in probs)
    d = route_distance(inst, [[1]])
    assert d == pytest.approx(2 * np.hypot(5, 18))


@pytest.mark.parametrize("path,best", [(C101, 828.94), (R201, 1149.68)])
def test_cli_solves_close_to_best_known(capsys, path, best):
    code, out, _ = run_cli(capsys, "lastmile", "solve", "--solomon", path, "--seconds", "2", "--json")
    assert code == 0
    r = json.loads(out)
    assert set(r) >= {"distance", "vehicles", "routes"}
    inst = read_solomon(path)
    assert check_routes(inst, r["routes"]) == []               # independent of the solver
    assert r["vehicles"] == len(r["routes"])
    assert r["distance"] == pytest.approx(route_distance(inst, r["routes"]), abs=1e-6)
    assert r["distance"] <= best * 1.02                        # within 2% after 2 s


def test_same_seed_same_routes():
    inst = read_solomon(C101)
    a, b = solve_vrptw(inst, 0.5, seed=3), solve_vrptw(inst, 0.5, seed=3)
    assert a.feasible and a.distance == pytest.approx(b.distance, rel=0.02)


def test_bad_files(tmp_path, capsys):
    bad = tmp_path / "X1.txt"
    bad.write_text(C101.read_text().replace(" 45         68         10        912", " 45         68         x        912"))
    with pytest.raises(ValidationError, match="'x' is not a number"):
        read_solomon(bad)
    code, _, err = run_cli(capsys, "lastmile", "solve", "--solomon", bad, "--json")
    assert code == 2
    assert_one_line_error(err, "X1.txt", "line 11", "not a number")
    code, _, err = run_cli(capsys, "lastmile", "solve", "--solomon", C101, "--seconds", "0")
    assert code == 2
    assert_one_line_error(err, "--seconds must be positive")
    code, _, err = run_cli(capsys, "lastmile", "solve", "--solomon", tmp_path / "none.txt")
    assert code == 2
    assert_one_line_error(err, "none.txt", "file not found")


@pytest.mark.parametrize("bad,why", [("-1", "at least 0"), ("99999999999", "at most 4,294,967,295")])
def test_bad_seed(capsys, bad, why):
    code, _, err = run_cli(capsys, "lastmile", "solve", "--solomon", C101, "--seed", bad)
    assert code == 2
    assert_one_line_error(err, "--seed", why)


def test_a_file_cut_short_is_refused(tmp_path, capsys):
    raw = C101.read_bytes()
    lines = raw.splitlines(keepends=True)
    cut = tmp_path / "C101.txt"
    cut.write_bytes(b"".join(lines[:60]))                       # at a line end: 50 customers
    with pytest.raises(ValidationError, match="ends after customer 50, but C101 has 100 customers"):
        read_solomon(cut)
    code, out, err = run_cli(capsys, "lastmile", "solve", "--solomon", cut, "--json")
    assert code == 2 and out == ""
    assert_one_line_error(err, "C101.txt", "line 60", "cut short")
    cut.write_bytes(raw[:raw.index(lines[109])] + lines[109][:20])  # inside the last line
    code, _, err = run_cli(capsys, "lastmile", "solve", "--solomon", cut)
    assert_one_line_error(err, "C101.txt", "line 110", "no line end")
    # names say how many customers: subsets (C101.25, C101_50) and Gehring-Homberger (C1_2_1: 200)
    head = b"".join(lines[1:60])
    for title, ok in ((b"C101.25", True), (b"C101_50", True), (b"C101_75", False), (b"C1_2_1", False),
                      (b"MYDEPOT", True)):
        f = tmp_path / "x.txt"
        f.write_bytes(title + b"\r\n" + head)
        if ok:
            assert read_solomon(f).n_customers == 50
        else:
            with pytest.raises(ValidationError, match=f"but {title.decode()} has"):
                read_solomon(f)
    # every instance of the shipped collection reads whole (when the collection is at hand)
    shared = Path(__file__).resolve().parents[3] / "shared" / "data" / "vrp_vrptw_solomon_gh"
    for f in sorted(shared.glob("*/*.txt"))[::25]:
        assert read_solomon(f).n_customers == named_customers(read_solomon(f).name)
