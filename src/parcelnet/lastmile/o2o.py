"""O2O instant delivery: online orders fulfilled from nearby stores by e-bike riders.

A day runs in decision steps (``step_s``, default 30 s). An order arriving at t is given to the
store with stock that is nearest to the customer by road; no store with stock means it is
rejected, and the reason is recorded. With lockers (pickup points), an order goes to a locker
when the customer chose one (``to_locker``) or, with the ``nearby`` policy, when a locker with a
free slot lies within ``locker_radius_m`` of the customer. A slot is taken from the order
until ``locker_hold_s`` after its deadline (the customer's time to collect). At every step the dispatcher (:mod:`parcelnet.lastmile.dispatch`:
``pooled`` or ``greedy``) gives trips to riders. A rider rides to the store, picks up
(``prep_s``), delivers in order (``service_s`` a stop; stops at one locker are one stop) and
waits where the last stop was.

Travel is by the e-bike street graph (:mod:`parcelnet.geo.streets`), between graph nodes:
points snap to the nearest node of the largest strongly connected part. Seconds are rounded up.
Distance per order uses the shortest street distance of each leg.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components, dijkstra
from scipy.spatial import cKDTree

from parcelnet.errors import ParameterError
from parcelnet.geo.streets import Ways, street_graph
from parcelnet.lastmile import dispatch as D
from parcelnet.progress import Counter, Progress

DAY_CURVE = [(0, 0.2), (7, 0.6), (10, 1.4), (11, 2.6), (13, 1.4), (14, 0.9), (17, 2.2), (20, 1.2), (22, 0.3)]


class City:
    """Travel times (s) and distances (m) between nodes of a street graph, row by row on demand
    (compiled Dijkstra, rows cached)."""

    def __init__(self, ways: Ways, mode: str = "ebike"):
        g = street_graph(ways, mode)
        _, lab = connected_components(g.csr, directed=True, connection="strong")
        self.nodes = np.flatnonzero(lab == np.bincount(lab).argmax())
        self.g = g
        shape = (g.n_nodes, g.n_nodes)
        self.sec = sparse.csr_matrix((np.ceil(g.ms / 1000.0), (g.u, g.v)), shape=shape)
        self.rev = self.sec.T.tocsr()
        self.len = sparse.csr_matrix((g.length_m.astype(float), (g.u, g.v)), shape=shape)
        self._tree = cKDTree(np.c_[g.lat[self.nodes], g.lon[self.nodes] * np.cos(np.radians(g.lat.mean()))])
        self._rows: dict[int, np.ndarray] = {}
        self._rev: dict[int, np.ndarray] = {}
        self._len: dict[int, np.ndarray] = {}

    def snap(self, lat, lon) -> np.ndarray:
        k = np.cos(np.radians(self.g.lat.mean()))
        _, i = self._tree.query(np.c_[np.asarray(lat, float), np.asarray(lon, float) * k])
        return self.nodes[i]

    @staticmethod
    def _cached(cache: dict, graph, nodes, keep=lambda row: row) -> np.ndarray:
        """Dijkstra rows of ``graph`` from ``nodes``, each computed once and kept as ``keep(row)``."""
        nodes = np.asarray(nodes, np.int64)
        todo = [int(x) for x in np.unique(nodes) if int(x) not in cache]
        if todo:
            for x, row in zip(todo, dijkstra(graph, directed=True, indices=todo)):
                cache[x] = keep(row)
        return np.stack([cache[int(x)] for x in nodes]) if len(nodes) else np.zeros((0, graph.shape[0]))

    def rows(self, nodes, reverse: bool = False) -> np.ndarray:
        """Seconds from each of ``nodes`` to every node (to each of them, with ``reverse``);
        unreachable = :data:`parcelnet.lastmile.dispatch.BIG`."""
        return self._cached(self._rev if reverse else self._rows, self.rev if reverse else self.sec, nodes,
                            lambda r: np.where(np.isfinite(r), r, D.BIG).astype(np.int64)).astype(np.int64, copy=False)

    def __call__(self, a, b) -> np.ndarray:
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        return np.array([self.rows([x])[0][y] for x, y in zip(a, b)], np.int64)

    def metres(self, a, b) -> np.ndarray:
        """Shortest street distance from each node of ``a`` to the node of ``b`` beside it."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        if not len(a):
            return np.zeros(0)
        return self._cached(self._len, self.len, a)[np.arange(len(a)), b]


