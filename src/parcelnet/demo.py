"""``parcelnet demo``: China's network from embedded data, its 24-hour
coverage, a few example promises and cut-offs, and the map. Under 2 minutes."""

from __future__ import annotations

import time
from pathlib import Path

from parcelnet.errors import ParcelnetError
from parcelnet.network.model import Network

#: (label, origin county code, destination county code), both by official 2025 division codes.
EXAMPLES = [
    ("Hangzhou -> Beijing", "330106", "110101"),
    ("Shanghai -> Lhasa", "310101", "540102"),
    ("Guangzhou -> Urumqi", "440106", "650102"),
    ("Chengdu -> Shenzhen", "510107", "440304"),
    ("Shanghai -> Hangzhou", "310101", "330106"),
    ("Beijing -> Harbin", "110101", "230102"),
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
    con.print(f"[bold]China[/]: {s['stations']:,} delivery stations (one per county-level unit), "
              f"{s['hubs']} sorting centres and regional hubs, {s['lanes']:,} lanes, "
              f"{s['trips']:,} daily trips, population {s['population']:,}")

    eng = PromiseEngine(net)
    t = Table(title="Example promises")
    for c in ("route", "from", "to", "ordered", "delivered", "hours", "24h cut-off", "next-day cut-off"):
        t.add_column(c, justify="right" if c in ("hours",) else "left")
    for label, a, b in EXAMPLES:
        o, d = city_centre(net, a), station_of(net, b)
        cut = eng.latest_order(o, d)
        fmt = lambda m: "none" if m is None else clock(m)[-5:]  # noqa: E731
        for i, at in enumerate(ORDER_MINUTES):
            p = eng.query(o, d, at)
            t.add_row(label if i == 0 else "", o if i == 0 else "", d if i == 0 else "",
                      clock(at), clock(p.promise_minute) if p.promise_minute is not None else "unreachable",
                      f"{p.hours:.1f}" if p.hours is not None else "-",
                      fmt(cut["cutoff_24h"]) if i == 0 else "", fmt(cut["next_day_cutoff"]) if i == 0 else "")
    con.print(t)

    origin = city_centre(net, "330106")
    con.print(f"\n[bold]Coverage from the Hangzhou sorting centre ({origin})[/]")
    coverage_report(net, origin, out / "coverage-hangzhou")
    con.print("\n[bold]Coverage averaged over every hub as origin[/]")
    coverage_report(net, None, out / "coverage-all-hubs")
    con.print(f"\ndemo finished in {time.perf_counter() - t0:.1f} s; outputs in {out}/")
    return 0
