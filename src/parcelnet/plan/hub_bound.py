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
from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from parcelnet.errors import ParameterError, SolverError
from parcelnet.plan._highs import Rows, lp_model, quiet_highs
from parcelnet.plan.hubdata import HubInstance
from parcelnet.plan.hubs import HubSolution
from parcelnet.progress import Counter, Progress, or_none
from parcelnet.results import Result, internal


@njit(cache=True, parallel=True, fastmath=True)
def _coefficients(cost, cost_t, flow, v, chi, alpha, delta, C):  # pragma: no cover - compiled
    """C[i, k] = sum_j [w_ij chi d_ik + min_m (w_ij (alpha d_km + delta d_mj) - v_ijm)].

    The n^4 inner minimum is a min-plus product, done four destinations j at a time with k
    innermost (contiguous in ``cost_t``), so that one read of d_km serves four minima and the
    loop vectorises; no argmin is kept (``_subgradient`` finds it where it is needed)."""
    n = cost.shape[0]
    for i in prange(n):
        b = np.empty((4, n))
        o = np.empty((4, n))
        aw = np.empty(4)
        acc = np.zeros(n)
        out = 0.0
        for j0 in range(0, n, 4):
            nj = min(4, n - j0)
            for t in range(4):
                if t < nj:
                    j = j0 + t
                    w = flow[i, j]
                    out += w
                    aw[t] = w * alpha
                    for m in range(n):
                        b[t, m] = w * delta * cost[m, j] - v[i, j, m]
                else:
                    aw[t] = 0.0
                    b[t, :] = 0.0
            a0, a1, a2, a3 = aw[0], aw[1], aw[2], aw[3]
            o[:, :] = 1e300                           # not inf: fastmath assumes none
            for m in range(n):
                r = cost_t[m]
                b0, b1, b2, b3 = b[0, m], b[1, m], b[2, m], b[3, m]
                for k in range(n):
                    c = r[k]
                    o[0, k] = min(o[0, k], a0 * c + b0)
                    o[1, k] = min(o[1, k], a1 * c + b1)
                    o[2, k] = min(o[2, k], a2 * c + b2)
                    o[3, k] = min(o[3, k], a3 * c + b3)
            for t in range(nj):
                for k in range(n):
                    acc[k] += o[t, k]
        for k in range(n):
            C[i, k] = out * chi * cost[i, k] + acc[k]


@njit(cache=True, parallel=True)
def _subgradient(cost, flow, v, z, alpha, delta, g):  # pragma: no cover - compiled
    """g[i, j, m] = sum_k z_ik [m is the best second hub for (i, j, k)] - z_jm, the amount
    by which the relaxed solution violates constraint (B). The best m is looked up only for
    the (i, k) the p-median LP uses (z_ik > 0): a few per node."""
    n = cost.shape[0]
    for i in prange(n):
        for j in range(n):
            for m in range(n):
                g[i, j, m] = -z[j, m]
        for k in range(n):
            zik = z[i, k]
            if zik <= 1e-12:
                continue
            for j in range(n):
                w = flow[i, j]
                best = np.inf
                bm = 0
                for m in range(n):
                    val = w * (alpha * cost[k, m] + delta * cost[m, j]) - v[i, j, m]
                    if val < best:
                        best = val
                        bm = m
                g[i, j, bm] += zik


@njit(cache=True, parallel=True)
def _step(v, d, g, deflection, lam_gap):  # pragma: no cover - compiled
    """d = g + deflection d; v -= lam_gap / |d|^2 d; returns |g|^2 (0: (B) holds)."""
    n = v.shape[0]
    gg = np.zeros(n)
    dd = np.zeros(n)
    for i in prange(n):
        for j in range(n):
            for m in range(n):
                x = g[i, j, m]
                gg[i] += x * x
                y = x + deflection * d[i, j, m]
                d[i, j, m] = y
                dd[i] += y * y
    total = dd.sum()
    if gg.sum() < 1e-12 or total <= 0.0:
        return gg.sum()
    s = lam_gap / total
    for i in prange(n):
        for j in range(n):
            for m in range(n):
                v[i, j, m] -= s * d[i, j, m]
    return gg.sum()


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


@dataclass(frozen=True)
class LagrangianBound(Result):
    """A proven lower bound on the optimum, the best objective known (``upper_bound``), their
    relative gap, and the bound of every iteration (``history``). ``solution``: a solution the
    Lagrangian heuristic found below the upper bound it started from, or None."""

    lower_bound: float
    upper_bound: float
    gap: float
    iterations: int
    seconds: float
    history: list[float] = internal(repr=False)
    solution: HubSolution | None = None


#: Seconds the bound runs by default (a budget of 10 minutes with the local search before it).
DEFAULT_TIME_LIMIT = 540.0
BOUND_STAGE = "Lagrangian bound (seconds of the limit)"


