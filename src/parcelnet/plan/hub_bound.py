"""A proven lower bound for the single-allocation p-hub median at sizes an exact MIP cannot
reach: Lagrangian relaxation of the path formulation.

The path formulation has x_ijkm (flow i -> j through hubs k then m) with
sum_m x_ijkm = z_ik (A) and sum_k x_ijkm = z_jm (B). Dualising (B) with multipliers v_ijm
leaves, for each node i and hub k, an independent choice of the best second hub m for every
destination j; what remains is a p-median over the allocations z with costs
C_ik = sum_j [w_ij chi d_ik + min_m (w_ij (alpha d_km + delta d_mj) - v_ijm)] + sum_i' v_i'ik.
Its LP relaxation is solved by HiGHS (warm-started from one iteration to the next). Every
iteration gives a valid lower bound, whatever v is (weak duality, and the LP is a relaxation
of the p-median); subgradient steps (Polyak, towards an upper bound from the local search)
improve v. At the optimal v the bound equals the LP relaxation of the path formulation.
"""

from __future__ import annotations

import time

import numpy as np
from numba import njit, prange

from parcelnet.plan._highs import Rows, lp_model, quiet_highs
from parcelnet.plan.hubdata import HubInstance


@njit(cache=True, parallel=True)
def _coefficients(cost, flow, v, chi, alpha, delta, C, best_m):  # pragma: no cover - compiled
    n = cost.shape[0]
    for i in prange(n):
        for k in range(n):
            s = 0.0
            for j in range(n):
                w = flow[i, j]
                b = np.inf
                bm = 0
                for m in range(n):
                    val = w * (alpha * cost[k, m] + delta * cost[m, j]) - v[i, j, m]
                    if val < b:
                        b = val
                        bm = m
                s += w * chi * cost[i, k] + b
                best_m[i, j, k] = bm
            C[i, k] = s


@njit(cache=True, parallel=True)
def _subgradient(z, best_m, g):  # pragma: no cover - compiled
    n = z.shape[0]
    for i in prange(n):
        for j in range(n):
            for m in range(n):
                g[i, j, m] = -z[j, m]
            for k in range(n):
                if z[i, k] > 1e-12:
                    g[i, j, best_m[i, j, k]] += z[i, k]


def _pmedian_lp(n: int, p: int):
    """z_ik LP: each node allocated once, only to open hubs (z_kk), p hubs."""
    rows = Rows()
    idx = np.arange(n * n).reshape(n, n)
    rows.add(np.repeat(np.arange(n), n), idx.ravel(), np.ones(n * n), np.ones(n), np.ones(n))
    i, k = np.nonzero(~np.eye(n, dtype=bool))
    r = np.arange(len(i))
    rows.add(np.r_[r, r], np.r_[idx[i, k], idx[k, k]], np.r_[np.ones(len(r)), -np.ones(len(r))],
             np.full(len(r), -np.inf), np.zeros(len(r)))
    rows.add(np.zeros(n), idx[np.arange(n), np.arange(n)], np.ones(n), [p], [p])
    a, lo, hi = rows.matrix(n * n)
    from scipy import sparse
    lp = lp_model(np.zeros(n * n), sparse.csc_matrix(a), lo, hi, np.zeros(n * n), np.ones(n * n))
    h = quiet_highs()
    h.passModel(lp)
    return h


def lagrangian_bound(inst: HubInstance, upper: float, p: int | None = None, iterations: int = 2000,
                     time_limit: float = 540.0, target_gap: float = 0.01, aggregate: float = 0.3,
                     stall: int = 20, deflection: float = 0.7, progress=None) -> dict:
    """Best proven lower bound found (and its history) within the limits; stops early once
    (upper - bound) / upper <= target_gap.

    For the first ``aggregate`` share of the iterations and of the time the multipliers are kept of the form
    v_ijm = w_ij pi_jm (a price per destination and hub, n^2 numbers), which moves fast; then
    all n^3 are free. The step is Polyak's towards ``upper``, halved after ``stall`` iterations
    without a better bound, along a deflected subgradient (the new one plus ``deflection``
    times the last direction; Camerini, Fratta and Maffioli 1975), which zig-zags less."""
    t0 = time.perf_counter()
    inst = inst.with_p(p).check()
    n, p = inst.n, int(inst.p)
    cost = np.ascontiguousarray(inst.cost, np.float64)
    flow = np.ascontiguousarray(inst.flow, np.float64)
    v = np.zeros((n, n, n))
    g = np.zeros((n, n, n))
    C = np.zeros((n, n))
    best_m = np.zeros((n, n, n), np.int32)
    h = _pmedian_lp(n, p)
    pi = np.zeros((n, n))
    d_pi, d_v = np.zeros((n, n)), None
    best, lam, since, history = -np.inf, 1.0, 0, []
    for it in range(iterations):
        priced = it < aggregate * iterations and time.perf_counter() - t0 < aggregate * time_limit
        if priced:
            v = flow[:, :, None] * pi[None, :, :]
        _coefficients(cost, flow, v, inst.chi, inst.alpha, inst.delta, C, best_m)
        c = C + v.sum(axis=0)
        h.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), c.ravel())
        h.run()
        lb = float(h.getInfo().objective_function_value)
        z = np.asarray(h.getSolution().col_value).reshape(n, n)
        if lb > best + 1e-9:
            best, since = lb, 0
        else:
            since += 1
            if since >= stall:
                lam, since = lam / 2, 0
        history.append(lb)
        if progress:
            progress(it, lb, best)
        if (upper - best) / upper <= target_gap or time.perf_counter() - t0 > time_limit or lam < 1e-4:
            break
        _subgradient(z, best_m, g)                   # g = sum_k x - z; dL/dv = -g
        if priced:
            gp = np.einsum("ij,ijm->jm", flow, g)
            if float((gp * gp).sum()) < 1e-12:
                break
            d_pi = gp + deflection * d_pi
            pi -= lam * (upper - lb) / float((d_pi * d_pi).sum()) * d_pi
            continue
        if float((g * g).sum()) < 1e-12:
            break                                    # z satisfies (B): the bound is the optimum
        if d_v is None:
            d_v = g.copy()
        else:
            d_v *= deflection
            d_v += g
        v -= lam * (upper - lb) / float((d_v * d_v).sum()) * d_v
    return {"lower_bound": best, "upper_bound": upper, "gap": (upper - best) / upper,
            "iterations": len(history), "seconds": time.perf_counter() - t0, "history": history}
