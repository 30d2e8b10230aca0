"""Coverage maps: a static PNG (matplotlib, Agg) and a self-contained HTML/SVG page.

:func:`render_coverage` draws a :class:`parcelnet.promise.Coverage` of a network;
:func:`render_coverage_map` is the drawing itself, on plain tables.

Both show province outlines (optionally shaded by 24h population share), line-haul
and air lanes, hubs, places coloured by promised hours and the chosen origin.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.cm import ScalarMappable
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.colors import ListedColormap, Normalize, to_hex
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from parcelnet.files import atomic_path, write_text

__all__ = ["HOUR_BINS", "hour_bin", "map_layers", "render_coverage", "render_coverage_map"]

#: (label, colour) per promised-hours class; the last one is "unreachable".
HOUR_BINS: list[tuple[str, str]] = [
    ("≤ 12 h", "#1a9850"), ("12–24 h", "#91cf60"), ("24–36 h", "#fee08b"),
    ("36–48 h", "#fc8d59"), ("48–72 h", "#d73027"), ("> 72 h", "#7f0000"),
    ("unreachable", "#9e9e9e"),
]
_EDGES = np.array([12.0, 24.0, 36.0, 48.0, 72.0])
_LANE_STYLE = {  # key -> (colour, alpha, width, dashed, legend label)
    "linehaul": ("#444444", 0.22, 0.5, False, "line-haul lane"),
    "rail": ("#8c6d31", 0.35, 0.6, False, "rail line-haul lane"),
    "air": ("#7b3294", 0.45, 0.7, True, "air lane"),
}


def hour_bin(hours: np.ndarray) -> np.ndarray:
    """Index into HOUR_BINS for each promised-hours value (NaN -> unreachable)."""
    h = np.asarray(hours, dtype=float)
    idx = np.searchsorted(_EDGES, h, side="left")
    return np.where(np.isnan(h), len(HOUR_BINS) - 1, idx)


_SHARE_CMAP = ListedColormap(colormaps["Blues"](np.linspace(0.05, 0.45, 256)))  # light


def _share_colour(share: float | None) -> str:
    if share is None or not np.isfinite(share):
        return "#f2f2f0"
    return to_hex(_SHARE_CMAP(float(np.clip(share, 0, 1))))


class _Proj:
    """Equirectangular projection with x = lon * cos(mean lat)."""

    def __init__(self, lons: np.ndarray, lats: np.ndarray) -> None:
        ok = np.isfinite(lons) & np.isfinite(lats)
        lons, lats = lons[ok], lats[ok]
        if lons.size == 0:
            lons, lats = np.array([0.0, 1.0]), np.array([0.0, 1.0])
        self.k = float(np.cos(np.radians((lats.min() + lats.max()) / 2)))
        x0, x1, y0, y1 = lons.min() * self.k, lons.max() * self.k, lats.min(), lats.max()
        m = 0.02 * max(x1 - x0, y1 - y0, 1e-6)
        self.box = (x0 - m, x1 + m, y0 - m, y1 + m)

    def __call__(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(lon, dtype=float) * self.k, np.asarray(lat, dtype=float)


def _lane_segments(lanes: pd.DataFrame, proj: _Proj) -> dict[str, np.ndarray]:
    """Projected polylines per lane style: (n, k, 2) arrays; air lanes are arcs."""
    out: dict[str, np.ndarray] = {}
    if lanes.empty:
        return out
    tier = lanes["tier"].astype(str).to_numpy()
    mode = lanes["mode"].astype(str).to_numpy()
    keys = np.where(tier == "air", "air", np.where(mode == "rail", "rail", "linehaul"))
    keep = np.isin(tier, ["linehaul", "air"])
    for key in ("linehaul", "rail", "air"):
        sel = lanes[keep & (keys == key)]
        if sel.empty:
            continue
        x0, y0 = proj(sel["from_lon"], sel["from_lat"])
        x1, y1 = proj(sel["to_lon"], sel["to_lat"])
        p0, p2 = np.stack([x0, y0], 1), np.stack([x1, y1], 1)
        if key == "air":  # quadratic Bezier bowed to the left of travel direction
            d = p2 - p0
            p1 = (p0 + p2) / 2 + 0.15 * np.stack([-d[:, 1], d[:, 0]], 1)
            t = np.linspace(0, 1, 17)[None, :, None]
            seg = (1 - t) ** 2 * p0[:, None] + 2 * (1 - t) * t * p1[:, None] + t**2 * p2[:, None]
        else:
            seg = np.stack([p0, p2], 1)
        out[key] = seg[np.isfinite(seg).all(axis=(1, 2))]
    return out


def _prep(facilities: pd.DataFrame, places: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hubs to draw and places with bin / radius factor, largest first (small on top)."""
    hubs = facilities[facilities["tier"].isin(["hub", "air_hub"])].dropna(subset=["lat", "lon"])
    pl = places.dropna(subset=["lat", "lon"]).copy()
    pop = pd.to_numeric(pl["population"], errors="coerce") if "population" in pl else pl["lat"] * 0
    pop = pop.fillna(0).clip(lower=0)
    pl["population"] = pop
    pmax = float(pop.max()) if len(pop) and pop.max() > 0 else 1.0
    pl["_r"] = np.sqrt(pop / pmax)  # 0..1; radius grows with sqrt(population)
    pl["_bin"] = hour_bin(pl["hours"].to_numpy(dtype=float))
    return hubs, pl.sort_values("population", ascending=False, kind="stable")


