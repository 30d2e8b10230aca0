"""The simulation report: one self-contained HTML file with the KPIs and charts
(delivery-time distribution, hourly throughput of the busiest hubs on a day-and-clock axis,
a province map of the on-time share on a colour scale fitted to the data)."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from parcelnet.files import write_text


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _bins(hist: np.ndarray, width: int, top: int) -> np.ndarray:
    """Minute histogram -> counts per ``width`` minutes up to ``top`` (the last bin takes the
    rest, as clipping the values at the top would)."""
    h = hist[:top].copy()
    if len(hist) > top:
        h = np.concatenate([h, [hist[top:].sum()]])
    h = np.concatenate([h, np.zeros(-len(h) % width, np.int64)])
    return h.reshape(-1, width).sum(axis=1)


def delivery_chart(t: dict) -> str:
    """Promised and delivered hours from creation, 2-hour bins (from a tally's histograms)."""
    from parcelnet.sim.kpis import hist_percentile
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    p995 = hist_percentile(t["age"], 99.5) if t["age"].any() else None
    top_h = max(72.0, p995 or 72.0)
    top = int(np.ceil(top_h / 2)) * 120
    prom, done = _bins(t["promised"], 120, top), _bins(t["age"], 120, top)
    edges = np.arange(len(prom) + 1) * 2.0
    ax.stairs(prom, edges, fill=True, alpha=0.45, label="promised", color="#7fa7d9")
    ax.stairs(done, edges, lw=2, label="delivered", color="#c0392b")
    for x in (24, 48):
        ax.axvline(x, color="grey", ls=":", lw=1)
    ax.set_xlabel("hours from creation")
    ax.set_ylabel("parcels")
    ax.set_title("Delivery-time distribution")
    ax.legend()
    return _png(fig)


def day_clock_ticks(ax, h0: float, h1: float) -> None:
    """Show absolute hours h0..h1 on the x axis as people read them: ticks "day 0\n18:00" every
    3, 6 or 12 hours (by the span), minor ticks every hour."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    from parcelnet.units import clock
    span = max(h1 - h0, 1.0)
    ax.set_xlim(h0, h0 + span)
    step = 3 if span <= 30 else 6 if span <= 60 else 12
    ax.xaxis.set_major_locator(MultipleLocator(step))
    ax.xaxis.set_minor_locator(MultipleLocator(1))
    ax.xaxis.set_major_formatter(FuncFormatter(
        lambda h, _: "\n".join(clock(round(h * 60)).rsplit(" ", 1))))


def throughput_chart(raw, network, k: int = 6) -> str:
    return _png(throughput_figure(raw, network, k))


def throughput_figure(raw, network, k: int = 6) -> Figure:
    """Parcels sorted per hour by the ``k`` busiest sorters, on a day-and-clock time axis."""
    fac = network.facilities
    totals = raw.hourly.sum(axis=1)
    busiest = np.argsort(-totals, kind="stable")[:k]
    fig = Figure(figsize=(8, 3.8))
    ax = fig.add_subplot()
    hours = np.arange(raw.hourly.shape[1]) + raw.hour0
    per_hour = raw.hourly.sum(axis=0)        # crop the straggler tail: up to 99.9% of all sorting
    last = int(np.searchsorted(np.cumsum(per_hour), 0.999 * per_hour.sum())) + 2 if totals.any() else 1
    for i in busiest:
        if totals[i]:
            ax.plot(hours[:last], raw.hourly[i, :last], lw=1.4, label=str(fac["name"].iloc[i]))
    shown = hours[:max(last, 1)]
    day_clock_ticks(ax, float(shown[0]), float(shown[-1]))
    ax.tick_params(axis="x", labelsize=8)
    ax.set_xlabel("time sorted (day and clock time; day 0 is the simulated day)")
    ax.set_ylabel("parcels sorted per hour")
    ax.set_title(f"Hourly throughput of the {k} busiest sorters")
    if totals.any():
        ax.legend(fontsize=7, ncol=2)
    return fig


def province_chart(shares: pd.Series, country: str | None) -> str | None:
    fig = province_figure(shares, country)
    return None if fig is None else _png(fig)


def province_figure(shares: pd.Series, country: str | None) -> Figure | None:
    """The on-time share by destination province on a colour scale fitted to the shares (with
    the US's Alaska and Hawaii as insets); None without outlines."""
    from parcelnet.geo import load_outlines
    outlines = load_outlines(country) if country else []
    if not outlines:
        return None
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    from matplotlib.collections import PolyCollection
    from matplotlib.colors import Normalize
    from matplotlib.patches import Rectangle
    from matplotlib.ticker import PercentFormatter

    from parcelnet.viz.geometry import MapProjection, fit_range
    cmap = colormaps["RdYlGn"]
    vmin, vmax, ticks = fit_range(shares.to_numpy(float))
    norm = Normalize(vmin, vmax)
    proj = MapProjection(outlines, country)
    fig = Figure(figsize=(8, 6))
    ax = fig.add_subplot()
    polys, fills = [], []
    for name, rings in proj.rings(outlines):
        v = shares.get(name)
        polys += rings
        fills += [cmap(norm(v)) if v is not None and np.isfinite(v) else "#dddddd"] * len(rings)
    ax.add_collection(PolyCollection(polys, facecolors=fills, edgecolors="white", linewidths=0.5))
    for _, (x0, x1, y0, y1) in proj.frames:
        ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, ec="#999999", lw=0.7))
    bx0, bx1, by0, by1 = proj.box
    ax.set_xlim(bx0, bx1)
    ax.set_ylim(by0, by1)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("On-time share by destination province")
    sm = ScalarMappable(norm=norm, cmap=cmap)
    cb = fig.colorbar(sm, ax=ax, shrink=0.6, ticks=ticks)
    cb.ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0 if vmax - vmin >= 0.06 else 1))
    cb.set_label(f"on-time share\n(scale fitted to the data: {100 * vmin:.3g}–{100 * vmax:.3g}%)")
    return fig


