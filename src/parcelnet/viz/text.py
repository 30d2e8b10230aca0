"""Results as text for a terminal (rich tables), for the CLI and the demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.table import Table

from parcelnet.viz.console import console


def _share(v) -> str:
    return "-" if v is None else f"{v:.1%}"


def facility_table(df: pd.DataFrame, title: str) -> None:
    t = Table(title=title)
    cols = [c for c in ("facility_id", "kind", "tier", "name", "admin1", "lat", "lon", "serves")
            if c in df]
    for c in cols:
        t.add_column(c)
    for row in df[cols].itertuples(index=False):
        t.add_row(*map(str, row))
    console().print(t)


def coverage_tables(cov, title: str) -> None:
    """A coverage's share within 24 h by order hour and by province, and why not."""
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
              f"{len(cov.by_hour)} order hours, {len(cov.origins)} origin(s))")


def kpi_table(k) -> None:
    """The headline KPIs of a simulated day (a :class:`parcelnet.sim.kpis.Kpis`)."""
    t = Table(title=f"Simulated day: {k.parcels:,} parcels", show_header=False)
    t.add_column("")
    t.add_column("", justify="right")
    t.add_row("unroutable", f"{k.unroutable:,}")
    for label, v in [("delivered", k.delivered_share), ("on time (by the promise)", k.on_time_share),
                     ("within 24 h of creation", k.within_24h_share),
                     ("within 48 h of creation", k.within_48h_share)]:
        t.add_row(label, _share(v))
    dh = k.delivery_hours
    t.add_row("delivery hours p50 / p90 / p99",
              " / ".join("-" if dh[q] is None else f"{dh[q]:.1f}" for q in ("p50", "p90", "p99")))
    console().print(t)
    if k.late_by_province and k.late_by_province[0]["late"]:
        worst = ", ".join(f"{r['admin1']} {r['late']:,}" for r in k.late_by_province[:5] if r["late"])
        console().print(f"most late parcels: {worst}")
    if k.saturated_lanes:
        console().print("most saturated lanes: " + ", ".join(
            f"{r['lane_id']} ({r['left_behind']:,} left behind)" for r in k.saturated_lanes[:5]))
