"""The service design model: the exact decomposition of ``parcelnet plan service``.

The backbone is the set of lanes of the chosen tiers (default ``linehaul`` and ``air``); the
rest of the network (first mile, feeders, last mile) stays as it is. Removing the backbone
splits the network into areas, each reached through one gateway (its hub). Because every
parcel between two areas leaves its area through its gateway and enters the other through its
gateway, and waiting is free, a parcel's earliest delivery factors exactly into three parts
(see docs/plan.md):

1. ``A``: earliest arrival at the origin's gateway (promise engine on the fixed network);
2. ``E``: earliest arrival at the destination's gateway over the chosen backbone trips
   (a compiled search over a few dozen gateways);
3. ``L[h, s]``: the latest arrival at station s's gateway that still delivers s within 24 h
   of an order of hour h (promise engine on the fixed network, from each gateway).

An order of hour h from o to s is covered when E <= L[h, s]. The objective is the coverage
of ``parcelnet coverage`` weighted by demand: each (origin, hour) weighs its share of the
parcels of a demand day, each station its share of the population, and the order of hour h
is taken at its first minute, as in coverage. Without a demand every hub weighs the same
and the value equals ``coverage(...).population_share_24h``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.sparse.csgraph import connected_components

from parcelnet.errors import ParameterError, SolverError
from parcelnet.geo.coords import haversine_km
from parcelnet.network.lanes import lane_minutes, vehicle_trip_cost
from parcelnet.network.model import Network
from parcelnet.network.params import Params, load_params
from parcelnet.parcels import Parcels
from parcelnet.plan.service import _kernels as K
from parcelnet.promise.engine import INF as ENGINE_INF
from parcelnet.promise.engine import PromiseEngine
from parcelnet.units import DAY

SCOPE_TIERS = ("linehaul", "air")


@dataclass
class Candidates:
    """Backbone trips that may run: the network's own and new ones (one row each)."""
    lane_id: np.ndarray        # str
    frm: np.ndarray            # gateway index
    to: np.ndarray
    dep: np.ndarray            # minute of day
    dur: np.ndarray
    cost: np.ndarray           # per trip (a day)
    capacity: np.ndarray
    trip_id: np.ndarray        # str; "" for a new trip
    new_lanes: pd.DataFrame    # lanes.csv rows (strings) of lanes that do not exist yet

    def __len__(self) -> int:
        return len(self.dep)

    @property
    def existing(self) -> np.ndarray:
        return self.trip_id != ""


@dataclass
class ServiceModel:
    network: Network
    fixed: Network                  # the network without the backbone
    tiers: tuple[str, ...]
    gateways: np.ndarray            # facility positions
    area: np.ndarray                # gateway index of each facility's area (-1: none)
    cand: Candidates
    fixed_value: float              # covered weight within areas (the backbone cannot change it)
    keys: dict                      # searches: src, arrival, source ranges, hour, weight
    g_ptr: np.ndarray               # station blocks per gateway in l_sorted / suffix
    l_sorted: np.ndarray            # (24, S') latest arrival, ascending within each block
    suffix: np.ndarray              # (24, S' + 1) population share of positions >= i
    weights: dict = field(default_factory=dict)  # (origin facility, hour) -> weight, for checks

    # -- the compiled evaluation ------------------------------------------------------
    @cached_property
    def _backbone(self):
        """The candidates as CSR by origin gateway, for the kernels."""
        c = self.cand
        order = np.argsort(c.frm, kind="stable")
        ptr = np.zeros(len(self.gateways) + 1, np.int64)
        np.add.at(ptr, c.frm + 1, 1)
        return (np.cumsum(ptr), order.astype(np.int64), c.to[order], c.dep[order], c.dur[order],
                self.fixed.timetable.process[self.gateways].astype(np.int64))

    def searches(self, active: np.ndarray, keys: np.ndarray | None = None):
        """(value, arrivals, preds) of the given search keys (default all) with ``active``."""
        k = self.keys
        keys = np.arange(len(k["src"])) if keys is None else np.asarray(keys, np.int64)
        g = len(self.gateways)
        arr = np.empty((len(keys), g), np.int64)
        pred = np.empty((len(keys), g), np.int64)
        val = K.key_values(keys, k["src"], k["arrival"], k["s_ptr"], k["hour"], k["weight"],
                           *self._backbone, np.asarray(active, np.bool_), self.g_ptr,
                           self.l_sorted, self.suffix, arr, pred)
        return val, arr, pred

    def value(self, active: np.ndarray) -> float:
        """Demand- and population-weighted 24 h coverage with the ``active`` candidates."""
        return self.fixed_value + float(self.searches(active)[0].sum())

    def cost(self, active: np.ndarray) -> float:
        return float(self.cand.cost[np.asarray(active, bool)].sum())

    @property
    def current(self) -> np.ndarray:
        """The network as it is: its own trips on, new candidates off."""
        return self.cand.existing.copy()


