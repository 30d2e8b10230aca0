"""Choosing the trips: a greedy drop from every candidate (any size) and an exact MIP (small).

Both solve one of three problems over the candidates of a :class:`ServiceModel`:

- ``budget``: maximise coverage with the daily cost of the chosen trips at most the budget;
- ``target``: reach the coverage target at least cost;
- ``target`` with ``per_origin``: each named origin of the model reaches the target (or, if
  it cannot, the most it reaches with every candidate) at least cost.

Coverage can only grow when a trip is added (waiting is free), so the value with every
candidate on bounds every solution from above; ``Design.upper_bound`` reports it. The greedy
also keeps a province floor (:mod:`.floor`) when given one.
"""

from __future__ import annotations

import heapq
import time
from dataclasses import dataclass
from dataclasses import replace as dc_replace

import numpy as np

from scipy import sparse
from scipy.sparse.csgraph import shortest_path

from parcelnet.errors import ParameterError, SolverError
from parcelnet.plan._highs import Rows, solve_mip
from parcelnet.plan.service import _kernels as K
from parcelnet.plan.service.floor import Floor
from parcelnet.progress import Counter, Progress
from parcelnet.plan.service.model import ServiceModel
from parcelnet.units import DAY

#: The local search per origin stops after this many tries or seconds, whichever comes first.
IMPROVE_TRIES = 2000
IMPROVE_SECONDS = 60.0
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
    #: per named origin of the model: its share (the model's), with every candidate, and
    #: what it was held to (the target, or the most it reaches when that is less)
    origin_values: np.ndarray | None = None
    origin_upper: np.ndarray | None = None
    origin_targets: np.ndarray | None = None
    budget_met: bool = True
    kept_for_target: int = 0       # trips the greedy kept because the target needs them
    kept_for_floor: int = 0        # ... because the province floor needs them


def _check(model: ServiceModel, budget, target, per_origin: bool = False, add_only: bool = False):
    if (budget is None) == (target is None):
        raise ParameterError("give either a budget or a coverage target, not both")
    if budget is not None and not budget >= 0:
        raise ParameterError(f"the budget must be a non-negative cost a day, got {budget}")
    if target is not None and not 0 < target <= 1:
        raise ParameterError(f"the coverage target must be a share in (0, 1], got {target}")
    if per_origin and (target is None or len(model.origins) == 0):
        raise ParameterError("a target per origin needs a coverage target and a model built "
                             "for named origins")
    if add_only and budget is not None and budget < model.cost(model.current) - 1e-9:
        raise ParameterError(f"the budget {budget:,.0f} a day is below the cost of today's trips "
                             f"({model.cost(model.current):,.0f}), which add-only keeps")


def reach(model: ServiceModel, active: np.ndarray) -> np.ndarray:
    """Which gateway reaches which over the active trips (at any time)."""
    c, g = model.cand, len(model.gateways)
    on = np.asarray(active, bool)
    adj = sparse.coo_matrix((np.ones(on.sum()), (c.frm[on], c.to[on])), shape=(g, g)).tocsr()
    return np.isfinite(shortest_path(adj, unweighted=True))


