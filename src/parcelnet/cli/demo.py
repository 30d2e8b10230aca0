"""``parcelnet demo``: China's network from embedded data, its cost, its 24-hour coverage, a
few example promises and cut-offs, the maps, the 20:00 coverage from the main e-commerce
origins before and after a design for 24 hours, and a simulated normal and peak day. A few
minutes at most."""

from __future__ import annotations

import time
from pathlib import Path

from parcelnet.cli.network import cost_line
from parcelnet.errors import ParcelnetError
from parcelnet.network.model import Network
from parcelnet.units import hhmm

#: (label, origin county code, destination county code), both by official 2025 division codes.
EXAMPLES = [
    ("Hangzhou-Beijing", "330106", "110101"),
    ("Shanghai-Lhasa", "310101", "540102"),
    ("Guangzhou-Urumqi", "440106", "650102"),
    ("Chengdu-Shenzhen", "510107", "440304"),
    ("Shanghai-Hangzhou", "310101", "330106"),
    ("Beijing-Harbin", "110101", "230102"),
]
ORDER_MINUTES = (10 * 60, 18 * 60)   # orders created at 10:00 and 18:00 of day 0
#: China's main e-commerce origins (their cities' sorting centres, by 2025 division codes).
MAIN_ORIGINS = {"Hangzhou": "C3301", "Jinhua/Yiwu": "C3307", "Guangzhou": "C4401",
                "Shenzhen": "C4403", "Shanghai": "C3100", "Suzhou": "C3205", "Quanzhou": "C3505",
                "Beijing": "C1100"}
#: The 24-hour design's target: this share of the population within 24 h of a 20:00 order,
#: from each main origin. The default network already reaches 90% from each (docs/network.md),
#: so the demo asks what 95% costs on top of today's trips (add-only: no promise lengthens).
DESIGN_TARGET = 0.95
#: The design's local search in the demo, seconds (the command's default is 60).
DESIGN_IMPROVE_SECONDS = 10.0
#: Forward stock in the demo: warehouses, SKUs, a day's SKU orders, and the stock budget as a
#: multiple of what one central warehouse would hold for them.
STOCK = {"warehouses": 10, "skus": 10_000, "orders": 200_000, "budget": 1.3}
#: Parcels of the normal-day sample; the peak-day sample is 777/545 as many.
SAMPLE = 2_000_000


def city_centre(net: Network, county_code: str) -> str:
    """The sorting centre that serves a county's station."""
    return net.centre_of_station(net.station_of_place(county_code))


def _load_or_build(folder: Path, rebuild: bool) -> Network:
    from parcelnet.network.pnf import load_network, write_pnf
    from parcelnet.plan.build import build_network
    from parcelnet.viz.console import console, timed
    if folder.is_dir() and not rebuild:
        try:
            net = load_network(folder)
            console().print(f"reusing the network in {folder} (--rebuild to build it again)")
            return net
        except ParcelnetError as e:
            console().print(f"rebuilding: the network in {folder} is not usable ({e})")
    with timed("Building China's network") as progress:
        net = build_network("CN", progress=progress)
    write_pnf(net, folder)
    return net


