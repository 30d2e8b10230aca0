"""Tests for parcelnet.geo.maps (coverage map PNG + self-contained HTML)."""

from __future__ import annotations

import html
import re
import time

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest

from parcelnet.viz.coverage_map import HOUR_BINS, hour_bin, render_coverage_map


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
