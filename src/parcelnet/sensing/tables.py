"""The sensing tables, read from CSV and checked: sales ``date,region,sku,units``,
signals ``date,region,sku,mentions[,kind]``, a backtest's forecasts
``date,region,sku,horizon,units_forecast`` and viral bursts ``date,region,sku``
(docs/sensing.md). Regions are province names
(``places.csv`` admin1); dates are YYYY-MM-DD; units and mentions are numbers >= 0; a kind
is one of KINDS. Each check names file, line, field and why."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet import tables as T
from parcelnet.errors import ValidationError

SALES_COLUMNS = ("date", "region", "sku", "units")
SIGNAL_COLUMNS = ("date", "region", "sku", "mentions")
BACKTEST_COLUMNS = ("date", "region", "sku", "horizon", "units_forecast")
BURST_COLUMNS = ("date", "region", "sku")
KINDS = ("post", "repost", "livestream", "pre-sale deposit")


def _dates(df: pd.DataFrame, file: str) -> pd.Series:
    d = pd.to_datetime(df["date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    if d.isna().any():
        i = int(np.flatnonzero(d.isna().to_numpy())[0])
        raise ValidationError(f"'{df['date'].iat[i]}' is not a date (YYYY-MM-DD)", file=file,
                              row=T.line(i), field="date")
    return d.dt.strftime("%Y-%m-%d")


def _read(path, columns, value: str | None, regions,
          min_rows: int = 1) -> tuple[pd.DataFrame, str, pd.DataFrame]:
    """(the checked columns, the file's name, the file as read: its text columns)."""
    file = Path(path).name
    df = T.read_csv(path, columns, min_rows=min_rows, what="rows")
    out = pd.DataFrame({"date": _dates(df, file)})
    T.refs(df, file, "region", pd.Index(list(regions)), "region (a province, as places.csv admin1)")
    out["region"] = df["region"].to_numpy(object)
    empty = (df["sku"].str.strip() == "").to_numpy()
    if empty.any():
        raise ValidationError("empty SKU", file=file, row=T.line(int(np.flatnonzero(empty)[0])),
                              field="sku")
    out["sku"] = df["sku"].to_numpy(object)
    if value is not None:
        out[value] = T.floats(df, file, value, lo=0)
    return out, file, df


def read_sales(path: str | os.PathLike, regions) -> pd.DataFrame:
    return _read(path, SALES_COLUMNS, "units", regions)[0]


def read_signals(path: str | os.PathLike, regions) -> pd.DataFrame:
    out, file, raw = _read(path, SIGNAL_COLUMNS, "mentions", regions)
    if "kind" in raw.columns:
        codes = T.choice(raw, file, "kind", KINDS)
        out["kind"] = np.array(KINDS, dtype=object)[codes]
    return out


def read_backtest(path: str | os.PathLike, regions) -> pd.DataFrame:
    """A backtest's forecasts (``parcelnet sense backtest``'s output); horizon is a whole
    number of days, at least 1, and each date, region, SKU and horizon comes once."""
    out, file, raw = _read(path, BACKTEST_COLUMNS, "units_forecast", regions)
    out["horizon"] = T.ints(raw, file, "horizon", lo=1)
    dup = out.duplicated(["date", "region", "sku", "horizon"]).to_numpy()
    if dup.any():
        raise ValidationError("a second forecast of the same date, region, SKU and lead time",
                              file=file, row=T.line(int(np.flatnonzero(dup)[0])), field="horizon")
    return out


def read_bursts(path: str | os.PathLike, regions) -> pd.DataFrame:
    """Viral bursts, each on its first day of mentions: ``date,region,sku`` and any other
    columns (``parcelnet sense generate``'s bursts.csv adds the strength). A world may have
    none: the header alone is a table of no bursts."""
    return _read(path, BURST_COLUMNS, None, regions, min_rows=0)[0]