def _table(rows: list[dict], cols: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in cols)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c)))}</td>" for c in cols) + "</tr>"
                   for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.1%}" if 0 <= v <= 1 else f"{v:,.2f}"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    return "" if v is None else str(v)


def write_report(res, kpis, path: str | Path, country: str | None = None,
                 tallied: tuple[dict, np.ndarray] | None = None) -> Path:
    """Write the HTML report of a simulation result (in memory or streamed) and its
    :class:`~parcelnet.sim.kpis.Kpis`; ``tallied`` = its tally, if made; ``country``: whose
    outlines to draw (default: the network's). Returns the path."""
    from parcelnet.sim.kpis import tally_of
    path = Path(path)
    k = kpis.to_dict()
    country = country or res.network.country
    t, names = tallied if tallied is not None else (
        res.tally() if hasattr(res, "tally") else tally_of(res))
    g = t["groups"]
    has = g[:, 0] > 0
    shares = pd.Series(g[has, 2] / g[has, 0], index=names[has].astype(str))
    summary = [{"measure": m, "value": k[key]} for m, key in [
        ("parcels", "parcels"), ("unroutable", "unroutable"), ("delivered", "delivered"),
        ("not delivered within the horizon", "not_delivered"), ("delivered share", "delivered_share"),
        ("on time (delivered by the promise)", "on_time_share"),
        ("delivered within 24 h of creation", "within_24h_share"),
        ("delivered within 48 h of creation", "within_48h_share")]]
    summary += [{"measure": f"delivery hours {q}", "value": v} for q, v in k["delivery_hours"].items()]
    imgs = [delivery_chart(t), throughput_chart(res.raw, res.network), province_chart(shares, country)]
    charts = "".join(f'<img alt="chart" src="data:image/png;base64,{b}">' for b in imgs if b)
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>parcelnet simulation</title>
<style>body{{font-family:system-ui,sans-serif;margin:24px;max-width:1100px}}
table{{border-collapse:collapse;margin:8px 0 20px}}td,th{{border-bottom:1px solid #ddd;padding:3px 10px;
text-align:left}}img{{max-width:100%;display:block;margin:12px 0}}</style></head><body>
<h1>Simulated day: {k['parcels']:,} parcels</h1>
{_table(summary, ["measure", "value"])}
{charts}
<h2>Late parcels by destination province</h2>
{_table(k['late_by_province'][:40], ["admin1", "parcels", "late", "late_share"])}
<h2>Most saturated lanes (parcels left behind by a full departure)</h2>
{_table(k['saturated_lanes'], ["lane_id", "from", "to", "mode", "left_behind"])}
<h2>Hubs with the largest sorter backlog</h2>
{_table(k['busiest_hubs'], ["facility_id", "name", "peak_backlog", "sorted"])}
<p>Paths {k['seconds'].get('paths', 0):.2f} s, simulation {k['seconds'].get('simulation', 0):.2f} s.</p>
</body></html>"""
    write_text(path, page)
    return path
