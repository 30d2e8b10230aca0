"""Maps on a street map: a station's day (each courier's route along the streets, the stops
left out), a rider's O2O day, and station service areas. Legs follow the router's paths (the
local street graph, or a routing provider's ``path``; straight when it has none)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.files import atomic_path, write_text
from parcelnet.geo.routing import leg_path, street_router
from parcelnet.geo.snap import MAX_SNAP_M
from parcelnet.geo.streets import Ways, street_graph


def render_day(ways: Ways, station, stops: pd.DataFrame, couriers: pd.DataFrame, plan,
               title: str, png_path, html_path, routers=None, max_snap_m: float = MAX_SNAP_M) -> None:
    """The day's routes (PNG) and its tables (HTML). ``routers``: a routing provider per
    mode, as :func:`parcelnet.lastmile.station_day.plan_day` takes them."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    k = float(np.cos(np.radians(station[0])))
    fig = Figure(figsize=(11, 11), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.92))
    seg = np.stack([np.c_[ways.lon[ways.u] * k, ways.lat[ways.u]],
                    np.c_[ways.lon[ways.v] * k, ways.lat[ways.v]]], 1)
    ax.add_collection(LineCollection(seg, colors="#c8c8c8", linewidths=0.8, zorder=1))
    st = stops.set_index("stop_id")
    cmap = colormaps["tab10"]
    modes = couriers.set_index("courier_id")["mode"]
    legs = {}
    for n, (cid, g) in enumerate(plan.routes.groupby("courier_id", sort=False)):
        m = modes[cid]
        if m not in legs:
            legs[m] = street_router(street_graph(ways, m), (routers or {}).get(m), max_snap_m)
        pts = [station] + [(float(st.loc[s, "lat"]), float(st.loc[s, "lon"]))
                           for s in g.sort_values("seq")["stop_id"]] + [station]
        xy = np.concatenate([leg_path(legs[m], a, b, c, d) for (a, b), (c, d) in zip(pts, pts[1:])])
        col = cmap(n % 10)
        ax.plot(xy[:, 1] * k, xy[:, 0], color=col, lw=2.2, alpha=0.85, zorder=2,
                label=f"{cid} ({m}): {len(g)} stops, {plan.couriers.set_index('courier_id').loc[cid, 'travel_s'] / 60:.0f} min")
        ax.scatter(g["stop_id"].map(st["lon"]).astype(float) * k, g["stop_id"].map(st["lat"]).astype(float),
                   s=30, color=col, edgecolors="black", linewidths=0.4, zorder=3)
    left = plan.unassigned["stop_id"]
    if len(left):
        ax.scatter(st.loc[left, "lon"].astype(float) * k, st.loc[left, "lat"].astype(float), marker="x",
                   s=80, color="#d62728", zorder=4, label=f"left out ({len(left)})")
    ax.scatter([station[1] * k], [station[0]], marker="*", s=420, color="#ffd400", edgecolors="black",
               zorder=5, label="station")
    ax.set_xlim(ways.lon.min() * k, ways.lon.max() * k)
    ax.set_ylim(ways.lat.min(), ways.lat.max())
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(loc="lower left", fontsize=9, framealpha=0.9)
    fig.suptitle(title, fontsize=14)
    png_path, html_path = Path(png_path), Path(html_path)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", facecolor="white")
    img = base64.b64encode(png_path.read_bytes()).decode()

    def table(df):
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                       for r in df.itertuples(index=False))
        return f"<table><tr>{head}</tr>{body}</table>"
    write_text(html_path, (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><img alt='courier routes' style='max-width:100%' "
        f"src='data:image/png;base64,{img}'><h2>Couriers</h2>{table(plan.couriers)}"
        f"<h2>Stops left out</h2>{table(plan.unassigned)}<h2>Stops in order</h2>{table(plan.routes)}"
        "</body></html>"))