def lagrangian_bound(inst: HubInstance, upper: float, p: int | None = None, iterations: int = 5000,
                     time_limit: float = DEFAULT_TIME_LIMIT, target_gap: float = 0.01,
                     aggregate: float = 0.3, stall: int = 20, deflection: float = 0.7,
                     improve_every: int = 25, progress: Progress | None = None) -> LagrangianBound:
    """Best proven lower bound found (and its history) within the limits; stops early once
    (upper - bound) / bound <= target_gap.

    At first the multipliers are kept of the form v_ijm = w_ij pi_jm (a price per destination
    and hub, n^2 numbers), which moves fast; once that stalls (the step halved three times) or
    after an ``aggregate`` share of the iterations or of the time, all n^3 are free and the
    step starts afresh. The step is Polyak's towards ``upper``, halved after ``stall``
    iterations without a better bound, along a deflected subgradient (the new one plus
    ``deflection`` times the last direction; Camerini, Fratta and Maffioli 1975), which
    zig-zags less. Every ``improve_every`` iterations the p hubs the relaxation opens most
    (largest z_kk) start the local search: a Lagrangian heuristic that can lower ``upper``
    (``solution`` in the result is the best it found, or None). Reports the stage
    :data:`BOUND_STAGE` (seconds of the time limit) to ``progress``."""
    from parcelnet.plan.hubs import local_search
    t0 = time.perf_counter()
    inst = inst.with_p(p).check()
    n, p = inst.n, int(inst.p)
    cost = np.ascontiguousarray(inst.cost, np.float64)
    cost_t = np.ascontiguousarray(cost.T)
    flow = np.ascontiguousarray(inst.flow, np.float64)
    v = np.zeros((n, n, n))
    g = np.zeros((n, n, n))
    C = np.zeros((n, n))
    h = _pmedian_lp(n, p)
    pi = np.zeros((n, n))
    d_pi, d_v = np.zeros((n, n)), np.zeros((n, n, n))
    best, lam, since, history, solution, tried = -np.inf, 1.0, 0, [], None, set()
    priced = True
    clock = Counter(progress, BOUND_STAGE, int(time_limit))
    for it in range(iterations):
        if priced and (it >= aggregate * iterations or lam < 0.125
                       or time.perf_counter() - t0 >= aggregate * time_limit):
            priced, lam, since = False, 1.0, 0          # free multipliers, a fresh step
        if priced:
            np.multiply(flow[:, :, None], pi[None, :, :], out=v)
        _coefficients(cost, cost_t, flow, v, inst.chi, inst.alpha, inst.delta, C)
        c = C + v.sum(axis=0)
        h.changeColsCost(n * n, np.arange(n * n, dtype=np.int32), c.ravel())
        h.run()
        if h.modelStatusToString(h.getModelStatus()).lower() != "optimal":
            raise SolverError(f"{inst.name}: the p-median LP of the Lagrangian bound ended "
                              f"{h.modelStatusToString(h.getModelStatus())}, so it proves nothing")
        lb = float(h.getInfo().objective_function_value)
        z = np.asarray(h.getSolution().col_value).reshape(n, n)
        if lb > best + 1e-9:
            best, since = lb, 0
        else:
            since += 1
            if since >= stall:
                lam, since = lam / 2, 0
        history.append(lb)
        if improve_every and it % improve_every == improve_every - 1:
            hubs = tuple(sorted(int(k) for k in np.argsort(-np.diag(z), kind="stable")[:p]))
            if hubs not in tried:
                tried.add(hubs)
                s = local_search(inst, p, start_hubs=hubs)
                if s.objective < upper - 1e-9 * abs(upper):
                    upper, solution = s.objective, s
        clock(min(int(time.perf_counter() - t0), int(time_limit)))
        if (upper - best) / abs(best) <= target_gap or time.perf_counter() - t0 > time_limit \
                or lam < 1e-4:
            break
        _subgradient(cost, flow, v, z, inst.alpha, inst.delta, g)   # g = sum_k x - z
        if priced:
            gp = np.einsum("ij,ijm->jm", flow, g)
            if float((gp * gp).sum()) < 1e-12:
                break
            d_pi = gp + deflection * d_pi
            pi -= lam * (upper - lb) / float((d_pi * d_pi).sum()) * d_pi
            continue
        if _step(v, d_v, g, deflection, lam * (upper - lb)) < 1e-12:
            break                                    # z satisfies (B): the bound is the optimum
    clock.finish()
    return LagrangianBound(best, upper, (upper - best) / abs(best), len(history),
                           time.perf_counter() - t0, history, solution)


def heuristic_with_bound(inst: HubInstance, time_limit: float = DEFAULT_TIME_LIMIT,
                         target_gap: float = 0.01, progress: Progress | None = None) -> HubSolution:
    """The single-allocation p-hub median at sizes the exact model cannot reach: the local
    search, then the Lagrangian bound (which may also improve the solution), as one solution
    with its proven lower bound. ``time_limit`` (seconds) and ``target_gap`` stop the bound."""
    from dataclasses import replace

    from parcelnet.plan.hubs import local_search
    if not target_gap >= 0:
        raise ParameterError(f"the target gap must be a share >= 0, got {target_gap}")
    if not time_limit > 0:
        raise ParameterError(f"the time limit must be a positive number of seconds, got {time_limit}")
    progress = or_none(progress)
    progress.start("local search")
    sol = local_search(inst)
    b = lagrangian_bound(inst, sol.objective, time_limit=time_limit, target_gap=target_gap,
                         progress=progress)
    if b.solution is not None:                # the Lagrangian heuristic did better
        sol = replace(b.solution, method=sol.method + " from the relaxation's hubs",
                      seconds=sol.seconds)
    return replace(sol, lower_bound=b.lower_bound, seconds=sol.seconds + b.seconds,
                   method=sol.method + " + Lagrangian bound",
                   extra={**sol.extra, "bound_iterations": b.iterations,
                          "bound_seconds": round(b.seconds, 1)})
