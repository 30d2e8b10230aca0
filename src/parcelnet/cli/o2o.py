"""O2O commands: o2o simulate."""

from __future__ import annotations

import re

from parcelnet.cli._common import UsageError, add_json, bars, integer, print_json, seed, writable
from parcelnet.cli._streets import add_street_options, max_snap, routers


def _count_or_file(text: str, flag: str):
    """A positive whole number (int), or else a file name (str)."""
    if re.fullmatch(r"\s*[+-]?\d+\s*", str(text)):
        return integer(text, flag, lo=1)
    return text


def simulate(a) -> int:
    from parcelnet.files import atomic_path
    from parcelnet.geo.streets import load_streets
    from parcelnet.o2o import (City, generate_orders, random_stores, read_lockers, read_orders,
                               read_stores, simulate_day)
    from parcelnet.viz.console import console
    riders = integer(a.riders, "--riders")
    if riders < 1:
        raise UsageError(f"--riders must be a positive whole number, got {riders}")
    rng_seed, limit = seed(a.seed), max_snap(a)
    step = integer(a.step, "--step", lo=1)
    capacity = integer(a.capacity, "--capacity", lo=1)
    promise = integer(a.promise, "--promise", lo=1)
    n_stores, n_orders = _count_or_file(a.stores, "--stores"), _count_or_file(a.orders, "--orders")
    provider = routers(a, ["ebike"]).get("ebike")
    for flag, path in (("--out", a.out), ("--map", a.map)):
        if path:
            writable(path, flag)
    stores = read_stores(n_stores) if isinstance(n_stores, str) else None
    orders = read_orders(n_orders, promise) if isinstance(n_orders, str) else None
    lockers = read_lockers(a.lockers) if a.lockers else None
    city = City(load_streets(a.osm), max_snap_m=limit, router=provider)
    if stores is None:
        stores = random_stores(city, n_stores, seed=rng_seed)
    if orders is None:
        orders = generate_orders(city, n_orders, seed=rng_seed, promise_min=promise)
    policies = ["greedy", "pooled"] if a.policy == "both" else [a.policy]
    out = {}
    for pol in policies:
        with bars(quiet=a.json) as progress:
            out[pol] = simulate_day(city, stores, orders, riders, policy=pol, step_s=step,
                                    capacity=capacity, lockers=lockers, locker_policy=a.locker_policy,
                                    seed=rng_seed, progress=progress)
    if a.out:
        with atomic_path(a.out) as tmp:
            out[policies[-1]].orders.to_csv(tmp, index=False)
    if a.map:
        from parcelnet.viz.street_maps import render_rider_day
        res = out[policies[-1]]
        r = int(res.riders["orders"].idxmax())
        render_rider_day(city, res, r, stores, f"rider {r}: {int(res.riders.loc[r, 'orders'])} orders, "
                         f"{res.riders.loc[r, 'metres'] / 1000:.1f} km ({policies[-1]})", f"{a.map}.png")
    kp = {p: r.kpis() for p, r in out.items()}
    if a.json:
        print_json(kp if len(kp) > 1 else kp[policies[0]])
        return 0
    con = console()
    for p, k in kp.items():
        on_time = "-" if k.on_time_share is None else f"{k.on_time_share:.1%}"
        con.print(f"[bold]{p}[/]: {k.delivered:,} of {k.orders:,} delivered, mean {k.mean_minutes} min "
                  f"(p50 {k.p50_minutes}, p90 {k.p90_minutes}), on time {on_time}, "
                  f"{k.orders_per_trip} orders a trip, riders busy {k.rider_utilisation:.0%}, "
                  f"{k.km_per_order} km an order; decisions up to {k.decision_ms_max} ms"
                  + (f"; rejected {k.rejected}" if k.rejected else ""))
    if a.map:
        con.print(f"map of the busiest rider's day -> {a.map}.png")
    return 0


def register(sub) -> None:
    from parcelnet.o2o.day import LOCKER_POLICIES, POLICIES
    oo = sub.add_parser("o2o", help="instant delivery from stores by riders on a street map")
    osub = oo.add_subparsers(dest="o2o", required=True, metavar="WHAT")
    os_ = osub.add_parser("simulate", help="simulate a day of orders, stores and riders")
    os_.add_argument("osm", help="OpenStreetMap extract of the city (.osm or .osm.pbf)")
    os_.add_argument("--stores", default="8", help="CSV store_id,lat,lon,stock, or a number of random stores")
    os_.add_argument("--orders", default="3000", help="CSV order_id,created_s,lat,lon[,units,promise_min,"
                     "to_locker], or a number of orders on the daily curve")
    os_.add_argument("--riders", required=True, help="number of riders (e-bikes)")
    os_.add_argument("--policy", default="both", choices=(*POLICIES, "both"),
                     help="dispatch policy: pooled (parcelnet's), greedy (the baseline) or both")
    os_.add_argument("--step", default="30", help="seconds between dispatch decisions (default 30)")
    os_.add_argument("--capacity", default="3", help="orders a rider carries at most (default 3)")
    os_.add_argument("--promise", default="30", help="promised minutes when the orders do not say (30)")
    os_.add_argument("--lockers", help="CSV locker_id,lat,lon,slots: pickup points")
    os_.add_argument("--locker-policy", default="customer", choices=LOCKER_POLICIES,
                     help="customer: only orders that chose a locker; nearby: any within 300 m of a free one")
    add_street_options(os_)
    os_.add_argument("--seed", default="0", help="random seed, 0 to 2^32 - 1 (default 0)")
    os_.add_argument("--out", help="CSV of the orders (store, rider, delivered, minutes, status, reason)")
    os_.add_argument("--map", help="write PREFIX.png: the busiest rider's day on the streets")
    add_json(os_, "the KPIs")
    os_.set_defaults(func=simulate)
