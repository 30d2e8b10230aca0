"""Country metadata (GeoNames country info) from the packaged tables."""

from __future__ import annotations

import gzip
import json
from functools import lru_cache
from importlib.resources import files
from typing import Any

from parcelnet.errors import NotFoundError

__all__ = ["country_info", "list_countries", "normalize_country"]


def data_file(name: str):
    """Traversable for a file in ``parcelnet/geo/data``."""
    return files("parcelnet.geo") / "data" / name


@lru_cache(maxsize=1)
def _countries() -> dict[str, dict[str, Any]]:
    with data_file("countries.json.gz").open("rb") as fh:
        return json.loads(gzip.decompress(fh.read()).decode("utf-8"))


def normalize_country(code: object) -> str:
    """Upper-case ISO 3166 alpha-2 code, or NotFoundError if GeoNames does not know it."""
    key = code.strip().upper() if isinstance(code, str) else ""
    if key not in _countries():
        raise NotFoundError(
            f"unknown country {code!r}: not an ISO 3166 alpha-2 code known to GeoNames")
    return key


def country_info(code: str) -> dict[str, Any]:
    """Name, ISO3, population, continent, capital, area and place count of a country."""
    return dict(_countries()[normalize_country(code)])


def list_countries() -> list[str]:
    """Sorted ISO alpha-2 codes of the countries that have places."""
    return sorted(k for k, v in _countries().items() if v["n_places"] > 0)
