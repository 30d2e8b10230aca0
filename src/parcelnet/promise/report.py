"""The coverage report: compute coverage, print it, and draw the map."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from rich.table import Table

from parcelnet.network.model import HUB, Network
from parcelnet.promise.coverage import Coverage, coverage


def network_country(net: Network) -> str | None:
    try:
        return json.loads(net.meta.get("build.json", "{}")).get("country")
    except json.JSONDecodeError:
        return None


def map_layers(net: Network):
    """Facilities and lanes with lat/lon and a tier (derived when the file has none)."""
    fac = net.facilities.copy()
    fac["lat"], fac["lon"] = net.lat_lon[:, 0], net.lat_lon[:, 1]
    if "tier" not in fac:
        fac["tier"] = fac["kind"]
    tt = net.timetable
    lanes = pd.DataFrame({"from_lat": net.lat_lon[tt.lane_from, 0], "from_lon": net.lat_lon[tt.lane_from, 1],
                          "to_lat": net.lat_lon[tt.lane_to, 0], "to_lon": net.lat_lon[tt.lane_to, 1],
                          "mode": net.lanes["mode"].to_numpy()})
    if "tier" in net.lanes:
        lanes["tier"] = net.lanes["tier"].to_numpy()
    else:
        both_hubs = (tt.kind[tt.lane_from] == HUB) & (tt.kind[tt.lane_to] == HUB)
        lanes["tier"] = np.where(lanes["mode"] == "air", "air", np.where(both_hubs, "linehaul", "other"))
    return fac, lanes


def render_map(net: Network, cov: Coverage, prefix: str | Path, origin: str | None) -> tuple[Path, Path]:
    from parcelnet.geo import load_outlines
    from parcelnet.geo.maps import render_coverage_map
    country = network_country(net)
    outlines = load_outlines(country) if country else []
    fac, lanes = map_layers(net)
    places = pd.DataFrame({"name": net.places["name"], "lat": net.places["lat"].astype(float),
                           "lon": net.places["lon"].astype(float),
                           "population": net.place_population, "admin1": net.places["admin1"],
                           "hours": cov.place_hours})
    org = None
    if origin is not None:
        i = net.facility(origin)
        org = (str(fac["name"].iloc[i]), float(fac["lat"].iloc[i]), float(fac["lon"].iloc[i]))
    who = f"from {org[0]}" if org else f"mean over {len(cov.origins)} hubs"
    title = (f"{country or 'Network'}: {cov.population_share_24h:.1%} of population within 24 h {who} "
             f"(mean over order hours); colour = mean promised hours")
    prefix = Path(prefix)
    png, html = prefix.with_name(prefix.name + ".png"), prefix.with_name(prefix.name + ".html")
    share = dict(zip(cov.admin1, cov.by_admin1.mean(axis=1)))
    render_coverage_map(outlines, fac, lanes, places, org, title, png, html, province_share=share)
    return png, html


def print_coverage(cov: Coverage, title: str) -> None:
    from parcelnet._ui import console
    con = console()
    t = Table(title=title, show_header=False, box=None, padding=(0, 1))
    t.add_column("", style="bold")
    hours = [f"{int(m) // 60:02d}h" if int(m) % 60 == 0 else f"{int(m) // 60}:{int(m) % 60:02d}"
             for m in cov.created_minutes]
    width = 12
    for _ in range(min(width, len(hours))):
        t.add_column("", justify="right")
    for a in range(0, len(hours), width):
        t.add_row("order", *hours[a:a + width], style="dim")
        t.add_row("<=24h", *[f"{x:.0%}" for x in cov.by_hour[a:a + width]])
    con.print(t)
    order = np.argsort(-cov.by_admin1.mean(axis=1))
    p = Table(title="24h population share by province/state (mean over order hours)")
    for c in ("region", "share", "region ", "share "):
        p.add_column(c, justify="right" if c.startswith("share") else "left")
    half = (len(order) + 1) // 2
    for a, b in zip(order[:half], list(order[half:]) + [None]):
        row = [cov.admin1[a], f"{cov.by_admin1[a].mean():.0%}"]
        row += [cov.admin1[b], f"{cov.by_admin1[b].mean():.0%}"] if b is not None else ["", ""]
        p.add_row(*row)
    con.print(p)
    if cov.why_not:
        con.print("Outside 24 h, by reason (parcelnet explain): " + ", ".join(
            f"{k} {v:.1%}" for k, v in cov.why_not.items()))
    con.print(f"[bold]Population within 24h: {cov.population_share_24h:.1%}[/] (mean over "
              f"{len(cov.by_hour)} order hours, {len(cov.origins) if isinstance(cov.origins, list) else cov.origins} origin(s))")


def coverage_report(net: Network, origin: str | None, map_prefix: str | Path,
                    quiet: bool = False) -> tuple[Coverage, tuple[Path, Path]]:
    from parcelnet._ui import console, progress_bar
    origins = [origin] if origin else None
    n = 1 if origin else len(net.hubs)
    with progress_bar("coverage", n, quiet=quiet or n == 1) as advance:
        cov = coverage(net, origins, progress=advance)
    paths = render_map(net, cov, map_prefix, origin)
    if not quiet:
        who = f"from {origin}" if origin else f"averaged over {n} hubs"
        print_coverage(cov, f"Share of population reached within 24 h, {who}")
        console().print(f"map: {paths[0]}  {paths[1]}")
    return cov, paths
