"""The simulation report: one self-contained HTML file with the KPIs and charts
(delivery-time distribution, hourly throughput of the busiest hubs, a
province map of the on-time share)."""

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


def throughput_chart(raw, network, k: int = 6) -> str:
    fac = network.facilities
    totals = raw.hourly.sum(axis=1)
    busiest = np.argsort(-totals, kind="stable")[:k]
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    hours = np.arange(raw.hourly.shape[1]) + raw.hour0
    per_hour = raw.hourly.sum(axis=0)        # crop the straggler tail: up to 99.9% of all sorting
    last = int(np.searchsorted(np.cumsum(per_hour), 0.999 * per_hour.sum())) + 2 if totals.any() else 1
    for i in busiest:
        if totals[i]:
            ax.plot(hours[:last], raw.hourly[i, :last], lw=1.4, label=str(fac["name"].iloc[i]))
    ax.set_xlabel("hour (absolute; 24 = midnight after day 0)")
    ax.set_ylabel("parcels sorted per hour")
    ax.set_title(f"Hourly throughput of the {k} busiest sorters")
    if totals.any():
        ax.legend(fontsize=7, ncol=2)
    return _png(fig)


def province_chart(shares: pd.Series, country: str | None) -> str | None:
    from parcelnet.geo import load_outlines
    outlines = load_outlines(country) if country else []
    if not outlines:
        return None
    from matplotlib import colormaps
    from matplotlib.cm import ScalarMappable
    cmap = colormaps["RdYlGn"]
    fig = Figure(figsize=(8, 6))
    ax = fig.add_subplot()
    lat = np.concatenate([r[:, 1] for _, rings in outlines for r in rings])
    k = np.cos(np.radians(lat.mean()))
    for name, rings in outlines:
        v = shares.get(name)
        for r in rings:
            ax.fill(r[:, 0] * k, r[:, 1], color=cmap(v) if v is not None else "#dddddd",
                    ec="white", lw=0.5)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.set_title("On-time share by destination province")
    sm = ScalarMappable(cmap=cmap)
    sm.set_clim(0, 1)
    fig.colorbar(sm, ax=ax, shrink=0.6, label="on-time share")
    return _png(fig)


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
