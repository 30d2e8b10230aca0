"""Real geography for parcelnet: places, outlines and coordinate helpers.

All data is packaged under ``parcelnet/geo/data`` (see its PROVENANCE.md).
"""

from parcelnet.geo.coords import (gcj02_to_wgs84, haversine_km, pairwise_km,
                                  wgs84_to_gcj02)
from parcelnet.geo.countries import country_info, list_countries
from parcelnet.geo.outlines import load_outlines
from parcelnet.geo.places import load_places

__all__ = [
    "country_info",
    "gcj02_to_wgs84",
    "haversine_km",
    "list_countries",
    "load_outlines",
    "load_places",
    "pairwise_km",
    "wgs84_to_gcj02",
]
