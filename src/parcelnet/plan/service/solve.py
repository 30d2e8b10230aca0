"""Choosing the trips: a greedy drop from every candidate (any size) and an exact MIP (small).

Both solve one of two problems over the candidates of a :class:`ServiceModel`:

- ``budget``: maximise coverage with the daily cost of the chosen trips at most the budget;
- ``target``: reach the coverage target at least cost.

Coverage can only grow when a trip is added (waiting is free), so the value with every
candidate on bounds every solution from above; ``Design.upper_bound`` reports it.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass

import numpy as np

from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from parcelnet.errors import ParameterError
from parcelnet.plan._highs import Rows, solve_mip
from parcelnet.progress import Counter, Progress
from parcelnet.plan.service.model import ServiceModel
from parcelnet.units import DAY

#: chains the exact model may enumerate before it refuses (it is for small networks)
MAX_CHAINS = 200_000


@dataclass(frozen=True)
class Design:
    active: np.ndarray       # chosen candidates
    value: float             # coverage (the model's objective)
    cost: float
    upper_bound: float       # coverage with every candidate: no choice does better
    method: str
    seconds: float
    budget: float | None = None
    target: float | None = None


def _check(model: ServiceModel, budget, target):
    if (budget is None) == (target is None):
        raise ParameterError("give either a budget or a coverage target, not both")
    if budget is not None and not budget >= 0:
        raise ParameterError(f"the budget must be a non-negative cost a day, got {budget}")
    if target is not None and not 0 < target <= 1:
        raise ParameterError(f"the coverage target must be a share in (0, 1], got {target}")


def reach(model: ServiceModel, active: np.ndarray) -> np.ndarray:
    """Which gateway reaches which over the active trips (at any time)."""
    c, g = model.cand, len(model.gateways)
    on = np.asarray(active, bool)
    adj = sparse.coo_matrix((np.ones(on.sum()), (c.frm[on], c.to[on])), shape=(g, g)).tocsr()
    return np.isfinite(shortest_path(adj, unweighted=True))


def greedy(model: ServiceModel, budget: float | None = None, target: float | None = None,
           progress: Progress | None = None, keep_connected: bool = True) -> Design:
    """Start from every candidate and drop, one at a time, the trip that loses the least
    coverage per unit of cost saved (losses evaluated exactly, lazily), until the budget is
    met (budget) or no trip can go without falling below the target (target); then spend any
    budget left on the dropped trips that gain most. Reports the stage "choosing trips"
    (in thousandths of the way) to ``progress``. With ``keep_connected`` a cheap skeleton of trips (:func:`_skeleton`) always
    stays, so that no gateway loses a gateway it reaches with every candidate (some areas
    are far from 24 h, but none is cut off)."""
    _check(model, budget, target)
    t0 = time.perf_counter()
    c = model.cand
    n = len(c)
    active = np.ones(n, bool)
    val, arr, pred = model.searches(active)
    upper = model.fixed_value + float(val.sum())
    if target is not None and upper < target - 1e-12:
        raise ParameterError(f"the coverage target {target:.4f} is out of reach: with every "
                             f"candidate trip the coverage is {upper:.4f}")
    tree = [set(p[p >= 0].tolist()) for p in pred]      # candidates each search uses
    users = [set() for _ in range(n)]
    for q, s in enumerate(tree):
        for j in s:
            users[j].add(q)
    pinned = np.zeros(n, bool)          # the skeleton that keeps every area connected
    if keep_connected:
        pinned[_skeleton(model, np.array([len(u) for u in users]))] = True
        floor = float(c.cost[pinned].sum())
        if budget is not None and budget < floor:
            raise ParameterError(f"the budget {budget:,.0f} a day is too small to keep every area "
                                 f"connected: the trips that do so cost {floor:,.0f}")
    total = upper
    cost = float(c.cost.sum())
    dropped: list[int] = []
    share = Counter(progress, "choosing trips", 1000)

    def drop_unused():
        nonlocal cost
        for j in np.flatnonzero(active & ~pinned & np.array([not u for u in users])):
            active[j] = False
            cost -= float(c.cost[j])
            dropped.append(int(j))

    def loss(j) -> tuple[float, np.ndarray, tuple]:
        keys = np.fromiter(users[j], np.int64, len(users[j]))
        active[j] = False
        v, a, p = model.searches(active, keys)
        active[j] = True
        return float(val[keys].sum() - v.sum()), keys, (v, a, p)

    def ratio(lo: float, j: int) -> float:
        return lo / c.cost[j] if c.cost[j] > 0 else (0.0 if lo <= 0 else np.inf)

    drop_unused()
    heap = []
    for j in np.flatnonzero(active & ~pinned):
        heap.append((ratio(loss(j)[0], j), int(j)))
    heapq.heapify(heap)
    steps, n_heap, cost_all = 0, len(heap), cost
    while heap and not (budget is not None and cost <= budget + 1e-9):
        _, j = heapq.heappop(heap)
        if not active[j]:
            continue
        lo, keys, (v, a, p) = loss(j)
        r = ratio(lo, j)
        if heap and r > heap[0][0] + 1e-15:
            heapq.heappush(heap, (r, j))          # stale: its loss grew; try the next
            continue
        if target is not None and total - lo < target - 1e-12:
            continue                              # needed for the target: keep it for good
        active[j] = False
        cost -= float(c.cost[j])
        total -= lo
        dropped.append(j)
        for q, vq, aq, pq in zip(keys, v, a, p):
            val[q] = vq
            new = set(pq[pq >= 0].tolist())
            for x in tree[q] - new:
                users[x].discard(q)
            for x in new - tree[q]:
                users[x].add(q)
            tree[q] = new
        drop_unused()
        steps += 1
        if steps % 50 == 0:
            done = ((cost_all - cost) / max(cost_all - budget, 1e-9) if budget is not None
                    else 1 - len(heap) / max(n_heap, 1))
            share(min(int(1000 * done), 1000))
    share(1000)
    share.finish()
    if budget is not None:
        total = _fill(model, active, budget, dropped[::-1], total)
    total = model.value(active)
    return Design(active, total, model.cost(active), upper, "greedy",
                  time.perf_counter() - t0, budget, target)


def _skeleton(model: ServiceModel, use: np.ndarray) -> np.ndarray:
    """Cheap trips that keep every gateway reaching every gateway it reaches with all the
    candidates: lanes deleted most expensive first while reach holds (reverse delete), then
    on each gateway pair left its cheapest trip (the most used, then the network's own, on a
    tie)."""
    c, g = model.cand, len(model.gateways)
    key = c.frm * g + c.to
    lanes = np.unique(key)
    lane_cost = np.array([c.cost[key == k].min() for k in lanes])
    keep = np.ones(len(lanes), bool)
    full = reach(model, np.ones(len(c), bool))
    for i in np.argsort(-lane_cost, kind="stable"):
        keep[i] = False
        if (full & ~reach(model, np.isin(key, lanes[keep]))).any():
            keep[i] = True
    out = []
    for k in lanes[keep]:
        js = np.flatnonzero(key == k)
        out.append(js[np.lexsort((~c.existing[js], -use[js], c.cost[js]))[0]])
    return np.array(out, np.int64)


def _fill(model: ServiceModel, active, budget, order, total, tries: int = 300) -> float:
    """Add back dropped trips, last dropped first, while they fit the budget and gain."""
    c = model.cand
    cost = model.cost(active)
    for j in order[:tries]:
        if cost + c.cost[j] > budget + 1e-9:
            continue
        active[j] = True
        v = model.value(active)
        if v > total + 1e-12:
            total, cost = v, cost + float(c.cost[j])
        else:
            active[j] = False
    return total


# -- exact, for small networks -----------------------------------------------------------------
def _chains(model: ServiceModel):
    """Every simple chain of candidate trips from each search key: (key, gateway, arrival,
    trips). A chain takes each trip's first instance after the parcel is ready; later
    instances and chains through a gateway twice arrive no earlier."""
    c = model.cand
    k = model.keys
    proc = model.fixed.timetable.process[model.gateways]
    out_of = [np.flatnonzero(c.frm == g) for g in range(len(model.gateways))]
    found = []
    for q in range(len(k["src"])):
        def walk(g, arrival, trips, on_path):
            ready = arrival + int(proc[g])
            for j in out_of[g]:
                v = int(c.to[j])
                if v in on_path:
                    continue
                a = ready + (int(c.dep[j]) - ready) % DAY + int(c.dur[j])
                chain = trips + (int(j),)
                found.append((q, v, a, chain))
                if len(found) > MAX_CHAINS:
                    raise ParameterError(f"the exact model has more than {MAX_CHAINS:,} chains of "
                                         "trips: use the greedy method for a network this size")
                walk(v, a, chain, on_path | {v})
        walk(int(k["src"][q]), int(k["arrival"][q]), (), {int(k["src"][q])})
    return found


def exact(model: ServiceModel, budget: float | None = None, target: float | None = None,
          time_limit: float | None = None, keep_connected: bool = True) -> Design:
    """The same problem as a MIP over chains of trips, solved by HiGHS (small networks).

    x_j (run trip j) binary; z_c <= x_j for every trip j of chain c; for each source and
    destination station block with latest arrival L, y <= sum of z_c over the chains that
    arrive by L; coverage = fixed + sum of weight x population x y. With ``keep_connected``,
    a solution that cuts a gateway off gets a cut (some trip out of the set of gateways it
    still reaches must run) and the MIP is solved again, until none is cut off."""
    _check(model, budget, target)
    t0 = time.perf_counter()
    c, k = model.cand, model.keys
    n = len(c)
    chains = _chains(model)
    nz = len(chains)
    by_qg: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for i, (q, g, a, _) in enumerate(chains):
        by_qg.setdefault((q, g), []).append((a, n + i))
    rows = Rows()
    # z_c - x_j <= 0
    r, cc, vv = [], [], []
    m = 0
    for i, (_, _, _, trips) in enumerate(chains):
        for j in trips:
            r += [m, m]
            cc += [n + i, j]
            vv += [1.0, -1.0]
            m += 1
    if m:
        rows.add(r, cc, vv, np.full(m, -np.inf), np.zeros(m))
    # y - sum z <= 0, one y per (source, gateway, station block with equal L)
    y_w = []
    r, cc, vv = [], [], []
    m = 0
    col = n + nz
    for q in range(len(k["src"])):
        src = int(k["src"][q])
        for i in range(k["s_ptr"][q], k["s_ptr"][q + 1]):
            h, w = int(k["hour"][i]), float(k["weight"][i])
            for g in range(len(model.gateways)):
                lst = by_qg.get((q, g))
                lo, hi = model.g_ptr[g], model.g_ptr[g + 1]
                if g == src or not lst or lo == hi:
                    continue
                ls = model.l_sorted[h, lo:hi]
                for L in np.unique(ls):
                    if L < 0:
                        continue
                    a_pos = lo + int(np.searchsorted(ls, L, "left"))
                    b_pos = lo + int(np.searchsorted(ls, L, "right"))
                    pop = float(model.suffix[h, a_pos] - model.suffix[h, b_pos])
                    zs = [z for a, z in lst if a <= L]
                    if not zs or pop <= 0:
                        continue
                    r += [m] * (1 + len(zs))
                    cc += [col] + zs
                    vv += [1.0] + [-1.0] * len(zs)
                    y_w.append(w * pop)
                    m += 1
                    col += 1
    if m:
        rows.add(r, cc, vv, np.full(m, -np.inf), np.zeros(m))
    n_col = col
    y_w = np.asarray(y_w)
    obj = np.zeros(n_col)
    if budget is not None:
        obj[n + nz:] = -y_w
        rows.add(np.zeros(n), np.arange(n), c.cost, [-np.inf], [budget])
    else:
        obj[:n] = c.cost
        rows.add(np.zeros(len(y_w)), np.arange(n + nz, n_col), y_w,
                 [target - model.fixed_value - 1e-12], [np.inf])
    integer = np.zeros(n_col, bool)
    integer[:n] = True
    reach_all = reach(model, np.ones(n, bool))
    while True:
        a, lo, hi = rows.matrix(n_col)
        res = solve_mip(obj, a, lo, hi, np.zeros(n_col), np.ones(n_col), integer,
                        time_limit=time_limit)
        if not len(res.x) or not keep_connected:
            break
        got = reach(model, res.x[:n] > 0.5)
        missing = np.argwhere(reach_all & ~got)
        if not len(missing):
            break
        inside = got[missing[0][0]]               # what the first cut-off gateway still reaches
        cross = np.flatnonzero(inside[c.frm] & ~inside[c.to])
        rows.add(np.zeros(len(cross)), cross, np.ones(len(cross)), [1.0], [np.inf])
    if not len(res.x):
        if target is not None:
            raise ParameterError(f"the coverage target {target:.4f} is out of reach with these "
                                 "candidate trips")
        raise ParameterError(f"the exact model found no solution ({res.status})")
    active = res.x[:n] > 0.5
    upper = model.value(np.ones(n, bool))
    return Design(active, model.value(active), model.cost(active), upper,
                  f"exact ({res.status})", time.perf_counter() - t0, budget, target)
