"""The map of a service design: backbone lanes added, removed, retimed (PNG and a
self-contained HTML page with the summary and the table of changed lanes)."""

from __future__ import annotations

import base64
import html
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.files import atomic_path, write_text
from parcelnet.network.model import Network


_STYLE = {"same": ("#9a9a9a", 0.35, 0.5), "retimed": ("#f28e2b", 0.8, 0.8),
          "more": ("#4e79a7", 0.8, 0.9), "fewer": ("#b07aa1", 0.8, 0.8),
          "removed": ("#d62728", 0.85, 1.0), "added": ("#2ca02c", 0.9, 1.3)}


def _offset(seg: np.ndarray, d: float) -> np.ndarray:
    """Each segment moved ``d`` to the right of its direction of travel (so that A->B and B->A
    are both seen)."""
    v = seg[:, 1] - seg[:, 0]
    n = np.stack([v[:, 1], -v[:, 0]], 1) / np.maximum(np.hypot(v[:, 0], v[:, 1]), 1e-12)[:, None]
    return seg + d * n[:, None, :]


def render_changes(network: Network, changes: pd.DataFrame, title: str, png_path, html_path,
                   summary: dict) -> None:
    """PNG map of the backbone lanes by status (:func:`changes_figure`), and an HTML page with
    the map, the summary and the table of changed lanes."""
    fig = changes_figure(network, changes, title)
    png_path, html_path = Path(png_path), Path(html_path)
    with atomic_path(png_path) as tmp:
        fig.savefig(tmp, format="png", facecolor="white")
    img = base64.b64encode(png_path.read_bytes()).decode()
    shown = changes[changes["status"] != "same"]
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                   for r in shown.itertuples(index=False))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    facts = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                    for k, v in summary.items() if not isinstance(v, (dict, list)))
    facts += "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                     for k, v in summary.items() if isinstance(v, dict))
    tables = "".join(_records_table(k, v) for k, v in summary.items()
                     if isinstance(v, list) and v and isinstance(v[0], dict))
    write_text(html_path, (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>{facts}</ul>"
        f"<img alt='map of the changed lanes' style='max-width:100%' src='data:image/png;base64,{img}'>"
        f"{tables}<h2>Changed lanes ({len(shown)})</h2><table><tr>{head}</tr>{rows}</table>"
        "</body></html>"))


def render_design(d, prefix, summary: dict) -> None:
    """The map of a service design (:class:`parcelnet.plan.service.ServiceDesign`):
    PREFIX.png and PREFIX.html, titled with its coverage and cost before and after."""
    if d.origins:
        cov = "; ".join(f"{r['origin']} {r['share_before']:.0%} -> {r['share_after']:.0%}"
                        for r in d.origins[:8])
        title = f"Service design, orders at {d.order_hour:02d}:00 from {cov}"
    else:
        title = f"Service design: coverage {d.coverage_24h_before:.1%} -> {d.coverage_24h_after:.1%}"
    title += f", cost a day CNY {d.cost_before:,.0f} -> CNY {d.cost_after:,.0f}"
    render_changes(d.network, d.changes, title, f"{prefix}.png", f"{prefix}.html", summary)


def _records_table(name: str, records: list, most: int = 200) -> str:
    """An HTML table of a list of records (nested values as text), the first ``most``."""
    cols = list(records[0])
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(c, '')))}</td>" for c in cols)
                   + "</tr>" for r in records[:most])
    more = f" (the first {most} of {len(records)})" if len(records) > most else f" ({len(records)})"
    return f"<h2>{html.escape(name.replace('_', ' '))}{more}</h2><table><tr>{head}</tr>{rows}</table>"


