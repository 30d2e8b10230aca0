"""Simplified map outlines (admin-1 where Natural Earth has them, else country)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pyarrow.parquet as pq

from parcelnet.geo.countries import data_file, normalize_country

__all__ = ["load_outlines"]

Outline = tuple[str, list[np.ndarray]]


@lru_cache(maxsize=1)
def _all() -> dict[str, list[Outline]]:
    with data_file("outlines.parquet").open("rb") as fh:
        t = pq.read_table(fh).to_pydict()
    out: dict[str, dict[str, list[np.ndarray]]] = {}
    for cc, name, lon, lat in zip(t["country"], t["name"], t["lon"], t["lat"]):
        ring = np.column_stack([np.asarray(lon, np.float64), np.asarray(lat, np.float64)])
        out.setdefault(cc, {}).setdefault(name, []).append(ring)
    return {cc: list(d.items()) for cc, d in out.items()}


def load_outlines(country: str) -> list[Outline]:
    """``[(name, [ring (k, 2) lon/lat WGS-84, ...]), ...]`` for a country.

    Admin-1 units (names equal to ``load_places(country)["admin1"]``) for CN,
    US, IN, BR, RU, ID, CA, AU and ZA; one entry named after the country
    elsewhere; ``[]`` for the few places-countries with no outline in the data.
    """
    code = normalize_country(country)
    return [(name, [r.copy() for r in rings]) for name, rings in _all().get(code, [])]
