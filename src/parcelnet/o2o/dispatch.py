"""Rider dispatch for instant delivery: one decision over the open orders and the riders.

Both dispatchers are plain functions over arrays. Travel times are a callable ``T(a, b)`` that
returns seconds from node array ``a`` to node array ``b`` (elementwise), and ``T.rows(a)`` that
returns the full rows (seconds from each node of ``a`` to every node).

- :func:`greedy`, the baseline: orders first come first served, each to the rider who can be at
  its store soonest among those free now, one order per trip.
- :func:`pooled`, parcelnet's: per store, orders in deadline order are pooled into trips of up
  to ``capacity`` orders. An order joins a trip when, inserted at its best place, every order
  of the trip still makes its deadline from the earliest time a rider can be at the store; of
  the places that do, the one that adds the least riding.
  Trips go to riders by a minimum-cost assignment (scipy's linear_sum_assignment) on the time
  until a rider can be at the store, among riders free within ``horizon_s``. A trip that is not
  full and has more than ``hold_s`` of slack waits for the next decision, where new orders may
  join it (re-planning as orders arrive).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

BIG = 10**9


def greedy(t, store, dest, deadline, r_free, r_node, T):
    """[(rider, [order indices])]: open orders (arrays, in arrival order) one by one to the free
    rider nearest (by travel time) to their store."""
    free = np.flatnonzero(r_free <= t)
    out = []
    if not len(free):
        return out
    taken = np.zeros(len(free), bool)
    by_store: dict[int, np.ndarray] = {}
    for i in range(len(store)):
        s = int(store[i])
        if s not in by_store:
            by_store[s] = T.rows(np.array([s]), reverse=True)[0][r_node[free]]
        d = np.where(taken, BIG, by_store[s])
        k = int(np.argmin(d))
        if d[k] >= BIG:
            break
        taken[k] = True
        out.append((int(free[k]), [i]))
    return out


def _finish(t0, s, seq, dest, deadline, M, service_s):
    """Latest slack (deadline - delivery, seconds) over the orders of ``seq`` delivered in that
    order leaving store ``s`` at t0; negative when one is late. ``M`` is local travel times."""
    clock, prev, slack = t0, s, BIG
    for i in seq:
        clock += M[prev, dest[i]]
        slack = min(slack, deadline[i] - clock)
        clock += service_s
        prev = dest[i]
    return slack


def _length(s, seq, dest, M):
    """Riding seconds from store ``s`` through the stops of ``seq``."""
    total, prev = 0, s
    for i in seq:
        total += M[prev, dest[i]]
        prev = dest[i]
    return total


def pooled(t, store, dest, deadline, r_free, r_node, T, capacity=3, horizon_s=600, hold_s=600,
           prep_s=60, service_s=60, neighbours=8):
    """[(rider, [order indices in visiting order])] for this decision (see the module). An
    order is tried in a trip only with the ``neighbours`` open orders of the same store whose
    destinations are nearest to the trip's first one."""
    out = []
    avail = np.flatnonzero(r_free <= t + horizon_s)
    if not len(avail) or not len(store):
        return out
    stores = np.unique(store)
    # seconds until each available rider can be at each store
    reach = T.rows(stores, reverse=True)[:, r_node[avail]]         # (stores, riders)
    wait = np.maximum(r_free[avail] - t, 0)[None, :] + reach
    soonest = wait.min(axis=1)
    nodes, inv = np.unique(np.r_[stores, dest], return_inverse=True)
    M = T.rows(nodes)[:, nodes].astype(np.int64)                   # local travel times
    ls, ld = inv[:len(stores)], inv[len(stores):]
    dl = deadline.astype(np.int64)
    trips, trip_store, trip_slack = [], [], []
    for si in range(len(stores)):
        idx = np.flatnonzero(store == stores[si])
        idx = idx[np.argsort(deadline[idx], kind="stable")]
        t0 = t + int(soonest[si]) + prep_s
        left = set(idx.tolist())
        for first in idx:
            if first not in left:
                continue
            left.discard(first)
            seq = [int(first)]
            if left and capacity > 1:
                pool = np.fromiter(left, np.int64, len(left))
                near = pool[np.argsort(M[ld[first], ld[pool]], kind="stable")[:neighbours]]
                for o in near:
                    if len(seq) >= capacity:
                        break
                    best, best_len = None, BIG
                    for pos in range(len(seq) + 1):        # the cheapest place that keeps deadlines
                        cand = seq[:pos] + [int(o)] + seq[pos:]
                        if _finish(t0, ls[si], cand, ld, dl, M, service_s) >= 0:
                            n = _length(ls[si], cand, ld, M)
                            if n < best_len:
                                best, best_len = cand, n
                    if best is not None:
                        seq = best
                        left.discard(int(o))
            trips.append(seq)
            trip_store.append(si)
            trip_slack.append(_finish(t0, ls[si], seq, ld, dl, M, service_s))
    go = [k for k in range(len(trips)) if len(trips[k]) >= capacity or trip_slack[k] <= hold_s]
    if not go:
        return out
    cost = wait[np.array([trip_store[k] for k in go])]               # (trips, riders)
    rows, cols = linear_sum_assignment(cost)
    for r, c in zip(rows, cols):
        if cost[r, c] < BIG:
            out.append((int(avail[c]), trips[go[r]]))
    return out
