"""Compiled core of the capacity simulation (numba), minute by minute.

Parcels are indexed in ``parcel_id`` order, so "order of (x, parcel_id)" is
"order of (x, index)". Each parcel is in at most one linked list at a time
(``nxt``): an arrival bucket, a sorter queue or a lane queue.

Within one minute m, exactly as the semantics say:
1. arrivals: parcels created at m (at their origin) and lane arrivals at m
   join their facility's sorter queue in order of parcel_id;
2. sorting: each sorter handles up to ``sort_per_minute`` parcels from the
   head of its queue (all of them when 0); a handled parcel is ready at
   m + process_minutes and joins the queue of its next lane (parcels handled
   in the same minute join in parcel_id order, so lane queues are ordered by
   (ready, parcel_id)), or, at its destination, is delivered at the end of
   the first wave starting at or after its ready minute;
3. departures: every trip departing at m (by lane, in trip_id order) boards
   up to its capacity from the head of its lane's queue, parcels whose ready
   minute is <= m; they arrive at m + duration.
The run stops after minute ``t_end`` or when no parcel is left in the system.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from parcelnet.promise._kernels import wave_end

DAY = 1440


@njit(cache=True)
def run(created, by_created, origin, dest, path_id, path_ptr, path_lanes, sort_per_minute, process,
        lane_to, lane_duration, mod_ptr, mod_lane, mod_cap, mod_gap, wave_ptr, wave_start,
        wave_duration, t_end, delivered, sorted_at_dest, backlog_peak, left_behind):
    """Simulate parcels 0..n-1, indexed in parcel_id order; ``by_created``
    lists them by (created minute, index). Parcel p follows path ``path_id[p]``:
    lanes ``path_lanes[path_ptr[q]:path_ptr[q + 1]]`` with q = path_id[p].

    Outputs, filled in place: ``delivered`` (-1 = not delivered), the minute
    each parcel was sorted at its destination (-1 = never), per-facility peak
    sorter backlog (parcels waiting after the minute's sorting) and per lane
    the parcels left behind: parcels that boarded a later departure although
    they were ready for the lane's previous departure minute (``mod_gap[t]``
    minutes before trip t). Returns the last minute simulated.
    """
    n = created.shape[0]
    F = process.shape[0]
    L = lane_to.shape[0]
    ring = 1
    for l in range(L):
        if lane_duration[l] + 1 > ring:
            ring = lane_duration[l] + 1
    nxt = np.full(n, -1, np.int64)
    hop = np.zeros(n, np.int64)
    ready = np.zeros(n, np.int64)
    at = origin.copy()
    b_head = np.full(ring, -1, np.int64)
    s_head = np.full(F, -1, np.int64)
    s_tail = np.full(F, -1, np.int64)
    s_len = np.zeros(F, np.int64)
    q_head = np.full(L, -1, np.int64)
    q_tail = np.full(L, -1, np.int64)
    active = np.empty(F, np.int64)
    is_active = np.zeros(F, np.bool_)
    n_active = 0
    buf = np.empty(n, np.int64)
    keys = np.empty(n, np.int64)   # facility * n + index fits int64 for any real size
    handled = np.empty(n, np.int64)
    in_system = n
    cp = 0
    m = created[by_created[0]] if n else 0
    while m <= t_end and in_system > 0:
        # 1. arrivals, in (facility, parcel_id) order
        k = 0
        while cp < n and created[by_created[cp]] == m:
            buf[k] = by_created[cp]
            k += 1
            cp += 1
        r = m % ring
        p = b_head[r]
        b_head[r] = -1
        while p >= 0:
            buf[k] = p
            k += 1
            p = nxt[p]
        for j in range(k):
            keys[j] = at[buf[j]] * n + buf[j]
        if k > 1:
            keys[:k].sort()                      # in place: by facility, then parcel_id
        for j in range(k):
            f = keys[j] // n
            p = keys[j] - f * n
            nxt[p] = -1
            if s_tail[f] < 0:
                s_head[f] = p
            else:
                nxt[s_tail[f]] = p
            s_tail[f] = p
            s_len[f] += 1
            if not is_active[f]:
                is_active[f] = True
                active[n_active] = f
                n_active += 1
        # 2. sorting
        still = 0
        for a in range(n_active):
            f = active[a]
            c = sort_per_minute[f]
            h = 0
            while s_head[f] >= 0 and (c == 0 or h < c):
                p = s_head[f]
                s_head[f] = nxt[p]
                handled[h] = p
                h += 1
            if s_head[f] < 0:
                s_tail[f] = -1
            s_len[f] -= h
            if s_len[f] > backlog_peak[f]:
                backlog_peak[f] = s_len[f]
            if h > 1:
                handled[:h].sort()                   # same ready minute: parcel_id order
            rdy = m + process[f]
            for j in range(h):
                p = handled[j]
                ready[p] = rdy
                q = path_id[p]
                if hop[p] == path_ptr[q + 1] - path_ptr[q]:
                    sorted_at_dest[p] = m
                    delivered[p] = wave_end(rdy, dest[p], wave_ptr, wave_start, wave_duration)
                    in_system -= 1
                    continue
                lane = path_lanes[path_ptr[q] + hop[p]]
                nxt[p] = -1
                if q_tail[lane] < 0:
                    q_head[lane] = p
                else:
                    nxt[q_tail[lane]] = p
                q_tail[lane] = p
            if s_head[f] >= 0:
                active[still] = f
                still += 1
            else:
                is_active[f] = False
        n_active = still
        # 3. departures
        mod = m % DAY
        for t in range(mod_ptr[mod], mod_ptr[mod + 1]):
            lane = mod_lane[t]
            cap = mod_cap[t]
            b = 0
            arr = m + lane_duration[lane]
            r = arr % ring
            missed = m - mod_gap[t]
            while b < cap and q_head[lane] >= 0 and ready[q_head[lane]] <= m:
                p = q_head[lane]
                q_head[lane] = nxt[p]
                if ready[p] <= missed:
                    left_behind[lane] += 1
                hop[p] += 1
                at[p] = lane_to[lane]
                nxt[p] = b_head[r]
                b_head[r] = p
                b += 1
            if q_head[lane] < 0:
                q_tail[lane] = -1
        m += 1
    return m - 1
