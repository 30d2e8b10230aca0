"""Map labels: which names to show and where, without overlaps (greedy placement).

Candidates come in priority order (the origin, air hubs, hubs, then the most populous
places). Each is tried right, left, above and below its marker (then the diagonals); the first
spot that stays inside its frame and overlaps no label placed before it, no labelled marker and
no avoided box is taken, else the label is skipped. The same placement serves the PNG
(display pixels) and the SVG (viewBox units), each at its own scale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Label", "label_candidates", "place_labels", "short_name"]

#: Average glyph width as a share of the font size (DejaVu Sans / system-ui, mixed case).
CHAR_W = 0.6

_HUB_SUFFIX = re.compile(r"\s+((regional|air|national|sorting|main)\s+)?(hub|centre|center)$",
                         re.IGNORECASE)


def short_name(name: str) -> str:
    """A hub's name without its kind ('Xi'an regional hub' -> 'Xi'an')."""
    s = _HUB_SUFFIX.sub("", str(name)).strip()
    return s or str(name)


@dataclass
class Label:
    """A label to place: marker at (x, y) in output units (y down), ``r`` its half size."""
    text: str
    x: float
    y: float
    r: float
    kind: str                       # "origin", "air_hub", "gateway", "hub" or "place"
    frame: int = -1                 # -1 main map, else the inset it lies in
    # placed: text anchor point, horizontal alignment ("start", "middle", "end")
    at: tuple[float, float] | None = field(default=None)
    align: str = "start"


def label_candidates(hubs: pd.DataFrame, places: pd.DataFrame,
                     origin: tuple[str, float, float] | None,
                     n_places: int) -> list[tuple[str, str, float, float]]:
    """(text, kind, lon, lat) in priority order: the origin ((name, lat, lon)), air hubs, air
    gateways, hubs,
    the ``n_places`` most populous places not already named (the largest place of each inset
    first, when ``places`` has the ``_frame`` column of :meth:`MapProjection.frame`)."""
    out: list[tuple[str, str, float, float]] = []
    seen: set[str] = set()
    if origin is not None:
        out.append((str(origin[0]), "origin", float(origin[2]), float(origin[1])))
        seen.add(short_name(origin[0]).casefold())
    for tier in ("air_hub", "gateway", "hub"):
        h = hubs[hubs["tier"] == tier]
        for name, lon, lat in zip(h["name"], h["lon"], h["lat"]):
            s = short_name(name)
            if s.casefold() in seen:
                continue
            out.append((s, tier, float(lon), float(lat)))
            seen.add(s.casefold())
    top = places.sort_values("population", ascending=False, kind="stable")
    if n_places > 0 and "_frame" in top:  # the largest place of each inset (Anchorage) too
        first = top[top["_frame"] >= 0].drop_duplicates("_frame")
        top = pd.concat([first, top.drop(first.index)])
    k = 0
    for name, lon, lat in zip(top["name"], top["lon"], top["lat"]):
        if k >= n_places:
            break
        if str(name).casefold() in seen:
            continue
        seen.add(str(name).casefold())
        out.append((str(name), "place", float(lon), float(lat)))
        k += 1
    return out


def _overlaps(box: np.ndarray, boxes: np.ndarray) -> bool:
    if not len(boxes):
        return False
    return bool(np.any((box[0] < boxes[:, 1]) & (box[1] > boxes[:, 0])
                       & (box[2] < boxes[:, 3]) & (box[3] > boxes[:, 2])))


def place_labels(labels: list[Label], font: dict[str, float],
                 frames: dict[int, tuple[float, float, float, float]],
                 avoid: list[tuple[float, float, float, float]] = ()) -> list[Label]:
    """Greedy placement; returns the labels placed (``at``/``align`` set), in the given order.

    ``font``: size per kind (output units); ``frames``: frame -> (x0, x1, y0, y1) a label must
    stay in; ``avoid``: boxes (x0, x1, y0, y1) no label of the main map may cover (the legend,
    the insets)."""
    markers = np.array([[lb.x - lb.r, lb.x + lb.r, lb.y - lb.r, lb.y + lb.r] for lb in labels]
                       ).reshape(-1, 4)
    avoid_main = np.array(list(avoid), dtype=float).reshape(-1, 4)
    placed: list[Label] = []
    boxes = np.zeros((0, 4))
    for i, lb in enumerate(labels):
        fs = font.get(lb.kind, font.get("place", 10.0))
        w, h = CHAR_W * fs * len(lb.text), 1.15 * fs
        g = lb.r + 0.25 * fs
        fx0, fx1, fy0, fy1 = frames.get(lb.frame, frames[-1])
        others = np.delete(markers, i, axis=0)
        for dx, dy, align in ((g, 0, "start"), (-g, 0, "end"), (0, -g - h / 2, "middle"),
                              (0, g + h / 2, "middle"), (0.7 * g, -0.7 * g - h / 2, "start"),
                              (-0.7 * g, -0.7 * g - h / 2, "end"),
                              (0.7 * g, 0.7 * g + h / 2, "start"),
                              (-0.7 * g, 0.7 * g + h / 2, "end")):
            ax, ay = lb.x + dx, lb.y + dy
            x0 = ax if align == "start" else ax - w if align == "end" else ax - w / 2
            box = np.array([x0, x0 + w, ay - h / 2, ay + h / 2])
            if box[0] < fx0 or box[1] > fx1 or box[2] < fy0 or box[3] > fy1:
                continue
            if _overlaps(box, boxes) or _overlaps(box, others):
                continue
            if lb.frame < 0 and _overlaps(box, avoid_main):
                continue
            lb.at, lb.align = (float(ax), float(ay)), align
            placed.append(lb)
            boxes = np.vstack([boxes, box])
            break
    return placed
