"""Reading CSV tables and checking their columns: the one home of these checks, used by every
reader (networks, queries, points, stops, couriers, stores, orders, lockers, addresses;
:class:`Table` for the tables that may come as Parquet: SKU orders, placements, forecasts).

Tables are read as all-string DataFrames, exactly what is in the file, so every check sees
what the user wrote. Each check raises one :class:`ValidationError` naming the file, the line
(the header is line 1, the first row line 2), the field and the reason, for the first bad row;
it returns the typed values the engines use.
"""

from __future__ import annotations

import csv
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd

from parcelnet.errors import ValidationError

_INT = r"\s*[+-]?\d+\s*"


# -- reading ------------------------------------------------------------------------------
def read_csv(path: str | os.PathLike, columns=(), *, name: str | None = None,
             min_rows: int = 0, what: str = "rows") -> pd.DataFrame:
    """A UTF-8 CSV file with a header row as an all-string DataFrame (extra columns and row
    order kept). ``columns`` must be present; with ``min_rows`` the file must have that many
    rows (``what`` names them in the message: "no stops")."""
    path = Path(path)
    name = name or path.name
    if path.is_dir():
        raise ValidationError("is a folder, not a CSV file", file=name)
    if not path.is_file():
        raise ValidationError("file not found", file=name)
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            header = next(csv.reader(fh), [])
        df = pd.read_csv(path, dtype=str, keep_default_na=False, na_filter=False,
                         encoding="utf-8", skipinitialspace=False)
    except pd.errors.EmptyDataError:
        raise ValidationError("file is empty (a header row is required)", file=name, row=1) from None
    except UnicodeDecodeError:
        raise not_utf8(path, name) from None
    except pd.errors.ParserError as e:
        m = re.search(r"Expected \d+ fields in line (\d+), saw (\d+)", str(e))
        if m:
            raise ValidationError(f"{m[2]} fields, but the header has {len(header)}",
                                  file=name, row=int(m[1])) from None
        m = re.search(r"EOF inside string starting at row (\d+)", str(e))  # 0-based line
        if m:
            raise ValidationError("a quoted field is never closed", file=name, row=int(m[1]) + 1) from None
        raise ValidationError(f"not valid CSV: {str(e).strip().splitlines()[-1]}", file=name) from None
    except csv.Error as e:
        raise ValidationError(f"not valid CSV: {e}", file=name, row=1) from None
    if not isinstance(df.index, pd.RangeIndex):
        # rows with more fields than the header: pandas would silently make the first an index
        raise ValidationError(f"{len(header) + df.index.nlevels} fields, but the header has "
                              f"{len(header)}", file=name, row=2)
    seen = set()
    for c in header:
        if c in seen:
            raise ValidationError(f"duplicate column '{c}'", file=name, row=1, field=c)
        seen.add(c)
    df = df.set_axis([str(c) for c in df.columns], axis=1)
    require_columns(df.columns, columns, name)
    if len(df) < min_rows:
        raise ValidationError(f"no {what}: the file has a header but no rows" if len(df) == 0 else
                              f"{len(df)} {what}, at least {min_rows} needed", file=name)
    return df


def not_utf8(path: Path, name: str | None = None) -> ValidationError:
    """Where the first non-UTF-8 byte is: line, and the column it falls in."""
    raw = path.read_bytes()
    try:
        raw.decode("utf-8")
        pos = 0
    except UnicodeDecodeError as e:
        pos = e.start
    line = raw.count(b"\n", 0, pos) + 1
    field = None
    if line > 1:
        header = next(csv.reader([raw[:raw.find(b"\n")].decode("utf-8", "replace")]), [])
        before = raw[raw.rfind(b"\n", 0, pos) + 1:pos].decode("utf-8", "replace")
        k = max(len(next(csv.reader([before]), [])), 1) - 1
        field = header[k].strip() if k < len(header) else None
    return ValidationError(f"not UTF-8 text (byte 0x{raw[pos]:02x})", file=name or path.name,
                           row=line, field=field)


def require_columns(present, required, file: str | None, row: int | None = 1) -> None:
    """Every column of ``required`` is among ``present`` (the header: line 1 of a CSV file;
    ``row=None`` for formats without lines, such as Parquet)."""
    have = set(map(str, present))
    for c in required:
        if c not in have:
            raise ValidationError(f"missing column '{c}'", file=file, row=row, field=c)


