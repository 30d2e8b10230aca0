"""A whole day streamed: parcels in blocks of whole minutes, each block looked up in the
route table, fed to the running simulation and simulated up to its last creation minute
before the next block is made. Nothing of the day is held but what the KPIs need per
parcel (promise and delivered minute, int32; created minute and destination province,
int16: 12 bytes a parcel) and the parcels in flight, so China's 777M-parcel peak day fits
in 24 GB. With a scratch directory the arrays written block by block (all but the delivered
minutes) live in files that the kernel pages (:mod:`parcelnet.sim.scratch`). Same rules,
same delivered minutes as :func:`parcelnet.sim.run.simulate`.

Blocks must carry parcel ids 0, 1, 2, ... in creation order, as
:func:`parcelnet.demand.generate.iter_parcel_blocks` makes them: a parcel's id is then its
index in the per-parcel arrays and in the kernel's order of (minute, parcel_id).
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np

from parcelnet.errors import ValidationError
from parcelnet.network.model import STATION, Network
from parcelnet.progress import Counter, Progress
from parcelnet.promise.engine import PromiseEngine
from parcelnet.sim.engine import DEFAULT_HORIZON, Prepared, RawResult, Run
from parcelnet.sim.kpis import admin1_groups, kpis, new_tally, tally
from parcelnet.sim.routes import RouteTable
from parcelnet.sim.scratch import check_scratch, day_array
from parcelnet.units import DAY

_TALLY_CHUNK = 1 << 24


@dataclass(eq=False)
class DayResult:
    """A streamed day: per-parcel minutes (index = parcel_id), the run's per-facility and
    per-lane outputs, and the stage times."""

    network: Network
    promise: np.ndarray      # int32, -1 = unroutable
    delivered: np.ndarray    # int32, -1 = not delivered by the end of the horizon
    created: np.ndarray      # int16 minute of creation
    dest: np.ndarray         # int16 position among the network's stations
    raw: RawResult
    horizon_end: int
    seconds: dict[str, float] = field(default_factory=dict)

    def tally(self) -> tuple[dict, np.ndarray]:
        """(tally, group names) for :mod:`parcelnet.sim.kpis`, made in chunks."""
        codes, names = admin1_groups(self.network)
        st_group = codes[self.network.stations]
        top = max(int(self.horizon_end - (int(self.created.min()) if len(self.created) else 0)), 0)
        t = new_tally(len(names), top)
        for a in range(0, len(self.promise), _TALLY_CHUNK):
            b = a + _TALLY_CHUNK
            tally(t, self.created[a:b], self.promise[a:b], self.delivered[a:b],
                  st_group[self.dest[a:b]])
        return t, names

    def kpis(self) -> dict:
        """The KPIs of :func:`parcelnet.sim.kpis.kpis`."""
        return kpis(self)


def _check_block(b, expect_id: int, last_minute: int, after: int, stations: np.ndarray) -> None:
    ids, minute = b.parcel_id, b.created_minute
    if len(ids) and (ids[0] != expect_id or (np.diff(ids) != 1).any()):
        raise ValidationError(f"streamed parcels must have ids {expect_id}, {expect_id + 1}, ... "
                              f"in creation order; got {ids[0]} first")
    if len(minute):
        if minute[0] <= after:
            raise ValidationError(f"parcel {ids[0]}: created at minute {minute[0]}, not after the "
                                  f"previous block's last minute {after}")
        if (np.diff(minute) < 0).any():
            i = int(np.flatnonzero(np.diff(minute) < 0)[0]) + 1
            raise ValidationError(f"parcel {ids[i]}: created before the parcel ahead of it")
        if minute[-1] > last_minute:
            raise ValidationError(f"parcel {ids[-1]}: created at minute {minute[-1]}, after the "
                                  f"last minute {last_minute} the day was announced with")
    bad = ~stations[b.dest_pos]
    if bad.any():
        raise ValidationError(f"parcel {ids[int(np.flatnonzero(bad)[0])]}: destination is not a "
                              "station")


def simulate_blocks(network: Network, blocks: Iterable, n: int, last_minute: int = DAY - 1,
                    horizon_minutes: int | None = None, progress: Progress | None = None,
                    route_table: RouteTable | None = None,
                    prepared: Prepared | None = None, split=None,
                    split_load: np.ndarray | None = None, scratch=None) -> DayResult:
    """Simulate ``n`` parcels arriving as ``blocks`` (:class:`~parcelnet.parcels.Parcels`; see
    the module docs), created no later than
    ``last_minute``. The horizon ends at the last creation + ``horizon_minutes`` (default 7
    days), as in :func:`parcelnet.sim.run.simulate`.

    Reports to ``progress`` the stages "route table" (origins, when it builds one), "parcels"
    (created and fed so far) and "delivered" (of the parcels fed). ``route_table`` (a lazy one
    for this network) saves building one. ``split``
    (:class:`parcelnet.sim.partition.Split`): the day split across partitions, balanced on
    ``split_load`` (parcels sorted per facility, e.g. of a sample of the day), with the same
    results. ``scratch`` (a directory): the promise, creation minute and destination of each
    parcel (8 bytes a parcel) in files there, which the kernel writes out and reads back as
    memory requires (:mod:`parcelnet.sim.scratch`), with the same results."""
    t0 = time.perf_counter()
    n = int(n)
    if n >= 2 ** 31:
        raise ValidationError(f"{n} parcels: a streamed day holds at most 2^31 - 1")
    if not 0 <= last_minute < 2 ** 15:
        raise ValidationError(f"last_minute must be in 0..32767, got {last_minute}")
    horizon = DEFAULT_HORIZON if horizon_minutes is None else int(horizon_minutes)
    if scratch is not None:
        check_scratch(scratch)
    tt = network.timetable
    is_station = tt.kind == STATION
    col = np.full(tt.n_facilities, -1, np.int64)
    col[network.stations] = np.arange(len(network.stations))
    rt = route_table if route_table is not None else RouteTable(PromiseEngine(network),
                                                                progress=progress)
    prep = prepared if prepared is not None else Prepared(network)
    t1 = time.perf_counter()
    if split is not None:
        if split_load is None:
            raise ValidationError("a streamed day split across partitions needs the load per "
                                  "facility to balance them on (split_load)")
        run = split.make_run(prep, n, rt.route, 0, last_minute + horizon, load=split_load,
                             keep_sorted_at_dest=False, out_dtype=np.int32)
    else:
        run = Run(prep, n, rt.route, 0, last_minute + horizon, keep_sorted_at_dest=False,
                  out_dtype=np.int32)
    try:
        res = _stream(network, blocks, n, last_minute, horizon, progress, rt, run, t0, t1,
                      route_table is None, is_station, col, scratch)
    finally:
        if split is not None:
            run.close()
    if split is not None:
        res.raw = replace(res.raw, split=run.summary())
    return res


def _stream(network, blocks, n, last_minute, horizon, progress, rt, run, t0, t1, built,
            is_station, col, scratch=None) -> DayResult:
    # each written once, block by block, in order (every parcel's slot, so no fill): in
    # files these are written out once and dropped from memory by the kernel as it needs
    promise = day_array(n, np.int32, None, scratch)
    created = day_array(n, np.int16, None, scratch)
    dest = day_array(n, np.int16, None, scratch)
    run.reserve(n)
    seconds = {"demand": 0.0, "routes": 0.0, "simulation": 0.0}
    done, last, first = 0, -1, None
    tb = time.perf_counter()
    fed_so_far = Counter(progress, "parcels", n)
    for b in blocks:
        s = time.perf_counter()
        seconds["demand"] += s - tb        # making the block (e.g. sampling it)
        k = len(b.parcel_id)
        if done + k > n:
            raise ValidationError(f"more than the {n} parcels announced")
        _check_block(b, done, last_minute, last, is_station)
        if k == 0:
            tb = time.perf_counter()
            continue
        if first is None:
            first = int(b.created_minute[0])
            run.start_at(first)
        p, start = rt.lookup(b.origin_pos, b.dest_pos, b.created_minute)
        ok = start >= 0
        if (p[ok] >= 2 ** 31).any():
            raise ValidationError("promised minutes beyond the int32 range")
        sl = slice(done, done + k)
        promise[sl] = np.where(ok, p, -1)
        created[sl] = b.created_minute
        dest[sl] = col[b.dest_pos]
        s2 = time.perf_counter()
        seconds["routes"] += s2 - s
        run.route = rt.route                       # lazy look-ups may have grown it
        run.feed(b.parcel_id[ok], start[ok], b.origin_pos[ok], b.created_minute[ok])
        run.advance(int(b.created_minute[-1]))
        done += k
        last = int(b.created_minute[-1])
        seconds["simulation"] += time.perf_counter() - s2
        fed_so_far(done)
        tb = time.perf_counter()
    if done != n:
        raise ValidationError(f"{done} parcels streamed, {n} announced")
    fed_so_far.finish()
    s = time.perf_counter()
    t_end = (last if n else 0) + horizon
    run.t_end = t_end               # the horizon counts from the last creation, now known
    fed = int((promise >= 0).sum())
    delivered_so_far = Counter(progress, "delivered", fed)
    while n and not run.done:
        run.advance(run.minute + DAY - 1)
        delivered_so_far(fed - run.in_system)
    delivered_so_far.finish()
    seconds["simulation"] += time.perf_counter() - s
    delivered = run.delivered
    delivered[delivered > t_end] = -1           # a wave ending after H: not delivered
    raw = RawResult(delivered, run.sorted_at_dest, run.backlog, run.left, run.minute - 1,
                    run.hourly, run.hour0, run.trip_boarded(), run.trip_peaks(), run.sort_peak)
    seconds["route_table"] = t1 - t0 if built else 0.0
    seconds["total"] = time.perf_counter() - t0
    return DayResult(network, promise, delivered, created, dest, raw, t_end, seconds)


#: Parcels of the day's model that a split day is balanced on.
SPLIT_SAMPLE = 200_000


def simulate_day(network: Network, n: int, day: str = "normal", seed: int = 0,
                 horizon_minutes: int | None = None, progress: Progress | None = None,
                 split=None, scratch=None, **model_kw) -> DayResult:
    """Generate a day of the demand model (:mod:`parcelnet.demand`) and simulate it as it is
    generated: the parcels of ``parcelnet demand ... --seed S`` without writing them.
    ``split`` (:class:`parcelnet.sim.partition.Split`): the day split across partitions,
    balanced on the parcels each facility sorts in a day of ``SPLIT_SAMPLE`` parcels of the
    same model; the same results. ``scratch``: as :func:`simulate_blocks`."""
    from parcelnet.demand.generate import _check_count, _check_seed, check_day, demand_model, iter_parcel_blocks
    from parcelnet.sim.partition import facility_load
    n, seed, day = _check_count(n), _check_seed(seed), check_day(day)
    if scratch is not None:
        check_scratch(scratch)           # before the work, not after it
    model = demand_model(network, **model_kw)
    rt = load = None
    if split is not None:
        rt = RouteTable(PromiseEngine(network), progress=progress)
        load = np.zeros(network.timetable.n_facilities, np.int64)
        for b in iter_parcel_blocks(model, min(n, SPLIT_SAMPLE), day, seed):
            _, start = rt.lookup(b.origin_pos, b.dest_pos, b.created_minute)
            ok = start >= 0
            load += facility_load(network, rt.route, start[ok], b.origin_pos[ok])
    return simulate_blocks(network, iter_parcel_blocks(model, n, day, seed), n,
                           horizon_minutes=horizon_minutes, progress=progress, route_table=rt,
                           split=split, split_load=load, scratch=scratch)


__all__ = ["DayResult", "simulate_blocks", "simulate_day"]
