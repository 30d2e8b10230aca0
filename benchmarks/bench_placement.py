"""Forward stock on China: warehouse sites, placement for 10,000 SKUs x 10 warehouses
(target: under 2 minutes), and the exact 24 h share of a day's orders by the stock budget.

    python benchmarks/bench_placement.py NETWORK [--warehouses 10] [--skus 10000]
                                         [--orders 1000000] [--budgets 0,0.25,0.5,0.75,1,1.3]
                                         [--day-km 1200] [--direct-km 600] [--chart PNG]

NETWORK is a default build (``parcelnet build --country CN``). The forecast is perfect
foresight: the day's own orders summed by province and SKU (``benchmarks/bench_sensing.py
peak`` places from forecasts instead). Budgets are multiples of what one central warehouse
would hold (the forecast's units). For each budget: the placement's time and planned
share, and ``fulfil``'s exact share of the orders promised within 24 h, by creation hour
too. ``--day-km`` and ``--direct-km`` go to ``plan warehouses`` (0 and 0: the link alone).
``--chart``: measure the budgets both with the day trucks and with the link alone, and
draw the two curves of the exact 24 h share against the budget (PNG).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from parcelnet.demand.skus import generate_orders, generate_skus, units_by_region
from parcelnet.inventory import fulfil
from parcelnet.inventory.tables import Orders, Placement, Skus
from parcelnet.network.pnf import load_network
from parcelnet.plan.placement import plan_placement
from parcelnet.plan.warehouses import DAY_KM, DIRECT_KM, choose_warehouses
from parcelnet.units import DAY


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--warehouses", type=int, default=10)
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--budgets", default="0,0.25,0.5,0.75,1,1.3")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--day-km", type=float, default=DAY_KM)
    ap.add_argument("--direct-km", type=float, default=DIRECT_KM)
    ap.add_argument("--chart", help="PNG of the share against the budget, with and without day trucks")
    a = ap.parse_args()
    if not a.chart:
        run(a, a.day_km, a.direct_km)
        return
    curves = {label: run(a, day, direct) for label, day, direct in
              ((f"with day trucks ({a.day_km:,.0f} km to centres, {a.direct_km:,.0f} km to stations)",
                a.day_km, a.direct_km), ("the link into the centre alone", 0.0, 0.0))}
    chart(curves, a.chart)
    print(f"chart -> {a.chart}")


def chart(curves: dict, path: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import PercentFormatter

    fig = Figure(figsize=(7.5, 4.2), dpi=110)
    FigureCanvasAgg(fig)
    ax = fig.subplots()
    for (label, rows), colour in zip(curves.items(), ("#2b8cbe", "#969696")):
        x = [r["budget"] for r in rows]
        ax.plot(x, [r["share_24h"] for r in rows], "o-", color=colour, label=label)
        ax.axhline(rows[0]["bound"], color=colour, ls=":", lw=1)
        ax.annotate(f"no {rows[0]['warehouses']} sites can do better: {rows[0]['reach_bound']}",
                    (x[0], rows[0]["bound"]), xytext=(0, 2), textcoords="offset points",
                    fontsize=8, color=colour, va="bottom")
    ax.axhline(0.9, color="#d95f0e", ls="--", lw=1)
    ax.annotate("goal: 90% at 1.3 x or less", (1.3, 0.9), xytext=(0, -2), textcoords="offset points",
                fontsize=8, color="#d95f0e", ha="right", va="top")
    ax.set_xlabel("stock budget, x what one central warehouse would hold")
    ax.set_ylabel("orders promised within 24 h (exact)")
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0.3, 1.03)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("A normal day's 1,000,000 SKU orders, ten warehouses on China's network", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)


def run(a, day_km: float, direct_km: float) -> list[dict]:
    net = load_network(a.network)
    t = time.perf_counter()
    sites = choose_warehouses(net, a.warehouses, day_km=day_km, direct_km=direct_km,
                              bound=bool(a.chart))
    net = sites.network
    print(f"{a.warehouses} warehouses at {', '.join(sites.centres)}: reach {sites.reach_24h:.1%} "
          f"(bound {sites.upper_bound:.1%}; {time.perf_counter() - t:.1f} s; day trucks "
          f"{json.dumps(sites.day_trucks)})", flush=True)
    rows = []
    sk_df = generate_skus(net, a.skus, a.seed)
    od = generate_orders(net, sk_df, a.orders, "normal", a.seed)
    skus = Skus.from_frame(sk_df, net)
    orders = Orders.from_frame(od, net, skus)
    fc = units_by_region(net, od)
    total = int(fc["units_forecast"].sum())
    hour = orders.created_minute // 60
    for share in (float(x) for x in a.budgets.split(",")):
        t = time.perf_counter()
        p = plan_placement(net, skus, fc, int(share * total))
        took = time.perf_counter() - t
        tab = p.table
        pl = Placement.from_frame(tab, net, skus)
        t = time.perf_counter()
        f = fulfil(net, skus, orders, pl)
        took_f = time.perf_counter() - t
        served = f.table.set_index("order_id").loc[orders.order_id]
        ok = (served["promise_minute"].fillna(1 << 60).to_numpy(np.int64) - orders.created_minute) <= DAY
        by_hour = [round(float(ok[hour == h].mean()), 3) for h in range(24)]
        row = {"budget": share, "units": p.units_placed, "placement_s": round(took, 2),
               "planned_share_24h": round(p.planned_share_24h, 4),
               "fulfil_s": round(took_f, 2), "share_24h": round(f.share_within_24h, 4),
               "from_warehouses": f.from_warehouses, "by_hour": by_hour}
        print(json.dumps(row), flush=True)
        rows.append(row | {"bound": sites.upper_bound, "warehouses": a.warehouses,
                           "reach_bound": f"{sites.upper_bound:.1%}"})
    return rows


if __name__ == "__main__":
    main()
