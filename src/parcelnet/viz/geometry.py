"""Map geometry shared by the maps: a projection with insets, and colour ranges fitted to data.

:class:`MapProjection` is an equirectangular projection (x = lon * cos(mean lat)) of a
country's main territory. Regions listed in :data:`INSETS` (Alaska and Hawaii for the US) are
cut out of the main map and drawn scaled, each in its own box at the lower left, the usual
way; everything drawn through the projection (outlines, places, hubs, lanes, labels) that lies
in such a region moves into its inset with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["INSETS", "Inset", "MapProjection", "fit_range"]


@dataclass(frozen=True)
class Inset:
    """A region drawn in its own box: ``outline`` is the admin-1 outline that moves; points move
    when inside ``src`` = (lon0, lon1, lat0, lat1) (lon0 below -180 takes eastern longitudes
    as lon - 360, for regions across the antimeridian); ``dst`` = (x0, y0, x1, y1) is the box,
    in fractions of the main map's extent (negative: below or left of it)."""
    outline: str
    src: tuple[float, float, float, float]
    dst: tuple[float, float, float, float]


#: Per-country insets (country code -> insets), lower left of the main map.
INSETS: dict[str, tuple[Inset, ...]] = {
    "US": (Inset("Alaska", (-190.0, -129.5, 50.5, 72.0), (0.0, -0.12, 0.23, 0.26)),
           Inset("Hawaii", (-161.0, -154.0, 18.5, 22.5), (0.24, -0.12, 0.37, 0.07))),
}


def _extent(xy: np.ndarray) -> tuple[float, float, float, float]:
    return float(xy[:, 0].min()), float(xy[:, 0].max()), float(xy[:, 1].min()), float(xy[:, 1].max())


