"""The capacity simulation: every parcel on a fixed path through sorters and
trips with capacities, exactly as ``docs/simulation.md`` defines it.

:func:`simulate_paths` is the core call: parcels with their paths in, the
delivered minute of each out. Path choice lives in :mod:`parcelnet.sim.paths`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.errors import ValidationError
from parcelnet.network.model import STATION, Network
from parcelnet.sim import _kernels as K

DAY = 1440
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


def run_paths(network: Network, parcel_id, created, origin, dest, path_ptr, path_lanes,
              horizon_minutes: int | None = None, check: bool = True,
              path_id=None, progress=None, chunk_minutes: int = DAY) -> RawResult:
    """Simulate parcels on given paths (lane positions, CSR); see the module docs.

    Without ``path_id`` parcel i follows CSR path i; with it, path ``path_id[i]``
    (parcels sharing a path share its storage). The compiled loop runs in
    windows of ``chunk_minutes``; after each, ``progress(minutes, delivered or
    finished so far)`` is called."""
    parcel_id = np.asarray(parcel_id, np.int64)
    created = np.asarray(created, np.int64)
    origin = np.asarray(origin, np.int64)
    dest = np.asarray(dest, np.int64)
    path_ptr = np.asarray(path_ptr, np.int64)
    path_lanes = np.asarray(path_lanes, np.int64)
    n = len(parcel_id)
    tt = network.timetable
    idx = np.argsort(parcel_id, kind="stable")   # parcels indexed in parcel_id order
    dup = np.flatnonzero(parcel_id[idx][1:] == parcel_id[idx][:-1])
    if len(dup):
        raise ValidationError(f"parcel ids must be unique: {parcel_id[idx][dup[0]]} repeats")
    path_id = np.arange(n, dtype=np.int64) if path_id is None else np.asarray(path_id, np.int64)
    if check:
        pp = np.concatenate([[0], np.cumsum(np.diff(path_ptr)[path_id])])
        per_parcel = (path_lanes[np.repeat(path_ptr[:-1][path_id], np.diff(pp))
                                 + np.arange(pp[-1]) - np.repeat(pp[:-1], np.diff(pp))]
                      if pp[-1] else np.zeros(0, np.int64))
        check_paths(network, parcel_id, origin, dest, pp, per_parcel)
    horizon = DEFAULT_HORIZON if horizon_minutes is None else int(horizon_minutes)
    c = created[idx]                              # every tie-break is then by index
    by_created = np.lexsort((np.arange(n), c)).astype(np.int64)
    delivered = np.full(n, -1, np.int64)
    at_dest = np.full(n, -1, np.int64)
    backlog = np.zeros(tt.n_facilities, np.int64)
    left = np.zeros(len(tt.lane_to), np.int64)
    first = int(c.min()) if n else 0
    t_end = int(c.max()) + horizon if n else 0
    hour0 = first // 60
    hourly = np.zeros((tt.n_facilities, t_end // 60 - hour0 + 1), np.int64)
    ring = int(tt.lane_duration.max()) + 1 if len(tt.lane_duration) else 1
    st = K.new_state(n, tt.n_facilities, len(tt.lane_to), ring, first)
    at = origin[idx].copy()
    sched = trip_schedule(network)
    boarded = np.zeros(len(sched[1]), np.int64)
    step = max(60, int(chunk_minutes))
    m = first
    while n and m <= t_end and st["scal"][1] > 0:
        stop = min(t_end, m + step - 1)
        K.run(c, by_created, at, dest[idx], path_id[idx], path_ptr, path_lanes,
              tt.sort_per_minute, tt.process, tt.lane_to, tt.lane_duration, *sched[:4],
              tt.wave_ptr, tt.wave_start, tt.wave_duration, t_end, stop, st["nxt"], st["hop"],
              st["ready"], st["b_head"], st["s_head"], st["s_tail"], st["s_len"], st["active"],
              st["is_active"], st["q_head"], st["q_tail"], st["buf"], st["keys"], st["handled"],
              st["scal"], delivered, at_dest, backlog, left, hourly, hour0, boarded)
        if progress:
            progress(int(st["scal"][0]) - m, n - int(st["scal"][1]))
        m = int(st["scal"][0])
    last = m - 1
    out = np.empty(n, np.int64)
    out[idx] = delivered
    dst = np.empty(n, np.int64)
    dst[idx] = at_dest
    trip_boarded = np.zeros(len(tt.trip_lane), np.int64)
    trip_boarded[sched[4]] = boarded
    return RawResult(out, dst, backlog, left, int(last), hourly, hour0, trip_boarded)


def simulate_paths(network: Network, parcel_id, created_minute, origin_pos, dest_pos,
                   path_ptr, path_lanes, horizon_minutes: int | None = None) -> np.ndarray:
    """Delivered minute of every parcel (-1 = not delivered within the horizon)."""
    return run_paths(network, parcel_id, created_minute, origin_pos, dest_pos, path_ptr,
                     path_lanes, horizon_minutes).delivered
