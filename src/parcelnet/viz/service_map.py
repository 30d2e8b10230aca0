"""The map of a service design: backbone lanes added, removed, retimed (PNG and a
self-contained HTML page with the summary and the table of changed lanes)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.files import atomic_path, write_text
from parcelnet.network.model import Network


_STYLE = {"same": ("#9a9a9a", 0.35, 0.5), "retimed": ("#f28e2b", 0.8, 0.8),
          "more": ("#4e79a7", 0.8, 0.9), "fewer": ("#b07aa1", 0.8, 0.8),
          "removed": ("#d62728", 0.85, 1.0), "added": ("#2ca02c", 0.9, 1.3)}


def render_changes(network: Network, changes: pd.DataFrame, title: str, png_path, html_path,
                   summary: dict) -> None:
    """PNG map of the backbone lanes by status, and an HTML page with the map, the summary
    and the table of changed lanes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.collections import LineCollection, PolyCollection
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from parcelnet.geo import load_outlines
    country = network.country
    outlines = load_outlines(country) if country else []
    fac = network.facilities.set_index("facility_id")
    lat, lon = fac["lat"].astype(float), fac["lon"].astype(float)
    k = float(np.cos(np.radians(lat.mean())))
    fig = Figure(figsize=(14, 10), dpi=100)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.01, 0.01, 0.98, 0.93))
    polys = [np.c_[np.asarray(r)[:, 0] * k, np.asarray(r)[:, 1]] for _, rs in outlines for r in rs]
    if polys:
        ax.add_collection(PolyCollection(polys, facecolors="#f7f7f4", edgecolors="#b0b0b0",
                                         linewidths=0.4, zorder=1))
    handles = []
    for status in ("same", "fewer", "retimed", "more", "removed", "added"):
        g = changes[changes["status"] == status]
        if g.empty:
            continue
        col, alpha, lw = _STYLE[status]
        seg = np.stack([np.c_[lon[g["from"]].to_numpy() * k, lat[g["from"]].to_numpy()],
                        np.c_[lon[g["to"]].to_numpy() * k, lat[g["to"]].to_numpy()]], 1)
        ax.add_collection(LineCollection(seg, colors=col, alpha=alpha, linewidths=lw, zorder=2,
                                         linestyles=(0, (4, 2)) if status == "removed" else "solid"))
        handles.append(Line2D([], [], color=col, lw=2, label=f"{status} ({len(g)})"))
    ends = pd.unique(pd.concat([changes["from"], changes["to"]]))
    ax.scatter(lon[ends] * k, lat[ends], s=18, c="#1f3b73", zorder=3)
    xs = np.r_[lon[ends] * k, [p[:, 0].min() for p in polys], [p[:, 0].max() for p in polys]]
    ys = np.r_[lat[ends], [p[:, 1].min() for p in polys], [p[:, 1].max() for p in polys]]
    ax.set_xlim(xs.min() - 0.5, xs.max() + 0.5)
    ax.set_ylim(ys.min() - 0.5, ys.max() + 0.5)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.legend(handles=handles, loc="lower left", fontsize=11, title="backbone lanes")
    fig.suptitle(title, fontsize=15)
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
    write_text(html_path, (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>{facts}</ul>"
        f"<img alt='map of the changed lanes' style='max-width:100%' src='data:image/png;base64,{img}'>"
        f"<h2>Changed lanes ({len(shown)})</h2><table><tr>{head}</tr>{rows}</table></body></html>"))
