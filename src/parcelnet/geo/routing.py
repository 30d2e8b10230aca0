"""Shortest travel times on a street graph: many-to-many matrices and paths, and the provider
interface that lets a routing server (OSRM, Valhalla) stand in.

Points snap with :class:`parcelnet.geo.snap.Snapper` to the nearest road segment of the
graph's largest strongly connected part, at the point's foot on the segment. A trip starts
at the snapped point and runs along the segment in any direction the mode may use (from a
foot at a node, along any road from it); the distance from the point to the road is reported
(``snap_m``), not charged. Partial segments cost their share of the segment's time (rounded to
the millisecond). A point farther than the snapping limit (:data:`MAX_SNAP_M` unless told
otherwise) from every road is off the map: unreachable, whoever computes the times.

A matrix is one compiled multi-source Dijkstra (scipy.sparse.csgraph) over the graph with a
virtual node per point, so partial segments count exactly.

A :class:`RoutingProvider` is anything with ``matrix(src_lat, src_lon, dst_lat, dst_lon)``
(seconds, NaN unreachable) and, optionally, ``path(lat_a, lon_a, lat_b, lon_b)`` -> (seconds,
(k, 2) lat/lon polyline) for drawing; a provider without ``path`` draws straight legs.
:func:`street_router` gives the router parcelnet works with: the local one on the street map,
or a provider's times for the points on the map.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Protocol

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from parcelnet.errors import ParameterError, RoutingServerError
from parcelnet.geo.snap import MAX_SNAP_M, Snapped, Snapper, check_coordinates, check_limit
from parcelnet.geo.streets import StreetGraph

__all__ = ["LocalRouter", "MAX_SNAP_M", "MapRouter", "OSRMRouter", "RoutingProvider",
           "RoutingServerError", "Snapped", "ValhallaRouter", "leg_path", "node_path",
           "server_router", "street_router"]


class RoutingProvider(Protocol):
    """What parcelnet needs from a router: travel seconds between points (NaN unreachable).
    Providers may also offer ``path(lat_a, lon_a, lat_b, lon_b) -> (seconds, polyline)``."""

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray: ...


def node_path(csr, a: int, b: int) -> list[int]:
    """Nodes of the fastest path from node ``a`` to node ``b`` of a CSR graph (``[b]`` alone
    when b cannot be reached)."""
    _, pred = dijkstra(csr, directed=True, indices=int(a), return_predecessors=True)
    nodes = [int(b)]
    while nodes[-1] != a and pred[nodes[-1]] >= 0:
        nodes.append(int(pred[nodes[-1]]))
    return nodes[::-1]


def leg_path(router, lat_a, lon_a, lat_b, lon_b) -> np.ndarray:
    """(k, 2) lat/lon of a leg to draw: the router's path when it has one, else straight."""
    path = getattr(router, "path", None)
    poly = path(lat_a, lon_a, lat_b, lon_b)[1] if path is not None else np.zeros((0, 2))
    return np.r_[[[lat_a, lon_a]], np.asarray(poly, float).reshape(-1, 2), [[lat_b, lon_b]]]


class LocalRouter:
    """Routing on a :class:`StreetGraph` in process. Points farther than ``max_snap_m`` from
    every road of the mode are unreachable (NaN in :meth:`matrix`)."""

    def __init__(self, graph: StreetGraph, max_snap_m: float = MAX_SNAP_M):
        self.graph = graph
        self.max_snap_m = check_limit(max_snap_m)
        self.snapper = Snapper(graph)
        self._rev = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(graph.u, graph.v))}

    def snap(self, lat, lon) -> Snapped:
        return self.snapper.to_segments(lat, lon)

    def snap_m(self, lat, lon) -> np.ndarray:
        """Metres from each point to the nearest road of the map."""
        return self.snap(lat, lon).snap_m

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
        ms = self.matrix_ms(a, b)[0, 0]
        if ms < 0 or max(a.snap_m[0], b.snap_m[0]) > self.max_snap_m:
            return float("nan"), np.zeros((0, 2))
        nodes = node_path(g.csr, int(g.v[a.edge[0]]), int(g.u[b.edge[0]]))
        return ms / 1000.0, np.c_[g.lat[nodes], g.lon[nodes]]