def greedy(model: ServiceModel, budget: float | None = None, target: float | None = None,
           progress: Progress | None = None, keep_connected: bool = True,
           per_origin: bool = False, floor: Floor | None = None,
           improve_tries: int = IMPROVE_TRIES, improve_seconds: float = IMPROVE_SECONDS,
           add_only: bool = False) -> Design:
    """Start from every candidate and drop, one at a time, the trip that loses the least
    coverage per unit of cost saved (losses evaluated exactly, lazily), until the budget is
    met (budget) or no trip can go without falling below the target (target); then spend any
    budget left on the dropped trips that gain most. Reports the stage "choosing trips" (in
    thousandths of the way) to ``progress``. With ``keep_connected`` a cheap skeleton of
    trips (:func:`_skeleton`) always stays, so that no gateway loses a gateway it reaches
    with every candidate (some areas are far from 24 h, but none is cut off).

    With ``per_origin`` the target holds for each named origin of the model instead: a trip
    goes only if every origin stays at or above min(target, its share with every candidate).
    Every trip is then tried once, the dearest first (a trip that costs no coverage now may
    be the way round when a dearer one goes, so it is not dropped first), and a local search
    (:func:`_improve`: at most ``improve_tries`` tries and ``improve_seconds``; the stage
    "improving the design") adds one trip back and drops again while that makes the design
    cheaper.

    With ``add_only`` every trip of today's network stays (the model's ``current``) and only
    new trips are chosen: no promise of any order from anywhere lengthens.

    With a ``floor`` a trip goes only if every limited province keeps half its weight within
    its limit. Dropping trips never raises a share or shortens a promise, so a trip that
    cannot go now can never go later: it is kept for good.

    A greedy run from every candidate can end worse than today's trips (the model's
    ``current``) when a target or the floor stops it: then it is run again from today's trips
    (the skeleton then keeps what they connect), and the better design is kept (more
    coverage within the budget, the budget met rather than not, or the target at less
    cost)."""
    _check(model, budget, target, per_origin, add_only)
    t0 = time.perf_counter()
    args = (model, budget, target, progress, keep_connected, per_origin, floor, add_only)
    design = _greedy(*args)
    cur = model.current
    if _worth_starting_from(model, design, cur, budget, target, per_origin):
        alt = _greedy(*args, start=cur)
        if budget is not None:
            take = ((alt.budget_met, alt.value if alt.budget_met else -alt.cost) >
                    (design.budget_met, design.value + 1e-12 if design.budget_met else -design.cost))
        else:
            take = alt.cost < design.cost - 1e-9
        design = dc_replace(alt, method="greedy (from today's trips)") if take else design
    if per_origin and improve_tries > 0 and improve_seconds > 0:
        design = _improve(args, design, improve_tries, improve_seconds)
    return dc_replace(design, seconds=time.perf_counter() - t0)


def _improve(args, design: Design, tries: int, seconds: float) -> Design:
    """Local search on a design for targets per origin: add one dropped trip, then drop what
    can go, dearest first (:func:`_greedy` from there, never dropping the trip added); keep
    the result when it costs less. The trips tried are those that bring some search's
    parcels to a gateway earlier, the cheapest first, each once, until none helps, ``tries``
    are made or ``seconds`` run out (only then does the result depend on the machine's
    speed). Every step stays feasible: the drop pass only drops what the targets and the
    floor allow."""
    model, progress = args[0], args[3]
    args = args[:3] + (None,) + args[4:]
    c = model.cand
    proc = model.fixed.timetable.process[model.gateways]
    t0 = time.perf_counter()
    end = t0 + seconds
    clock = Counter(progress, "improving the design", int(np.ceil(seconds)))
    tried = np.zeros(len(c), bool)
    better = True
    while better and time.perf_counter() < end and tried.sum() < tries:
        better = False
        _, arr, _ = model.searches(design.active)
        off = np.flatnonzero(~design.active & ~tried)
        sooner = np.zeros(len(off), bool)
        for row in arr:
            at = row[c.frm[off]]
            r = at + proc[c.frm[off]]
            sooner |= (at < K.INF) & (r + (c.dep[off] - r) % DAY + c.dur[off] < row[c.to[off]])
        for k in off[sooner][np.argsort(c.cost[off[sooner]], kind="stable")]:
            if time.perf_counter() >= end or tried.sum() >= tries:
                break
            tried[k] = True
            start = design.active.copy()
            start[k] = True
            alt = _greedy(*args, start=start, keep=int(k))
            clock(min(time.perf_counter() - t0, seconds))
            if alt.cost < design.cost - 1e-9:
                design, better = dc_replace(alt, method=design.method), True
                break
    clock(int(np.ceil(seconds)))
    clock.finish()
    return design


