"""``simulate``: promise and path per parcel, then the capacity simulation.

Parcels the network cannot route (destination unreachable) are not
simulated; they are counted as ``unroutable``, never dropped silently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.progress import Progress, or_none
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.sim.engine import DEFAULT_HORIZON, RawResult, run_paths
from parcelnet.sim.paths import Paths, assign_paths


@dataclass(frozen=True, eq=False)
class SimulationResult:
    """A simulated day held in memory: the parcels, their paths, and the run's outputs."""

    network: Network
    parcels: Parcels
    paths: Paths
    raw: RawResult               # for the routable parcels, in the order of ``routable``
    routable: np.ndarray         # bool per parcel
    horizon_end: int
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def parcel_id(self) -> np.ndarray:
        return self.parcels.parcel_id

    @property
    def created(self) -> np.ndarray:
        return self.parcels.created_minute

    @property
    def origin(self) -> np.ndarray:
        return self.parcels.origin_pos

    @property
    def dest(self) -> np.ndarray:
        return self.parcels.dest_pos

    @cached_property
    def promise(self) -> np.ndarray:
        """Promised minute per parcel; -1 = unroutable."""
        return np.where(self.paths.promise < INF, self.paths.promise, -1)

    @cached_property
    def delivered(self) -> np.ndarray:
        """Delivered minute per parcel; -1 = not delivered (or unroutable)."""
        out = np.full(len(self.parcel_id), -1, np.int64)
        out[self.routable] = self.raw.delivered
        return out

    def table(self, with_paths: bool = True) -> pd.DataFrame:
        """Per-parcel results: parcel_id, promised_minute, delivered_minute, path."""
        df = pd.DataFrame({
            "parcel_id": self.parcel_id,
            "promised_minute": pd.array(np.where(self.promise >= 0, self.promise, 0), "Int64"),
            "delivered_minute": pd.array(np.where(self.delivered >= 0, self.delivered, 0), "Int64"),
        })
        df.loc[self.promise < 0, "promised_minute"] = pd.NA
        df.loc[self.delivered < 0, "delivered_minute"] = pd.NA
        if with_paths:
            text = self.paths.as_text(self.network.lane_id_array)
            pid = self.paths.path_id
            df["path"] = np.where(pid >= 0, text[np.maximum(pid, 0)] if len(text) else "", "")
        return df


    def journeys(self) -> pd.DataFrame:
        """Each routable parcel's journey, one row per facility on its path (run with
        ``record_hops``): ``parcel_id, hop, facility_id, sorted_minute, lane_id,
        departed_minute, arrived_minute``. Hop 0 is the origin; the last is the destination
        station, with no lane (missing). ``arrived_minute`` is when the lane's trip reached the next
        facility (its departure plus the lane's duration). Minutes are -1 (and the times
        after them) where the parcel had not got that far by the end of the run."""
        h = self.raw.hops
        if h is None:
            raise ParameterError("this run did not record hops: simulate(..., record_hops=True)")
        tt = self.network.timetable
        pid = self.paths.path_id[self.routable]
        size = np.diff(h.ptr)
        n_hops = int(h.ptr[-1])
        hop = np.arange(n_hops) - np.repeat(h.ptr[:-1], size)
        last = hop == np.repeat(size - 1, size)
        lane_at = np.repeat(self.paths.path_ptr[pid], size) + hop
        lane = np.where(last, -1, self.paths.path_lanes[np.minimum(lane_at, len(self.paths.path_lanes) - 1)]
                        if len(self.paths.path_lanes) else -1)
        first = hop == 0
        prev_lane = np.where(first, -1, self.paths.path_lanes[np.maximum(lane_at - 1, 0)]
                             if len(self.paths.path_lanes) else -1)
        origin = np.repeat(self.parcels.origin_pos[self.routable], size)
        fac = np.where(first, origin, tt.lane_to[np.maximum(prev_lane, 0)])
        dur = np.where(lane >= 0, tt.lane_duration[np.maximum(lane, 0)], 0)
        dep = np.where(last, -1, h.boarded)
        lane_id = self.network.lane_id_array[np.maximum(lane, 0)].astype(object)
        lane_id[lane < 0] = None
        return pd.DataFrame({
            "parcel_id": np.repeat(self.parcel_id[self.routable], size),
            "hop": hop,
            "facility_id": self.network.facility_index[fac].astype(object),
            "sorted_minute": h.sorted,
            "lane_id": lane_id,
            "departed_minute": dep,
            "arrived_minute": np.where(dep >= 0, dep + dur, -1),
        })


def simulate(network: Network, parcels: Parcels, *, horizon_minutes: int | None = None,
             progress: Progress | None = None, paths: Paths | None = None,
             record_hops: bool = False, split=None) -> SimulationResult:
    """Simulate ``parcels`` on ``network`` (docs/simulation.md).

    Reports the stages "paths" (parcels routed) and "simulation" (parcels delivered or done)
    to ``progress``. ``paths``: those of an earlier run of the same parcels on a network with
    the same timetable (capacities do not change promises or paths). ``record_hops``: also
    record each parcel's journey, hop by hop (:meth:`SimulationResult.journeys`). ``split``
    (:class:`parcelnet.sim.partition.Split`): run the day split across partitions, with the
    same results."""
    n = len(parcels)
    progress = or_none(progress)
    t0 = time.perf_counter()
    if paths is None:
        paths = assign_paths(PromiseEngine(network), parcels, progress=progress)
    t1 = time.perf_counter()
    ok = paths.path_id >= 0
    created = parcels.created_minute
    horizon = DEFAULT_HORIZON if horizon_minutes is None else int(horizon_minutes)
    t_end = int(created.max()) + horizon if n else 0
    # H counts from the last creation of ALL parcels (unroutable ones too), as kpis report it
    sim_horizon = t_end - int(created[ok].max()) if ok.any() else horizon
    raw = run_paths(network, parcels.take(ok), paths.path_ptr, paths.path_lanes,
                    horizon_minutes=sim_horizon, check=False, path_id=paths.path_id[ok],
                    progress=progress, record_hops=record_hops, split=split)
    t2 = time.perf_counter()
    return SimulationResult(network, parcels, paths, raw, ok, t_end,
                            {"paths": t1 - t0, "simulation": t2 - t1})
