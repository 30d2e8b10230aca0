"""The simulation report's charts (day-and-clock time axis, a province map on a colour scale
fitted to the data, with US insets) and the service design map (both directions of a pair
seen, ends named, insets)."""

from __future__ import annotations

import json
import re

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure

from parcelnet.geo import load_outlines
from parcelnet.network.model import Network
from parcelnet.network.pnf import load_network
from parcelnet.viz.geometry import MapProjection
from parcelnet.viz.service_map import changes_figure, render_changes
from parcelnet.viz.sim_report import day_clock_ticks, province_figure, throughput_figure, write_report
from tests.conftest import FIXTURES
from tests.sim.test_kpis import PARCELS, kpis_result, run


def _tick_labels(fig: Figure, ax) -> list[str]:
    """The x tick labels drawn (ticks inside the axis limits)."""
    FigureCanvasAgg(fig).draw()
    lo, hi = ax.get_xlim()
    return [t.get_text() for t, x in zip(ax.get_xticklabels(), ax.get_xticks())
            if lo - 1e-9 <= x <= hi + 1e-9 and t.get_text()]


def test_day_clock_ticks() -> None:
    fig = Figure()
    ax = fig.add_subplot()
    ax.plot([15, 40], [0, 1])
    day_clock_ticks(ax, 15, 40)
    labels = _tick_labels(fig, ax)
    assert "day 0\n18:00" in labels and "day 1\n00:00" in labels and "day 1\n12:00" in labels
    assert all(re.fullmatch(r"day \d+\n\d\d:00", t) for t in labels)
    fig2 = Figure()
    ax2 = fig2.add_subplot()
    ax2.plot([0, 90], [0, 1])
    day_clock_ticks(ax2, 0, 90)  # a long span: every 12 hours
    assert _tick_labels(fig2, ax2)[:3] == ["day 0\n00:00", "day 0\n12:00", "day 1\n00:00"]


def test_throughput_chart_reads_as_days_and_clock_times(tmp_path) -> None:
    res = run(load_network(FIXTURES / "tiny"), PARCELS, horizon_minutes=3 * 1440)
    fig = throughput_figure(res.raw, res.network)
    ax = fig.axes[0]
    labels = _tick_labels(fig, ax)
    assert labels and all(re.fullmatch(r"day \d+\n\d\d:\d\d", t) for t in labels)
    assert "day" in ax.get_xlabel() and "24 =" not in ax.get_xlabel()
    lines = ax.get_lines()
    assert lines and sum(line.get_ydata().sum() for line in lines) > 0
    # the whole report still renders with it
    page = write_report(res, kpis_result(res), tmp_path / "r.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") >= 2


def _fills(fig: Figure) -> tuple[PolyCollection, np.ndarray]:
    poly = next(c for c in fig.axes[0].collections if isinstance(c, PolyCollection))
    return poly, poly.get_facecolors()


def test_province_map_scale_follows_the_data() -> None:
    names = [n for n, _ in load_outlines("CN")]
    shares = pd.Series(np.linspace(0.72, 0.84, len(names)), index=names)
    fig = province_figure(shares, "CN")
    cbar_ax = fig.axes[1]
    assert cbar_ax.get_ylim() == pytest.approx((0.72, 0.84))
    assert "72–84%" in cbar_ax.get_ylabel() and "fitted" in cbar_ax.get_ylabel()
    FigureCanvasAgg(fig).draw()
    assert [t.get_text() for t in cbar_ax.get_yticklabels()][:2] == ["72%", "74%"]
    # the lowest and the highest province are the two ends of the colour map (red, green)
    poly, fc = _fills(fig)
    rings = [len(rs) for _, rs in load_outlines("CN")]
    first = np.cumsum([0] + rings)[:-1]
    lo, hi = fc[first[0]], fc[first[-1]]
    assert lo[0] > 0.6 and lo[1] < 0.2  # red
    assert hi[1] > 0.3 and hi[0] < 0.1  # green
    # an even spread of shares uses the whole scale, not a sliver of it
    assert np.ptp(fc[:, 0]) > 0.5
    assert province_figure(shares, None) is None


