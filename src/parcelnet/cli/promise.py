"""Promise commands: promise, cutoff, coverage."""

from __future__ import annotations

from pathlib import Path

from parcelnet.cli._common import UsageError, add_json, bars, minute, number, print_json
from parcelnet.units import clock, hhmm


def promise(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.promise import PromiseEngine
    from parcelnet.promise.batch import run_batch
    eng = PromiseEngine(load_network(a.network))
    if a.batch:
        if not a.out:
            raise UsageError("--batch needs --out OUT.csv")
        r = run_batch(eng, a.batch, a.out)
        if a.json:
            print_json(r)
        else:
            print(f"{r.queries} promises ({r.unreachable} unreachable) in {r.seconds:.2f} s -> {a.out}")
        return 0
    if a.origin is None or a.to is None or a.at is None:
        raise UsageError("give --from FAC --to STATION --at MINUTE, or --batch QUERIES.csv --out OUT.csv")
    p = eng.query(a.origin, a.to, a.at)
    if a.json:
        print_json(p)
    elif p.promise_minute is None:
        print(f"{a.to} is not reachable from {a.origin}")
    else:
        print(f"created {clock(p.created_minute)} at {a.origin}, delivered {clock(p.promise_minute)} "
              f"at {a.to}: {p.hours} h via {' -> '.join(p.path) or '(same station)'}")
    return 0


def cutoff(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.promise import PromiseEngine
    r = PromiseEngine(load_network(a.network)).latest_order(a.origin, a.to)
    if a.json:
        print_json(r)
        return 0
    fmt = lambda m: "none" if m is None else hhmm(m)  # noqa: E731
    print(f"{a.origin} -> {a.to}: latest order for 24h delivery {fmt(r.cutoff_24h)}, "
          f"next-day cut-off {fmt(r.next_day_cutoff)}; 24h windows: "
          + (", ".join(f"{fmt(s)}-{fmt(e)}" for s, e in r.windows_24h) or "none"))
    return 0


def coverage(a) -> int:
    from parcelnet.network.pnf import load_network
    from parcelnet.promise.coverage import coverage as compute
    from parcelnet.viz.console import console
    from parcelnet.viz.coverage_map import render_coverage
    from parcelnet.viz.text import coverage_tables
    scale = number(a.capacity_scale, "--capacity-scale", "a positive number", above=0)
    net = load_network(a.network)
    parcels = None
    if a.parcels:
        from parcelnet.demand import load_parcels
        parcels = load_parcels(a.parcels, net)
    origins = [a.origin] if a.origin else None
    with bars(quiet=a.json or a.origin is not None) as progress:
        cov = compute(net, origins, progress=progress)
    prefix = a.map or Path(a.network).with_suffix("").name + "-coverage"
    png, html = render_coverage(net, cov, prefix, a.origin, lanes=a.lanes)
    if not a.json:
        who = f"from {a.origin}" if a.origin else f"averaged over {len(cov.origins)} hubs"
        coverage_tables(cov, f"Share of population reached within 24 h, {who}")
        console().print(f"map: {png}  {html}")
    day = None
    if parcels is not None:
        from parcelnet.plan.capacity_reason import day_outside_24h
        day = day_outside_24h(net, parcels, capacity_scale=scale)
        if not a.json:
            console().print(
                f"simulated day of {day.parcels:,} parcels: {day.within_24h_by_promise:.1%} "
                f"within 24 h by promise, {day.within_24h_simulated:.1%} as simulated; "
                f"capacity limit puts {day.outside_24h_by_capacity:.1%} beyond 24 h")
    if a.json:
        extra = {"simulated_day": day.to_dict()} if day else {}
        print_json({**cov.to_dict(), **extra, "map_png": str(png), "map_html": str(html)})
    return 0


def register(sub) -> None:
    from parcelnet.viz.map_lanes import LANE_MODES
    q = sub.add_parser("promise", help="when will an order arrive? (one order, or a batch file)",
                       description="The promise of an order: the earliest delivery by the "
                                   "network's timetable (capacity ignored), and its path.")
    q.add_argument("network", help="PNF folder or .pnfz bundle")
    q.add_argument("--from", dest="origin", help="origin facility id")
    q.add_argument("--to", help="destination station id")
    q.add_argument("--at", type=minute, help="creation minute (absolute; 0 = midnight of day 0, "
                                             "1080 = 18:00 on day 0)")
    add_json(q, "the promise (minutes, hours, path)")
    q.add_argument("--batch", help="CSV with query_id,origin,destination,created_minute")
    q.add_argument("--out", help="answers CSV for --batch (the queries plus promise_minute, path)")
    q.set_defaults(func=promise)

    c = sub.add_parser("cutoff", help="latest order time for 24 h and next-day delivery")
    c.add_argument("network", help="PNF folder or .pnfz bundle")
    c.add_argument("--from", dest="origin", required=True, help="origin facility id")
    c.add_argument("--to", required=True, help="destination station id")
    add_json(c, "the cut-offs (minutes of day)")
    c.set_defaults(func=cutoff)

    g = sub.add_parser("coverage", help="population share reached within 24 h, by hour and "
                                        "province, with a map")
    g.add_argument("network", help="PNF folder or .pnfz bundle")
    g.add_argument("--origin", help="origin facility id (default: the mean over every hub)")
    add_json(g, "the shares")
    g.add_argument("--map", help="map path prefix: writes PREFIX.png and PREFIX.html "
                                 "(default NETWORK-coverage)")
    g.add_argument("--lanes", choices=LANE_MODES, default="light",
                   help="map lanes: light, bundled (corridors, width by trips a day) or none")
    g.add_argument("--parcels", help="a day of parcels: also the share a capacity limit puts "
                                     "beyond 24 h")
    g.add_argument("--capacity-scale", default="1.0",
                   help="the parcels are this share of the day (as parcelnet simulate; > 0)")
    g.set_defaults(func=coverage)