# -- values -------------------------------------------------------------------------------
def line(pos: int) -> int:
    """The file line of 0-based data row ``pos`` (the header is line 1)."""
    return int(pos) + 2


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def ints(df: pd.DataFrame, file: str, col: str, lo: int | None = 0,
         hi: int | None = None) -> np.ndarray:
    """Parse an integer column; reject non-integers and values out of range."""
    s = df[col]
    ok = s.str.fullmatch(_INT).to_numpy(dtype=bool, na_value=False)
    if not ok.all():
        i = _first(~ok)
        raise ValidationError(f"'{s.iloc[i]}' is not an integer", file=file, row=line(i), field=col)
    digits = s.str.strip().str.lstrip("+-").str.lstrip("0").str.len().to_numpy()
    if (digits > 18).any():  # would not fit in int64 (astype would raise OverflowError)
        i = _first(digits > 18)
        raise ValidationError(f"'{s.iloc[i]}' is too large", file=file, row=line(i), field=col)
    v = s.str.strip().astype("int64").to_numpy()
    if lo is not None and (v < lo).any():
        i = _first(v < lo)
        why = "is negative" if lo == 0 else f"is below the minimum {lo}"
        raise ValidationError(f"{v[i]} {why}", file=file, row=line(i), field=col)
    if hi is not None and (v > hi).any():
        i = _first(v > hi)
        raise ValidationError(f"{v[i]} is above the maximum {hi}", file=file, row=line(i), field=col)
    return v


def whole_numbers(df: pd.DataFrame, file: str, col: str, lo: int, hi: int | None = None) -> np.ndarray:
    """A column of whole numbers written as integers or as reals (``30`` or ``30.0``)."""
    v = pd.to_numeric(df[col].str.strip(), errors="coerce").to_numpy(float)
    bad = ~np.isfinite(v) | (v != np.round(v)) | (v < lo) | ((v > hi) if hi is not None else False)
    if bad.any():
        i = _first(bad)
        rng = f"in [{lo}, {hi}]" if hi is not None else f">= {lo}"
        raise ValidationError(f"'{df[col].iat[i]}' is not a whole number {rng}", file=file,
                              row=line(i), field=col)
    return v.astype(np.int64)


