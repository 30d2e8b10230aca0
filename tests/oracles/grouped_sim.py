"""An exact *grouped* capacity simulator: the cohort idea, tried on parcelnet's semantics.

Parcels that are at the same place with the same remaining path move as one group, under
exactly the rules of docs/simulation.md (``parcelnet.sim._kernels.run`` moves every parcel on
its own). It exists to measure whether grouping pays on a real network; ``sim_floor.py``
runs it beside parcelnet's kernel, and tests/sim/test_grouped.py checks that both give
identical delivered minutes.

A *node* is a remaining path: its next lane (``node_lane``, -1 at the destination), the node
after that lane (``node_next``) and the facility it starts at (``node_fac``); nodes 0..n_fac-1
are "delivered at this facility". Groups with the same node in the same sorter run (same
arrival minute) or the same lane run (same ready minute) are merged: a run is a set, and only
*who* goes first when capacity binds depends on the parcels in it. When a full sorter or trip
splits a run, the run becomes one list of (parcel index, node) entries sorted by parcel index
(a *carrier*), and each take pops its head and regroups it by node.

Members live in blocks of ``BS`` entries chained per group. A merge copies a one-block group
into the tail block when it fits and links the chains otherwise.

Counters (``stats``): runs split (sorted), entries sorted, group hand-overs (a group sorted or
boarded), chain links.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from parcelnet.network.rules import wave_end
from parcelnet.sim.engine import Prepared

DAY = 1440
BS = 8
LOW = (1 << 32) - 1


@njit(cache=True)
def run_grouped(c_idx, c_node, c_min, node_lane, node_next, node_fac, sort_per_minute, process,
                lane_duration, mod_ptr, mod_lane, mod_cap, wave_ptr, wave_start, wave_duration,
                n_fac, ring, t_end, delivered, stats):
    """Simulate every parcel (creations sorted by (minute, index)); ``delivered[i]`` gets the
    delivered minute of parcel index i when it is <= ``t_end``."""
    n_c = c_idx.shape[0]
    n_node = node_lane.shape[0]
    cap = n_c + 64                 # every live group, run and block holds at least one parcel
    g_node = np.empty(cap, np.int64)
    g_cnt = np.empty(cap, np.int64)
    g_head = np.empty(cap, np.int64)
    g_tail = np.empty(cap, np.int64)
    g_next = np.empty(cap, np.int64)
    b_data = np.empty(cap * BS, np.int64)
    b_fill = np.empty(cap, np.int64)
    b_next = np.empty(cap, np.int64)
    r_min = np.empty(cap, np.int64)
    r_cnt = np.empty(cap, np.int64)
    r_gh = np.empty(cap, np.int64)
    r_gt = np.empty(cap, np.int64)
    r_next = np.empty(cap, np.int64)
    r_off = np.empty(cap, np.int64)
    r_sorted = np.zeros(cap, np.bool_)
    free_g = np.arange(cap - 1, -1, -1).astype(np.int64)
    free_b = free_g.copy()
    free_r = free_g.copy()
    top = np.array([cap, cap, cap, 0], np.int64)          # free groups, blocks, runs; token
    n_q = n_fac + lane_duration.shape[0]                  # sorters, then lanes
    q_h, q_t = np.full(n_q, -1, np.int64), np.full(n_q, -1, np.int64)
    s_len = np.zeros(n_fac, np.int64)
    active = np.empty(n_fac, np.int64)
    is_active = np.zeros(n_fac, np.bool_)
    sl_h, sl_t = np.full(ring, -1, np.int64), np.full(ring, -1, np.int64)
    stamp = np.full((3, n_node), -1, np.int64)   # last (arrival run, lane run, take) per node
    rep = np.empty((3, n_node), np.int64)        # ... and the group it went to
    go = np.empty(n_c + 1, np.int64)
    top_a = np.zeros(1, np.int64)                 # active sorters
    sbuf = np.empty(n_c + 1, np.int64)

    def new_block(v):
        top[1] -= 1
        b = free_b[top[1]]
        b_data[b * BS] = v
        b_fill[b] = 1
        b_next[b] = -1
        return b

    def new_group(node, v):
        top[0] -= 1
        g = free_g[top[0]]
        b = new_block(v)
        g_node[g], g_cnt[g], g_head[g], g_tail[g], g_next[g] = node, 1, b, b, -1
        return g

    def append(g, v):
        b = g_tail[g]
        if b_fill[b] == BS:
            nb = new_block(v)
            b_next[b] = nb
            g_tail[g] = nb
        else:
            b_data[b * BS + b_fill[b]] = v
            b_fill[b] += 1
        g_cnt[g] += 1

    def free_blocks(g):
        b = g_head[g]
        while b >= 0:
            nb = b_next[b]
            free_b[top[1]] = b
            top[1] += 1
            b = nb

    def free_group(g):
        free_g[top[0]] = g
        top[0] += 1

    def merge(d, g):
        """Move group g's parcels into group d (same node) and free g."""
        db, sb = g_tail[d], g_head[g]
        if sb == g_tail[g] and b_fill[db] + b_fill[sb] <= BS:
            for j in range(b_fill[sb]):
                b_data[db * BS + b_fill[db] + j] = b_data[sb * BS + j]
            b_fill[db] += b_fill[sb]
            free_b[top[1]] = sb
            top[1] += 1
        else:
            b_next[db] = sb
            g_tail[d] = g_tail[g]
            stats[3] += 1
        g_cnt[d] += g_cnt[g]
        free_group(g)

    def push_list(heads, tails, k, g):
        """Append group g to the list heads[k] .. tails[k] (chained by g_next)."""
        g_next[g] = -1
        if tails[k] >= 0:
            g_next[tails[k]] = g
        else:
            heads[k] = g
        tails[k] = g

    def join(q, minute, g, kind):
        """Group g joins queue q's run of ``minute`` (its tail run, made if need be), merged
        into the group of the same node already there."""
        s = g_node[g]
        c = g_cnt[g]
        if stamp[kind, s] == minute:
            merge(rep[kind, s], g)
            r_cnt[q_t[q]] += c
            return
        run = q_t[q]
        if run < 0 or r_min[run] != minute:
            top[2] -= 1
            run = free_r[top[2]]
            r_min[run], r_cnt[run], r_gh[run], r_gt[run], r_next[run] = minute, 0, -1, -1, -1
            r_sorted[run] = False
            if q_t[q] >= 0:
                r_next[q_t[q]] = run
            else:
                q_h[q] = run
            q_t[q] = run
        push_list(r_gh, r_gt, run, g)
        r_cnt[run] += c
        stamp[kind, s] = minute
        rep[kind, s] = g

    def drop_head_run(q):
        run = q_h[q]
        q_h[q] = r_next[run]
        if q_h[q] < 0:
            q_t[q] = -1
        free_r[top[2]] = run
        top[2] += 1

    def to_carrier(run):
        """Turn the run's groups into one carrier of (index << 32 | node), sorted by index."""
        n_e = 0
        g = r_gh[run]
        while g >= 0:
            b = g_head[g]
            while b >= 0:
                for j in range(b_fill[b]):
                    sbuf[n_e] = (b_data[b * BS + j] << 32) | g_node[g]
                    n_e += 1
                b = b_next[b]
            free_blocks(g)
            free_group(g)
            g = g_next[g]
        srt = np.sort(sbuf[:n_e])
        cg = new_group(-1, srt[0])
        for j in range(1, n_e):
            append(cg, srt[j])
        r_gh[run], r_gt[run], r_sorted[run], r_off[run] = cg, cg, True, 0
        stats[0] += 1
        stats[1] += n_e

    def take(q, k):
        """Take k parcels from the head run of queue q into groups ``go[:n]``; returns n."""
        run = q_h[q]
        n = 0
        if not r_sorted[run] and r_cnt[run] <= k:
            g = r_gh[run]
            while g >= 0:
                go[n] = g
                n += 1
                g = g_next[g]
            drop_head_run(q)
            return n
        if not r_sorted[run]:
            to_carrier(run)
        cg = r_gh[run]
        top[3] += 1
        for _ in range(k):
            b = g_head[cg]
            e = b_data[b * BS + r_off[run]]
            r_off[run] += 1
            if r_off[run] == b_fill[b]:
                g_head[cg] = b_next[b]
                free_b[top[1]] = b
                top[1] += 1
                r_off[run] = 0
            s = e & LOW
            if stamp[2, s] == top[3]:
                append(rep[2, s], e >> 32)
            else:
                g = new_group(s, e >> 32)
                stamp[2, s] = top[3]
                rep[2, s] = g
                go[n] = g
                n += 1
        g_cnt[cg] -= k
        r_cnt[run] -= k
        if r_cnt[run] == 0:
            free_group(cg)
            drop_head_run(q)
        return n

    def activate(f, c):
        s_len[f] += c
        if not is_active[f]:
            is_active[f] = True
            active[top_a[0]] = f
            top_a[0] += 1

    m = c_min[0] if n_c else 0
    cp = 0
    in_system = 0
    while m <= t_end and (in_system > 0 or cp < n_c):
        # 1. arrivals: creations, then loads, into the run of minute m at each sorter
        while cp < n_c and c_min[cp] == m:
            s = c_node[cp]
            if stamp[0, s] == m:
                append(rep[0, s], c_idx[cp])
                r_cnt[q_t[node_fac[s]]] += 1
            else:
                join(node_fac[s], m, new_group(s, c_idx[cp]), 0)
            activate(node_fac[s], 1)
            in_system += 1
            cp += 1
        sl = m % ring
        g = sl_h[sl]
        sl_h[sl] = -1
        sl_t[sl] = -1
        while g >= 0:
            nx = g_next[g]
            f = node_fac[g_node[g]]
            activate(f, g_cnt[g])
            join(f, m, g, 0)
            g = nx
        # 2. sorting
        still = 0
        for a in range(top_a[0]):
            f = active[a]
            cf = sort_per_minute[f]
            k_all = s_len[f] if cf == 0 or cf > s_len[f] else cf
            rdy = m + process[f]
            h = 0
            while h < k_all:
                k = min(k_all - h, r_cnt[q_h[f]])
                n = take(f, k)
                h += k
                stats[2] += n
                for x in range(n):
                    g = go[x]
                    lane = node_lane[g_node[g]]
                    if lane >= 0:
                        join(n_fac + lane, rdy, g, 1)
                        continue
                    end = wave_end(rdy, f, wave_ptr, wave_start, wave_duration)
                    b = g_head[g]
                    while b >= 0 and end <= t_end:
                        for j in range(b_fill[b]):
                            delivered[b_data[b * BS + j]] = end
                        b = b_next[b]
                    in_system -= g_cnt[g]
                    free_blocks(g)
                    free_group(g)
            s_len[f] -= k_all
            if s_len[f] > 0:
                active[still] = f
                still += 1
            else:
                is_active[f] = False
        top_a[0] = still
        # 3. departures
        mod = m % DAY
        for t in range(mod_ptr[mod], mod_ptr[mod + 1]):
            q = n_fac + mod_lane[t]
            left = mod_cap[t]
            sl = (m + lane_duration[mod_lane[t]]) % ring
            while left > 0 and q_h[q] >= 0 and r_min[q_h[q]] <= m:
                k = min(left, r_cnt[q_h[q]])
                n = take(q, k)
                left -= k
                stats[2] += n
                for x in range(n):                    # board: on to the arrival slot
                    g = go[x]
                    g_node[g] = node_next[g_node[g]]
                    push_list(sl_h, sl_t, sl, g)
        m += 1
    return m


