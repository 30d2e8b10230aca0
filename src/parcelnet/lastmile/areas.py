"""Station service areas on a street map: every street node goes to the station that reaches
it soonest by road (one multi-source Dijkstra, scipy.sparse.csgraph)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from parcelnet.geo.routing import LocalRouter
from parcelnet.geo.streets import Ways, street_graph


@dataclass(frozen=True)
class Areas:
    station_of_node: np.ndarray   # index into stations (-1: no station reaches the node)
    seconds: np.ndarray           # travel time from that station
    table: pd.DataFrame           # per station: nodes, street_km, max_minutes, mean_minutes
    graph: object


def service_areas(ways: Ways, stations: pd.DataFrame, mode: str = "ebike") -> Areas:
    g = street_graph(ways, mode)
    r = LocalRouter(g)
    snap = r.snap(stations["lat"].to_numpy(float), stations["lon"].to_numpy(float))
    start = g.v[snap.edge]                       # the node the station's road leads to
    d, _, src = dijkstra(g.csr, directed=True, indices=start, min_only=True, return_predecessors=True)
    pos = {int(n): i for i, n in enumerate(start)}
    owner = np.array([pos.get(int(s), -1) if s >= 0 else -1 for s in src])
    sec = np.where(np.isfinite(d), d / 1000.0, np.nan)
    km = np.zeros(len(stations))
    both = (owner[g.u] >= 0) & (owner[g.u] == owner[g.v])
    np.add.at(km, owner[g.u][both], g.length_m[both] / 1000.0)
    rows = []
    for i, sid in enumerate(stations["id"]):
        m = owner == i
        rows.append({"station_id": sid, "nodes": int(m.sum()), "street_km": round(float(km[i]), 2),
                     "max_minutes": round(float(np.nanmax(sec[m]) / 60), 1) if m.any() else None,
                     "mean_minutes": round(float(np.nanmean(sec[m]) / 60), 1) if m.any() else None})
    return Areas(owner, sec, pd.DataFrame(rows), g)
