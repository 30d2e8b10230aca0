"""Hub location, solved exactly with HiGHS (docs/plan.md has the formulations).

- :func:`solve_single`: the single-allocation p-hub median (USApHMP) in the path formulation
  of Skorin-Kapov, Skorin-Kapov & O'Kelly (1996), with each unordered pair of nodes carried
  by one set of variables; with ``capacitated=True`` the capacitated single-allocation hub
  location problem with fixed costs (CSAHLP, Ernst & Krishnamoorthy 1999). z[i, k] = 1 when
  node i is allocated to hub k (z[k, k]: k is a hub).
- :func:`solve_multiple`: the multiple-allocation p-hub median (UMApHMP) in the formulation
  of Ernst & Krishnamoorthy (1998): y[k] hubs, Z collection, Y transfer and X distribution
  flows per origin.
- :func:`local_search`: a fast heuristic for the single-allocation problem (greedy hubs,
  then reallocation and hub-swap moves); it also gives the MIP its first incumbent. With a
  time limit the MIP returns its best solution and a proven lower bound.

The objective of a single allocation ``a`` (hub of each node) is
``sum_ij flow[i, j] * (chi * cost[i, a_i] + alpha * cost[a_i, a_j] + delta * cost[a_j, j])``
plus the fixed costs of the hubs (capacitated problem).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from numba import njit
from scipy import sparse
from parcelnet.errors import ParameterError, ValidationError
from parcelnet.plan._highs import MipResult, Rows, solve_mip
from parcelnet.plan.hubdata import HubInstance
from parcelnet.progress import Progress, or_none
from parcelnet.results import Result


#: How nodes send their flow: through one hub each (single) or any of the hubs (multiple).
ALLOCATIONS = ("single", "multiple")


@dataclass(frozen=True)
class HubSolution(Result):
    """Hubs and allocation, 1-based as in the data files. ``allocation[i]`` is node i+1's hub
    (single allocation) or the hubs its flow is collected at (multiple allocation)."""

    objective: float
    hubs: list[int]
    allocation: list
    lower_bound: float
    status: str
    seconds: float
    method: str
    extra: dict = field(default_factory=dict)

    @property
    def gap(self) -> float:
        """Relative gap between the objective and the proven lower bound."""
        return (self.objective - self.lower_bound) / abs(self.objective) if self.objective else 0.0

    def to_dict(self) -> dict:
        return {"objective": round(float(self.objective), 6), "hubs": self.hubs,
                "allocation": self.allocation, "lower_bound": round(float(self.lower_bound), 6),
                "gap": round(self.gap, 9), "status": self.status,
                "seconds": round(self.seconds, 3), "method": self.method, **self.extra}


# -- objectives ---------------------------------------------------------------------------------
def single_cost(inst: HubInstance, alloc: np.ndarray) -> float:
    """Objective of a single allocation (0-based hub per node; hubs are allocated to themselves)."""
    a = np.asarray(alloc, np.int64)
    n = inst.n
    c, w = inst.cost, inst.flow
    to_hub = c[np.arange(n), a]
    from_hub = c[a, np.arange(n)]
    total = (inst.chi * (w.sum(axis=1) * to_hub).sum() + inst.delta * (w.sum(axis=0) * from_hub).sum()
             + inst.alpha * (w * c[np.ix_(a, a)]).sum())
    if inst.fixed is not None:
        total += inst.fixed[np.unique(a)].sum()
    return float(total)


def multiple_cost(inst: HubInstance, hubs) -> tuple[float, np.ndarray]:
    """Objective with hubs ``hubs`` (0-based) and every pair routed by its cheapest hub pair,
    and the collection hub of each (i, j)."""
    h = np.asarray(sorted(hubs), np.int64)
    c = inst.cost
    # best[i, l]: cheapest collection + transfer from i to hub l; via[i, l]: the collection hub
    leg = inst.chi * c[:, h][:, :, None] + inst.alpha * c[np.ix_(h, h)][None, :, :]
    via = leg.argmin(axis=1)
    best = leg.min(axis=1)
    route = best[:, :, None] + inst.delta * c[h, :][None, :, :]          # (i, l, j)
    last = route.argmin(axis=1)
    total = float((inst.flow * route.min(axis=1)).sum())
    first = h[np.take_along_axis(via, last, axis=1)]
    return total, first


def _check_p(inst: HubInstance, p) -> int:
    p = inst.p if p is None else p
    if p is None:
        raise ParameterError(f"{inst.name}: no number of hubs p in the data; give one")
    if isinstance(p, bool) or int(p) != p or not 1 <= int(p) <= inst.n:
        raise ParameterError(f"{inst.name}: p = {p} hubs, but there are {inst.n} nodes "
                             f"(p must be in 1..{inst.n})")
    return int(p)


# -- heuristic ----------------------------------------------------------------------------------
@njit(cache=True)
def _cost_nb(cost, flow, out_f, in_f, a, chi, alpha, delta):  # pragma: no cover - compiled
    """single_cost without the fixed costs, compiled (the search evaluates it thousands of times)."""
    n = a.shape[0]
    total = 0.0
    for i in range(n):
        total += chi * out_f[i] * cost[i, a[i]] + delta * in_f[i] * cost[a[i], i]
        ai = a[i]
        row = 0.0
        for j in range(n):
            row += flow[i, j] * cost[ai, a[j]]
        total += alpha * row
    return total


def _nearest_cost(inst: HubInstance, hubs: np.ndarray, out_f, in_f) -> float:
    """single_cost of the nearest-hub allocation to ``hubs``."""
    v = float(_cost_nb(inst.cost, inst.flow, out_f, in_f, _nearest(inst, hubs), inst.chi,
                       inst.alpha, inst.delta))
    return v + (float(inst.fixed[hubs].sum()) if inst.fixed is not None else 0.0)


def _nearest(inst: HubInstance, hubs: np.ndarray) -> np.ndarray:
    a = hubs[inst.cost[:, hubs].argmin(axis=1)]
    a[hubs] = hubs
    return a


def _reallocate(inst: HubInstance, a: np.ndarray, hubs: np.ndarray) -> tuple[np.ndarray, float]:
    """Move single nodes to the hub that lowers the objective most, until none does."""
    c, w = inst.cost, inst.flow
    out_f, in_f = w.sum(axis=1), w.sum(axis=0)
    is_hub = np.zeros(inst.n, bool)
    is_hub[hubs] = True
    improved = True
    while improved:
        improved = False
        for i in np.flatnonzero(~is_hub):
            others = np.arange(inst.n) != i
            aj = a[others]
            # the terms of the objective that depend on node i's hub b, for every hub b
            at = (inst.chi * out_f[i] * c[i, hubs] + inst.delta * in_f[i] * c[hubs, i]
                  + inst.alpha * (c[np.ix_(hubs, aj)] @ w[i, others]
                                  + c[np.ix_(aj, hubs)].T @ w[others, i]
                                  + w[i, i] * c[hubs, hubs]))
            k = int(np.argmin(at))
            now = at[int(np.flatnonzero(hubs == a[i])[0])]
            if at[k] < now - 1e-12 * max(1.0, abs(now)):
                a[i] = hubs[k]
                improved = True
    return a, single_cost(inst, a)


def local_search(inst: HubInstance, p: int | None = None, max_rounds: int = 50,
                 start_hubs=None, progress: Progress | None = None) -> HubSolution:
    """Single-allocation heuristic: greedy hubs (each added where it lowers the objective of
    the nearest-hub allocation most; or ``start_hubs``, 0-based), reallocation, then the best
    hub swap while it improves (at most ``max_rounds`` swaps; the stage "hub swaps" of
    ``progress`` counts them against that most)."""
    t0 = time.perf_counter()
    progress = or_none(progress)
    inst.check()
    p = _check_p(inst, p)
    n = inst.n
    out_f, in_f = inst.flow.sum(axis=1), inst.flow.sum(axis=0)
    if start_hubs is not None:
        hubs = np.unique(np.asarray(start_hubs, np.int64))
        if len(hubs) != p or hubs.min() < 0 or hubs.max() >= n:
            raise ParameterError(f"{inst.name}: start hubs must be {p} distinct nodes")
    else:
        hubs = np.zeros(0, np.int64)
        for _ in range(p):
            costs = [np.inf if m in hubs else _nearest_cost(inst, np.append(hubs, m), out_f, in_f)
                     for m in range(n)]
            hubs = np.append(hubs, int(np.argmin(costs)))
    a, cur = _reallocate(inst, _nearest(inst, hubs), hubs)
    progress.start("hub swaps", max_rounds)
    for _ in range(max_rounds):
        progress.advance()
        # swaps ranked by their nearest-hub cost against the current hubs' nearest-hub cost;
        # the few best are reallocated and the first that beats the current solution is taken
        base = _nearest_cost(inst, hubs, out_f, in_f)
        cand = []
        for q in range(p):
            for m in range(n):
                if m in hubs:
                    continue
                h = hubs.copy()
                h[q] = m
                v = _nearest_cost(inst, h, out_f, in_f)
                if v < base - 1e-9 * abs(base):
                    cand.append((v, q, m))
        moved = False
        for v, q, m in sorted(cand)[:5]:
            h = hubs.copy()
            h[q] = m
            a2, v2 = _reallocate(inst, _nearest(inst, h), h)
            if v2 < cur - 1e-9 * abs(cur):
                hubs, a, cur, moved = h, a2, v2, True
                break
        if not moved:
            break
    progress.finish()
    return _single_solution(inst, a, cur, -np.inf, "heuristic", time.perf_counter() - t0,
                            "local search")


def _single_solution(inst, a, obj, bound, status, seconds, method, extra=None) -> HubSolution:
    hubs = sorted(int(h) + 1 for h in np.unique(a))
    return HubSolution(float(obj), hubs, [int(x) + 1 for x in a], float(bound), status, seconds,
                       method, extra or {})


# -- single allocation (and capacitated) MIP -----------------------------------------------------
def _single_model(inst: HubInstance, p: int | None, capacitated: bool):
    """The path formulation: z[i, k] (n^2, binary) and, per unordered pair i < j and hubs k, m,
    x[ij, k, m] = z[i, k] z[j, m] (linearised by sum_m x = z[i, k], sum_k x = z[j, m]), which
    carries the transfer cost of both directions: alpha (W_ij c_km + W_ji c_mk)."""
    n = inst.n
    c, w = inst.cost, inst.flow
    O, D = w.sum(axis=1), w.sum(axis=0)
    nz = n * n
    pi, pj = np.triu_indices(n, 1)
    P = len(pi)
    kk, mm = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    zcost = inst.chi * O[:, None] * c + inst.delta * D[:, None] * c.T
    zcost += inst.alpha * np.diag(w)[:, None] * np.diag(c)[None, :]     # W_ii through its hub
    if capacitated:
        zcost[np.arange(n), np.arange(n)] += inst.fixed
    xcost = inst.alpha * (w[pi, pj][:, None] * c[kk, mm][None, :] + w[pj, pi][:, None] * c[mm, kk][None, :])
    cost = np.concatenate([zcost.ravel(), xcost.ravel()])
    rows = Rows()
    block = rows.add
    ii, hh = kk, mm                                       # (node, hub) of every z column
    diag = np.arange(n) * n + np.arange(n)
    block(ii, np.arange(nz), np.ones(nz), np.ones(n), np.ones(n))       # one hub per node
    off = np.flatnonzero(ii != hh)                                       # z[i, k] <= z[k, k]
    r = np.arange(len(off))
    block(np.concatenate([r, r]), np.concatenate([off, diag[hh[off]]]),
          np.concatenate([np.ones(len(r)), -np.ones(len(r))]), np.full(len(r), -np.inf), np.zeros(len(r)))
    if p is not None:
        block(np.zeros(n, np.int64), diag, np.ones(n), [p], [p])
    xcol = nz + np.arange(P * nz)
    pair = np.repeat(np.arange(P), nz)
    pr, hr = np.repeat(np.arange(P), n), np.tile(np.arange(n), P)
    for mine, node in ((np.tile(kk, P), pi), (np.tile(mm, P), pj)):
        # sum over the other end's hub of x[ij, k, m] = z[node, this end's hub]
        block(np.concatenate([pair * n + mine, pr * n + hr]), np.concatenate([xcol, node[pr] * n + hr]),
              np.concatenate([np.ones(P * nz), -np.ones(P * n)]), np.zeros(P * n), np.zeros(P * n))
    if capacitated:
        # what a hub collects (its own flow included) within its capacity
        block(np.concatenate([hh, np.arange(n)]), np.concatenate([np.arange(nz), diag]),
              np.concatenate([O[ii], -inst.capacity]), np.full(n, -np.inf), np.zeros(n))
    ncol = nz + P * nz
    a, lo, hi = rows.matrix(ncol)
    col_hi = np.concatenate([np.ones(nz), np.full(P * nz, np.inf)])
    return cost, a, lo, hi, np.zeros(ncol), col_hi, (pi, pj)


#: From this many nodes on the LP is solved by column generation: below it the whole LP is
#: faster, above it column generation is (timings in docs/benchmarks.md, "Hub location").
COLUMN_GENERATION_FROM = 45


def _lp_by_columns(inst: HubInstance, model, hubs: np.ndarray, log: bool = False):
    """The LP relaxation of the path model by column generation: start with every z and the
    x[ij, k, m] whose hubs k, m are near the heuristic's ``hubs`` (each and its 3 nearest
    nodes), then add every x of negative reduced cost until none is left. That proves the
    restricted optimum optimal for the whole LP. Returns (x over all columns, objective)."""
    from parcelnet.plan._highs import lp_model, quiet_highs
    cost, a, lo, hi, clo, chi, (pi, pj) = model
    a = sparse.csc_matrix(a)
    n = inst.n
    nz, P = n * n, len(pi)
    cand = np.zeros(n, bool)
    cand[np.argsort(inst.cost[hubs], axis=1)[:, :4].ravel()] = True
    k_all = np.tile(np.repeat(np.arange(n), n), P)
    m_all = np.tile(np.arange(n), n * P)
    base1 = n + n * (n - 1) + 1                      # first linking row (see _single_model)
    pair = np.repeat(np.arange(P), nz)
    r1, r2 = base1 + pair * n + k_all, base1 + P * n + pair * n + m_all
    del pair
    have = np.concatenate([np.ones(nz, bool), cand[k_all] & cand[m_all]])
    cols = np.flatnonzero(have)
    h = quiet_highs(_OPTIONS, log)
    h.passModel(lp_model(cost[cols], a[:, cols], lo, hi, clo[cols], chi[cols]))
    xc = cost[nz:]
    while True:
        h.run()
        if h.modelStatusToString(h.getModelStatus()).lower() != "optimal":
            raise ValidationError(f"{inst.name}: no feasible hub location (restricted LP: "
                                  f"{h.modelStatusToString(h.getModelStatus())})")
        y = np.asarray(h.getSolution().row_dual)
        obj = h.getInfo().objective_function_value
        rc = xc - y[r1] - y[r2]
        add = np.flatnonzero((rc < -1e-7 * max(1.0, abs(obj) / 1e6)) & ~have[nz:])
        if not len(add):
            break
        if len(add) > 200_000:                       # the most negative first
            add = np.sort(add[np.argsort(rc[add])[:200_000]])
        new = nz + add
        block = a[:, new]
        h.addCols(len(new), cost[new], clo[new], chi[new], block.nnz,
                  block.indptr[:-1].astype(np.int32), block.indices.astype(np.int32), block.data)
        have[new] = True
        cols = np.concatenate([cols, new])
    x = np.zeros(len(cost))
    x[cols] = np.asarray(h.getSolution().col_value)
    return x, float(obj)


def _single_start(inst: HubInstance, a: np.ndarray, pairs) -> np.ndarray:
    """Column values of the model for allocation ``a``."""
    n = inst.n
    pi, pj = pairs
    z = np.zeros((n, n))
    z[np.arange(n), a] = 1
    x = np.zeros((len(pi), n * n))
    x[np.arange(len(pi)), a[pi] * n + a[pj]] = 1
    return np.concatenate([z.ravel(), x.ravel()])


#: Largest exact single-allocation model built (columns): n = 50 has 3.06 M and solves in about
#: two minutes (docs/benchmarks.md); n = 60 would have 6.4 M.
MAX_COLUMNS = 4_500_000

#: HiGHS options for this model: its presolve costs more than it saves here, and dual simplex
#: beats the interior point on its LP (timings in docs/benchmarks.md, "Hub location").
_OPTIONS = {"presolve": "off", "solver": "simplex"}


def solve_single(inst: HubInstance, p: int | None = None, capacitated: bool = False,
                 time_limit: float | None = None, start: bool = True, log: bool = False,
                 progress: Progress | None = None) -> HubSolution:
    """Exact single allocation (p-hub median, or the capacitated problem with fixed costs and,
    when ``p`` is given, exactly p hubs).

    The LP relaxation of the path formulation is solved first; on the AP data it is integral
    as a rule, and then its optimum is the MIP's (the bound is the LP's). Otherwise the MIP is
    solved, from the heuristic's solution. With ``time_limit`` (seconds, for the MIP) the best
    solution found and the proven bound are returned when the limit stops the search.
    ``progress`` hears the stages "LP relaxation" and, when needed, "branch and bound"
    (HiGHS reports no progress within them)."""
    progress = or_none(progress)
    inst.check()
    if capacitated:
        if inst.fixed is None or inst.capacity is None:
            raise ParameterError(f"{inst.name}: the capacitated problem needs a fixed cost and "
                                 "a capacity per node")
        p = None if p is None else _check_p(inst, p)
    else:
        p = _check_p(inst, p)
    n = inst.n
    columns = n * n + n * n * n * (n - 1) // 2
    if columns > MAX_COLUMNS:
        raise ParameterError(f"{inst.name}: n = {n} needs {columns:,} columns in the exact model, "
                             f"more than the {MAX_COLUMNS:,} solved here in minutes (n <= 55); "
                             "use the local search with its Lagrangian bound")
    t0 = time.perf_counter()
    cost, a, lo, hi, clo, chi, pairs = _single_model(inst, p, capacitated)
    integer = np.zeros(len(cost), bool)
    integer[:n * n] = True
    method = "HiGHS, path formulation: LP relaxation integral"
    progress.start("LP relaxation")
    if n >= COLUMN_GENERATION_FROM and not capacitated:
        heur = local_search(inst, p)
        x, obj = _lp_by_columns(inst, (cost, a, lo, hi, clo, chi, pairs),
                                np.asarray(heur.hubs) - 1, log)
        lp = MipResult(x, obj, obj, "optimal", 0.0)
        method += " (column generation)"
    else:
        lp = solve_mip(cost, a, lo, hi, clo, chi, np.zeros(len(cost), bool), log=log, options=_OPTIONS)
    if lp.status != "optimal":
        raise ValidationError(f"{inst.name}: no feasible hub location (LP relaxation: {lp.status})")
    z = lp.x[:n * n].reshape(n, n)
    res = lp
    if np.abs(z - np.round(z)).max() > 1e-6:
        x0 = None
        if start and not capacitated:
            x0 = _single_start(inst, np.asarray(local_search(inst, p).allocation) - 1, pairs)
        progress.start("branch and bound")
        res = solve_mip(cost, a, lo, hi, clo, chi, integer, time_limit, x0, log=log, options=_OPTIONS)
        method = "HiGHS, path formulation: branch and bound"
        if not len(res.x):
            raise ValidationError(f"{inst.name}: no feasible hub location ({res.status})")
        z = res.x[:n * n].reshape(n, n)
    progress.finish()
    alloc = z.argmax(axis=1)
    obj = single_cost(inst, alloc)
    return _single_solution(inst, alloc, obj, min(res.bound, obj), res.status,
                            time.perf_counter() - t0, method,
                            {"problem": "capacitated single allocation" if capacitated
                             else "single allocation p-hub median"})


# -- multiple allocation MIP -----------------------------------------------------------------------
def solve_multiple(inst: HubInstance, p: int | None = None, time_limit: float | None = None,
                   log: bool = False, progress: Progress | None = None) -> HubSolution:
    """Exact multiple-allocation p-hub median. The formulation lets flow pass any number of
    hubs, so it is exact when no detour is cheaper than a direct leg: the costs must satisfy
    the triangle inequality (distances do); otherwise this raises a ParameterError.
    ``progress`` hears the stage "branch and bound"."""
    inst.check()
    p = _check_p(inst, p)
    c = inst.cost
    detour = (c[:, :, None] + c[None, :, :]).min(axis=1) - c        # best i->k->j minus i->j
    if detour.min() < -1e-6 * max(1.0, c.max()):          # rounding in the data is fine
        i, j = np.unravel_index(int(detour.argmin()), detour.shape)
        raise ParameterError(f"{inst.name}: multiple allocation needs costs that satisfy the "
                             f"triangle inequality; from node {i + 1} to node {j + 1} a detour "
                             f"is {-detour[i, j]:.6g} cheaper than the direct cost")
    t0 = time.perf_counter()
    n = inst.n
    c, w = inst.cost, inst.flow
    O = w.sum(axis=1)
    nz = n * n
    i3, k3, l3 = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), np.arange(n), indexing="ij"))
    keep = k3 != l3
    yi, yk, yl = i3[keep], k3[keep], l3[keep]
    ny = len(yi)
    # columns: y[k] (n) | Z[i, k] (n^2) | Y[i, k, l] (ny) | X[i, l, j] (n^3)
    cz, cy, cx = n, n + nz, n + nz + ny
    ncol = cx + n ** 3
    # X[i, l, j] is indexed with (i3, k3, l3) = (i, l, j): cost delta * c[l, j]
    cost = np.concatenate([np.zeros(n), inst.chi * c.ravel(), inst.alpha * c[yk, yl],
                           inst.delta * c[k3, l3]])
    rows = Rows()
    block = rows.add
    ii, kk = (x.ravel() for x in np.meshgrid(np.arange(n), np.arange(n), indexing="ij"))
    block(np.zeros(n, np.int64), np.arange(n), np.ones(n), [p], [p])
    # all of i's flow collected: sum_k Z[i, k] = O[i]
    block(ii, cz + ii * n + kk, np.ones(nz), O, O)
    # every pair delivered: sum_l X[i, l, j] = W[i, j]
    block(i3 * n + l3, cx + np.arange(n ** 3), np.ones(n ** 3), w.ravel(), w.ravel())
    # conservation at hub k for origin i: out by transfer and distribution = in by collection and transfer
    block(np.concatenate([yi * n + yk, yi * n + yl, i3 * n + k3, ii * n + kk]),
          np.concatenate([cy + np.arange(ny), cy + np.arange(ny), cx + np.arange(n ** 3), cz + ii * n + kk]),
          np.concatenate([np.ones(ny), -np.ones(ny), np.ones(n ** 3), -np.ones(nz)]),
          np.zeros(nz), np.zeros(nz))
    # only through hubs: Z[i, k] <= O[i] y[k], X[i, l, j] <= W[i, j] y[l]
    block(np.concatenate([np.arange(nz)] * 2), np.concatenate([cz + ii * n + kk, kk]),
          np.concatenate([np.ones(nz), -O[ii]]), np.full(nz, -np.inf), np.zeros(nz))
    m3 = w[i3, l3] > 0
    r3 = np.arange(m3.sum())
    block(np.concatenate([r3, r3]), np.concatenate([cx + np.flatnonzero(m3), k3[m3]]),
          np.concatenate([np.ones(len(r3)), -w[i3, l3][m3]]), np.full(len(r3), -np.inf), np.zeros(len(r3)))
    a, lo, hi = rows.matrix(ncol)
    integer = np.zeros(ncol, bool)
    integer[:n] = True
    col_hi = np.concatenate([np.ones(n), np.full(ncol - n, np.inf)])
    # a start: the heuristic's hubs, every pair on its cheapest hub pair
    start_hubs = np.asarray(local_search(inst, p).hubs) - 1
    or_none(progress).start("branch and bound")
    res = solve_mip(cost, a, lo, hi, np.zeros(ncol), col_hi, integer, time_limit, None, log=log)
    or_none(progress).finish()
    if not len(res.x):
        raise ValidationError(f"{inst.name}: no feasible hub location ({res.status})")
    hubs = np.flatnonzero(res.x[:n] > 0.5)
    obj, first = multiple_cost(inst, hubs)
    if len(start_hubs):
        obj_h, _ = multiple_cost(inst, start_hubs)
        if obj_h < obj:
            hubs, (obj, first) = start_hubs, multiple_cost(inst, start_hubs)
    alloc = [sorted({int(first[i, j]) + 1 for j in range(n) if w[i, j] > 0} or {int(first[i, i]) + 1})
             for i in range(n)]
    return HubSolution(obj, sorted(int(h) + 1 for h in hubs), alloc, res.bound, res.status,
                       time.perf_counter() - t0, "HiGHS MIP (Ernst-Krishnamoorthy 1998 formulation)",
                       {"problem": "multiple allocation p-hub median"})