def _render_png(outlines, hubs, pl, lanes, origin, title, proj, share, png_path) -> None:
    x0, x1, y0, y1 = proj.box
    w_in = 16.0
    h_in = float(np.clip(w_in * 0.94 * (y1 - y0) / (x1 - x0) + 0.8, 5, 20))
    fig = Figure(figsize=(w_in, h_in), dpi=100)
    FigureCanvasAgg(fig)  # explicit Agg canvas: no pyplot, no display, no global backend
    ax = fig.add_axes((0.01, 0.01, 0.98, 1 - 0.8 / h_in))
    polys, fills = [], []
    for name, rings in outlines:
        for ring in rings:
            r = np.asarray(ring, dtype=float)
            polys.append(np.stack(proj(r[:, 0], r[:, 1]), 1))
            fills.append(_share_colour(share.get(name)) if share is not None else "#f7f7f4")
    ax.add_collection(PolyCollection(polys, facecolors=fills, edgecolors="#9a9a9a",
                                     linewidths=0.4, zorder=1))
    handles: list = []
    net: list = []
    for key, seg in _lane_segments(lanes, proj).items():
        col, alpha, lw, dashed, label = _LANE_STYLE[key]
        ls = (0, (4, 3)) if dashed else "solid"
        ax.add_collection(LineCollection(seg, colors=col, alpha=alpha, linewidths=lw,
                                         linestyles=ls, zorder=2))
        net.append(Line2D([], [], color=col, lw=1.2, ls=ls, label=label))
    bins = pl["_bin"].to_numpy()
    colours = np.array([c for _, c in HOUR_BINS])[bins]
    px, py = proj(pl["lon"], pl["lat"])
    ax.scatter(px, py, s=(1.2 + 7.0 * pl["_r"].to_numpy()) ** 2, c=colours,
               edgecolors="#333333", linewidths=0.2, zorder=3)
    for (label, col), n in zip(HOUR_BINS, np.bincount(bins, minlength=len(HOUR_BINS))):
        handles.append(Line2D([], [], ls="", marker="o", ms=8, mfc=col, mec="#333333",
                              label=f"{label} ({n})"))
    handles += net
    for tier, marker, size, col, label in (("hub", "s", 16, "#1f3b73", "hub"),
                                           ("air_hub", "^", 70, "#7b3294", "air hub")):
        h = hubs[hubs["tier"] == tier]
        if len(h):
            hx, hy = proj(h["lon"], h["lat"])
            ax.scatter(hx, hy, marker=marker, s=size, c=col, edgecolors="white",
                       linewidths=0.5, zorder=4)
            handles.append(Line2D([], [], ls="", marker=marker, ms=6 + size / 20, mfc=col,
                                  mec="white", label=label))
    if origin is not None:
        ox, oy = proj(origin[2], origin[1])
        ax.scatter([ox], [oy], marker="*", s=520, c="#ffd400", edgecolors="black",
                   linewidths=1.0, zorder=5)
        handles.append(Line2D([], [], ls="", marker="*", ms=16, mfc="#ffd400", mec="black",
                              label=f"origin: {origin[0]}"))
    ax.legend(handles=handles, loc="lower left", fontsize=10, framealpha=0.9,
              title="promised delivery time", title_fontsize=10)
    if share is not None:
        cax = ax.inset_axes((0.74, 0.04, 0.22, 0.018))
        sm = ScalarMappable(Normalize(0, 100), _SHARE_CMAP)
        sm.set_array([])
        cb = fig.colorbar(sm, cax=cax, orientation="horizontal")
        cb.set_label("province population reached within 24 h (%)", fontsize=9)
        cb.ax.tick_params(labelsize=8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    fig.suptitle(title, fontsize=16, y=1 - 0.15 / h_in, va="top")
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", dpi=100, facecolor="white")


def _svg(outlines, hubs, pl, lanes, origin, proj, share, width: float = 1200.0) -> str:
    x0, x1, y0, y1 = proj.box
    s = width / (x1 - x0)
    height = (y1 - y0) * s

    def px(lon, lat) -> tuple[np.ndarray, np.ndarray]:
        x, y = proj(lon, lat)
        return np.round((x - x0) * s, 2), np.round((y1 - y) * s, 2)

    def f(v: float) -> str:
        return f"{v:.2f}".rstrip("0").rstrip(".")

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {f(width)} {f(height)}" '
           f'width="100%" style="max-width:{int(width)}px" role="img">',
           '<rect width="100%" height="100%" fill="#ffffff"/>', '<g class="prov">']
    for name, rings in outlines:
        d = []
        for ring in rings:
            r = np.asarray(ring, dtype=float)
            xs, ys = px(r[:, 0], r[:, 1])
            q = np.stack([np.round(xs * 2), np.round(ys * 2)], 1)  # drop sub-half-pixel steps
            keep = np.r_[True, np.any(np.diff(q, axis=0) != 0, axis=1)]
            xs, ys = xs[keep], ys[keep]
            if xs.size >= 3:
                d.append("M" + "L".join(f"{f(a)} {f(b)}" for a, b in zip(xs, ys)) + "Z")
        sh = share.get(name) if share is not None else None
        tip = html.escape(str(name)) + (f": {100 * sh:.1f}% within 24 h" if sh is not None else "")
        fill = _share_colour(sh) if share is not None else "#f7f7f4"
        out.append(f'<path d="{"".join(d)}" fill="{fill}"><title>{tip}</title></path>')
    out.append("</g>")
    for key, seg in _lane_segments(lanes, proj).items():
        col, alpha, lw, dashed, _ = _LANE_STYLE[key]
        xs, ys = np.round((seg[..., 0] - x0) * s, 2), np.round((y1 - seg[..., 1]) * s, 2)
        dash = ' stroke-dasharray="4 3"' if dashed else ""
        out.append(f'<g fill="none" stroke="{col}" stroke-opacity="{alpha}" '
                   f'stroke-width="{lw * 1.2}"{dash}><path d="')
        out.append("".join("M" + "L".join(f"{f(a)} {f(b)}" for a, b in zip(rx, ry))
                           for rx, ry in zip(xs, ys)))
        out.append('"/></g>')
    out.append('<g class="places" stroke="#333" stroke-width="0.3">')
    cx, cy = px(pl["lon"], pl["lat"])
    cols = [c for _, c in HOUR_BINS]
    for x, y, r, b, name, adm, pop, h in zip(
            cx, cy, 1.0 + 6.0 * pl["_r"].to_numpy(), pl["_bin"].to_numpy(), pl["name"],
            pl.get("admin1", pd.Series("", index=pl.index)), pl["population"], pl["hours"]):
        when = "unreachable" if pd.isna(h) else f"{float(h):.1f} h"
        tip = html.escape(f"{name} ({'' if pd.isna(adm) else adm})\n"
                          f"population {int(pop):,}\npromised: {when}")
        out.append(f'<circle cx="{f(x)}" cy="{f(y)}" r="{f(r)}" fill="{cols[b]}">'
                   f"<title>{tip}</title></circle>")
    out.append("</g><g class=\"hubs\" stroke=\"#fff\" stroke-width=\"0.6\">")
    hx, hy = px(hubs["lon"], hubs["lat"])
    for x, y, t, name in zip(hx, hy, hubs["tier"], hubs["name"]):
        tip = f"<title>{html.escape(str(name))} ({'air hub' if t == 'air_hub' else 'hub'})</title>"
        if t == "air_hub":
            pts = f"{f(x)},{f(y - 4.5)} {f(x - 4)},{f(y + 3)} {f(x + 4)},{f(y + 3)}"
            out.append(f'<polygon points="{pts}" fill="#7b3294">{tip}</polygon>')
        else:
            out.append(f'<rect x="{f(x - 2.5)}" y="{f(y - 2.5)}" width="5" height="5" '
                       f'fill="#1f3b73">{tip}</rect>')
    out.append("</g>")
    if origin is not None:
        ox, oy = px(origin[2], origin[1])
        ang = np.pi / 2 + np.arange(10) * np.pi / 5
        rad = np.where(np.arange(10) % 2 == 0, 11.0, 4.5)
        pts = " ".join(f"{f(ox + r * np.cos(a))},{f(oy - r * np.sin(a))}" for a, r in zip(ang, rad))
        out.append(f'<polygon points="{pts}" fill="#ffd400" stroke="#000" stroke-width="1">'
                   f"<title>origin: {html.escape(str(origin[0]))}</title></polygon>")
    out.append("</svg>")
    return "\n".join(out)


