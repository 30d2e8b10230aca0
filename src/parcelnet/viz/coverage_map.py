"""Coverage maps: a static PNG (matplotlib, Agg) and a self-contained HTML/SVG page.

:func:`render_coverage` draws a :class:`parcelnet.promise.Coverage` of a network;
:func:`render_coverage_map` is the drawing itself, on plain tables.

Both show province outlines (optionally shaded by 24h population share, on a colour scale
fitted to the shares), line-haul and air lanes (light, bundled or none), hubs, places coloured
by promised hours, the chosen origin, and the names of the origin, the hubs and the largest
places where they fit. Alaska and Hawaii (see :data:`parcelnet.viz.geometry.INSETS`) are
drawn as insets at the lower left.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.patheffects import withStroke
from matplotlib.ticker import PercentFormatter

from parcelnet.files import atomic_path, write_text
from parcelnet.viz.coverage_layers import (HOUR_BINS, LABEL_STYLE, SHARE_CMAP, ShareScale, hour_bin,
                                           map_labels, prep_layers)
from parcelnet.viz.coverage_svg import coverage_html
from parcelnet.viz.geometry import MapProjection
from parcelnet.viz.map_lanes import LANE_MODES, lane_strokes, lane_style

__all__ = ["HOUR_BINS", "LANE_MODES", "hour_bin", "map_layers", "render_coverage",
           "render_coverage_map"]

_PX = 100 / 72  # pixels per point at the PNG's 100 dpi


def _render_png(outlines, hubs, pl, lanes, lane_mode, origin, title, proj, scale, n_labels,
                png_path) -> None:
    x0, x1, y0, y1 = proj.box
    w_in, map_w = 16.0, 0.80
    h_in = float(np.clip(w_in * map_w * (y1 - y0) / (x1 - x0) + 0.8, 6, 20))
    fig = Figure(figsize=(w_in, h_in), dpi=100)
    FigureCanvasAgg(fig)  # explicit Agg canvas: no pyplot, no display, no global backend
    ax = fig.add_axes((0.005, 0.01, map_w, 1 - 0.8 / h_in))
    polys, fills = [], []
    for name, rings in proj.rings(outlines):
        polys += rings
        fills += [scale.colour(name)] * len(rings)
    ax.add_collection(PolyCollection(polys, facecolors=fills, edgecolors="#9a9a9a",
                                     linewidths=0.4, zorder=1))
    for name, (fx0, fx1, fy0, fy1) in proj.frames:
        ax.add_patch(Rectangle((fx0, fy0), fx1 - fx0, fy1 - fy0, fill=False, ec="#8a8a8a",
                               lw=0.8, zorder=1.5))
        ax.text(fx0 + 0.01 * (x1 - x0), fy1 - 0.01 * (x1 - x0), f"{name} (own scale)",
                fontsize=8.5, color="#555555", style="italic", va="top", zorder=1.5)
    handles: list = []
    net: list = []
    for st in lane_strokes(lanes, proj, lane_mode):
        col, _, dashed, label = lane_style(lane_mode, st.key)
        ls = (0, (4, 3)) if dashed else "solid"
        ax.add_collection(LineCollection(st.seg, colors=col, alpha=st.alpha, linewidths=st.width,
                                         linestyles=ls, capstyle="round", zorder=2))
        net.append(Line2D([], [], color=col, lw=2.5 if lane_mode == "bundled" else 1.2, ls=ls,
                          label=label))
    bins = pl["_bin"].to_numpy()
    colours = np.array([c for _, c in HOUR_BINS])[bins]
    ax.scatter(pl["_x"], pl["_y"], s=(1.2 + 7.0 * pl["_r"].to_numpy()) ** 2, c=colours,
               edgecolors="#333333", linewidths=0.2, zorder=3)
    for (label, col), n in zip(HOUR_BINS, np.bincount(bins, minlength=len(HOUR_BINS))):
        handles.append(Line2D([], [], ls="", marker="o", ms=8, mfc=col, mec="#333333",
                              label=f"{label} ({n})"))
    handles += net
    for tier, marker, size, col, label in (("hub", "s", 16, "#1f3b73", "hub"),
                                           ("gateway", "^", 24, "#b07cc6", "air gateway"),
                                           ("air_hub", "^", 70, "#7b3294", "air hub")):
        h = hubs[hubs["tier"] == tier]
        if len(h):
            ax.scatter(h["_x"], h["_y"], marker=marker, s=size, c=col, edgecolors="white",
                       linewidths=0.5, zorder=4)
            handles.append(Line2D([], [], ls="", marker=marker, ms=6 + size / 20, mfc=col,
                                  mec="white", label=label))
    if origin is not None:
        ox, oy = proj(origin[2], origin[1])
        ax.scatter([ox], [oy], marker="*", s=520, c="#ffd400", edgecolors="black",
                   linewidths=1.0, zorder=5)
        handles.append(Line2D([], [], ls="", marker="*", ms=16, mfc="#ffd400", mec="black",
                              label=f"origin: {origin[0]}"))
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(map_w + 0.01, 1 - 0.9 / h_in),
               fontsize=10, framealpha=0.9, title="promised delivery time", title_fontsize=10)
    if scale.share is not None:
        cax = fig.add_axes((map_w + 0.02, 0.9 / h_in, 0.15, 0.22 / h_in))
        sm = ScalarMappable(Normalize(scale.vmin, scale.vmax), SHARE_CMAP)
        cb = fig.colorbar(sm, cax=cax, orientation="horizontal", ticks=scale.ticks)
        cb.ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if
                                                         scale.vmax - scale.vmin >= 0.06 else 1))
        cb.set_label("province population\nreached within 24 h\n(scale fitted to the data)",
                     fontsize=9)
        cb.ax.tick_params(labelsize=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.suptitle(title, fontsize=15, y=1 - 0.15 / h_in, va="top")
    _png_labels(fig, ax, hubs, pl, origin, proj, n_labels)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, facecolor="white")


def _png_labels(fig, ax, hubs, pl, origin, proj, n_labels) -> None:
    ax.apply_aspect()
    height = fig.bbox.height
    tr = ax.transData

    def to_px(x, y):
        px, py = tr.transform((x, y))
        return px, height - py

    def box(x0, x1, y0, y1):
        (a, b), (c, d) = to_px(x0, y0), to_px(x1, y1)
        return (min(a, c), max(a, c), min(b, d), max(b, d))

    bx0, bx1, by0, by1 = proj.box
    frames = {-1: box(bx0, bx1, by0, by1)}
    frames.update({i: box(*f) for i, (_, f) in enumerate(proj.frames)})
    avoid = [frames[i] for i in range(len(proj.frames))]
    size = {k: v[1] * _PX for k, v in LABEL_STYLE.items()}
    rad = {"origin": 11.0, "air_hub": 4.5, "gateway": 3.0, "hub": 2.0}

    def radius(kind, r):
        return rad[kind] * _PX if kind in rad else (1.2 + 7.0 * r) / 2 * _PX

    inv = tr.inverted()
    for lb in map_labels(hubs, pl, origin, proj, n_labels, to_px, size, frames, avoid, radius):
        col, fs, weight = LABEL_STYLE[lb.kind]
        x, y = inv.transform((lb.at[0], height - lb.at[1]))
        ax.text(x, y, lb.text, fontsize=fs, color=col, weight=weight, va="center",
                ha={"start": "left", "end": "right"}.get(lb.align, "center"), zorder=6,
                path_effects=[withStroke(linewidth=2.6, foreground="white")])


def render_coverage_map(
    outlines: list[tuple[str, list[np.ndarray]]],
    facilities: pd.DataFrame,
    lanes: pd.DataFrame,
    places: pd.DataFrame,
    origin: tuple[str, float, float] | None,
    title: str,
    png_path: str | os.PathLike,
    html_path: str | os.PathLike,
    province_share: dict[str, float] | None = None,
    *,
    country: str | None = None,
    lane_mode: str = "light",
    labels: int | None = 25,
) -> None:
    """Write the coverage map as a ~1600 px PNG and a self-contained HTML page (inline SVG).

    ``origin`` is ``(name, lat, lon)``; ``places["hours"]`` NaN means unreachable.
    ``country`` picks the insets (US: Alaska and Hawaii); ``lane_mode``: "light", "bundled" or
    "none" (see :mod:`parcelnet.viz.map_lanes`); ``labels``: how many of the most populous
    places to name besides the origin and the hubs (None: no names at all).
    """
    if lane_mode not in LANE_MODES:
        raise ValueError(f"lane_mode must be one of {', '.join(LANE_MODES)}, not {lane_mode!r}")
    lons = np.r_[places["lon"].to_numpy(float), facilities["lon"].to_numpy(float)]
    lats = np.r_[places["lat"].to_numpy(float), facilities["lat"].to_numpy(float)]
    proj = MapProjection(outlines, country, lons, lats)
    hubs, pl = prep_layers(facilities, places, proj)
    scale = ShareScale(province_share)
    png_path, html_path = Path(png_path), Path(html_path)
    _render_png(outlines, hubs, pl, lanes, lane_mode, origin, title, proj, scale, labels, png_path)
    write_text(html_path, coverage_html(title, outlines, hubs, pl, lanes, lane_mode, origin, proj,
                                        scale, labels))


def map_layers(net):
    """Facilities and lanes of a network with lat/lon and a tier (derived when the file has
    none), as the map draws them; lanes carry their trips a day."""
    from parcelnet.network.model import HUB
    fac = net.facilities.copy()
    fac["lat"], fac["lon"] = net.lat_lon[:, 0], net.lat_lon[:, 1]
    if "tier" not in fac:
        fac["tier"] = fac["kind"]
    tt = net.timetable
    lanes = pd.DataFrame({"from_lat": net.lat_lon[tt.lane_from, 0], "from_lon": net.lat_lon[tt.lane_from, 1],
                          "to_lat": net.lat_lon[tt.lane_to, 0], "to_lon": net.lat_lon[tt.lane_to, 1],
                          "mode": net.lanes["mode"].to_numpy(),
                          "trips": np.bincount(tt.trip_lane, minlength=len(tt.lane_from))})
    if "tier" in net.lanes:
        lanes["tier"] = net.lanes["tier"].to_numpy()
    else:
        both_hubs = (tt.kind[tt.lane_from] == HUB) & (tt.kind[tt.lane_to] == HUB)
        lanes["tier"] = np.where(lanes["mode"] == "air", "air", np.where(both_hubs, "linehaul", "other"))
    return fac, lanes


def render_coverage(net, cov, prefix: str | os.PathLike, origin: str | None,
                    lanes: str = "light", labels: int | None = 25) -> tuple[Path, Path]:
    """Write PREFIX.png and PREFIX.html: the coverage ``cov`` of ``net`` from ``origin`` (a
    facility id), or averaged over its origins (None). ``lanes``: "light", "bundled" or
    "none"; ``labels``: as :func:`render_coverage_map`."""
    from parcelnet.geo import load_outlines
    country = net.country
    outlines = load_outlines(country) if country else []
    fac, lane_table = map_layers(net)
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
    png, html_path = prefix.with_name(prefix.name + ".png"), prefix.with_name(prefix.name + ".html")
    share = dict(zip(cov.admin1, cov.by_admin1.mean(axis=1)))
    render_coverage_map(outlines, fac, lane_table, places, org, title, png, html_path,
                        province_share=share, country=country, lane_mode=lanes, labels=labels)
    return png, html_path
