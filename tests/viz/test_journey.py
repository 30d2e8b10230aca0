"""Journeys on the clock, from the replayed steps of explain (tiny network: see
tests/promise/test_engine.py for its hand-checked answers)."""

from __future__ import annotations

import matplotlib.image as mpimg

from parcelnet.plan.explain import explain
from parcelnet.viz.journey import journey_segments, write_journeys


def test_segments_tile_the_journey_from_order_to_delivery(tiny):
    e = explain(tiny, "A", "B", 1000)
    segs = journey_segments(e.steps)
    # ready at A 1010; L1 18:00 -> 1140, ready H1 1170; air L3 22:30 -> 1440, ready H2 1470;
    # L4 05:00 -> 1800, ready B 1810; the 08:00 wave (1920) ends 2100
    assert segs[0][:3] == ("sort", 1000, 1010) and segs[-1][:3] == ("wave", 1920, 2100)
    assert all(a[2] == b[1] for a, b in zip(segs, segs[1:]))        # no gap, no overlap
    assert [s[0] for s in segs if s[0] not in ("sort", "wait")] == ["van", "air", "van", "wave"]
    assert sum(s[2] - s[1] for s in segs if s[0] == "wait") == (1080 - 1010) + (1350 - 1170) + (1740 - 1470) + (1920 - 1810)


def test_the_figure_has_a_row_per_order(tiny, tmp_path):
    rows = [("A to B", explain(tiny, "A", "B", 1000).steps),
            ("A to B, a day later", explain(tiny, "A", "B", 1000 + 1440).steps)]
    one = mpimg.imread(write_journeys(rows[:1], "one", tmp_path / "one.png"))
    two = mpimg.imread(write_journeys(rows, "two", tmp_path / "two.png"))
    assert two.shape[0] > one.shape[0] and one.shape[1] == two.shape[1]