def test_province_map_us_insets() -> None:
    outlines = load_outlines("US")
    shares = pd.Series({n: 0.5 for n, _ in outlines})
    fig = province_figure(shares, "US")
    poly, _ = _fills(fig)
    proj = MapProjection(outlines, "US")
    frames = dict(proj.frames)
    verts = poly.get_paths()
    k = 0
    for name, rings in outlines:
        for _ in rings:
            xy = verts[k].vertices
            k += 1
            if name in frames:
                x0, x1, y0, y1 = frames[name]
                assert (xy[:, 0] >= x0).all() and (xy[:, 0] <= x1).all(), name
                assert (xy[:, 1] >= y0).all() and (xy[:, 1] <= y1).all(), name
    x0, x1 = fig.axes[0].get_xlim()
    y0, y1 = fig.axes[0].get_ylim()
    assert (x1 - x0) / (y1 - y0) > 1.5  # lower 48 wide, not Alaska-dominated
    # one value everywhere: a band one point wide, still a valid scale
    assert fig.axes[1].get_ylim() == pytest.approx((0.5, 0.51))


def _us_tiny() -> Network:
    """tiny moved to the US: A Seattle, H1 Los Angeles, H2 Chicago, B Anchorage, C Honolulu."""
    net = load_network(FIXTURES / "tiny")
    t = {k: v.copy() for k, v in net.tables.items()}
    fac = t["facilities.csv"]
    at = {"A": (47.61, -122.33), "H1": (34.05, -118.24), "H2": (41.85, -87.65),
          "B": (61.22, -149.90), "C": (21.31, -157.86)}
    fac["lat"] = [str(at[f][0]) for f in fac["facility_id"]]
    fac["lon"] = [str(at[f][1]) for f in fac["facility_id"]]
    fac["name"] = ["Seattle station", "Los Angeles hub", "Chicago hub", "Anchorage station",
                   "Honolulu station"]
    return Network.from_tables(t, {**net.meta, "build.json": json.dumps({"country": "US"})})


def test_service_map_both_directions_names_and_insets(tmp_path) -> None:
    net = _us_tiny()
    changes = pd.DataFrame({"lane_id": ["L2", "L6", "L4", "L5"], "from": ["H1", "H2", "H2", "H1"],
                            "to": ["H2", "H1", "B", "C"], "mode": "truck",
                            "status": ["more", "fewer", "added", "removed"]})
    fig = changes_figure(net, changes, "US service")
    ax = fig.axes[0]
    segs = {}
    for c in ax.collections:
        if isinstance(c, LineCollection):
            for s in c.get_segments():
                segs[len(segs)] = np.asarray(s)
    assert len(segs) == 4
    there, back = segs[0], segs[1]   # "fewer" (H2->H1) is drawn before "more" (H1->H2)
    assert not np.allclose(there, back[::-1])  # side by side, not on top of each other
    assert np.abs(there - back[::-1]).max() < 0.05 * np.ptp(ax.get_xlim())
    texts = {t.get_text() for t in ax.texts}
    assert {"Los Angeles", "Chicago"} <= texts
    frames = dict(MapProjection(load_outlines("US"), "US").frames)
    ends = {tuple(np.round(p, 6)) for s in segs.values() for p in s}
    ax0, ax1, ay0, ay1 = frames["Alaska"]
    assert any(ax0 <= x <= ax1 and ay0 <= y <= ay1 for x, y in ends)  # the lane to Anchorage
    png, page = tmp_path / "svc.png", tmp_path / "svc.html"
    render_changes(net, changes, "US service", png, page, {"coverage": 0.3})
    assert mpimg.imread(png).shape[1] == 1400
    assert "Changed lanes (4)" in page.read_text(encoding="utf-8")