def floats(df: pd.DataFrame, file: str, col: str, lo: float | None = None,
           hi: float | None = None) -> np.ndarray:
    """Parse a real-number column; reject text, NaN and values out of range."""
    s = df[col]
    v = pd.to_numeric(s.str.strip(), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(v)
    if bad.any():
        i = _first(bad)
        raise ValidationError(f"'{s.iloc[i]}' is not a number", file=file, row=line(i), field=col)
    if lo is not None and (v < lo).any():
        i = _first(v < lo)
        raise ValidationError(f"{s.iloc[i]} is below the minimum {lo}", file=file,
                              row=line(i), field=col)
    if hi is not None and (v > hi).any():
        i = _first(v > hi)
        raise ValidationError(f"{s.iloc[i]} is above the maximum {hi}", file=file,
                              row=line(i), field=col)
    return v


def coordinates(df: pd.DataFrame, file: str, lat: str = "lat", lon: str = "lon"):
    """(lat, lon) arrays of degrees, each checked to be a number in [-90, 90] / [-180, 180]."""
    out = []
    for c, lo, hi in ((lat, -90, 90), (lon, -180, 180)):
        v = pd.to_numeric(df[c].str.strip(), errors="coerce").to_numpy(float)
        bad = ~np.isfinite(v) | (v < lo) | (v > hi)
        if bad.any():
            i = _first(bad)
            raise ValidationError(f"'{df[c].iat[i]}' is not a {c} in [{lo}, {hi}]", file=file,
                                  row=line(i), field=c)
        out.append(v)
    return out[0], out[1]


def ids(df: pd.DataFrame, file: str, col: str) -> np.ndarray:
    """A unique, non-empty id column (ids are strings)."""
    s = df[col]
    empty = (s.str.strip() == "").to_numpy(dtype=bool)
    if empty.any():
        raise ValidationError("empty id", file=file, row=line(_first(empty)), field=col)
    dup = s.duplicated().to_numpy()
    if dup.any():
        i = _first(dup)
        first = _first((s == s.iloc[i]).to_numpy())
        raise ValidationError(f"duplicate id '{s.iloc[i]}' (first at line {line(first)})",
                              file=file, row=line(i), field=col)
    return s.to_numpy(dtype=object)


def choice(df: pd.DataFrame, file: str, col: str, allowed: tuple[str, ...]) -> np.ndarray:
    """A column whose values come from a fixed vocabulary; returns codes."""
    s = df[col]
    codes = pd.Index(list(allowed)).get_indexer(s)  # -1 = not allowed (pd.Categorical warns on those)
    if (codes < 0).any():
        i = _first(codes < 0)
        raise ValidationError(f"'{s.iloc[i]}' is not one of {', '.join(allowed)}",
                              file=file, row=line(i), field=col)
    return codes.astype(np.int8)


def refs(df: pd.DataFrame, file: str, col: str, index: pd.Index, what: str) -> np.ndarray:
    """Positions in ``index`` of the ids in ``col``; unknown ids are rejected."""
    pos = index.get_indexer(df[col])
    if (pos < 0).any():
        i = _first(pos < 0)
        raise ValidationError(f"unknown {what} '{df[col].iloc[i]}'", file=file,
                              row=line(i), field=col)
    return pos.astype(np.int64)


def flags(df: pd.DataFrame, file: str, col: str) -> np.ndarray:
    """A yes/no column: 1/0, true/false, yes/no (any case; empty = no)."""
    s = df[col].str.strip().str.lower()
    yes, no = s.isin(["1", "true", "yes", "y"]), s.isin(["0", "false", "no", "n", ""])
    bad = ~(yes | no)
    if bad.any():
        i = _first(bad.to_numpy())
        raise ValidationError(f"'{df[col].iat[i]}' is not yes/no (1/0, true/false)", file=file,
                              row=line(i), field=col)
    return yes.to_numpy()


# -- CSV or Parquet, row by row -----------------------------------------------------------
class Table:
    """A CSV or Parquet table (by the ``.parquet``/``.pq`` suffix) as read, with the error
    positions of its file: a CSV line (the header is line 1) or a Parquet row (the first
    data row is row 1). Used where a table may be large enough to come as Parquet (SKU
    orders, placements, forecasts); ``what`` names it in messages."""

    def __init__(self, path, required: tuple[str, ...], what: str):
        self.path = Path(path)
        self.name = self.path.name
        self.parquet = self.path.suffix.lower() in (".parquet", ".pq")
        if not self.path.is_file():
            raise ValidationError(f"no {what} file here", file=str(self.path))
        try:
            if self.parquet:
                df = pd.read_parquet(self.path)
            else:
                df = pd.read_csv(self.path, dtype=str, keep_default_na=False, na_values=[""])
        except Exception as e:  # noqa: BLE001 - any reader failure is bad input
            raise ValidationError(f"cannot be read as {'Parquet' if self.parquet else 'CSV'} "
                                  f"({type(e).__name__}: {str(e).splitlines()[0][:120]})",
                                  file=self.name) from None
        for c in required:
            if c not in df.columns:
                raise self.error(f"no column '{c}' (the {what} table needs "
                                 f"{', '.join(required)})", header=True, field=c)
        self.df = df.reset_index(drop=True)

    def error(self, reason: str, i: int | None = None, field: str | None = None,
              header: bool = False) -> ValidationError:
        """``i``: 0-based data row."""
        if self.parquet:
            e = ValidationError(reason, file=self.name, field=field)
            if i is not None:
                where = [self.name, f"row {i + 1}"] + ([f"field '{field}'"] if field else [])
                e.args = (f"{', '.join(where)}: {reason}",)
                e.row = i + 1
            return e
        return ValidationError(reason, file=self.name, row=1 if header else
                               (None if i is None else i + 2), field=field)

    def text(self, c: str) -> np.ndarray:
        col = self.df[c]
        bad = col.isna().to_numpy()
        if bad.any():
            raise self.error("empty", int(np.flatnonzero(bad)[0]), c)
        out = col.astype(str).str.strip().to_numpy(dtype=object)
        empty = out == ""
        if empty.any():
            raise self.error("empty", int(np.flatnonzero(empty)[0]), c)
        return out

    def integers(self, c: str, lo: int) -> np.ndarray:
        col = self.df[c]
        num = pd.to_numeric(col, errors="coerce")
        vals = num.to_numpy(dtype=float, na_value=np.nan)
        bad = ~np.isfinite(vals) | (vals != np.round(vals))
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise self.error(f"'{col.iloc[i]}' is not a whole number", i, c)
        low = vals < lo
        if low.any():
            i = int(np.flatnonzero(low)[0])
            raise self.error(f"{int(vals[i])} is below {lo}", i, c)
        return vals.astype(np.int64)

    def unique(self, values: np.ndarray, c: str) -> None:
        dup = pd.Series(values).duplicated().to_numpy()
        if dup.any():
            i = int(np.flatnonzero(dup)[0])
            raise self.error(f"'{values[i]}' appears twice", i, c)

    def lookup(self, values: np.ndarray, index: dict, c: str, what: str) -> np.ndarray:
        out = np.empty(len(values), np.int64)
        for i, v in enumerate(values):
            p = index.get(v)
            if p is None:
                raise self.error(f"unknown {what} '{v}'", i, c)
            out[i] = p
        return out
