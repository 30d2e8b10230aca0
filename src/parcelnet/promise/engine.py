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
from parcelnet.progress import Progress, or_none
from parcelnet.results import Result, internal
from parcelnet.promise import _kernels as K
from parcelnet.units import DAY

INF = int(K.INF)
#: Largest creation minute accepted (about 1.9 million years); keeps arithmetic far below INF.
MAX_CREATED_MINUTE = 10**12


@dataclass(frozen=True)
class Promise(Result):
    """One answer: ``promise_minute`` is None when the station is unreachable; ``path`` is the
    lane ids of a path that achieves it."""

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

    def to_dict(self) -> dict:
        return {"promise_minute": self.promise_minute, "hours": self.hours, "path": list(self.path)}


@dataclass(frozen=True)
class Cutoffs(Result):
    """Order cut-offs from an origin to a station (minutes of day, 0..1439; None where no
    minute qualifies).

    ``cutoff_24h``: the latest minute of day at which an order created on day 0 is still
    promised within 24 hours (promise - created <= 1440). ``next_day_cutoff``: the latest
    minute of day at which an order is delivered before the end of the next calendar day
    (promise < 2880). ``windows_24h``: the creation-minute intervals [start, end] within 24 h.
    ``promise_hours_by_minute``: the promise in hours for an order at each minute of day
    (NaN: unreachable; not part of :meth:`to_dict`)."""

    origin: str
    destination: str
    cutoff_24h: int | None
    next_day_cutoff: int | None
    windows_24h: list[list[int]]
    promise_hours_by_minute: np.ndarray = internal(repr=False)


@dataclass(frozen=True, eq=False)
class ProfileTable:
    """Precomputed profiles of some origins: per origin its breakpoints and,
    per breakpoint and station, the delivered minute for a parcel ready at the
    breakpoint on day 0 (-1 = unreachable). ``nbytes`` tells the memory used."""

    covered: np.ndarray    # bool[n_facilities]: origins whose profiles are here
    bp_ptr: np.ndarray     # int64[n_facilities + 1]
    bp: np.ndarray         # int64 breakpoints (minute of day)
    tab_ptr: np.ndarray    # int64[n_facilities]: offset of the origin's K x S block
    table: np.ndarray      # int32 delivered minutes

    @property
    def nbytes(self) -> int:
        return int(sum(a.nbytes for a in (self.covered, self.bp_ptr, self.bp, self.tab_ptr, self.table)))