def path_nodes(path_ptr, path_lanes, lane_from, lane_to, n_fac):
    """Nodes of every remaining path of the path table: ``(node_lane, node_next, node_fac,
    start)`` with ``start[r]`` the node of path row r (-1 for an empty path)."""
    path_ptr = np.asarray(path_ptr, np.int64)
    path_lanes = np.asarray(path_lanes, np.int64)
    lane_from = np.asarray(lane_from, np.int64)
    length = np.diff(path_ptr)
    lanes_l, next_l = [np.full(n_fac, -1, np.int64)], [np.full(n_fac, -1, np.int64)]
    fac_l = [np.arange(n_fac, dtype=np.int64)]
    cur = np.full(len(length), -1, np.int64)
    has = length > 0
    cur[has] = np.asarray(lane_to)[path_lanes[path_ptr[1:][has] - 1]]   # delivered there
    n_node = n_fac
    for level in range(1, int(length.max(initial=0)) + 1):
        rows = np.flatnonzero(length >= level)
        lane = path_lanes[path_ptr[rows] + length[rows] - level]
        u, inv = np.unique((lane << 40) | cur[rows], return_inverse=True)
        lanes_l.append(u >> 40)
        next_l.append(u & ((1 << 40) - 1))
        fac_l.append(lane_from[u >> 40])
        cur[rows] = n_node + inv.ravel()
        n_node += len(u)
    return np.concatenate(lanes_l), np.concatenate(next_l), np.concatenate(fac_l), cur