# -- building the model ------------------------------------------------------------------
def _scope(network: Network, tiers) -> np.ndarray:
    lanes = network.lanes
    if "tier" not in lanes.columns:
        raise ParameterError("lanes.csv has no 'tier' column: service design needs to know which "
                             "lanes are the backbone (tiers such as linehaul, air)")
    scope = lanes["tier"].isin(tiers).to_numpy()
    if not scope.any():
        raise ParameterError(f"no lane of tier {', '.join(tiers)} in lanes.csv: nothing to design")
    return scope


def _without(network: Network, scope: np.ndarray) -> Network:
    gone = set(network.lanes["lane_id"][scope])
    trips = network.tables["trips.csv"]
    return network.replace(lanes=network.lanes[~scope], trips=trips[~trips["lane_id"].isin(gone)])


def _areas(network: Network, fixed: Network, scope: np.ndarray):
    tt = network.timetable
    n = tt.n_facilities
    gates = np.unique(np.r_[tt.lane_from[scope], tt.lane_to[scope]])
    ft = fixed.timetable
    g = sparse.coo_matrix((np.ones(len(ft.lane_from)), (ft.lane_from, ft.lane_to)), shape=(n, n))
    _, comp = connected_components(g, directed=False)
    owner = np.full(comp.max() + 1, -1, np.int64)
    for i, f in enumerate(gates):
        c = comp[f]
        if owner[c] >= 0:
            a, b = network.facility_index[gates[owner[c]]], network.facility_index[f]
            raise ParameterError(
                f"facilities '{a}' and '{b}' both join the backbone and are also connected "
                "without it: service design needs each area to reach the backbone through one "
                "gateway")
        owner[c] = i
    return gates, owner[comp]