def demo(a) -> int:
    if a.serve:                      # the service, found by entry point: never imported here
        from importlib.metadata import entry_points

        from parcelnet.errors import MissingDependency
        found = [ep for ep in entry_points(group="parcelnet.demo") if ep.name == "serve"]
        if not found:
            raise MissingDependency("parcelnet demo --serve needs the operations service: "
                                    "pip install 'parcelnet[service]'")
        return found[0].load()(a)
    from rich.table import Table

    from parcelnet.cli._common import bars
    from parcelnet.promise import PromiseEngine
    from parcelnet.promise.coverage import coverage
    from parcelnet.viz.console import console
    from parcelnet.viz.coverage_map import render_coverage
    from parcelnet.viz.text import coverage_tables

    out = Path(a.out)
    t0 = time.perf_counter()
    con = console()
    net = _load_or_build(out / "cn-network", a.rebuild)
    s = net.summary()
    tiers = net.facilities["tier"].value_counts() if "tier" in net.facilities else {}
    air = net.facilities.loc[net.facilities.get("tier", "") == "air_hub", "name"]
    con.print(f"[bold]China[/]: {s['stations']:,} delivery stations (every county-level unit and "
              f"township area), {tiers.get('centre', 0) + tiers.get('gateway', 0)} sorting centres "
              f"({tiers.get('gateway', 0)} of them air gateways), {tiers.get('hub', 0)} regional hubs"
              + (f", the {air.iloc[0]}" if len(air) else "")
              + f"; {s['lanes']:,} lanes, {s['trips']:,} daily trips")
    con.print(cost_line(net, None))

    eng = PromiseEngine(net)
    t = Table(title="Example promises (hours from order to delivery)",
              caption="24h by / next day by: latest order time still delivered within 24 h / by the end of the next day")
    t.add_column("route", no_wrap=True)
    t.add_column("from>to", style="dim", no_wrap=True)
    for at in ORDER_MINUTES:
        t.add_column(f"at {hhmm(at)}", justify="right")
    t.add_column("24h by", justify="right")
    t.add_column("next day by", justify="right")
    fmt = lambda m: "none" if m is None else hhmm(m)  # noqa: E731
    for label, a_code, b_code in EXAMPLES:
        o, d = city_centre(net, a_code), net.station_of_place(b_code)
        cut = eng.latest_order(o, d)
        hours = [eng.query(o, d, at).hours for at in ORDER_MINUTES]
        t.add_row(label, f"{o}>{d}", *[f"{h:.1f}" if h is not None else "unreachable" for h in hours],
                  fmt(cut.cutoff_24h), fmt(cut.next_day_cutoff))
    con.print(t)
    con.print(f"journeys: {journeys(net, eng, out / 'journeys-1800.png')}")

    origin = city_centre(net, "330106")
    con.print(f"\n[bold]Coverage from the Hangzhou sorting centre ({origin})[/]")
    cov = coverage(net, [origin])
    png, html = render_coverage(net, cov, out / "coverage-hangzhou", origin)
    coverage_tables(cov, f"Share of population reached within 24 h, from {origin}")
    con.print(f"map: {png}  {html}")
    con.print("\n[bold]Coverage averaged over every hub as origin[/]")
    with bars() as progress:
        cov = coverage(net, progress=progress)
    png, html = render_coverage(net, cov, out / "coverage-all-hubs", None)
    coverage_tables(cov, f"Share of population reached within 24 h, averaged over {len(cov.origins)} hubs")
    con.print(f"map: {png}  {html}")
    design_for_24_hours(net)
    forward_stock(net)
    simulated_days(net, out)
    con.print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s; outputs in {out}/")
    return 0


def journeys(net: Network, eng, path: Path) -> Path:
    """The example orders placed at 18:00 on the clock: where each is sorted, waits and
    travels (parcelnet.viz.journey)."""
    from parcelnet.plan.explain import explain
    from parcelnet.viz.journey import write_journeys
    rows = [(label.replace("-", " > "), explain(net, city_centre(net, a_code), net.station_of_place(b_code),
                                                 ORDER_MINUTES[1], engine=eng).steps)
            for label, a_code, b_code in EXAMPLES]
    return write_journeys(rows, "The example orders, placed at 18:00 at their city's sorting centre", path)


def design_for_24_hours(net: Network, origins: dict[str, str] = MAIN_ORIGINS,
                        target: float = DESIGN_TARGET,
                        improve_seconds: float = DESIGN_IMPROVE_SECONDS) -> None:
    """The 20:00 coverage from ``origins`` (label -> facility id) on the network, and after the
    add-only service design that holds ``target`` from each of them at the least added cost
    found."""
    from rich.table import Table

    from parcelnet.cli._common import bars
    from parcelnet.plan.service import design_service
    from parcelnet.viz.console import console

    console().print(f"\n[bold]A network designed for 24 hours[/]: {target:.0%} of the population "
                    "within 24 h of a 20:00 order from each main origin, keeping today's trips and "
                    "adding the cheapest found")
    with bars() as progress:
        d = design_service(net, origins=list(origins.values()), order_hour=20, target=target,
                           add_only=True, last_share=0, improve_seconds=improve_seconds,
                           progress=progress)
    by = {r["origin"]: r for r in d.origins}
    t = Table(title="Share of the population within 24 h of an order at 20:00")
    for col in ("origin", "centre", "before", "after the design"):
        t.add_column(col, justify="left" if col in ("origin", "centre") else "right")
    for name, o in origins.items():
        t.add_row(name, o, f"{by[o]['share_before']:.1%}", f"{by[o]['share_after']:.1%}")
    console().print(t)
    per = (f" (per parcel CNY {d.cost_per_parcel_before:.3f} -> {d.cost_per_parcel_after:.3f})"
           if d.parcels_per_day else "")
    console().print(f"backbone trips cost CNY {d.cost_before:,.0f} a day before, CNY {d.cost_after:,.0f} "
                    f"after (+CNY {d.cost_after - d.cost_before:,.0f}){per}; {d.trips_after - d.trips_before:,} "
                    f"trips added, no promise lengthens. `parcelnet plan service --origins ...` "
                    "without --add-only gives the least cost for the origins alone (docs/plan.md)")