def changes_figure(network: Network, changes: pd.DataFrame, title: str):
    """The map of the backbone lanes by status: each direction on its own side of the pair,
    the lane ends named where they fit, the US's Alaska and Hawaii as insets."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    from parcelnet.geo import load_outlines
    from parcelnet.viz.geometry import MapProjection
    country = network.country
    outlines = load_outlines(country) if country else []
    fac = network.facilities.set_index("facility_id")
    lat, lon = fac["lat"].astype(float), fac["lon"].astype(float)
    proj = MapProjection(outlines, country, lon.to_numpy(), lat.to_numpy())
    px, py = proj(lon.to_numpy(), lat.to_numpy())
    x, y = pd.Series(px, index=fac.index), pd.Series(py, index=fac.index)
    x0, x1, y0, y1 = proj.box
    fig = Figure(figsize=(14, 10), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.93))
    polys = [r for _, rs in proj.rings(outlines) for r in rs]
    if polys:
        ax.add_collection(PolyCollection(polys, facecolors="#f7f7f4", edgecolors="#b0b0b0",
                                         linewidths=0.4, zorder=1))
    for _, (fx0, fx1, fy0, fy1) in proj.frames:
        ax.add_patch(Rectangle((fx0, fy0), fx1 - fx0, fy1 - fy0, fill=False, ec="#999999", lw=0.7))
    handles = []
    for status in ("same", "fewer", "retimed", "more", "removed", "added"):
        g = changes[changes["status"] == status]
        if g.empty:
            continue
        col, alpha, lw = _STYLE[status]
        seg = np.stack([np.c_[x[g["from"]].to_numpy(), y[g["from"]].to_numpy()],
                        np.c_[x[g["to"]].to_numpy(), y[g["to"]].to_numpy()]], 1)
        ax.add_collection(LineCollection(_offset(seg, 0.0025 * (x1 - x0)), colors=col,
                                         alpha=alpha, linewidths=lw, zorder=2,
                                         linestyles=(0, (4, 2)) if status == "removed" else "solid"))
        handles.append(Line2D([], [], color=col, lw=2, label=f"{status} ({len(g)})"))
    ends = pd.unique(pd.concat([changes["from"], changes["to"]]))
    ax.scatter(x[ends], y[ends], s=18, c="#1f3b73", zorder=3)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    legend = ax.legend(handles=handles, loc="lower right", fontsize=11, title="backbone lanes")
    fig.suptitle(textwrap.fill(title, 110), fontsize=15 if len(title) <= 110 else 12)
    _end_labels(fig, ax, fac.loc[ends], x[ends], y[ends], proj, legend)
    return fig


def _end_labels(fig, ax, ends: pd.DataFrame, x: pd.Series, y: pd.Series, proj, legend) -> None:
    """Name the lane ends (hubs first) where the names fit."""
    from matplotlib.patheffects import withStroke

    from parcelnet.viz.labels import Label, place_labels, short_name
    ax.apply_aspect()
    h = fig.bbox.height
    tier = ends["tier"] if "tier" in ends else ends["kind"]
    rank = tier.map({"air_hub": 0, "hub": 1}).fillna(2).to_numpy()
    pts = ax.transData.transform(np.c_[x.to_numpy(), y.to_numpy()])
    frame = proj.frame(ends["lon"].astype(float).to_numpy(), ends["lat"].astype(float).to_numpy())
    labels = [Label(short_name(ends["name"].iloc[i]), float(pts[i, 0]), float(h - pts[i, 1]), 4.0,
                    "hub", int(frame[i])) for i in np.argsort(rank, kind="stable")]

    def box(b):
        return (b.x0, b.x1, h - b.y1, h - b.y0)

    def data_box(x0, x1, y0, y1):
        (a, b), (c, d) = ax.transData.transform([(x0, y0), (x1, y1)])
        return (a, c, h - d, h - b)

    frames = {-1: box(ax.bbox)} | {i: data_box(*f) for i, (_, f) in enumerate(proj.frames)}
    avoid = [frames[i] for i in range(len(proj.frames))]
    avoid.append(box(legend.get_window_extent(fig.canvas.get_renderer())))
    inv = ax.transData.inverted()
    for lb in place_labels(labels, {"hub": 13.0}, frames, avoid):
        lx, ly = inv.transform((lb.at[0], h - lb.at[1]))
        ax.text(lx, ly, lb.text, fontsize=9.5, color="#1f3b73", weight="bold", va="center",
                ha={"start": "left", "end": "right"}.get(lb.align, "center"), zorder=4,
                path_effects=[withStroke(linewidth=2.6, foreground="white")])

