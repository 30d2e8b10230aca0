"""One day split across partitions of the network, with the single run's answers
(docs/simulation.md, "One day split across partitions").

**Partitions.** Every facility belongs to one of K partitions: its sorter, and the trips of
the lanes that leave it. A parcel crosses between partitions only on a *cut* lane (its two
ends in different partitions). :func:`partition_network` balances the partitions by the
parcels their facilities sort, and cuts only long lanes: it joins the two ends of every
lane shorter than a threshold into one group, with the threshold as long as it can be while
no group sorts more than a share of the day (half a partition's), then packs the groups
into K partitions, heaviest first, each into the lightest partition so far.

**Windows.** All partitions advance together in windows of at most ``window`` minutes, the
shortest travel time on a cut lane (conservative synchronisation, as in YAWNS or
Chandy-Misra-Bryant). A load that leaves on a cut lane in a window arrives after the
window ends, so no partition needs anything from another within one window. At the barrier
after each window, the loads that crossed are handed to the partitions they go to, each
into the arrival slot of its minute.

**Identical answers.** Each partition runs the same compiled minute loop as the single
run, on its own facilities. Nothing in that loop depends on the order in which parcels
joined a run of one minute: a run is a set, split by parcel_id when a sorter or a trip
cannot take all of it (``parcelnet.sim._kernels``). Counters are integers, and each
facility's, lane's and trip's belong to one partition. So every parcel's delivered minute,
and every counter, is the single run's, for any K, any partitioning and any window up to
the limit; timing and the order in which results come back play no part.

**Where the partitions run.** :class:`LocalPartitions` runs them one after the other in
this process (for tests and as the reference); ``parcelnet.sweep.partitioned`` runs each as
a Ray actor. Both answer the calls of :class:`PartitionedRun`, which drives the windows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np

from parcelnet.errors import ParcelnetError, SolverError, ValidationError
from parcelnet.network.model import Network
from parcelnet.sim import _kernels as K
from parcelnet.sim.engine import Prepared, Run

#: Groups of facilities joined by short lanes sort at most this share of a partition's
#: parcels, so that packing them leaves the partitions close to even.
GROUP_SHARE = 0.5


@dataclass(frozen=True)
class Partitioning:
    """Facilities split into ``k`` partitions."""

    part: np.ndarray     # int64 per facility: its partition
    k: int
    cut: np.ndarray      # bool per lane: it leaves one partition for another
    window: int          # the longest window: the shortest travel time on a cut lane (minutes)
    load: np.ndarray     # per partition: parcels its facilities sort (the load it was balanced on)

    @property
    def cut_lanes(self) -> int:
        return int(self.cut.sum())


def facility_load(network: Network, route: np.ndarray, start: np.ndarray,
                  origin: np.ndarray) -> np.ndarray:
    """Parcels each facility sorts: every parcel at its origin and at the end of every lane
    of its route (``route`` positions from ``start``, each route ending in -1)."""
    tt = network.timetable
    load = np.bincount(np.asarray(origin, np.int64), minlength=tt.n_facilities).astype(np.int64)
    pos = np.asarray(start, np.int64).copy()
    lane = route[pos].astype(np.int64)
    while len(lane):
        go = lane >= 0
        if not go.any():
            break
        pos, lane = pos[go] + 1, lane[go]
        load += np.bincount(tt.lane_to[lane], minlength=tt.n_facilities)
        lane = route[pos].astype(np.int64)
    return load


def _find(parent: np.ndarray, a: int) -> int:
    root = a
    while parent[root] != root:
        root = parent[root]
    while parent[a] != root:
        parent[a], a = root, parent[a]
    return root


def partition_network(network: Network, k: int, load: np.ndarray) -> Partitioning:
    """K partitions of ``network``'s facilities, balanced by ``load`` (parcels sorted per
    facility; :func:`facility_load`), with only long lanes cut (module docs). The same
    inputs give the same partitions."""
    tt = network.timetable
    n = tt.n_facilities
    k = int(k)
    if k < 1:
        raise ValidationError(f"partitions: {k}; at least 1")
    if k > n:
        raise ValidationError(f"{k} partitions for {n} facilities: at most one per facility")
    load = np.asarray(load, np.int64)
    if k == 1:
        return partitioning(network, np.zeros(n, np.int64), k=1, load=load)
    cap = max(1, int(GROUP_SHARE * load.sum() / k))
    parent = np.arange(n)
    group_load = load.copy()
    order = np.argsort(tt.lane_duration, kind="stable")
    dur = tt.lane_duration[order]
    i = 0
    while i < len(order):                   # lanes of one duration at a time, shortest first
        j = int(np.searchsorted(dur, dur[i], side="right"))
        trial_parent, trial_load = parent.copy(), group_load.copy()
        ok = True
        for lane in order[i:j]:
            a = _find(trial_parent, int(tt.lane_from[lane]))
            b = _find(trial_parent, int(tt.lane_to[lane]))
            if a != b:
                a, b = min(a, b), max(a, b)
                trial_parent[b] = a
                trial_load[a] += trial_load[b]
                if trial_load[a] > cap:
                    ok = False
                    break
        if not ok:
            break
        parent, group_load = trial_parent, trial_load
        i = j
    roots = np.array([_find(parent, f) for f in range(n)])
    groups = np.unique(roots)
    g_load = group_load[groups]
    rank = np.lexsort((groups, -g_load))   # heaviest first, then the lowest facility
    bins = np.zeros(k, np.int64)
    part_of_group = np.empty(len(groups), np.int64)
    for g in rank:
        p = int(np.argmin(bins))              # the lightest partition so far (lowest on ties)
        part_of_group[g] = p
        bins[p] += g_load[g]
    part = part_of_group[np.searchsorted(groups, roots)]
    return partitioning(network, part, k=k, load=load)


def partitioning(network: Network, part, k: int | None = None,
                 load: np.ndarray | None = None) -> Partitioning:
    """A given split (``part``: the partition of each facility, 0..k-1): its cut lanes and
    longest window. Any split gives the single run's answers; a bad one only cuts shorter
    lanes, so windows are shorter and barriers more."""
    tt = network.timetable
    part = np.asarray(part)
    if part.shape != (tt.n_facilities,) or not np.issubdtype(part.dtype, np.integer):
        raise ValidationError(f"a partitioning gives one integer partition per facility "
                              f"({tt.n_facilities}); got {part.shape[0] if part.ndim else 0} values")
    part = part.astype(np.int64)
    k = int(part.max()) + 1 if k is None else int(k)
    if part.min() < 0 or part.max() >= k:
        f = int(np.flatnonzero((part < 0) | (part >= k))[0])
        raise ValidationError(f"facility {network.facility_index[f]}: partition {part[f]} is "
                              f"not in 0..{k - 1}")
    cut = part[tt.lane_from] != part[tt.lane_to]
    if cut.any():
        lane = int(np.flatnonzero(cut)[np.argmin(tt.lane_duration[cut])])
        window = int(tt.lane_duration[lane])
        if window < 1:
            raise ValidationError(f"lane {network.lane_id_array[lane]}: a travel time of 0 "
                                  f"minutes between two partitions; keep its ends together")
    else:
        window = 1 << 40
    load = np.zeros(tt.n_facilities, np.int64) if load is None else np.asarray(load, np.int64)
    return Partitioning(part, k, cut, window, np.bincount(part, weights=load, minlength=k)
                        .astype(np.int64))


# -- one partition ---------------------------------------------------------------------------

def _readonly(a: np.ndarray) -> np.ndarray:
    """A read-only view. Arrays from Ray's object store are read only, and numba compiles a
    kernel apart for read-only arguments: a partition passes its routes and the loads it takes
    in read only wherever it runs, so the driver's warm-up compiles what the actors run."""
    v = a.view()
    v.flags.writeable = False
    return v


