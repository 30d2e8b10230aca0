"""The capacity simulation: every parcel on a fixed path through sorters and
trips with capacities, exactly as ``docs/simulation.md`` defines it.

:func:`simulate_paths` is the core call: parcels with their paths in, the
delivered minute of each out. Path choice lives in :mod:`parcelnet.sim.paths`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.network.model import STATION, Network
from parcelnet.parcels import Parcels
from parcelnet.progress import Counter, Progress
from parcelnet.sim import _kernels as K
from parcelnet.units import DAY

DEFAULT_HORIZON = 7 * DAY


def trip_schedule(network: Network):
    """Trips grouped by minute of day (CSR), each minute's trips by lane and, within
    a lane, by trip_id as strings; with the gap (minutes) back to the lane's
    previous distinct departure minute, and the trips.csv row of each."""
    tt = network.timetable
    trip_ids = network.tables["trips.csv"]["trip_id"].to_numpy(dtype=object)
    rank = np.empty(len(trip_ids), np.int64)
    rank[np.argsort(trip_ids.astype(str), kind="stable")] = np.arange(len(trip_ids))
    order = np.lexsort((rank, tt.trip_lane, tt.trip_departure))
    minute = tt.trip_departure[order]
    ptr = np.zeros(DAY + 1, np.int64)
    np.add.at(ptr, minute + 1, 1)
    ptr = np.cumsum(ptr)
    lane = tt.trip_lane[order]
    # the lane's distinct departure minutes are dep_minute[dep_ptr[l]:dep_ptr[l + 1]], sorted
    dep_lane = np.repeat(np.arange(len(tt.dep_ptr) - 1), np.diff(tt.dep_ptr))
    pos = np.searchsorted(dep_lane * DAY + tt.dep_minute, lane * DAY + minute)
    first = pos == tt.dep_ptr[lane]
    prev = np.where(first, tt.dep_ptr[lane + 1] - 1, pos - 1)
    gap = minute - tt.dep_minute[prev] + np.where(first, DAY, 0)
    return ptr, lane, tt.trip_capacity[order], gap, order


@dataclass(frozen=True)
class RawResult:
    """Per parcel (input order) and per facility / lane outputs of one run."""

    delivered: np.ndarray        # -1 = not delivered
    sorted_at_dest: np.ndarray   # minute handled by the destination sorter, -1 = never
    backlog_peak: np.ndarray     # per facility: most parcels waiting for its sorter after a minute
    left_behind: np.ndarray      # per lane: parcels that had to wait for a later departure
    last_minute: int
    hourly: np.ndarray           # per facility and hour (from hour0): parcels sorted
    hour0: int
    trip_boarded: np.ndarray     # per trip (trips.csv order): parcels boarded over all days
    trip_peak: np.ndarray        # per trip (trips.csv order): most parcels on one departure
    sort_peak: np.ndarray        # per facility: most parcels its sorter handled in one minute
    hops: Hops | None = None     # each parcel's journey, when asked for
    split: dict | None = None    # a partitioned run: partitions, window, barriers, crossings


@dataclass(frozen=True)
class Hops:
    """Each parcel's journey (input order), as CSR: parcel j's facilities are hops
    ``ptr[j] .. ptr[j + 1] - 1`` (its origin first, its destination station last). At hop k:
    ``sorted[k]``, the minute the facility's sorter handled it; ``boarded[k]``, the minute the
    trip of the lane from that facility took it (-1 at the last hop, and where the run ended
    first)."""

    ptr: np.ndarray
    sorted: np.ndarray
    boarded: np.ndarray


def check_paths(network: Network, parcel_id, origin, dest, path_ptr, path_lanes) -> None:
    """Every path is a chain of lanes from the parcel's origin to its destination station."""
    tt = network.timetable
    bad_dest = tt.kind[dest] != STATION
    if bad_dest.any():
        i = int(np.flatnonzero(bad_dest)[0])
        raise ValidationError(f"parcel {parcel_id[i]}: destination is not a station")
    length = np.diff(path_ptr)
    empty = length == 0
    wrong = empty & (origin != dest)
    has = ~empty
    first, last = path_ptr[:-1][has], path_ptr[1:][has] - 1
    start_ok = np.ones(len(origin), bool)
    start_ok[has] = tt.lane_from[path_lanes[first]] == origin[has]
    end_ok = np.ones(len(origin), bool)
    end_ok[has] = tt.lane_to[path_lanes[last]] == dest[has]
    chain = np.ones(len(path_lanes), bool)
    if len(path_lanes) > 1:
        chain[1:] = tt.lane_to[path_lanes[:-1]] == tt.lane_from[path_lanes[1:]]
        chain[path_ptr[:-1][has]] = True          # a path's first lane follows nothing
    chain_ok = np.logical_and.reduceat(chain, path_ptr[:-1][has]) if has.any() else np.array([], bool)
    ok = ~wrong & start_ok & end_ok
    ok[has] &= chain_ok
    if not ok.all():
        i = int(np.flatnonzero(~ok)[0])
        raise ValidationError(f"parcel {parcel_id[i]}: path is not a chain of lanes from its origin "
                              f"to its destination")


