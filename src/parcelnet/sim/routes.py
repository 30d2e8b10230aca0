"""Promise and path of any parcel by table look-up, built once per network.

:func:`parcelnet.sim.paths.assign_paths` searches from every origin again for
each call. But from an origin o, the answer only depends on the breakpoint of
o at or after a parcel's ready minute (see :mod:`parcelnet.promise.engine`): a
parcel ready on day ``D`` before breakpoint ``k`` gets the answer of the
search started at breakpoint ``k`` on day 0, shifted by whole days. So the
promise and the path of every parcel are fixed by its *key*
(origin, breakpoint, destination station). :class:`RouteTable` runs the
searches of every breakpoint of every origin once (the searches, the delivery
and the trace through the search tree of ``assign_paths``, so its answers are
identical) and keeps, per key:

- the delivered minute on day 0 (``delivered``, int32, -1 = unreachable), and
- the start of the key's route (``start_of``) in one flat int32 array
  ``route``: the route's lanes in order, then -1. Paths from one origin to one
  station at different breakpoints are often the same; each distinct route of
  an (origin, station) is stored once and shared by its keys. ``route[0]`` is
  a lone -1, the empty path of a parcel delivered at its origin; start -1 =
  unreachable.

Two ways to fill the per-key tables:

- ``lazy=True`` (default): the build keeps only the searches, compactly (per
  breakpoint, the search tree as int16 lanes and the ready minute at the
  facilities that feed a station, int32). A look-up first reads the tables
  (parallel); keys never seen before are then delivered (parallel) and traced
  (serial), once, and appended to ``route``. A day of parcels uses a small
  part of all keys, so this is the fastest for a day, and a key is computed at
  most once however many parcels and blocks use it.
- ``lazy=False``: every key at build time, nothing kept of the searches.

The two per-key tables take 4 bytes a key each in both modes; the lazy mode
adds the kept searches; routes shared between keys are stored once.
``benchmarks/bench_routes.py`` measures both modes on China's network (figures in
docs/benchmarks.md, "The route table"). A look-up is O(1) per parcel once its
key is built: a binary search over the origin's breakpoints and two reads.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, prange

from parcelnet.errors import SolverError, ValidationError
from parcelnet.promise import _kernels as PK
from parcelnet.progress import Progress, or_none
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.units import DAY

_I32_MAX = np.iinfo(np.int32).max
UNBUILT = -2    # ``delivered`` of a key not computed yet (lazy tables)
CLAIMED = -3    # ... of a key being computed by the current look-up
#: ``start_of`` is int32 while ``route`` stays shorter than this, then int64.
START32_LIMIT = _I32_MAX
#: First size of the lazy route buffer (it doubles as needed).
ROUTE_BUFFER = 1 << 20


@njit(cache=True)
def _share_routes(ptr, lanes, res, n_bp, n_col, base, delivered, start):  # pragma: no cover - compiled
    """Routes of one origin, each distinct (station, lanes) once.

    Key ``i = k * n_col + j`` (breakpoint k, station column j) has its path in
    ``lanes[ptr[i]:ptr[i + 1]]`` (``trace_paths``) and its delivered minute in
    ``res[i]`` (>= INF: unreachable). Fills ``delivered[i]`` (-1 unreachable)
    and ``start[i]`` (-1 unreachable, 0 the shared empty path, else ``base`` +
    offset into the returned array): each distinct non-empty route's lanes
    then -1, in key order."""
    m = n_bp * n_col
    rep = np.empty(m, np.int64)          # first key with the same route (itself if new, -1 none)
    size = np.zeros(m, np.int64)         # storage of a new route (lanes + terminator)
    for j in prange(n_col):
        cand = np.empty(n_bp, np.int64)  # keys of this station holding a distinct route
        n_cand = 0
        for k in range(n_bp):
            i = k * n_col + j
            a = ptr[i]
            h = ptr[i + 1] - a
            if res[i] >= INF or h == 0:
                rep[i] = -1
                continue
            rep[i] = i
            for q in range(n_cand):
                c = cand[q]
                if size[c] != h + 1:
                    continue
                b = ptr[c]
                t = 0
                while t < h and lanes[a + t] == lanes[b + t]:
                    t += 1
                if t == h:
                    rep[i] = c
                    break
            if rep[i] == i:
                size[i] = h + 1
                cand[n_cand] = i
                n_cand += 1
    off = np.empty(m + 1, np.int64)
    off[0] = 0
    for i in range(m):
        off[i + 1] = off[i] + size[i]
    out = np.empty(off[m], np.int32)
    for i in prange(m):
        r = rep[i]
        if res[i] >= INF:
            delivered[i] = -1
            start[i] = -1
            continue
        delivered[i] = res[i]
        if r < 0:
            start[i] = 0
            continue
        start[i] = base + off[r]
        if r == i:
            a = ptr[i]
            h = ptr[i + 1] - a
            for t in range(h):
                out[off[i] + t] = lanes[a + t]
            out[off[i] + h] = -1
    return out


@njit(cache=True, parallel=True)
def _lookup(origin, dest, created, process, bp_ptr, bp, col, n_col, delivered, start_of,
            promise, start):  # pragma: no cover - compiled
    """Per parcel: the origin's breakpoint at or after the ready minute (wrapping to
    the next day, as ``PromiseEngine._locate``), then the key's delivered minute
    shifted by whole days and its route start; INF / -1 when unroutable.

    A parcel whose key is not built yet gets ``promise`` = the whole-day shift
    and ``start`` = -2 - key (see :func:`_finish`); returns how many."""
    missing = 0
    for i in prange(origin.shape[0]):
        o = origin[i]
        c = col[dest[i]]
        lo = bp_ptr[o]
        hi = bp_ptr[o + 1]
        if lo == hi or c < 0:
            promise[i] = INF
            start[i] = -1
            continue
        ready = created[i] + process[o]
        day = ready // DAY
        a = PK.lower_bound(bp, lo, hi, ready - day * DAY)
        if a == hi:
            a = lo
            day += 1
        key = a * n_col + c
        v = delivered[key]
        if v >= 0:
            promise[i] = v + day * DAY
            start[i] = start_of[key]
        elif v == -1:
            promise[i] = INF
            start[i] = -1
        else:
            promise[i] = day * DAY
            start[i] = -2 - key
            missing += 1
    return missing


@njit(cache=True)
def _claim(start, delivered):  # pragma: no cover - compiled
    """Distinct keys of the parcels :func:`_lookup` left unbuilt, marked CLAIMED."""
    keys = np.empty(start.shape[0], np.int64)
    n = 0
    for i in range(start.shape[0]):
        if start[i] <= -2:
            key = -2 - start[i]
            if delivered[key] == UNBUILT:
                delivered[key] = CLAIMED
                keys[n] = key
                n += 1
    return keys[:n]


@njit(cache=True, parallel=True)
def _deliver_new(keys, grp, n_col, bp_origin, ready_c, ready_src, feeders, stations,
                 in_ptr, in_lane, lane_from, lane_duration, dep_ptr, dep_minute, process,
                 wave_ptr, wave_start, wave_duration, delivered, last):  # pragma: no cover - compiled
    """Delivered minute (-1 unreachable) and last lane of each new key; keys sorted,
    ``grp`` the CSR of their breakpoint rows. The search row is rebuilt from its
    kept part: best_delivery reads the ready minute of the origin and of the
    facilities with a lane into a station (``feeders``), nothing else.
    Returns how many delivered minutes exceed int32 (then stored as -1)."""
    n = process.shape[0]
    over = 0
    for g in prange(grp.shape[0] - 1):
        a = keys[grp[g]] // n_col
        o = bp_origin[a]
        ready = np.full(n, INF, np.int64)
        for f in range(feeders.shape[0]):
            r = ready_c[a, f]
            if r >= 0:
                ready[feeders[f]] = r
        ready[o] = ready_src[a]
        for t in range(grp[g], grp[g + 1]):
            d = stations[keys[t] - a * n_col]
            res, lane = PK.best_delivery(ready, o, d, in_ptr, in_lane, lane_from, lane_duration,
                                         dep_ptr, dep_minute, process, wave_ptr, wave_start,
                                         wave_duration)
            last[t] = lane
            if res >= INF:
                delivered[keys[t]] = -1
            elif res > _I32_MAX:
                delivered[keys[t]] = -1
                over += 1
            else:
                delivered[keys[t]] = res
    return over


@njit(cache=True)
def _trace_new(g0, keys, grp, n_col, bp_origin, bp_ptr, pred_c, lane_from, last, delivered,
               start_of, route, length, limit):  # pragma: no cover - compiled
    """Trace the new keys from group ``g0`` on (``trace_paths`` on the kept search
    tree), share each route with an equal one of the same origin and station at
    another breakpoint, else append it to ``route`` at ``length``. Stops before a
    group that could overflow ``route`` or ``limit``; returns (next group, new
    length, room the group needs)."""
    n = pred_c.shape[1]
    for g in range(g0, grp.shape[0] - 1):
        t0 = grp[g]
        t1 = grp[g + 1]
        a = keys[t0] // n_col
        o = bp_origin[a]
        pred = np.empty((1, n), np.int64)
        for v in range(n):
            pred[0, v] = pred_c[a, v]
        lasts = np.empty(t1 - t0, np.int64)
        for t in range(t0, t1):
            lasts[t - t0] = last[t] if delivered[keys[t]] >= 0 else -1
        ptr, lanes = PK.trace_paths(pred, np.zeros(t1 - t0, np.int64), lasts, lane_from)
        need = ptr[t1 - t0] + (t1 - t0)
        if length + need > route.shape[0] or length + need > limit:
            return g, length, need
        for t in range(t0, t1):
            key = keys[t]
            c = key - a * n_col
            if delivered[key] < 0:
                start_of[key] = -1
                continue
            p = ptr[t - t0]
            h = ptr[t - t0 + 1] - p
            if h == 0:
                start_of[key] = 0
                continue
            s = -1
            for a2 in range(bp_ptr[o], bp_ptr[o + 1]):
                s2 = start_of[a2 * n_col + c]
                if a2 == a or s2 <= 0:
                    continue
                q = 0       # a stored route ends with -1, never a lane: no reading past it
                while q < h and route[s2 + q] == lanes[p + q]:
                    q += 1
                if q == h and route[s2 + h] == -1:
                    s = s2
                    break
            if s < 0:
                s = length
                for q in range(h):
                    route[length + q] = lanes[p + q]
                route[length + h] = -1
                length += h + 1
            start_of[key] = s
    return grp.shape[0] - 1, length, 0


@njit(cache=True, parallel=True)
def _finish(start, promise, delivered, start_of):  # pragma: no cover - compiled
    """Complete the parcels :func:`_lookup` left unbuilt, now that their keys are."""
    for i in prange(start.shape[0]):
        if start[i] <= -2:
            key = -2 - start[i]
            v = delivered[key]
            if v < 0:
                promise[i] = INF
                start[i] = -1
            else:
                promise[i] += v
                start[i] = start_of[key]


class RouteTable:
    """Promise and promise-achieving route of every (origin, breakpoint, station),
    from a :class:`PromiseEngine`; answers are identical to ``assign_paths``.

    ``origins``: facility positions to cover (default: all); ``lazy``: compute a
    key on its first look-up (default) or all at build. :meth:`lookup` maps
    parcels to (promise, route start); read a route as ``route[start]``,
    ``route[start + 1]``, ... up to the -1 (take ``route`` after the look-up:
    lazy look-ups may grow it)."""

    def __init__(self, engine: PromiseEngine, origins=None, lazy: bool = True,
                 progress: Progress | None = None):
        t0 = time.perf_counter()
        tt = engine.network.timetable
        n = engine.n
        self.n_facilities = n
        self.lazy = bool(lazy)
        stations = np.ascontiguousarray(engine.stations, np.int64)
        S = len(stations)
        self.n_stations = S
        self._stations = stations
        self._col = np.full(n, -1, np.int64)
        self._col[stations] = np.arange(S)
        self._process = np.ascontiguousarray(tt.process, np.int64)
        self._lane_from = np.ascontiguousarray(tt.lane_from, np.int64)
        self._deliv = tuple(np.ascontiguousarray(x, np.int64) for x in (
            tt.in_ptr, tt.in_lane, tt.lane_from, tt.lane_duration, tt.dep_ptr, tt.dep_minute,
            tt.process, tt.wave_ptr, tt.wave_start, tt.wave_duration))
        origins = np.arange(n) if origins is None else np.unique(np.asarray(origins, np.int64))
        if len(origins) and (origins[0] < 0 or origins[-1] >= n):
            raise ValidationError(f"origin positions must be in 0..{n - 1}")
        self.covered = np.zeros(n, bool)
        self.covered[origins] = True
        bps = {int(o): engine.breakpoints(int(o)) for o in origins}
        counts = np.zeros(n, np.int64)
        for o, b in bps.items():
            counts[o] = len(b)
        self.bp_ptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        n_bp = int(self.bp_ptr[-1])
        self.bp = np.zeros(n_bp, np.int64)
        n_keys = n_bp * S
        self.delivered = np.full(n_keys, UNBUILT if self.lazy else -1, np.int32)
        self.start_of = np.full(n_keys, -1, np.int32)
        if self.lazy:
            self._bp_origin = np.repeat(np.arange(n), counts)
            # facilities best_delivery reads the ready minute of (besides the origin)
            in_st = np.concatenate([tt.in_lane[tt.in_ptr[d]:tt.in_ptr[d + 1]] for d in stations]
                                   + [np.zeros(0, np.int64)])
            self._feeders = np.unique(tt.lane_from[in_st]).astype(np.int64)
            self._ready_c = np.empty((n_bp, len(self._feeders)), np.int32)
            self._ready_src = np.empty(n_bp, np.int64)
            self._pred_c = np.empty((n_bp, n), np.int16 if len(tt.lane_from) < 2 ** 15 else np.int32)
            self._route = np.full(ROUTE_BUFFER, -1, np.int32)   # route[0]: the empty path
            self._length = 1
        else:
            pieces = [np.full(1, -1, np.int32)]
            self._length = 1
        progress = or_none(progress)
        progress.start("route table", len(bps))
        for o, b in bps.items():
            K = len(b)
            if K:
                lo = int(self.bp_ptr[o])
                self.bp[lo:lo + K] = b
                # the created minutes whose ready minute is each breakpoint: one search per breakpoint
                ready, pred, row, _ = engine.origin_searches(o, b - int(tt.process[o]))
                if not (row == np.arange(K)).all():   # pragma: no cover - a bug
                    raise SolverError(f"the searches of origin {o} do not match its breakpoints; "
                                      "please report this as a bug")
                if self.lazy:
                    self._keep_searches(lo, o, ready, pred)
                else:
                    pieces.append(self._build_origin(lo, o, ready, pred))
                del ready, pred
            progress.advance()
        progress.finish()
        if not self.lazy:
            self._route = np.concatenate(pieces)
            del pieces
        self.build_seconds = time.perf_counter() - t0

    def _keep_searches(self, lo: int, o: int, ready: np.ndarray, pred: np.ndarray) -> None:
        K = len(ready)
        r = ready[:, self._feeders]
        reach = r < INF
        if reach.any() and r[reach].max() > _I32_MAX:
            raise ValidationError("ready minutes beyond the int32 range")
        self._ready_c[lo:lo + K] = np.where(reach, r, -1)
        self._ready_src[lo:lo + K] = ready[:, o]
        self._pred_c[lo:lo + K] = pred

    def _build_origin(self, lo: int, o: int, ready: np.ndarray, pred: np.ndarray) -> np.ndarray:
        """Every key of one origin (eager): delivery, trace, shared routes."""
        K, S = len(ready), self.n_stations
        res = np.empty((K, S), np.int64)
        last = np.empty((K, S), np.int64)
        PK.deliver(ready, o, self._stations, *self._deliv, res, last)   # = deliver_rows, in parallel
        ok = res < INF
        if ok.any() and res[ok].max() > _I32_MAX:
            raise ValidationError("delivered minutes beyond the int32 range")
        rows = np.repeat(np.arange(K, dtype=np.int64), S)
        ptr, lanes = PK.trace_paths(pred, rows, last.ravel(), self._lane_from)
        del last, rows
        if self._length + len(lanes) + K * S > START32_LIMIT and self.start_of.dtype == np.int32:
            self.start_of = self.start_of.astype(np.int64)
        keys = slice(lo * S, (lo + K) * S)
        out = _share_routes(ptr, lanes, res.ravel(), K, S, self._length, self.delivered[keys],
                            self.start_of[keys])
        self._length += len(out)
        return out

    # -- lazy keys ----------------------------------------------------------
    def _build_keys(self, keys: np.ndarray) -> None:
        """Compute the (claimed, sorted) keys and append their routes."""
        S = self.n_stations
        row = keys // S
        grp = np.concatenate([[0], np.flatnonzero(np.diff(row)) + 1, [len(keys)]]).astype(np.int64)
        last = np.empty(len(keys), np.int64)
        over = _deliver_new(keys, grp, S, self._bp_origin, self._ready_c, self._ready_src,
                            self._feeders, self._stations, *self._deliv, self.delivered, last)
        if over:
            raise ValidationError("delivered minutes beyond the int32 range")
        g = 0
        while g < len(grp) - 1:
            limit = START32_LIMIT if self.start_of.dtype == np.int32 else np.iinfo(np.int64).max
            g, self._length, need = _trace_new(g, keys, grp, S, self._bp_origin, self.bp_ptr,
                                               self._pred_c, self._lane_from, last, self.delivered,
                                               self.start_of, self._route, self._length, limit)
            if need:
                if self._length + need > limit:
                    self.start_of = self.start_of.astype(np.int64)
                if self._length + need > len(self._route):
                    grown = np.empty(max(2 * len(self._route), self._length + need), np.int32)
                    grown[:self._length] = self._route[:self._length]
                    self._route = grown

    # -- answers ------------------------------------------------------------
    @property
    def route(self) -> np.ndarray:
        """All routes built so far, flat int32: each route's lanes in order, then -1."""
        return self._route[:self._length]

    @property
    def n_keys(self) -> int:
        return len(self.delivered)

    @property
    def n_built(self) -> int:
        """Keys computed so far (all of them when not lazy)."""
        return int((self.delivered > UNBUILT).sum()) if self.lazy else self.n_keys

    @property
    def nbytes(self) -> int:
        """Memory held (every array; the route buffer at its allocated size)."""
        arrays = [self._route, self.delivered, self.start_of, self.bp, self.bp_ptr, self.covered,
                  self._col, self._process, self._stations, self._lane_from, *self._deliv]
        if self.lazy:
            arrays += [self._bp_origin, self._feeders, self._ready_c, self._ready_src, self._pred_c]
        return int(sum(a.nbytes for a in arrays))

    def lookup(self, origin, dest, created) -> tuple[np.ndarray, np.ndarray]:
        """Promise minute (int64, INF = unroutable) and route start (int64, -1 =
        unroutable) per parcel: facility positions ``origin``, ``dest`` and
        absolute created minutes."""
        origin = np.ascontiguousarray(origin, np.int64)
        dest = np.ascontiguousarray(dest, np.int64)
        created = np.ascontiguousarray(created, np.int64)
        m = len(origin)
        if len(dest) != m or len(created) != m:
            raise ValidationError("origin, dest and created must have the same length")
        n = self.n_facilities
        if m and (origin.min() < 0 or origin.max() >= n or dest.min() < 0 or dest.max() >= n):
            raise ValidationError(f"facility positions must be in 0..{n - 1}")
        if m and not self.covered[origin].all():
            o = int(origin[~self.covered[origin]][0])
            raise ValidationError(f"origin position {o} is not in the route table")
        promise = np.empty(m, np.int64)
        start = np.empty(m, np.int64)
        missing = _lookup(origin, dest, created, self._process, self.bp_ptr, self.bp, self._col,
                          self.n_stations, self.delivered, self.start_of, promise, start)
        if missing:
            keys = _claim(start, self.delivered)
            if len(keys):
                keys.sort()
                try:
                    self._build_keys(keys)
                except BaseException:
                    self.delivered[keys] = UNBUILT      # left to compute again
                    raise
            _finish(start, promise, self.delivered, self.start_of)
        return promise, start

    def lanes(self, start: int) -> np.ndarray:
        """Lane positions of the route starting at ``start`` (empty for -1)."""
        if start < 0:
            return np.zeros(0, np.int32)
        end = start + int(np.argmax(self._route[start:] < 0))
        return self._route[start:end]