def render_rider_day(city, result, rider: int, stores: pd.DataFrame, title: str, png_path) -> None:
    """One rider's day on the streets: every leg along the fastest path, stores and stops."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    g = city.g
    k = float(np.cos(np.radians(g.lat.mean())))
    fig = Figure(figsize=(10, 10), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.92))
    seg = np.stack([np.c_[g.lon[g.u] * k, g.lat[g.u]], np.c_[g.lon[g.v] * k, g.lat[g.v]]], 1)
    ax.add_collection(LineCollection(seg, colors="#d0d0d0", linewidths=0.7, zorder=1))
    o = result.orders.set_index("order_id")
    trips = result.trips[result.trips["rider"] == rider]
    s_node = city.snap(stores["lat"], stores["lon"])
    legs = []
    prev = None
    for tr in trips.itertuples():
        ids = tr.stops.split(";")
        stops = [int(s_node[tr.store])] + [int(city.snap([o.loc[i, "lat"]], [o.loc[i, "lon"]])[0])
                                          if "lat" in o.columns else -1 for i in ids]
        if prev is not None:
            legs.append((prev, stops[0]))
        legs += list(zip(stops, stops[1:]))
        prev = stops[-1]
    for a, b in legs:
        line = city.polyline(a, b)
        ax.plot(line[:, 1] * k, line[:, 0], color="#1f77b4", lw=1.6, alpha=0.55, zorder=2)
    ax.scatter(stores["lon"].astype(float) * k, stores["lat"].astype(float), marker="s", s=70,
               color="#ff7f0e", edgecolors="black", zorder=4, label="stores")
    mine = o[o["rider"] == rider]
    if "lat" in o.columns and len(mine):
        ax.scatter(mine["lon"].astype(float) * k, mine["lat"].astype(float), s=16, color="#2ca02c",
                   edgecolors="black", linewidths=0.3, zorder=3, label=f"deliveries ({len(mine)})")
    ax.set_xlim(g.lon.min() * k, g.lon.max() * k)
    ax.set_ylim(g.lat.min(), g.lat.max())
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(loc="lower left", fontsize=10)
    fig.suptitle(title, fontsize=13)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", facecolor="white")


def render_areas(areas, stations: pd.DataFrame, title: str, png_path, html_path) -> None:
    """Streets coloured by the station whose service area they are in; PNG and HTML."""
    from matplotlib import colormaps
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection
    from matplotlib.figure import Figure

    g = areas.graph
    k = float(np.cos(np.radians(g.lat.mean())))
    fig = Figure(figsize=(10, 10), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.02, 0.02, 0.96, 0.92))
    cmap = colormaps["tab20"]
    own = areas.station_of_node[g.u]
    cols = np.array([cmap(int(o) % 20) if o >= 0 else (0.8, 0.8, 0.8, 1.0) for o in own])
    seg = np.stack([np.c_[g.lon[g.u] * k, g.lat[g.u]], np.c_[g.lon[g.v] * k, g.lat[g.v]]], 1)
    ax.add_collection(LineCollection(seg, colors=cols, linewidths=1.6, zorder=1))
    for i, r in enumerate(stations.itertuples()):
        ax.scatter([float(r.lon) * k], [float(r.lat)], marker="*", s=300, color=cmap(i % 20),
                   edgecolors="black", zorder=3)
        ax.annotate(str(r.id), (float(r.lon) * k, float(r.lat)), xytext=(6, 6), textcoords="offset points",
                    fontsize=10, weight="bold", zorder=4)
    ax.set_xlim(g.lon.min() * k, g.lon.max() * k)
    ax.set_ylim(g.lat.min(), g.lat.max())
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.suptitle(title, fontsize=13)
    png_path, html_path = Path(png_path), Path(html_path)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", facecolor="white")
    img = base64.b64encode(png_path.read_bytes()).decode()
    t = areas.table
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in t.columns)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                   for r in t.itertuples(index=False))
    write_text(html_path, (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:2px 8px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><img alt='service areas' style='max-width:100%' "
        f"src='data:image/png;base64,{img}'><table><tr>{head}</tr>{body}</table></body></html>"))
