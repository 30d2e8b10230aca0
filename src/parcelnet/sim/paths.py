"""Promise and path for every parcel, chosen at creation (capacity ignored).

Parcels from one origin whose ready minutes fall before the same breakpoint
and who go to the same station share one search result, so they share one
path. The path table has one row per such (origin, breakpoint, destination),
and each parcel gets the index of its row. That keeps tens of millions of
parcels in a few hundred MB.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.promise import _kernels as PK
from parcelnet.parcels import Parcels
from parcelnet.progress import Progress, or_none
from parcelnet.promise.engine import INF, PromiseEngine

PATHS_STAGE = "paths"


@dataclass(frozen=True)
class Paths:
    promise: np.ndarray     # int64 per parcel; INF = unroutable (station unreachable)
    path_id: np.ndarray     # int64 per parcel, row of the path table (-1 when unroutable)
    path_ptr: np.ndarray    # CSR over path rows
    path_lanes: np.ndarray  # lane positions

    def as_text(self, lane_ids: np.ndarray) -> np.ndarray:
        """Each path row as lane ids joined by ';' (object array, one entry per row)."""
        ids = lane_ids[self.path_lanes]
        return np.array([";".join(s) for s in np.split(ids, self.path_ptr[1:-1])]
                        if len(self.path_ptr) > 1 else [], dtype=object)


def assign_paths(engine: PromiseEngine, parcels: Parcels, progress: Progress | None = None) -> Paths:
    """Promise and a promise-achieving path for every parcel. Reports the stage "paths" (parcels
    routed) to ``progress``."""
    origin, dest, created = parcels.origin_pos, parcels.dest_pos, parcels.created_minute
    m = len(origin)
    progress = or_none(progress)
    progress.start(PATHS_STAGE, m)
    n_fac = engine.n
    lane_from = engine.network.timetable.lane_from
    promise = np.full(m, INF, np.int64)
    path_id = np.full(m, -1, np.int64)
    ptrs, lanes_all = [np.zeros(1, np.int64)], []
    rows = 0
    offset = 0
    order = np.argsort(origin, kind="stable")
    cuts = np.flatnonzero(np.diff(origin[order])) + 1
    for idx in (np.split(order, cuts) if m else []):
        o = int(origin[idx[0]])
        found = engine.origin_searches(o, created[idx])
        if found is not None:
            ready, pred, row, shift = found
            key = row * n_fac + dest[idx]
            ukey, inv = np.unique(key, return_inverse=True)
            urow, udest = ukey // n_fac, ukey % n_fac
            res, last = engine.deliver_rows(ready, o, urow, udest)
            ok = res[inv] < INF
            promise[idx] = np.where(ok, res[inv] + shift, INF)
            path_id[idx] = np.where(ok, rows + inv, -1)
            p, lanes = PK.trace_paths(pred, urow, last, lane_from)
            ptrs.append(p[1:] + offset)
            lanes_all.append(lanes)
            rows += len(ukey)
            offset += len(lanes)
        progress.advance(len(idx))
    progress.finish()
    path_ptr = np.concatenate(ptrs)
    path_lanes = np.concatenate(lanes_all) if lanes_all else np.zeros(0, np.int64)
    return Paths(promise, path_id, path_ptr, path_lanes)
