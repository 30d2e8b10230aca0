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


def simulate(network: Network, parcels: Parcels, *, horizon_minutes: int | None = None,
             progress: Progress | None = None, paths: Paths | None = None) -> SimulationResult:
    """Simulate ``parcels`` on ``network`` (docs/simulation.md).

    Reports the stages "paths" (parcels routed) and "simulation" (parcels delivered or done)
    to ``progress``. ``paths``: those of an earlier run of the same parcels on a network with
    the same timetable (capacities do not change promises or paths)."""
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
                    progress=progress)
    t2 = time.perf_counter()
    return SimulationResult(network, parcels, paths, raw, ok, t_end,
                            {"paths": t1 - t0, "simulation": t2 - t1})