class MapProjection:
    """Lon/lat -> map units for one country, with its insets.

    ``proj(lon, lat)`` -> (x, y) arrays; ``proj.box`` = (x0, x1, y0, y1) of the whole drawing
    with a small margin; ``proj.frames`` = [(name, (x0, x1, y0, y1))] of the inset boxes;
    ``proj.rings(outlines)`` projects outlines (an inset's outline goes into its box).
    ``lons``/``lats``: the points to draw; they set the extent when there are no outlines, and
    an inset's when they lie beyond its outline.
    """

    def __init__(self, outlines, country: str | None = None, lons=None, lats=None) -> None:
        outlines = [(str(n), [np.asarray(r, dtype=float) for r in rs]) for n, rs in outlines]
        names = {n for n, _ in outlines}
        insets = tuple(i for i in INSETS.get(str(country or "").upper(), ()) if i.outline in names)
        moved = {i.outline for i in insets}
        main = [r for n, rs in outlines if n not in moved for r in rs]
        if main:
            pts = np.concatenate(main)
        else:
            lo = np.asarray(lons if lons is not None else [], dtype=float)
            la = np.asarray(lats if lats is not None else [], dtype=float)
            ok = np.isfinite(lo) & np.isfinite(la)
            pts = np.c_[lo[ok], la[ok]] if ok.any() else np.array([[0.0, 0.0], [1.0, 1.0]])
        lon0, lon1, lat0, lat1 = _extent(pts)
        self.k = float(np.cos(np.radians((lat0 + lat1) / 2)))
        x0, x1, y0, y1 = lon0 * self.k, lon1 * self.k, lat0, lat1
        w, h = max(x1 - x0, 1e-6), max(y1 - y0, 1e-6)
        self.insets = insets
        self._fit: list[tuple[float, float, float, float]] = []  # (k, scale, dx, dy)
        self.frames: list[tuple[str, tuple[float, float, float, float]]] = []
        bx0, bx1, by0, by1 = x0, x1, y0, y1
        lo = np.asarray(lons if lons is not None else [], dtype=float).ravel()
        la = np.asarray(lats if lats is not None else [], dtype=float).ravel()
        for ins in insets:
            rings = [self._wrap(r, ins) for r in next(rs for n, rs in outlines if n == ins.outline)]
            a0, a1, b0, b1 = ins.src  # points of the region beyond its outline widen the inset
            lw = np.where((lo > 0) & (a0 < -180), lo - 360.0, lo) if lo.size else lo
            own = (lw >= a0) & (lw <= a1) & (la >= b0) & (la <= b1) if lo.size else lo.astype(bool)
            sx0, sx1, sy0, sy1 = _extent(np.concatenate(rings + [np.c_[lw[own], la[own]]]))
            ki = float(np.cos(np.radians((sy0 + sy1) / 2)))
            fx0, fy0, fx1, fy1 = ins.dst
            dx0, dx1, dy0, dy1 = x0 + fx0 * w, x0 + fx1 * w, y0 + fy0 * h, y0 + fy1 * h
            pad, cap = 0.05 * min(dx1 - dx0, dy1 - dy0), 0.15 * (dy1 - dy0)  # cap: the caption
            sw, sh = max((sx1 - sx0) * ki, 1e-6), max(sy1 - sy0, 1e-6)
            s = min((dx1 - dx0 - 2 * pad) / sw, (dy1 - dy0 - 2 * pad - cap) / sh)
            cx, cy = (dx0 + dx1) / 2, (dy0 + dy1 - cap) / 2  # box centre <- region centre
            self._fit.append((ki, s, cx - s * ki * (sx0 + sx1) / 2, cy - s * (sy0 + sy1) / 2))
            self.frames.append((ins.outline, (dx0, dx1, dy0, dy1)))
            bx0, bx1, by0, by1 = min(bx0, dx0), max(bx1, dx1), min(by0, dy0), max(by1, dy1)
        m = 0.02 * max(bx1 - bx0, by1 - by0, 1e-6)
        self.box = (bx0 - m, bx1 + m, by0 - m, by1 + m)

    @staticmethod
    def _wrap(xy: np.ndarray, ins: Inset) -> np.ndarray:
        if ins.src[0] >= -180:
            return xy
        lon = np.where(xy[:, 0] > 0, xy[:, 0] - 360.0, xy[:, 0])
        return np.c_[lon, xy[:, 1]]

    def frame(self, lon, lat) -> np.ndarray:
        """Index of the inset each point is drawn in (-1: the main map)."""
        lon, lat = np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)
        out = np.full(np.broadcast(lon, lat).shape, -1, dtype=np.int64)
        for i, ins in enumerate(self.insets):
            lo0, lo1, la0, la1 = ins.src
            lw = np.where((lon > 0) & (lo0 < -180), lon - 360.0, lon)
            inside = (lw >= lo0) & (lw <= lo1) & (lat >= la0) & (lat <= la1)
            out = np.where((out < 0) & inside, i, out)
        return out

    def __call__(self, lon, lat) -> tuple[np.ndarray, np.ndarray]:
        lon, lat = np.broadcast_arrays(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        x, y = np.array(lon * self.k, dtype=float), np.array(lat, dtype=float)
        if self.insets:
            fr = self.frame(lon, lat)
            for i, (ki, s, dx, dy) in enumerate(self._fit):
                sel = fr == i
                if sel.any():
                    lw = np.where(lon[sel] > 0, lon[sel] - 360.0, lon[sel]) \
                        if self.insets[i].src[0] < -180 else lon[sel]
                    x[sel], y[sel] = s * ki * lw + dx, s * lat[sel] + dy
        return x, y

    def rings(self, outlines) -> list[tuple[str, list[np.ndarray]]]:
        """Projected outlines, (name, [(k, 2) x/y rings])."""
        where = {ins.outline: i for i, ins in enumerate(self.insets)}
        out = []
        for name, rs in outlines:
            i = where.get(str(name))
            proj = []
            for r in rs:
                r = np.asarray(r, dtype=float)
                if i is None:
                    proj.append(np.c_[r[:, 0] * self.k, r[:, 1]])
                else:
                    ki, s, dx, dy = self._fit[i]
                    w = self._wrap(r, self.insets[i])
                    proj.append(np.c_[s * ki * w[:, 0] + dx, s * w[:, 1] + dy])
            out.append((str(name), proj))
        return out


_STEPS = (0.01, 0.02, 0.025, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


def fit_range(values, lo: float = 0.0, hi: float = 1.0,
              intervals: int = 6) -> tuple[float, float, np.ndarray]:
    """A colour scale fitted to shares in [lo, hi]: the data's range rounded out to the smallest
    round step (1, 2, 2.5, 5, 10 .. points) that gives at most ``intervals`` steps. Returns
    (vmin, vmax, ticks); the full [lo, hi] when there is no finite value."""
    v = np.asarray(list(values), dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return lo, hi, np.linspace(lo, hi, 6)
    a, b = float(np.clip(v.min(), lo, hi)), float(np.clip(v.max(), lo, hi))
    for step in _STEPS:
        vmin = np.floor(a / step + 1e-9) * step
        vmax = np.ceil(b / step - 1e-9) * step
        if vmax <= vmin:  # one value: a band one step wide around it
            vmin, vmax = (vmin - step, vmin) if vmin >= hi else (vmin, vmin + step)
        if (vmax - vmin) / step <= intervals + 1e-9:
            break
    vmin, vmax = max(lo, float(vmin)), min(hi, float(vmax))
    ticks = np.arange(vmin, vmax + step / 2, step)
    return round(vmin, 6), round(vmax, 6), np.round(ticks, 6)