@dataclass(frozen=True)
class Step:
    """What a partition reports after a window."""

    ptr: np.ndarray          # the loads that left it, by the partition they go to (offsets)
    loads: np.ndarray        # ... concatenated (``parcelnet.sim._kernels.drain``)
    parcels: np.ndarray      # ... the parcels in them, by the partition they go to
    log: np.ndarray          # the window's deliveries, int64: i << 32 | (delivered minute + 1)
    sorted: np.ndarray       # ... and the minute each was sorted (when kept; else empty)
    idle_from: int           # the minute it ran dry in the window; -1 when it did not
    in_system: int           # parcels it holds
    pending: int             # parcels fed to it and not created yet
    seconds: float = 0.0     # spent on the window: taking loads in, simulating, handing out


class Partition:
    """One partition's state: a :class:`~parcelnet.sim.engine.Run` over the whole network that
    only ever holds parcels at this partition's facilities and on their lanes. Its arrays are
    its own (nothing from a shared, read-only store is written)."""

    def __init__(self, network: Network, p: int, part: np.ndarray, k: int, route: np.ndarray,
                 first_minute: int, t_end: int, keep_sorted: bool = True):
        tt = network.timetable
        self.p, self.k = int(p), int(k)
        self.part = np.asarray(part, np.int64)
        self.run = run = Run(Prepared(network), 0, _readonly(route), first_minute, t_end,
                             keep_sorted_at_dest=False)
        run.lane_cut = (self.part[tt.lane_from] != self.part[tt.lane_to]).copy()
        self._rows = 2 if keep_sorted else 1
        run.dlog = np.zeros((self._rows, 1024), np.int64)
        self._peak_log = self._peak_fed = 0
        self._buf, self._own = route, False      # the given routes, read only

    def feed(self, index, start, origin, created) -> None:
        self.run.feed(index, start, origin, created)

    def extend_route(self, tail: np.ndarray) -> None:
        """Routes appended to the route array (a lazy route table grows as a day streams):
        kept in a buffer that doubles, so that appending costs the tail only."""
        n, m = len(self.run.route), len(tail)
        if n + m > len(self._buf) or not self._own:       # never write into a shared array
            buf = np.empty(max(2 * len(self._buf), n + m), np.int32)
            buf[:n] = self.run.route
            self._buf, self._own = buf, True
        self._buf[n:n + m] = tail
        self.run.route = _readonly(self._buf[:n + m])

    def set_t_end(self, t_end: int) -> None:
        self.run.t_end = int(t_end)

    def step(self, incoming: np.ndarray, m_stop: int) -> Step:
        """Take the loads that crossed into this partition, simulate through ``m_stop`` and
        hand out the loads that leave it."""
        t0 = time.perf_counter()
        r = self.run
        tt = r.prep.network.timetable
        if len(incoming):
            r._reserve(r.in_system + r.pending() + len(incoming))
            p = r.pool
            got = K.inject(p["data"], p["nxt"], p["free"], p["qs"],
                           _readonly(np.asarray(incoming, np.int64)),
                           r.prep.n_fac, r.prep.n_lane, r.prep.ring, r.minute)
            if got < 0:
                raise SolverError(f"partition {self.p}: a load arrives before minute {r.minute}, "
                                  "the window was longer than a cut lane's travel time")
            r.scal[1] += got
        need = r.in_system + r.pending()        # at most this many delivered in the window
        busy = need > 0
        if r.dlog.shape[1] < need:
            r.dlog = np.zeros((self._rows, max(need, 2 * r.dlog.shape[1])), np.int64)
        self._peak_fed = max(self._peak_fed, r.pending())
        r.scal[4] = 0
        r.advance(m_stop)
        stopped = r.minute
        if stopped <= m_stop:                   # ran out of parcels: nothing until more come
            r.scal[0] = m_stop + 1
        p = r.pool
        ptr, loads, parcels = K.drain(p["data"], p["nxt"], p["free"], p["qs"],
                                   r.prep.n_fac + r.prep.n_lane + r.prep.ring, tt.lane_to,
                                   self.part, self.k)
        r.scal[1] -= parcels.sum()
        # ran dry in this window (delivered or handed on its last parcel): from which minute
        idle_from = stopped if busy and r.in_system == 0 and r.pending() == 0 else -1
        nd = int(r.scal[4])
        self._peak_log = max(self._peak_log, nd)
        log = r.dlog[0, :nd].copy()                                 # 8 bytes a delivery
        srt = r.dlog[1, :nd].copy() if self._rows > 1 else np.zeros(0, np.int64)
        return Step(ptr, loads, parcels, log, srt, idle_from, r.in_system, r.pending(),
                    time.perf_counter() - t0)

    def counters(self) -> dict:
        """The run's per-facility, per-lane and per-trip counters (this partition's rows; the
        others are zero)."""
        r = self.run
        return dict(backlog=r.backlog, left=r.left, hourly=r.hourly, boarded=r.boarded,
                    trip_peak=r.trip_peak, sort_peak=r.sort_peak)

    def memory(self) -> int:
        """The most bytes this partition's state held at once, counted exactly where it
        lives: the pool blocks of parcels and of runs in use at their high-water mark (the
        kernel counts it) with their block links, the creations fed and not yet made at the
        most, the delivery log's most columns, and the per-facility, lane and trip counters.
        Reserved memory never touched does not count (an OS maps a page when first written);
        the process around it (Python, numba, the network) does not either."""
        r = self.run
        used = (len(r.pool["nxt"]) - int(r.pool["free"][2])) * K.B * 8
        used += (len(r.hpool["nxt"]) - int(r.hpool["free"][2])) * K.HB * 8
        links = r.pool["nxt"].nbytes + r.hpool["nxt"].nbytes + r.pool["qs"].nbytes + r.hpool["qs"].nbytes
        counters = sum(a.nbytes for a in (r.backlog, r.left, r.hourly, r.boarded, r.trip_peak,
                                          r.sort_peak, r.cnt, r.touched, r.s_len, r.active))
        return int(used + links + 24 * self._peak_fed + 8 * self._rows * self._peak_log
                   + counters)