class PromiseEngine:
    """Answers promise queries on one network. Optionally holds precomputed
    profiles (:meth:`precompute`) that make batches a compiled table look-up."""

    def __init__(self, network: Network):
        self.network = network
        tt = network.timetable
        self._graph = (tt.out_ptr, tt.out_lane, tt.lane_to, tt.lane_duration,
                       tt.dep_ptr, tt.dep_minute, tt.process)
        self._deliv = (tt.in_ptr, tt.in_lane, tt.lane_from, tt.lane_duration, tt.dep_ptr,
                       tt.dep_minute, tt.process, tt.wave_ptr, tt.wave_start, tt.wave_duration)
        self.stations = network.stations
        self.n = tt.n_facilities
        self._col = np.full(self.n, -1, np.int64)
        self._col[self.stations] = np.arange(len(self.stations))
        self.profiles: ProfileTable | None = None

    # -- single queries -----------------------------------------------------
    def query(self, origin: str, destination: str, created_minute: int) -> Promise:
        """Earliest delivery and a path achieving it (one targeted search)."""
        o, d = self.network.facility(origin), self.network.station(destination)
        t = _check_minute(created_minute)
        tt = self.network.timetable
        # stop once every facility a last lane into d can leave from is settled
        need = np.array([o]) if o == d else tt.lane_from[tt.in_lane[tt.in_ptr[d]:tt.in_ptr[d + 1]]]
        ready = np.empty(self.n, np.int64)
        pred = np.empty(self.n, np.int64)
        K.search(o, t + int(tt.process[o]), need, *self._graph, ready, pred)
        delivered, last = K.best_delivery(ready, o, d, *self._deliv)
        if delivered >= INF:
            return Promise(origin, destination, t, None, ())
        _, lanes = K.trace_paths(pred[None, :], np.zeros(1, np.int64), np.array([last]), tt.lane_from)
        return Promise(origin, destination, t, int(delivered), tuple(self.network.lane_ids(lanes)))

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

    def origin_searches(self, origin: int, created: np.ndarray):
        """The searches that answer every order from ``origin`` created at ``created``
        minutes: (ready, pred) rows per needed breakpoint, and per order its row and
        whole-day shift. None when the origin has no departures or waves."""
        starts, row, shift = self._locate(origin, created)
        if len(starts) == 0:
            return None
        ready, pred = self._search(origin, starts)
        return ready, pred, row, shift

    def deliver_rows(self, ready: np.ndarray, origin: int, rows: np.ndarray, dests: np.ndarray,
                     shifts: np.ndarray | None = None):
        """Delivered minute (INF = unreachable) and last lane of a path for each
        (search row, destination station), shifted by whole days."""
        res, last = np.empty(len(rows), np.int64), np.empty(len(rows), np.int64)
        K.deliver_queries(ready, origin, rows, dests,
                          np.zeros(len(rows), np.int64) if shifts is None else shifts,
                          *self._deliv, res, last)
        return res, last

    def _per_start(self, origin: int, starts: np.ndarray) -> np.ndarray:
        """Delivered minute at every station for a parcel ready at each start minute."""
        ready, _ = self._search(origin, starts)
        per_start = np.empty((len(starts), len(self.stations)), np.int64)
        last = np.empty_like(per_start)
        K.deliver(ready, origin, self.stations, *self._deliv, per_start, last)
        return per_start

    def delivered_from(self, origin: int, created: np.ndarray) -> np.ndarray:
        """Delivered minute at every station (columns, order of ``self.stations``)
        for orders created at each minute of ``created`` (rows); ``INF`` = unreachable."""
        created = np.asarray(created, np.int64)
        out = np.full((len(created), len(self.stations)), INF, np.int64)
        starts, row, shift = self._locate(origin, created)
        if len(starts) == 0:
            return out
        per_start = self._per_start(origin, starts)
        out = per_start[row]
        reach = out < INF
        out[reach] = (out + shift[:, None])[reach]
        return out

    def precompute(self, origins=None, progress: Progress | None = None) -> ProfileTable:
        """Profiles of ``origins`` (facility positions; default every facility
        with outgoing lanes or waves), kept for :meth:`promise_many`. Reports the stage
        "profiles" (origins done) to ``progress``."""
        progress = or_none(progress)
        origins = np.arange(self.n) if origins is None else np.unique(np.asarray(origins, np.int64))
        S = len(self.stations)
        bps = {int(o): self.breakpoints(int(o)) for o in origins}
        counts = np.zeros(self.n, np.int64)
        for o, b in bps.items():
            counts[o] = len(b)
        bp_ptr = np.concatenate([[0], np.cumsum(counts)])
        tab_ptr = bp_ptr[:-1] * S
        bp = np.zeros(bp_ptr[-1], np.int64)
        table = np.full(bp_ptr[-1] * S, -1, np.int32)
        progress.start("profiles", len(bps))
        for o, b in bps.items():
            if len(b):
                bp[bp_ptr[o]:bp_ptr[o + 1]] = b
                d = self._per_start(o, b)
                table[tab_ptr[o]:tab_ptr[o] + d.size] = np.where(d < INF, d, -1).ravel()
            progress.advance()
        progress.finish()
        covered = np.zeros(self.n, bool)
        covered[origins] = True
        self.profiles = ProfileTable(covered, bp_ptr, bp, tab_ptr, table)
        return self.profiles

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
        todo = np.arange(m)
        if self.profiles is not None and not paths:
            pt = self.profiles
            have = pt.covered[origins]
            if have.any():
                sel = np.flatnonzero(have)
                res = np.empty(len(sel), np.int64)
                K.gather_profiles(origins[sel], self._col[dests[sel]], created[sel],
                                  self.network.timetable.process, pt.bp_ptr, pt.bp, pt.tab_ptr,
                                  pt.table, len(self.stations), res)
                out[sel] = res
                todo = np.flatnonzero(~have)
        hops = np.zeros(m, np.int64)
        chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
        order = todo[np.argsort(origins[todo], kind="stable")]
        cuts = np.flatnonzero(np.diff(origins[order])) + 1
        for idx in np.split(order, cuts) if len(order) else []:
            o = int(origins[idx[0]])
            found = self.origin_searches(o, created[idx])
            if found is None:
                continue
            ready, pred, row, shift = found
            res, last = self.deliver_rows(ready, o, row, dests[idx], shift)
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
    def latest_order(self, origin: str, destination: str) -> Cutoffs:
        """The :class:`Cutoffs` from ``origin`` to station ``destination``, from one profile of
        the origin evaluated at every minute of day."""
        o, d = self.network.facility(origin), self.network.station(destination)
        minutes = np.arange(DAY, dtype=np.int64)
        col = int(np.searchsorted(self.stations, d))
        delivered = self.delivered_from(o, minutes)[:, col]
        within = delivered - minutes <= DAY
        nextday = delivered < 2 * DAY
        return Cutoffs(
            origin=origin, destination=destination,
            cutoff_24h=int(minutes[within].max()) if within.any() else None,
            next_day_cutoff=int(minutes[nextday].max()) if nextday.any() else None,
            windows_24h=_runs(within),
            promise_hours_by_minute=np.where(delivered < INF, (delivered - minutes) / 60, np.nan),
        )


def _runs(mask: np.ndarray) -> list[list[int]]:
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return [[int(a), int(b) - 1] for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def _check_minute(t) -> int:
    if isinstance(t, bool) or not isinstance(t, (int, np.integer)) or not 0 <= t <= MAX_CREATED_MINUTE:
        raise ValidationError(f"created minute must be an integer from 0 to {MAX_CREATED_MINUTE}, got {t!r}")
    return int(t)