def generate_orders(city: City, n: int, seed: int = 0, promise_min: int = 30) -> pd.DataFrame:
    """A day of ``n`` orders: creation times on a daily curve with lunch and dinner peaks
    (:data:`DAY_CURVE`, relative rates from the hour given), customers at random street nodes."""
    rng = np.random.default_rng(seed)
    hours = np.arange(24)
    rate = np.interp(hours, [h for h, _ in DAY_CURVE], [r for _, r in DAY_CURVE])
    h = rng.choice(hours, n, p=rate / rate.sum())
    created = np.sort(h * 3600 + rng.integers(0, 3600, n))
    node = rng.choice(city.nodes, n)
    return pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "created_s": created,
                         "lat": city.g.lat[node], "lon": city.g.lon[node], "units": 1,
                         "promise_min": promise_min})


@dataclass(frozen=True)
class O2OResult:
    orders: pd.DataFrame         # per order: store, rider, delivered_s, minutes, on_time, status, reason
    riders: pd.DataFrame         # per rider: orders, busy_s, metres, utilisation
    trips: pd.DataFrame          # rider, start_s, store, stops (order ids), end_s
    decisions_s: np.ndarray      # wall seconds of each dispatch decision
    policy: str

    def kpis(self) -> dict:
        o = self.orders
        done = o[o["status"] == "delivered"]
        m = done["minutes"].to_numpy(float)
        pct = (lambda q: round(float(np.percentile(m, q)), 2)) if len(m) else (lambda q: None)
        return {"policy": self.policy, "orders": int(len(o)), "delivered": int(len(done)),
                "rejected": {k: int(v) for k, v in o.loc[o["status"] != "delivered", "reason"].value_counts().items()},
                "mean_minutes": round(float(m.mean()), 2) if len(m) else None,
                "p50_minutes": pct(50), "p90_minutes": pct(90), "p99_minutes": pct(99),
                "on_time_share": round(float(done["on_time"].mean()), 4) if len(done) else None,
                "orders_per_trip": round(len(done) / max(len(self.trips), 1), 2),
                "rider_utilisation": round(float(self.riders["utilisation"].mean()), 4),
                "km_per_order": round(float(self.riders["metres"].sum() / 1000 / max(len(done), 1)), 3),
                "to_locker": int(done["to_locker"].sum()),
                "decision_ms_p50": round(float(np.median(self.decisions_s) * 1000), 2) if len(self.decisions_s) else None,
                "decision_ms_max": round(float(self.decisions_s.max() * 1000), 2) if len(self.decisions_s) else None}


