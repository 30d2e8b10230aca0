"""Tests for parcelnet.viz.coverage_map (coverage map PNG + self-contained HTML/SVG): layers,
labels, the lanes option, the fitted province scale and the US insets."""

from __future__ import annotations

import html
import re
import time

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from matplotlib.colors import to_hex

from parcelnet.geo import load_outlines
from parcelnet.network.pnf import load_network
from parcelnet.promise.coverage import coverage
from parcelnet.viz.coverage_map import HOUR_BINS, hour_bin, render_coverage, render_coverage_map
from parcelnet.viz.coverage_layers import SHARE_CMAP, ShareScale
from tests.conftest import FIXTURES


def _square(x0: float, y0: float, size: float) -> np.ndarray:
    return np.array([[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size],
                     [x0, y0]])


@pytest.fixture
def small():
    outlines = [("Alpha", [_square(100.0, 30.0, 2.0)]),
                ("Beta & Co", [_square(102.0, 30.0, 2.0), _square(104.5, 30.5, 0.5)])]
    facilities = pd.DataFrame({
        "facility_id": ["H1", "H2", "A1", "S1"],
        "kind": ["hub", "hub", "hub", "station"],
        "name": ["Alpha Hub", "Beta Hub", "Beta Air Hub", "Alpha Station"],
        "lat": [31.0, 31.0, 30.5, 30.2],
        "lon": [101.0, 103.0, 103.5, 100.5],
        "tier": ["hub", "hub", "air_hub", "station"],
    })
    lanes = pd.DataFrame({
        "from_lat": [31.0, 31.0, 31.0, 30.2], "from_lon": [101.0, 101.0, 103.0, 100.5],
        "to_lat": [31.0, 30.5, 31.0, 31.0], "to_lon": [103.0, 103.5, 101.0, 101.0],
        "mode": ["truck", "air", "rail", "van"],
        "tier": ["linehaul", "air", "linehaul", "first_mile"],
    })
    places = pd.DataFrame({
        "name": ["Alphaville", "Betatown", "Gammaburg", "Nowhere<x>", "Far Away"],
        "lat": [31.0, 31.2, 30.4, 30.6, 31.8],
        "lon": [101.0, 103.0, 102.5, 104.7, 100.3],
        "population": [2_000_000, 500_000, 80_000, 1_000, 30_000],
        "admin1": ["Alpha", "Beta & Co", "Beta & Co", "Beta & Co", "Alpha"],
        "hours": [6.0, 18.5, 30.0, np.nan, 80.0],
    })
    share = {"Alpha": 0.4, "Beta & Co": 0.9}
    return outlines, facilities, lanes, places, share


def test_hour_bin_edges() -> None:
    got = hour_bin(np.array([0, 12, 12.01, 24, 30, 48, 72, 72.5, np.nan]))
    assert got.tolist() == [0, 0, 1, 1, 2, 3, 4, 5, 6]
    assert HOUR_BINS[-1][0] == "unreachable"


def test_render_small(tmp_path, small) -> None:
    outlines, facilities, lanes, places, share = small
    png, page = tmp_path / "a" / "map.png", tmp_path / "b" / "c" / "map.html"
    render_coverage_map(outlines, facilities, lanes, places, ("Alphaville", 31.0, 101.0),
                        "Coverage from Alphaville", png, page, province_share=share)

    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = mpimg.imread(png)
    assert img.ndim == 3 and 1500 <= img.shape[1] <= 1700 and 300 <= img.shape[0] <= 2200
    assert img[..., :3].std() > 0.05  # not a blank canvas

    text = page.read_text(encoding="utf-8")
    assert text.lstrip().lower().startswith("<!doctype html>")
    assert not re.search(r"<(script|link|img)[^>]*(src|href)\s*=\s*[\"']?(https?:)?//", text)
    assert "<svg" in text and "</svg>" in text and "</html>" in text
    titles = re.findall(r"<circle[^>]*><title>(.*?)</title></circle>", text, flags=re.S)
    assert len(titles) == len(places)
    by_name = {t.split(" (")[0]: t for t in titles}
    assert "6.0 h" in by_name["Alphaville"] and "2,000,000" in by_name["Alphaville"]
    assert "18.5 h" in by_name["Betatown"] and "Beta &amp; Co" in by_name["Betatown"]
    assert "unreachable" in by_name["Nowhere&lt;x&gt;"]
    assert "Nowhere<x>" not in text  # names are escaped
    # hubs hoverable by name; the station is not drawn; origin star present
    for hub in ("Alpha Hub", "Beta Hub", "Beta Air Hub"):
        assert f"<title>{hub} (" in text
    assert "Alpha Station" not in text
    assert "origin: Alphaville" in text
    # province table: sorted by share, descending
    rows = re.findall(r"<tr><td data-v=\"([^\"]+)\">.*?([0-9.]+)%</td>", text)
    assert rows == [("Beta &amp; Co", "90.0"), ("Alpha", "40.0")]
    for lab, _ in HOUR_BINS:
        assert html.escape(lab) in text


