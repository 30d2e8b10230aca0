"""What the coverage map's PNG and SVG share: the hour classes, the province colour scale
(fitted to the data), the layers in map units and the labels."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.colors import ListedColormap, to_hex

from parcelnet.viz.geometry import fit_range
from parcelnet.viz.labels import Label, label_candidates, place_labels

__all__ = ["HOUR_BINS", "LABEL_STYLE", "SHARE_CMAP", "ShareScale", "hour_bin", "map_labels",
           "prep_layers"]

#: (label, colour) per promised-hours class; the last one is "unreachable".
HOUR_BINS: list[tuple[str, str]] = [
    ("≤ 12 h", "#1a9850"), ("12–24 h", "#91cf60"), ("24–36 h", "#fee08b"),
    ("36–48 h", "#fc8d59"), ("48–72 h", "#d73027"), ("> 72 h", "#7f0000"),
    ("unreachable", "#9e9e9e"),
]
_EDGES = np.array([12.0, 24.0, 36.0, 48.0, 72.0])
#: label colour, font size (points) and weight per kind of labelled point
LABEL_STYLE = {"origin": ("#000000", 10.5, "bold"), "air_hub": ("#5a1d70", 9.0, "bold"),
               "gateway": ("#5a1d70", 8.5, "normal"),
               "hub": ("#1f3b73", 8.5, "bold"), "place": ("#262626", 8.5, "normal")}


def hour_bin(hours: np.ndarray) -> np.ndarray:
    """Index into HOUR_BINS for each promised-hours value (NaN -> unreachable)."""
    h = np.asarray(hours, dtype=float)
    idx = np.searchsorted(_EDGES, h, side="left")
    return np.where(np.isnan(h), len(HOUR_BINS) - 1, idx)


SHARE_CMAP = ListedColormap(colormaps["Blues"](np.linspace(0.05, 0.6, 256)))  # light


class ShareScale:
    """Province shading: the colour scale fitted to the shares (see ``fit_range``)."""

    def __init__(self, share: dict[str, float] | None) -> None:
        self.share = share
        self.vmin, self.vmax, self.ticks = fit_range(share.values() if share else [])

    def colour(self, name) -> str:
        v = self.share.get(name) if self.share is not None else None
        if v is None or not np.isfinite(v):
            return "#f2f2f0" if self.share is not None else "#f7f7f4"
        t = (float(v) - self.vmin) / max(self.vmax - self.vmin, 1e-12)
        return to_hex(SHARE_CMAP(float(np.clip(t, 0, 1))))

    @property
    def caption(self) -> str:
        return (f"province population reached within 24 h; scale fitted to the data, "
                f"{100 * self.vmin:.3g}–{100 * self.vmax:.3g}%")


def prep_layers(facilities: pd.DataFrame, places: pd.DataFrame, proj) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Hubs to draw and places with bin / radius factor / projected x, y, largest first
    (small on top)."""
    hubs = facilities[facilities["tier"].isin(["hub", "air_hub", "gateway"])].dropna(
        subset=["lat", "lon"]).copy()
    pl = places.dropna(subset=["lat", "lon"]).copy()
    pop = pd.to_numeric(pl["population"], errors="coerce") if "population" in pl else pl["lat"] * 0
    pop = pop.fillna(0).clip(lower=0)
    pl["population"] = pop
    pmax = float(pop.max()) if len(pop) and pop.max() > 0 else 1.0
    pl["_r"] = np.sqrt(pop / pmax)  # 0..1; radius grows with sqrt(population)
    pl["_bin"] = hour_bin(pl["hours"].to_numpy(dtype=float))
    for t in (hubs, pl):
        t["_x"], t["_y"] = proj(t["lon"].to_numpy(float), t["lat"].to_numpy(float))
        t["_frame"] = proj.frame(t["lon"].to_numpy(float), t["lat"].to_numpy(float))
    return hubs, pl.sort_values("population", ascending=False, kind="stable")


def map_labels(hubs, pl, origin, proj, n_labels, to_out, size, frames, avoid, radius) -> list[Label]:
    """Place the labels in output units: ``to_out(x, y)`` maps map units to output units
    (y down), ``size[kind]`` is the font size there, ``radius(kind, r)`` a marker's half size
    (r: the place's radius factor)."""
    if n_labels is None:
        return []
    cands = label_candidates(hubs, pl, origin, max(int(n_labels), 0))
    r_of = dict(zip(pl["name"].astype(str), pl["_r"]))
    out = []
    for text, kind, lon, lat in cands:
        x, y = proj(lon, lat)
        ox, oy = to_out(float(x), float(y))
        out.append(Label(text, ox, oy, radius(kind, r_of.get(text, 0.0)), kind,
                         int(proj.frame(lon, lat))))
    return place_labels(out, size, frames, avoid)
