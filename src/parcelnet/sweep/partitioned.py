"""One day split across Ray actors (``parcelnet simulate --engine ray --partitions K``).

Each partition of :mod:`parcelnet.sim.partition` lives in a Ray actor, with its own
compiled state: the network and the routes come from Ray's object store (read only, shared
by the actors of a machine); everything the partition changes (its pools, its creations,
its delivery log) is its own. The driver steps all actors through a window at once, then
hands the loads that crossed to the partitions they go to: the barrier.

**Failure.** A lost actor (its process killed, its node gone, or killed by Ray's memory
monitor when the node runs out of memory) fails the run at the next barrier with :class:`~parcelnet.errors.WorkerLostError`, naming the partition and the window.
Actors are not restarted: a partition's state lives only in its actor, so a restarted one
could not go on, and the run never returns partial results.

**numba.** The driver compiles (or loads) the kernels once, on a tiny split day, before any
actor starts, so actors load compiled code from the on-disk cache instead of compiling it at
once and racing on its files.
"""

from __future__ import annotations

import resource
import time

import numpy as np

from parcelnet._deps import require
from parcelnet.errors import WorkerLostError
from parcelnet.network.model import Network
from parcelnet.sim.partition import Partition, Partitioning, Split, Step


class PartitionWorker:
    """A partition in a Ray actor: :class:`~parcelnet.sim.partition.Partition`'s calls, and
    its process's peak memory."""

    def __init__(self, network: Network, p: int, part: np.ndarray, k: int, route: np.ndarray,
                 first_minute: int, t_end: int, keep_sorted: bool = True):
        self.part = Partition(network, p, part, k, route, first_minute, t_end, keep_sorted)

    def feed(self, index, start, origin, created) -> None:
        self.part.feed(index, start, origin, created)

    def extend_route(self, tail) -> None:
        self.part.extend_route(tail)

    def reserve(self, parcels) -> None:
        self.part.run.reserve(parcels)

    def set_t_end(self, t_end) -> None:
        self.part.set_t_end(t_end)

    def step(self, incoming, m_stop) -> Step:
        return self.part.step(incoming, m_stop)

    def counters(self) -> dict:
        return self.part.counters()

    def pid(self) -> int:
        import os
        return os.getpid()

    def memory(self) -> dict:
        """The partition's peak state (bytes, :meth:`Partition.memory`), and the actor
        process's peak resident memory (Linux: ru_maxrss in KiB). The peak counts the pages of Ray's shared object store the
        actor read (the network, the routes, the parcels fed to it), each machine's store
        being shared by its actors."""
        return {"arrays": self.part.memory(),
                "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


def warm() -> float:
    """Compile (or load) the partition kernels in this process: a tiny day on a two-facility
    network split in two. Seconds taken."""
    import pandas as pd

    from parcelnet.parcels import Parcels
    from parcelnet.sim.engine import run_paths

    t = time.perf_counter()
    tables = {
        "facilities.csv": pd.DataFrame({"facility_id": ["A", "B"], "kind": ["station", "station"],
                                        "name": ["A", "B"], "lat": [30.0, 31.0],
                                        "lon": [120.0, 121.0], "sort_per_minute": [1, 1],
                                        "process_minutes": [0, 0]}),
        "lanes.csv": pd.DataFrame({"lane_id": ["AB"], "from_facility": ["A"], "to_facility": ["B"],
                                   "mode": ["truck"], "duration_minutes": [60],
                                   "distance_km": [100.0], "cost_per_trip": [1.0]}),
        "trips.csv": pd.DataFrame({"trip_id": ["t"], "lane_id": ["AB"], "departure_minute": [10],
                                   "capacity": [1]}),
        "waves.csv": pd.DataFrame({"station_id": ["A", "B"], "start_minute": [0, 0],
                                   "duration_minutes": [60, 60]}),
        "places.csv": pd.DataFrame({"place_id": ["p"], "name": ["p"], "lat": [30.0], "lon": [120.0],
                                    "population": [1], "admin1": ["x"], "admin2": [""],
                                    "station_id": ["A"]}),
    }
    net = Network.from_tables({k: v.astype(str) for k, v in tables.items()})
    parcels = Parcels(np.arange(2), np.zeros(2, np.int64), np.zeros(2, np.int64), np.ones(2, np.int64))
    run_paths(net, parcels, np.array([0, 1]), np.array([0]), path_id=np.zeros(2, np.int64),
              horizon_minutes=2880, split=Split(k=2, part=np.array([0, 1])))
    return time.perf_counter() - t


class RayPartitions:
    """The partitions of a run as Ray actors (:class:`parcelnet.sim.partition.Partitions`)."""

    def __init__(self, network: Network, pt: Partitioning, route: np.ndarray, first_minute: int,
                 t_end: int, keep_sorted: bool = True, address: str | None = None):
        ray = require("ray", "ray", "parcelnet simulate --engine ray")
        self.ray = ray
        if not ray.is_initialized():
            ray.init(address=address, include_dashboard=False, log_to_driver=False)
        self.warm_seconds = warm()
        cpus = float(ray.cluster_resources().get("CPU", 1))
        actor = ray.remote(num_cpus=min(1.0, cpus / pt.k), max_restarts=0)(PartitionWorker)
        net_ref, route_ref = ray.put(network), ray.put(np.ascontiguousarray(route))
        self.actors = [actor.remote(net_ref, p, pt.part, pt.k, route_ref, first_minute, t_end,
                                    keep_sorted) for p in range(pt.k)]
        self.window_end = None
        self._get([a.pid.remote() for a in self.actors], "while starting")

    def _get(self, refs, what: str):
        ray = self.ray
        try:
            return ray.get(refs)
        except (ray.exceptions.RayActorError, ray.exceptions.WorkerCrashedError,
                ray.exceptions.OutOfMemoryError, ray.exceptions.ObjectLostError) as e:
            lost = next((p for p, r in enumerate(refs) if _failed(ray, r)), None)
            who = f"partition {lost}'s worker" if lost is not None else "a partition's worker"
            why = ("Ray's memory monitor killed it: the node ran out of memory"
                   if isinstance(e, ray.exceptions.OutOfMemoryError) else type(e).__name__)
            when = (f" (window ending at minute {self.window_end})"
                    if self.window_end is not None else "")
            raise WorkerLostError(f"{who} was lost {what}{when}; the run is stopped and "
                                  f"returns no results: {why}") from None

    def feed(self, p, index, start, origin, created) -> None:
        self.actors[p].feed.remote(index, start, origin, created)

    def reserve(self, p, parcels) -> None:
        self.actors[p].reserve.remote(int(parcels))

    def extend_route(self, tail) -> None:
        ref = self.ray.put(tail)
        for a in self.actors:
            a.extend_route.remote(ref)

    def set_t_end(self, t_end) -> None:
        for a in self.actors:
            a.set_t_end.remote(int(t_end))

    def submit(self, incoming, m_stop):
        return [a.step.remote(incoming[p], int(m_stop)) for p, a in enumerate(self.actors)]

    def collect(self, handle, m_stop) -> list[Step]:
        self.window_end = int(m_stop)
        return self._get(handle, "in a window")

    def ready(self, handle) -> bool:
        done, _ = self.ray.wait(handle, num_returns=len(handle), timeout=0)
        return len(done) == len(handle)

    def counters(self) -> list[dict]:
        return self._get([a.counters.remote() for a in self.actors], "at the end")

    def pids(self) -> list[int]:
        return self._get([a.pid.remote() for a in self.actors], "asked for its process")

    def memory(self) -> list[dict]:
        """Each partition's arrays and its actor process's peak resident memory, bytes."""
        return self._get([a.memory.remote() for a in self.actors], "at the end")

    def close(self) -> None:
        for a in self.actors:
            self.ray.kill(a)
        self.actors = []


def _failed(ray, ref) -> bool:
    """The call has finished, with an error (a call still running has not failed)."""
    ready, _ = ray.wait([ref], timeout=0)
    if not ready:
        return False
    try:
        ray.get(ref)
        return False
    except Exception:   # noqa: BLE001 - any failure of this actor's call marks it
        return True


def ray_split(k: int, address: str | None = None, window: int | None = None,
              part: np.ndarray | None = None) -> Split:
    """A :class:`~parcelnet.sim.partition.Split` whose partitions run as Ray actors."""
    def make(network, pt, route, first_minute, t_end, keep_sorted=True):
        return RayPartitions(network, pt, route, first_minute, t_end, keep_sorted, address=address)
    return Split(k=k, part=part, window=window, partitions=make)