def _worth_starting_from(model: ServiceModel, design: Design, start, budget, target,
                         per_origin) -> bool:
    """Whether ``start`` (a choice of trips) beats ``design`` outright or is a feasible start
    that costs less."""
    cost = model.cost(start)
    if budget is not None:
        if not design.budget_met:
            return True
        return cost <= budget + 1e-9 and model.value(start) > design.value + 1e-12
    if cost >= design.cost - 1e-9:
        return False
    if per_origin:
        return bool((model.origin_values(start) >= design.origin_targets - 1e-12).all())
    return model.value(start) >= target - 1e-12


def _greedy(model: ServiceModel, budget, target, progress, keep_connected, per_origin,
            floor: Floor | None, add_only: bool = False, start: np.ndarray | None = None,
            keep: int = -1) -> Design:
    """The greedy drop of :func:`greedy` from ``start`` (default every candidate), never
    dropping trip ``keep`` (nor, with ``add_only``, today's trips)."""
    t0 = time.perf_counter()
    c, kk = model.cand, model.keys
    n = len(c)
    active = np.ones(n, bool)
    src = np.zeros(len(kk["hour"]))                 # each source's covered share
    scratch = np.zeros(len(kk["hour"]))
    val, arr, pred = model.searches(active, src_out=src)
    upper = model.fixed_value + float(val.sum())
    origin_upper = model.origin_shares(src) if len(model.origins) else None
    if start is not None:
        active = np.asarray(start, bool).copy()
        val, arr, pred = model.searches(active, src_out=src)
    total = model.fixed_value + float(val.sum())
    goals = shares = None
    if per_origin:
        goals = np.minimum(target, origin_upper)
        shares = model.origin_shares(src)
    elif target is not None and upper < target - 1e-12:
        raise ParameterError(f"the coverage target {target:.4f} is out of reach: with every "
                             f"candidate trip the coverage is {upper:.4f}")
    within = key_within = None
    if floor is not None:
        key_within = floor.key_within(model, np.arange(len(kk["src"])), arr)
        within = floor.fixed + key_within.sum(axis=0)
        if not floor.holds(within):
            raise SolverError("the province floor fails with every candidate trip, or with "
                              "today's, which it is measured on; please report this as a bug")
    tree = [set(p[p >= 0].tolist()) for p in pred]      # candidates each search uses
    users = [set() for _ in range(n)]
    for q, s in enumerate(tree):
        for j in s:
            users[j].add(q)
    pinned = np.zeros(n, bool)          # the skeleton that keeps every area connected
    if keep_connected:
        pinned[_skeleton(model, np.array([len(u) for u in users]), active)] = True
        least = float(c.cost[pinned].sum())
        if budget is not None and budget < least:
            raise ParameterError(f"the budget {budget:,.0f} a day is too small to keep every area "
                                 f"connected: the trips that do so cost {least:,.0f}")
    if keep >= 0:
        pinned[keep] = True
    if add_only:
        pinned |= c.existing
    cost = float(c.cost[active].sum())
    dropped: list[int] = []
    kept = {"target": 0, "floor": 0}
    share = Counter(progress, "choosing trips", 1000)

    def drop(js):
        nonlocal cost
        for j in js:
            if active[j] and not pinned[j]:
                active[j] = False
                cost -= float(c.cost[j])
                dropped.append(int(j))

    def rows_of(keys) -> np.ndarray:
        if not len(keys):
            return np.zeros(0, np.int64)
        return np.concatenate([np.arange(kk["s_ptr"][q], kk["s_ptr"][q + 1]) for q in keys])

    def loss(j) -> tuple[float, np.ndarray, tuple, np.ndarray, np.ndarray | None]:
        """The coverage lost without trip j (and, per origin, each origin's share lost)."""
        keys = np.fromiter(users[j], np.int64, len(users[j]))
        active[j] = False
        v, a, p = model.searches(active, keys, src_out=scratch)
        active[j] = True
        rows = rows_of(keys)
        lost = None
        if per_origin:
            o = kk["origin"][rows]
            lost = np.bincount(o[o >= 0], weights=(src[rows] - scratch[rows])[o >= 0],
                               minlength=len(model.origins))
        return float(val[keys].sum() - v.sum()), keys, (v, a, p), rows, lost

    def ratio(lo: float, lost, j: int) -> float:
        return lo / c.cost[j] if c.cost[j] > 0 else (0.0 if lo <= 0 else np.inf)

    def try_drop(j, lo, keys, vap, rows, lost) -> bool:
        """Drop trip j if the target (per origin) and the floor allow it, and update the
        searches; otherwise count why it stays."""
        nonlocal cost, total, shares, within
        v, a, p = vap
        if target is not None and not per_origin and total - lo < target - 1e-12:
            kept["target"] += 1
            return False                          # needed for the target: keep it for good
        if per_origin and (shares - lost < goals - 1e-12).any():
            kept["target"] += 1
            return False
        if floor is not None:
            new_within = floor.key_within(model, keys, a)
            after = within - key_within[keys].sum(axis=0) + new_within.sum(axis=0)
            if not floor.holds(after):
                kept["floor"] += 1
                return False                      # needed for the floor: keep it for good
            within, key_within[keys] = after, new_within
        if per_origin:
            shares = shares - lost
        src[rows] = scratch[rows]
        active[j] = False
        cost -= float(c.cost[j])
        total -= lo
        dropped.append(j)
        unused = []
        for q, vq, pq in zip(keys, v, p):
            val[q] = vq
            new = set(pq[pq >= 0].tolist())
            for x in tree[q] - new:
                users[x].discard(q)
                if not users[x]:
                    unused.append(x)
            for x in new - tree[q]:
                users[x].add(q)
            tree[q] = new
        if not per_origin:
            drop(sorted(unused))
        return True

    heap = []
    if not per_origin:
        drop(np.flatnonzero([not u for u in users]))
        if not (budget is not None and cost <= budget + 1e-9):
            todo = np.flatnonzero(active & ~pinned)
            seen = Counter(progress, "the loss of each trip", len(todo))
            for i, j in enumerate(todo):
                lo, _, _, _, lost = loss(j)
                heap.append((ratio(lo, lost, j), int(j)))
                if i % 64 == 63:
                    seen(i + 1)
            seen(len(todo))
            seen.finish()
    heapq.heapify(heap)
    steps, n_heap, cost_all = 0, len(heap), cost
    while heap and not (budget is not None and cost <= budget + 1e-9):
        _, j = heapq.heappop(heap)
        if not active[j]:
            continue
        lo, keys, vap, rows, lost = loss(j)
        r = ratio(lo, lost, j)
        if heap and r > heap[0][0] + 1e-15:
            heapq.heappush(heap, (r, j))          # stale: its loss grew; try the next
            continue
        if not try_drop(j, lo, keys, vap, rows, lost):
            continue
        steps += 1
        if steps % 50 == 0:
            done = ((cost_all - cost) / max(cost_all - budget, 1e-9) if budget is not None
                    else 1 - len(heap) / max(n_heap, 1))
            share(min(int(1000 * done), 1000))
    if per_origin:     # every trip that can go, the dearest first (see greedy)
        for j in np.flatnonzero(active & ~pinned)[np.argsort(-c.cost[active & ~pinned], kind="stable")]:
            if active[j]:
                try_drop(j, *loss(j))
    share(1000)
    share.finish()
    budget_met = budget is None or cost <= budget + 1e-9
    if budget is not None:
        total = _fill(model, active, budget, dropped[::-1], total)
    total = model.value(active)
    return Design(active, total, model.cost(active), upper, "greedy",
                  time.perf_counter() - t0, budget, target,
                  origin_values=model.origin_values(active) if len(model.origins) else None,
                  origin_upper=origin_upper, origin_targets=goals, budget_met=budget_met,
                  kept_for_target=kept["target"], kept_for_floor=kept["floor"])


