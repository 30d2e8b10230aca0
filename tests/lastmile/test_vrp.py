"""Courier routes by PyVRP on Solomon instances: the CLI's JSON contract, routes checked
independently (every customer once, capacity, time windows in double precision), the
distance close to the best known, and bad files refused clearly."""

from __future__ import annotations

import json

import numpy as np
import pytest

from parcelnet.errors import ValidationError
from parcelnet.lastmile.solomon import check_routes, read_solomon, route_distance
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
