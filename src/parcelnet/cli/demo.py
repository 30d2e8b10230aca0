"""``parcelnet demo``: China's network from embedded data, its 24-hour coverage, a few example
promises and cut-offs, the maps, and a simulated normal and peak day. A few minutes at most."""

from __future__ import annotations

import time
from pathlib import Path

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
    con.print(f"[bold]China[/]: {s['stations']:,} delivery stations (one per county-level unit), "
              f"{tiers.get('centre', 0)} sorting centres, "
              f"{tiers.get('hub', 0) + tiers.get('air_hub', 0)} regional hubs "
              f"({tiers.get('air_hub', 0)} with air), {s['lanes']:,} lanes, {s['trips']:,} daily trips")

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
    simulated_days(net, out)
    con.print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s; outputs in {out}/")
    return 0


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
        report = write_report(res, k, out / f"simulation-{day}.html", "CN")
        console().print(f"report: {report}")


def register(sub) -> None:
    d = sub.add_parser("demo", help="build China's network, show coverage, promises, maps and a "
                                    "simulated normal and peak day")
    d.add_argument("--out", default="parcelnet-demo", help="working folder (default ./parcelnet-demo)")
    d.add_argument("--rebuild", action="store_true", help="rebuild the network even if present")
    d.set_defaults(func=demo)
