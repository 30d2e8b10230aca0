"""The promise engine: earliest delivery for (origin, destination, created).

Exact PNF v1 promise semantics (``docs/format.md``): capacity is ignored, the
promise is the earliest delivered minute over all paths.

Profiles. From an origin o, the set of departures open to a parcel depends
only on the first departure minute (or, for o's own waves, wave start) at or
after its ready minute. So the promise as a function of the creation time is
a step function with one step per *breakpoint* of o (distinct departure
minutes of o's lanes and o's wave starts). One full search per breakpoint -
the origin's profile - answers every query from o at any time by a binary
search plus a shift of whole days. Batches and coverage use that.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.errors import ValidationError
from parcelnet.network.model import Network
from parcelnet.promise import _kernels as K

DAY = K.DAY
INF = int(K.INF)


@dataclass(frozen=True)
class Promise:
    """One answer: ``promise_minute`` is None when the station is unreachable."""

    origin: str
    destination: str
    created_minute: int
    promise_minute: int | None
    path: tuple[str, ...]

    @property
    def hours(self) -> float | None:
        if self.promise_minute is None:
            return None
        return round((self.promise_minute - self.created_minute) / 60, 2)

    def as_dict(self) -> dict:
        return {"promise_minute": self.promise_minute, "hours": self.hours, "path": list(self.path)}


class PromiseEngine:
    """Answers promise queries on one network; cheap to create, holds no cache."""

    def __init__(self, network: Network):
        self.network = network
        tt = network.timetable
        self._graph = (tt.out_ptr, tt.out_lane, tt.lane_to, tt.lane_duration,
                       tt.dep_ptr, tt.dep_minute, tt.process)
        self._deliv = (tt.in_ptr, tt.in_lane, tt.lane_from, tt.lane_duration, tt.dep_ptr,
                       tt.dep_minute, tt.process, tt.wave_ptr, tt.wave_start, tt.wave_duration)
        self.stations = network.stations
        self.n = tt.n_facilities

    # -- single queries -----------------------------------------------------
    def query(self, origin: str, destination: str, created_minute: int) -> Promise:
        """Earliest delivery and a path achieving it (one targeted search)."""
        o, d = self.network.facility(origin), self.network.station(destination)
        t = _check_minute(created_minute)
        ready, pred = self._search(o, np.array([t + int(self.network.timetable.process[o])]))
        delivered, last = np.empty(1, np.int64), np.empty(1, np.int64)
        K.deliver_queries(ready, o, np.zeros(1, np.int64), np.array([d]), np.zeros(1, np.int64),
                          *self._deliv, delivered, last)
        if delivered[0] >= INF:
            return Promise(origin, destination, t, None, ())
        _, lanes = K.trace_paths(pred, np.zeros(1, np.int64), last, self.network.timetable.lane_from)
        return Promise(origin, destination, t, int(delivered[0]), tuple(self.network.lane_ids(lanes)))

    # -- profiles -----------------------------------------------------------
    def breakpoints(self, origin: int) -> np.ndarray:
        """Sorted distinct minutes of day at which the options open to a parcel ready at ``origin`` change."""
        tt = self.network.timetable
        lanes = tt.out_lane[tt.out_ptr[origin]:tt.out_ptr[origin + 1]]
        deps = [tt.dep_minute[tt.dep_ptr[l]:tt.dep_ptr[l + 1]] for l in lanes]
        waves = tt.wave_start[tt.wave_ptr[origin]:tt.wave_ptr[origin + 1]]
        return np.unique(np.concatenate(deps + [waves]).astype(np.int64))

    def _locate(self, origin: int, created: np.ndarray):
        """Breakpoint rows to search and, per created minute, (row, whole-day shift)."""
        bp = self.breakpoints(origin)
        if len(bp) == 0:
            return bp, np.zeros(len(created), np.int64), None
        ready = created + int(self.network.timetable.process[origin])
        day, minute = np.divmod(ready, DAY)
        k = np.searchsorted(bp, minute, side="left")
        wrap = k == len(bp)
        k[wrap] = 0
        shift = (day + wrap) * DAY
        need, row = np.unique(k, return_inverse=True)
        return bp[need], row.astype(np.int64), shift.astype(np.int64)

    def _search(self, origin: int, starts: np.ndarray):
        ready = np.empty((len(starts), self.n), np.int64)
        pred = np.empty((len(starts), self.n), np.int64)
        K.search_many(origin, starts, *self._graph, ready, pred)
        return ready, pred

    def delivered_from(self, origin: int, created: np.ndarray) -> np.ndarray:
        """Delivered minute at every station (columns, order of ``self.stations``)
        for orders created at each minute of ``created`` (rows); ``INF`` = unreachable."""
        created = np.asarray(created, np.int64)
        out = np.full((len(created), len(self.stations)), INF, np.int64)
        starts, row, shift = self._locate(origin, created)
        if len(starts) == 0:
            return out
        ready, _ = self._search(origin, starts)
        per_start = np.empty((len(starts), len(self.stations)), np.int64)
        last = np.empty_like(per_start)
        K.deliver(ready, origin, self.stations, *self._deliv, per_start, last)
        out = per_start[row]
        reach = out < INF
        out[reach] = (out + shift[:, None])[reach]
        return out

    # -- batches ------------------------------------------------------------
    def promise_many(self, origins: np.ndarray, destinations: np.ndarray,
                     created: np.ndarray, paths: bool = False):
        """Vectorised promises for facility positions; returns promise minutes
        (``INF`` = unreachable) and, with ``paths``, (ptr, lanes) CSR paths."""
        origins = np.asarray(origins, np.int64)
        dests = np.asarray(destinations, np.int64)
        created = np.asarray(created, np.int64)
        m = len(origins)
        out = np.full(m, INF, np.int64)
        hops = np.zeros(m, np.int64)
        chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        order = np.argsort(origins, kind="stable")
        cuts = np.flatnonzero(np.diff(origins[order])) + 1
        for idx in np.split(order, cuts) if m else []:
            o = int(origins[idx[0]])
            starts, row, shift = self._locate(o, created[idx])
            if len(starts) == 0:
                continue
            ready, pred = self._search(o, starts)
            res, last = np.empty(len(idx), np.int64), np.empty(len(idx), np.int64)
            K.deliver_queries(ready, o, row, dests[idx], shift, *self._deliv, res, last)
            out[idx] = res
            if paths:
                p, lanes = K.trace_paths(pred, row, last, self.network.timetable.lane_from)
                hops[idx] = np.diff(p)
                chunks.append((idx, p, lanes))
        if not paths:
            return out
        ptr = np.concatenate([[0], np.cumsum(hops)])
        lanes = np.empty(ptr[-1], np.int64)
        for idx, p, ls in chunks:  # move each chunk's paths to their query's slot
            lanes[np.repeat(ptr[idx] - p[:-1], np.diff(p)) + np.arange(len(ls))] = ls
        return out, (ptr, lanes)

    # -- order cut-offs -----------------------------------------------------
    def latest_order(self, origin: str, destination: str) -> dict:
        """Cut-offs from one profile of ``origin``, evaluated at every minute of day.

        ``cutoff_24h``: latest minute of day (0..1439) at which an order created
        on day 0 is still promised within 24 hours (promise - created <= 1440).
        ``next_day_cutoff``: latest minute of day at which an order is delivered
        before the end of the next calendar day (promise < 2880).
        ``windows_24h``: the creation-minute intervals [start, end] within 24h.
        None where no minute qualifies.
        """
        o, d = self.network.facility(origin), self.network.station(destination)
        minutes = np.arange(DAY, dtype=np.int64)
        col = int(np.searchsorted(self.stations, d))
        delivered = self.delivered_from(o, minutes)[:, col]
        within = delivered - minutes <= DAY
        nextday = delivered < 2 * DAY
        return {
            "origin": origin, "destination": destination,
            "cutoff_24h": int(minutes[within].max()) if within.any() else None,
            "next_day_cutoff": int(minutes[nextday].max()) if nextday.any() else None,
            "windows_24h": _runs(within),
            "promise_hours_by_minute": np.where(delivered < INF, (delivered - minutes) / 60, np.nan),
        }


def _runs(mask: np.ndarray) -> list[list[int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return [[int(a), int(b) - 1] for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def _check_minute(t) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or t < 0:
        raise ValidationError(f"created minute must be a non-negative integer, got {t!r}")
    return int(t)
