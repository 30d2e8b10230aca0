"""Shortest travel times on a street graph: snapping points to roads, many-to-many matrices,
paths, and the provider interface that lets a routing server (OSRM, Valhalla) stand in.

Points snap to the nearest road segment of the graph's largest strongly connected part (so a
snapped point can always get out and back), at the point's foot on the segment. A trip starts
at the snapped point and runs along the segment in any direction the mode may use (from a
foot at a node, along any road from it); the distance from the point to the road is reported
(``snap_m``), not charged. Partial segments cost their share of the segment's time (rounded to
the millisecond).

A matrix is one compiled multi-source Dijkstra (scipy.sparse.csgraph) over the graph with a
virtual node per point, so partial segments count exactly.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from typing import Protocol

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from parcelnet.errors import ParameterError, RoutingServerError
from parcelnet.geo.streets import StreetGraph

SAMPLE_M = 10.0


@dataclass(frozen=True)
class Snapped:
    edge: np.ndarray         # directed edge index of the graph
    frac: np.ndarray         # position along it, 0 = start
    snap_m: np.ndarray       # distance from the point to the road


class _Index:
    """Segment samples of the largest strongly connected part, in local metres."""

    def __init__(self, g: StreetGraph):
        _, lab = connected_components(g.csr, directed=True, connection="strong")
        big = np.bincount(lab).argmax()
        ok = (lab[g.u] == big) & (lab[g.v] == big)
        self.edges = np.flatnonzero(ok)
        if not len(self.edges):
            raise ParameterError("the street graph has no connected roads for this mode")
        self.lat0 = float(np.mean(g.lat))
        self.kx = 111_320.0 * np.cos(np.radians(self.lat0))
        self.ky = 110_540.0
        self.lon0 = float(np.mean(g.lon))
        x, y = self.xy(g.lat, g.lon)
        self.ax, self.ay = x[g.u[self.edges]], y[g.u[self.edges]]
        self.bx, self.by = x[g.v[self.edges]], y[g.v[self.edges]]
        n = np.maximum(1, np.ceil(g.length_m[self.edges] / SAMPLE_M)).astype(np.int64) + 1
        owner = np.repeat(np.arange(len(self.edges)), n)
        start = np.repeat(np.cumsum(n) - n, n)
        f = (np.arange(n.sum()) - start) / np.repeat(n - 1, n)
        self.owner = owner
        sx = self.ax[owner] + f * (self.bx[owner] - self.ax[owner])
        sy = self.ay[owner] + f * (self.by[owner] - self.ay[owner])
        self.tree = cKDTree(np.c_[sx, sy])

    def xy(self, lat, lon):
        return ((np.asarray(lon, float) - self.lon0) * self.kx,
                (np.asarray(lat, float) - self.lat0) * self.ky)

    def snap(self, lat, lon, k: int = 16) -> Snapped:
        px, py = self.xy(lat, lon)
        k = min(k, self.tree.n)
        _, idx = self.tree.query(np.c_[px, py], k=k)
        idx = idx.reshape(len(px), k)
        cand = self.owner[idx]                                  # (n, k) local edge ids
        ax, ay, bx, by = self.ax[cand], self.ay[cand], self.bx[cand], self.by[cand]
        dx, dy = bx - ax, by - ay
        ll = np.maximum(dx * dx + dy * dy, 1e-12)
        f = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / ll, 0.0, 1.0)
        d = np.hypot(ax + f * dx - px[:, None], ay + f * dy - py[:, None])
        best = d.argmin(axis=1)
        r = np.arange(len(px))
        return Snapped(self.edges[cand[r, best]], f[r, best], d[r, best])


class LocalRouter:
    """Routing on a :class:`StreetGraph` in process. Points farther than ``max_snap_m`` from
    every road of the mode are unreachable (NaN in :meth:`matrix`)."""

    def __init__(self, graph: StreetGraph, max_snap_m: float = 500.0):
        self.graph = graph
        self.max_snap_m = float(max_snap_m)
        self._index = _Index(graph)
        g = graph
        self._rev = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(g.u, g.v))}

    def snap(self, lat, lon) -> Snapped:
        return self._index.snap(np.atleast_1d(lat), np.atleast_1d(lon))

    def _reverse(self, e: np.ndarray) -> np.ndarray:
        g = self.graph
        return np.array([self._rev.get((int(g.v[i]), int(g.u[i])), -1) for i in e], np.int64)

    def matrix_ms(self, src: Snapped, dst: Snapped) -> np.ndarray:
        """Travel time in milliseconds (int64; -1 unreachable) from each source to each target."""
        g = self.graph
        n, S, T = g.n_nodes, len(src.edge), len(dst.edge)
        rows, cols, vals = [g.u], [g.v], [g.ms.astype(float)]

        def add(r, c, w):
            keep = np.asarray(c) >= 0
            rows.append(np.asarray(r)[keep])
            cols.append(np.asarray(c)[keep])
            vals.append(np.rint(np.asarray(w, float)[keep]))   # explicit zeros are edges
        s_id, t_id = n + np.arange(S), n + S + np.arange(T)
        se, sf = src.edge, src.frac
        sr = self._reverse(se)
        add(s_id, g.v[se], (1 - sf) * g.ms[se])                               # ahead on the edge
        add(s_id[sr >= 0], g.v[sr[sr >= 0]], sf[sr >= 0] * g.ms[sr[sr >= 0]])  # back, if two-way
        at = sf <= 0.0                                       # the foot is the segment's start node
        add(s_id[at], g.u[se[at]], np.zeros(at.sum()))
        te, tf = dst.edge, dst.frac
        tr = self._reverse(te)
        add(g.u[te], t_id, tf * g.ms[te])
        add(g.u[tr[tr >= 0]], t_id[tr >= 0], (1 - tf[tr >= 0]) * g.ms[tr[tr >= 0]])
        at = tf >= 1.0                                       # the foot is the segment's end node
        add(g.v[te[at]], t_id[at], np.zeros(at.sum()))
        # source and target on one segment, the target ahead: straight along it
        same = (se[:, None] == te[None, :]) & (sf[:, None] <= tf[None, :])
        i, j = np.nonzero(same)
        add(s_id[i], t_id[j], (tf[j] - sf[i]) * g.ms[se[i]])
        rs = np.where(sr >= 0, sr, -2)
        back = (rs[:, None] == te[None, :]) & ((1 - sf[:, None]) <= tf[None, :])
        i, j = np.nonzero(back)
        add(s_id[i], t_id[j], (tf[j] - (1 - sf[i])) * g.ms[te[j]])
        m = n + S + T
        a = sparse.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                              shape=(m, m))
        a.sum_duplicates()
        d = dijkstra(a, directed=True, indices=s_id)[:, t_id]
        out = np.full(d.shape, -1, np.int64)
        ok = np.isfinite(d)
        out[ok] = np.rint(d[ok]).astype(np.int64)
        return out

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray:
        """Seconds (float; NaN unreachable) between points given in WGS-84 degrees."""
        a, b = self.snap(src_lat, src_lon), self.snap(dst_lat, dst_lon)
        ms = self.matrix_ms(a, b)
        sec = np.where(ms >= 0, ms / 1000.0, np.nan)
        sec[a.snap_m > self.max_snap_m, :] = np.nan
        sec[:, b.snap_m > self.max_snap_m] = np.nan
        return sec

    def path(self, lat_a, lon_a, lat_b, lon_b) -> tuple[float, np.ndarray]:
        """(seconds, (k, 2) lat/lon polyline through the graph's nodes) from a to b."""
        g = self.graph
        a, b = self.snap([lat_a], [lon_a]), self.snap([lat_b], [lon_b])
        sec = self.matrix_ms(a, b)[0, 0]
        if sec < 0:
            return float("nan"), np.zeros((0, 2))
        start, end = int(g.v[a.edge[0]]), int(g.u[b.edge[0]])
        _, pred = dijkstra(g.csr, directed=True, indices=start, return_predecessors=True)
        nodes = [end]
        while nodes[-1] != start and pred[nodes[-1]] >= 0:
            nodes.append(int(pred[nodes[-1]]))
        nodes = nodes[::-1]
        return sec / 1000.0, np.c_[g.lat[nodes], g.lon[nodes]]


class RoutingProvider(Protocol):
    """What parcelnet needs from a router: travel seconds between points (NaN unreachable)."""

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray: ...


def _fetch(url: str, body: dict | None, timeout: float) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except (OSError, ValueError) as e:
        raise RoutingServerError(f"{url.split('?')[0]}: {e}") from None


class OSRMRouter:
    """An OSRM server's table service (``/table/v1/{profile}``): durations in seconds."""

    def __init__(self, base_url: str, profile: str = "driving", timeout: float = 30.0):
        self.base, self.profile, self.timeout = base_url.rstrip("/"), profile, timeout

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray:
        pts = list(zip(np.r_[src_lon, dst_lon], np.r_[src_lat, dst_lat]))
        S = len(np.atleast_1d(src_lat))
        coords = ";".join(f"{x:.6f},{y:.6f}" for x, y in pts)
        src = ";".join(map(str, range(S)))
        dst = ";".join(map(str, range(S, len(pts))))
        r = _fetch(f"{self.base}/table/v1/{self.profile}/{coords}?sources={src}&destinations={dst}"
                   "&annotations=duration", None, self.timeout)
        if r.get("code") != "Ok" or "durations" not in r:
            raise RoutingServerError(f"OSRM answered {r.get('code')}: {r.get('message', 'no durations')}")
        return np.array([[np.nan if v is None else float(v) for v in row] for row in r["durations"]])


class ValhallaRouter:
    """A Valhalla server's ``/sources_to_targets`` service: times in seconds."""

    def __init__(self, base_url: str, costing: str = "auto", timeout: float = 30.0):
        self.base, self.costing, self.timeout = base_url.rstrip("/"), costing, timeout

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray:
        body = {"sources": [{"lat": float(a), "lon": float(b)} for a, b in zip(src_lat, src_lon)],
                "targets": [{"lat": float(a), "lon": float(b)} for a, b in zip(dst_lat, dst_lon)],
                "costing": self.costing}
        r = _fetch(f"{self.base}/sources_to_targets", body, self.timeout)
        if "sources_to_targets" not in r:
            raise RoutingServerError(f"Valhalla answered without sources_to_targets: {r.get('error', r)}")
        return np.array([[np.nan if c.get("time") is None else float(c["time"]) for c in row]
                         for row in r["sources_to_targets"]])
