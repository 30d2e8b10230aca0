"""An independent SimPy model of parcelnet's capacity semantics (the peer of ``parcelnet.sim``).

It reads the PNF v1 CSV files itself (csv module) and shares no code with parcelnet.

Semantics (on top of the promise semantics of PNF v1, docs/format.md)
---------------------------------------------------------------------
* Every parcel follows a fixed path of lanes given as input (an empty path when its origin is
  its destination station). Its arrival at the origin is its creation minute.
* **Sorting.** Every visit of a facility (origin, intermediate, destination) passes the
  facility's sorter exactly once (an origin that is also the destination is one visit). With
  ``sort_per_minute`` = c > 0 the sorter handles at most c parcels per minute, first come first
  served in order of (arrival minute, parcel_id): in minute m it handles the (up to) c smallest
  (arrival, parcel_id) among the parcels that arrived in minutes <= m and are not yet handled.
  With c = 0 every parcel is handled in its arrival minute. A parcel handled in minute p is
  ready at p + process_minutes.
* **Boarding.** Each departure instance of a trip (absolute minute D = departure_minute + 1440k,
  k >= 0) boards, up to the trip's capacity, the parcels waiting for the trip's lane whose ready
  minute is <= D, in order of (ready minute, parcel_id). Trips of one lane leaving in the same
  minute board one after the other in trip_id order (strings). Parcels left behind wait for later
  departures of the same lane. A boarded parcel arrives at the lane's to_facility at
  D + duration_minutes.
* **Within one minute:** arrivals (and creations), then sorting, then departures. A parcel sorted
  in minute m with process 0 is ready at m and can board a departure at m; a parcel arriving in
  minute m is sorted at the earliest in minute m.
* **Delivery.** At the destination station, after sorting, a parcel ready at minute r is
  delivered at the end (start + duration) of the first wave instance starting at or after r
  (waves repeat daily, have no capacity). If several waves of the station start in the same
  minute of day, the one ending first is taken (the earliest delivery).
* **Horizon.** Let H = max(created_minute) + horizon_minutes (default horizon: 7 days = 10,080
  minutes). The simulation processes every event of minutes <= H (all three phases of minute H
  included) and nothing later: no arrival, sorting or departure happens in a minute > H.
  "Parcels not delivered by then are reported as such": a parcel is delivered iff its delivered
  minute (the wave end) is <= H. Every other parcel (still queued at a sorter or a lane, in
  transit, or with a wave ending after H) is reported as not delivered (None).

How SimPy enforces the phase order within a minute
--------------------------------------------------
SimPy orders events of the same timestamp by scheduling order, which is not the order we need.
So the SimPy clock runs in **quarter minutes, as integers**: minute m, phase k happens at
simulation time ``4*m + k`` with k = 0 arrivals and creations, k = 1 sorting, k = 2 departures.
Integer times keep the phases exact (no floating-point rounding). Every arrival is a timeout to
phase 0, a sorter step always runs at phase 1, a lane departure always at phase 2, so all
arrivals of minute m are done before any sorter of minute m runs, and all sorting before any
departure.

Processes: one SimPy process per facility sorter and one per lane. Both sleep on a wake-up event
while their queue is empty, so idle facilities and lanes cost nothing. A sorter with a queue
steps once per minute (phase 1). A lane with waiting parcels sleeps until the first departure
minute at or after max(the earliest ready minute in its queue, the minute after its previous
departure) and boards there in trip_id order. This never misses a departure: parcels enter a
lane's queue in the order they are sorted at the lane's origin, so their ready minutes
(sort minute + the facility's constant process) never decrease, and a parcel joining the queue
can never need an earlier departure than the one the lane already waits for. Parcels created,
or arriving, at the same facility in the same minute share one timeout event.
"""

from __future__ import annotations

import argparse
import csv
import heapq
import sys
from bisect import bisect_left
from collections import defaultdict
from pathlib import Path
from typing import Iterable

import simpy

DAY = 1440
DEFAULT_HORIZON = 7 * DAY
ARRIVE, SORT, DEPART = 0, 1, 2
TICKS = 4  # simulation time units per minute


