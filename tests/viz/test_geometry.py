"""The shared map geometry: the projection with insets, colour ranges fitted to data, greedy
label placement and the lanes drawn light or bundled."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parcelnet.geo import load_outlines
from parcelnet.viz.geometry import INSETS, MapProjection, fit_range
from parcelnet.viz.labels import CHAR_W, Label, label_candidates, place_labels, short_name
from parcelnet.viz.map_lanes import lane_strokes

# (lon, lat)
ANCHORAGE, ATTU, HONOLULU = (-149.90, 61.22), (173.18, 52.83), (-157.86, 21.31)
CHICAGO, SEATTLE, MIAMI = (-87.65, 41.85), (-122.33, 47.61), (-80.19, 25.77)


def _inside(x, y, box) -> bool:
    x0, x1, y0, y1 = box
    return x0 <= x <= x1 and y0 <= y <= y1


@pytest.fixture(scope="module")
def us():
    outlines = load_outlines("US")  # Natural Earth's Alaska stops at 178 W: Attu widens the inset
    pts = np.array([ANCHORAGE, ATTU, HONOLULU, CHICAGO, SEATTLE, MIAMI])
    return outlines, MapProjection(outlines, "US", pts[:, 0], pts[:, 1])


def test_us_insets_move_alaska_and_hawaii_to_the_lower_left(us) -> None:
    outlines, proj = us
    frames = dict(proj.frames)
    assert set(frames) == {"Alaska", "Hawaii"}
    # the main map is the lower 48: its width is set by Washington..Maine, not by the Aleutians
    main = np.concatenate([r for n, rs in proj.rings(outlines) if n not in frames for r in rs])
    (sx, _), (mx, _) = proj(*SEATTLE), proj(*MIAMI)
    assert main[:, 0].min() > sx - 2 and main[:, 0].max() < mx + 15
    x0, x1, y0, y1 = proj.box
    assert (x1 - x0) / (y1 - y0) > 1.5  # wide like the lower 48, not tall / stretched by Alaska
    for name, pt in (("Alaska", ANCHORAGE), ("Alaska", ATTU), ("Hawaii", HONOLULU)):
        x, y = proj(*pt)
        assert _inside(float(x), float(y), frames[name]), name
        assert proj.frame(*pt) == [i for i, (n, _) in enumerate(proj.frames) if n == name][0]
    for pt in (CHICAGO, SEATTLE, MIAMI):
        x, y = proj(*pt)
        assert proj.frame(*pt) == -1
        assert not any(_inside(float(x), float(y), b) for b in frames.values())
    # the insets sit at the lower left, beside each other, and hold their whole outline
    (ax0, ax1, ay0, ay1), (hx0, hx1, hy0, hy1) = frames["Alaska"], frames["Hawaii"]
    assert ax1 <= hx0 and ax0 < (x0 + x1) / 2 and ay0 < (y0 + y1) / 2
    for name, rings in proj.rings(outlines):
        if name in frames:
            pts = np.concatenate(rings)
            assert all(_inside(px, py, frames[name]) for px, py in pts[::7]), name
    # the outline keeps its shape: Alaska is wider than tall, as on a map
    ak = np.concatenate(dict(proj.rings(outlines))["Alaska"])
    assert np.ptp(ak[:, 0]) > np.ptp(ak[:, 1])


def test_no_insets_elsewhere_or_without_the_outline() -> None:
    cn = load_outlines("CN")
    proj = MapProjection(cn, "CN")
    assert proj.frames == [] and "CN" not in INSETS
    x, y = proj(120.0, 30.0)
    assert float(x) == pytest.approx(120.0 * proj.k) and float(y) == 30.0
    # US code but outlines without Alaska: nothing to inset, places stay where they are
    lower = [(n, rs) for n, rs in load_outlines("US") if n not in ("Alaska", "Hawaii")]
    assert MapProjection(lower, "US").frames == []
    # no outlines at all: the extent of the points
    p = MapProjection([], None, np.array([10.0, 12.0]), np.array([50.0, 51.0]))
    assert p.box[0] < 10 * p.k < 12 * p.k < p.box[1]


@pytest.mark.parametrize("values,expected", [
    ([0.72, 0.84], (0.72, 0.84)),            # 2-point steps: 72%..84%, not 0..100%
    ([0.721, 0.838], (0.72, 0.84)),
    ([0.0, 0.031, 0.052], (0.0, 0.06)),
    ([0.05, 0.95], (0.0, 1.0)),
    ([0.9], (0.9, 0.91)),                   # one value: a band one step wide
    ([1.0, 1.0], (0.99, 1.0)),
    ([np.nan], (0.0, 1.0)),                 # nothing to fit
])
def test_fit_range_follows_the_data(values, expected) -> None:
    lo, hi, ticks = fit_range(values)
    assert (lo, hi) == pytest.approx(expected)
    assert ticks[0] == pytest.approx(lo) and ticks[-1] == pytest.approx(hi)
    assert 2 <= len(ticks) <= 7
    finite = [v for v in values if np.isfinite(v)]
    assert all(lo <= v <= hi for v in finite)


def test_short_name() -> None:
    assert short_name("Xi'an regional hub") == "Xi'an"
    assert short_name("New York City air hub") == "New York City"
    assert short_name("Hangzhou sorting centre") == "Hangzhou"
    assert short_name("hub") == "hub"


def test_greedy_labels_never_overlap_and_skip_what_does_not_fit() -> None:
    rng = np.random.default_rng(3)
    labels = [Label(f"Place number {i}", float(x), float(y), 3.0, "place")
              for i, (x, y) in enumerate(rng.uniform(0, 400, (300, 2)))]
    placed = place_labels(labels, {"place": 10.0}, {-1: (0.0, 400.0, 0.0, 400.0)})
    assert 10 < len(placed) < 300  # crowded: some fit, most are skipped
    boxes = []
    for lb in placed:
        w, h = CHAR_W * 10.0 * len(lb.text), 11.5
        x0 = {"start": lb.at[0], "end": lb.at[0] - w}.get(lb.align, lb.at[0] - w / 2)
        boxes.append((x0, x0 + w, lb.at[1] - h / 2, lb.at[1] + h / 2))
    b = np.array(boxes)
    assert (b[:, 0] >= 0).all() and (b[:, 1] <= 400).all()
    over = ((b[:, None, 0] < b[None, :, 1]) & (b[:, None, 1] > b[None, :, 0])
            & (b[:, None, 2] < b[None, :, 3]) & (b[:, None, 3] > b[None, :, 2]))
    assert over.sum() == len(b)  # each box overlaps itself only
    # no label covers the marker of another candidate
    for i, lb in enumerate(placed):
        for other in labels:
            if other is not lb:
                assert not (b[i, 0] < other.x < b[i, 1] and b[i, 2] < other.y < b[i, 3])
    # in priority order; alone, a label goes right of its marker
    assert placed == [lb for lb in labels if lb.at is not None]
    alone = Label("Solo", 200.0, 200.0, 3.0, "place")
    assert place_labels([alone], {"place": 10.0}, {-1: (0.0, 400.0, 0.0, 400.0)})[0].align == "start"


def test_labels_stay_out_of_avoided_boxes_and_inside_their_frame() -> None:
    main = Label("Mainland", 100.0, 100.0, 2.0, "place")
    inset = Label("Islander", 30.0, 170.0, 2.0, "place", frame=0)
    frames = {-1: (0.0, 200.0, 0.0, 200.0), 0: (0.0, 60.0, 150.0, 200.0)}
    blocked = (102.0, 200.0, 0.0, 200.0)  # everything right of the marker
    placed = place_labels([main, inset], {"place": 10.0}, frames, avoid=[blocked, frames[0]])
    assert main in placed and main.align == "end" and main.at[0] < 100
    assert inset in placed
    x0 = {"start": inset.at[0], "end": inset.at[0] - 48}.get(inset.align, inset.at[0] - 24)
    assert 0 <= x0 and x0 + 48 <= 60 and 150 <= inset.at[1] - 5.75 and inset.at[1] + 5.75 <= 200


def test_label_candidates_order_and_dedup() -> None:
    hubs = pd.DataFrame({"name": ["Beijing air hub", "Tianjin regional hub"], "tier": ["air_hub", "hub"],
                         "lon": [116.4, 117.2], "lat": [39.9, 39.1]})
    places = pd.DataFrame({"name": ["Beijing", "Shanghai", "Tianjin", "Lhasa", "Nowhere"],
                           "population": [21e6, 24e6, 13e6, 0.5e6, 10.0],
                           "lon": [116.4, 121.5, 117.2, 91.1, 100.0], "lat": [39.9, 31.2, 39.1, 29.6, 30.0],
                           "_frame": [-1, -1, -1, -1, 0]})
    got = label_candidates(hubs, places, ("Hangzhou sorting centre", 30.2, 120.2), 2)
    assert [(t, k) for t, k, _, _ in got] == [
        ("Hangzhou sorting centre", "origin"), ("Beijing", "air_hub"), ("Tianjin", "hub"),
        ("Nowhere", "place"), ("Shanghai", "place")]  # an inset's largest place comes first


def _lanes(pairs, pts, tier="linehaul", mode="truck", trips=4):
    return pd.DataFrame({"from_lon": [pts[a][0] for a, _ in pairs], "from_lat": [pts[a][1] for a, _ in pairs],
                         "to_lon": [pts[b][0] for _, b in pairs], "to_lat": [pts[b][1] for _, b in pairs],
                         "tier": tier, "mode": mode, "trips": trips})


def ident(lon, lat):
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def test_lanes_light_bundled_none() -> None:
    pts = {"W": (0.0, 0.0), "M": (1.0, 0.05), "E": (2.0, 0.0), "N": (1.0, 1.5)}
    pairs = [("W", "E"), ("E", "W"), ("W", "M"), ("M", "E"), ("N", "W"), ("N", "E"), ("M", "N")]
    lanes = pd.concat([_lanes(pairs, pts), _lanes([("W", "N")], pts, tier="air", mode="air", trips=2),
                       _lanes([("W", "M")], pts, tier="last_mile", mode="van")], ignore_index=True)
    assert lane_strokes(lanes, ident, "none") == []
    light = {s.key: s for s in lane_strokes(lanes, ident, "light")}
    assert set(light) == {"linehaul", "air"}        # the last-mile lane is not drawn
    assert len(light["linehaul"].seg) == 6          # W-E both ways: one stroke
    assert light["linehaul"].lanes.sum() == 7 and len(set(light["linehaul"].width)) == 1
    assert light["air"].seg.shape == (1, 17, 2)     # an arc
    bundled = {s.key: s for s in lane_strokes(lanes, ident, "bundled")}
    lh = bundled["linehaul"]
    # M lies in the circles on W-E, N-W and N-E: those lanes run through M, on 3 corridors
    by_end = {tuple(sorted(map(tuple, np.round(s, 3)))): (n, t) for s, n, t in zip(lh.seg, lh.lanes, lh.trips)}
    assert by_end == {((0.0, 0.0), (1.0, 0.05)): (4, 16),    # W-M, W-E, E-W, N-W
                      ((1.0, 0.05), (2.0, 0.0)): (4, 16),    # M-E, W-E, E-W, N-E
                      ((1.0, 0.05), (1.0, 1.5)): (3, 12)}    # M-N, N-W, N-E
    # one width scale across kinds: more trips, wider
    w = dict(zip(lh.trips, lh.width))
    assert w[max(w)] > w[min(w)] > bundled["air"].width[0]
    with pytest.raises(ValueError, match="light, bundled, none"):
        lane_strokes(lanes, ident, "heavy")


def test_bundling_degenerate_ends() -> None:
    line = {"a": (0.0, 0.0), "b": (1.0, 0.0), "c": (2.0, 0.0)}  # collinear: Delaunay can't
    st = lane_strokes(_lanes([("a", "c"), ("a", "b")], line), ident, "bundled")[0]
    assert len(st.seg) == 2 and sorted(st.lanes.tolist()) == [1, 2]  # a-c runs through b
    two = lane_strokes(_lanes([("a", "b"), ("b", "a")], line), ident, "bundled")[0]
    assert len(two.seg) == 1 and two.lanes[0] == 2
