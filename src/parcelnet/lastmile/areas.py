"""Station service areas on a street map: every street node goes to the station that reaches
it soonest by road. On the local router that is one multi-source Dijkstra
(scipy.sparse.csgraph) from the stations' snapped points; with a routing provider, the
provider's matrix from the stations to the street nodes (requested in blocks, see
:mod:`parcelnet.geo.routing`). A station off the street map is refused."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import dijkstra

from parcelnet.geo.routing import RoutingProvider, street_router
from parcelnet.geo.snap import MAX_SNAP_M, refuse_far
from parcelnet.geo.streets import Ways, street_graph


@dataclass(frozen=True)
class Areas:
    station_of_node: np.ndarray   # index into stations (-1: no station reaches the node)
    seconds: np.ndarray           # travel time from that station
    table: pd.DataFrame           # per station: nodes, street_km, max_minutes, mean_minutes
    graph: object


def service_areas(ways: Ways, stations: pd.DataFrame, mode: str = "ebike",
                  router: RoutingProvider | None = None, max_snap_m: float = MAX_SNAP_M) -> Areas:
    """The service area of each station (``id,lat,lon``) by road in ``mode``: by the local
    router, or by ``router``'s travel times."""
    g = street_graph(ways, mode)
    r = street_router(g, router, max_snap_m)
    lat, lon = stations["lat"].to_numpy(float), stations["lon"].to_numpy(float)
    refuse_far(stations, r.snap_m(lat, lon), r.max_snap_m, "station", "id")
    if router is None:
        start = g.v[r.snap(lat, lon).edge]           # the node the station's road leads to
        d, _, src = dijkstra(g.csr, directed=True, indices=start, min_only=True, return_predecessors=True)
        pos = {int(n): i for i, n in enumerate(start)}
        owner = np.array([pos.get(int(s), -1) if s >= 0 else -1 for s in src])
        sec = np.where(np.isfinite(d), d / 1000.0, np.nan)
    else:
        nodes = np.unique(np.r_[g.u, g.v])
        m = r.matrix(lat, lon, g.lat[nodes], g.lon[nodes])
        ok = np.isfinite(m).any(axis=0)
        best = np.argmin(np.where(np.isfinite(m), m, np.inf), axis=0)
        owner = np.full(g.n_nodes, -1)
        sec = np.full(g.n_nodes, np.nan)
        owner[nodes[ok]] = best[ok]
        sec[nodes[ok]] = m[best, np.arange(len(nodes))][ok]
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
