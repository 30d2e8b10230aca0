"""The one street snapper: points to the roads of a street graph, with the distance in metres.

Points snap within the graph's largest strongly connected part, so a snapped point can always
get out and back. Two kinds of snap share one projection (local metres around the graph's
mean position) and one notion of distance:

- :meth:`Snapper.to_segments`: the nearest road segment, at the point's foot on it (for
  :class:`parcelnet.geo.routing.LocalRouter`, which routes from partial segments);
- :meth:`Snapper.to_nodes`: the nearest street node (for the O2O city, which routes between
  nodes).

The distance reported (``snap_m``) is the great-circle distance from the point to where it
snapped. One limit, :data:`MAX_SNAP_M`, says how far a point may be from every road and still
be on the map; everything that snaps uses it unless told otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.coords import haversine_km
from parcelnet.geo.streets import StreetGraph

#: Metres from the nearest road beyond which a point is off the street map. Large enough for
#: the middle of a big city block (a gated compound's inner lanes are often not mapped: in the
#: Shanghai extract 1% of points in the city are 330-400 m from a road of their mode), small
#: enough that a point off the map is never routed.
MAX_SNAP_M = 500.0
#: Spacing of the samples along segments that the segment search starts from.
SAMPLE_M = 10.0


@dataclass(frozen=True)
class Snapped:
    """Points snapped to segments."""
    edge: np.ndarray         # directed edge index of the graph
    frac: np.ndarray         # position along it, 0 = start
    snap_m: np.ndarray       # metres from the point to its foot on the road


@dataclass(frozen=True)
class SnappedNodes:
    """Points snapped to nodes."""
    node: np.ndarray         # node index of the graph
    snap_m: np.ndarray       # metres from the point to the node


def check_limit(max_snap_m) -> float:
    """The snapping limit as a float; it must be a positive number of metres."""
    try:
        v = float(max_snap_m)
    except (TypeError, ValueError):
        v = float("nan")
    if not (np.isfinite(v) and v > 0):
        raise ParameterError(f"the snapping limit must be a positive number of metres, got {max_snap_m}")
    return v


def check_coordinates(lat, lon) -> tuple[np.ndarray, np.ndarray]:
    """Degrees as float arrays; a latitude outside [-90, 90], a longitude outside
    [-180, 180] or a value that is not a number is refused."""
    lat, lon = np.atleast_1d(np.asarray(lat, float)), np.atleast_1d(np.asarray(lon, float))
    for v, what, lim in ((lat, "latitude", 90), (lon, "longitude", 180)):
        bad = ~(np.abs(v) <= lim)
        if bad.any():
            raise ParameterError(f"{what} {v[np.flatnonzero(bad)[0]]} is not in [-{lim}, {lim}]")
    return lat, lon


def far(metres: float) -> str:
    """A snap distance as people read it: '740 m', '9,700 km'."""
    return f"{metres:,.0f} m" if metres < 10_000 else f"{metres / 1000:,.0f} km"


def refuse_far(points: pd.DataFrame, snap_m, max_snap_m: float, what: str, id_col: str) -> None:
    """Refuse the first of ``points`` farther than ``max_snap_m`` from the street map, naming
    it (and its file and line when the table was read from a file: ``points.attrs["file"]``)."""
    bad = ~(np.asarray(snap_m, float) <= max_snap_m)
    if not bad.any():
        return
    i = int(np.flatnonzero(bad)[0])
    lat, lon = float(points["lat"].iat[i]), float(points["lon"].iat[i])
    file = points.attrs.get("file")
    raise ValidationError(f"{what} '{points[id_col].iat[i]}' at {lat:.5f},{lon:.5f} is "
                          f"{far(float(snap_m[i]))} from the nearest road of the street map "
                          f"(the limit is {max_snap_m:g} m)", file=file,
                          row=i + 2 if file else None, field="lat" if file else None)


class Snapper:
    """Snaps points to the largest strongly connected part of ``graph``: to segments or to
    nodes. Its search trees are built on first use."""

    def __init__(self, graph: StreetGraph):
        g = graph
        _, lab = connected_components(g.csr, directed=True, connection="strong")
        big = np.bincount(lab).argmax()
        self.graph = g
        #: node indices of the largest strongly connected part
        self.nodes = np.flatnonzero(lab == big)
        #: directed edges inside it
        self.edges = np.flatnonzero((lab[g.u] == big) & (lab[g.v] == big))
        if not len(self.edges):
            raise ParameterError(f"the street graph has no connected roads for {g.mode}")
        self.lat0, self.lon0 = float(np.mean(g.lat)), float(np.mean(g.lon))
        self.kx, self.ky = 111_320.0 * np.cos(np.radians(self.lat0)), 110_540.0
        self._seg = self._node = None

    def xy(self, lat, lon):
        """Local metres east and north of the graph's mean position."""
        return ((np.asarray(lon, float) - self.lon0) * self.kx,
                (np.asarray(lat, float) - self.lat0) * self.ky)

    def _metres(self, lat, lon, x, y) -> np.ndarray:
        return haversine_km(lat, lon, self.lat0 + y / self.ky, self.lon0 + x / self.kx) * 1000.0

    def to_nodes(self, lat, lon) -> SnappedNodes:
        """The nearest node of the connected part to each point."""
        lat, lon = check_coordinates(lat, lon)
        g = self.graph
        if self._node is None:
            self._node = cKDTree(np.c_[self.xy(g.lat[self.nodes], g.lon[self.nodes])])
        _, i = self._node.query(np.c_[self.xy(lat, lon)])
        node = self.nodes[np.asarray(i, np.int64)]
        return SnappedNodes(node, haversine_km(lat, lon, g.lat[node], g.lon[node]) * 1000.0)

    def _segments(self):
        g, e = self.graph, self.edges
        x, y = self.xy(g.lat, g.lon)
        ax, ay, bx, by = x[g.u[e]], y[g.u[e]], x[g.v[e]], y[g.v[e]]
        n = np.maximum(1, np.ceil(g.length_m[e] / SAMPLE_M)).astype(np.int64) + 1
        owner = np.repeat(np.arange(len(e)), n)
        start = np.repeat(np.cumsum(n) - n, n)
        f = (np.arange(n.sum()) - start) / np.repeat(n - 1, n)
        tree = cKDTree(np.c_[ax[owner] + f * (bx[owner] - ax[owner]), ay[owner] + f * (by[owner] - ay[owner])])
        return tree, owner, (ax, ay, bx, by)

    def to_segments(self, lat, lon, k: int = 16) -> Snapped:
        """The nearest segment of the connected part to each point, at the point's foot on it
        (among the segments of the ``k`` nearest samples)."""
        lat, lon = check_coordinates(lat, lon)
        if self._seg is None:
            self._seg = self._segments()
        tree, owner, (AX, AY, BX, BY) = self._seg
        px, py = self.xy(lat, lon)
        k = min(k, tree.n)
        _, idx = tree.query(np.c_[px, py], k=k)
        cand = owner[np.asarray(idx).reshape(len(px), k)]           # (n, k) local edge ids
        ax, ay, bx, by = AX[cand], AY[cand], BX[cand], BY[cand]
        dx, dy = bx - ax, by - ay
        ll = np.maximum(dx * dx + dy * dy, 1e-12)
        f = np.clip(((px[:, None] - ax) * dx + (py[:, None] - ay) * dy) / ll, 0.0, 1.0)
        d = np.hypot(ax + f * dx - px[:, None], ay + f * dy - py[:, None])
        best = d.argmin(axis=1)
        r = np.arange(len(px))
        fb = f[r, best]
        foot_x = ax[r, best] + fb * dx[r, best]
        foot_y = ay[r, best] + fb * dy[r, best]
        return Snapped(self.edges[cand[r, best]], fb, self._metres(lat, lon, foot_x, foot_y))
