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


class _StateDoc:
    """State arrays (see :func:`new_state`), all int64 unless noted:
    per parcel ``nxt`` (linked list), ``hop`` (lanes taken), ``ready``, ``at``
    (current facility); ``b_head`` ring of arrival buckets; per facility sorter
    queue ``s_head``, ``s_tail``, ``s_len`` and the active list; per lane queue
    ``q_head``, ``q_tail``; scratch ``buf``, ``keys``, ``handled``; ``scal`` =
    [next minute, parcels in system, next creation, active sorters]."""


def new_state(n, n_fac, n_lane, ring, first_minute):
    """Fresh state for n parcels at their origins, before ``first_minute``."""
    return dict(
        nxt=np.full(n, -1, np.int64), hop=np.zeros(n, np.int64), ready=np.zeros(n, np.int64),
        b_head=np.full(ring, -1, np.int64),
        s_head=np.full(n_fac, -1, np.int64), s_tail=np.full(n_fac, -1, np.int64),
        s_len=np.zeros(n_fac, np.int64), active=np.empty(n_fac, np.int64),
        is_active=np.zeros(n_fac, np.bool_),
        q_head=np.full(n_lane, -1, np.int64), q_tail=np.full(n_lane, -1, np.int64),
        buf=np.empty(n, np.int64), keys=np.empty(n, np.int64), handled=np.empty(n, np.int64),
        scal=np.array([first_minute, n, 0, 0], np.int64),
    )


@njit(cache=True, inline="always")
def _append(head, tail, nxt, key, p):
    """Append parcel p to the FIFO linked list ``key`` (queues by head/tail arrays)."""
    nxt[p] = -1
    if tail[key] < 0:
        head[key] = p
    else:
        nxt[tail[key]] = p
    tail[key] = p


@njit(cache=True)
def run(created, by_created, at, dest, path_id, path_ptr, path_lanes, sort_per_minute, process,
        lane_to, lane_duration, mod_ptr, mod_lane, mod_cap, mod_gap, wave_ptr, wave_start,
        wave_duration, t_end, m_stop, nxt, hop, ready, b_head, s_head, s_tail, s_len, active, is_active,
        q_head, q_tail, buf, keys, handled, scal, delivered, sorted_at_dest, backlog_peak,
        left_behind, hourly, hour0, boarded):
    """Advance the simulation from minute ``scal[0]`` through ``m_stop`` (or until
    no parcel is left). Parcels 0..n-1 are indexed in parcel_id order and
    ``by_created`` lists them by (created minute, index); parcel p starts at
    facility ``at[p]`` (its origin) and follows path ``path_id[p]``: lanes
    ``path_lanes[path_ptr[q]:path_ptr[q + 1]]``, q = path_id[p].

    Outputs, accumulated in place: ``delivered`` (-1 = not delivered by
    ``t_end``, the end of the horizon), the
    minute each parcel was sorted at its destination, per facility the peak
    sorter backlog (parcels still waiting after a minute's sorting) and the
    parcels sorted per hour (``hourly[f, hour - hour0]`` when in range), per
    lane the parcels left behind: parcels that boarded a later departure
    although they were ready for the lane's previous departure minute
    (``mod_gap[t]`` minutes before trip t), and per scheduled trip t (CSR
    order of ``mod_ptr``) the parcels it boarded over all days (``boarded``).
    """
    n = created.shape[0]
    ring = b_head.shape[0]
    n_hours = hourly.shape[1]
    m, in_system, cp, n_active = scal[0], scal[1], scal[2], scal[3]
    while m <= m_stop and in_system > 0:
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
            _append(s_head, s_tail, nxt, f, p)
            s_len[f] += 1
            if not is_active[f]:
                is_active[f] = True
                active[n_active] = f
                n_active += 1
        # 2. sorting
        hr = m // 60 - hour0
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
            if 0 <= hr < n_hours:
                hourly[f, hr] += h
            if h > 16:
                handled[:h].sort()                   # same ready minute: parcel_id order
            else:
                for x in range(1, h):                # small batches: insertion sort, no call
                    v = handled[x]
                    y = x - 1
                    while y >= 0 and handled[y] > v:
                        handled[y + 1] = handled[y]
                        y -= 1
                    handled[y + 1] = v
            rdy = m + process[f]
            for j in range(h):
                p = handled[j]
                ready[p] = rdy
                q = path_id[p]
                if hop[p] == path_ptr[q + 1] - path_ptr[q]:
                    sorted_at_dest[p] = m
                    end = wave_end(rdy, dest[p], wave_ptr, wave_start, wave_duration)
                    if end <= t_end:                  # delivered by the end of the horizon
                        delivered[p] = end
                    in_system -= 1
                    continue
                _append(q_head, q_tail, nxt, path_lanes[path_ptr[q] + hop[p]], p)
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
            r = (m + lane_duration[lane]) % ring
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
            boarded[t] += b
            if q_head[lane] < 0:
                q_tail[lane] = -1
        m += 1
    scal[0], scal[1], scal[2], scal[3] = m, in_system, cp, n_active
