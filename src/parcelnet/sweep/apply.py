"""A scenario's variations applied to the base network and day (docs/sweep.md).

Everything here is a pure function of its inputs, seeds included: the same scenario gives
the same network and parcels in any process, in any order.

- **Demand** ``{province = m}``: each parcel created in the province is kept m times: the
  whole part of m always, one more with probability the fractional part (one uniform draw
  per parcel of the day, from the seed). Extra copies get new ids after the day's largest,
  in parcel order, so the day stays sorted by creation minute.
- **Outages**: trips cancelled on every day of the run (the timetable is daily): a lane's
  trips departing in the window, or a hub's trips leaving it or arriving at it in the
  window. A lane left with no trip is removed; parcels then route around it.
- **Sorters**: a hub's sorter rate times the scale, rounded up (unlimited stays unlimited).
- **Trips**: the capacity of a lane's trips, or of every lane leaving a hub, times the
  scale, rounded up, at least 1.
- **Air links**: a new air lane ``FROM>TO/air+`` with its daily trips; its distance is the
  great circle between the two facilities.

Trip capacities and sorter rates, the new trips' included, are then multiplied by the base's
``capacity_scale``: the scenario's scale and the base's are rounded up once, together.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError
from parcelnet.geo.coords import haversine_km
from parcelnet.network.model import Network
from parcelnet.network.scale import scale_capacity
from parcelnet.parcels import Parcels
from parcelnet.sweep.scenario import MINUTES, Scenario


def _in_window(minute: np.ndarray, a: int, z: int) -> np.ndarray:
    return (minute >= a) & (minute < z) if a < z else (minute >= a) | (minute < z)


def _facility(net: Network, fid: str, sc: Scenario, field: str) -> int:
    if fid not in net.facility_index:
        raise ParameterError(f"scenario '{sc.name}': {field}: no facility '{fid}' in the network")
    return int(net.facility_index.get_loc(fid))


def _lane(net: Network, lid: str, sc: Scenario, field: str) -> int:
    if lid not in net.lane_index:
        raise ParameterError(f"scenario '{sc.name}': {field}: no lane '{lid}' in the network")
    return int(net.lane_index.get_loc(lid))


def apply_network(net: Network, sc: Scenario, capacity_scale: float = 1.0) -> tuple[Network, list[str]]:
    """The scenario's network, and the lanes its outages removed."""
    tt = net.timetable
    trips = net.tables["trips.csv"].copy()
    lanes = net.tables["lanes.csv"].copy()
    t_lane = tt.trip_lane
    t_dep = tt.trip_departure
    keep = np.ones(len(trips), bool)
    for k, o in enumerate(sc.outages):
        if o.lane is not None:
            lane = _lane(net, o.lane, sc, f"outages[{k}].lane")
            keep &= ~((t_lane == lane) & _in_window(t_dep, o.from_minute, o.to_minute))
        else:
            hub = _facility(net, o.hub, sc, f"outages[{k}].hub")
            arrive = (t_dep + tt.lane_duration[t_lane]) % MINUTES
            keep &= ~((tt.lane_from[t_lane] == hub) & _in_window(t_dep, o.from_minute, o.to_minute))
            keep &= ~((tt.lane_to[t_lane] == hub) & _in_window(arrive, o.from_minute, o.to_minute))
    trip_f = np.ones(len(trips))
    for k, c in enumerate(sc.trips):
        if c.lane is not None:
            hit = t_lane == _lane(net, c.lane, sc, f"trips[{k}].lane")
        else:
            hit = tt.lane_from[t_lane] == _facility(net, c.hub, sc, f"trips[{k}].hub")
        trip_f[hit] *= c.scale
    sort_f = np.ones(tt.n_facilities)
    for k, c in enumerate(sc.sorters):
        sort_f[_facility(net, c.hub, sc, f"sorters[{k}].hub")] *= c.scale
    trips = trips[keep]
    trip_f = trip_f[keep]
    left = set(trips["lane_id"])
    removed = [x for x in lanes["lane_id"] if x not in left]
    lanes = lanes[lanes["lane_id"].isin(left)]
    new_lanes, new_trips = [], []
    for k, a in enumerate(sc.air_links):
        i = _facility(net, a.from_facility, sc, f"air_links[{k}].from")
        j = _facility(net, a.to_facility, sc, f"air_links[{k}].to")
        if i == j:
            raise ParameterError(f"scenario '{sc.name}': air_links[{k}]: 'from' and 'to' are the same facility")
        lid = f"{a.from_facility}>{a.to_facility}/air+"
        if lid in net.lane_index or any(r["lane_id"] == lid for r in new_lanes):
            raise ParameterError(f"scenario '{sc.name}': air_links[{k}]: the lane '{lid}' exists already")
        (la1, lo1), (la2, lo2) = net.lat_lon[[i, j]]
        d = float(haversine_km(la1, lo1, la2, lo2))
        new_lanes.append({"lane_id": lid, "from_facility": a.from_facility, "to_facility": a.to_facility,
                          "mode": "air", "duration_minutes": str(a.duration_minutes),
                          "distance_km": f"{d:.1f}", "cost_per_trip": "0"})
        new_trips += [{"trip_id": f"{lid}@{m:04d}", "lane_id": lid, "departure_minute": str(m),
                       "capacity": str(a.capacity)} for m in a.departures]
    if new_lanes:
        lanes = pd.concat([lanes, pd.DataFrame(new_lanes)], ignore_index=True).fillna("")
        trips = pd.concat([trips, pd.DataFrame(new_trips)], ignore_index=True).fillna("")
        trip_f = np.concatenate([trip_f, np.ones(len(new_trips))])
    # the scenario's changes and the base's scale in one rounding (network.scale)
    out = scale_capacity(net.replace(lanes=lanes, trips=trips), capacity_scale,
                         trip_factor=trip_f, sort_factor=sort_f)
    return out, removed


def apply_demand(net: Network, parcels: Parcels, sc: Scenario) -> Parcels:
    """The day with the scenario's demand multipliers (module docs)."""
    if not sc.demand:
        return parcels
    from parcelnet.sim.kpis import station_admin1

    admin1 = pd.Series(station_admin1(net), dtype=object).fillna("").to_numpy(object)
    known = set(admin1) | set(net.places["admin1"].astype(str))
    mult = np.ones(len(admin1))
    for prov, m in sc.demand:
        if prov not in known:
            raise ParameterError(f"scenario '{sc.name}': demand: no province '{prov}' in the network's "
                                 f"places (admin1)")
        mult[admin1 == prov] = m
    m = mult[parcels.origin_pos]
    u = np.random.default_rng([sc.seed, 0x5EED]).random(len(parcels))
    whole = np.floor(m)
    copies = (whole + (u < m - whole)).astype(np.int64)
    idx = np.repeat(np.arange(len(parcels)), copies)
    first = np.ones(len(idx), bool)
    first[1:] = idx[1:] != idx[:-1]
    pid = parcels.parcel_id[idx].copy()
    top = int(parcels.parcel_id.max()) if len(parcels) else -1
    pid[~first] = top + 1 + np.arange(int((~first).sum()))
    # a parcel kept 0 times is gone: ids of the kept copies stay those of the day
    return Parcels(pid, parcels.created_minute[idx], parcels.origin_pos[idx], parcels.dest_pos[idx])
