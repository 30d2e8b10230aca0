"""Compiled cores of the promise engine (numba).

Earliest-arrival search on the periodic timetable of PNF v1, exactly as the
promise semantics define it: a parcel ready at facility f at absolute minute
r may take any departure of a lane leaving f at m + 1440k >= r, arrives at
departure + duration and is ready at arrival + process(to). Waiting is free
and every lane is FIFO, so a label-setting (Dijkstra) search on ready minutes
is exact. All times are int64 absolute minutes; ``INF`` means unreachable. The rules
themselves live in :mod:`parcelnet.network.rules`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

# the timetable rules (next departure, delivery wave): one home, compiled, inlined here
from parcelnet.network.rules import INF, lower_bound, next_departure, wave_end  # noqa: E402,F401
from parcelnet.units import DAY  # noqa: E402,F401


@njit(cache=True)
def _push(hk, hv, size, key, val):
    i = size
    hk[i] = key
    hv[i] = val
    while i > 0:
        p = (i - 1) >> 1
        if hk[p] <= hk[i]:
            break
        hk[p], hk[i] = hk[i], hk[p]
        hv[p], hv[i] = hv[i], hv[p]
        i = p
    return size + 1


@njit(cache=True)
def _pop(hk, hv, size):
    key, val = hk[0], hv[0]
    size -= 1
    hk[0] = hk[size]
    hv[0] = hv[size]
    i = 0
    while True:
        l = 2 * i + 1
        if l >= size:
            break
        c = l
        if l + 1 < size and hk[l + 1] < hk[l]:
            c = l + 1
        if hk[i] <= hk[c]:
            break
        hk[c], hk[i] = hk[i], hk[c]
        hv[c], hv[i] = hv[i], hv[c]
        i = c
    return key, val, size


@njit(cache=True)
def search(src, ready0, need, out_ptr, out_lane, lane_to, lane_duration,
                 dep_ptr, dep_minute, process, ready, pred):
    """Earliest ready minute at every facility (``ready``) and the lane used to
    reach it (``pred``, -1 for none), filled in place; ``ready0`` is the ready
    minute at ``src``. Stops early once every facility in ``need`` is settled
    (an empty ``need`` searches everything)."""
    n = ready.shape[0]
    mark = np.zeros(n, np.bool_)
    left = 0
    for v in need:
        if not mark[v]:
            mark[v] = True
            left += 1
    for i in range(n):
        ready[i] = INF
        pred[i] = -1
    hk = np.empty(out_lane.shape[0] + 1, np.int64)
    hv = np.empty(out_lane.shape[0] + 1, np.int64)
    ready[src] = ready0
    size = _push(hk, hv, 0, ready0, src)
    while size > 0:
        key, u, size = _pop(hk, hv, size)
        if key > ready[u]:
            continue
        if mark[u]:
            mark[u] = False
            left -= 1
            if left == 0:
                break
        for e in range(out_ptr[u], out_ptr[u + 1]):
            lane = out_lane[e]
            v = lane_to[lane]
            rv = next_departure(key, lane, dep_ptr, dep_minute) + lane_duration[lane] + process[v]
            if rv < ready[v]:
                ready[v] = rv
                pred[v] = lane
                size = _push(hk, hv, size, rv, v)


@njit(cache=True, parallel=True)
def search_many(src, starts, out_ptr, out_lane, lane_to, lane_duration,
                dep_ptr, dep_minute, process, ready, pred):
    """One full search per start minute (rows of ``ready``/``pred``), in parallel."""
    none = np.empty(0, np.int64)
    for k in prange(starts.shape[0]):
        search(src, starts[k], none, out_ptr, out_lane, lane_to, lane_duration,
               dep_ptr, dep_minute, process, ready[k], pred[k])


@njit(cache=True)
def best_delivery(ready, src, d, in_ptr, in_lane, lane_from, lane_duration, dep_ptr,
                  dep_minute, process, wave_ptr, wave_start, wave_duration):
    """Earliest delivered minute at station ``d`` and the last lane achieving it.

    A parcel at d is delivered at the end of the first wave starting at or after
    its ready minute. Waves may overlap so that a later-starting wave ends
    earlier; then arriving later can deliver earlier. So, exactly: over every
    lane into d and every departure of it at or after the earliest ready minute
    at the lane's origin (waiting is free; one period suffices, later instances
    repeat 1440 later), take the earliest wave end. If ``d == src`` the parcel
    goes straight to the wave (last lane -1).
    """
    if d == src:
        return wave_end(ready[src], d, wave_ptr, wave_start, wave_duration), -1
    best = INF
    best_lane = -1
    for e in range(in_ptr[d], in_ptr[d + 1]):
        lane = in_lane[e]
        eu = ready[lane_from[lane]]
        if eu >= INF:
            continue
        day = eu // DAY
        r = eu - day * DAY
        for k in range(dep_ptr[lane], dep_ptr[lane + 1]):
            x = day * DAY + dep_minute[k]
            if dep_minute[k] < r:
                x += DAY
            w = wave_end(x + lane_duration[lane] + process[d], d, wave_ptr, wave_start, wave_duration)
            if w < best:
                best = w
                best_lane = lane
    return best, best_lane


@njit(cache=True, parallel=True)
def deliver(ready, src, stations, in_ptr, in_lane, lane_from, lane_duration, dep_ptr, dep_minute,
            process, wave_ptr, wave_start, wave_duration, out, last):
    """``out[k, j]`` = delivered minute at ``stations[j]`` given ready row ``k``;
    ``last[k, j]`` the final lane of a path achieving it (-1 = none)."""
    for k in prange(ready.shape[0]):
        for j in range(stations.shape[0]):
            out[k, j], last[k, j] = best_delivery(
                ready[k], src, stations[j], in_ptr, in_lane, lane_from, lane_duration, dep_ptr,
                dep_minute, process, wave_ptr, wave_start, wave_duration)


@njit(cache=True)
def deliver_queries(ready, src, rows, dests, shifts, in_ptr, in_lane, lane_from, lane_duration,
                    dep_ptr, dep_minute, process, wave_ptr, wave_start, wave_duration, out, last):
    """Query i: delivery at ``dests[i]`` from ready row ``rows[i]``, shifted by whole days.
    Serial: it is called once per origin with few queries, where threads cost more than they save."""
    for i in range(rows.shape[0]):
        d, lane = best_delivery(ready[rows[i]], src, dests[i], in_ptr, in_lane, lane_from,
                                lane_duration, dep_ptr, dep_minute, process, wave_ptr,
                                wave_start, wave_duration)
        out[i] = d + shifts[i] if d < INF else INF
        last[i] = lane


@njit(cache=True)
def trace_paths(pred, rows, lasts, lane_from):
    """Lanes of each query's path as CSR (ptr, lanes): the search tree's path to
    the origin of the last lane, then the last lane. ``lasts[i]`` = -1: empty."""
    m = rows.shape[0]
    ptr = np.zeros(m + 1, np.int64)
    for i in range(m):
        h = 0
        if lasts[i] >= 0:
            row = pred[rows[i]]
            v = lane_from[lasts[i]]
            h = 1
            while row[v] >= 0:
                v = lane_from[row[v]]
                h += 1
        ptr[i + 1] = ptr[i] + h
    lanes = np.empty(ptr[m], np.int64)
    for i in range(m):
        if lasts[i] < 0:
            continue
        row = pred[rows[i]]
        j = ptr[i + 1] - 1
        lanes[j] = lasts[i]
        v = lane_from[lasts[i]]
        while row[v] >= 0:
            j -= 1
            lanes[j] = row[v]
            v = lane_from[row[v]]
    return ptr, lanes


@njit(cache=True, parallel=True)
def gather_profiles(origins, cols, created, process, bp_ptr, bp, tab_ptr, table, n_cols, out):
    """Promises from precomputed profiles: find the origin's breakpoint at or after
    the ready minute (wrapping to the next day), read the delivered minute
    (-1 = unreachable) and shift it by whole days."""
    for i in prange(origins.shape[0]):
        o = origins[i]
        lo = bp_ptr[o]
        hi = bp_ptr[o + 1]
        if lo == hi:
            out[i] = INF
            continue
        ready = created[i] + process[o]
        day = ready // DAY
        a = lower_bound(bp, lo, hi, ready - day * DAY)
        if a == hi:
            a = lo
            day += 1
        v = table[tab_ptr[o] + (a - lo) * n_cols + cols[i]]
        out[i] = INF if v < 0 else v + day * DAY
