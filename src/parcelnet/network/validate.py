"""Column checks for PNF tables: each raises one :class:`ValidationError`
naming file, line (header = line 1), field and reason for the first bad row.

Tables arrive as all-string DataFrames (exactly what is in the file), so the
checks see what the user wrote, and the typed arrays they return are what the
engines use.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.errors import ValidationError

_INT = r"\s*[+-]?\d+\s*"


def _line(df: pd.DataFrame, pos: int) -> int:
    return int(pos) + 2  # header is line 1


def _first(mask: np.ndarray) -> int:
    return int(np.flatnonzero(mask)[0])


def ints(df: pd.DataFrame, file: str, col: str, lo: int | None = 0,
         hi: int | None = None) -> np.ndarray:
    """Parse an integer column; reject non-integers and values out of range."""
    s = df[col]
    ok = s.str.fullmatch(_INT).to_numpy(dtype=bool, na_value=False)
    if not ok.all():
        i = _first(~ok)
        raise ValidationError(f"'{s.iloc[i]}' is not an integer", file=file,
                              row=_line(df, i), field=col)
    digits = s.str.strip().str.lstrip("+-").str.lstrip("0").str.len().to_numpy()
    if (digits > 18).any():  # would not fit in int64 (astype would raise OverflowError)
        i = _first(digits > 18)
        raise ValidationError(f"'{s.iloc[i]}' is too large", file=file, row=_line(df, i), field=col)
    v = s.str.strip().astype("int64").to_numpy()
    if lo is not None and (v < lo).any():
        i = _first(v < lo)
        why = "is negative" if lo == 0 else f"is below the minimum {lo}"
        raise ValidationError(f"{v[i]} {why}", file=file, row=_line(df, i), field=col)
    if hi is not None and (v > hi).any():
        i = _first(v > hi)
        raise ValidationError(f"{v[i]} is above the maximum {hi}", file=file,
                              row=_line(df, i), field=col)
    return v


def floats(df: pd.DataFrame, file: str, col: str, lo: float | None = None,
           hi: float | None = None) -> np.ndarray:
    """Parse a real-number column; reject text, NaN and values out of range."""
    s = df[col]
    v = pd.to_numeric(s.str.strip(), errors="coerce").to_numpy(dtype="float64")
    bad = ~np.isfinite(v)
    if bad.any():
        i = _first(bad)
        raise ValidationError(f"'{s.iloc[i]}' is not a number", file=file,
                              row=_line(df, i), field=col)
    if lo is not None and (v < lo).any():
        i = _first(v < lo)
        raise ValidationError(f"{s.iloc[i]} is below the minimum {lo}", file=file,
                              row=_line(df, i), field=col)
    if hi is not None and (v > hi).any():
        i = _first(v > hi)
        raise ValidationError(f"{s.iloc[i]} is above the maximum {hi}", file=file,
                              row=_line(df, i), field=col)
    return v


def ids(df: pd.DataFrame, file: str, col: str) -> np.ndarray:
    """A unique, non-empty id column (ids are strings)."""
    s = df[col]
    empty = (s.str.strip() == "").to_numpy(dtype=bool)
    if empty.any():
        raise ValidationError("empty id", file=file, row=_line(df, _first(empty)), field=col)
    dup = s.duplicated().to_numpy()
    if dup.any():
        i = _first(dup)
        first = _first((s == s.iloc[i]).to_numpy())
        raise ValidationError(f"duplicate id '{s.iloc[i]}' (first at line {_line(df, first)})",
                              file=file, row=_line(df, i), field=col)
    return s.to_numpy(dtype=object)


def choice(df: pd.DataFrame, file: str, col: str, allowed: tuple[str, ...]) -> np.ndarray:
    """A column whose values come from a fixed vocabulary; returns codes."""
    s = df[col]
    codes = pd.Index(list(allowed)).get_indexer(s)  # -1 = not allowed (pd.Categorical warns on those)
    if (codes < 0).any():
        i = _first(codes < 0)
        raise ValidationError(f"'{s.iloc[i]}' is not one of {', '.join(allowed)}",
                              file=file, row=_line(df, i), field=col)
    return codes.astype(np.int8)


def refs(df: pd.DataFrame, file: str, col: str, index: pd.Index, what: str) -> np.ndarray:
    """Positions in ``index`` of the ids in ``col``; unknown ids are rejected."""
    pos = index.get_indexer(df[col])
    if (pos < 0).any():
        i = _first(pos < 0)
        raise ValidationError(f"unknown {what} '{df[col].iloc[i]}'", file=file,
                              row=_line(df, i), field=col)
    return pos.astype(np.int64)
