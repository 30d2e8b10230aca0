"""The O2O day's inputs: stores, orders and lockers, from CSV files or tables, every row checked.

- stores: ``store_id,lat,lon,stock`` (ids unique, stock a whole number >= 0);
- orders: ``order_id,created_s,lat,lon[,units,promise_min,to_locker]`` (ids unique; created_s
  seconds from midnight, a whole number >= 0; units >= 1, default 1; promise_min minutes
  >= 1, default the day's promise; to_locker yes/no, default no);
- lockers: ``locker_id,lat,lon,slots`` (slots a whole number >= 0).

Coordinates are WGS-84 degrees in range. The ``*_table`` functions check a table already in
memory (any column types) and return it typed; the readers read a file with
:func:`parcelnet.tables.read_csv` and keep its name (``attrs["file"]``), so that later errors
about a row (a store off the street map) still name the file and line.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.o2o.city import City
from parcelnet.tables import coordinates, flags, ids, read_csv, require_columns, whole_numbers

STORE_COLUMNS = ("store_id", "lat", "lon", "stock")
ORDER_COLUMNS = ("order_id", "created_s", "lat", "lon")
LOCKER_COLUMNS = ("locker_id", "lat", "lon", "slots")


def _strings(df: pd.DataFrame, columns, file: str) -> pd.DataFrame:
    require_columns(df.columns, columns, file)
    return df.astype(str)


def _typed(out: dict, df: pd.DataFrame, file: str | None) -> pd.DataFrame:
    t = pd.DataFrame(out)
    t.attrs = {"file": file} if file else {}
    return t


def _name(df: pd.DataFrame, default: str) -> str:
    return df.attrs.get("file") or default


def _counted(df: pd.DataFrame, file: str | None, what: str, id_col: str, count_col: str) -> pd.DataFrame:
    """Places with a count: ``id_col``, lat, lon, ``count_col`` (a whole number >= 0)."""
    name = file or _name(df, f"{what} table")
    s = _strings(df, (id_col, "lat", "lon", count_col), name)
    lat, lon = coordinates(s, name)
    return _typed({id_col: ids(s, name, id_col), "lat": lat, "lon": lon,
                   count_col: whole_numbers(s, name, count_col, 0)}, df, file or df.attrs.get("file"))


def stores_table(df: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """store_id, lat, lon, stock, checked."""
    return _counted(df, file, "stores", "store_id", "stock")


def lockers_table(df: pd.DataFrame, file: str | None = None) -> pd.DataFrame:
    """locker_id, lat, lon, slots, checked."""
    return _counted(df, file, "lockers", "locker_id", "slots")


def orders_table(df: pd.DataFrame, promise_min: int = 30, file: str | None = None) -> pd.DataFrame:
    """order_id, created_s, lat, lon, units, promise_min, to_locker, checked; the optional
    columns get their defaults (1 unit, ``promise_min``, not to a locker)."""
    name = file or _name(df, "orders table")
    s = _strings(df, ORDER_COLUMNS, name)
    n = len(s)
    lat, lon = coordinates(s, name)
    return _typed({
        "order_id": ids(s, name, "order_id"), "created_s": whole_numbers(s, name, "created_s", 0),
        "lat": lat, "lon": lon,
        "units": whole_numbers(s, name, "units", 1) if "units" in s else np.ones(n, np.int64),
        "promise_min": (whole_numbers(s, name, "promise_min", 1) if "promise_min" in s
                        else np.full(n, int(promise_min), np.int64)),
        "to_locker": flags(s, name, "to_locker") if "to_locker" in s else np.zeros(n, bool)},
        df, file or df.attrs.get("file"))


def read_stores(path) -> pd.DataFrame:
    """A stores CSV (see the module); at least one store."""
    df = read_csv(path, STORE_COLUMNS, min_rows=1, what="stores")
    return stores_table(df, file=Path(path).name)


def read_orders(path, promise_min: int = 30) -> pd.DataFrame:
    """An orders CSV (see the module); at least one order. ``promise_min`` where the file
    has no promise_min column."""
    df = read_csv(path, ORDER_COLUMNS, min_rows=1, what="orders")
    return orders_table(df, promise_min, file=Path(path).name)


def read_lockers(path) -> pd.DataFrame:
    """A lockers CSV (see the module); at least one locker."""
    df = read_csv(path, LOCKER_COLUMNS, min_rows=1, what="lockers")
    return lockers_table(df, file=Path(path).name)


def random_stores(city: City, k: int, seed: int = 0, stock: int = 10**6) -> pd.DataFrame:
    """``k`` stores (at most one a node) at random street nodes of the city, each with
    ``stock`` units."""
    rng = np.random.default_rng(seed)
    sn = rng.choice(city.nodes, min(int(k), len(city.nodes)), replace=False)
    return pd.DataFrame({"store_id": [f"st{i}" for i in range(len(sn))], "lat": city.g.lat[sn],
                         "lon": city.g.lon[sn], "stock": stock})
