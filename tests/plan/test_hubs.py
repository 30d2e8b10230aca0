"""Hub location against the published AP optima, against enumeration on small instances, and
its CLI with bad input."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path

import numpy as np
import pytest

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.plan import HubInstance, local_search, read_ap, read_cab, solve_multiple, solve_single
from parcelnet.plan.hubs import multiple_cost, single_cost
from tests.conftest import assert_one_line_error, run_cli

HUBS = Path(__file__).parents[1] / "fixtures" / "hubs"
AP = {10: HUBS / "10.2", 20: HUBS / "20.3"}


def _published(name: str) -> dict:
    text = (HUBS / name).read_text()
    out = {}
    for n, p, body in re.findall(r"n=(\d+), p=(\d+) :(.*?)(?=Solution for|\Z)", text, re.S):
        obj = re.search(r"Objective\s*:\s*([\d.]+)", body)
        alloc = re.search(r"Allocation\s*:\s*([\d, ]+)", body)
        hubs = re.search(r"Hubs\s*:\s*([\d, ]+)", body)
        out[int(n), int(p)] = {
            "objective": float(obj.group(1)) if obj else None,
            "allocation": [int(x) for x in alloc.group(1).split(",")] if alloc else None,
            "hubs": sorted(int(x) for x in hubs.group(1).split(",")) if hubs else None}
    return out


SINGLE = _published("Solutions-USApHMP.txt")
MULTIPLE = _published("Solutions-UMApHMP.txt")


@pytest.mark.parametrize("n, p", [(n, p) for n in (10, 20) for p in (2, 3, 4, 5)])
def test_single_allocation_reproduces_the_published_optimum(n, p):
    want = SINGLE[n, p]
    sol = solve_single(read_ap(AP[n]), p)
    assert round(sol.objective, 2) == pytest.approx(want["objective"], abs=0.01)
    assert sol.allocation == want["allocation"]
    assert sol.hubs == sorted(set(want["allocation"]))
    assert sol.status == "optimal" and sol.lower_bound == pytest.approx(sol.objective, rel=1e-9)


@pytest.mark.parametrize("p", [2, 3, 4, 5])
def test_multiple_allocation_reproduces_the_published_optimum(p):
    want = MULTIPLE[10, p]
    sol = solve_multiple(read_ap(AP[10]), p)
    assert round(sol.objective, 2) == pytest.approx(want["objective"], abs=0.01)
    assert sol.hubs == want["hubs"]
    # multiple allocation never costs more than single allocation
    assert sol.objective <= SINGLE[10, p]["objective"] + 0.01


@pytest.mark.parametrize("fixed, cap, objective, hubs", [
    ("L", "L", 224250.05, [2, 3, 6]), ("L", "T", 250992.26, [0, 3, 4, 9]),
    ("T", "L", 263399.94, [3, 4, 9]), ("T", "T", 263399.94, [3, 4, 9]),
])
def test_capacitated_reproduces_the_published_optimum(fixed, cap, objective, hubs):
    inst = read_ap(AP[10], HUBS / f"Fcost{fixed}.10", HUBS / f"Cap{cap}.10")
    sol = solve_single(inst, capacitated=True)
    assert round(sol.objective, 2) == pytest.approx(objective, abs=0.01)
    assert sol.hubs == [h + 1 for h in hubs]               # the solutions file counts from 0
    # every hub within its capacity
    load = np.zeros(inst.n)
    np.add.at(load, np.asarray(sol.allocation) - 1, inst.flow.sum(axis=1))
    assert (load <= inst.capacity + 1e-9).all()


def _random_instance(seed: int, n: int = 7) -> HubInstance:
    """Asymmetric costs and flows, flows to itself, a zero-flow pair: what AP does not test.
    The costs are shortest paths over random asymmetric legs, so the triangle inequality
    holds (multiple allocation needs it)."""
    rng = np.random.default_rng(seed)
    cost = rng.uniform(1, 10, (n, n))
    np.fill_diagonal(cost, 0)
    for k in range(n):                                   # Floyd-Warshall
        cost = np.minimum(cost, cost[:, [k]] + cost[[k], :])
    flow = rng.uniform(0, 5, (n, n))
    flow[0, 1] = 0
    return HubInstance(f"random{seed}", cost, flow, None, 1.5, 0.6, 1.2).check()


def _enumerate_single(inst: HubInstance, p: int) -> float:
    best = np.inf
    for hubs in itertools.combinations(range(inst.n), p):
        rest = [i for i in range(inst.n) if i not in hubs]
        for pick in itertools.product(hubs, repeat=len(rest)):
            a = np.arange(inst.n)
            a[rest] = pick
            best = min(best, single_cost(inst, a))
    return best


def _enumerate_multiple(inst: HubInstance, p: int) -> float:
    c, w = inst.cost, inst.flow
    best = np.inf
    for hubs in itertools.combinations(range(inst.n), p):
        total = sum(w[i, j] * min(inst.chi * c[i, k] + inst.alpha * c[k, m] + inst.delta * c[m, j]
                                  for k in hubs for m in hubs)
                    for i in range(inst.n) for j in range(inst.n))
        best = min(best, total)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_exact_against_enumeration_on_random_asymmetric_instances(seed):
    inst = _random_instance(seed)
    for p in (2, 3):
        s = solve_single(inst, p)
        assert s.objective == pytest.approx(_enumerate_single(inst, p), rel=1e-9)
        assert s.objective == pytest.approx(single_cost(inst, np.asarray(s.allocation) - 1))
        m = solve_multiple(inst, p)
        assert m.objective == pytest.approx(_enumerate_multiple(inst, p), rel=1e-9)
        assert m.objective == pytest.approx(multiple_cost(inst, np.asarray(m.hubs) - 1)[0])
        h = local_search(inst, p)
        assert h.objective >= s.objective - 1e-9           # a heuristic never beats the optimum
        assert len(h.hubs) == p


def test_cab_against_enumeration_and_the_literature():
    inst = read_cab(HUBS / "CAB25_okelly.txt", alpha=0.2)
    assert inst.n == 25 and inst.flow.sum() == pytest.approx(1.0)
    m = solve_multiple(inst, 2)
    assert (round(m.objective, 2), m.hubs) == (996.02, [12, 20])
    assert m.objective == pytest.approx(_enumerate_multiple(inst, 2), rel=1e-9)
    s = solve_single(inst, 3)
    # O'Kelly's CAB, p = 3, alpha = 0.2: 767.35 with hubs 4, 12, 17 (Ernst & Krishnamoorthy 1996)
    assert (round(s.objective, 2), s.hubs) == (767.35, [4, 12, 17])


def test_multiple_allocation_refuses_costs_without_the_triangle_inequality():
    inst = _random_instance(0)
    cost = inst.cost.copy()
    cost[2, 5] = min(cost[2, k] + cost[k, 5] for k in range(7) if k not in (2, 5)) + 1.0
    bad = HubInstance("detour", cost, inst.flow)
    with pytest.raises(ParameterError, match="from node 3 to node 6 a detour is 1 cheaper"):
        solve_multiple(bad, 2)


def test_heuristic_is_close_on_ap():
    sol = local_search(read_ap(AP[20]), 3)
    assert sol.objective <= SINGLE[20, 3]["objective"] * 1.01
    assert sol.status == "heuristic" and sol.lower_bound == -np.inf


# -- bad input ---------------------------------------------------------------------------------
def test_bad_parameters():
    inst = read_ap(AP[10])
    for p in (0, 11, 2.5):
        with pytest.raises(ParameterError, match="p must be in 1..10"):
            solve_single(inst, p)
    with pytest.raises(ParameterError, match="needs a fixed cost and a capacity"):
        solve_single(inst, capacitated=True)
    big = HubInstance("big", np.ones((60, 60)) - np.eye(60), np.ones((60, 60)), 5)
    with pytest.raises(ParameterError, match="n = 60 needs 6,375,600 columns.*local search"):
        solve_single(big)
    assert len(local_search(big).hubs) == 5                    # the heuristic still answers
    neg = HubInstance("neg", inst.cost, -inst.flow)
    with pytest.raises(ValidationError, match="flow from node 1 to node 1 is .*>= 0"):
        neg.check()


@pytest.mark.parametrize("edit, words", [
    (lambda t: t.replace("3.000000", "x", 1), ["line 23", "collection", "'x' is not a number"]),
    (lambda t: "\n".join(t.splitlines()[:15]), ["line 15", "file ends before the flow matrix"]),
    (lambda t: t.replace("10\n", "ten\n", 1), ["line 1", "'ten' is not an integer"]),
    (lambda t: t + "\n7\n", ["line 27", "unexpected '7'"]),
])
def test_bad_ap_files(tmp_path, edit, words):
    f = tmp_path / "bad.ap"
    f.write_text(edit(AP[10].read_text()))
    with pytest.raises(ValidationError) as e:
        read_ap(f)
    for w in words:
        assert w in str(e.value), (w, str(e.value))


def test_cli_json(capsys):
    code, out, err = run_cli(capsys, "plan", "hubs", "--ap", AP[20], "--p", 2, "--json")
    assert code == 0, err
    got = json.loads(out)
    assert round(got["objective"], 2) == SINGLE[20, 2]["objective"]
    assert got["hubs"] == [6, 14] and got["allocation"] == SINGLE[20, 2]["allocation"]
    code, out, err = run_cli(capsys, "plan", "hubs", "--cab", HUBS / "CAB25_okelly.txt", "--p", 2,
                             "--alpha", 0.2, "--allocation", "multiple", "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["hubs"] == [12, 20] and len(got["allocation"]) == 25


@pytest.mark.parametrize("args, words", [
    (["--ap", AP[10], "--p", 11], ["p = 11 hubs", "10 nodes"]),
    (["--ap", AP[10], "--p", "two"], ["--p", "must be an integer"]),
    (["--ap", AP[10], "--cab", HUBS / "CAB25_okelly.txt"], ["one data file"]),
    (["--cab", HUBS / "CAB25_okelly.txt", "--p", 2], ["--cab needs --alpha"]),
    (["--cab", HUBS / "CAB25_okelly.txt", "--alpha", 0.2], ["--cab needs --p"]),
    (["--ap", HUBS / "nope.txt"], ["nope.txt", "file not found"]),
    (["--ap", AP[10], "--fixed", HUBS / "FcostL.10"], ["both --fixed FILE and --capacity FILE"]),
    (["--ap", AP[10], "--alpha", "-1"], ["transfer cost -1.0 must be a number >= 0"]),
    (["--ap", AP[10], "--heuristic", "--bound", "--target-gap", "-1"], ["--target-gap", ">= 0"]),
    (["--ap", AP[10], "--heuristic", "--bound", "--target-gap", "nan"], ["--target-gap", ">= 0"]),
])
def test_cli_bad_input(capsys, args, words):
    code, out, err = run_cli(capsys, "plan", "hubs", *args, "--json")
    assert code == 2 and out == ""
    assert_one_line_error(err, *words)


def test_lagrangian_bound_is_valid_and_close():
    """The Lagrangian bound never exceeds the proven optimum, and on AP 20 (p = 4) it comes
    within 0.1% of it in a few hundred cheap iterations (the path formulation's LP is tight
    there, so the bound can reach the optimum itself)."""
    from parcelnet.plan.hub_bound import lagrangian_bound
    inst = read_ap(HUBS / "20.3")
    opt = solve_single(inst, 4).objective             # 135,624.88 published
    assert opt == pytest.approx(135624.88, abs=0.005)
    r = lagrangian_bound(inst, local_search(inst, 4).objective, 4, iterations=400, target_gap=0.0,
                         time_limit=60)
    assert all(lb <= opt * (1 + 1e-12) for lb in r.history)
    assert (opt - r.lower_bound) / opt < 0.001
    assert r.iterations > 10


def test_lagrangian_heuristic_finds_the_optimum_from_a_poor_start():
    """The relaxation's hubs restart the local search: from a deliberately bad upper bound
    the run returns a solution no worse than the local search's, with hubs and allocation
    that price to the objective it reports."""
    from parcelnet.plan.hub_bound import lagrangian_bound
    from parcelnet.plan.hubs import single_cost
    inst = read_ap(HUBS / "20.3").with_p(5)
    opt = solve_single(inst, 5).objective             # 123,130.09 published
    r = lagrangian_bound(inst, 2 * opt, 5, iterations=300, target_gap=0.0, time_limit=60,
                         improve_every=10)
    s = r.solution
    assert s is not None and r.upper_bound == s.objective
    assert s.objective == pytest.approx(single_cost(inst, np.array(s.allocation) - 1), rel=1e-12)
    assert opt - 1e-6 <= s.objective <= local_search(inst, 5).objective + 1e-6
    assert r.lower_bound <= opt * (1 + 1e-12)


def test_cli_heuristic_with_bound(capsys):
    code, out, _ = run_cli(capsys, "plan", "hubs", "--ap", HUBS / "20.3", "--p", "4", "--heuristic",
                           "--bound", "--time-limit", "20", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["lower_bound"] <= 135624.88 + 1e-6 <= r["objective"] + 1e-6 and 0 <= r["gap"] < 0.05
    assert "Lagrangian" in r["method"]


def test_heuristic_with_bound_is_one_call_with_progress():
    from parcelnet.plan.hub_bound import BOUND_STAGE, heuristic_with_bound
    from parcelnet.progress import RecordingProgress
    inst = read_ap(HUBS / "20.3").with_p(4)
    rec = RecordingProgress()
    sol = heuristic_with_bound(inst, time_limit=20, target_gap=0.0, progress=rec)
    assert rec.stages() == ["local search", BOUND_STAGE]
    assert sol.lower_bound <= sol.objective and abs(sol.objective - 135624.88) < 0.005  # published
    assert "Lagrangian bound" in sol.method and sol.extra["bound_iterations"] > 0
    with pytest.raises(ParameterError, match="target gap"):
        heuristic_with_bound(inst, target_gap=-1)
