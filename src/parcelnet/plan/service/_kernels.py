"""Compiled cores of service design: earliest arrival over the backbone and the coverage it buys.

The backbone is a few dozen gateways (hubs; several hundred when city centres join it)
linked by candidate trips, each with a minute of day, a duration and an on/off flag. A search
is Dijkstra on arrays (a linear scan for the next gateway when they are few, a heap beyond
HEAP_ABOVE), with the promise engine's rules: a parcel arriving at g at minute a is ready at
a + process[g] and boards the first instance of a trip leaving g at or after that. Also here:
the floor's count per province, the histogram of promises and the skeleton's reverse delete.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from parcelnet.network.rules import lower_bound
from parcelnet.promise._kernels import _pop, _push   # the promise engine's binary heap
from parcelnet.units import DAY

INF = np.iinfo(np.int64).max // 4
#: above this many gateways a search takes the next gateway from a binary heap, not a scan
HEAP_ABOVE = 96


@njit(cache=True)
def backbone_search(src, arrival0, t_ptr, t_cand, t_to, t_dep, t_dur, process, active,
                    arr, pred):
    """Earliest arrival minute at every gateway (``arr``; INF = unreachable) for a parcel
    arriving at gateway ``src`` at ``arrival0``, over the active candidates; ``pred[g]`` the
    candidate that brings it to g (-1 for none). Gateways are settled in order of (ready
    minute, index): by a scan for a few dozen, from a heap of (ready x k + index) beyond
    HEAP_ABOVE; both settle in the same order, so they give the same ``pred``."""
    k = arr.shape[0]
    ready = np.full(k, INF, np.int64)
    done = np.zeros(k, np.bool_)
    for g in range(k):
        arr[g] = INF
        pred[g] = -1
    arr[src] = arrival0
    ready[src] = arrival0 + process[src]
    use_heap = k > HEAP_ABOVE
    hk = np.empty(t_ptr[k] + 1 if use_heap else 0, np.int64)
    hv = np.empty_like(hk)
    n = _push(hk, hv, 0, ready[src] * k + src, src) if use_heap else 0
    for _ in range(k):
        u = -1
        if use_heap:
            while n > 0:
                key, g, n = _pop(hk, hv, n)
                if not done[g] and key // k == ready[g]:
                    u = g
                    break
        else:
            best = INF
            for g in range(k):
                if not done[g] and ready[g] < best:
                    best = ready[g]
                    u = g
        if u < 0:
            break
        done[u] = True
        r = ready[u]
        for e in range(t_ptr[u], t_ptr[u + 1]):
            c = t_cand[e]
            if not active[c]:
                continue
            v = t_to[e]
            if done[v]:
                continue
            a = r + (t_dep[e] - r) % DAY + t_dur[e]
            if a < arr[v]:
                arr[v] = a
                pred[v] = c
                ready[v] = a + process[v]
                if use_heap:
                    n = _push(hk, hv, n, ready[v] * k + v, v)


@njit(cache=True)
def covered_pop(arr, g_src, h, g_ptr, l_sorted, suffix):
    """Population of the stations outside ``g_src``'s area reached by their deadline: station
    s behind gateway g is reached when arr[g] <= L[h, s] (the latest arrival at g that still
    delivers s by the deadline of order hour h)."""
    total = 0.0
    for g in range(arr.shape[0]):
        if g == g_src or arr[g] >= INF:
            continue
        lo, hi = g_ptr[g], g_ptr[g + 1]
        if lo == hi:
            continue
        a = lower_bound(l_sorted[h], lo, hi, arr[g])   # first station with L >= arrival
        total += suffix[h, a] - suffix[h, hi]
    return total


@njit(cache=True)
def key_value(q, key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr, t_cand, t_to,
              t_dep, t_dur, process, active, g_ptr, l_sorted, suffix, arr, pred, src_out):
    """Covered weight of the sources of search key q (one search, then per source hour);
    each source's covered population share (unweighted) lands in ``src_out``."""
    backbone_search(key_src[q], key_arrival[q], t_ptr, t_cand, t_to, t_dep, t_dur, process,
                    active, arr, pred)
    v = 0.0
    for i in range(key_s_ptr[q], key_s_ptr[q + 1]):
        c = covered_pop(arr, key_src[q], s_hour[i], g_ptr, l_sorted, suffix)
        src_out[i] = c
        v += s_weight[i] * c
    return v