class Partitions(Protocol):
    """Where a run's partitions live: one after the other in this process
    (:class:`LocalPartitions`) or as Ray actors (``parcelnet.sweep.partitioned``)."""

    def feed(self, p: int, index, start, origin, created) -> None: ...

    def reserve(self, p: int, parcels: int) -> None: ...

    def extend_route(self, tail: np.ndarray) -> None: ...

    def set_t_end(self, t_end: int) -> None: ...

    def submit(self, incoming: list[np.ndarray], m_stop: int) -> object:
        """Start every partition's window through ``m_stop``, each taking its ``incoming``
        loads, and return at once: a handle for :meth:`collect`."""

    def collect(self, handle: object, m_stop: int) -> list[Step]:
        """The steps of a :meth:`submit` (waiting for them), in the order submitted."""

    def ready(self, handle: object) -> bool:
        """Whether :meth:`collect` would answer without waiting."""

    def counters(self) -> list[dict]: ...

    def memory(self) -> list[dict]: ...

    def close(self) -> None: ...


class LocalPartitions:
    """Every partition in this process, stepped one after the other."""

    def __init__(self, network: Network, pt: Partitioning, route: np.ndarray, first_minute: int,
                 t_end: int, keep_sorted: bool = True):
        self.parts = [Partition(network, p, pt.part, pt.k, route, first_minute, t_end,
                                keep_sorted) for p in range(pt.k)]

    def feed(self, p, index, start, origin, created) -> None:
        self.parts[p].feed(index, start, origin, created)

    def reserve(self, p, parcels) -> None:
        self.parts[p].run.reserve(parcels)

    def extend_route(self, tail) -> None:
        for q in self.parts:
            q.extend_route(tail)

    def set_t_end(self, t_end) -> None:
        for q in self.parts:
            q.set_t_end(t_end)

    def submit(self, incoming, m_stop):         # in this process: done at once
        return [q.step(incoming[i], m_stop) for i, q in enumerate(self.parts)]

    def collect(self, handle, m_stop) -> list[Step]:
        return handle

    def ready(self, handle) -> bool:
        return True

    def counters(self) -> list[dict]:
        return [q.counters() for q in self.parts]

    def memory(self) -> list[dict]:
        """Bytes in each partition's arrays (they share this process, so no peak RSS)."""
        return [{"arrays": q.memory(), "peak_rss": None} for q in self.parts]

    def close(self) -> None:
        self.parts = []


