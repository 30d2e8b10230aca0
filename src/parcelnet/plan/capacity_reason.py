"""Capacity as a reason: what a simulated day does to an order, and which limit is to blame.

A promise ignores capacity. With a day of parcels (``--parcels``), :func:`order_on_a_day` adds
the order to the day as one more parcel and simulates it exactly as ``parcelnet simulate``
does. A parcel is late against its promise only because a sorter or a trip was full (with
unlimited capacity every parcel is delivered at its promise). To say which, the day is
simulated again with one limit lifted at a time, in path order: the origin's sorter, the first
lane's trips, the next facility's sorter, and so on. The first limit whose lifting alone brings
the order back to its promise is named. When no single one does, it says whether lifting every
sorter, or every trip, of the path does.

:func:`day_outside_24h` gives the same view for a whole day: the share of parcels whose promise
is within 24 hours but that the simulated day delivers later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.network.model import Network
from parcelnet.network.scale import scale_capacity
from parcelnet.parcels import Parcels
from parcelnet.results import Result
from parcelnet.sim.run import simulate
from parcelnet.units import DAY

UNLIMITED = 10**12


def _lifted(network: Network, lanes=(), sorters=()) -> Network:
    tt = network.timetable
    cap = spm = None
    if len(lanes):
        cap = np.where(np.isin(tt.trip_lane, np.asarray(lanes, np.int64)), UNLIMITED, tt.trip_capacity)
    if len(sorters):
        spm = tt.sort_per_minute.copy()
        spm[np.asarray(sorters, np.int64)] = 0
    return network.with_capacities(cap, spm)


@dataclass
class OrderOnDay(Result):
    """One order simulated among a day's parcels (minutes absolute; None: unroutable or not
    delivered). ``limit``: the limit that makes it late (``kind`` lane, sorter or several,
    ``id``, ``text``), None when it is on time. ``late_minutes`` and ``within_24h`` are given
    when the order has a promise."""

    parcels: int
    capacity_scale: float
    promise_minute: int | None
    delivered_minute: int | None
    limit: dict | None
    late_minutes: int | None = None
    within_24h: bool | None = None

    def to_dict(self) -> dict:
        d = super().to_dict()
        if self.promise_minute is None:
            del d["late_minutes"], d["within_24h"]
        return d


@dataclass(frozen=True)
class DayShares(Result):
    """Shares of a simulated day's parcels: promised within 24 h, delivered within 24 h, and
    promised within but delivered beyond 24 h (a capacity limit's doing)."""

    parcels: int
    capacity_scale: float
    within_24h_by_promise: float
    within_24h_simulated: float
    outside_24h_by_capacity: float


def order_on_a_day(network: Network, parcels: Parcels, origin: str, destination: str, created: int,
                   capacity_scale: float = 1.0) -> OrderOnDay:
    """The order simulated among ``parcels`` on capacities times ``capacity_scale``; with the
    limit that makes it late, if any."""
    out = _order_on_a_day(network, parcels, origin, destination, created, capacity_scale)
    return OrderOnDay(**out)


def _order_on_a_day(network, parcels, origin, destination, created, capacity_scale) -> dict:
    net = scale_capacity(network, capacity_scale) if capacity_scale != 1.0 else network
    o, d = network.facility(origin), network.station(destination)
    day = parcels.append(int(parcels.parcel_id.max()) + 1 if len(parcels) else 0, created, o, d)
    pid = day.parcel_id
    res = simulate(net, day)
    promise, got = int(res.promise[-1]), int(res.delivered[-1])
    out = {"parcels": len(pid), "capacity_scale": capacity_scale,
           "promise_minute": promise if promise >= 0 else None,
           "delivered_minute": got if got >= 0 else None, "limit": None}
    if promise < 0:
        return out
    out["late_minutes"] = None if got < 0 else got - promise
    out["within_24h"] = got >= 0 and got - created <= DAY
    if got == promise:
        return out
    k = res.paths.path_id[-1]
    lanes = res.paths.path_lanes[res.paths.path_ptr[k]:res.paths.path_ptr[k + 1]]
    lanes = [int(x) for x in lanes if x >= 0]
    tt = network.timetable
    stops = [o] + [int(tt.lane_to[x]) for x in lanes]
    order = []
    for i, f in enumerate(stops):
        if tt.sort_per_minute[f] > 0:
            order.append(("sorter", f))
        if i < len(lanes):
            order.append(("lane", lanes[i]))

    def on_time(lanes_up=(), sorters_up=()) -> int:
        r = simulate(_lifted(net, lanes_up, sorters_up), day, paths=res.paths)
        return int(r.delivered[-1])
    for kind, x in order:
        g = on_time(lanes_up=[x]) if kind == "lane" else on_time(sorters_up=[x])
        if g == promise:
            name = network.lane_id_array[x] if kind == "lane" else network.facility_index[x]
            what = (f"the trips of lane {name} were full" if kind == "lane"
                    else f"the sorter at {name} had a backlog")
            out["limit"] = {"kind": kind, "id": str(name),
                            "text": f"{what}: with that limit alone lifted the order is "
                                    f"delivered on its promise"}
            return out
    only_sorters = on_time(sorters_up=[f for k, f in order if k == "sorter"]) == promise
    only_lanes = on_time(lanes_up=[x for k, x in order if k == "lane"]) == promise
    text = ("several limits together: lifting every sorter on the path brings it back"
            if only_sorters else
            "several limits together: lifting every trip on the path brings it back"
            if only_lanes else
            "several limits together, sorters and trips along the path (and the queues they "
            "leave elsewhere)")
    out["limit"] = {"kind": "several", "id": None, "text": text}
    return out


def capacity_reason(sim: OrderOnDay, created: int, promised_within_24h: bool) -> dict | None:
    """The ``capacity limit`` reason of parcelnet explain, when the simulated day puts the
    order beyond 24 hours (or later still than a promise already beyond them)."""
    if sim.promise_minute is None or sim.limit is None:
        return None
    got = sim.delivered_minute
    late = sim.late_minutes
    if promised_within_24h and got is not None and got - created <= DAY:
        return None                 # late against its promise, still within 24 h
    when = ("not delivered within the horizon" if got is None
            else f"delivered {late} min after its promise, {(got - created) / 60:.1f} h after the order")
    return {"reason": "capacity limit", "minutes": late,
            "text": f"on a simulated day of {sim.parcels:,} parcels it is {when}: "
                    f"{sim.limit['text']}", "limit": sim.limit}


def day_outside_24h(network: Network, parcels: Parcels, capacity_scale: float = 1.0) -> DayShares:
    """Shares of a simulated day: within 24 h by promise, within 24 h simulated, and the
    parcels a capacity limit puts beyond 24 h (promise within, delivery beyond)."""
    net = scale_capacity(network, capacity_scale) if capacity_scale != 1.0 else network
    res = simulate(net, parcels)
    cre = res.created
    p, d = res.promise, res.delivered
    by_promise = (p >= 0) & (p - cre <= DAY)
    simulated = (d >= 0) & (d - cre <= DAY)
    n = max(len(cre), 1)
    return DayShares(parcels=int(len(cre)), capacity_scale=capacity_scale,
                     within_24h_by_promise=float(by_promise.sum() / n),
                     within_24h_simulated=float(simulated.sum() / n),
                     outside_24h_by_capacity=float((by_promise & ~simulated).sum() / n))
