"""The simulation report: one self-contained HTML file with the KPIs and charts
(delivery-time distribution, hourly throughput of the busiest hubs, a
province map of the on-time share), plus a terminal summary."""

from __future__ import annotations

import base64
import html
import io
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from parcelnet.sim.kpis import station_admin1
from parcelnet.sim.run import SimulationResult


def _png(fig: Figure) -> str:
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def delivery_chart(res: SimulationResult) -> str:
    fig = Figure(figsize=(8, 3.6))
    ax = fig.add_subplot()
    done = res.delivered >= 0
    hours = (res.delivered[done] - res.created[done]) / 60
    prom = (res.promise[res.routable] - res.created[res.routable]) / 60
    top = max(72.0, float(np.percentile(hours, 99.5)) if len(hours) else 72.0)
    bins = np.arange(0, top + 2, 2)
    ax.hist(np.clip(prom, 0, top), bins=bins, alpha=0.45, label="promised", color="#7fa7d9")
    ax.hist(np.clip(hours, 0, top), bins=bins, histtype="step", lw=2, label="delivered", color="#c0392b")
    for x in (24, 48):
        ax.axvline(x, color="grey", ls=":", lw=1)
    ax.set_xlabel("hours from creation")
    ax.set_ylabel("parcels")
    ax.set_title("Delivery-time distribution")
    ax.legend()
    return _png(fig)


def throughput_chart(res: SimulationResult, k: int = 6) -> str:
    raw, fac = res.raw, res.network.facilities
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


def province_chart(res: SimulationResult, shares: pd.Series, country: str | None) -> str | None:
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


def write_report(res: SimulationResult, k: dict, path: str | Path, country: str | None) -> Path:
    """Write the HTML report; returns its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    a1 = station_admin1(res.network)[res.dest]
    on_time = (res.delivered >= 0) & (res.delivered <= res.promise)
    shares = pd.Series(on_time).groupby(a1).mean()
    summary = [{"measure": m, "value": k[key]} for m, key in [
        ("parcels", "parcels"), ("unroutable", "unroutable"), ("delivered", "delivered"),
        ("not delivered within the horizon", "not_delivered"), ("delivered share", "delivered_share"),
        ("on time (delivered by the promise)", "on_time_share"),
        ("delivered within 24 h of creation", "within_24h_share"),
        ("delivered within 48 h of creation", "within_48h_share")]]
    summary += [{"measure": f"delivery hours {q}", "value": v} for q, v in k["delivery_hours"].items()]
    imgs = [delivery_chart(res), throughput_chart(res), province_chart(res, shares, country)]
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
    path.write_text(page, encoding="utf-8")
    return path


def print_kpis(k: dict) -> None:
    from rich.table import Table

    from parcelnet._ui import console
    t = Table(title=f"Simulated day: {k['parcels']:,} parcels", show_header=False)
    t.add_column("")
    t.add_column("", justify="right")
    for label, key in [("unroutable", "unroutable"), ("delivered", "delivered_share"),
                       ("on time (by the promise)", "on_time_share"),
                       ("within 24 h of creation", "within_24h_share"),
                       ("within 48 h of creation", "within_48h_share")]:
        t.add_row(label, _fmt(k[key]))
    dh = k["delivery_hours"]
    t.add_row("delivery hours p50 / p90 / p99",
              " / ".join("-" if dh[q] is None else f"{dh[q]:.1f}" for q in ("p50", "p90", "p99")))
    console().print(t)
    if k["late_by_province"] and k["late_by_province"][0]["late"]:
        worst = ", ".join(f"{r['admin1']} {r['late']:,}" for r in k["late_by_province"][:5] if r["late"])
        console().print(f"most late parcels: {worst}")
    if k["saturated_lanes"]:
        console().print("most saturated lanes: " + ", ".join(
            f"{r['lane_id']} ({r['left_behind']:,} left behind)" for r in k["saturated_lanes"][:5]))