def test_render_without_share_or_origin(tmp_path, small) -> None:
    outlines, facilities, lanes, places, _ = small
    png, page = tmp_path / "m.png", tmp_path / "m.html"
    render_coverage_map(outlines, facilities, lanes.iloc[:0], places, None, "Average",
                        str(png), str(page))
    text = page.read_text(encoding="utf-8")
    assert png.exists() and "<svg" in text
    assert "<table" not in text and "origin:" not in text


def test_render_large_is_fast(tmp_path) -> None:
    rng = np.random.default_rng(0)
    outlines = []
    for i in range(31):  # provinces as jagged 400-vertex rings over a China-sized box
        cx, cy = 75 + (i % 8) * 7.5, 20 + (i // 8) * 8.5
        ang = np.linspace(0, 2 * np.pi, 400)
        rad = 3.5 + 0.3 * rng.standard_normal(400)
        outlines.append((f"P{i}", [np.c_[cx + rad * np.cos(ang), cy + rad * np.sin(ang)]]))
    n_fac, n_pl, n_lane = 380, 3000, 2000
    fac = pd.DataFrame({
        "facility_id": [f"F{i}" for i in range(n_fac)], "kind": "hub",
        "name": [f"Hub {i}" for i in range(n_fac)],
        "lat": rng.uniform(20, 50, n_fac), "lon": rng.uniform(75, 130, n_fac),
        "tier": rng.choice(["hub", "air_hub", "centre", "station"], n_fac, p=[.6, .1, .2, .1]),
    })
    a, b = rng.integers(0, n_fac, n_lane), rng.integers(0, n_fac, n_lane)
    lanes = pd.DataFrame({
        "from_lat": fac.lat.to_numpy()[a], "from_lon": fac.lon.to_numpy()[a],
        "to_lat": fac.lat.to_numpy()[b], "to_lon": fac.lon.to_numpy()[b],
        "mode": rng.choice(["truck", "air", "rail", "van"], n_lane),
        "tier": rng.choice(["linehaul", "air", "first_mile", "last_mile", "feeder"], n_lane),
    })
    hours = rng.uniform(2, 100, n_pl)
    hours[rng.random(n_pl) < 0.05] = np.nan
    places = pd.DataFrame({
        "name": [f"Place {i}" for i in range(n_pl)],
        "lat": rng.uniform(20, 50, n_pl), "lon": rng.uniform(75, 130, n_pl),
        "population": rng.lognormal(12, 1.2, n_pl).round(),
        "admin1": [f"P{i % 31}" for i in range(n_pl)], "hours": hours,
    })
    share = {f"P{i}": float(rng.random()) for i in range(31)}
    t0 = time.perf_counter()
    render_coverage_map(outlines, fac, lanes, places, ("Place 0", 30.0, 100.0), "Large",
                        tmp_path / "big.png", tmp_path / "big.html", province_share=share)
    elapsed = time.perf_counter() - t0
    assert elapsed < 10.0, elapsed
    text = (tmp_path / "big.html").read_text(encoding="utf-8")
    assert text.count("<circle") == n_pl
    assert len(text) < 3_000_000
    assert mpimg.imread(tmp_path / "big.png").shape[1] >= 1500


def _svg_labels(text: str) -> dict[str, tuple[str, float, float]]:
    """Label text -> (kind, x, y) of the SVG's <text> labels."""
    return {html.unescape(t): (k, float(x), float(y)) for k, x, y, t in re.findall(
        r'<text class="(\w+)" x="([-\d.]+)" y="([-\d.]+)"[^>]*>(.*?)</text>', text)}


def _circles(text: str) -> dict[str, tuple[float, float]]:
    return {html.unescape(t.split(" (")[0]): (float(x), float(y)) for x, y, t in re.findall(
        r'<circle cx="([-\d.]+)" cy="([-\d.]+)"[^>]*><title>(.*?)</title>', text, flags=re.S)}


def test_labels_name_origin_hubs_and_largest_places(tmp_path, small) -> None:
    outlines, facilities, lanes, places, share = small
    args = (outlines, facilities, lanes, places, ("Alphaville", 31.0, 101.0), "Labels")
    render_coverage_map(*args, tmp_path / "a.png", tmp_path / "a.html", share)
    text = (tmp_path / "a.html").read_text(encoding="utf-8")
    got = _svg_labels(text)
    # the origin, the air hub (short name; "Beta Hub" repeats it, so it is said once; "Alpha
    # Hub" sits under the origin's star, which its name would cover), then the places by
    # population, the origin's not again
    assert {k: v[0] for k, v in got.items()} == {
        "Alphaville": "origin", "Beta": "air_hub", "Betatown": "place",
        "Far Away": "place", "Gammaburg": "place", "Nowhere<x>": "place"}
    assert "Nowhere<x>" not in text
    circles = _circles(text)
    for name in ("Betatown", "Far Away", "Gammaburg"):  # each label next to its place
        (lx, ly), (cx, cy) = got[name][1:], circles[name]
        assert abs(ly - cy) < 20 and abs(lx - cx) < 20, name
    # fewer places, or none at all
    render_coverage_map(*args, tmp_path / "b.png", tmp_path / "b.html", share, labels=1)
    assert set(_svg_labels((tmp_path / "b.html").read_text())) == {"Alphaville", "Beta", "Betatown"}
    render_coverage_map(*args, tmp_path / "c.png", tmp_path / "c.html", share, labels=None)
    assert _svg_labels((tmp_path / "c.html").read_text()) == {}
    # the PNG has the names too: it differs from the one without, and only near the places
    with_, without = mpimg.imread(tmp_path / "a.png"), mpimg.imread(tmp_path / "c.png")
    assert with_.shape == without.shape
    assert (np.abs(with_ - without).sum(axis=2) > 0.1).sum() > 500


def test_lanes_option_changes_what_is_drawn(tmp_path, small) -> None:
    outlines, facilities, lanes, places, share = small
    pages, pngs = {}, {}
    for mode in ("light", "bundled", "none"):
        png, page = tmp_path / f"{mode}.png", tmp_path / f"{mode}.html"
        render_coverage_map(outlines, facilities, lanes, places, None, mode, png, page, share,
                            lane_mode=mode)
        pages[mode], pngs[mode] = page.read_text(encoding="utf-8"), mpimg.imread(png)
    groups = {m: re.findall(r'<g class="lanes (\w+)"', t) for m, t in pages.items()}
    assert groups["none"] == [] and "<path d=\"M" in pages["light"]
    assert sorted(groups["light"]) == sorted(groups["bundled"]) == ["air", "linehaul", "rail"]
    # bundled strokes say what they carry (the truck and the rail lane between the same hubs
    # stay apart: kinds are drawn separately)
    assert re.findall(r"<title>(\d+) lanes?, (\d+) trips a day</title>", pages["bundled"]) == [
        ("1", "1")] * 3
    assert "trips a day" not in pages["light"]
    assert "corridors" in pages["bundled"] and "line-haul lane" in pages["light"]
    assert not np.array_equal(pngs["none"], pngs["light"])
    assert not np.array_equal(pngs["light"], pngs["bundled"])
    with pytest.raises(ValueError, match="lane_mode"):
        render_coverage_map(outlines, facilities, lanes, places, None, "x", tmp_path / "x.png",
                            tmp_path / "x.html", lane_mode="thick")


def test_province_scale_is_fitted_to_the_shares(tmp_path, small) -> None:
    outlines, facilities, lanes, places, _ = small
    share = {"Alpha": 0.72, "Beta & Co": 0.84}
    render_coverage_map(outlines, facilities, lanes, places, None, "Shares", tmp_path / "s.png",
                        tmp_path / "s.html", province_share=share)
    text = (tmp_path / "s.html").read_text(encoding="utf-8")
    fills = dict((html.unescape(n), f) for f, n in
                 re.findall(r'<path d="[^"]*" fill="(#[0-9a-f]{6})"><title>([^<:]+): ', text))
    # 72% and 84% are the two ends of the scale, not two near shades of a 0-100% one
    assert fills == {"Alpha": to_hex(SHARE_CMAP(0.0)), "Beta & Co": to_hex(SHARE_CMAP(1.0))}
    assert "72%" in text and "84%" in text and "fitted to the data" in text
    sc = ShareScale({"a": 0.031, "b": 0.052, "c": 0.0})
    assert (sc.vmin, sc.vmax) == (0.0, 0.06) and "0–6%" in sc.caption
    assert sc.colour("a") != sc.colour("b") != sc.colour("c")
    assert ShareScale(None).colour("a") == "#f7f7f4"


def test_us_alaska_and_hawaii_are_insets(tmp_path) -> None:
    outlines = load_outlines("US")
    fac = pd.DataFrame({"facility_id": ["H1", "H2", "H3"], "kind": "hub",
                        "name": ["Chicago air hub", "Honolulu regional hub", "Denver regional hub"],
                        "lat": [41.85, 21.31, 39.74], "lon": [-87.65, -157.86, -104.98],
                        "tier": ["air_hub", "hub", "hub"]})
    lanes = pd.DataFrame({"from_lat": [39.74], "from_lon": [-104.98], "to_lat": [21.31],
                          "to_lon": [-157.86], "mode": ["truck"], "tier": ["linehaul"]})
    places = pd.DataFrame({"name": ["Chicago", "Anchorage", "Juneau", "Hilo", "Miami"],
                           "lat": [41.85, 61.22, 58.30, 19.72, 25.77],
                           "lon": [-87.65, -149.90, -134.42, -155.09, -80.19],
                           "population": [2.7e6, 3.0e5, 3.2e4, 4.3e4, 4.4e5],
                           "admin1": ["Illinois", "Alaska", "Alaska", "Hawaii", "Florida"],
                           "hours": [30.0, 60.0, np.nan, 20.0, 40.0]})
    png, page = tmp_path / "us.png", tmp_path / "us.html"
    render_coverage_map(outlines, fac, lanes, places, None, "US", png, page,
                        province_share={"Illinois": 0.1, "Alaska": 0.0}, country="US")
    text = page.read_text(encoding="utf-8")
    boxes = {n: (float(x), float(y), float(w), float(h)) for n, x, y, w, h in re.findall(
        r'<rect class="inset" data-name="(\w+)" x="([-\d.]+)" y="([-\d.]+)" '
        r'width="([\d.]+)" height="([\d.]+)"', text)}
    assert set(boxes) == {"Alaska", "Hawaii"}
    vb_w, vb_h = map(float, re.search(r'viewBox="0 0 ([\d.]+) ([\d.]+)"', text).groups())

    def where(x, y):
        return [n for n, (bx, by, bw, bh) in boxes.items() if bx <= x <= bx + bw and by <= y <= by + bh]

    circles = _circles(text)
    assert where(*circles["Anchorage"]) == where(*circles["Juneau"]) == ["Alaska"]
    assert where(*circles["Hilo"]) == ["Hawaii"]
    assert where(*circles["Chicago"]) == where(*circles["Miami"]) == []
    for n, (bx, by, bw, bh) in boxes.items():  # lower left
        assert bx < vb_w / 2 and by + bh > vb_h / 2, n
    # the hub, its label and its lane's end move into the Hawaii inset as well
    hx, hy = map(float, re.search(r'<rect x="([-\d.]+)" y="([-\d.]+)" width="5" height="5" '
                                  r'fill="#1f3b73"><title>Honolulu', text).groups())
    assert where(hx + 2.5, hy + 2.5) == ["Hawaii"]
    labels = _svg_labels(text)
    assert where(*labels["Honolulu"][1:]) == ["Hawaii"] and where(*labels["Anchorage"][1:]) == ["Alaska"]
    assert where(*labels["Chicago"][1:]) == []
    lane = re.search(r'<g class="lanes linehaul"[^>]*>\n<path d="M([-\d. ]+)L([-\d. ]+)"', text)
    end = [tuple(map(float, p.split())) for p in lane.groups()]
    assert any(where(*p) == ["Hawaii"] for p in end) and any(where(*p) == [] for p in end)
    # the lower 48 fill the map's width: the view is wide, not stretched by the Aleutians
    assert vb_w / vb_h > 1.5
    img = mpimg.imread(png)
    assert img.shape[1] == 1600 and img.shape[0] < 1000


def test_render_coverage_of_a_network_colours_reached_places(tmp_path) -> None:
    """The all-hubs map: a place some (origin, hour) pair reaches gets its mean hours (a colour),
    only the place nobody reaches is grey."""
    net = load_network(FIXTURES / "tiny")
    cov = coverage(net)  # every hub
    png, page = render_coverage(net, cov, tmp_path / "m" / "tiny", None, lanes="bundled")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    text = page.read_text(encoding="utf-8")
    titles = dict(re.findall(r"<circle[^>]*><title>([^(]+) \(.*?promised: (.*?)</title>", text,
                             flags=re.S))
    assert titles == {"Town A": "unreachable", "Town B": "18.7 h", "Town C": "88.0 h"}
    assert {"Hub One", "Hub Two", "Town B", "Town C"} <= set(_svg_labels(text))
    assert "lanes, " in text  # bundled corridors


def test_air_gateways_are_drawn_and_named_after_the_air_hub(tmp_path) -> None:
    """A gateway (a centre with an air operation) gets its own marker, hover title and label,
    after the air hub's and before the regional hubs'."""
    outlines = load_outlines("CN")
    fac = pd.DataFrame({"facility_id": ["A01", "C1100", "H01", "C3301"], "kind": "hub",
                        "name": ["Ezhou air hub", "Beijing sorting centre", "Xi'an regional hub",
                                 "Hangzhou sorting centre"],
                        "lat": [30.40, 39.90, 34.26, 30.27], "lon": [114.89, 116.40, 108.94, 120.15],
                        "tier": ["air_hub", "gateway", "hub", "centre"]})
    lanes = pd.DataFrame(columns=["from_lat", "from_lon", "to_lat", "to_lon", "mode", "tier"])
    places = pd.DataFrame({"name": ["Somewhere"], "lat": [25.0], "lon": [105.0], "population": [1e5],
                           "admin1": ["Guizhou"], "hours": [20.0]})
    png, page = tmp_path / "g.png", tmp_path / "g.html"
    render_coverage_map(outlines, fac, lanes, places, None, "gateways", png, page, labels=0)
    text = page.read_text(encoding="utf-8")
    assert "<title>Beijing sorting centre (air gateway)</title>" in text
    assert "<title>Ezhou air hub (air hub)</title>" in text
    assert "Hangzhou" not in text                               # a plain centre is not a hub
    assert {k: v[0] for k, v in _svg_labels(text).items()} == {
        "Ezhou": "air_hub", "Beijing": "gateway", "Xi'an": "hub"}
