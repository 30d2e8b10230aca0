"""O2O instant delivery: online orders fulfilled from nearby stores by e-bike riders.

A day runs in decision steps (``step_s``, default 30 s). An order arriving at t is given to the
store with stock that is nearest to the customer by road; no store with stock means it is
rejected, and the reason is recorded; so is an order whose customer is farther than the city's
snapping limit from every street node ("no road within 500 m"). With lockers (pickup points),
an order goes to a locker when the customer chose one (``to_locker``) or, with the ``nearby``
policy, when a locker with a free slot lies within ``locker_radius_m`` of the customer. A slot
is taken from the order until ``locker_hold_s`` after its deadline (the customer's time to
collect). At every step the dispatcher (:mod:`parcelnet.o2o.dispatch`: ``pooled`` or
``greedy``) gives trips to riders. A rider rides to the store, picks up (``prep_s``), delivers
in order (``service_s`` a stop; stops at one locker are one stop) and waits where the last stop
was.

Travel is between the street nodes of the :class:`parcelnet.o2o.city.City` (by its street
graph or its routing provider), in whole seconds. A store or locker off the street map is
refused. Distance per order uses the shortest street distance of each leg.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError
from parcelnet.geo.snap import refuse_far
from parcelnet.o2o import dispatch as D
from parcelnet.o2o.city import City
from parcelnet.o2o.inputs import lockers_table, orders_table, stores_table
from parcelnet.progress import Counter, Progress
from parcelnet.results import Result

#: Dispatch policies: pooled (parcelnet's: batching and a minimum-cost assignment) or greedy
#: (the baseline: one order a trip, first come first served).
POLICIES = ("pooled", "greedy")
#: Which orders go to a locker: those whose customer chose one, or any with a free locker nearby.
LOCKER_POLICIES = ("customer", "nearby")

DAY_CURVE = [(0, 0.2), (7, 0.6), (10, 1.4), (11, 2.6), (13, 1.4), (14, 0.9), (17, 2.2), (20, 1.2), (22, 0.3)]


def generate_orders(city: City, n: int, seed: int = 0, promise_min: int = 30) -> pd.DataFrame:
    """A day of ``n`` orders: creation times on a daily curve with lunch and dinner peaks
    (:data:`DAY_CURVE`, relative rates from the hour given), customers at random street nodes."""
    if not (isinstance(n, (int, np.integer)) and n >= 1):
        raise ParameterError(f"the number of orders must be a positive whole number, got {n}")
    if not (isinstance(promise_min, (int, np.integer)) and promise_min >= 1):
        raise ParameterError(f"the promise must be a positive whole number of minutes, got {promise_min}")
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
class O2OKpis(Result):
    """A simulated day in figures (minutes of delivery from order to door or locker)."""
    policy: str
    orders: int
    delivered: int
    rejected: dict               # reason -> orders
    mean_minutes: float | None
    p50_minutes: float | None
    p90_minutes: float | None
    p99_minutes: float | None
    on_time_share: float | None
    orders_per_trip: float
    rider_utilisation: float
    km_per_order: float
    to_locker: int
    decision_ms_p50: float | None
    decision_ms_max: float | None


@dataclass(frozen=True)
class O2OResult:
    orders: pd.DataFrame         # per order: store, rider, delivered_s, minutes, on_time, status, reason
    riders: pd.DataFrame         # per rider: orders, busy_s, metres, utilisation
    trips: pd.DataFrame          # rider, start_s, store, stops (order ids), end_s
    decisions_s: np.ndarray      # wall seconds of each dispatch decision
    policy: str

    def kpis(self) -> O2OKpis:
        o = self.orders
        done = o[o["status"] == "delivered"]
        m = done["minutes"].to_numpy(float)
        pct = (lambda q: round(float(np.percentile(m, q)), 2)) if len(m) else (lambda q: None)
        dec = self.decisions_s
        return O2OKpis(
            policy=self.policy, orders=int(len(o)), delivered=int(len(done)),
            rejected={k: int(v) for k, v in o.loc[o["status"] != "delivered", "reason"].value_counts().items()},
            mean_minutes=round(float(m.mean()), 2) if len(m) else None,
            p50_minutes=pct(50), p90_minutes=pct(90), p99_minutes=pct(99),
            on_time_share=round(float(done["on_time"].mean()), 4) if len(done) else None,
            orders_per_trip=round(len(done) / max(len(self.trips), 1), 2),
            rider_utilisation=round(float(self.riders["utilisation"].mean()), 4),
            km_per_order=round(float(self.riders["metres"].sum() / 1000 / max(len(done), 1)), 3),
            to_locker=int(done["to_locker"].sum()),
            decision_ms_p50=round(float(np.median(dec) * 1000), 2) if len(dec) else None,
            decision_ms_max=round(float(dec.max() * 1000), 2) if len(dec) else None)


def _whole(value, what: str, lo: int) -> int:
    if not (isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= lo):
        raise ParameterError(f"{what} must be a whole number >= {lo}, got {value}")
    return int(value)


def simulate_day(city: City, stores: pd.DataFrame, orders: pd.DataFrame, riders: int,
                 policy: str = "pooled", step_s: int = 30, capacity: int = 3,
                 lockers: pd.DataFrame | None = None, locker_policy: str = "customer",
                 locker_radius_m: float = 300.0, locker_hold_s: int = 7200, prep_s: int = 60,
                 service_s: int = 60, seed: int = 0, progress: Progress | None = None) -> O2OResult:
    """Simulate the day (see the module). ``stores``, ``orders`` and ``lockers`` are checked
    as :mod:`parcelnet.o2o.inputs` describes; orders are taken in order of creation."""
    if policy not in POLICIES:
        raise ParameterError(f"unknown dispatch policy '{policy}': pooled or greedy")
    if not (isinstance(riders, int) and riders >= 1):
        raise ParameterError(f"the number of riders must be a positive whole number, got {riders}")
    if not (isinstance(step_s, int) and step_s >= 1):
        raise ParameterError(f"the dispatch step must be a positive whole number of seconds, got {step_s}")
    if locker_policy not in LOCKER_POLICIES:
        raise ParameterError(f"unknown locker policy '{locker_policy}': customer or nearby")
    capacity = _whole(capacity, "the orders a rider carries (capacity)", 1)
    prep_s, service_s = _whole(prep_s, "the pickup time", 0), _whole(service_s, "the service time", 0)
    locker_hold_s = _whole(locker_hold_s, "the locker hold time", 0)
    if not locker_radius_m >= 0:
        raise ParameterError(f"the locker radius must be a distance >= 0 m, got {locker_radius_m}")
    stores = stores_table(stores)
    orders = orders_table(orders)
    if not len(orders):
        raise ParameterError("no orders to simulate")
    orders = orders.iloc[np.argsort(orders["created_s"].to_numpy(), kind="stable")].reset_index(drop=True)
    lockers = lockers_table(lockers) if lockers is not None else None
    s_snap = city.locate(stores["lat"], stores["lon"])
    refuse_far(stores, s_snap.snap_m, city.max_snap_m, "store", "store_id")
    if lockers is not None and len(lockers):
        l_snap = city.locate(lockers["lat"], lockers["lon"])
        refuse_far(lockers, l_snap.snap_m, city.max_snap_m, "locker", "locker_id")
        l_node, l_slots = l_snap.node, lockers["slots"].to_numpy()
    else:
        l_node, l_slots = np.zeros(0, int), np.zeros(0, int)
    o_snap = city.locate(orders["lat"], orders["lon"])
    off_map = ~(o_snap.snap_m <= city.max_snap_m)
    rng = np.random.default_rng(seed)
    s_node = s_snap.node
    stock = stores["stock"].to_numpy().copy()
    n = len(orders)
    o_node = o_snap.node
    created = orders["created_s"].to_numpy()
    units = orders["units"].to_numpy()
    deadline = created + orders["promise_min"].to_numpy() * 60
    wants_locker = orders["to_locker"].to_numpy()
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
    t, nxt = int(created.min()) - int(created.min()) % step_s, 0
    to_store = city.rows(s_node) if len(s_node) else np.zeros((0, city.g.n_nodes), np.int64)
    arrived = Counter(progress, f"{policy} day (orders)", n)
    while True:
        while nxt < n and created[nxt] <= t:           # arrivals: store, then door or locker
            i = nxt
            nxt += 1
            if off_map[i]:
                status[i], reason[i] = "rejected", f"no road within {city.max_snap_m:g} m"
                continue
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