@njit(cache=True, parallel=True)
def key_values(keys, key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr, t_cand, t_to,
               t_dep, t_dur, process, active, g_ptr, l_sorted, suffix, arr_out, pred_out,
               src_out):
    """key_value for each key in ``keys`` (in parallel); the searches land in rows of
    ``arr_out`` / ``pred_out`` (one row per entry of ``keys``), the sources' covered shares
    in ``src_out`` (indexed like the sources)."""
    out = np.empty(keys.shape[0])
    for i in prange(keys.shape[0]):
        out[i] = key_value(keys[i], key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr,
                           t_cand, t_to, t_dep, t_dur, process, active, g_ptr, l_sorted,
                           suffix, arr_out[i], pred_out[i], src_out)
    return out


@njit(cache=True, parallel=True)
def within_by_group(keys, key_src, key_s_ptr, s_hour, s_units, arr, p_ptr, p_group, p_units,
                    p_latest, out):
    """For the floor: per key (rows of ``arr``, one per entry of ``keys``) the weight of the
    places outside the source's area reached in time, by group (province). Place x behind
    gateway g (positions p_ptr[g]..p_ptr[g+1]) counts s_units x p_units[x] for a source of
    hour h when arr[g] <= p_latest[h, x]."""
    for i in prange(keys.shape[0]):
        q = keys[i]
        src = key_src[q]
        for r in range(out.shape[1]):
            out[i, r] = 0.0
        for s in range(key_s_ptr[q], key_s_ptr[q + 1]):
            h = s_hour[s]
            u = s_units[s]
            for g in range(arr.shape[1]):
                a = arr[i, g]
                if g == src or a >= INF:
                    continue
                for x in range(p_ptr[g], p_ptr[g + 1]):
                    if a <= p_latest[h, x]:
                        out[i, p_group[x]] += u * p_units[x]


@njit(cache=True)
def add_histogram(hist, group, minutes, weight, horizon):
    """hist[group, min(minutes, horizon)] += weight (minutes < 0 or >= horizon: the last bin)."""
    for i in range(group.shape[0]):
        m = minutes[i]
        b = m if 0 <= m < horizon else horizon
        hist[group[i], b] += weight[i]


@njit(cache=True)
def reverse_delete(order, lane_from, lane_to, k):
    """Lanes (gateway pairs) kept when each is deleted in ``order`` unless its head can no
    longer reach its tail over the lanes kept: what every gateway reaches stays reached (a
    path over a deleted lane can take the way round it instead)."""
    n = lane_from.shape[0]
    keep = np.ones(n, np.bool_)
    ptr = np.zeros(k + 1, np.int64)
    for i in range(n):
        ptr[lane_from[i] + 1] += 1
    for g in range(k):
        ptr[g + 1] += ptr[g]
    out = np.empty(n, np.int64)
    fill = ptr[:-1].copy()
    for i in range(n):
        out[fill[lane_from[i]]] = i
        fill[lane_from[i]] += 1
    seen = np.zeros(k, np.int64)          # BFS stamp
    stack = np.empty(k, np.int64)
    for stamp in range(1, order.shape[0] + 1):
        i = order[stamp - 1]
        keep[i] = False
        src, dst = lane_from[i], lane_to[i]
        seen[src] = stamp
        stack[0] = src
        top = 1
        found = False
        while top > 0 and not found:
            top -= 1
            u = stack[top]
            for e in range(ptr[u], ptr[u + 1]):
                lane = out[e]
                v = lane_to[lane]
                if not keep[lane] or seen[v] == stamp:
                    continue
                if v == dst:
                    found = True
                    break
                seen[v] = stamp
                stack[top] = v
                top += 1
        if not found:
            keep[i] = True
    return keep


@njit(cache=True)
def key_values_serial(keys, key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr, t_cand,
                      t_to, t_dep, t_dur, process, active, g_ptr, l_sorted, suffix, arr_out,
                      pred_out, src_out):
    """key_values in one thread: for a few keys, waking threads costs more than it saves."""
    out = np.empty(keys.shape[0])
    for i in range(keys.shape[0]):
        out[i] = key_value(keys[i], key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr,
                           t_cand, t_to, t_dep, t_dur, process, active, g_ptr, l_sorted,
                           suffix, arr_out[i], pred_out[i], src_out)
    return out
