"""Places (cities / county-level units) per country from the packaged tables.

China: one row per county-level unit of the 2025 MCA code table, then the places of the
township areas (prefectures whose townships sit directly under them, 东莞 and the like): a
seat place keyed by the prefecture code and township places keyed by 9-digit township codes.
Other countries: GeoNames cities1000. See ``data/PROVENANCE.md`` for the sources.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from parcelnet.errors import NotFoundError
from parcelnet.geo.countries import data_file, normalize_country

__all__ = ["load_places", "PLACE_COLUMNS"]

PLACE_COLUMNS = ("place_id", "name", "lat", "lon", "population", "admin1", "admin2")


def _read(name: str, **kw) -> pd.DataFrame:
    with data_file(name).open("rb") as fh:
        return pq.read_table(fh, **kw).to_pandas()


def _normalise(df: pd.DataFrame) -> pd.DataFrame:
    """Enforce the documented column order and dtypes."""
    df = df.reset_index(drop=True)
    df["place_id"] = df["place_id"].astype(str)
    for col in ("name", "admin1", "admin2", "group"):
        df[col] = df[col].fillna("").astype(str)
    df["lat"] = df["lat"].astype(np.float64)
    df["lon"] = df["lon"].astype(np.float64)
    df["population"] = df["population"].clip(lower=0).astype(np.int64)
    rest = [c for c in df.columns if c not in PLACE_COLUMNS]
    return df[list(PLACE_COLUMNS) + rest]


@lru_cache(maxsize=1)
def _world() -> pd.DataFrame:
    return _read("places_world.parquet")


@lru_cache(maxsize=32)
def _places(country: str) -> pd.DataFrame:
    if country == "CN":
        return _normalise(_read("places_cn.parquet"))
    w = _world()
    df = w[w["country"] == country].drop(columns="country").assign(group="")
    if df.empty:
        raise NotFoundError(f"country '{country}' has no places in GeoNames cities1000")
    return _normalise(df)


def load_places(country: str) -> pd.DataFrame:
    """Places of one country (ISO alpha-2), WGS-84, leading columns ``PLACE_COLUMNS``.

    Extra columns: ``group`` (city-level unit key; "" outside China), for China
    ``name_zh``, ``admin1_zh``, ``admin2_zh``, ``adcode``, ``population_source``;
    elsewhere ``admin1_code`` and ``feature_code``. China's ``place_id`` is a county's
    6-digit code, or in a township area the prefecture's code (its seat) or a township's
    9-digit code. Returns a fresh copy.
    """
    return _places(normalize_country(country)).copy()
