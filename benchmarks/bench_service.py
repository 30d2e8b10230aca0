"""Service network design (parcelnet plan service): quality against the exact MIP on small
random networks, and scale on the default China network.

    python benchmarks/bench_service.py small [--instances 30] [--step 180] [--budget-share 0.6]
    python benchmarks/bench_service.py china NETWORK [--parcels FILE] [--budgets 0.5,1,2]
                                                     [--targets 0.2]

``small``: random four-hub networks (tests/plan/test_service.py's shape, random lanes, times
and costs; new departures rounded to --step minutes); for each, the budget is a share of
today's cost and the greedy is compared with the exact MIP (which the tests check against
enumeration of every subset).
``china``: the greedy at budgets that are multiples of today's backbone cost (and at coverage
targets), with the objective checked by the promise engine on the new network.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from parcelnet.parcels import Parcels  # noqa: E402
from parcelnet.plan.service import build_model  # noqa: E402
from parcelnet.plan.service.report import apply_design, engine_value  # noqa: E402
from parcelnet.plan.service.solve import exact, greedy  # noqa: E402


def small(a) -> None:
    from tests.plan.test_service import HUBS, four_hubs
    rng = np.random.default_rng(a.seed)
    hubs = list(HUBS)
    gaps, rows = [], []
    for i in range(a.instances):
        pairs = [(x, y) for x in hubs for y in hubs if x != y]
        pick = rng.choice(len(pairs), size=7, replace=False)
        backbone = [(pairs[k][0], pairs[k][1], "truck" if rng.random() < 0.8 else "air",
                     int(rng.integers(150, 1300)), [int(rng.choice([0, 1380, 120]))])
                    for k in pick]
        net = four_hubs(backbone)
        st = np.repeat(net.stations, 5)
        m = build_model(net, demand=Parcels(np.arange(len(st)), rng.choice([1200, 1260], len(st)),
                                            st, st), new_air=False, step=a.step)
        budget = a.budget_share * m.cost(m.current)
        t0 = time.perf_counter()
        ex = exact(m, budget=budget, keep_connected=False)
        te = time.perf_counter() - t0
        gr = greedy(m, budget=budget, keep_connected=False)
        gap = ex.value - gr.value
        gaps.append(gap)
        rows.append({"instance": i, "candidates": len(m.cand), "today": round(m.value(m.current), 4),
                     "exact": round(ex.value, 4), "greedy": round(gr.value, 4),
                     "gap_points": round(100 * gap, 2), "exact_s": round(te, 2),
                     "greedy_s": round(gr.seconds, 2)})
        print(json.dumps(rows[-1]), flush=True)
    g = np.array(gaps)
    print(f"greedy = exact on {int((g < 1e-9).sum())} of {len(g)}; mean gap {100 * g.mean():.2f} "
          f"points of coverage, worst {100 * g.max():.2f}")


def china(a) -> None:
    from parcelnet.demand import load_parcels
    from parcelnet.network.pnf import load_network
    net = load_network(a.network)
    demand = load_parcels(a.parcels, net) if a.parcels else None
    t0 = time.perf_counter()
    m = build_model(net, demand, step=a.step)
    print(f"model: {len(m.cand):,} candidate trips ({int(m.cand.existing.sum()):,} today's), "
          f"{len(m.keys['src']):,} searches, {time.perf_counter() - t0:.1f} s; today "
          f"{m.value(m.current):.4f} at cost {m.cost(m.current):,.0f}", flush=True)
    runs = [("budget", float(b) * m.cost(m.current)) for b in a.budgets.split(",") if b] + \
        [("target", float(t)) for t in a.targets.split(",") if t]
    for kind, x in runs:
        d = greedy(m, **{kind: x})
        checked = engine_value(apply_design(m, d.active), m.weights)
        print(json.dumps({kind: round(x, 4), "objective": round(d.value, 4),
                          "checked_by_engine": round(checked, 4), "upper_bound": round(d.upper_bound, 4),
                          "cost": round(d.cost), "trips": int(d.active.sum()),
                          "seconds": round(d.seconds, 1)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("small")
    s.add_argument("--instances", type=int, default=30)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--step", type=int, default=180)
    s.add_argument("--budget-share", type=float, default=0.6)
    c = sub.add_parser("china")
    c.add_argument("network")
    c.add_argument("--parcels")
    c.add_argument("--budgets", default="0.5,1,2")
    c.add_argument("--targets", default="")
    c.add_argument("--step", type=int, default=60)
    a = ap.parse_args()
    small(a) if a.what == "small" else china(a)


if __name__ == "__main__":
    main()
