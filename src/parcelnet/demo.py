"""``parcelnet demo``: China's network from embedded data, its 24-hour
coverage, a few example promises and cut-offs, and the map. Under 2 minutes."""

from __future__ import annotations

import time
from pathlib import Path

from parcelnet.errors import ParcelnetError
from parcelnet.network.model import Network

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


def city_centre(net: Network, county_code: str) -> str:
    """The sorting centre that serves a county's station (its first-mile lane's end)."""
    station = station_of(net, county_code)
    lanes = net.lanes
    hit = lanes.loc[lanes["from_facility"] == station, "to_facility"]
    if hit.empty:
        raise ParcelnetError(f"station {station} has no outgoing lane")
    return str(hit.iloc[0])


def station_of(net: Network, county_code: str) -> str:
    pl = net.places
    hit = pl.loc[pl["place_id"] == county_code, "station_id"]
    if hit.empty:
        raise ParcelnetError(f"no place with id {county_code} in this network")
    return str(hit.iloc[0])


def _load_or_build(folder: Path, rebuild: bool) -> Network:
    from parcelnet._ui import console, steps
    from parcelnet.network.build import build_network
    from parcelnet.network.pnf import load_network, write_pnf
    if folder.is_dir() and not rebuild:
        try:
            net = load_network(folder)
            console().print(f"reusing the network in {folder} (--rebuild to build it again)")
            return net
        except ParcelnetError as e:
            console().print(f"rebuilding: the network in {folder} is not usable ({e})")
    with steps("Building China's network") as step:
        net = build_network("CN", progress=step)
    write_pnf(net, folder)
    return net


def run_demo(out: Path, rebuild: bool = False) -> int:
    from rich.table import Table

    from parcelnet._ui import clock, console
    from parcelnet.promise import PromiseEngine
    from parcelnet.promise.report import coverage_report

    t0 = time.perf_counter()
    con = console()
    net = _load_or_build(out / "cn-network", rebuild)
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
        t.add_column(f"at {clock(at)[-5:]}", justify="right")
    t.add_column("24h by", justify="right")
    t.add_column("next day by", justify="right")
    fmt = lambda m: "none" if m is None else clock(m)[-5:]  # noqa: E731
    for label, a, b in EXAMPLES:
        o, d = city_centre(net, a), station_of(net, b)
        cut = eng.latest_order(o, d)
        hours = [eng.query(o, d, at).hours for at in ORDER_MINUTES]
        t.add_row(label, f"{o}>{d}", *[f"{h:.1f}" if h is not None else "unreachable" for h in hours],
                  fmt(cut["cutoff_24h"]), fmt(cut["next_day_cutoff"]))
    con.print(t)

    origin = city_centre(net, "330106")
    con.print(f"\n[bold]Coverage from the Hangzhou sorting centre ({origin})[/]")
    coverage_report(net, origin, out / "coverage-hangzhou")
    con.print("\n[bold]Coverage averaged over every hub as origin[/]")
    coverage_report(net, None, out / "coverage-all-hubs")
    simulated_days(net, out)
    con.print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s; outputs in {out}/")
    return 0


SAMPLE = 2_000_000   # parcels of the normal-day sample; the peak-day sample is 777/545 as many


def simulated_days(net: Network, out: Path) -> None:
    """A normal and a peak day, each as a sample of SAMPLE (x 777/545) parcels on
    capacities scaled by SAMPLE / the network's normal-day volume."""
    import json

    from parcelnet._ui import console, staged_progress
    from parcelnet.demand import PEAK_DAY_MULTIPLE, generate_parcels
    from parcelnet.network.scale import scale_capacity
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.report import print_kpis, write_report
    from parcelnet.sim.run import simulate

    volume = json.loads(net.meta.get("build.json", "{}")).get("parcels_per_day", 545_000_000)
    scaled = scale_capacity(net, SAMPLE / volume)
    idx = scaled.facility_index
    for day, n in (("normal", SAMPLE), ("peak", round(SAMPLE * PEAK_DAY_MULTIPLE))):
        console().print(f"\n[bold]A simulated {day} day[/]: {n:,} parcels, a 1/{volume / SAMPLE:.0f} "
                        f"sample of {volume * n / SAMPLE / 1e6:,.0f} M, on capacities scaled to match")
        df = generate_parcels(scaled, n, day, seed=1)
        with staged_progress() as progress:
            res = simulate(scaled, df["parcel_id"].to_numpy(), df["created_minute"].to_numpy(),
                           idx.get_indexer(df["origin_facility"]), idx.get_indexer(df["dest_station"]),
                           progress=progress)
        k = kpis(res)
        print_kpis(k)
        report = write_report(res, k, out / f"simulation-{day}.html", "CN")
        console().print(f"report: {report}")
