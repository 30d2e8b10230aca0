"""Last-mile commands: address; lastmile solve, plan, areas, matrix."""

from __future__ import annotations

from parcelnet.cli._common import (UsageError, add_json, lat_lon, number, print_json, seed,
                                   writable)
from parcelnet.cli._streets import add_street_options, max_snap, routers
from parcelnet.geo.streets import PROFILES


# -- commands -----------------------------------------------------------------------------
def solve(a) -> int:
    from parcelnet.lastmile.solomon import read_solomon
    from parcelnet.lastmile.vrp import solve_vrptw
    from parcelnet.viz.console import console, timed
    seconds = number(a.seconds, "--seconds", "a number of seconds")
    if not seconds > 0:
        raise UsageError(f"--seconds must be positive, got {a.seconds}")
    inst = read_solomon(a.solomon)
    with timed(f"{inst.name}: courier routes", quiet=a.json) as progress:
        sol = solve_vrptw(inst, seconds, seed=seed(a.seed), progress=progress)
    if a.json:
        print_json(sol)
        return 0
    con = console()
    con.print(f"{inst.name}: distance {sol.distance:.2f} with {sol.vehicles} vehicles "
              f"({'feasible' if sol.feasible else '[bold red]infeasible[/]'}, {sol.seconds:.1f} s)")
    for k, r in enumerate(sol.routes, 1):
        con.print(f"  route {k}: " + " ".join(map(str, r)))
    return 0


def matrix(a) -> int:
    import numpy as np
    import pandas as pd

    from parcelnet.geo.routing import street_router
    from parcelnet.geo.streets import load_streets, street_graph
    from parcelnet.lastmile.points import read_points
    limit = max_snap(a)
    provider = routers(a, [a.mode]).get(a.mode)
    if a.out:
        writable(a.out, "--out")
    src = read_points(a.points, gcj02=a.gcj02)
    dst = read_points(a.to, gcj02=a.gcj02) if a.to else src
    router = street_router(street_graph(load_streets(a.osm), a.mode), provider, limit)
    m = router.matrix(src["lat"].to_numpy(), src["lon"].to_numpy(),
                      dst["lat"].to_numpy(), dst["lon"].to_numpy())
    if a.json:
        print_json({"mode": a.mode, "from": src["id"].tolist(), "to": dst["id"].tolist(),
                    "seconds": [[None if np.isnan(x) else round(float(x), 3) for x in row] for row in m]})
        return 0
    out = pd.DataFrame(np.round(m, 3), index=src["id"], columns=dst["id"])
    out.index.name = "from"
    if a.out:
        from parcelnet.files import atomic_path
        with atomic_path(a.out) as tmp:
            out.to_csv(tmp)
    else:
        print(out.to_csv(), end="")
    return 0


def plan(a) -> int:
    import pandas as pd

    from parcelnet.files import atomic_path
    from parcelnet.geo.streets import load_streets
    from parcelnet.lastmile.station_day import plan_day, read_couriers, read_stops
    from parcelnet.units import seconds_clock
    from parcelnet.viz.console import console, timed
    station = lat_lon(a.station, "--station")
    seconds = number(a.seconds, "--seconds", "a positive number of seconds", above=0)
    rng_seed, limit = seed(a.seed), max_snap(a)
    provider = routers(a, PROFILES)
    for flag, path in (("--out", a.out), ("--map", a.map)):
        if path:
            writable(path, flag)
    stops, couriers = read_stops(a.stops), read_couriers(a.couriers)
    ways = load_streets(a.osm)
    with timed("a station's day", quiet=a.json) as progress:
        day = plan_day(ways, station, stops, couriers, seconds=seconds, seed=rng_seed,
                       max_snap_m=limit, routers=provider, progress=progress)
    if a.out:
        with atomic_path(a.out) as tmp:
            pd.concat([day.routes, day.unassigned.assign(courier_id="")],
                      ignore_index=True).to_csv(tmp, index=False)
    if a.map:
        from parcelnet.viz.street_maps import render_day
        title = (f"{len(day.routes)} stops by {len(day.couriers)} couriers, "
                 f"{day.couriers['travel_s'].sum() / 3600:.1f} h of travel; {len(day.unassigned)} left out")
        render_day(ways, station, stops, couriers, day, title, f"{a.map}.png", f"{a.map}.html",
                   routers=provider, max_snap_m=limit)
    if a.json:
        print_json(day)
        return 0
    con = console()
    for r in day.couriers.itertuples():
        con.print(f"[bold]{r.courier_id}[/]: {r.stops} stops, out {seconds_clock(r.start_s)}, back "
                  f"{seconds_clock(r.end_s)}, {r.travel_s / 60:.0f} min of travel")
        for s in day.routes[day.routes["courier_id"] == r.courier_id].itertuples():
            con.print(f"  {seconds_clock(s.start_s)} {s.stop_id} ({s.kind})")
    for r in day.unassigned.itertuples():
        con.print(f"[bold red]left out[/] {r.stop_id}: {r.reason}")
    return 0


