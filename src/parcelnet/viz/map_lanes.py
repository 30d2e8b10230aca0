"""Line-haul and air lanes as map strokes, drawn three ways (``lanes=``):

- ``"light"`` (default): each pair of places linked once (both directions, every mode of a
  kind on one stroke), thin and faint, so that the places show through;
- ``"bundled"``: line-haul lanes routed over a sparse corridor graph (the Gabriel graph of the
  lane ends: an edge where no other end lies in the circle on it as diameter) and summed per
  corridor, drawn once each with the width growing with the trips a day it carries; air lanes
  summed per airport pair, one arc each; one width scale (trips a day) for both;
- ``"none"``: no lanes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["LANE_MODES", "Strokes", "lane_strokes", "lane_style"]

LANE_MODES = ("light", "bundled", "none")

# (colour, alpha, dashed, legend label) per mode and kind of lane
_STYLE = {
    "light": {"linehaul": ("#4d4d4d", 0.16, False, "line-haul lane"),
              "rail": ("#8c6d31", 0.3, False, "rail line-haul lane"),
              "air": ("#7b3294", 0.3, True, "air lane")},
    "bundled": {"linehaul": ("#2b4a7a", 0.45, False, "line-haul corridor\n(width: trips a day)"),
                "rail": ("#8c6d31", 0.5, False, "rail corridor\n(width: trips a day)"),
                "air": ("#7b3294", 0.45, True, "air link\n(width: trips a day)")},
}
_LIGHT_WIDTH = {"linehaul": 0.45, "rail": 0.55, "air": 0.6}


def lane_style(mode: str, key: str) -> tuple[str, float, bool, str]:
    """(colour, alpha, dashed, legend label) of a kind of lane drawn the ``mode`` way (the
    alpha of :class:`Strokes` is the one to draw with)."""
    return _STYLE[mode][key]


@dataclass
class Strokes:
    """Strokes of one kind of lane: ``seg`` (n, k, 2) projected polylines, ``width`` in
    points, ``lanes`` and ``trips`` (a day) each carries; ``alpha`` to draw them with."""
    key: str
    seg: np.ndarray
    width: np.ndarray
    lanes: np.ndarray
    trips: np.ndarray
    alpha: float


def _arcs(p0: np.ndarray, p2: np.ndarray) -> np.ndarray:
    """Quadratic Bezier arcs bowed to the left of travel, 17 points each."""
    d = p2 - p0
    p1 = (p0 + p2) / 2 + 0.15 * np.stack([-d[:, 1], d[:, 0]], 1)
    t = np.linspace(0, 1, 17)[None, :, None]
    return (1 - t) ** 2 * p0[:, None] + 2 * (1 - t) * t * p1[:, None] + t**2 * p2[:, None]


def _pairs(p0: np.ndarray, p2: np.ndarray, trips: np.ndarray):
    """Lanes summed per unordered pair of ends: (ends a, ends b, lanes, trips), a < b."""
    swap = (p0[:, 0] > p2[:, 0]) | ((p0[:, 0] == p2[:, 0]) & (p0[:, 1] > p2[:, 1]))
    a, b = np.where(swap[:, None], p2, p0), np.where(swap[:, None], p0, p2)
    key = np.round(np.c_[a, b], 6)
    uniq, first, inv = np.unique(key, axis=0, return_index=True, return_inverse=True)
    inv = inv.ravel()
    n = np.bincount(inv, minlength=len(uniq)).astype(float)
    t = np.bincount(inv, weights=trips, minlength=len(uniq))
    return a[first], b[first], n, t


def _gabriel(pts: np.ndarray) -> np.ndarray:
    """Edges (m, 2) of the Gabriel graph of distinct points (all pairs when fewer than 3)."""
    n = len(pts)
    if n < 3:
        return np.array([[0, 1]]) if n == 2 else np.zeros((0, 2), np.int64)
    from scipy.spatial import Delaunay
    try:
        tri = Delaunay(pts, qhull_options="QJ").simplices
    except Exception:  # degenerate (e.g. all ends on a line): chain them in order
        order = np.lexsort((pts[:, 1], pts[:, 0]))
        return np.c_[order[:-1], order[1:]]
    e = np.sort(np.vstack([tri[:, [0, 1]], tri[:, [1, 2]], tri[:, [0, 2]]]), axis=1)
    e = np.unique(e, axis=0)
    mid = (pts[e[:, 0]] + pts[e[:, 1]]) / 2
    r2 = ((pts[e[:, 0]] - pts[e[:, 1]]) ** 2).sum(1) / 4
    d2 = ((mid[:, None, :] - pts[None, :, :]) ** 2).sum(-1)
    d2[np.arange(len(e)), e[:, 0]] = np.inf
    d2[np.arange(len(e)), e[:, 1]] = np.inf
    return e[d2.min(axis=1) >= r2 * (1 - 1e-9)]


def _bundle(a: np.ndarray, b: np.ndarray, n: np.ndarray, t: np.ndarray):
    """Pairs routed over the Gabriel graph of their ends: (seg, lanes, trips) per corridor."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import dijkstra
    pts, inv = np.unique(np.round(np.r_[a, b], 6), axis=0, return_inverse=True)
    inv = inv.ravel()
    ia, ib = inv[: len(a)], inv[len(a):]
    e = _gabriel(pts)
    if not len(e):
        return np.zeros((0, 2, 2)), np.zeros(0), np.zeros(0)
    length = np.hypot(*(pts[e[:, 0]] - pts[e[:, 1]]).T) + 1e-9
    m = len(pts)
    g = coo_matrix((length, (e[:, 0], e[:, 1])), shape=(m, m)).tocsr()
    edge_of = {(int(u), int(v)): k for k, (u, v) in enumerate(e)}
    src = np.unique(ia)
    _, pred = dijkstra(g, directed=False, indices=src, return_predecessors=True)
    row = {int(s): r for r, s in enumerate(src)}
    e_lanes, e_trips = np.zeros(len(e)), np.zeros(len(e))
    for u0, v, nl, nt in zip(ia, ib, n, t):
        p = pred[row[int(u0)]]
        while v != u0 and v >= 0:
            u = int(p[v])
            if u < 0:
                break
            k = edge_of[(min(u, int(v)), max(u, int(v)))]
            e_lanes[k] += nl
            e_trips[k] += nt
            v = u
    used = e_lanes > 0
    seg = np.stack([pts[e[used, 0]], pts[e[used, 1]]], 1)
    return seg, e_lanes[used], e_trips[used]


