"""The peer for the promise benchmarks: a plain time-dependent Dijkstra in pure
Python (heapq + bisect), reading the same PNF CSV files with the csv module
and implementing the same PNF v1 promise semantics independently of
parcelnet's code.
"""

from __future__ import annotations

import csv
import heapq
from bisect import bisect_left
from pathlib import Path

DAY = 1440


class PeerNetwork:
    def __init__(self, folder: str | Path):
        folder = Path(folder)
        def rows(name: str) -> list[dict[str, str]]:
            with open(folder / name, encoding="utf-8", newline="") as fh:
                return list(csv.DictReader(fh))

        fac = rows("facilities.csv")
        self.proc = {r["facility_id"]: int(r["process_minutes"]) for r in fac}
        deps: dict[str, set[int]] = {}
        for r in rows("trips.csv"):
            deps.setdefault(r["lane_id"], set()).add(int(r["departure_minute"]))
        self.out: dict[str, list] = {f: [] for f in self.proc}
        self.inn: dict[str, list] = {f: [] for f in self.proc}
        for r in rows("lanes.csv"):
            lane = (r["lane_id"], r["from_facility"], r["to_facility"], int(r["duration_minutes"]),
                    sorted(deps[r["lane_id"]]))
            self.out[r["from_facility"]].append(lane)
            self.inn[r["to_facility"]].append(lane)
        self.waves: dict[str, list[tuple[int, int]]] = {}
        for r in rows("waves.csv"):
            self.waves.setdefault(r["station_id"], []).append((int(r["start_minute"]), int(r["duration_minutes"])))
        for w in self.waves.values():
            w.sort()


def _next(ready: int, minutes: list[int]) -> int:
    day, r = divmod(ready, DAY)
    k = bisect_left(minutes, r)
    return day * DAY + minutes[k] if k < len(minutes) else (day + 1) * DAY + minutes[0]


def _wave_end(net: PeerNetwork, station: str, ready: int) -> int:
    w = net.waves[station]
    day, r = divmod(ready, DAY)
    k = bisect_left(w, (r, -1))
    s, d = w[k] if k < len(w) else w[0]
    return (day if k < len(w) else day + 1) * DAY + s + d


def dijkstra(net: PeerNetwork, origin: str, created: int, stop_when: set[str] | None = None) -> dict:
    """Earliest ready minute per facility; stops once every facility in
    ``stop_when`` is settled (None: all)."""
    ready = {origin: created + net.proc[origin]}
    done: set[str] = set()
    heap = [(ready[origin], origin)]
    left = set(stop_when) if stop_when is not None else None
    while heap:
        t, u = heapq.heappop(heap)
        if u in done:
            continue
        done.add(u)
        if left is not None:
            left.discard(u)
            if not left:
                break
        for _, _, v, dur, minutes in net.out[u]:
            r = _next(t, minutes) + dur + net.proc[v]
            if r < ready.get(v, 1 << 62):
                ready[v] = r
                heapq.heappush(heap, (r, v))
    return ready


def deliver(net: PeerNetwork, origin: str, station: str, ready: dict) -> int | None:
    """Earliest delivery at ``station``: best departure of any lane into it
    (waves may overlap, so a later arrival can deliver earlier)."""
    if station == origin:
        return _wave_end(net, station, ready[origin])
    best = None
    for _, u, _, dur, minutes in net.inn[station]:
        if u not in ready:
            continue
        day, r = divmod(ready[u], DAY)
        for m in minutes:
            x = day * DAY + m + (DAY if m < r else 0)
            w = _wave_end(net, station, x + dur + net.proc[station])
            best = w if best is None or w < best else best
    return best


def promise(net: PeerNetwork, origin: str, station: str, created: int) -> int | None:
    """One query: search until the station's in-neighbours are settled."""
    need = {u for _, u, _, _, _ in net.inn[station]} | {origin}
    return deliver(net, origin, station, dijkstra(net, origin, created, need))