class MapRouter:
    """A provider's travel times for the points on a street map: a point farther than
    ``max_snap_m`` from every road of ``graph`` is unreachable and never sent to the provider."""

    def __init__(self, provider: RoutingProvider, graph: StreetGraph, max_snap_m: float = MAX_SNAP_M):
        self.provider, self.graph = provider, graph
        self.max_snap_m = check_limit(max_snap_m)
        self.snapper = Snapper(graph)

    def snap_m(self, lat, lon) -> np.ndarray:
        return self.snapper.to_segments(lat, lon).snap_m

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray:
        src_lat, src_lon = check_coordinates(src_lat, src_lon)
        dst_lat, dst_lon = check_coordinates(dst_lat, dst_lon)
        a = self.snap_m(src_lat, src_lon) <= self.max_snap_m
        b = self.snap_m(dst_lat, dst_lon) <= self.max_snap_m
        out = np.full((len(a), len(b)), np.nan)
        if a.any() and b.any():
            out[np.ix_(a, b)] = self.provider.matrix(src_lat[a], src_lon[a], dst_lat[b], dst_lon[b])
        return out

    def path(self, lat_a, lon_a, lat_b, lon_b) -> tuple[float, np.ndarray]:
        """The provider's path when it has one (else no polyline: the leg is drawn straight)."""
        path = getattr(self.provider, "path", None)
        if path is None or (self.snap_m([lat_a, lat_b], [lon_a, lon_b]) > self.max_snap_m).any():
            return float("nan"), np.zeros((0, 2))
        return path(lat_a, lon_a, lat_b, lon_b)


def street_router(graph: StreetGraph, provider: RoutingProvider | None = None,
                  max_snap_m: float = MAX_SNAP_M):
    """The router on a street map: :class:`LocalRouter` on ``graph``, or ``provider``'s times
    for the points within ``max_snap_m`` of it (:class:`MapRouter`). Both have ``matrix``,
    ``path``, ``snap_m`` and ``max_snap_m``."""
    return LocalRouter(graph, max_snap_m) if provider is None else MapRouter(provider, graph, max_snap_m)


# -- routing servers ----------------------------------------------------------------------
#: Server profile (OSRM) and costing (Valhalla) for each of parcelnet's modes.
OSRM_PROFILES = {"car": "driving", "ebike": "bike", "walk": "foot"}
VALHALLA_COSTINGS = {"car": "auto", "ebike": "bicycle", "walk": "pedestrian"}


def server_router(spec: str, mode: str = "car", profile: str | None = None,
                  timeout: float = 30.0) -> RoutingProvider:
    """A routing server from ``osrm:URL`` or ``valhalla:URL``, with the profile (OSRM) or
    costing (Valhalla) of ``mode`` unless ``profile`` names one."""
    kind, _, url = str(spec).partition(":")
    kind = kind.strip().lower()
    if kind not in ("osrm", "valhalla") or not url.startswith(("http://", "https://")):
        raise ParameterError(f"'{spec}' is not a routing server: write osrm:http://HOST:PORT "
                             "or valhalla:http://HOST:PORT")
    if kind == "osrm":
        return OSRMRouter(url, profile or OSRM_PROFILES.get(mode, "driving"), timeout)
    return ValhallaRouter(url, profile or VALHALLA_COSTINGS.get(mode, "auto"), timeout)


def _fetch(base: str, path: str, body: dict | None, timeout: float) -> dict:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read().decode())
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace").strip()[:200]
        raise RoutingServerError(f"routing server {base} answered HTTP {e.code}: {detail or e.reason}") from None
    except urllib.error.URLError as e:
        raise RoutingServerError(f"routing server {base} did not answer ({e.reason})") from None
    except OSError as e:
        raise RoutingServerError(f"routing server {base} did not answer ({e})") from None
    except ValueError:
        raise RoutingServerError(f"routing server {base} answered something that is not JSON") from None


def _tiled(S: int, D: int, sb: int, db: int, block) -> np.ndarray:
    """An (S, D) matrix filled block by block: ``block(rows, cols)`` for slices of at most
    ``sb`` sources and ``db`` destinations (servers limit the size of one request)."""
    out = np.full((S, D), np.nan)
    if not (S and D):
        return out
    for i in range(0, S, sb):
        for j in range(0, D, db):
            out[i:i + sb, j:j + db] = block(slice(i, i + sb), slice(j, j + db))
    return out


def _none_nan(rows) -> np.ndarray:
    return np.array([[np.nan if v is None else float(v) for v in row] for row in rows], float)


