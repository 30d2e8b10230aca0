"""Results as text for a terminal (rich tables), for the CLI and the demo."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.table import Table

from parcelnet.units import clock
from parcelnet.viz.console import console


def _share(v) -> str:
    return "-" if v is None else f"{v:.1%}"


def facility_table(df: pd.DataFrame, title: str) -> None:
    t = Table(title=title)
    cols = [c for c in ("facility_id", "kind", "tier", "name", "admin1", "serves") if c in df]
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


def hub_solution_text(inst, sol, allocation: str) -> None:
    """A hub location: the problem, objective and proven bound, hubs and allocation."""
    con = console()
    con.print(f"[bold]{inst.name}[/]: {sol.extra.get('problem', allocation + ' allocation')}, "
              f"{inst.n} nodes, p = {len(sol.hubs)}")
    con.print(f"objective {sol.objective:,.2f} ({sol.status}; lower bound {sol.lower_bound:,.2f}, "
              f"gap {sol.gap:.4%}) in {sol.seconds:.2f} s by {sol.method}")
    con.print(f"hubs: {', '.join(map(str, sol.hubs))}")
    if allocation == "single":
        con.print("allocation: " + ", ".join(map(str, sol.allocation)))


def capacity_plan_text(plan, target: float) -> None:
    """A capacity plan: the day before and after, what it costs (CNY a day), the dearest
    additions and what the taking-back pass saved."""
    con = console()
    verdict = "reached" if plan.reached else "[bold red]not reached[/]"
    con.print(f"on time {plan.before.on_time_share:.1%} -> {plan.after.on_time_share:.1%} "
              f"(target {target:.0%} {verdict}) after {len(plan.rounds) - 1} rounds; "
              f"added cost CNY {plan.cost_per_day:,.0f} a day (vehicles "
              f"CNY {plan.lanes['cost_per_day'].sum():,.0f}, sorters "
              f"CNY {plan.sorters['cost_per_day'].sum():,.0f})")
    con.print(f"{len(plan.lanes)} lanes with more vehicles ({plan.lanes['trips_grown'].sum():,} "
              f"departures), {len(plan.sorters)} faster sorters; the most expensive:")
    for r in plan.lanes.head(5).itertuples():
        con.print(f"  {r.lane_id} ({r.mode}): +{r.vehicles_added:,g} vehicles of {r.parcels_per_vehicle:,} "
                  f"parcels on {r.trips_grown} of {r.trips_per_day} departures, "
                  f"{r.capacity_per_day:,} -> {r.new_capacity_per_day:,} parcels a day, "
                  f"CNY {r.cost_per_day:,.0f} a day")
    for r in plan.sorters.head(5).itertuples():
        con.print(f"  {r.facility_id} {r.name}: {r.sort_per_minute:,} -> {r.new_sort_per_minute:,} "
                  f"parcels a minute, CNY {r.cost_per_day:,.0f} a day")
    rv = plan.reverse or {}
    if rv.get("simulations"):
        con.print(f"taking back: {rv['reverted']} of the grown trips and sorters could go "
                  f"(saving CNY {rv['cost_saved_per_day']:,.0f} a day) in {rv['simulations']} "
                  "trial days; capacity the day never used is taken back exactly")


def service_design_text(d) -> None:
    """A service design: the objective, the hubs' 24 h coverage, the backbone's cost (CNY a
    day) and the lanes changed."""
    con = console()
    con.print(f"objective ({d.weights}) {d.objective_before:.2%} -> {d.objective_after:.2%} "
              f"(upper bound with every candidate {d.objective_upper_bound:.2%}); checked with "
              "the promise engine")
    con.print(f"24 h population coverage from the hubs {d.coverage_24h_before:.2%} -> "
              f"{d.coverage_24h_after:.2%}")
    con.print(f"backbone cost a day CNY {d.cost_before:,.0f} -> CNY {d.cost_after:,.0f}; trips "
              f"{d.trips_before:,} -> {d.trips_after:,} ({d.candidates:,} candidates)")
    con.print("lanes: " + ", ".join(f"{v} {k}" for k, v in d.lanes.items()))


def explanation_text(res) -> None:
    """An order's promise step by step (day and HH:MM), and why it is beyond 24 hours."""
    con = console()
    at = res.created_minute
    if res.promise_minute is None:
        con.print(f"{res.origin} -> {res.destination} at {clock(at)}: no promise")
    else:
        verdict = "within 24 h" if res.within_24h else "[bold red]beyond 24 h[/]"
        con.print(f"{res.origin} -> {res.destination}, ordered {clock(at)}: delivered "
                  f"{clock(res.promise_minute)} ({res.hours} h, {verdict})")
    for s in res.steps:
        if s["step"] == "departure":
            con.print(f"  {s['at']}: ready {clock(s['ready'])}, waits {s['wait']} min, {s['lane']} "
                      f"({s['mode']}) {clock(s['departs'])} -> {s['to']} {clock(s['arrives'])}")
        elif s["step"] == "wave":
            con.print(f"  {s['at']}: ready {clock(s['ready'])}, waits {s['wait']} min for the wave "
                      f"{clock(s['wave_start'])}, delivered {clock(s['delivered'])}")
    sim = res.simulated
    if sim and sim["delivered_minute"] is not None and not any(
            r["reason"] == "capacity limit" for r in res.reasons):
        con.print(f"on a simulated day of {sim['parcels']:,} parcels: delivered "
                  f"{clock(sim['delivered_minute'])}, {sim['late_minutes']} min after the promise"
                  + (f" ({sim['limit']['text']})" if sim["limit"] else ""))
    for r in res.reasons:
        con.print(f"[bold]{r['reason']}[/]: {r['text']}")