def _demand_weights(network: Network, demand: Parcels | None) -> dict:
    """(origin facility position, hour) -> share of the parcels; without demand every hub and
    hour the same, as ``parcelnet coverage``."""
    if demand is None:
        hubs = network.hubs
        if len(hubs) == 0:
            raise ParameterError("the network has no hubs to weigh orders from; pass a demand")
        w = 1.0 / (len(hubs) * 24)
        return {(int(o), h): w for o in hubs for h in range(24)}
    origin, created = demand.origin_pos, demand.created_minute
    if len(origin) == 0:
        raise ParameterError("the demand has no parcels")
    key = origin * 24 + (created // 60) % 24
    u, cnt = np.unique(key, return_counts=True)
    return {(int(k // 24), int(k % 24)): c / len(origin) for k, c in zip(u, cnt)}


def _latest(fixed: Network, gates: np.ndarray, area: np.ndarray, pop_share: np.ndarray):
    """Per gateway block of stations: the latest arrival at the gateway that delivers each
    station by 24 h after each order hour, sorted, with population suffix sums."""
    eng = PromiseEngine(fixed)
    st = eng.stations
    st_area = area[st]
    blocks = [np.flatnonzero(st_area == g) for g in range(len(gates))]
    g_ptr = np.concatenate([[0], np.cumsum([len(b) for b in blocks])]).astype(np.int64)
    n = int(g_ptr[-1])
    l_sorted = np.full((24, n), -1, np.int64)
    p_sorted = np.zeros((24, n))
    deadlines = np.arange(24, dtype=np.int64) * 60 + DAY
    for g, cols in enumerate(blocks):
        if len(cols) == 0:
            continue
        d = eng.delivered_from(int(gates[g]), np.arange(DAY))[:, cols]
        big = np.where(d >= ENGINE_INF, np.iinfo(np.int64).max // 2, d)
        ext = np.concatenate([big, big + DAY])          # arrivals 0 .. 2879
        if (np.diff(ext, axis=0) < 0).any():  # arriving later never delivers earlier
            raise SolverError("delivery is not monotone in the arrival minute at a gateway; "
                              "please report this as a bug")
        lo, hi = g_ptr[g], g_ptr[g + 1]
        p = pop_share[cols]
        for h, dl in enumerate(deadlines):
            last = (ext <= dl).sum(axis=0) - 1           # -1: no arrival is early enough
            o = np.argsort(last, kind="stable")
            l_sorted[h, lo:hi] = last[o]
            p_sorted[h, lo:hi] = p[o]
    suffix = np.zeros((24, n + 1))
    suffix[:, :n] = np.cumsum(p_sorted[:, ::-1], axis=1)[:, ::-1]
    return g_ptr, l_sorted, suffix


def _sources(fixed: Network, gates, area, weights: dict, pop_share: np.ndarray):
    """Arrival at the gateway of every weighted (origin, hour), grouped into search keys, and
    the covered weight inside the areas."""
    eng = PromiseEngine(fixed)
    proc = fixed.timetable.process
    st_area = area[eng.stations]
    by_origin: dict[int, list[tuple[int, float]]] = {}
    for (o, h), w in weights.items():
        by_origin.setdefault(o, []).append((h, w))
    fixed_value = 0.0
    rows = []                                            # (gateway, arrival, hour, weight)
    for o, hw in by_origin.items():
        hours = np.array([h for h, _ in hw], np.int64)
        w = np.array([x for _, x in hw])
        created = hours * 60
        a = area[o]
        d = eng.delivered_from(o, created)
        inside = (st_area == a) if a >= 0 else np.ones(len(st_area), bool)
        within = (d < ENGINE_INF) & (d - created[:, None] <= DAY) & inside[None, :]
        fixed_value += float(w @ (within @ pop_share))
        if a < 0:
            continue
        gate = int(gates[a])
        if o == gate:
            arrival = created
        else:
            res = eng.origin_searches(o, created)
            if res is None:
                continue
            ready, _, row, shift = res
            r = ready[row, gate]
            arrival = np.where(r < ENGINE_INF, r + shift - proc[gate], -1)
        for h, x, t in zip(hours, w, arrival):
            if t >= 0:
                rows.append((a, int(t), int(h), float(x)))
    df = pd.DataFrame(rows, columns=["g", "arrival", "hour", "weight"])
    df = df.groupby(["g", "arrival", "hour"], as_index=False)["weight"].sum()
    key, first = np.unique(df["g"].to_numpy() * (1 << 32) + df["arrival"].to_numpy(),
                           return_index=True)
    s_ptr = np.r_[first, len(df)].astype(np.int64)
    keys = {"src": df["g"].to_numpy(np.int64)[first], "arrival": df["arrival"].to_numpy(np.int64)[first],
            "s_ptr": s_ptr, "hour": df["hour"].to_numpy(np.int64),
            "weight": df["weight"].to_numpy(float)}
    return fixed_value, keys


def _ceil_step(m: np.ndarray, step: int) -> np.ndarray:
    return (-(-np.asarray(m, np.int64) // step) * step) % DAY


def _candidates(network: Network, scope, gates, keys, step: int, new_air: bool,
                params) -> Candidates:
    """The network's backbone trips, extra departures on its backbone lanes at the gateway's
    banks and at the minutes parcels from its own area are ready, and (``new_air``) air links
    between gateways at least ``air.min_distance_km`` apart that have none."""
    tt = network.timetable
    lanes, trips = network.lanes, network.tables["trips.csv"]
    gidx = np.full(tt.n_facilities, -1, np.int64)
    gidx[gates] = np.arange(len(gates))
    proc = tt.process[gates]
    in_scope = scope[tt.trip_lane]
    cost_lane = lanes["cost_per_trip"].astype(float).to_numpy()
    cap_lane = np.bincount(tt.trip_lane, weights=tt.trip_capacity, minlength=len(lanes)) / \
        np.maximum(np.bincount(tt.trip_lane, minlength=len(lanes)), 1)
    # departure minutes on offer at each gateway
    offer = [set() for _ in gates]
    for l, d in zip(tt.trip_lane[in_scope], tt.trip_departure[in_scope]):
        offer[gidx[tt.lane_from[l]]].add(int(d))
    ready = _ceil_step(keys["arrival"] + proc[keys["src"]], step)
    for g, m in zip(keys["src"], ready):
        offer[g].add(int(m))
    lane_ids = lanes["lane_id"].to_numpy(str)
    rows = []  # lane_id, from, to, dep, dur, cost, cap, trip_id
    have = set()
    for i in np.flatnonzero(in_scope):
        l = tt.trip_lane[i]
        rows.append((lane_ids[l], gidx[tt.lane_from[l]], gidx[tt.lane_to[l]], int(tt.trip_departure[i]),
                     int(tt.lane_duration[l]), cost_lane[l], int(tt.trip_capacity[i]),
                     trips["trip_id"].iat[i]))
        have.add((l, int(tt.trip_departure[i])))
    for l in np.flatnonzero(scope):
        g = gidx[tt.lane_from[l]]
        for m in sorted(offer[g]):
            if (l, m) not in have:
                rows.append((lane_ids[l], g, gidx[tt.lane_to[l]], m, int(tt.lane_duration[l]),
                             cost_lane[l], int(round(cap_lane[l])), ""))
    new_lanes = pd.DataFrame(columns=lanes.columns)
    if new_air:
        new_lanes, extra = _new_air(network, scope, gates, offer, params)
        rows += extra
    c = list(zip(*rows))
    return Candidates(lane_id=np.array(c[0], dtype=object), frm=np.array(c[1], np.int64),
                      to=np.array(c[2], np.int64), dep=np.array(c[3], np.int64),
                      dur=np.array(c[4], np.int64), cost=np.array(c[5], float),
                      capacity=np.array(c[6], np.int64), trip_id=np.array(c[7], dtype=object),
                      new_lanes=new_lanes)


def _new_air(network: Network, scope, gates, offer, params):
    """Air lanes between gateways that have none, priced and timed like the network's own."""
    tt = network.timetable
    lanes = network.lanes
    fac = network.facilities
    lat = fac["lat"].astype(float).to_numpy()[gates]
    lon = fac["lon"].astype(float).to_numpy()[gates]
    air = scope & (lanes["mode"].to_numpy() == "air")
    one = vehicle_trip_cost(lanes["distance_km"].astype(float).to_numpy(), "air", params.costs)
    vehicles = float(np.median(lanes["cost_per_trip"].astype(float).to_numpy()[air] / one[air])) \
        if air.any() else 1.0
    caps = tt.trip_capacity[air[tt.trip_lane]]
    cap = int(np.median(caps)) if len(caps) else int(params.capacity.air_parcels)
    have = {(int(a), int(b)) for a, b in zip(tt.lane_from[air], tt.lane_to[air])}
    ids = set(lanes["lane_id"])
    new, rows = [], []
    for i in range(len(gates)):
        for j in range(len(gates)):
            if i == j or (int(gates[i]), int(gates[j])) in have:
                continue
            km = float(haversine_km(lat[i], lon[i], lat[j], lon[j]))
            if km < params.air.min_distance_km:
                continue
            a, b = network.facility_index[gates[i]], network.facility_index[gates[j]]
            lid = f"{a}>{b}:air"
            while lid in ids:
                lid += "+"
            dur = int(lane_minutes(km, "air", params.speeds))
            cost = round(vehicles * float(vehicle_trip_cost(km, "air", params.costs)))
            new.append({"lane_id": lid, "from_facility": a, "to_facility": b, "mode": "air",
                        "duration_minutes": str(dur), "distance_km": f"{km:.1f}",
                        "cost_per_trip": str(cost), "tier": "air"})
            rows += [(lid, i, j, m, dur, float(cost), cap, "") for m in sorted(offer[i])]
    df = pd.DataFrame(new, columns=list(lanes.columns)).fillna("")
    return df, rows


def build_model(network: Network, demand: Parcels | None = None, tiers=SCOPE_TIERS,
                step: int = 30, new_air: bool = True, params: Params | None = None) -> ServiceModel:
    """The decomposed service design problem of ``network``.

    ``demand`` is a demand day (its origins and creation hours weigh the orders), or None for
    every hub alike. ``step`` rounds the ready minutes offered as new departures (minutes).
    """
    if not (isinstance(step, int) and 1 <= step <= DAY):
        raise ParameterError(f"the departure step must be a whole number of minutes in 1..1440, got {step}")
    scope = _scope(network, tuple(tiers))
    fixed = _without(network, scope)
    gates, area = _areas(network, fixed, scope)
    pop = network.station_population
    pop_share = pop / max(pop.sum(), 1e-12)
    weights = _demand_weights(network, demand)
    fixed_value, keys = _sources(fixed, gates, area, weights, pop_share)
    g_ptr, l_sorted, suffix = _latest(fixed, gates, area, pop_share)
    if params is None:
        params = load_params(network.country or "XX")   # unknown: the defaults
    cand = _candidates(network, scope, gates, keys, step, new_air, params)
    return ServiceModel(network=network, fixed=fixed, tiers=tuple(tiers), gateways=gates,
                        area=area, cand=cand, fixed_value=fixed_value, keys=keys, g_ptr=g_ptr,
                        l_sorted=l_sorted, suffix=suffix, weights=weights)