def _rows(folder: Path, name: str) -> list[dict[str, str]]:
    with open(folder / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


class _Model:
    def __init__(self, folder: Path, horizon_end: int):
        self.env = simpy.Environment()
        self.H = horizon_end
        self.result: dict[int, int | None] = {}
        self.trace: dict[int, list[str]] | None = None  # parcel -> trip_ids boarded, if asked
        self.journeys: dict[int, list[list]] | None = None  # parcel -> [sorted, boarded], if asked
        fac = _rows(folder, "facilities.csv")
        self.facilities = {r["facility_id"]: _Sorter(self, r["facility_id"], int(r["sort_per_minute"]),
                                                     int(r["process_minutes"])) for r in fac}
        trips: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
        for r in _rows(folder, "trips.csv"):
            trips[r["lane_id"]].append((r["trip_id"], int(r["departure_minute"]), int(r["capacity"])))
        self.lanes: dict[str, _Lane] = {}
        for r in _rows(folder, "lanes.csv"):
            self.lanes[r["lane_id"]] = _Lane(self, r["lane_id"], r["from_facility"], r["to_facility"],
                                             int(r["duration_minutes"]), trips[r["lane_id"]])
        waves: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for r in _rows(folder, "waves.csv"):
            waves[r["station_id"]].append((int(r["start_minute"]), int(r["duration_minutes"])))
        self.waves = {s: sorted(w) for s, w in waves.items()}
        self.paths: dict[int, tuple[list[_Lane], str]] = {}
        self.hop: dict[int, int] = {}

    def wave_end(self, station: str, ready: int) -> int:
        w = self.waves[station]
        day, r = divmod(ready, DAY)
        k = bisect_left(w, (r, -1))
        if k == len(w):
            return (day + 1) * DAY + w[0][0] + w[0][1]
        return day * DAY + w[k][0] + w[k][1]

    def arrive_later(self, minute: int, facility: _Sorter, pids: list[int]) -> None:
        """Schedule the arrival of ``pids`` at ``facility`` in phase 0 of ``minute``."""
        ev = self.env.timeout(TICKS * minute + ARRIVE - self.env.now)
        ev.callbacks.append(lambda _ev: facility.arrive(minute, pids))

    def sorted_(self, pid: int, facility: _Sorter, minute: int) -> None:
        """``pid`` was handled by ``facility``'s sorter in ``minute``: send it on."""
        if self.journeys is not None:
            self.journeys.setdefault(pid, []).append([minute, None])
        ready = minute + facility.process
        lanes, dest = self.paths[pid]
        h = self.hop[pid]
        if h == len(lanes):
            assert facility.id == dest
            end = self.wave_end(dest, ready)
            if end <= self.H:
                self.result[pid] = end
            return
        lanes[h].enqueue(ready, pid)


def _kick(actor) -> None:
    """Start a sorter's or lane's process on its first parcel, or wake it if it sleeps."""
    if actor.proc is None:
        actor.proc = actor.model.env.process(actor.run())
    elif actor.wake is not None and not actor.wake.triggered:
        actor.wake.succeed()


class _Sorter:
    def __init__(self, model: _Model, fid: str, capacity: int, process: int):
        self.model, self.id, self.capacity, self.process = model, fid, capacity, process
        self.queue: list[tuple[int, int]] = []  # heap of (arrival minute, parcel_id)
        self.wake: simpy.Event | None = None
        self.proc = None  # started lazily: most facilities of a big network see no parcel

    def arrive(self, minute: int, pids: list[int]) -> None:
        for pid in pids:
            heapq.heappush(self.queue, (minute, pid))
        _kick(self)

    def run(self):
        env, model, q = self.model.env, self.model, self.queue
        while True:
            if not q:
                self.wake = env.event()
                yield self.wake
                self.wake = None
            # we are at phase 0 (woken by an arrival) or just after the previous step (phase 1)
            minute = env.now // TICKS
            if env.now % TICKS > SORT:
                minute += 1
            if env.now != TICKS * minute + SORT:
                yield env.timeout(TICKS * minute + SORT - env.now)
            n = len(q) if self.capacity == 0 else min(self.capacity, len(q))
            for _ in range(n):
                arrival, pid = heapq.heappop(q)
                assert arrival <= minute
                model.sorted_(pid, self, minute)
            if q:  # next step: phase 1 of the next minute
                yield env.timeout(TICKS)


class _Lane:
    def __init__(self, model: _Model, lid: str, src: str, dst: str, duration: int,
                 trips: list[tuple[str, int, int]]):
        self.model, self.id, self.src, self.dst, self.duration = model, lid, src, dst, duration
        by_minute: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for tid, dep, cap in trips:
            by_minute[dep].append((tid, cap))
        self.minutes = sorted(by_minute)
        self.trips = {m: sorted(ts) for m, ts in by_minute.items()}  # trip_id (string) order
        self.queue: list[tuple[int, int]] = []  # heap of (ready minute, parcel_id)
        self.wake: simpy.Event | None = None
        self.proc = None
        self.last_ready = -1

    def next_departure(self, minute: int) -> int:
        day, r = divmod(minute, DAY)
        k = bisect_left(self.minutes, r)
        return day * DAY + self.minutes[k] if k < len(self.minutes) else (day + 1) * DAY + self.minutes[0]

    def enqueue(self, ready: int, pid: int) -> None:
        assert ready >= self.last_ready  # see the module docstring: ready minutes never decrease
        self.last_ready = ready
        heapq.heappush(self.queue, (ready, pid))
        _kick(self)

    def run(self):
        env, model, q = self.model.env, self.model, self.queue
        after = 0  # no departure before this minute (the previous one has gone)
        while True:
            if not q:
                self.wake = env.event()
                yield self.wake
                self.wake = None
            now_minute = env.now // TICKS + (1 if env.now % TICKS > DEPART else 0)
            after = max(after, now_minute)
            dep = self.next_departure(max(after, q[0][0]))
            if dep > model.H:
                return  # nothing departs after the horizon; the queue stays undelivered
            yield env.timeout(TICKS * dep + DEPART - env.now)
            boarded: list[int] = []
            for tid, cap in self.trips[dep % DAY]:
                while cap and q and q[0][0] <= dep:
                    _, pid = heapq.heappop(q)
                    boarded.append(pid)
                    if model.trace is not None:
                        model.trace.setdefault(pid, []).append(tid)
                    if model.journeys is not None:
                        model.journeys[pid][-1][1] = dep
                    model.hop[pid] += 1
                    cap -= 1
            after = dep + 1
            if boarded:
                model.arrive_later(dep + self.duration, model.facilities[self.dst], boarded)


def simulate_simpy(folder, parcels: Iterable[tuple[int, int, str, str, list[str]]],
                   horizon_minutes: int | None = None, trace: dict | None = None,
                   journeys: dict | None = None) -> dict[int, int | None]:
    """Simulate parcels on their fixed paths; returns parcel_id -> delivered minute (None if
    not delivered within the horizon). ``parcels``: (parcel_id, created_minute, origin, dest,
    path as a list of lane ids). If ``trace`` is a dict it receives parcel_id -> the trip_ids
    the parcel boarded, in order. If ``journeys`` is a dict it receives parcel_id -> one
    [sorted minute, boarded minute or None] per facility the parcel was sorted at, in order."""
    folder = Path(folder)
    parcels = list(parcels)
    horizon = DEFAULT_HORIZON if horizon_minutes is None else int(horizon_minutes)
    last = max((int(p[1]) for p in parcels), default=0)
    model = _Model(folder, last + horizon)
    if trace is not None:
        model.trace = trace
    model.journeys = journeys
    creations: dict[tuple[int, str], list[int]] = defaultdict(list)
    for pid, created, origin, dest, path in parcels:
        pid, created = int(pid), int(created)
        if pid in model.paths:
            raise ValueError(f"duplicate parcel_id {pid}")
        if created < 0:
            raise ValueError(f"parcel {pid}: created_minute {created} < 0")
        if origin not in model.facilities:
            raise ValueError(f"parcel {pid}: unknown origin {origin!r}")
        if dest not in model.waves:
            raise ValueError(f"parcel {pid}: destination {dest!r} is not a station with waves")
        lanes, at = [], origin
        for lid in path:
            lane = model.lanes.get(lid)
            if lane is None or lane.src != at:
                raise ValueError(f"parcel {pid}: lane {lid!r} does not leave {at!r}")
            lanes.append(lane)
            at = lane.dst
        if at != dest:
            raise ValueError(f"parcel {pid}: path ends at {at!r}, not at {dest!r}")
        model.paths[pid] = (lanes, dest)
        model.hop[pid] = 0
        model.result[pid] = None
        creations[(created, origin)].append(pid)
    for (created, origin), pids in sorted(creations.items()):
        model.arrive_later(created, model.facilities[origin], pids)
    model.env.run(until=TICKS * (model.H + 1))  # every phase of minute H, nothing later
    return model.result


def read_parcels(path) -> list[tuple[int, int, str, str, list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        return [(int(r["parcel_id"]), int(r["created_minute"]), r["origin_facility"], r["dest_station"],
                 [x for x in r["path"].split(";") if x]) for r in csv.DictReader(fh)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="SimPy peer of parcelnet's capacity simulator")
    ap.add_argument("network", help="PNF v1 folder")
    ap.add_argument("parcels", help="CSV: parcel_id,created_minute,origin_facility,dest_station,path")
    ap.add_argument("out", help="output CSV: parcel_id,delivered_minute (empty = not delivered)")
    ap.add_argument("--horizon", type=int, default=None, help="minutes after the last creation")
    a = ap.parse_args(argv)
    parcels = read_parcels(a.parcels)
    res = simulate_simpy(a.network, parcels, a.horizon)
    with open(a.out, "w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["parcel_id", "delivered_minute"])
        for pid, *_ in parcels:
            d = res[pid]
            w.writerow([pid, "" if d is None else d])
    return 0


if __name__ == "__main__":
    sys.exit(main())
