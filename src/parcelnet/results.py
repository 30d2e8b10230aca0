"""Typed results and their plain-JSON form.

Every result a compute function returns is a frozen dataclass with ``to_dict()``: plain
Python types only (``int``, ``float``, ``str``, ``bool``, ``None``, lists and dicts), no numpy
scalars, no NaN (it becomes ``None``), so ``json.dumps(result.to_dict(), allow_nan=False)``
always works. The CLI's ``--json`` and the web service serialise exactly that.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import PurePath
from typing import Any

import numpy as np
import pandas as pd


def jsonable(value: Any) -> Any:
    """``value`` as plain JSON types: numpy scalars and arrays, DataFrames (a list of
    records), Series, paths, results (their ``to_dict()``), sets and tuples (lists); NaN and
    infinities become None."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.bool_):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    if hasattr(value, "to_dict") and (dataclasses.is_dataclass(value) or isinstance(value, Result)):
        return jsonable(value.to_dict())
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, pd.DataFrame):
        return [{str(k): jsonable(v) for k, v in r.items()} for r in value.to_dict("records")]
    if isinstance(value, pd.Series):
        return [jsonable(v) for v in value.tolist()]
    if isinstance(value, PurePath):
        return str(value)
    if value is pd.NA or value is pd.NaT:
        return None
    if dataclasses.is_dataclass(value):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    raise TypeError(f"{type(value).__name__} has no JSON form")


def internal(**kw) -> Any:
    """A dataclass field left out of ``to_dict()`` (arrays kept for other code, networks)."""
    meta = {**kw.pop("metadata", {}), "json": False}
    return dataclasses.field(metadata=meta, **kw)


class Result:
    """Base of result dataclasses: ``to_dict()`` gives every field not marked
    :func:`internal`, as plain JSON types. Results whose JSON has another shape override it."""

    def to_dict(self) -> dict:
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)
                if f.metadata.get("json", True)}