def forward_stock(net: Network, stock: dict = STOCK, seed: int = 1) -> None:
    """The 24 h share of a day's SKU orders served by their sellers, and from stock placed at
    ``stock["warehouses"]`` warehouses with the day's own orders as the forecast (perfect
    foresight; docs/plan.md)."""
    import numpy as np
    from rich.table import Table

    from parcelnet.demand.skus import generate_orders, generate_skus, units_by_region
    from parcelnet.inventory import fulfil
    from parcelnet.inventory.tables import Orders, Placement, Skus
    from parcelnet.plan.placement import plan_placement
    from parcelnet.plan.warehouses import choose_warehouses
    from parcelnet.viz.console import console

    con = console()
    con.print(f"\n[bold]Stock placed forward[/]: {stock['warehouses']} warehouses, "
              f"{stock['skus']:,} SKUs, a day of {stock['orders']:,} SKU orders")
    sites = choose_warehouses(net, stock["warehouses"])
    wnet = sites.network
    sk = generate_skus(wnet, stock["skus"], seed)
    od = generate_orders(wnet, sk, stock["orders"], "normal", seed)
    skus = Skus.from_frame(sk, wnet)
    orders = Orders.from_frame(od, wnet, skus)
    fc = units_by_region(wnet, od)
    central = int(fc["units_forecast"].sum())
    plan = plan_placement(wnet, skus, fc, int(stock["budget"] * central))
    t = plan.table
    placed = Placement.from_frame(t, wnet, skus)
    none = Placement(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    tab = Table(title="A day's SKU orders promised within 24 h")
    for c in ("served from", "stock (units)", "within 24 h"):
        tab.add_column(c, justify="left" if c == "served from" else "right")
    for label, p, units in (("their sellers", none, 0), ("stock placed forward", placed, plan.units_placed)):
        f = fulfil(wnet, skus, orders, p)
        tab.add_row(label, f"{units:,}", f"{f.share_within_24h:.1%}")
    con.print(tab)
    d = sites.day_trucks
    con.print(f"warehouses at {', '.join(sites.centres)}; stock {stock['budget']:g} x what one central "
              f"warehouse would hold ({central:,} units). Day trucks from the warehouses "
              f"({d['departures']:,} departures, CNY {d['cost_per_day'] / 1e6:,.0f} M a day) deliver "
              "the morning's orders the same day (docs/plan.md)")


def simulated_days(net: Network, out: Path) -> None:
    """A normal and a peak day, each as a sample of SAMPLE (x 777/545) parcels on capacities
    scaled by SAMPLE / the network's normal-day volume."""
    from parcelnet.cli._common import bars
    from parcelnet.demand import PEAK_DAY_MULTIPLE, sample_parcels
    from parcelnet.network.scale import scale_capacity
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.run import simulate
    from parcelnet.viz.console import console
    from parcelnet.viz.sim_report import write_report
    from parcelnet.viz.text import kpi_table

    volume = net.parcels_per_day or 545_000_000
    scaled = scale_capacity(net, SAMPLE / volume)
    for day, n in (("normal", SAMPLE), ("peak", round(SAMPLE * PEAK_DAY_MULTIPLE))):
        console().print(f"\n[bold]A simulated {day} day[/]: {n:,} parcels, a 1/{volume / SAMPLE:.0f} "
                        f"sample of {volume * n / SAMPLE / 1e6:,.0f} M, on capacities scaled to match")
        parcels = sample_parcels(scaled, n, day, seed=1)
        with bars() as progress:
            res = simulate(scaled, parcels, progress=progress)
        k = kpis(res)
        kpi_table(k)
        if day == "normal":
            console().print(f"within 24 h: {k.within_24h_share:.1%}, within 48 h: "
                            f"{k.within_48h_share:.1%}. One overnight cycle delivers the next day, so "
                            "orders placed in the morning or after the last collection (21:30) take "
                            "more than 24 h (docs/network.md)")
        report = write_report(res, k, out / f"simulation-{day}.html", "CN")
        console().print(f"report: {report}")


def register(sub) -> None:
    d = sub.add_parser("demo", help="build China's network, show coverage, promises, maps and a "
                                    "simulated normal and peak day")
    d.add_argument("--out", default="parcelnet-demo", help="working folder (default ./parcelnet-demo)")
    d.add_argument("--rebuild", action="store_true", help="rebuild the network even if present")
    d.add_argument("--serve", action="store_true", help="instead, run the operations service "
                   "with a simulated day replayed into it, and its live map (needs "
                   "pip install 'parcelnet[service]'; docs/service.md)")
    d.add_argument("--port", default="8000", help="with --serve: the port (default 8000)")
    d.add_argument("--parcels", default="3000", help="with --serve: parcels in the replayed day "
                   "(default 3,000)")
    d.set_defaults(func=demo)