def areas(a) -> int:
    from parcelnet.geo.streets import load_streets
    from parcelnet.lastmile.areas import service_areas
    from parcelnet.lastmile.points import read_points
    from parcelnet.viz.console import console
    limit = max_snap(a)
    provider = routers(a, [a.mode]).get(a.mode)
    stations = read_points(a.stations, gcj02=a.gcj02, what="stations")
    ar = service_areas(load_streets(a.osm), stations, a.mode, router=provider, max_snap_m=limit)
    if a.map:
        from parcelnet.viz.street_maps import render_areas
        render_areas(ar, stations, f"Service areas of {len(stations)} stations by road ({a.mode})",
                     f"{a.map}.png", f"{a.map}.html")
    if a.json:
        print_json(ar.table)
        return 0
    for r in ar.table.itertuples():
        console().print(f"{r.station_id}: {r.nodes} street nodes, {r.street_km} km of street, "
                        f"up to {r.max_minutes} min away (mean {r.mean_minutes})")
    return 0


def address(a) -> int:
    from parcelnet.errors import ValidationError
    from parcelnet.lastmile.sortcode import Assigner, assign_addresses
    from parcelnet.network.pnf import load_network
    from parcelnet.tables import read_csv
    from parcelnet.viz.console import console
    if (a.address is None) == (a.input is None):
        raise UsageError("give one address, or --in FILE.csv with id,address columns")
    if a.city_map and (not a.stations or a.input is None):
        raise UsageError("--city-map needs --stations FILE.csv and --in FILE.csv with lat,lon columns")
    if a.router and not a.city_map:
        raise UsageError("--router needs --city-map (travel times on a city's streets)")
    limit = max_snap(a)
    provider = routers(a, [a.mode]).get(a.mode)
    if a.out:
        writable(a.out, "--out")
    if a.address is not None:
        ids, texts = ["1"], [a.address]
    else:
        df = read_csv(a.input, ("id", "address"), min_rows=1, what="addresses")
        ids, texts = df["id"].tolist(), df["address"].tolist()
    net = load_network(a.network)
    out = assign_addresses(net, texts, Assigner(net))
    out.insert(0, "id", ids)
    if a.city_map:
        from parcelnet.geo.routing import street_router
        from parcelnet.geo.streets import load_streets, street_graph
        from parcelnet.lastmile.points import read_points
        from parcelnet.lastmile.sortcode import nearest_by_road
        stations = read_points(a.stations, gcj02=a.gcj02, what="stations")
        pts = read_points(a.input, gcj02=a.gcj02, what="addresses")
        router = street_router(street_graph(load_streets(a.city_map), a.mode), provider, limit)
        near = nearest_by_road(router, stations, pts["lat"], pts["lon"])
        out["city_station_id"], out["city_station_seconds"] = near["station_id"], near["seconds"]
        out["city_station_reason"] = near["reason"]
    if a.out:
        from parcelnet.files import atomic_path
        with atomic_path(a.out) as tmp:
            out.to_csv(tmp, index=False)
        ok = int((out["status"] == "ok").sum())
        console().print(f"{ok:,} of {len(out):,} addresses assigned -> {a.out}")
        return 0
    r = out.iloc[0]
    if a.json or a.address is None:
        print_json(out)
        if a.address is None or r["status"] == "ok":
            return 0
    else:
        con = console()
        names = "".join(x for x in (r["province"], r["prefecture"], r["county"], r["township"])
                        if isinstance(x, str))
        if r["status"] == "ok":
            con.print(f"{names} | {r['detail']}: station {r['station_id']}, sort code [bold]{r['sort_code']}[/] "
                      f"(WGS-84 {r['lat_wgs84']:.5f},{r['lon_wgs84']:.5f}; "
                      f"GCJ-02 {r['lat_gcj02']:.5f},{r['lon_gcj02']:.5f})")
            return 0
    raise ValidationError(f"'{a.address}': {r['reason']}")