class OSRMRouter:
    """An OSRM server: the table service (``/table/v1/{profile}``) for matrices, at most
    ``max_locations`` points a request (the server's ``--max-table-size``), and the route
    service for paths."""

    def __init__(self, base_url: str, profile: str = "driving", timeout: float = 30.0,
                 max_locations: int = 100):
        self.base, self.profile, self.timeout = base_url.rstrip("/"), profile, timeout
        self.max_locations = max(2, int(max_locations))

    def _table(self, slat, slon, dlat, dlon) -> np.ndarray:
        pts = list(zip(np.r_[slon, dlon], np.r_[slat, dlat]))
        S = len(slat)
        coords = ";".join(f"{x:.6f},{y:.6f}" for x, y in pts)
        src = ";".join(map(str, range(S)))
        dst = ";".join(map(str, range(S, len(pts))))
        r = _fetch(self.base, f"/table/v1/{self.profile}/{coords}?sources={src}&destinations={dst}"
                   "&annotations=duration", None, self.timeout)
        if r.get("code") != "Ok" or "durations" not in r:
            raise RoutingServerError(f"OSRM answered {r.get('code')}: {r.get('message', 'no durations')}")
        return _none_nan(r["durations"])

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray:
        slat, slon = check_coordinates(src_lat, src_lon)
        dlat, dlon = check_coordinates(dst_lat, dst_lon)
        S, D, cap = len(slat), len(dlat), self.max_locations
        sb = max(1, min(S, cap - min(D, cap // 2)))          # sources a request, the rest targets
        return _tiled(S, D, sb, cap - sb, lambda i, j: self._table(slat[i], slon[i], dlat[j], dlon[j]))

    def path(self, lat_a, lon_a, lat_b, lon_b) -> tuple[float, np.ndarray]:
        r = _fetch(self.base, f"/route/v1/{self.profile}/{lon_a:.6f},{lat_a:.6f};{lon_b:.6f},{lat_b:.6f}"
                   "?overview=full&geometries=geojson", None, self.timeout)
        if r.get("code") == "NoRoute":
            return float("nan"), np.zeros((0, 2))
        if r.get("code") != "Ok" or not r.get("routes"):
            raise RoutingServerError(f"OSRM answered {r.get('code')}: {r.get('message', 'no route')}")
        route = r["routes"][0]
        lonlat = np.asarray(route["geometry"]["coordinates"], float).reshape(-1, 2)
        return float(route["duration"]), lonlat[:, ::-1]


def decode_polyline(text: str, precision: int = 6) -> np.ndarray:
    """(k, 2) lat/lon of an encoded polyline (Valhalla's shapes use 6 digits)."""
    out, idx, lat, lon = [], 0, 0, 0
    while idx < len(text):
        vals = []
        for _ in range(2):
            shift = result = 0
            while True:
                b = ord(text[idx]) - 63
                idx += 1
                result |= (b & 0x1F) << shift
                shift += 5
                if b < 0x20:
                    break
            vals.append(~(result >> 1) if result & 1 else result >> 1)
        lat, lon = lat + vals[0], lon + vals[1]
        out.append((lat, lon))
    return np.asarray(out, float).reshape(-1, 2) / 10.0 ** precision


class ValhallaRouter:
    """A Valhalla server: ``/sources_to_targets`` for matrices, at most ``block`` sources and
    ``block`` targets a request, and ``/route`` for paths."""

    def __init__(self, base_url: str, costing: str = "auto", timeout: float = 30.0, block: int = 50):
        self.base, self.costing, self.timeout = base_url.rstrip("/"), costing, timeout
        self.block = max(1, int(block))

    def _table(self, slat, slon, dlat, dlon) -> np.ndarray:
        body = {"sources": [{"lat": float(a), "lon": float(b)} for a, b in zip(slat, slon)],
                "targets": [{"lat": float(a), "lon": float(b)} for a, b in zip(dlat, dlon)],
                "costing": self.costing}
        r = _fetch(self.base, "/sources_to_targets", body, self.timeout)
        if "sources_to_targets" not in r:
            raise RoutingServerError(f"Valhalla answered without sources_to_targets: {r.get('error', r)}")
        return _none_nan([[c.get("time") for c in row] for row in r["sources_to_targets"]])

    def matrix(self, src_lat, src_lon, dst_lat, dst_lon) -> np.ndarray:
        slat, slon = check_coordinates(src_lat, src_lon)
        dlat, dlon = check_coordinates(dst_lat, dst_lon)
        return _tiled(len(slat), len(dlat), self.block, self.block,
                      lambda i, j: self._table(slat[i], slon[i], dlat[j], dlon[j]))

    def path(self, lat_a, lon_a, lat_b, lon_b) -> tuple[float, np.ndarray]:
        body = {"locations": [{"lat": float(lat_a), "lon": float(lon_a)}, {"lat": float(lat_b), "lon": float(lon_b)}],
                "costing": self.costing}
        r = _fetch(self.base, "/route", body, self.timeout)
        trip = r.get("trip")
        if not trip or not trip.get("legs"):
            raise RoutingServerError(f"Valhalla answered without a trip: {r.get('error', r)}")
        shape = np.concatenate([decode_polyline(leg["shape"]) for leg in trip["legs"]])
        return float(trip["summary"]["time"]), shape
