"""O2O instant delivery: one dispatch decision at scale, and a simulated day side by side with
the greedy nearest-rider baseline.

    python benchmarks/bench_o2o.py decision [--orders 1000] [--riders 2000] [--stores 20]
    python benchmarks/bench_o2o.py day [--orders 3000] [--riders 20,30,45] [--stores 8]

``decision``: 1,000 open orders (random customers, 20 stores) and 2,000 riders at random
street nodes of the Shanghai extract, deadlines 5-30 minutes ahead; time of one pooled
decision (batching plus assignment) with the street rows cached (as in a running day) and
cold, and of one greedy decision. ``day``: a day of orders on the daily curve, both
dispatchers, each rider count; KPIs side by side.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from parcelnet.geo.streets import load_streets  # noqa: E402
from parcelnet.o2o import City, generate_orders, random_stores, simulate_day  # noqa: E402
from parcelnet.o2o import dispatch as D  # noqa: E402

OSM = ROOT / "tests/fixtures/osm/shanghai_jingan_huangpu_2p4km_drive.osm"


def decision(a) -> None:
    city = City(load_streets(a.osm))
    rng = np.random.default_rng(a.seed)
    stores = rng.choice(city.nodes, a.stores, replace=False)
    store = rng.choice(stores, a.orders)
    dest = rng.choice(city.nodes, a.orders)
    t = 12 * 3600
    deadline = t + rng.integers(300, 1800, a.orders)
    r_node = rng.choice(city.nodes, a.riders)
    r_free = t + np.where(rng.random(a.riders) < 0.5, 0, rng.integers(0, 1200, a.riders))
    t0 = time.perf_counter()
    plan = D.pooled(t, store, dest, deadline, r_free, r_node, city)
    cold = time.perf_counter() - t0
    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        plan = D.pooled(t, store, dest, deadline, r_free, r_node, city)
        runs.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    g = D.greedy(t, store, dest, deadline, r_free, r_node, city)
    tg = time.perf_counter() - t0
    print(f"graph {len(city.nodes):,} nodes; {a.orders:,} open orders, {a.riders:,} riders, {a.stores} stores")
    print(f"pooled: {len(plan)} trips, {sum(len(s) for _, s in plan)} orders; one decision "
          f"{np.median(runs) * 1000:.1f} ms (median of 5, street rows cached; worst {max(runs) * 1000:.1f} ms), "
          f"{cold * 1000:.0f} ms cold (first rows computed)")
    print(f"greedy: {len(g)} trips; one decision {tg * 1000:.1f} ms")


def day(a) -> None:
    city = City(load_streets(a.osm))
    stores = random_stores(city, a.stores, seed=a.seed, stock=10 * a.orders // a.stores)
    orders = generate_orders(city, a.orders, seed=a.seed)
    for r in (int(x) for x in a.riders.split(",")):
        for pol in ("greedy", "pooled"):
            t0 = time.perf_counter()
            res = simulate_day(city, stores, orders, r, policy=pol, seed=a.seed)
            k = res.kpis().to_dict()
            print(json.dumps({"riders": r, **{x: k[x] for x in ("policy", "mean_minutes", "p90_minutes",
                             "on_time_share", "orders_per_trip", "rider_utilisation", "km_per_order",
                             "decision_ms_max")}, "wall_s": round(time.perf_counter() - t0, 1)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    d = sub.add_parser("decision")
    d.add_argument("--orders", type=int, default=1000)
    d.add_argument("--riders", type=int, default=2000)
    d.add_argument("--stores", type=int, default=20)
    y = sub.add_parser("day")
    y.add_argument("--orders", type=int, default=3000)
    y.add_argument("--riders", default="20,30,45")
    y.add_argument("--stores", type=int, default=8)
    for p in (d, y):
        p.add_argument("--osm", default=str(OSM))
        p.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    decision(a) if a.what == "decision" else day(a)


if __name__ == "__main__":
    main()
