"""Street networks from OpenStreetMap extracts: a directed graph with travel times per mode.

:func:`load_streets` reads ``.osm`` (XML) or ``.osm.pbf`` offline with pyosmium and keeps the
ways tagged ``highway``. Every consecutive node pair of a way is an edge of its great-circle
length. :meth:`StreetGraph.profile` turns that into a routable graph for ``car``, ``ebike``
(e-bike or scooter) or ``walk``:

- which road classes each mode may use (:data:`SPEEDS`; e-bikes are kept off motorways and
  trunk roads, which in Chinese cities are the expressways and elevated roads, and walking
  off motorways); ``access=no/private`` closes a way to every mode, and
  ``motor_vehicle``/``bicycle``/``foot=no`` to one;
- direction: cars and e-bikes follow ``oneway`` (``yes``/``true``/``1``, ``-1`` for against
  the drawing direction; roundabouts and motorways are one-way unless tagged otherwise;
  ``oneway:bicycle=no`` opens a one-way street to e-bikes both ways); walking ignores it;
- speed by road class and mode (km/h), for cars capped by ``maxspeed`` when it is tagged.

Travel times are integer milliseconds per edge, so that sums are exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from parcelnet._deps import require
from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.coords import haversine_km

PROFILES = ("car", "ebike", "walk")

#: km/h by road class for car, e-bike, walk; None = not allowed. Urban averages (signals and
#: traffic included), not limits: Chinese city traffic moves at about 20-30 km/h on main roads.
SPEEDS: dict[str, tuple[float | None, float | None, float | None]] = {
    "motorway": (70, None, None), "motorway_link": (40, None, None),
    "trunk": (45, None, 5), "trunk_link": (30, None, 5),
    "primary": (30, 18, 5), "primary_link": (25, 18, 5),
    "secondary": (27, 18, 5), "secondary_link": (22, 18, 5),
    "tertiary": (24, 18, 5), "tertiary_link": (20, 18, 5),
    "unclassified": (20, 16, 5), "residential": (18, 16, 5), "living_street": (8, 12, 5),
    "service": (12, 14, 5), "road": (18, 16, 5),
    "cycleway": (None, 18, 5), "pedestrian": (None, 8, 5), "footway": (None, None, 5),
    "path": (None, 12, 5), "steps": (None, None, 2.5), "track": (12, 12, 4.5),
}
_YES = {"yes", "true", "1"}


@dataclass(frozen=True)
class Ways:
    """Edges as drawn in the file, before any mode is applied."""
    node_id: np.ndarray      # int64 OSM node ids, position = node index
    lat: np.ndarray
    lon: np.ndarray
    u: np.ndarray            # edge start / end (node index), in drawing direction
    v: np.ndarray
    length_m: np.ndarray
    highway: np.ndarray      # str per edge
    oneway: np.ndarray       # int8: 0 both ways, 1 forward, -1 backward (cars)
    oneway_bike: np.ndarray  # int8, the same for e-bikes
    maxspeed: np.ndarray     # km/h, NaN when not tagged
    closed: np.ndarray       # (n_edges, 3) bool: closed to car, ebike, walk by access tags
    source: str = ""


@dataclass(frozen=True)
class StreetGraph:
    """A routable graph for one mode: CSR of travel times in milliseconds."""
    mode: str
    lat: np.ndarray
    lon: np.ndarray
    node_id: np.ndarray
    u: np.ndarray            # directed edges
    v: np.ndarray
    ms: np.ndarray           # int64 travel time
    length_m: np.ndarray
    csr: sparse.csr_matrix = field(repr=False)

    @property
    def n_nodes(self) -> int:
        return len(self.lat)


def _speed(text: str | None) -> float:
    if not text:
        return np.nan
    t = text.strip().lower()
    try:
        if t.endswith("mph"):
            return float(t[:-3]) * 1.609344
        return float(t.split()[0])
    except ValueError:
        return np.nan


def _oneway(tags, highway: str) -> int:
    ow = tags.get("oneway")
    if ow in _YES:
        return 1
    if ow == "-1":
        return -1
    if ow == "no":
        return 0
    implied = tags.get("junction") in ("roundabout", "circular") or highway in ("motorway", "motorway_link")
    return 1 if implied else 0


def load_streets(path) -> Ways:
    """Read the ``highway`` ways of an OSM extract (``.osm`` or ``.osm.pbf``) offline."""
    osmium = require("osmium", "lastmile", "reading OpenStreetMap files")
    path = Path(path)
    if not path.exists():
        raise ValidationError("file not found", file=str(path))
    if not (path.name.endswith(".osm") or path.name.endswith(".osm.pbf") or path.name.endswith(".pbf")):
        raise ValidationError("an OSM extract must end in .osm or .osm.pbf", file=str(path))
    ids, lats, lons = [], [], []
    rows = []   # (a, b, highway, oneway, oneway_bike, maxspeed, closed car, ebike, walk)
    try:
        fp = osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY).with_locations()
        for obj in fp:
            if not obj.is_way():
                continue
            tags = obj.tags
            hw = tags.get("highway")
            if hw not in SPEEDS:
                continue
            refs = [(n.ref, n.lat, n.lon) for n in obj.nodes if n.location.valid()]
            if len(refs) < 2:
                continue
            t = {k: tags.get(k) for k in ("oneway", "oneway:bicycle", "junction", "maxspeed",
                                          "access", "motor_vehicle", "bicycle", "foot")}
            acc = t["access"] in ("no", "private")
            closed = (acc or t["motor_vehicle"] == "no", acc or t["bicycle"] == "no",
                      (acc and t["foot"] not in _YES) or t["foot"] == "no")
            ow = _oneway(t, hw)
            owb = 0 if t["oneway:bicycle"] == "no" else ow
            ms = _speed(t["maxspeed"])
            for (a, la, lo), (b, lb, lob) in zip(refs, refs[1:]):
                ids += [a, b]
                lats += [la, lb]
                lons += [lo, lob]
                rows.append((a, b, hw, ow, owb, ms, *closed))
    except RuntimeError as e:
        raise ValidationError(f"not a readable OSM file ({e})", file=str(path)) from None
    if not rows:
        raise ValidationError("no ways tagged highway: not a street extract", file=str(path))
    ids = np.asarray(ids, np.int64)
    uniq, first = np.unique(ids, return_index=True)
    a = np.searchsorted(uniq, np.array([r[0] for r in rows], np.int64))
    b = np.searchsorted(uniq, np.array([r[1] for r in rows], np.int64))
    lat, lon = np.asarray(lats)[first], np.asarray(lons)[first]
    length = haversine_km(lat[a], lon[a], lat[b], lon[b]) * 1000.0
    return Ways(node_id=uniq, lat=lat, lon=lon, u=a, v=b, length_m=length,
                highway=np.array([r[2] for r in rows], dtype=object),
                oneway=np.array([r[3] for r in rows], np.int8),
                oneway_bike=np.array([r[4] for r in rows], np.int8),
                maxspeed=np.array([r[5] for r in rows], float),
                closed=np.array([r[6:9] for r in rows], bool), source=str(path))


def street_graph(ways: Ways, mode: str = "car") -> StreetGraph:
    """The directed graph of ``mode`` (car, ebike, walk); parallel edges keep the fastest."""
    if mode not in PROFILES:
        raise ParameterError(f"unknown mode '{mode}': choose one of {', '.join(PROFILES)}")
    k = PROFILES.index(mode)
    kmh = np.array([np.nan if SPEEDS[h][k] is None else SPEEDS[h][k] for h in ways.highway], float)
    if mode == "car":
        kmh = np.where(np.isfinite(ways.maxspeed), np.fmin(kmh, ways.maxspeed), kmh)
    ok = np.isfinite(kmh) & (kmh > 0) & ~ways.closed[:, k]
    ow = np.zeros(len(ok), np.int8) if mode == "walk" else (ways.oneway if mode == "car" else ways.oneway_bike)
    ms = np.zeros(len(ok), np.int64)
    ms[ok] = np.maximum(1, np.rint(ways.length_m[ok] / (kmh[ok] / 3.6) * 1000.0)).astype(np.int64)
    fwd, bwd = ok & (ow >= 0), ok & (ow <= 0)
    u = np.r_[ways.u[fwd], ways.v[bwd]]
    v = np.r_[ways.v[fwd], ways.u[bwd]]
    t = np.r_[ms[fwd], ms[bwd]]
    length = np.r_[ways.length_m[fwd], ways.length_m[bwd]]
    keep = u != v
    u, v, t, length = u[keep], v[keep], t[keep], length[keep]
    order = np.lexsort((t, v, u))              # fastest first among parallel edges
    u, v, t, length = u[order], v[order], t[order], length[order]
    first = np.r_[True, (u[1:] != u[:-1]) | (v[1:] != v[:-1])]
    u, v, t, length = u[first], v[first], t[first], length[first]
    n = len(ways.lat)
    csr = sparse.csr_matrix((t.astype(float), (u, v)), shape=(n, n))
    return StreetGraph(mode, ways.lat, ways.lon, ways.node_id, u, v, t, length, csr)
