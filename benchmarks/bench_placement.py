"""Forward stock on China: warehouse sites, placement for 10,000 SKUs x 10 warehouses
(target: under 2 minutes), and the exact 24 h share of a day's orders by the stock budget.

    python benchmarks/bench_placement.py NETWORK [--warehouses 10] [--skus 10000]
                                         [--orders 1000000] [--budgets 0,0.25,0.5,0.75,1,1.3]

NETWORK is a default build (``parcelnet build --country CN``). The forecast is perfect
foresight: the day's own orders summed by province and SKU (``benchmarks/bench_sensing.py
peak`` places from forecasts instead). Budgets are multiples of what one central warehouse
would hold (the forecast's units). For each budget: the placement's time and planned
share, and ``fulfil``'s exact share of the orders promised within 24 h, by creation hour
too.
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
from parcelnet.plan.warehouses import choose_warehouses
from parcelnet.units import DAY


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--warehouses", type=int, default=10)
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--orders", type=int, default=1_000_000)
    ap.add_argument("--budgets", default="0,0.25,0.5,0.75,1,1.3")
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    net = load_network(a.network)
    t = time.perf_counter()
    sites = choose_warehouses(net, a.warehouses)
    net = sites.network
    print(f"{a.warehouses} warehouses at {', '.join(sites.centres)}: reach {sites.reach_24h:.1%} "
          f"({time.perf_counter() - t:.1f} s)", flush=True)
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
        print(json.dumps({"budget": share, "units": p.units_placed, "placement_s": round(took, 2),
                          "planned_share_24h": round(p.planned_share_24h, 4),
                          "fulfil_s": round(took_f, 2), "share_24h": round(f.share_within_24h, 4),
                          "from_warehouses": f.from_warehouses, "by_hour": by_hour}), flush=True)


if __name__ == "__main__":
    main()