def _hours_text(h) -> str:
    return "never" if h is None else f"{h:.1f} h"


def service_report_text(d, out=None, map_prefix=None, most: int = 10) -> None:
    """A service design in full: the summary (:func:`service_design_text`), cost per parcel,
    what the last share of coverage costs, the floor, each named origin (shares, achievable
    maximum, bounds, reasons beyond 24 h, largest places beyond), the provinces and the
    (origin, city) pairs that lose, and the files written."""
    service_design_text(d)
    con = console()
    if d.add_only:
        con.print("add-only: every trip of today's network stays, so no promise from anywhere "
                  "lengthens")
    if d.cost_per_parcel_before is not None:
        con.print(f"cost per parcel CNY {d.cost_per_parcel_before:.3f} -> "
                  f"{d.cost_per_parcel_after:.3f} ({d.parcels_per_day:,} parcels a day)")
    if not d.budget_met:
        con.print(f"[bold red]budget not met[/]: the floor keeps trips costing more than "
                  f"CNY {d.budget:,.0f} a day")
    ls = d.last_share
    if ls:
        con.print(f"the last {ls['target'] - ls['lower_target']:.0%}: CNY "
                  f"{ls['cost_at_lower_target']:,.0f} a day at {ls['lower_target']:.0%}, CNY "
                  f"{ls['cost_at_target']:,.0f} at {ls['target']:.0%} (+CNY "
                  f"{ls['last_share_cost']:,.0f})")
    if d.floor:
        con.print(f"floor: no province's median promise grows by more than "
                  f"{d.floor['max_province_loss_hours']:g} h ({d.floor['provinces_limited']} "
                  f"provinces limited, {d.floor['trips_kept']} trips kept for it)")
    if d.origins:
        t = Table(title=f"Orders at {d.order_hour:02d}:00: population within 24 h"
                        + (" (target per origin)" if d.per_origin else ""))
        for c in ("origin", "before", "after", "target", "max", "free-flow", "physical"):
            t.add_column(c, justify="left" if c == "origin" else "right")
        for r in d.origins:
            short = (r["shortfall"] or 0) > 0
            t.add_row(r["origin"], _share(r["share_before"]), _share(r["share_after"]),
                      ("[red]" if short else "") + _share(r["target"]), _share(r["achievable_max"]),
                      _share(r["free_flow_share"]), _share(1 - r["physically_impossible_share"]))
        con.print(t)
        con.print("max: with every candidate trip; free-flow: with every candidate lane and no "
                  "wait; physical: a direct link at the fastest speed (targets in red are short)")
        for r in d.origins:
            why = ", ".join(f"{k} {v:.1%}" for k, v in r["outside_24h_by_reason"].items() if v > 0)
            big = ", ".join(f"{p['name']} ({p['admin1']}, {p['population']:,}, "
                            f"{_hours_text(p['hours'])}, {p['reason']})"
                            for p in r["largest_beyond_24h"][:5])
            con.print(f"{r['origin']} {r['name']}: beyond 24 h {why or 'none'}"
                      + (f"; largest places beyond 24 h: {big}" if big else ""))
    if d.provinces_losing:
        t = Table(title=f"Provinces that lose ({len(d.provinces_losing)})")
        for c in ("province", "median before", "median after", "24 h before", "24 h after"):
            t.add_column(c, justify="left" if c == "province" else "right")
        for r in d.provinces_losing[:3 * most]:
            t.add_row(r["admin1"], _hours_text(r["median_hours_before"]),
                      _hours_text(r["median_hours_after"]), _share(r["share_24h_before"]),
                      _share(r["share_24h_after"]))
        con.print(t)
    if d.pairs_losing:
        def grown(r):
            a, b = r["median_hours_after"], r["median_hours_before"]
            return float("inf") if a is None and b is not None else (a or 0) - (b or 0)
        worst = sorted(d.pairs_losing, key=lambda r: -grown(r))[:most]
        con.print(f"{len(d.pairs_losing):,} (origin, city) pairs lose; the most: " + ", ".join(
            f"{r['origin']} > {r['admin2']} ({r['admin1']}) {_hours_text(r['median_hours_before'])}"
            f" -> {_hours_text(r['median_hours_after'])}" for r in worst))
    else:
        con.print("no (origin, city) pair loses")
    if out:
        con.print(f"new network -> {out} (changes per lane in service_changes.csv)")
    if map_prefix:
        con.print(f"map -> {map_prefix}.png, {map_prefix}.html")
