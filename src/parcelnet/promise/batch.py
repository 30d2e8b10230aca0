"""Batch promises from a CSV of queries: ``query_id,origin,destination,created_minute``.

The answer file keeps every input column and adds ``promise_minute`` (empty
when unreachable) and ``path`` (lane ids joined by ``;``).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parcelnet.errors import ValidationError
from parcelnet.files import atomic_path
from parcelnet import tables as v
from parcelnet.network.model import STATION
from parcelnet.network.pnf import write_csv
from parcelnet.promise.engine import INF, MAX_CREATED_MINUTE, PromiseEngine
from parcelnet.results import Result

QUERY_COLUMNS = ("query_id", "origin", "destination", "created_minute")


@dataclass(frozen=True)
class BatchResult(Result):
    """A batch answered: queries, how many are unreachable, seconds of the engine, the file."""

    queries: int
    unreachable: int
    seconds: float
    out: str


def read_queries(engine: PromiseEngine, path: str | Path):
    """Validated queries: the table and (origin, destination, created) arrays."""
    path = Path(path)
    name = path.name
    df = v.read_csv(path, QUERY_COLUMNS, name=name)
    v.ids(df, name, "query_id")
    net = engine.network
    o = v.refs(df, name, "origin", net.facility_index, "facility")
    d = v.refs(df, name, "destination", net.facility_index, "facility")
    bad = net.timetable.kind[d] != STATION
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ValidationError(f"'{df['destination'].iloc[i]}' is not a station", file=name,
                              row=i + 2, field="destination")
    t = v.ints(df, name, "created_minute", 0, MAX_CREATED_MINUTE)
    return df, o, d, t


def paths_as_text(engine: PromiseEngine, ptr: np.ndarray, lanes: np.ndarray) -> list[str]:
    ids = engine.network.lane_id_array[lanes]
    return [";".join(s) for s in np.split(ids, ptr[1:-1])] if len(ptr) > 1 else []


def run_batch(engine: PromiseEngine, queries: str | Path, out: str | Path) -> BatchResult:
    """Answer a query file into ``out`` (written atomically; its folder is created)."""
    df, o, d, t = read_queries(engine, queries)
    t0 = time.perf_counter()
    promise, (ptr, lanes) = engine.promise_many(o, d, t, paths=True)
    secs = time.perf_counter() - t0
    reach = promise < INF
    df = df.copy()
    df["promise_minute"] = np.where(reach, promise.astype(str), "")
    df["path"] = paths_as_text(engine, ptr, lanes)
    with atomic_path(out) as tmp:        # an existing answer file is replaced only when complete
        write_csv(df, tmp)
    return BatchResult(len(df), int((~reach).sum()), secs, str(out))
