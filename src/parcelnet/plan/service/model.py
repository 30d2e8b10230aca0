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
and the value equals ``coverage(...).population_share_24h``. With named ``origins`` and an
order hour, each origin weighs the same and keeps its own sources, so that each origin's
share can be constrained (:meth:`ServiceModel.origin_values`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
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

SCOPE_TIERS = ("feeder", "linehaul", "trunk", "air")
#: With more gateways than this (feeder and trunk tiers make every centre one), new air links
#: join two of the gateways that already fly (the ends of an air lane of the scope) and those
#: with no station behind them (hubs), or any gateway to an air hub (a hub that flies, such as
#: Ezhou's night sort), so that a centre may become a new air gateway; up to it, any two.
AIR_GATEWAYS_ALL_UP_TO = 60


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
    keys: dict                      # searches: src, arrival, source ranges, hour, weight,
    #                                 units, origin (index in ``origins``; -1: not kept apart)
    g_ptr: np.ndarray               # station blocks per gateway in l_sorted / suffix
    l_sorted: np.ndarray            # (24, S') latest arrival, ascending within each block
    suffix: np.ndarray              # (24, S' + 1) population share of positions >= i
    weights: dict = field(default_factory=dict)  # (origin facility, hour) -> weight, for checks
    #: (origin facility, hour) -> whole units of weight (parcels of the demand, or 1 each);
    #: ``weights`` are these over their sum
    units: dict = field(default_factory=dict)
    #: named origins (facility positions) whose shares are kept apart, their order hour, and
    #: each one's share within its own area (which the backbone cannot change)
    origins: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    hour: int | None = None
    fixed_by_origin: np.ndarray = field(default_factory=lambda: np.zeros(0))
    #: delivery at each station of a block (columns, g_ptr order; station columns in
    #: ``block_cols``) for an arrival at its gateway at each minute of day 0 (rows)
    deliver0: np.ndarray | None = None
    block_cols: np.ndarray | None = None

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

    def searches(self, active: np.ndarray, keys: np.ndarray | None = None,
                 src_out: np.ndarray | None = None):
        """(value, arrivals, preds) of the given search keys (default all) with ``active``;
        each of their sources' covered population share lands in ``src_out`` (indexed like
        the sources) when given."""
        k = self.keys
        keys = np.arange(len(k["src"])) if keys is None else np.asarray(keys, np.int64)
        g = len(self.gateways)
        arr = np.empty((len(keys), g), np.int64)
        pred = np.empty((len(keys), g), np.int64)
        if src_out is None:
            src_out = np.empty(len(k["hour"]))
        run = K.key_values if len(keys) > 4 else K.key_values_serial
        val = run(keys, k["src"], k["arrival"], k["s_ptr"], k["hour"], k["weight"],
                  *self._backbone, np.asarray(active, np.bool_), self.g_ptr, self.l_sorted,
                  self.suffix, arr, pred, src_out)
        return val, arr, pred

    def value(self, active: np.ndarray) -> float:
        """Demand- and population-weighted 24 h coverage with the ``active`` candidates."""
        return self.fixed_value + float(self.searches(active)[0].sum())

    def origin_shares(self, src_cov: np.ndarray) -> np.ndarray:
        """Each named origin's population share within 24 h, from its sources' covered shares."""
        o = self.keys["origin"]
        kept = o >= 0
        return self.fixed_by_origin + np.bincount(o[kept], weights=src_cov[kept],
                                                  minlength=len(self.origins))

    def origin_values(self, active: np.ndarray) -> np.ndarray:
        """Each named origin's population share within 24 h of an order at the first minute
        of the order hour, with the ``active`` candidates (the model's own figure)."""
        src = np.zeros(len(self.keys["hour"]))
        self.searches(active, src_out=src)
        return self.origin_shares(src)

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


def _demand_units(network: Network, demand: Parcels | None, origins, hour) -> dict:
    """(origin facility position, hour) -> whole units of weight: the parcels of the demand;
    without demand one for every hub and hour, as ``parcelnet coverage``; with named origins
    one for each at the order hour."""
    if origins is not None:
        if demand is not None:
            raise ParameterError("orders are weighed by a demand day or come from named "
                                 "origins, not both")
        if not (isinstance(hour, (int, np.integer)) and 0 <= hour <= 23):
            raise ParameterError(f"the order hour must be a whole hour in 0..23, got {hour}")
        if len(origins) == 0:
            raise ParameterError("the list of origins is empty")
        pos = [network.facility(o) for o in origins]
        if len(set(pos)) < len(pos):
            raise ParameterError("an origin is named twice: " + ", ".join(map(str, origins)))
        return {(p, int(hour)): 1 for p in pos}
    if demand is None:
        hubs = network.hubs
        if len(hubs) == 0:
            raise ParameterError("the network has no hubs to weigh orders from; pass a demand")
        return {(int(o), h): 1 for o in hubs for h in range(24)}
    origin, created = demand.origin_pos, demand.created_minute
    if len(origin) == 0:
        raise ParameterError("the demand has no parcels")
    key = origin * 24 + (created // 60) % 24
    u, cnt = np.unique(key, return_counts=True)
    return {(int(k // 24), int(k % 24)): int(c) for k, c in zip(u, cnt)}


def latest_arrival(deliver0: np.ndarray, deadline: np.ndarray) -> np.ndarray:
    """The latest arrival minute at a gateway (any day; -1: none) that delivers a station by
    ``deadline``, per column: ``deliver0[a]`` is the delivery for an arrival at minute a of
    day 0 (non-decreasing; INF: never), and an arrival a day later delivers a day later.
    ``deadline`` is (columns,) or (rows, columns)."""
    first = deliver0[0]
    dl = np.asarray(deadline, np.int64)
    ok = first < ENGINE_INF
    k = np.floor_divide(dl - np.where(ok, first, 0), DAY)      # the last day that can make it
    rest = np.where(ok, dl - k * DAY, -1)
    if dl.ndim == 1:
        count = (deliver0 <= rest[None, :]).sum(axis=0)
    else:
        count = np.stack([(deliver0 <= r[None, :]).sum(axis=0) for r in rest])
    return np.where(ok & (k >= 0), k * DAY + count - 1, -1)


def _arrival_profile(eng: PromiseEngine, gate: int, cols: np.ndarray) -> np.ndarray:
    """Delivered minute at the stations ``cols`` (columns of ``eng.stations``) for an arrival
    at ``gate`` at each minute of day 0 (INF: never): ``delivered_from`` on those columns."""
    minutes = np.arange(DAY, dtype=np.int64)
    out = np.full((DAY, len(cols)), ENGINE_INF, np.int64)
    res = eng.origin_searches(gate, minutes)
    if res is None:
        return out
    ready, _, row, shift = res
    rows = np.repeat(np.arange(len(ready), dtype=np.int64), len(cols))
    dests = np.tile(eng.stations[cols], len(ready))
    d, _ = eng.deliver_rows(ready, gate, rows, dests)
    d = d.reshape(len(ready), len(cols))[row]
    reach = d < ENGINE_INF
    out[reach] = (d + shift[:, None])[reach]
    return out


def _latest(fixed: Network, gates: np.ndarray, area: np.ndarray, pop_share: np.ndarray):
    """Per gateway block of stations: the latest arrival at the gateway that delivers each
    station by 24 h after each order hour, sorted, with population suffix sums; and the
    delivery profiles of the blocks (arrival minute of day x block position) with their
    station columns."""
    eng = PromiseEngine(fixed)
    st = eng.stations
    st_area = area[st]
    blocks = [np.flatnonzero(st_area == g) for g in range(len(gates))]
    g_ptr = np.concatenate([[0], np.cumsum([len(b) for b in blocks])]).astype(np.int64)
    n = int(g_ptr[-1])
    l_sorted = np.full((24, n), -1, np.int64)
    p_sorted = np.zeros((24, n))
    deliver0 = np.full((DAY, n), ENGINE_INF, np.int64)
    deadlines = np.arange(24, dtype=np.int64) * 60 + DAY
    for g, cols in enumerate(blocks):
        if len(cols) == 0:
            continue
        d = _arrival_profile(eng, int(gates[g]), cols)
        big = np.where(d >= ENGINE_INF, np.iinfo(np.int64).max // 2, d)
        if (np.diff(big, axis=0) < 0).any() or (big[-1] > big[0] + DAY).any():
            # arriving later never delivers earlier (the day after: a day later)
            raise SolverError("delivery is not monotone in the arrival minute at a gateway; "
                              "please report this as a bug")
        lo, hi = g_ptr[g], g_ptr[g + 1]
        deliver0[:, lo:hi] = d
        p = pop_share[cols]
        last = latest_arrival(d, np.broadcast_to(deadlines[:, None], (24, len(cols))))
        for h in range(24):
            o = np.argsort(last[h], kind="stable")
            l_sorted[h, lo:hi] = last[h][o]
            p_sorted[h, lo:hi] = p[o]
    suffix = np.zeros((24, n + 1))
    suffix[:, :n] = np.cumsum(p_sorted[:, ::-1], axis=1)[:, ::-1]
    return g_ptr, l_sorted, suffix, deliver0, np.concatenate(blocks).astype(np.int64)


def _weights(units: dict) -> dict:
    total = sum(units.values())
    return {k: u / total for k, u in units.items()}


def _sources(fixed: Network, gates, area, units: dict, pop_share: np.ndarray,
             origins: np.ndarray):
    """Arrival at the gateway of every weighted (origin, hour), grouped into search keys, and
    the covered weight inside the areas (in all, and per named origin). The sources of the
    named ``origins`` are kept apart (their index in ``origins``); the others are merged by
    gateway, arrival and hour."""
    eng = PromiseEngine(fixed)
    proc = fixed.timetable.process
    st_area = area[eng.stations]
    total = sum(units.values())
    name = {int(o): i for i, o in enumerate(origins)}
    by_origin: dict[int, list[tuple[int, int]]] = {}
    for (o, h), u in units.items():
        by_origin.setdefault(o, []).append((h, u))
    fixed_value = 0.0
    fixed_by_origin = np.zeros(len(origins))
    rows = []                                    # (gateway, arrival, hour, origin, weight, units)
    for o, hu in by_origin.items():
        hours = np.array([h for h, _ in hu], np.int64)
        u = np.array([x for _, x in hu], np.int64)
        w = u / total
        created = hours * 60
        a = area[o]
        d = eng.delivered_from(o, created)
        inside = (st_area == a) if a >= 0 else np.ones(len(st_area), bool)
        within = (d < ENGINE_INF) & (d - created[:, None] <= DAY) & inside[None, :]
        fixed_value += float(w @ (within @ pop_share))
        if o in name:
            fixed_by_origin[name[o]] = float((within @ pop_share).mean())
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
        for h, x, n, t in zip(hours, w, u, arrival):
            if t >= 0:
                rows.append((a, int(t), int(h), name.get(o, -1), float(x), int(n)))
    df = pd.DataFrame(rows, columns=["g", "arrival", "hour", "origin", "weight", "units"])
    df = df.groupby(["g", "arrival", "hour", "origin"], as_index=False)[["weight", "units"]].sum()
    key, first = np.unique(df["g"].to_numpy(np.int64) * (1 << 32) + df["arrival"].to_numpy(np.int64),
                           return_index=True)
    s_ptr = np.r_[first, len(df)].astype(np.int64)
    keys = {"src": df["g"].to_numpy(np.int64)[first], "arrival": df["arrival"].to_numpy(np.int64)[first],
            "s_ptr": s_ptr, "hour": df["hour"].to_numpy(np.int64),
            "weight": df["weight"].to_numpy(float), "units": df["units"].to_numpy(np.int64),
            "origin": df["origin"].to_numpy(np.int64)}
    return fixed_value, fixed_by_origin, keys


def _ceil_step(m: np.ndarray, step: int) -> np.ndarray:
    return (-(-np.asarray(m, np.int64) // step) * step) % DAY


def _candidates(network: Network, scope, gates, area, keys, step: int, new_air: bool,
                params, relay: list[set] | None = None) -> Candidates:
    """The network's backbone trips, extra departures on its backbone lanes at the gateway's
    banks and at the minutes parcels from its own area are ready (and the minutes of
    ``relay``, per gateway), and (``new_air``) air links between gateways at least
    ``air.min_distance_km`` apart that have none."""
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
    for g, minutes in enumerate(relay or []):
        offer[g] |= minutes
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
        st_area = area[network.stations]
        alone = np.bincount(st_area[st_area >= 0], minlength=len(gates)) == 0
        new_lanes, extra = _new_air(network, scope, gates, offer, params, alone)
        rows += extra
    c = list(zip(*rows))
    return Candidates(lane_id=np.array(c[0], dtype=object), frm=np.array(c[1], np.int64),
                      to=np.array(c[2], np.int64), dep=np.array(c[3], np.int64),
                      dur=np.array(c[4], np.int64), cost=np.array(c[5], float),
                      capacity=np.array(c[6], np.int64), trip_id=np.array(c[7], dtype=object),
                      new_lanes=new_lanes)


def _new_air(network: Network, scope, gates, offer, params, alone: np.ndarray):
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
    have = np.zeros((len(gates), len(gates)), bool)
    gidx = np.full(tt.n_facilities, -1, np.int64)
    gidx[gates] = np.arange(len(gates))
    have[gidx[tt.lane_from[air]], gidx[tt.lane_to[air]]] = True
    flies = np.ones(len(gates), bool)
    sorts = np.zeros(len(gates), bool)
    if len(gates) > AIR_GATEWAYS_ALL_UP_TO:       # see AIR_GATEWAYS_ALL_UP_TO
        flies = alone.copy()
        flying = np.zeros(len(gates), bool)
        flying[gidx[tt.lane_from[air]]] = flying[gidx[tt.lane_to[air]]] = True
        flies |= flying
        sorts = alone & flying                    # air hubs: any gateway may join their sort
    km_all = haversine_km(lat[:, None], lon[:, None], lat[None, :], lon[None, :])
    pair = (flies[:, None] & flies[None, :]) | sorts[:, None] | sorts[None, :]
    ok = pair & ~have & ~np.eye(len(gates), dtype=bool) & (km_all >= params.air.min_distance_km)
    ids = set(lanes["lane_id"])
    new, rows = [], []
    for i, j in zip(*np.nonzero(ok)):
        km = float(km_all[i, j])
        a, b = network.facility_index[gates[i]], network.facility_index[gates[j]]
        lid = f"{a}>{b}:air"
        while lid in ids:
            lid += "+"
        dur = int(lane_minutes(km, "air", params.speeds))
        cost = round(vehicles * float(vehicle_trip_cost(km, "air", params.costs)))
        new.append({"lane_id": lid, "from_facility": a, "to_facility": b, "mode": "air",
                    "duration_minutes": str(dur), "distance_km": f"{km:.1f}",
                    "cost_per_trip": str(cost), "tier": "air"})
        rows += [(lid, int(i), int(j), m, dur, float(cost), cap, "") for m in sorted(offer[i])]
    df = pd.DataFrame(new, columns=list(lanes.columns)).fillna("")
    return df, rows


def build_model(network: Network, demand: Parcels | None = None, tiers=SCOPE_TIERS,
                step: int = 30, new_air: bool = True, params: Params | None = None,
                origins: list[str] | None = None, hour: int | None = None,
                relay: int = 0) -> ServiceModel:
    """The decomposed service design problem of ``network``.

    ``demand`` is a demand day (its origins and creation hours weigh the orders), or None for
    every hub alike; or ``origins`` (facility ids) with an order ``hour``: orders from each
    at the hour's first minute, each origin alike and its share kept apart. ``step`` rounds
    the ready minutes offered as new departures (minutes). ``relay`` rounds also offer, at
    every gateway, the minutes the searches' parcels are ready there with every candidate
    (so that a transfer need not wait for a bank), until no new minute comes up.
    """
    if not (isinstance(step, int) and 1 <= step <= DAY):
        raise ParameterError(f"the departure step must be a whole number of minutes in 1..1440, got {step}")
    units = _demand_units(network, demand, origins, hour)
    scope = _scope(network, tuple(tiers))
    fixed = _without(network, scope)
    gates, area = _areas(network, fixed, scope)
    pop = network.station_population
    pop_share = pop / max(pop.sum(), 1e-12)
    named = np.array([o for o, _ in units] if origins is not None else [], np.int64)
    fixed_value, fixed_by_origin, keys = _sources(fixed, gates, area, units, pop_share, named)
    g_ptr, l_sorted, suffix, deliver0, block_cols = _latest(fixed, gates, area, pop_share)
    if params is None:
        params = load_params(network.country or "XX")   # unknown: the defaults
    cand = _candidates(network, scope, gates, area, keys, step, new_air, params)
    model = ServiceModel(network=network, fixed=fixed, tiers=tuple(tiers), gateways=gates,
                         area=area, cand=cand, fixed_value=fixed_value, keys=keys, g_ptr=g_ptr,
                         l_sorted=l_sorted, suffix=suffix, weights=_weights(units), units=units,
                         origins=named, hour=None if origins is None else int(hour),
                         fixed_by_origin=fixed_by_origin, deliver0=deliver0,
                         block_cols=block_cols)
    extra = [set() for _ in gates]
    proc = fixed.timetable.process[gates]
    for _ in range(relay):
        _, arr, _ = model.searches(np.ones(len(model.cand), bool))
        q, g = np.nonzero(arr < K.INF)
        before = sum(map(len, extra))
        for gg, m in zip(g, _ceil_step(arr[q, g] + proc[g], step)):
            extra[gg].add(int(m))
        if sum(map(len, extra)) == before:
            break
        model = replace(model, cand=_candidates(network, scope, gates, area, keys, step, new_air,
                                                params, extra))
    return model

