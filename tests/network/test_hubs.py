"""p-median heuristic against exhaustive enumeration on small instances."""

from itertools import combinations

import numpy as np
import pytest

from parcelnet.network.hubs import auto_p_median, p_median, weighted_mean_distance


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("p", [1, 2, 3])
def test_matches_enumeration(seed, p):
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 100, (9, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    w = rng.uniform(1, 10, 9)
    best = min(combinations(range(9), p), key=lambda c: (w * dist[:, list(c)].min(axis=1)).sum())
    got = p_median(dist, w, p)
    assert weighted_mean_distance(dist, w, got) == pytest.approx(
        weighted_mean_distance(dist, w, np.array(best)), rel=0.05)  # swap heuristic: near-optimal
    assert len(set(got)) == p


def test_auto_picks_smallest_p_meeting_the_target():
    rng = np.random.default_rng(0)
    xy = rng.uniform(0, 1000, (60, 2))
    dist = np.linalg.norm(xy[:, None] - xy[None], axis=2)
    w = np.ones(60)
    med = auto_p_median(dist, w, 100.0, 1, 40)
    assert weighted_mean_distance(dist, w, med) <= 100.0
    fewer = p_median(dist, w, len(med) - 1)
    assert weighted_mean_distance(dist, w, fewer) > 100.0
