"""Why an order is (not) delivered within 24 hours: ``parcelnet explain``.

For an origin, a destination station and a creation minute, :func:`explain` replays the
promised path step by step (ready minute, departure taken, wait, arrival; the wave at the
destination) and, when the promise is beyond 24 hours, gives the reasons in this order:

1. ``unreachable``: no chain of lanes leads from the origin to the station.
2. ``physically impossible``: even a direct link over the great circle at the fastest speed
   of any lane of the network (at least a freighter's block speed,
   :data:`parcelnet.promise.bounds.AIR_BLOCK_KMH`), with
   the processing at both ends and the station's shortest wave, takes more than 24 hours.
3. ``no air link``: it is physically possible, but even without waiting for any departure or
   wave the fastest chain of the network's lanes (durations, processing at every facility,
   the shortest wave) takes more than 24 hours: no air lane serves the pair, or its air links
   do not shorten the chain enough.
4. ``timetable``: the chain could make it, but the departures and waves do not line up: the
   waits along the promised path, then the 24-hour cut-off of the order time missed by how
   many minutes (``cut-off missed``), an order placed before the first order time that makes
   24 hours (``before the window``), or no order time of day that reaches the station within
   24 hours (``no 24 h order time``).

Capacity is not part of a promise. With a day of parcels, ``parcelnet explain --parcels``
adds a fifth reason, ``capacity limit``, from a simulated day
(:mod:`parcelnet.plan.capacity_reason`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.network import rules
from parcelnet.network.model import Network
from parcelnet.network.schema import LANE_MODES
from parcelnet.promise import PromiseEngine
from parcelnet.promise.engine import INF
from parcelnet.promise.bounds import free_flow, physical_minimum
from parcelnet.results import Result
from parcelnet.units import DAY, clock, hhmm


def _next_departure(tt, lane: int, ready: int) -> int:
    return int(rules.next_departure(np.int64(ready), np.int64(lane), tt.dep_ptr, tt.dep_minute))


def _wave(tt, station: int, ready: int) -> tuple[int, int]:
    """(start, end) of the wave a parcel ready at ``ready`` is delivered on (docs/format.md)."""
    start, k = rules.wave_start(np.int64(ready), np.int64(station), tt.wave_ptr, tt.wave_start)
    return int(start), int(start + tt.wave_duration[k])


def replay(network: Network, origin: int, station: int, created: int, lanes: list[int],
           promise: int) -> list[dict]:
    """The steps of a promised path; on its last lane the departure that achieves the promise."""
    tt = network.timetable
    fac = network.facility_index
    lid = network.lane_id_array
    ready = created + int(tt.process[origin])
    steps = [{"at": fac[origin], "step": "created", "minute": created, "ready": ready}]
    for q, lane in enumerate(lanes):
        dep = _next_departure(tt, lane, ready)
        if q == len(lanes) - 1:                  # the promise may wait for a later departure
            for _ in range(4 * len(tt.dep_minute[tt.dep_ptr[lane]:tt.dep_ptr[lane + 1]]) + 1):
                arr = dep + int(tt.lane_duration[lane])
                if _wave(tt, station, arr + int(tt.process[station]))[1] == promise:
                    break
                dep = _next_departure(tt, lane, dep + 1)
        arr = dep + int(tt.lane_duration[lane])
        to = int(tt.lane_to[lane])
        steps.append({"at": fac[int(tt.lane_from[lane])], "step": "departure", "lane": str(lid[lane]),
                      "mode": LANE_MODES[int(tt.lane_mode[lane])], "ready": ready, "departs": dep,
                      "wait": dep - ready, "arrives": arr, "to": fac[to]})
        ready = arr + int(tt.process[to])
    start, end = _wave(tt, station, ready)
    steps.append({"at": fac[station], "step": "wave", "ready": ready, "wave_start": start,
                  "wait": start - ready, "delivered": end})
    return steps


@dataclass
class Explanation(Result):
    """The promise of one order (minutes absolute), the steps of its promised path (each a
    dict: ``step`` = created, departure or wave, with minutes and the wait), and, beyond 24
    hours, the reasons in the order of the module docs (each a dict with ``reason`` and
    ``text``). ``simulated``: the order on a simulated day (``parcelnet explain
    --parcels``), when asked for."""

    origin: str
    destination: str
    created_minute: int
    promise_minute: int | None
    hours: float | None
    path: list[str]
    within_24h: bool
    steps: list[dict]
    reasons: list[dict]
    fastest_possible_minutes: int | None = None
    fastest_by_ground_minutes: int | None = None
    physical_minimum_minutes: int | None = None
    simulated: dict | None = None

    def to_dict(self) -> dict:
        d = super().to_dict()
        for k in ("physical_minimum_minutes", "simulated"):
            if d[k] is None:
                del d[k]
        return d


def explain(network: Network, origin: str, destination: str, created: int,
            engine: PromiseEngine | None = None) -> Explanation:
    """The promise of one order, its steps and, beyond 24 hours, why (see the module docs)."""
    eng = engine or PromiseEngine(network)
    p = eng.query(origin, destination, created)
    o, d = network.facility(origin), network.station(destination)
    out = {"origin": origin, "destination": destination, "created_minute": int(created),
           "promise_minute": p.promise_minute, "hours": p.hours, "path": list(p.path),
           "within_24h": p.promise_minute is not None and p.promise_minute - created <= DAY,
           "steps": [], "reasons": []}
    _explain(network, eng, p, o, d, int(created), out)
    return Explanation(**out)


def _explain(network, eng, p, o, d, created, out) -> None:
    """Fill ``out`` with the steps and reasons of one order."""
    origin, destination = out["origin"], out["destination"]
    ff = free_flow(network, o)[d]
    ground = free_flow(network, o, ground_only=True)[d]
    out["fastest_possible_minutes"] = None if not np.isfinite(ff) else int(ff)
    out["fastest_by_ground_minutes"] = None if not np.isfinite(ground) else int(ground)
    if p.promise_minute is None:
        out["reasons"].append({"reason": "unreachable",
                               "text": f"no chain of lanes leads from {origin} to {destination}"})
        return
    lanes = [network.lane_index.get_loc(x) for x in p.path]
    out["steps"] = replay(network, o, d, int(created), lanes, p.promise_minute)
    if out["within_24h"]:
        return
    reasons = out["reasons"]
    phys_all, km_all, kmh = physical_minimum(network, o)
    phys, km = phys_all[d], km_all[d]
    out["physical_minimum_minutes"] = int(phys)
    if phys > DAY:
        reasons.append({"reason": "physically impossible", "minutes": int(phys),
                        "text": f"{km:,.0f} km apart: even a direct link at {kmh:,.0f} km/h, with "
                                f"the processing at both ends and the shortest wave, takes "
                                f"{phys / 60:.1f} h"})
    elif ff > DAY:
        how = ("no air lane serves this pair" if ff == ground
               else f"its air links do not shorten it enough (by ground {ground / 60:.1f} h)")
        reasons.append({"reason": "no air link", "minutes": int(ff),
                        "text": f"the fastest chain of lanes takes {ff / 60:.1f} h even with no "
                                f"wait for any departure or wave, and {how}; a direct link at "
                                f"{kmh:,.0f} km/h would take {phys / 60:.1f} h"})
    else:
        waits = [s for s in out["steps"] if s.get("wait", 0) > 0]
        waits.sort(key=lambda s: -s["wait"])
        detail = ", ".join(
            f"{s['wait']} min for {s['lane']} at {s['at']} (departs {clock(s['departs'])})"
            if s["step"] == "departure" else
            f"{s['wait']} min for the wave at {s['at']} ({clock(s['wave_start'])})" for s in waits[:4])
        reasons.append({"reason": "timetable", "minutes_waiting": int(sum(s["wait"] for s in waits)),
                        "text": f"the fastest chain takes {ff / 60:.1f} h, but the departures and "
                                f"waves do not line up: waits of {detail}"})
        cut = eng.latest_order(origin, destination)
        tod = int(created) % DAY
        if not cut.windows_24h:
            best = np.nanmin(cut.promise_hours_by_minute)
            reasons.append({"reason": "no 24 h order time",
                            "text": f"no order time of day reaches {destination} within 24 h; "
                                    f"the best promise is {best:.1f} h"})
        else:
            starts = np.array([a for a, _ in cut.windows_24h])
            ends = np.array([b for _, b in cut.windows_24h])
            late, early = (tod - ends) % DAY, (starts - tod) % DAY
            windows = ", ".join(f"{hhmm(a)}-{hhmm(b)}" for a, b in cut.windows_24h)
            if late.min() <= early.min():
                k = int(np.argmin(late))
                reasons.append({"reason": "cut-off missed", "minutes": int(late[k]),
                                "text": f"ordered at {hhmm(tod)}, {int(late[k])} min after the "
                                        f"24 h cut-off {hhmm(ends[k])} (24 h order times: {windows})"})
            else:
                k = int(np.argmin(early))
                reasons.append({"reason": "before the window", "minutes": int(early[k]),
                                "text": f"ordered at {hhmm(tod)}, {int(early[k])} min before the "
                                        f"first order time that makes 24 h ({hhmm(starts[k])}): "
                                        f"it waits for the same departures as an order then, so "
                                        f"its 24 h run out first (24 h order times: {windows})"})


def station_reasons(network: Network, origin: int, created: int,
                    engine: PromiseEngine | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For an order from ``origin`` (a facility position) created at ``created``, per station
    (the order of ``network.stations``): the promised delivery minute (``INF``: unreachable)
    and why it is beyond 24 hours, as an index into
    :data:`parcelnet.promise.coverage.REASONS` (the first four reasons of the module docs,
    tested in that order; -1: within 24 hours)."""
    eng = engine or PromiseEngine(network)
    st = network.stations
    d = eng.delivered_from(origin, np.array([created], np.int64))[0]
    out = np.full(len(st), -1, np.int64)
    beyond = ~((d < INF) & (d - created <= DAY))
    tests = [d >= INF, physical_minimum(network, origin)[0][st] > DAY,
             free_flow(network, origin)[st] > DAY, np.ones(len(st), bool)]
    for i, hit in enumerate(tests):             # the first reason that holds
        out[beyond & hit & (out < 0)] = i
    return d, out