#: Makes a run's partitions: (network, partitioning, route, first minute, end of horizon,
#: keep_sorted=whether to report the minute each delivered parcel was sorted).
PartitionsFactory = Callable[[Network, Partitioning, np.ndarray, int, int], Partitions]


@dataclass(frozen=True)
class Split:
    """How to split a run: ``k`` partitions (balanced by :func:`partition_network`, or
    ``part`` given per facility), windows of ``window`` minutes (default: the longest
    allowed), run where ``partitions`` makes them (default: in this process)."""

    k: int = 1
    part: np.ndarray | None = None
    window: int | None = None
    partitions: PartitionsFactory | None = None

    def partitioning(self, network: Network, load: np.ndarray) -> Partitioning:
        if self.part is not None:
            pt = partitioning(network, self.part, k=self.k, load=load)
        else:
            pt = partition_network(network, self.k, load)
        if self.window is not None:
            w = int(self.window)
            if not 1 <= w <= pt.window:
                raise ValidationError(f"window of {w} minutes: it must be 1 to {pt.window}, the "
                                      f"shortest travel time on a lane between partitions")
        return pt

    def make_run(self, prep: Prepared, n: int, route: np.ndarray, first_minute: int,
                 t_end: int, *, start: np.ndarray | None = None,
                 origin: np.ndarray | None = None, load: np.ndarray | None = None,
                 **kw) -> "PartitionedRun":
        """The partitioned run of ``n`` parcels, balanced on ``load`` per facility, or on
        the parcels ``start``ing their routes at ``origin``."""
        net = prep.network
        pt = self.partitioning(net, facility_load(net, route, start, origin) if load is None
                               else load)
        return PartitionedRun(prep, n, route, first_minute, t_end, pt, self.window or pt.window,
                              self.partitions, **kw)