def _skeleton(model: ServiceModel, use: np.ndarray, among: np.ndarray | None = None) -> np.ndarray:
    """Cheap trips that keep every gateway reaching every gateway it reaches with all the
    candidates (or all of ``among``): lanes deleted most expensive first while reach holds
    (reverse delete), then on each gateway pair left its cheapest trip (the most used, then
    the network's own, on a tie)."""
    c, g = model.cand, len(model.gateways)
    key = np.where(np.ones(len(c), bool) if among is None else among, c.frm * g + c.to, g * g)
    # candidates by lane, cheapest first (then the most used, then the network's own)
    order = np.lexsort((np.arange(len(c)), ~c.existing, -use, c.cost, key))
    first = np.r_[True, key[order][1:] != key[order][:-1]]
    best = order[first]                              # one per lane, lanes ascending
    best = best[key[best] < g * g]
    lanes = key[best]
    keep = K.reverse_delete(np.argsort(-c.cost[best], kind="stable").astype(np.int64),
                            lanes // g, lanes % g, g)
    return np.sort(best[keep]).astype(np.int64)


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
          time_limit: float | None = None, keep_connected: bool = True,
          per_origin: bool = False, add_only: bool = False) -> Design:
    """The same problem as a MIP over chains of trips, solved by HiGHS (small networks).

    x_j (run trip j) binary; z_c <= x_j for every trip j of chain c; for each source and
    destination station block with latest arrival L, y <= sum of z_c over the chains that
    arrive by L; coverage = fixed + sum of weight x population x y. With ``per_origin``, one
    such sum per named origin (population x y over its sources) must reach min(target, its
    share with every candidate). With ``keep_connected``, a solution that cuts a gateway off
    gets a cut (some trip out of the set of gateways it still reaches must run) and the MIP
    is solved again, until none is cut off. With ``add_only`` today's trips are fixed at 1.
    (The province floor is the greedy's.)"""
    _check(model, budget, target, per_origin, add_only)
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
    y_w, y_pop, y_origin = [], [], []
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
                    y_pop.append(pop)
                    y_origin.append(int(k["origin"][i]))
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
    elif per_origin:
        obj[:n] = c.cost
        y_pop, y_origin = np.asarray(y_pop), np.asarray(y_origin, np.int64)
        src = np.zeros(len(k["hour"]))
        model.searches(np.ones(n, bool), src_out=src)
        goals = np.minimum(target, model.origin_shares(src))
        for o in range(len(model.origins)):
            mine = np.flatnonzero(y_origin == o)
            rows.add(np.zeros(len(mine)), n + nz + mine, y_pop[mine],
                     [goals[o] - model.fixed_by_origin[o] - 1e-12], [np.inf])
    else:
        obj[:n] = c.cost
        rows.add(np.zeros(len(y_w)), np.arange(n + nz, n_col), y_w,
                 [target - model.fixed_value - 1e-12], [np.inf])
    integer = np.zeros(n_col, bool)
    integer[:n] = True
    lower = np.zeros(n_col)
    if add_only:
        lower[:n][c.existing] = 1.0
    reach_all = reach(model, np.ones(n, bool))
    while True:
        a, lo, hi = rows.matrix(n_col)
        res = solve_mip(obj, a, lo, hi, lower, np.ones(n_col), integer,
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
    named = len(model.origins) > 0
    return Design(active, model.value(active), model.cost(active), upper,
                  f"exact ({res.status})", time.perf_counter() - t0, budget, target,
                  origin_values=model.origin_values(active) if named else None,
                  origin_upper=model.origin_values(np.ones(n, bool)) if named else None,
                  origin_targets=goals if per_origin else None)