def register(sub) -> None:
    ad = sub.add_parser("address", help="Chinese address -> divisions, coordinate, station, sort code")
    ad.add_argument("network", help="PNF folder or .pnfz bundle (one station per county)")
    ad.add_argument("address", nargs="?", help="one address (or --in)")
    ad.add_argument("--in", dest="input", help="CSV with id,address (and lat,lon for --city-map)")
    ad.add_argument("--out", help="CSV of the results (default: JSON on stdout)")
    ad.add_argument("--city-map", help="OSM street map of a city: also the station nearest by road")
    ad.add_argument("--stations", help="CSV id,lat,lon of the city's stations (with --city-map)")
    ad.add_argument("--mode", default="ebike", choices=PROFILES, help="travel mode on the street map")
    ad.add_argument("--gcj02", action="store_true", help="lat,lon in the files are GCJ-02")
    add_street_options(ad)
    add_json(ad, "the assignment (with one address: exit 2 when it is rejected)")
    ad.set_defaults(func=address)

    lm = sub.add_parser("lastmile", help="street maps and courier routes")
    lsub = lm.add_subparsers(dest="lastmile", required=True, metavar="WHAT")
    ls = lsub.add_parser("solve", help="VRPTW routes by PyVRP on a Solomon instance")
    ls.add_argument("--solomon", required=True, help="Solomon instance file")
    ls.add_argument("--seconds", default="5", help="search time in seconds (default 5)")
    ls.add_argument("--seed", default="0", help="random seed of the search, 0 to 2^32 - 1 (default 0)")
    add_json(ls, '{"distance", "vehicles", "routes": [[customers in order], ...]}')
    ls.set_defaults(func=solve)

    lp = lsub.add_parser("plan", help="a station's day: courier routes on the street map (PyVRP)")
    lp.add_argument("osm", help="OpenStreetMap extract (.osm or .osm.pbf)")
    lp.add_argument("--station", required=True, help="LAT,LON of the station (WGS-84)")
    lp.add_argument("--stops", required=True, help="CSV: " + ",".join(
        ("stop_id", "kind", "lat", "lon", "ready_minute", "due_minute", "service_seconds", "size")))
    lp.add_argument("--couriers", required=True,
                    help="CSV: courier_id,mode,shift_start_minute,shift_end_minute,capacity")
    lp.add_argument("--seconds", default="10", help="search time in seconds (default 10)")
    lp.add_argument("--seed", default="0", help="random seed of the search, 0 to 2^32 - 1 (default 0)")
    add_street_options(lp)
    lp.add_argument("--out", help="CSV of the stops in visiting order (times in seconds from "
                    "midnight, *_s), and those left out with why")
    lp.add_argument("--map", help="write PREFIX.png and PREFIX.html: the routes on the streets")
    add_json(lp, "the routes and the stops left out")
    lp.set_defaults(func=plan)

    la = lsub.add_parser("areas", help="station service areas by road on a street map")
    la.add_argument("osm", help="OpenStreetMap extract (.osm or .osm.pbf)")
    la.add_argument("--stations", required=True, help="CSV id,lat,lon (WGS-84 unless --gcj02)")
    la.add_argument("--mode", default="ebike", choices=PROFILES, help="travel mode (default ebike)")
    la.add_argument("--gcj02", action="store_true", help="the stations are GCJ-02 (Chinese maps)")
    add_street_options(la)
    la.add_argument("--map", help="write PREFIX.png and PREFIX.html")
    add_json(la, "each station's area")
    la.set_defaults(func=areas)

    lx = lsub.add_parser("matrix", help="travel seconds between points on an OSM street map")
    lx.add_argument("osm", help="OpenStreetMap extract (.osm or .osm.pbf)")
    lx.add_argument("--points", required=True, help="CSV with id,lat,lon (WGS-84 unless --gcj02)")
    lx.add_argument("--to", help="CSV of destinations (default: the points themselves)")
    lx.add_argument("--mode", default="car", choices=PROFILES, help="travel mode (default car)")
    lx.add_argument("--gcj02", action="store_true", help="the points are GCJ-02 (Chinese maps)")
    add_street_options(lx)
    lx.add_argument("--out", help="CSV: rows from, columns to, seconds (default: stdout)")
    add_json(lx, "the matrix (seconds; null: unreachable)")
    lx.set_defaults(func=matrix)