class Prepared:
    """What the simulator needs of a network, computed once (trip schedule by minute of day,
    arrival ring); reuse it for many runs on the same network."""

    def __init__(self, network: Network):
        tt = network.timetable
        self.network = network
        self.schedule = trip_schedule(network)
        self.ring = int(tt.lane_duration.max()) + 1 if len(tt.lane_duration) else 1
        self.n_fac = tt.n_facilities
        self.n_lane = len(tt.lane_to)
        # loads in flight at once: at most every departure of ring / DAY + 1 days
        self.max_loads = len(self.schedule[1]) * (self.ring // DAY + 2)


def terminated_routes(path_ptr: np.ndarray, path_lanes: np.ndarray):
    """CSR paths as one route array (each path's lanes, then -1) and each path's start in it."""
    n_paths = len(path_ptr) - 1
    route = np.full(len(path_lanes) + n_paths, -1, np.int32)
    row = np.repeat(np.arange(n_paths), np.diff(path_ptr))
    route[np.arange(len(path_lanes)) + row] = path_lanes
    return route, path_ptr[:-1] + np.arange(n_paths)


class Run:
    """The state of one simulation, advanced window by window: :meth:`feed` parcels (in
    creation order), :meth:`advance` to a minute. Per-parcel outputs are indexed by the
    parcel's index ``i`` (parcel_id order), fixed when the run is made for ``n`` parcels."""

    def __init__(self, prep: Prepared, n: int, route: np.ndarray, first_minute: int, t_end: int,
                 keep_sorted_at_dest: bool = True, out_dtype=np.int64, hops=None):
        self.prep, self.n, self.route, self.t_end = prep, n, route, int(t_end)
        q = prep.n_fac + prep.n_lane
        self.pool = K.new_pool(1, K.B, q + prep.ring + 1)   # + the outbox (partitions)
        self.hpool = K.new_pool(1, K.HB, q)
        self.cnt = np.zeros(q, np.int64)
        self.touched = np.empty(q, np.int64)
        self.buf = np.empty(K.CHUNK, np.int64)
        self.lbuf = np.empty(K.CHUNK, np.int32)
        self.s_len = np.zeros(prep.n_fac, np.int64)
        self.active = np.empty(prep.n_fac, np.int64)
        self.is_active = np.zeros(prep.n_fac, np.bool_)
        self.scal = np.array([first_minute, 0, 0, 0, 0], np.int64)
        self.delivered = np.full(n, -1, out_dtype)
        self.sorted_at_dest = np.full(n if keep_sorted_at_dest else 0, -1, out_dtype)
        self.backlog = np.zeros(prep.n_fac, np.int64)
        self.left = np.zeros(prep.n_lane, np.int64)
        self.hour0 = first_minute // 60
        self.hourly = np.zeros((prep.n_fac, self.t_end // 60 - self.hour0 + 1), np.int64)
        self.boarded = np.zeros(len(prep.schedule[1]), np.int64)
        self.trip_peak = np.zeros(len(prep.schedule[1]), np.int64)
        self.sort_peak = np.zeros(prep.n_fac, np.int64)
        self._c = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
        none = np.zeros(0, np.int64)
        #: (base, off, sorted, boarded) indexed by parcel index: see the kernel's docs
        self.hops = hops if hops is not None else (none, none, none, none)
        #: per lane, set where its loads leave for another partition (empty: none do)
        self.lane_cut = np.zeros(0, np.bool_)
        #: the delivery log (see the kernel; no columns: none kept)
        self.dlog = np.zeros((1, 0), np.int64)

    @property
    def minute(self) -> int:
        return int(self.scal[0])

    def start_at(self, minute: int) -> None:
        """The first minute to simulate (before the first :meth:`advance`)."""
        self.scal[0] = int(minute)

    @property
    def in_system(self) -> int:
        return int(self.scal[1])

    def pending(self) -> int:
        return len(self._c[0]) - int(self.scal[2])

    def feed(self, index: np.ndarray, start: np.ndarray, origin: np.ndarray, created: np.ndarray):
        """Parcels ``index`` (their i) starting at route position ``start`` from facility
        ``origin`` at minute ``created``: all created at or after the current minute and,
        together, sorted by (created, index). Parcels fed before and not yet created stay."""
        c_entry, c_fac, c_min = self._c
        cp = int(self.scal[2])
        if len(created) and int(created[0]) < self.minute:
            raise ValueError("parcels fed for a minute already simulated")
        entry = (np.asarray(index, np.int64) << 32) | np.asarray(start, np.int64)
        self._c = (np.concatenate([c_entry[cp:], entry]),
                   np.concatenate([c_fac[cp:], np.asarray(origin, np.int64)]),
                   np.concatenate([c_min[cp:], np.asarray(created, np.int64)]))
        self.scal[2] = 0

    def reserve(self, parcels: int) -> None:
        """Room for ``parcels`` in the system at once, allocated now (untouched memory costs
        nothing until used, and a freed block is the next one used): a streamed day reserves
        its whole size once instead of growing, and copying, the pools block after block."""
        self._reserve(int(parcels))

    def _reserve(self, live: int = 0):
        """Enough pool blocks for everything in the system and still to create: a queue holds
        at most len / block + 2 blocks, and every run has at least one entry."""
        prep = self.prep
        live = max(live, self.in_system + self.pending())
        q = prep.n_fac + prep.n_lane
        self.pool = K.grow_pool(self.pool, _grown(self.pool, (live + 2 * prep.max_loads) // K.B
                                                  + 2 * (q + prep.ring + 1) + 2), K.B)
        self.hpool = K.grow_pool(self.hpool, _grown(self.hpool, live // K.HB + 2 * q + 2), K.HB)

    def advance(self, m_stop: int) -> None:
        """Simulate through minute ``m_stop`` (at most the end of the horizon), or until no
        parcel is in the system and none is left to create."""
        self._reserve()
        prep, tt = self.prep, self.prep.network.timetable
        p, h = self.pool, self.hpool
        K.run(*self._c, self.route, tt.sort_per_minute, tt.process, tt.lane_to, tt.lane_duration,
              *prep.schedule[:4], tt.wave_ptr, tt.wave_start, tt.wave_duration, prep.n_fac,
              prep.ring, self.t_end, min(int(m_stop), self.t_end), p["data"], p["nxt"], p["free"],
              p["qs"], h["data"], h["nxt"], h["free"], h["qs"], self.cnt, self.touched,
              self.buf, self.lbuf,
              self.s_len, self.active, self.is_active, self.scal, self.delivered,
              self.sorted_at_dest, self.backlog, self.left, self.hourly, self.hour0, self.boarded,
              self.trip_peak, self.sort_peak, *self.hops, self.lane_cut, self.dlog)

    @property
    def done(self) -> bool:
        return self.minute > self.t_end or (self.in_system == 0 and self.pending() == 0)

    def trip_boarded(self) -> np.ndarray:
        return self._by_trip(self.boarded)

    def trip_peaks(self) -> np.ndarray:
        return self._by_trip(self.trip_peak)

    def _by_trip(self, per_scheduled: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.prep.network.timetable.trip_lane), np.int64)
        out[self.prep.schedule[4]] = per_scheduled
        return out


def _grown(pool, blocks: int) -> int:
    """Blocks to grow a pool to when it needs ``blocks``: half as many again as it has, at
    least, so that a run fed block after block copies its pool a few times, not at every
    block."""
    have = len(pool["nxt"])
    return blocks if blocks <= have else max(blocks, have + have // 2)


#: The longest span of creation minutes one simulation takes (a year).
MAX_CREATION_SPAN = 366 * DAY
SIM_STAGE = "simulation"


def run_paths(network: Network, parcels: Parcels, path_ptr, path_lanes, *,
              horizon_minutes: int | None = None, check: bool = True, path_id=None,
              progress: Progress | None = None, chunk_minutes: int = DAY,
              prepared: Prepared | None = None, record_hops: bool = False,
              split=None) -> RawResult:
    """Simulate parcels on given paths (lane positions, CSR); see the module docs.

    Without ``path_id`` parcel i follows CSR path i; with it, path ``path_id[i]``
    (parcels sharing a path share its storage). The compiled loop runs in
    windows of ``chunk_minutes``; after each, the stage "simulation" of ``progress`` advances
    to the parcels delivered or finished so far. ``prepared`` (of this network) saves the
    set-up. ``record_hops``: also each parcel's journey (:class:`Hops`). ``split``
    (:class:`parcelnet.sim.partition.Split`): the run split across partitions, with the same
    results."""
    parcel_id, created = parcels.parcel_id, parcels.created_minute
    origin, dest = parcels.origin_pos, parcels.dest_pos
    path_ptr = np.asarray(path_ptr, np.int64)
    path_lanes = np.asarray(path_lanes, np.int64)
    n = len(parcel_id)
    idx = np.argsort(parcel_id, kind="stable")   # parcels indexed in parcel_id order
    dup = np.flatnonzero(parcel_id[idx][1:] == parcel_id[idx][:-1])
    if len(dup):
        raise ValidationError(f"parcel ids must be unique: {parcel_id[idx][dup[0]]} repeats")
    if n and int(created.max()) - int(created.min()) > MAX_CREATION_SPAN:
        late = int(np.argmax(created))
        raise ValidationError(
            f"parcel {parcel_id[late]} is created at minute {created[late]:,}, "
            f"{(int(created.max()) - int(created.min())) / DAY:,.0f} days after the first; one "
            f"simulation covers creations over at most {MAX_CREATION_SPAN // DAY} days")
    path_id = np.arange(n, dtype=np.int64) if path_id is None else np.asarray(path_id, np.int64)
    if check:
        pp = np.concatenate([[0], np.cumsum(np.diff(path_ptr)[path_id])])
        per_parcel = (path_lanes[np.repeat(path_ptr[:-1][path_id], np.diff(pp))
                                 + np.arange(pp[-1]) - np.repeat(pp[:-1], np.diff(pp))]
                      if pp[-1] else np.zeros(0, np.int64))
        check_paths(network, parcel_id, origin, dest, pp, per_parcel)
    prep = prepared if prepared is not None else Prepared(network)
    horizon = DEFAULT_HORIZON if horizon_minutes is None else int(horizon_minutes)
    route, start = terminated_routes(path_ptr, path_lanes)
    c = created[idx]                              # every tie-break is then by index
    first = int(c.min()) if n else 0
    t_end = int(c.max()) + horizon if n else 0
    hops = None
    if record_hops:                               # by index: origin .. destination, per parcel
        pid = path_id[idx]
        size = np.diff(path_ptr)[pid] + 1
        off = np.concatenate([[0], np.cumsum(size)]).astype(np.int64)
        hops = (start[pid].astype(np.int64), off[:-1].copy(), np.full(off[-1], -1, np.int64),
                np.full(off[-1], -1, np.int64))
    if split is not None:
        if record_hops:
            raise ParameterError("a partitioned run does not record hops; run it in one process")
        run = split.make_run(prep, n, route, first, t_end, start=start[path_id], origin=origin)
    else:
        run = Run(prep, n, route, first, t_end, hops=hops)
    order = np.argsort(c, kind="stable")          # by (created, index)
    try:
        run.feed(order, start[path_id[idx][order]], origin[idx][order], c[order])
        step = max(60, int(chunk_minutes))
        done = Counter(progress, SIM_STAGE, n)
        while n and not run.done:
            run.advance(run.minute + step - 1)
            done(n - run.in_system - run.pending())
        done.finish()
        backlog, left, hourly, sort_peak = run.backlog, run.left, run.hourly, run.sort_peak
        boarded, peaks = run.trip_boarded(), run.trip_peaks()
    finally:
        if split is not None:
            run.close()
    out = np.empty(n, np.int64)
    out[idx] = run.delivered
    dst = np.empty(n, np.int64)
    dst[idx] = run.sorted_at_dest
    return RawResult(out, dst, backlog, left, run.minute - 1, hourly, run.hour0, boarded, peaks,
                     sort_peak, None if hops is None else _in_input_order(hops, idx),
                     run.summary() if split is not None else None)


def _in_input_order(hops, idx: np.ndarray) -> Hops:
    """The recorded journeys (by parcel index) as :class:`Hops` in input order."""
    _, off, srt, brd = hops
    size = np.diff(np.concatenate([off, [len(srt)]]))
    n = len(idx)
    by_input = np.empty(n, np.int64)
    by_input[idx] = np.arange(n)                  # input j is index by_input[j]
    ptr = np.concatenate([[0], np.cumsum(size[by_input])]).astype(np.int64)
    take = np.repeat(off[by_input], size[by_input]) + np.arange(ptr[-1]) - np.repeat(ptr[:-1], size[by_input])
    return Hops(ptr, srt[take], brd[take])


def simulate_paths(network: Network, parcels: Parcels, path_ptr, path_lanes,
                   horizon_minutes: int | None = None) -> np.ndarray:
    """Delivered minute of every parcel (-1 = not delivered within the horizon)."""
    return run_paths(network, parcels, path_ptr, path_lanes, horizon_minutes=horizon_minutes).delivered