_CSS = """body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}
.places circle:hover,.hubs>*:hover{stroke:#000;stroke-width:1.5}
.prov path{stroke:#9a9a9a;stroke-width:0.5}.prov path:hover{stroke:#333;stroke-width:1}
.legend span{display:inline-block;margin-right:1.2em}.legend i{display:inline-block;width:12px;
height:12px;border-radius:50%;border:1px solid #333;margin-right:4px;vertical-align:middle}
table{border-collapse:collapse;margin-top:1em}td,th{padding:3px 10px;border-bottom:1px solid #ddd;
text-align:left}th{cursor:pointer;background:#f4f4f4}td.n{text-align:right}
.bar{background:#4a90c2;height:10px}"""
_JS = """document.querySelectorAll('th').forEach((th,i)=>th.onclick=()=>{const tb=th.closest(
'table').tBodies[0],rows=[...tb.rows],num=th.dataset.num,asc=th.dataset.asc!=='1';
th.dataset.asc=asc?'1':'0';rows.sort((a,b)=>{const x=a.cells[i].dataset.v,y=b.cells[i].dataset.v;
const c=num?x-y:x.localeCompare(y);return asc?c:-c});rows.forEach(r=>tb.appendChild(r))});"""


def _html(title: str, svg: str, pl: pd.DataFrame, share: dict[str, float] | None) -> str:
    counts = np.bincount(pl["_bin"].to_numpy(), minlength=len(HOUR_BINS))
    legend = "".join(f'<span><i style="background:{c}"></i>{html.escape(lab)} ({n})</span>'
                     for (lab, c), n in zip(HOUR_BINS, counts))
    legend += ('<span>■ hub</span><span style="color:#7b3294">▲ air hub</span>'
               '<span style="color:#b8860b">★ origin</span>'
               '<span style="color:#7b3294">- - air lane</span><span>— line-haul lane</span>')
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>",
             f"<h1>{html.escape(title)}</h1>", f'<div class="legend">{legend}</div>', svg]
    if share is not None:
        rows = []
        for name, v in sorted(share.items(), key=lambda kv: (-float(kv[1]), str(kv[0]))):
            pct = 100 * float(v)
            rows.append(f'<tr><td data-v="{html.escape(str(name))}">{html.escape(str(name))}</td>'
                        f'<td class="n" data-v="{pct:.3f}">{pct:.1f}%</td><td data-v="{pct:.3f}">'
                        f'<div class="bar" style="width:{1.5 * pct:.0f}px"></div></td></tr>')
        parts += ["<h2>Population reached within 24 h, by province</h2>",
                  '<table class="provinces"><thead><tr><th>Province</th>'
                  '<th data-num="1">24 h share</th><th data-num="1"></th></tr></thead><tbody>',
                  *rows, "</tbody></table>", f"<script>{_JS}</script>"]
    parts.append("</body></html>")
    return "\n".join(parts)


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
) -> None:
    """Write the coverage map as a ~1600 px PNG and a self-contained HTML page (inline SVG).

    ``origin`` is ``(name, lat, lon)``; ``places["hours"]`` NaN means unreachable.
    """
    rings = [np.asarray(r, dtype=float) for _, rs in outlines for r in rs]
    if rings:
        allpts = np.concatenate([r.reshape(-1, 2) for r in rings])
        lons, lats = allpts[:, 0], allpts[:, 1]
    else:
        lons = np.r_[places["lon"].to_numpy(float), facilities["lon"].to_numpy(float)]
        lats = np.r_[places["lat"].to_numpy(float), facilities["lat"].to_numpy(float)]
    proj = _Proj(lons, lats)
    hubs, pl = _prep(facilities, places)
    png_path, html_path = Path(png_path), Path(html_path)
    _render_png(outlines, hubs, pl, lanes, origin, title, proj, province_share, png_path)
    svg = _svg(outlines, hubs, pl, lanes, origin, proj, province_share)
    write_text(html_path, _html(title, svg, pl, province_share))


def map_layers(net):
    """Facilities and lanes of a network with lat/lon and a tier (derived when the file has
    none), as the map draws them."""
    from parcelnet.network.model import HUB
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


def render_coverage(net, cov, prefix: str | os.PathLike, origin: str | None) -> tuple[Path, Path]:
    """Write PREFIX.png and PREFIX.html: the coverage ``cov`` of ``net`` from ``origin`` (a
    facility id), or averaged over its origins (None)."""
    from parcelnet.geo import load_outlines
    country = net.country
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
    png, html_path = prefix.with_name(prefix.name + ".png"), prefix.with_name(prefix.name + ".html")
    share = dict(zip(cov.admin1, cov.by_admin1.mean(axis=1)))
    render_coverage_map(outlines, fac, lanes, places, org, title, png, html_path, province_share=share)
    return png, html_path