@dataclass
class Barriers:
    """What the windows cost: their count, the loads and parcels that crossed, and the time:
    of the windows from the driver's side (stepping every partition and the exchange), and of
    the slowest partition's own work in each window, summed."""

    windows: int = 0
    loads: int = 0
    parcels: int = 0
    bytes: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    busiest_window: int = 0      # most bytes handed over at one barrier
    pipelined: bool = False      # one partition: windows submitted ahead, no barrier (seconds:
    #                              the driver's waits for the partition and its applying of them)


class PartitionedRun:
    """A run split across partitions, driven window by window: the calls and outputs of
    :class:`~parcelnet.sim.engine.Run` (feed, advance, the counters, ``delivered``), so the
    single-run drivers drive it unchanged."""

    def __init__(self, prep: Prepared, n: int, route: np.ndarray, first_minute: int, t_end: int,
                 pt: Partitioning, window: int, partitions: PartitionsFactory | None = None,
                 keep_sorted_at_dest: bool = True, out_dtype=np.int64):
        self.prep, self.n, self.pt = prep, int(n), pt
        self.window = int(min(window, pt.window))
        self._route, self._t_end = route, int(t_end)
        make = partitions if partitions is not None else LocalPartitions
        self.parts = make(prep.network, pt, route, first_minute, t_end,
                          keep_sorted=keep_sorted_at_dest)
        self._delivered = np.full(n, -1, out_dtype)
        self._sorted_at_dest = np.full(n if keep_sorted_at_dest else 0, -1, out_dtype)
        # One partition has no lane cut, so nothing crosses: its windows are submitted
        # without waiting for the one before (the driver makes the next block meanwhile),
        # and their results applied in order before anything reads the run's state.
        self._pipelined = pt.k == 1
        self._inflight: list[tuple[object, int]] = []     # (handle, the window's last minute)
        self._fed_since = 0          # parcels fed after the last window submitted
        self._next = int(first_minute)   # pipelined: the first minute of the next window
        self.hour0 = first_minute // 60
        self._minute = int(first_minute)
        self._in_system = np.zeros(pt.k, np.int64)
        self._pending = np.zeros(pt.k, np.int64)
        self._incoming = [np.zeros(0, np.int64) for _ in range(pt.k)]
        self._crossing = 0          # parcels in self._incoming
        self._idle_from = np.full(pt.k, first_minute, np.int64)
        self._counters = None
        self._memory: list[dict] = []
        self.barriers = Barriers(pipelined=self._pipelined)

    # -- Run's interface ----------------------------------------------------------------------
    @property
    def route(self):
        return self._route

    @route.setter
    def route(self, route):
        """Routes are only ever appended: the partitions get what is new."""
        n = len(self._route)
        if len(route) > n:
            self.parts.extend_route(np.ascontiguousarray(route[n:]))
        self._route = route

    @property
    def t_end(self) -> int:
        return self._t_end

    @t_end.setter
    def t_end(self, t_end: int):
        self._t_end = int(t_end)
        self.parts.set_t_end(t_end)

    def start_at(self, minute: int) -> None:
        self._minute = int(minute)
        self._idle_from[:] = minute

    @property
    def minute(self) -> int:
        self._sync()
        return self._minute

    @property
    def in_system(self) -> int:
        self._sync()
        return int(self._in_system.sum()) + self._crossing

    def pending(self) -> int:
        self._sync()
        return int(self._pending.sum())

    @property
    def delivered(self) -> np.ndarray:
        self._sync()
        return self._delivered

    @property
    def sorted_at_dest(self) -> np.ndarray:
        self._sync()
        return self._sorted_at_dest

    def reserve(self, parcels: int) -> None:
        """Room for ``parcels`` in the system at once, over all partitions: each reserves its
        share by load, a quarter more (as :meth:`Run.reserve`, untouched memory costs
        nothing; a partition that needs more grows)."""
        load = self.pt.load.astype(float)
        share = load / load.sum() if load.sum() > 0 else np.full(self.pt.k, 1 / self.pt.k)
        for p in range(self.pt.k):
            self.parts.reserve(p, int(1.25 * parcels * share[p]) + 1)

    def feed(self, index, start, origin, created) -> None:
        origin = np.asarray(origin, np.int64)
        if len(created) and int(created[0]) < self._minute:
            raise ValueError("parcels fed for a minute already simulated")
        index, start, created = (np.asarray(x, np.int64) for x in (index, start, created))
        if self.pt.k == 1:
            if len(index):
                self.parts.feed(0, index, start, origin, created)
                if self._inflight:           # counted by the next window submitted, or at _sync
                    self._fed_since += len(index)
                else:
                    self._pending[0] += len(index)
            return
        where = self.pt.part.astype(np.int16)[origin]
        order = np.argsort(where, kind="stable")         # by partition, in feeding order
        ends = np.cumsum(np.bincount(where, minlength=self.pt.k))
        index, start, origin, created = index[order], start[order], origin[order], created[order]
        a = 0
        for p, b in enumerate(ends):
            if b > a:
                self.parts.feed(p, index[a:b], start[a:b], origin[a:b], created[a:b])
                self._pending[p] += b - a
            a = b

    @property
    def done(self) -> bool:
        self._sync()
        return self._minute > self._t_end or (self.in_system == 0 and self.pending() == 0)

    def advance(self, m_stop: int) -> None:
        """Simulate through ``m_stop`` (at most the end of the horizon) window by window, or
        until no parcel is left in any partition or between them."""
        m_stop = min(int(m_stop), self._t_end)
        if self._pipelined:
            self._submit_through(m_stop)
            return
        while self._minute <= m_stop and not self.done:
            end = min(self._minute + self.window - 1, m_stop)
            t0 = time.perf_counter()
            self._apply(self.parts.submit(self._incoming, end), end)     # the barrier
            self.barriers.seconds += time.perf_counter() - t0
        self._counters = None

    #: windows submitted and not yet applied, at most (the driver stays this close)
    AHEAD = 2

    def _submit_through(self, m_stop: int) -> None:
        """Pipelined (one partition): submit the windows through ``m_stop`` without waiting,
        applying those already done. A window on a partition with nothing left costs a call
        and changes nothing (its idle minute stays the one it ran dry at)."""
        nxt = self._next if self._inflight else self._minute     # the next window's first minute
        while nxt <= m_stop:
            t0 = time.perf_counter()
            while self._inflight and (len(self._inflight) >= self.AHEAD
                                      or self.parts.ready(self._inflight[0][0])):
                self._apply(*self._inflight.pop(0))
            self.barriers.seconds += time.perf_counter() - t0
            end = min(nxt + self.window - 1, m_stop)
            self._inflight.append((self.parts.submit(self._incoming, end), end))
            self._fed_since = 0
            nxt = end + 1
        self._next = nxt               # _apply sets where the run really stands (_minute)
        self._counters = None

    def _sync(self) -> None:
        """Apply every window in flight, in order (pipelined runs; else nothing to do)."""
        if not self._inflight:
            return
        t0 = time.perf_counter()
        while self._inflight:
            self._apply(*self._inflight.pop(0))
        self._pending[0] += self._fed_since
        self._fed_since = 0
        self.barriers.seconds += time.perf_counter() - t0

    def _apply(self, handle, end: int) -> None:
        """A window's results: the exchange, and where the run stands after it (the
        counts are read directly: the properties would apply the windows still in flight)."""
        steps = self.parts.collect(handle, end)
        self._exchange(steps)
        self.barriers.slowest += max(s.seconds for s in steps)
        self._minute = end + 1
        if int(self._in_system.sum()) + self._crossing == 0 and int(self._pending.sum()) == 0:
            self._minute = int(self._idle_from.max())   # as the single run: where it ran dry

    def _exchange(self, steps: list[Step]) -> None:
        k = self.pt.k
        outs = [[] for _ in range(k)]
        b = self.barriers
        b.windows += 1
        crossing = 0
        for p, s in enumerate(steps):
            crossing += int(s.parcels.sum())
            self._in_system[p], self._pending[p] = s.in_system, s.pending
            if s.idle_from >= 0:
                self._idle_from[p] = s.idle_from
            for q in range(k):
                a, z = int(s.ptr[q]), int(s.ptr[q + 1])
                if z > a:
                    outs[q].append(s.loads[a:z])
            if len(s.log):
                i = s.log >> 32
                self._delivered[i] = (s.log & 0xFFFFFFFF) - 1    # 0: not delivered by the end
                if len(self._sorted_at_dest):
                    self._sorted_at_dest[i] = s.sorted
        self._incoming = [np.concatenate(o) if o else np.zeros(0, np.int64) for o in outs]
        self._crossing = crossing
        b.parcels += crossing
        words = sum(len(x) for x in self._incoming)
        b.loads += (words - crossing) // 2          # two words a load besides its entries
        b.bytes += 8 * words
        b.busiest_window = max(b.busiest_window, 8 * words)

    # -- outputs, summed over the partitions (each counter's rows belong to one) ------------------
    def _sum(self, name: str) -> np.ndarray:
        self._sync()
        if self._counters is None:
            self._counters = self.parts.counters()
        return np.sum([c[name] for c in self._counters], axis=0)

    @property
    def backlog(self):
        return self._sum("backlog")

    @property
    def left(self):
        return self._sum("left")

    @property
    def hourly(self):
        return self._sum("hourly")

    @property
    def sort_peak(self):
        return self._sum("sort_peak")

    def trip_boarded(self) -> np.ndarray:
        return self._by_trip(self._sum("boarded"))

    def trip_peaks(self) -> np.ndarray:
        return self._by_trip(self._sum("trip_peak"))

    def _by_trip(self, per_scheduled: np.ndarray) -> np.ndarray:
        out = np.zeros(len(self.prep.network.timetable.trip_lane), np.int64)
        out[self.prep.schedule[4]] = per_scheduled
        return out

    def close(self) -> None:
        """Stop the partitions (their memory is read first, for :meth:`summary`)."""
        if not self._memory:
            try:
                self._memory = list(self.parts.memory())
            except ParcelnetError:               # a lost worker: the run's own error stands
                self._memory = []
        self.parts.close()

    def summary(self) -> dict:
        """The partitions, the window and what crossed between the partitions."""
        pt, b = self.pt, self.barriers
        return {"partitions": pt.k, "window_minutes": self.window, "cut_lanes": pt.cut_lanes,
                "load": [int(x) for x in pt.load], "windows": b.windows,
                "loads_crossed": b.loads, "parcels_crossed": b.parcels,
                "bytes_crossed": b.bytes, "busiest_window_bytes": b.busiest_window,
                "pipelined": b.pipelined, "seconds_windows": round(b.seconds, 3),
                "seconds_slowest_partition": round(b.slowest, 3),
                "partition_peak_bytes": [m["arrays"] for m in self._memory],
                "worker_peak_rss": [m["peak_rss"] for m in self._memory]}

