"""A delivery station's day: courier routes by PyVRP on street travel times.

Stops are deliveries (parcels loaded at the station) and pickups (parcels brought back), each
with a location, a time window and a size. Couriers have a mode (car, ebike, walk), a shift
and a capacity. Every courier's travel times come from the street map of its mode (the local
router, :class:`parcelnet.geo.routing.LocalRouter`, or a routing provider for the points on
the map), in whole seconds, rounded up. The objective is total travel time. The station must
be on the map (within the snapping limit of a road of every courier's mode). A stop that
cannot be served is left out and its reason given:

- ``no road within N m``: no road of any courier's mode within the snapping limit;
- ``no road to or from the station``: on the map, but no courier's mode links it both ways
  with the station;
- ``too large``: larger than every courier's capacity;
- ``time window out of reach``: no courier could serve it even alone, leaving the station at
  the start of its shift and returning by its end;
- ``not enough couriers``: each could be served alone, but the couriers' time and capacity do
  not stretch to it with the rest (the search left it out).

Times are seconds from midnight (integers) inside, minutes of day in the files.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet._deps import require
from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.routing import RoutingProvider, street_router
from parcelnet.progress import Progress, or_none
from parcelnet.geo.snap import MAX_SNAP_M, check_coordinates, far
from parcelnet.geo.streets import PROFILES, Ways, street_graph
from parcelnet.results import Result, jsonable
from parcelnet.tables import choice, coordinates, ids, read_csv, require_columns, whole_numbers

UNREACHABLE = 10**9
STOP_COLUMNS = ("stop_id", "kind", "lat", "lon", "ready_minute", "due_minute", "service_seconds", "size")
COURIER_COLUMNS = ("courier_id", "mode", "shift_start_minute", "shift_end_minute", "capacity")
KINDS = ("delivery", "pickup")


@dataclass(frozen=True)
class DayPlan(Result):
    routes: pd.DataFrame         # courier_id, seq, stop_id, kind, arrival_s, start_s, load_after
    couriers: pd.DataFrame       # courier_id, stops, travel_s, start_s, end_s
    unassigned: pd.DataFrame     # stop_id, reason
    travel_s: dict               # mode -> (n + 1) x (n + 1) int matrix, 0 = the station
    seconds: float

    def to_dict(self) -> dict:
        return jsonable({"routes": {c: g["stop_id"].tolist() for c, g in self.routes.groupby("courier_id", sort=False)},
                "travel_seconds": int(self.couriers["travel_s"].sum()),
                "served": int(len(self.routes)), "unassigned": self.unassigned.to_dict("records"),
                "seconds": round(self.seconds, 2)})


def _first(mask) -> int:
    return int(np.flatnonzero(mask)[0])


def stops_table(df: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """The stops, every row checked (``file`` names them in errors; by default the file
    they were read from, ``attrs["file"]``), typed."""
    name = file or df.attrs.get("file") or "stops table"
    require_columns(df.columns, STOP_COLUMNS, name)
    s = df.astype(str)
    kind = choice(s, name, "kind", KINDS)
    lat, lon = coordinates(s, name)
    ready = whole_numbers(s, name, "ready_minute", 0, 2880)
    due = whole_numbers(s, name, "due_minute", 0, 2880)
    if (due < ready).any():
        raise ValidationError("due before ready", file=name, row=_first(due < ready) + 2, field="due_minute")
    out = pd.DataFrame({"stop_id": ids(s, name, "stop_id"), "kind": np.array(KINDS)[kind], "lat": lat,
                        "lon": lon, "ready_minute": ready, "due_minute": due,
                        "service_seconds": whole_numbers(s, name, "service_seconds", 0),
                        "size": whole_numbers(s, name, "size", 0)})
    out.attrs = {"file": name}
    return out


def couriers_table(df: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """The couriers, every row checked and typed (see :func:`stops_table`)."""
    name = file or df.attrs.get("file") or "couriers table"
    require_columns(df.columns, COURIER_COLUMNS, name)
    s = df.astype(str)
    mode = choice(s, name, "mode", PROFILES)
    a = whole_numbers(s, name, "shift_start_minute", 0, 2880)
    b = whole_numbers(s, name, "shift_end_minute", 0, 2880)
    if (b <= a).any():
        raise ValidationError("shift ends before it starts", file=name, row=_first(b <= a) + 2,
                              field="shift_end_minute")
    out = pd.DataFrame({"courier_id": ids(s, name, "courier_id"), "mode": np.array(PROFILES)[mode],
                        "shift_start_minute": a, "shift_end_minute": b,
                        "capacity": whole_numbers(s, name, "capacity", 1)})
    out.attrs = {"file": name}
    return out


def read_stops(path) -> pd.DataFrame:
    """A stops CSV (``STOP_COLUMNS``), at least one stop, checked."""
    return stops_table(read_csv(path, STOP_COLUMNS, min_rows=1, what="stops"), Path(path).name)


def read_couriers(path) -> pd.DataFrame:
    """A couriers CSV (``COURIER_COLUMNS``), at least one courier, checked."""
    return couriers_table(read_csv(path, COURIER_COLUMNS, min_rows=1, what="couriers"), Path(path).name)


def plan_day(ways: Ways, station: tuple[float, float], stops: pd.DataFrame, couriers: pd.DataFrame,
             seconds: float = 10.0, seed: int = 0, max_snap_m: float = MAX_SNAP_M,
             routers: Mapping[str, RoutingProvider] | None = None,
             progress: Progress | None = None) -> DayPlan:
    """Routes for the couriers from ``station`` (lat, lon) over the stops (see the module).
    ``routers`` gives a routing provider per mode (car, ebike, walk); the modes it does not
    name use the local router on the street map. Points farther than ``max_snap_m`` from the
    roads of a mode are off the map for it. ``progress`` hears the stages "street times" (one
    a mode) and "route search"."""
    pv = require("pyvrp", "lastmile", "routing couriers")
    stop_mod = require("pyvrp.stop", "lastmile", "routing couriers")
    stops, couriers = stops_table(stops), couriers_table(couriers)
    if not seconds > 0:
        raise ParameterError(f"the search time must be a positive number of seconds, got {seconds}")
    (s_lat,), (s_lon,) = check_coordinates(station[0], station[1])
    t0 = time.perf_counter()
    n = len(stops)
    lat = np.r_[s_lat, stops["lat"].to_numpy(float)]
    lon = np.r_[s_lon, stops["lon"].to_numpy(float)]
    modes = list(dict.fromkeys(couriers["mode"]))
    travel, reach, near = {}, np.zeros(n, bool), np.zeros(n, bool)
    progress = or_none(progress)
    progress.start("street times", len(modes))
    for m in modes:
        progress.advance()
        r = street_router(street_graph(ways, m), (routers or {}).get(m), max_snap_m)
        snap_m = r.snap_m(lat, lon)
        if not snap_m[0] <= r.max_snap_m:
            raise ParameterError(f"the station at {s_lat:.5f},{s_lon:.5f} is {far(snap_m[0])} from the "
                                 f"nearest {m} road of the street map (the limit is {r.max_snap_m:g} m)")
        near |= snap_m[1:] <= r.max_snap_m
        sec = r.matrix(lat, lon, lat, lon)
        ok = np.isfinite(sec)
        travel[m] = np.where(ok, np.ceil(np.where(ok, sec, 0)), UNREACHABLE).astype(np.int64)
        np.fill_diagonal(travel[m], 0)
        reach |= ok[0, 1:] & ok[1:, 0]
    limit = float(max_snap_m)
    kind = stops["kind"].to_numpy()
    size = stops["size"].to_numpy()
    ready = stops["ready_minute"].to_numpy() * 60
    due = stops["due_minute"].to_numpy() * 60
    serv = stops["service_seconds"].to_numpy()
    cmode = couriers["mode"].to_numpy()
    c_a = couriers["shift_start_minute"].to_numpy() * 60
    c_b = couriers["shift_end_minute"].to_numpy() * 60
    cap = couriers["capacity"].to_numpy()

    # who could serve each stop alone (the reasons of stops left out)
    alone = np.zeros(n, bool)
    for k in range(len(couriers)):
        t = travel[cmode[k]]
        arrive = c_a[k] + t[0, 1:]
        start = np.maximum(arrive, ready)
        alone |= (t[0, 1:] < UNREACHABLE) & (start <= due) & (start + serv + t[1:, 0] <= c_b[k]) & \
            (size <= cap[k])
    # only stops some courier could serve alone go to the solver (the rest have their reason)
    cand = np.flatnonzero(alone)
    loc_idx = np.r_[0, cand + 1]
    sub = {m: t[np.ix_(loc_idx, loc_idx)] for m, t in travel.items()}
    prize = int(max(1, 10 * max(int(t.max()) for t in sub.values())))
    locs = [pv.Location(float(lon[j]), float(lat[j])) for j in loc_idx]
    clients = [pv.Client(q + 1, delivery=[int(size[i]) if kind[i] == "delivery" else 0],
                         pickup=[int(size[i]) if kind[i] == "pickup" else 0],
                         service_duration=int(serv[i]), tw_early=int(ready[i]), tw_late=int(due[i]),
                         prize=prize, required=False) for q, i in enumerate(cand)]
    depots = [pv.Depot(0, tw_early=int(c_a.min()), tw_late=int(c_b.max()))]
    vtypes = [pv.VehicleType(1, capacity=[int(cap[k])], start_depot=0, end_depot=0,
                             tw_early=int(c_a[k]), tw_late=int(c_b[k]), profile=modes.index(cmode[k]),
                             name=str(couriers["courier_id"].iat[k])) for k in range(len(couriers))]
    rows, crow = [], []
    served = np.zeros(n, bool)
    if len(cand):
        mats = [sub[m] for m in modes]
        data = pv.ProblemData(locs, clients, depots, vtypes, mats, mats)
        progress.start("route search")
        res = pv.solve(data, stop=stop_mod.MaxRuntime(float(seconds)), seed=int(seed), display=False)
        progress.finish()
        if not res.best.is_feasible():
            raise ParameterError("the route search found no feasible plan in the time given; "
                                 "give it more search time")
        routes = res.best.routes()
    else:
        progress.finish()
        routes = []
    for route in routes:
        k = route.vehicle_type()
        cid = str(couriers["courier_id"].iat[k])
        visits = [int(cand[a.idx]) for a in route if a.is_client()]
        acts = [a for a in route if a.is_client()]
        load = int(sum(size[i] for i in visits if kind[i] == "delivery"))
        prev, trav = 0, 0
        for seq, (i, a) in enumerate(zip(visits, acts), start=1):
            trav += int(travel[cmode[k]][prev, i + 1])
            load += -int(size[i]) if kind[i] == "delivery" else int(size[i])
            rows.append((cid, seq, stops["stop_id"].iat[i], kind[i], int(a.start_time) - int(a.wait_duration),
                         int(a.start_time), load))
            served[i] = True
            prev = i + 1
        trav += int(travel[cmode[k]][prev, 0])
        crow.append((cid, len(visits), trav, int(route.start_time()), int(route.end_time())))
    reasons = []
    for i in np.flatnonzero(~served):
        why = (f"no road within {limit:g} m" if not near[i] else "no road to or from the station"
               if not reach[i] else "too large" if size[i] > cap.max()
               else "time window out of reach" if not alone[i] else "not enough couriers")
        reasons.append((stops["stop_id"].iat[i], why))
    return DayPlan(
        routes=pd.DataFrame(rows, columns=["courier_id", "seq", "stop_id", "kind", "arrival_s", "start_s",
                                           "load_after"]),
        couriers=pd.DataFrame(crow, columns=["courier_id", "stops", "travel_s", "start_s", "end_s"]),
        unassigned=pd.DataFrame(reasons, columns=["stop_id", "reason"]),
        travel_s=travel, seconds=time.perf_counter() - t0)


def check_day(plan: DayPlan, stops: pd.DataFrame, couriers: pd.DataFrame) -> list[str]:
    """Every rule the plan breaks (empty when none), from the plan's own travel times and
    independently of the solver: each stop served at most once and every stop served or
    explained; service within the time window after the travel from the previous stop; the
    load (deliveries on board at the start, pickups added) within capacity all along; back at
    the station by the end of the shift."""
    problems = []
    pos = {s: i + 1 for i, s in enumerate(stops["stop_id"])}
    st = stops.set_index("stop_id")
    cs = couriers.set_index("courier_id")
    served = plan.routes["stop_id"].tolist()
    if len(set(served)) != len(served):
        problems.append("a stop served twice")
    if set(served) | set(plan.unassigned["stop_id"]) != set(stops["stop_id"]):
        problems.append("stops neither served nor explained")
    for cid, g in plan.routes.groupby("courier_id", sort=False):
        c = cs.loc[cid]
        t = plan.travel_s[c["mode"]]
        g = g.sort_values("seq")
        load = int(sum(int(st.loc[s, "size"]) for s in g["stop_id"] if st.loc[s, "kind"] == "delivery"))
        if load > int(c["capacity"]):
            problems.append(f"{cid}: leaves with {load} over capacity {c['capacity']}")
        clock, prev = int(c["shift_start_minute"]) * 60, 0
        for s in g["stop_id"]:
            i = pos[s]
            clock = max(clock + int(t[prev, i]), int(st.loc[s, "ready_minute"]) * 60)
            if clock > int(st.loc[s, "due_minute"]) * 60:
                problems.append(f"{cid}: {s} served at {clock} s, due {int(st.loc[s, 'due_minute']) * 60} s")
            load += int(st.loc[s, "size"]) * (1 if st.loc[s, "kind"] == "pickup" else -1)
            if load > int(c["capacity"]):
                problems.append(f"{cid}: load {load} after {s} over capacity {c['capacity']}")
            clock += int(st.loc[s, "service_seconds"])
            prev = i
        back = clock + int(t[prev, 0])
        if back > int(c["shift_end_minute"]) * 60:
            problems.append(f"{cid}: back at {back} s, shift ends {int(c['shift_end_minute']) * 60} s")
    return problems
