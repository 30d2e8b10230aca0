"""Service network design (parcelnet plan service): quality against the exact MIP on small
random networks, and scale on the default China network.

    python benchmarks/bench_service.py small [--instances 30] [--step 180] [--budget-share 0.6]
                                             [--origin-target 0.8 [--new-air] [--relay 3]]
    python benchmarks/bench_service.py china NETWORK [--parcels FILE] [--budgets 0.5,1,2]
                                                     [--targets 0.2]
    python benchmarks/bench_service.py origins NETWORK [--origins C3301,...] [--hour 20]
                       [--target 0.9] [--tiers feeder,linehaul,trunk,air] [--max-province-loss-hours N]

``small``: random four-hub networks (tests/plan/test_service.py's shape, random lanes, times
and costs; new departures rounded to --step minutes); for each, the budget is a share of
today's cost and the greedy is compared with the exact MIP (which the tests check against
enumeration of every subset). With --origin-target T: three random stations as named
origins at 20:00, each held to T (or its maximum), and the greedy's cost against the MIP's.
``china``: the greedy at budgets that are multiples of today's backbone cost (and at coverage
targets), with the objective checked by the promise engine on the new network.
``origins``: the design for orders at --hour from each of eight origins (Hangzhou, Jinhua/Yiwu,
Guangzhou, Shenzhen, Shanghai, Suzhou, Quanzhou, Beijing) with --target per origin, as
``parcelnet plan service --origins``: the time, the cost before and after (and per parcel),
each origin's coverage before and after with its achievable maximum and bounds, and what
the last 5% cost.
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
from parcelnet.plan.service import SCOPE_TIERS, build_model  # noqa: E402
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
        if a.origin_target is not None:
            rows.append(_per_origin(net, rng, a, i))
            gaps.append(rows[-1]["gap_share"])
            print(json.dumps(rows[-1]), flush=True)
            continue
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
    what = "% of the least cost" if a.origin_target is not None else " points of coverage"
    print(f"greedy = exact on {int((g < 1e-9).sum())} of {len(g)}; mean gap {100 * g.mean():.2f}"
          f"{what}, worst {100 * g.max():.2f}")


def _per_origin(net, rng, a, i) -> dict:
    """The greedy's and the MIP's cost for a target per origin (three random stations)."""
    fac = net.facility_index
    names = [str(fac[s]) for s in rng.choice(net.stations, 3, replace=False)]
    m = build_model(net, new_air=a.new_air, step=a.step, origins=names, hour=20, relay=a.relay)
    t0 = time.perf_counter()
    ex = exact(m, target=a.origin_target, per_origin=True, keep_connected=False)
    te = time.perf_counter() - t0
    gr = greedy(m, target=a.origin_target, per_origin=True, keep_connected=False)
    return {"instance": i, "origins": names, "candidates": len(m.cand),
            "held_to": [round(x, 4) for x in gr.origin_targets], "exact_cost": round(ex.cost),
            "greedy_cost": round(gr.cost), "gap_share": (gr.cost - ex.cost) / max(ex.cost, 1e-9),
            "exact_s": round(te, 2), "greedy_s": round(gr.seconds, 2)}


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


#: the eight origins of the issue "24 hours, anywhere"
EIGHT = "C3301,C3307,C4401,C4403,C3100,C3205,C3505,C1100"


def origins(a) -> None:
    from parcelnet.network.pnf import load_network
    from parcelnet.plan.service import design_service
    net = load_network(a.network)
    names = a.origins.split(",")
    floor = None if a.max_province_loss_hours is None else float(a.max_province_loss_hours)
    t0 = time.perf_counter()
    d = design_service(net, origins=names, order_hour=a.hour, target=a.target,
                       tiers=tuple(a.tiers.split(",")), step=a.step,
                       max_province_loss_hours=floor, add_only=a.add_only)
    took = time.perf_counter() - t0
    print(f"{len(d.origins)} origins at {a.hour:02d}:00, target {a.target:.0%} each"
          f"{' (add only)' if a.add_only else ''}; tiers "
          f"{a.tiers}; {d.candidates:,} candidate trips; {took:.0f} s in all "
          f"({d.seconds:.0f} s choosing trips)")
    ppd = d.parcels_per_day
    per = (f"; per parcel CNY {d.cost_per_parcel_before:.3f} -> {d.cost_per_parcel_after:.3f} "
           f"({ppd:,} parcels a day)") if ppd else ""
    print(f"backbone cost a day CNY {d.cost_before:,.0f} -> CNY {d.cost_after:,.0f}{per}")
    ls = d.last_share
    if ls:
        print(f"last {a.target - ls['lower_target']:.0%}: CNY {ls['cost_at_lower_target']:,.0f} at "
              f"{ls['lower_target']:.0%} -> CNY {ls['cost_at_target']:,.0f} at {a.target:.0%} "
              f"(+CNY {ls['last_share_cost']:,.0f} a day)")
    for r in d.origins:
        print(json.dumps({k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()
                          if k in ("origin", "name", "share_before", "share_after", "achievable_max",
                                   "shortfall", "free_flow_share", "physically_impossible_share")}))
    grew = [(r["median_hours_after"] or float("inf")) - r["median_hours_before"]
            for r in d.provinces_losing if r["median_hours_before"] is not None]
    print(f"provinces that lose: {len(d.provinces_losing)} (the median grows by at most "
          f"{max(grew, default=0):.1f} h); (origin, city) pairs that lose: {len(d.pairs_losing):,}"
          + (f"; floor {d.floor['max_province_loss_hours']:g} h kept {d.floor['trips_kept']} "
             "trips" if d.floor else ""))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    s = sub.add_parser("small")
    s.add_argument("--instances", type=int, default=30)
    s.add_argument("--seed", type=int, default=1)
    s.add_argument("--step", type=int, default=180)
    s.add_argument("--budget-share", type=float, default=0.6)
    s.add_argument("--origin-target", type=float)
    s.add_argument("--new-air", action="store_true")
    s.add_argument("--relay", type=int, default=0)
    c = sub.add_parser("china")
    c.add_argument("network")
    c.add_argument("--parcels")
    c.add_argument("--budgets", default="0.5,1,2")
    c.add_argument("--targets", default="")
    c.add_argument("--step", type=int, default=60)
    o = sub.add_parser("origins")
    o.add_argument("network")
    o.add_argument("--origins", default=EIGHT)
    o.add_argument("--hour", type=int, default=20)
    o.add_argument("--target", type=float, default=0.9)
    o.add_argument("--tiers", default=",".join(SCOPE_TIERS))
    o.add_argument("--step", type=int, default=60)
    o.add_argument("--max-province-loss-hours")
    o.add_argument("--add-only", action="store_true")
    a = ap.parse_args()
    {"small": small, "china": china, "origins": origins}[a.what](a)


if __name__ == "__main__":
    main()
