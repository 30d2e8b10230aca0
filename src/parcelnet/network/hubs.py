"""Where the hubs go: population-weighted p-median by greedy addition plus
vertex substitution (Teitz & Bart 1968), on great-circle distances.

Exact hub-location models (p-hub median with HiGHS) come with ``parcelnet
plan``; the builder needs a fast, deterministic, documented heuristic.
"""

from __future__ import annotations

import numpy as np


def p_median(dist: np.ndarray, weight: np.ndarray, p: int, max_rounds: int = 20) -> np.ndarray:
    """Indices of ``p`` medians (sorted) minimising sum_i weight_i * min_j dist_ij.

    ``dist`` is (n, n) demand x candidate. Greedy add, then first-improvement
    swaps until no swap improves (or ``max_rounds``). Deterministic.
    """
    n = dist.shape[1]
    p = max(1, min(p, n))
    chosen: list[int] = []
    best = np.full(dist.shape[0], np.inf)
    for _ in range(p):
        cost = (weight[:, None] * np.minimum(best[:, None], dist)).sum(axis=0)
        cost[chosen] = np.inf
        j = int(np.argmin(cost))
        chosen.append(j)
        best = np.minimum(best, dist[:, j])
    total = float((weight * best).sum())
    for _ in range(max_rounds):
        improved = False
        for pos in range(p):
            others = [c for k, c in enumerate(chosen) if k != pos]
            base = dist[:, others].min(axis=1) if others else np.full(dist.shape[0], np.inf)
            cost = (weight[:, None] * np.minimum(base[:, None], dist)).sum(axis=0)
            cost[others] = np.inf
            j = int(np.argmin(cost))
            if cost[j] < total - 1e-9 and j != chosen[pos]:
                chosen[pos], total, improved = j, float(cost[j]), True
        if not improved:
            break
    return np.array(sorted(chosen), dtype=np.int64)


def weighted_mean_distance(dist: np.ndarray, weight: np.ndarray, medians: np.ndarray) -> float:
    return float((weight * dist[:, medians].min(axis=1)).sum() / weight.sum())


def auto_p_median(dist: np.ndarray, weight: np.ndarray, target_mean: float,
                  lo: int, hi: int) -> np.ndarray:
    """Smallest p in [lo, hi] whose p-median has weighted mean distance <= target
    (bisection on p; the mean distance falls as p grows)."""
    hi = max(lo, min(hi, dist.shape[1]))
    lo = max(1, min(lo, hi))
    best = p_median(dist, weight, hi)
    if weighted_mean_distance(dist, weight, best) > target_mean:
        return best
    while lo < hi:
        mid = (lo + hi) // 2
        med = p_median(dist, weight, mid)
        if weighted_mean_distance(dist, weight, med) <= target_mean:
            hi, best = mid, med
        else:
            lo = mid + 1
    return best if len(best) == hi else p_median(dist, weight, hi)