def simulate_day(city: City, stores: pd.DataFrame, orders: pd.DataFrame, riders: int,
                 policy: str = "pooled", step_s: int = 30, capacity: int = 3,
                 lockers: pd.DataFrame | None = None, locker_policy: str = "customer",
                 locker_radius_m: float = 300.0, locker_hold_s: int = 7200, prep_s: int = 60,
                 service_s: int = 60, seed: int = 0, progress: Progress | None = None) -> O2OResult:
    """Simulate the day (see the module); ``stores`` has store_id, lat, lon, stock."""
    if policy not in ("pooled", "greedy"):
        raise ParameterError(f"unknown dispatch policy '{policy}': pooled or greedy")
    if not (isinstance(riders, int) and riders >= 1):
        raise ParameterError(f"the number of riders must be a positive whole number, got {riders}")
    if not (isinstance(step_s, int) and step_s >= 1):
        raise ParameterError(f"the dispatch step must be a positive whole number of seconds, got {step_s}")
    if locker_policy not in ("customer", "nearby"):
        raise ParameterError(f"unknown locker policy '{locker_policy}': customer or nearby")
    rng = np.random.default_rng(seed)
    s_node = city.snap(stores["lat"], stores["lon"])
    stock = stores["stock"].astype(int).to_numpy().copy()
    n = len(orders)
    o_node = city.snap(orders["lat"], orders["lon"])
    created = orders["created_s"].astype(int).to_numpy()
    units = orders["units"].astype(int).to_numpy() if "units" in orders else np.ones(n, int)
    deadline = created + orders["promise_min"].astype(int).to_numpy() * 60
    wants_locker = orders["to_locker"].astype(bool).to_numpy() if "to_locker" in orders else np.zeros(n, bool)
    l_node = city.snap(lockers["lat"], lockers["lon"]) if lockers is not None and len(lockers) else np.zeros(0, int)
    l_slots = lockers["slots"].astype(int).to_numpy() if lockers is not None and len(lockers) else np.zeros(0, int)
    l_release: list[list[int]] = [[] for _ in range(len(l_node))]
    l_used = np.zeros(len(l_node), int)
    dest = o_node.copy()
    to_locker = np.zeros(n, bool)
    locker_of = np.full(n, -1)
    store_of = np.full(n, -1)
    status = np.array(["open"] * n, dtype=object)
    reason = np.array([None] * n, dtype=object)
    delivered = np.full(n, -1, np.int64)
    rider_of = np.full(n, -1)
    r_node = s_node[rng.integers(0, len(s_node), riders)] if len(s_node) else np.zeros(riders, int)
    r_free = np.zeros(riders, np.int64)
    busy = np.zeros(riders, np.int64)
    metres = np.zeros(riders)
    n_orders = np.zeros(riders, int)
    trips, decisions = [], []
    legs_a, legs_b, legs_r = [], [], []
    if n == 0:
        raise ParameterError("no orders to simulate")
    t, nxt = int(created.min()) - int(created.min()) % step_s, 0
    to_store = city.rows(s_node) if len(s_node) else np.zeros((0, city.g.n_nodes), np.int64)
    arrived = Counter(progress, f"{policy} day (orders)", n)
    while True:
        while nxt < n and created[nxt] <= t:           # arrivals: store, then door or locker
            i = nxt
            nxt += 1
            ok = np.flatnonzero(stock >= units[i])
            if not len(ok):
                status[i], reason[i] = "rejected", "out of stock"
                continue
            k = ok[np.argmin(to_store[ok, o_node[i]])]
            if to_store[k, o_node[i]] >= D.BIG:
                status[i], reason[i] = "rejected", "no road from any store with stock"
                continue
            stock[k] -= units[i]
            store_of[i] = k
            if len(l_node) and (wants_locker[i] or locker_policy == "nearby"):
                for j in range(len(l_node)):
                    while l_release[j] and l_release[j][0] <= t:
                        l_release[j].pop(0)
                        l_used[j] -= 1
                dist = city.metres(np.full(len(l_node), o_node[i]), l_node)
                free = l_used < l_slots
                near = free & (wants_locker[i] | (dist <= locker_radius_m))
                if near.any():
                    j = np.flatnonzero(near)[np.argmin(dist[near])]
                    l_used[j] += 1
                    l_release[j].append(int(deadline[i] + locker_hold_s))
                    l_release[j].sort()
                    dest[i], to_locker[i], locker_of[i] = l_node[j], True, j
        open_ = np.flatnonzero(status == "open")
        open_ = open_[created[open_] <= t]
        if len(open_):
            t0 = time.perf_counter()
            fn = D.pooled if policy == "pooled" else D.greedy
            kw = dict(capacity=capacity, prep_s=prep_s, service_s=service_s) if policy == "pooled" else {}
            plan = fn(t, s_node[store_of[open_]], dest[open_], deadline[open_], r_free, r_node, city, **kw)
            decisions.append(time.perf_counter() - t0)
            for r, seq in plan:
                ids = open_[np.asarray(seq)]
                s = s_node[store_of[ids[0]]]
                start = max(t, int(r_free[r]))
                clock = start + int(city.rows([r_node[r]])[0][s]) + prep_s
                legs_a.append(r_node[r]), legs_b.append(s), legs_r.append(r)
                prev = s
                for i in ids:
                    same = dest[i] == prev
                    clock += int(city.rows([prev])[0][dest[i]])
                    delivered[i] = clock
                    clock += 10 if same and prev != s else service_s
                    legs_a.append(prev), legs_b.append(dest[i]), legs_r.append(r)
                    prev = dest[i]
                    status[i], rider_of[i] = "delivered", r
                busy[r] += clock - start
                n_orders[r] += len(ids)
                trips.append((r, start, int(store_of[ids[0]]), ";".join(orders["order_id"].iloc[ids]), clock))
                r_free[r], r_node[r] = clock, prev
        arrived(min(nxt, n))
        if nxt >= n and not (status == "open").any():
            break
        t += step_s
    arrived.finish()
    if legs_a:
        m = city.metres(np.array(legs_a), np.array(legs_b))
        np.add.at(metres, np.array(legs_r), np.where(np.isfinite(m), m, 0))
    span = max(int(created.max()) - int(created.min()), 1)
    o = pd.DataFrame({"order_id": orders["order_id"].to_numpy(), "created_s": created,
                      "lat": orders["lat"].astype(float).to_numpy(), "lon": orders["lon"].astype(float).to_numpy(),
                      "store_id": [stores["store_id"].iat[k] if k >= 0 else None for k in store_of],
                      "rider": np.where(rider_of >= 0, rider_of, -1), "delivered_s": delivered,
                      "minutes": np.where(delivered >= 0, (delivered - created) / 60.0, np.nan),
                      "on_time": (delivered >= 0) & (delivered <= deadline), "to_locker": to_locker,
                      "locker_id": [lockers["locker_id"].iat[j] if j >= 0 else None for j in locker_of],
                      "status": status, "reason": reason})
    r = pd.DataFrame({"rider": np.arange(riders), "orders": n_orders, "busy_s": busy, "metres": metres,
                      "utilisation": np.minimum(busy / span, 1.0)})
    tr = pd.DataFrame(trips, columns=["rider", "start_s", "store", "stops", "end_s"])
    return O2OResult(o, r, tr, np.array(decisions), policy)
