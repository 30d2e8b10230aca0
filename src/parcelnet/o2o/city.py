"""The O2O city: travel between street nodes, row by row on demand.

Points (stores, customers, lockers) snap to the nearest node of the e-bike graph's largest
strongly connected part (:meth:`parcelnet.geo.snap.Snapper.to_nodes`); a point farther than
``max_snap_m`` from every node is off the map. Travel seconds between nodes come from the
street graph (compiled Dijkstra, each edge's time rounded up to the second, rows cached) or,
with ``router``, from a routing provider's matrix between the day's points: every node a
point snapped to (rows to the other nodes are :data:`parcelnet.o2o.dispatch.BIG`). Distances are always the street
graph's shortest distances.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import dijkstra

from parcelnet.geo.routing import RoutingProvider, leg_path, node_path
from parcelnet.geo.snap import MAX_SNAP_M, Snapper, SnappedNodes, check_limit
from parcelnet.geo.streets import Ways, street_graph
from parcelnet.o2o.dispatch import BIG


class City:
    """Travel times (s) and distances (m) between nodes of a street graph (see the module)."""

    def __init__(self, ways: Ways, mode: str = "ebike", max_snap_m: float = MAX_SNAP_M,
                 router: RoutingProvider | None = None):
        g = street_graph(ways, mode)
        self.g = g
        self.max_snap_m = check_limit(max_snap_m)
        self.snapper = Snapper(g)
        self.nodes = self.snapper.nodes
        self.router = router
        shape = (g.n_nodes, g.n_nodes)
        self.sec = sparse.csr_matrix((np.ceil(g.ms / 1000.0), (g.u, g.v)), shape=shape)
        self.rev = self.sec.T.tocsr()
        self.len = sparse.csr_matrix((g.length_m.astype(float), (g.u, g.v)), shape=shape)
        self._rows: dict[int, np.ndarray] = {}
        self._rev: dict[int, np.ndarray] = {}
        self._len: dict[int, np.ndarray] = {}
        self._day = np.zeros(0, np.int64)        # the nodes a router's rows cover

    def locate(self, lat, lon) -> SnappedNodes:
        """The node of each point and its distance to it (metres). With a router, the nodes
        join the day's points."""
        s = self.snapper.to_nodes(lat, lon)
        if self.router is not None:
            ok = s.node[s.snap_m <= self.max_snap_m]
            new = np.setdiff1d(ok, self._day)
            if len(new):
                self._day = np.union1d(self._day, new)
                self._rows.clear()
                self._rev.clear()
        return s

    def snap(self, lat, lon) -> np.ndarray:
        """The node of each point."""
        return self.locate(lat, lon).node

    @staticmethod
    def _cached(cache: dict, nodes, compute) -> np.ndarray:
        """Rows from ``nodes``, each computed once (``compute(list of nodes)`` -> rows)."""
        nodes = np.asarray(nodes, np.int64)
        todo = [int(x) for x in np.unique(nodes) if int(x) not in cache]
        if todo:
            for x, row in zip(todo, compute(todo)):
                cache[x] = row
        return np.stack([cache[int(x)] for x in nodes]) if len(nodes) else np.zeros((0, 0))

    def _graph_rows(self, graph):
        return lambda todo: [np.where(np.isfinite(r), r, BIG).astype(np.int64)
                             for r in dijkstra(graph, directed=True, indices=todo)]

    def _router_rows(self, reverse: bool):
        g, day = self.g, self._day

        def compute(todo):
            if reverse:
                sec = self.router.matrix(g.lat[day], g.lon[day], g.lat[todo], g.lon[todo]).T
            else:
                sec = self.router.matrix(g.lat[todo], g.lon[todo], g.lat[day], g.lon[day])
            out = np.full((len(todo), g.n_nodes), BIG, np.int64)
            ok = np.isfinite(sec)
            out[:, day] = np.where(ok, np.ceil(np.where(ok, sec, 0)), BIG).astype(np.int64)
            out[np.arange(len(todo)), todo] = 0
            return out
        return compute

    def rows(self, nodes, reverse: bool = False) -> np.ndarray:
        """Seconds from each of ``nodes`` to every node (to each of them, with ``reverse``);
        unreachable = :data:`parcelnet.o2o.dispatch.BIG`."""
        cache = self._rev if reverse else self._rows
        if self.router is not None:
            compute = self._router_rows(reverse)
        else:
            compute = self._graph_rows(self.rev if reverse else self.sec)
        out = self._cached(cache, nodes, compute)
        return out.reshape(len(np.atleast_1d(nodes)), self.g.n_nodes).astype(np.int64, copy=False)

    def __call__(self, a, b) -> np.ndarray:
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        return np.array([self.rows([x])[0][y] for x, y in zip(a, b)], np.int64)

    def metres(self, a, b) -> np.ndarray:
        """Shortest street distance from each node of ``a`` to the node of ``b`` beside it."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        if not len(a):
            return np.zeros(0)
        rows = self._cached(self._len, a, lambda todo: dijkstra(self.len, directed=True, indices=todo))
        return rows[np.arange(len(a)), b]

    def polyline(self, a: int, b: int) -> np.ndarray:
        """(k, 2) lat/lon of the leg from node ``a`` to node ``b`` to draw: along the street
        graph, or the router's path (straight when it has none)."""
        g = self.g
        if self.router is not None:
            return leg_path(self.router, g.lat[a], g.lon[a], g.lat[b], g.lon[b])
        nodes = node_path(self.sec, a, b)
        return np.c_[g.lat[nodes], g.lon[nodes]]
