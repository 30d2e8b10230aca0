"""Compiled cores of service design: earliest arrival over the backbone and the coverage it buys.

The backbone is a handful of gateways (hubs) joined by candidate trips, each with a minute of
day, a duration and an on/off flag. A search is Dijkstra on arrays (the gateway count is small,
so a linear scan for the next node beats a heap), with the promise engine's rules: a parcel
arriving at g at minute a is ready at a + process[g] and boards the first instance of a trip
leaving g at or after that.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from parcelnet.network.rules import lower_bound
from parcelnet.units import DAY

INF = np.iinfo(np.int64).max // 4


@njit(cache=True)
def backbone_search(src, arrival0, t_ptr, t_cand, t_to, t_dep, t_dur, process, active,
                    arr, pred):
    """Earliest arrival minute at every gateway (``arr``; INF = unreachable) for a parcel
    arriving at gateway ``src`` at ``arrival0``, over the active candidates; ``pred[g]`` the
    candidate that brings it to g (-1 for none)."""
    k = arr.shape[0]
    ready = np.full(k, INF, np.int64)
    done = np.zeros(k, np.bool_)
    for g in range(k):
        arr[g] = INF
        pred[g] = -1
    arr[src] = arrival0
    ready[src] = arrival0 + process[src]
    for _ in range(k):
        u = -1
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
              t_dep, t_dur, process, active, g_ptr, l_sorted, suffix, arr, pred):
    """Covered weight of the sources of search key q (one search, then per source hour)."""
    backbone_search(key_src[q], key_arrival[q], t_ptr, t_cand, t_to, t_dep, t_dur, process,
                    active, arr, pred)
    v = 0.0
    for i in range(key_s_ptr[q], key_s_ptr[q + 1]):
        v += s_weight[i] * covered_pop(arr, key_src[q], s_hour[i], g_ptr, l_sorted, suffix)
    return v


@njit(cache=True, parallel=True)
def key_values(keys, key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr, t_cand, t_to,
               t_dep, t_dur, process, active, g_ptr, l_sorted, suffix, arr_out, pred_out):
    """key_value for each key in ``keys`` (in parallel); the searches land in rows of
    ``arr_out`` / ``pred_out`` (one row per entry of ``keys``)."""
    out = np.empty(keys.shape[0])
    for i in prange(keys.shape[0]):
        out[i] = key_value(keys[i], key_src, key_arrival, key_s_ptr, s_hour, s_weight, t_ptr,
                           t_cand, t_to, t_dep, t_dur, process, active, g_ptr, l_sorted,
                           suffix, arr_out[i], pred_out[i])
    return out