def simulate_grouped(network, parcel_id, created, origin, dest, path_ptr, path_lanes,
                     horizon_minutes: int = 7 * DAY, path_id=None, prepared=None, stats=None,
                     nodes=None):
    """Delivered minute of every parcel (-1 = not delivered), as ``parcelnet.sim.run_paths``
    gives it; ``stats`` (int64[4]) receives the counters. ``nodes`` is ``path_nodes`` of this
    path table, computed once for many runs (like the path table itself)."""
    tt = network.timetable
    parcel_id, created, dest = (np.asarray(a, np.int64) for a in (parcel_id, created, dest))
    n = len(parcel_id)
    path_id = np.arange(n) if path_id is None else np.asarray(path_id, np.int64)
    nl, nn, nf, start = nodes if nodes is not None else path_nodes(
        path_ptr, path_lanes, tt.lane_from, tt.lane_to, tt.n_facilities)
    node = np.where(start[path_id] >= 0, start[path_id], dest)
    idx = np.argsort(parcel_id, kind="stable")   # index i = parcel_id order
    c = created[idx]
    order = np.argsort(c, kind="stable")         # creations by (minute, index)
    prep = prepared if prepared is not None else Prepared(network)
    ptr, lane, cap, _, _ = prep.schedule
    out = np.full(n, -1, np.int64)
    t_end = int(c.max()) + int(horizon_minutes) if n else 0
    st = np.zeros(4, np.int64) if stats is None else stats
    if n:
        run_grouped(order.astype(np.int64), node[idx][order], c[order], nl, nn, nf,
                    tt.sort_per_minute, tt.process, tt.lane_duration, ptr, lane, cap,
                    tt.wave_ptr, tt.wave_start, tt.wave_duration, tt.n_facilities, prep.ring,
                    t_end, out, st)
    res = np.empty(n, np.int64)
    res[idx] = out
    return res