def _width(w: np.ndarray, top: float, lo: float = 0.6, hi: float = 5.0) -> np.ndarray:
    return lo + (hi - lo) * np.sqrt(np.clip(w, 0, None) / max(top, 1e-9))


def lane_strokes(lanes: pd.DataFrame, proj, mode: str = "light") -> list[Strokes]:
    """The line-haul, rail and air lanes of ``lanes`` (from/to lat/lon, mode, tier, optional
    trips a day) as strokes, drawn the ``mode`` way (see the module doc)."""
    if mode not in LANE_MODES:
        raise ValueError(f"lanes must be one of {', '.join(LANE_MODES)}, not {mode!r}")
    if mode == "none" or lanes.empty:
        return []
    tier = lanes["tier"].astype(str).to_numpy()
    kind = lanes["mode"].astype(str).to_numpy()
    keys = np.where(tier == "air", "air", np.where(kind == "rail", "rail", "linehaul"))
    keep = np.isin(tier, ["linehaul", "air"])
    trips = (pd.to_numeric(lanes["trips"], errors="coerce").fillna(1.0).to_numpy(float)
             if "trips" in lanes else np.ones(len(lanes)))
    out = []
    for key in ("linehaul", "rail", "air"):
        sel = keep & (keys == key)
        if not sel.any():
            continue
        sub = lanes[sel]
        p0 = np.stack(proj(sub["from_lon"], sub["from_lat"]), 1)
        p2 = np.stack(proj(sub["to_lon"], sub["to_lat"]), 1)
        ok = np.isfinite(p0).all(1) & np.isfinite(p2).all(1) & (np.abs(p0 - p2).sum(1) > 0)
        if not ok.any():
            continue
        a, b, n, t = _pairs(p0[ok], p2[ok], trips[sel][ok])
        alpha = _STYLE[mode][key][1]
        if mode == "bundled" and key != "air":
            seg, n, t = _bundle(a, b, n, t)
        else:
            seg = _arcs(a, b) if key == "air" else np.stack([a, b], 1)
            if mode == "light":  # fainter the more strokes there are
                alpha = float(np.clip(alpha * np.sqrt(500 / len(seg)), alpha, 0.45))
        if len(seg):
            out.append(Strokes(key, seg, np.full(len(seg), _LIGHT_WIDTH[key]), n, t, alpha))
    if mode == "bundled":  # one width scale: the same width is the same trips a day
        top = max(float(st.trips.max()) for st in out) if out else 1.0
        for st in out:
            order = np.argsort(st.trips, kind="stable")  # thick strokes on top
            st.seg, st.lanes, st.trips = st.seg[order], st.lanes[order], st.trips[order]
            st.width = _width(st.trips, top)
    return out
