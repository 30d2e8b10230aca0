"""A service design as a network and a report: the new PNF network, what changed per lane,
and a map of added, removed and retimed lanes (PNG and a self-contained HTML page)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.network.model import Network
from parcelnet.plan.service import ServiceModel
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.units import DAY, hhmm


def apply_design(model: ServiceModel, active: np.ndarray) -> Network:
    """The network with exactly the ``active`` backbone trips (new lanes added, lanes left
    without trips removed); everything else unchanged."""
    net, c = model.network, model.cand
    active = np.asarray(active, bool)
    lanes, trips = net.lanes, net.tables["trips.csv"]
    scope_ids = set(lanes["lane_id"][lanes["tier"].isin(model.tiers)])
    run = set(c.lane_id[active])
    keep_lane = ~lanes["lane_id"].isin(scope_ids - run)
    new = c.new_lanes[c.new_lanes["lane_id"].isin(run)]
    lanes = pd.concat([lanes[keep_lane], new.reindex(columns=lanes.columns, fill_value="")],
                      ignore_index=True)
    kept = set(c.trip_id[active & c.existing])
    in_scope = trips["lane_id"].isin(scope_ids)
    trips = trips[~in_scope | trips["trip_id"].isin(kept)]
    ids = set(trips["trip_id"])
    rows = []
    for j in np.flatnonzero(active & ~c.existing):
        tid = f"{c.lane_id[j]}@{c.dep[j] // 60:02d}{c.dep[j] % 60:02d}"
        while tid in ids:
            tid += "+"
        ids.add(tid)
        rows.append({"trip_id": tid, "lane_id": c.lane_id[j], "departure_minute": str(c.dep[j]),
                     "capacity": str(c.capacity[j])})
    trips = pd.concat([trips, pd.DataFrame(rows).reindex(columns=trips.columns, fill_value="")],
                      ignore_index=True)
    return net.replace(lanes=lanes, trips=trips)


def lane_changes(model: ServiceModel, active: np.ndarray) -> pd.DataFrame:
    """One row per backbone lane before or after: departures before and after, daily cost
    before and after, and a status (added, removed, more, fewer, retimed, same)."""
    c = model.cand
    fac = model.network.facility_index
    df = pd.DataFrame({"lane_id": c.lane_id.astype(str), "from": fac[model.gateways[c.frm]],
                       "to": fac[model.gateways[c.to]], "dep": c.dep, "cost": c.cost,
                       "before": c.existing, "after": np.asarray(active, bool)})
    mode = pd.concat([model.network.lanes.set_index("lane_id")["mode"],
                      c.new_lanes.set_index("lane_id")["mode"]])
    rows = []
    for lid, g in df.groupby("lane_id", sort=True):
        b, a = g[g["before"]], g[g["after"]]
        if len(b) == 0 and len(a) == 0:
            continue
        bd, ad = sorted(b["dep"].tolist()), sorted(a["dep"].tolist())
        status = ("added" if not bd else "removed" if not ad else "more" if len(ad) > len(bd)
                  else "fewer" if len(ad) < len(bd) else "retimed" if ad != bd else "same")
        rows.append({"lane_id": lid, "from": g["from"].iat[0], "to": g["to"].iat[0],
                     "mode": mode.get(lid, ""), "status": status,
                     "departures_before": " ".join(hhmm(m) for m in bd),
                     "departures_after": " ".join(hhmm(m) for m in ad),
                     "cost_before": float(b["cost"].sum()), "cost_after": float(a["cost"].sum())})
    return pd.DataFrame(rows, columns=["lane_id", "from", "to", "mode", "status",
                                       "departures_before", "departures_after", "cost_before",
                                       "cost_after"])


def engine_value(network: Network, weights: dict) -> float:
    """The service-design objective computed with the promise engine on a whole network (no
    decomposition): sum over weighted (origin, hour) of the population share of stations
    delivered within 24 h of the hour's first minute. The independent check of a design."""
    eng = PromiseEngine(network)
    pop = network.station_population
    share = pop / max(pop.sum(), 1e-12)
    by_origin: dict[int, list[tuple[int, float]]] = {}
    for (o, h), w in weights.items():
        by_origin.setdefault(o, []).append((h, w))
    total = 0.0
    for o, hw in by_origin.items():
        created = np.array([h for h, _ in hw], np.int64) * 60
        d = eng.delivered_from(o, created)
        within = (d < INF) & (d - created[:, None] <= DAY)
        total += float(np.array([w for _, w in hw]) @ (within @ share))
    return total


# -- the map ----------------------------------------------------------------------------------
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
    from parcelnet.promise.report import network_country
    country = network_country(network)
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
    png_path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png_path, facecolor="white")
    img = base64.b64encode(png_path.read_bytes()).decode()
    shown = changes[changes["status"] != "same"]
    rows = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in r) + "</tr>"
                   for r in shown.itertuples(index=False))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in shown.columns)
    facts = "".join(f"<li><b>{html.escape(str(k))}</b>: {html.escape(str(v))}</li>"
                    for k, v in summary.items() if not isinstance(v, (dict, list)))
    html_path.write_text(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;font-size:13px}"
        "td,th{border:1px solid #ccc;padding:2px 6px}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><ul>{facts}</ul>"
        f"<img alt='map of the changed lanes' style='max-width:100%' src='data:image/png;base64,{img}'>"
        f"<h2>Changed lanes ({len(shown)})</h2><table><tr>{head}</tr>{rows}</table></body></html>",
        encoding="utf-8")
