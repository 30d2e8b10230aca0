"""Compiled core of the capacity simulation (numba), minute by minute.

Parcels are indexed in ``parcel_id`` order (index ``i``), so "order of (x,
parcel_id)" is "order of (x, i)". A parcel in flight is one 64-bit entry
``i << 32 | pos``: ``pos`` points into ``route`` (every path's lanes followed
by -1) at the next lane to take, so entries sort by parcel_id and carry their
path with them; no per-parcel state is read while a parcel moves.

Queues are FIFOs of entries in blocks of a shared pool (sequential memory, no
per-parcel links). Sorter queues keep *runs* of the same arrival minute and
lane queues runs of the same ready minute; a run is a set, kept unsorted until
a full sorter or trip has to split it, and is then sorted once by parcel_id.
That is all the ordering the semantics need: order only decides *who* goes
first when capacity binds.

Within one minute m, exactly as the semantics say:
1. arrivals: parcels created at m (at their origin) and lane arrivals at m
   join their facility's sorter queue as the run of minute m;
2. sorting: each sorter handles up to ``sort_per_minute`` parcels from the
   head of its queue (all of them when 0): whole runs, then the lowest
   parcel_ids of the next run; a handled parcel is ready at m + process and
   joins its next lane's run of that ready minute, or, at its destination,
   is delivered at the end of the first wave starting at or after it;
3. departures: every trip departing at m (by lane, in trip_id order) boards
   up to its capacity from the head of its lane's queue (runs with ready
   minute <= m, a split run by parcel_id); its load arrives at m + duration.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from parcelnet.network.rules import wave_end
from parcelnet.units import DAY

B = 64                 # entries per pool block
HB = 16                # run headers per header-pool block
LOW = (1 << 32) - 1    # pos bits of an entry
CHUNK = 1024           # entries handled per batch (scratch ``buf``, ``lbuf``)
_MIN_SHIFT = 40        # run header: minute << 40 | sorted << 39 | count
_SORTED = 1 << 39
_COUNT = _SORTED - 1


# -- pooled FIFOs ---------------------------------------------------------------------------
# A queue q is qs[q] = (head block, head offset, tail block, tail offset); head block -1 = empty.
# free = [first free block, free blocks, fewest free blocks ever (the pool's high-water mark),
# blocks ever taken]; blocks are chained by ``nxt``. Freed blocks go to the head of the free
# list and never-used ones follow in index order, so the blocks ever taken are always the
# first ``free[3]``: the only ones a pool's memory holds (a page is mapped when first written)
# and the only ones :func:`grow_pool` copies.

def new_pool(blocks, size, queues):
    nxt = np.empty(blocks, np.int64)
    nxt[:-1] = np.arange(1, blocks)
    nxt[-1] = -1
    return dict(data=np.empty(blocks * size, np.int64), nxt=nxt,
                free=np.array([0, blocks, blocks, 0], np.int64), qs=np.full((queues, 4), -1, np.int64))


def grow_pool(pool, blocks, size):
    """Pool with ``blocks`` blocks in all (more than now), queues kept as they are."""
    old = len(pool["nxt"])
    if blocks <= old:
        return pool
    f = pool["free"]
    taken = int(f[3])
    data = np.empty(blocks * size, np.int64)
    data[:taken * size] = pool["data"][:taken * size]    # the rest was never written
    nxt = np.empty(blocks, np.int64)
    nxt[:old] = pool["nxt"]
    nxt[old:-1] = np.arange(old + 1, blocks)
    nxt[-1] = -1
    head = f[0]              # the new blocks go at the end of the free list
    if taken < old:          # ... which ends with the never-used blocks, the last old - 1
        nxt[old - 1] = old
    elif head >= 0:          # ... of freed blocks only
        nxt[_list_end(nxt, head)] = old
    else:                    # empty
        head = old
    free = np.array([head, f[1] + blocks - old, f[2] + blocks - old, taken], np.int64)
    return dict(data=data, nxt=nxt, free=free, qs=pool["qs"])


@njit(cache=True)
def _list_end(nxt, b):
    """The last block of the chain from block b."""
    while nxt[b] >= 0:
        b = nxt[b]
    return b


@njit(cache=True)
def _sort_entries(a):
    """Sort entries by parcel index (their high 32 bits; indices are unique): insertion sort
    for short runs, else an LSD radix sort on 11-bit digits over the bits in use."""
    k = a.shape[0]
    if k <= 48:
        for x in range(1, k):
            v = a[x]
            y = x - 1
            while y >= 0 and a[y] > v:
                a[y + 1] = a[y]
                y -= 1
            a[y + 1] = v
        return
    lo = a[0] >> 32
    hi = lo
    for j in range(k):
        v = a[j] >> 32
        lo = min(lo, v)
        hi = max(hi, v)
    span = hi - lo
    tmp = np.empty(k, np.int64)
    count = np.empty(2049, np.int64)
    src, dst = a, tmp
    shift = 0
    while shift == 0 or (span >> shift) > 0:
        count[:] = 0
        for j in range(k):
            count[(((src[j] >> 32) - lo) >> shift & 2047) + 1] += 1
        for d in range(2048):
            count[d + 1] += count[d]
        for j in range(k):
            d = ((src[j] >> 32) - lo) >> shift & 2047
            dst[count[d]] = src[j]
            count[d] += 1
        src, dst = dst, src
        shift += 11
    if src is not a:
        a[:] = src


@njit(cache=True)
def _sort_head(data, nxt, qs, q, k, size):
    """Sort the first k entries of queue q in place (by parcel_id)."""
    tmp = np.empty(k, np.int64)
    b, o = qs[q, 0], qs[q, 1]
    for j in range(k):
        if o == size:
            b, o = nxt[b], 0
        tmp[j] = data[b * size + o]
        o += 1
    _sort_entries(tmp)
    b, o = qs[q, 0], qs[q, 1]
    for j in range(k):
        if o == size:
            b, o = nxt[b], 0
        data[b * size + o] = tmp[j]
        o += 1


@njit(cache=True)
def run(c_entry, c_fac, c_min, route, sort_per_minute, process, lane_to, lane_duration,
        mod_ptr, mod_lane, mod_cap, mod_gap, wave_ptr, wave_start, wave_duration, n_fac, ring,
        t_end, m_stop, data, nxt, free, qs, hd, hn, hf, hq, cnt, touched, buf, lbuf, s_len, active,
        is_active, scal, delivered, sorted_at_dest, backlog_peak, left_behind, hourly, hour0,
        boarded, trip_peak, sort_peak, hop_base, hop_off, hop_sorted, hop_boarded, lane_cut, dlog):
    """Advance the simulation from minute ``scal[0]`` through ``m_stop``, or until no parcel
    is in the system and none is left to create.

    Creations: entries ``c_entry`` at facilities ``c_fac`` in minutes ``c_min``, sorted by
    (minute, parcel_id), consumed from ``scal[2]``. Queues of the entry pool (``data``, ``nxt``,
    ``free``, ``qs``): sorters 0..n_fac-1, lanes n_fac.., then ``ring`` arrival slots (minute
    mod ring; a load is a header ``-1 - facility`` followed by its entries). The header pool
    (``hd``, ``hn``, ``hf``, ``hq``) holds the runs of sorter and lane queues.

    Outputs, accumulated in place: ``delivered[i]`` (left as is when not delivered by ``t_end``),
    ``sorted_at_dest[i]`` when that array is not empty, per facility the peak sorter backlog
    (parcels still waiting after a minute's sorting) and parcels sorted per hour
    (``hourly[f, hour - hour0]`` when in range), per lane the parcels left behind (boarded a
    later departure although ready for the lane's previous departure minute, ``mod_gap[t]``
    minutes before trip t), per scheduled trip the parcels boarded over all days and the most
    in one departure (``trip_peak``), per facility the most parcels sorted in one minute
    (``sort_peak``). When ``hop_off`` is not empty, each parcel's journey: parcel i's k-th
    facility (k = 0 its origin) sorted it in minute ``hop_sorted[hop_off[i] + k]``, and its
    k-th lane's trip took it in minute ``hop_boarded[hop_off[i] + k]`` (``hop_base[i]``: the
    route position of its first lane). Recording reads entries; it changes no order.

    A partition of the network (:mod:`parcelnet.sim.partition`) runs this loop over its own
    facilities. When ``lane_cut`` is not empty, a trip on a lane with ``lane_cut[lane]`` set
    puts its load in the outbox (queue ``n_fac + n_lane + ring``) as a header
    ``-1 - (count << 32 | lane)``, its arrival minute, then its entries, instead of in the
    arrival ring; :func:`drain` takes them out. When ``dlog`` is not empty, a parcel sorted
    at its destination is logged in its column ``scal[4]`` (then incremented) instead of
    written to ``delivered``: row 0 ``i << 32 | (delivered minute + 1)`` (0: not delivered by
    ``t_end``), row 1, where there is one, the minute it was sorted.
    ``scal`` = [next minute, parcels in system, next creation, active sorters, log rows].
    """
    n_c = c_entry.shape[0]
    n_lane = lane_to.shape[0]
    n_hours = hourly.shape[1]
    keep_dest = sorted_at_dest.shape[0] > 0
    keep_hops = hop_off.shape[0] > 0
    has_cut = lane_cut.shape[0] > 0
    keep_log = dlog.shape[1] > 0
    log_sorted = dlog.shape[0] > 1
    outbox = n_fac + n_lane + ring
    nd = scal[4]

    # FIFO operations as closures over the pools: numba inlines them without the reference
    # counting that passing arrays to a helper costs on every call (docs/design.md)
    def tail_room(q):
        """Free slots in queue q's tail block, adding a block when it is full; returns the
        write position."""
        tb = qs[q, 2]
        o = qs[q, 3]
        if tb < 0 or o == B:
            nb = free[0]
            if nb >= free[3]:
                free[3] = nb + 1
            free[0] = nxt[nb]
            free[1] -= 1
            if free[1] < free[2]:
                free[2] = free[1]
            nxt[nb] = -1
            if tb < 0:
                qs[q, 0] = nb
                qs[q, 1] = 0
            else:
                nxt[tb] = nb
            qs[q, 2] = nb
            qs[q, 3] = 0
            return nb * B
        return tb * B + o

    def head_take(q, k):
        """Consume k entries (all in the head block) of queue q."""
        hb = qs[q, 0]
        o = qs[q, 1] + k
        if hb == qs[q, 2] and o == qs[q, 3]:
            nxt[hb] = free[0]
            free[0] = hb
            free[1] += 1
            qs[q, 0] = -1
            qs[q, 2] = -1
            qs[q, 3] = -1
        elif o == B:
            nb = nxt[hb]
            nxt[hb] = free[0]
            free[0] = hb
            free[1] += 1
            qs[q, 0] = nb
            qs[q, 1] = 0
        else:
            qs[q, 1] = o

    def push(q, v):
        w = tail_room(q)
        data[w] = v
        qs[q, 3] = w - qs[q, 2] * B + 1

    def pop(q):
        v = data[qs[q, 0] * B + qs[q, 1]]
        head_take(q, 1)
        return v

    def move(src, dst, k):
        """Move the first k entries of queue src to the end of queue dst, block span by span."""
        while k > 0:
            w = tail_room(dst)
            hb = qs[src, 0]
            ho = qs[src, 1]
            avail = (qs[src, 3] if hb == qs[src, 2] else B) - ho
            g = min(k, avail, B - (w - qs[dst, 2] * B))
            r = hb * B + ho
            data[w:w + g] = data[r:r + g]
            qs[dst, 3] = w - qs[dst, 2] * B + g
            head_take(src, g)
            k -= g

    def pop_into(q, out, k):
        """Pop the first k entries of queue q into out[:k]."""
        j = 0
        while j < k:
            hb = qs[q, 0]
            ho = qs[q, 1]
            avail = (qs[q, 3] if hb == qs[q, 2] else B) - ho
            g = min(k - j, avail)
            r = hb * B + ho
            out[j:j + g] = data[r:r + g]
            head_take(q, g)
            j += g

    def load_size(q, cap, m):
        """Parcels the next departure of lane queue q at minute m boards (capacity cap)."""
        b = 0
        hb = hq[q, 0]
        ho = hq[q, 1]
        while b < cap and hb >= 0:
            hv = hd[hb * HB + ho]
            if hv >> _MIN_SHIFT > m:
                break
            b += min(hv & _COUNT, cap - b)
            ho += 1
            if hb == hq[q, 2] and ho == hq[q, 3]:
                break
            if ho == HB:
                hb = hn[hb]
                ho = 0
        return b

    def open_run(q, minute, count):
        """Append the run header (minute, count) to queue q."""
        tb = hq[q, 2]
        o = hq[q, 3]
        if tb < 0 or o == HB:
            nb = hf[0]
            if nb >= hf[3]:
                hf[3] = nb + 1
            hf[0] = hn[nb]
            hf[1] -= 1
            if hf[1] < hf[2]:
                hf[2] = hf[1]
            hn[nb] = -1
            if tb < 0:
                hq[q, 0] = nb
                hq[q, 1] = 0
            else:
                hn[tb] = nb
            hq[q, 2] = nb
            tb = nb
            o = 0
        hd[tb * HB + o] = (minute << _MIN_SHIFT) | count
        hq[q, 3] = o + 1

    def drop_run(q):
        """Remove the head run header of queue q."""
        hb = hq[q, 0]
        o = hq[q, 1] + 1
        if hb == hq[q, 2] and o == hq[q, 3]:
            hn[hb] = hf[0]
            hf[0] = hb
            hf[1] += 1
            hq[q, 0] = -1
            hq[q, 2] = -1
            hq[q, 3] = -1
        elif o == HB:
            nb = hn[hb]
            hn[hb] = hf[0]
            hf[0] = hb
            hf[1] += 1
            hq[q, 0] = nb
            hq[q, 1] = 0
        else:
            hq[q, 1] = o

    m, in_system, cp, n_active = scal[0], scal[1], scal[2], scal[3]
    while m <= m_stop and (in_system > 0 or cp < n_c):
        # 1. arrivals: the run of minute m at each facility
        nt = 0
        while cp < n_c and c_min[cp] == m:
            f = c_fac[cp]
            push(f, c_entry[cp])
            if cnt[f] == 0:
                touched[nt] = f
                nt += 1
            cnt[f] += 1
            in_system += 1
            cp += 1
        slot = n_fac + n_lane + m % ring
        while qs[slot, 0] >= 0:                      # loads: header -1 - (count << 32 | f)
            e = -1 - pop(slot)
            f = e & LOW
            k = e >> 32
            if cnt[f] == 0:
                touched[nt] = f
                nt += 1
            cnt[f] += k
            move(slot, f, k)
        for j in range(nt):
            f = touched[j]
            open_run(f, m, cnt[f])
            s_len[f] += cnt[f]
            cnt[f] = 0
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
            take = s_len[f] if c == 0 or c > s_len[f] else c
            rdy = m + process[f]
            end = -2                                 # wave end at f for rdy, computed once
            nt = 0
            h = 0
            while h < take:
                hv = hd[hq[f, 0] * HB + hq[f, 1]]
                k = hv & _COUNT
                if k > take - h:                     # split this run: lowest parcel_ids first
                    if hv & _SORTED == 0:
                        _sort_head(data, nxt, qs, f, k, B)
                        hd[hq[f, 0] * HB + hq[f, 1]] |= _SORTED
                    hd[hq[f, 0] * HB + hq[f, 1]] -= take - h
                    k = take - h
                else:
                    drop_run(f)
                h += k
                while k > 0:                         # in chunks: all path look-ups first
                    g = min(k, CHUNK)
                    pop_into(f, buf, g)
                    for j in range(g):
                        lbuf[j] = route[buf[j] & LOW]
                    if keep_hops:
                        for j in range(g):
                            i = buf[j] >> 32
                            hop_sorted[hop_off[i] + (buf[j] & LOW) - hop_base[i]] = m
                    for j in range(g):
                        lane = lbuf[j]
                        e = buf[j]
                        if lane < 0:                 # at its destination
                            i = e >> 32
                            if keep_dest:
                                sorted_at_dest[i] = m
                            if end == -2:
                                end = wave_end(rdy, f, wave_ptr, wave_start, wave_duration)
                            if keep_log:
                                dlog[0, nd] = (i << 32) | ((end if end <= t_end else -1) + 1)
                                if log_sorted:
                                    dlog[1, nd] = m
                                nd += 1
                            elif end <= t_end:
                                delivered[i] = end
                            in_system -= 1
                        else:
                            q = n_fac + lane
                            push(q, e + 1)
                            if cnt[q] == 0:
                                touched[nt] = q
                                nt += 1
                            cnt[q] += 1
                    k -= g
            for j in range(nt):                      # the run of ready minute rdy per lane
                q = touched[j]
                open_run(q, rdy, cnt[q])
                cnt[q] = 0
            s_len[f] -= take
            if s_len[f] > backlog_peak[f]:
                backlog_peak[f] = s_len[f]
            if 0 <= hr < n_hours:
                hourly[f, hr] += take
            if take > sort_peak[f]:
                sort_peak[f] = take
            if s_len[f] > 0:
                active[still] = f
                still += 1
            else:
                is_active[f] = False
        n_active = still
        # 3. departures
        mod = m % DAY
        for t in range(mod_ptr[mod], mod_ptr[mod + 1]):
            lane = mod_lane[t]
            q = n_fac + lane
            if hq[q, 0] < 0:
                continue
            cap = mod_cap[t]
            missed = m - mod_gap[t]
            b = load_size(q, cap, m)                 # the load: header, then its entries
            if b == 0:
                continue
            if has_cut and lane_cut[lane]:           # to another partition: via the outbox
                slot = outbox
                push(slot, -1 - ((b << 32) | lane))
                push(slot, m + lane_duration[lane])
            else:
                slot = n_fac + n_lane + (m + lane_duration[lane]) % ring
                push(slot, -1 - ((b << 32) | lane_to[lane]))
            left = b
            while left > 0:
                hv = hd[hq[q, 0] * HB + hq[q, 1]]
                k = hv & _COUNT
                if k > left:                         # split: lowest parcel_ids board
                    if hv & _SORTED == 0:
                        _sort_head(data, nxt, qs, q, k, B)
                        hd[hq[q, 0] * HB + hq[q, 1]] |= _SORTED
                    hd[hq[q, 0] * HB + hq[q, 1]] -= left
                    k = left
                else:
                    drop_run(q)
                if keep_hops:                        # the k boarding: lane entries point past it
                    wb = qs[q, 0]
                    wo = qs[q, 1]
                    for _ in range(k):
                        e = data[wb * B + wo]
                        i = e >> 32
                        hop_boarded[hop_off[i] + (e & LOW) - 1 - hop_base[i]] = m
                        wo += 1
                        if wo == B:
                            wb = nxt[wb]
                            wo = 0
                move(q, slot, k)
                if hv >> _MIN_SHIFT <= missed:
                    left_behind[lane] += k
                left -= k
            boarded[t] += b
            if b > trip_peak[t]:
                trip_peak[t] = b
        m += 1
    scal[0], scal[1], scal[2], scal[3], scal[4] = m, in_system, cp, n_active, nd


# -- the exchange between partitions (parcelnet.sim.partition) -------------------------------
# A load crossing between partitions travels as [-1 - (count << 32 | facility), arrival
# minute, its count entries]; many loads are one flat int64 array of these.

@njit(cache=True)
def _push(data, nxt, free, qs, q, v):
    tb = qs[q, 2]
    o = qs[q, 3]
    if tb < 0 or o == B:
        nb = free[0]
        if nb >= free[3]:
            free[3] = nb + 1
        free[0] = nxt[nb]
        free[1] -= 1
        if free[1] < free[2]:
            free[2] = free[1]
        nxt[nb] = -1
        if tb < 0:
            qs[q, 0] = nb
            qs[q, 1] = 0
        else:
            nxt[tb] = nb
        qs[q, 2] = nb
        tb = nb
        o = 0
    data[tb * B + o] = v
    qs[q, 3] = o + 1


@njit(cache=True)
def drain(data, nxt, free, qs, outbox, lane_to, part_of, k):
    """Empty the outbox queue: its loads as flat arrays by the partition (``part_of`` the
    facility) they go to, concatenated in partition order (``ptr``, k + 1 offsets), with the
    facility in each header; and the parcels going to each partition."""
    size = 0
    if qs[outbox, 0] >= 0:
        b = qs[outbox, 0]
        size = -qs[outbox, 1]
        while b != qs[outbox, 2]:
            size += B
            b = nxt[b]
        size += qs[outbox, 3]
    tmp = np.empty(size, np.int64)
    j = 0
    while j < size:                                  # pop everything, block by block
        hb = qs[outbox, 0]
        ho = qs[outbox, 1]
        avail = (qs[outbox, 3] if hb == qs[outbox, 2] else B) - ho
        tmp[j:j + avail] = data[hb * B + ho:hb * B + ho + avail]
        j += avail
        if hb == qs[outbox, 2]:
            qs[outbox, 0] = -1
            qs[outbox, 2] = -1
            qs[outbox, 3] = -1
        else:
            qs[outbox, 0] = nxt[hb]
            qs[outbox, 1] = 0
        nxt[hb] = free[0]
        free[0] = hb
        free[1] += 1
    ptr = np.zeros(k + 1, np.int64)
    parcels = np.zeros(k, np.int64)
    j = 0
    while j < size:                                  # sizes by destination partition
        e = -1 - tmp[j]
        c = e >> 32
        p = part_of[lane_to[e & LOW]]
        ptr[p + 1] += c + 2
        parcels[p] += c
        j += c + 2
    for p in range(k):
        ptr[p + 1] += ptr[p]
    out = np.empty(size, np.int64)
    at = ptr[:-1].copy()
    j = 0
    while j < size:
        e = -1 - tmp[j]
        c = e >> 32
        f = lane_to[e & LOW]
        p = part_of[f]
        w = at[p]
        out[w] = -1 - ((c << 32) | f)
        out[w + 1:w + 2 + c] = tmp[j + 1:j + 2 + c]
        at[p] = w + 2 + c
        j += c + 2
    return ptr, out, parcels


@njit(cache=True)
def inject(data, nxt, free, qs, loads, n_fac, n_lane, ring, now):
    """Put loads from other partitions (flat, headers with the facility) into the arrival
    ring, each in the slot of its arrival minute; returns the parcels put, or -1 when a
    load arrives before minute ``now`` (a window longer than a cut lane's travel time)."""
    j = 0
    parcels = 0
    size = loads.shape[0]
    while j < size:
        e = -1 - loads[j]
        c = e >> 32
        a = loads[j + 1]
        if a < now or a >= now + ring:
            return -1
        slot = n_fac + n_lane + a % ring
        _push(data, nxt, free, qs, slot, loads[j])
        for x in range(j + 2, j + 2 + c):
            _push(data, nxt, free, qs, slot, loads[x])
        parcels += c
        j += c + 2
    return parcels
