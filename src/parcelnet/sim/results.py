"""Writing per-parcel results: Parquet, or CSV when the name ends in ``.csv``."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from parcelnet.sim.run import SimulationResult


def write_results(res: SimulationResult, path: str | os.PathLike) -> Path:
    """``parcel_id,promised_minute,delivered_minute,path``; empty = unroutable / not delivered.
    Written under a temporary name and renamed when complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df = res.table()
    if path.suffix.lower() == ".csv":
        df.to_csv(tmp, index=False, lineterminator="\n")
    else:
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp, compression="zstd")
    os.replace(tmp, path)
    return path
