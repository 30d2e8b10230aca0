"""Vehicle routing with time windows by PyVRP (hybrid genetic search).

PyVRP works on integers. Distances are scaled by :data:`SCALE` and rounded for the objective.
Travel times are scaled and rounded *up*, and time windows scaled exactly (they are whole
numbers), so a route PyVRP finds feasible is feasible in double precision too. The distance
reported is recomputed in double precision from the routes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from parcelnet._deps import require
from parcelnet.errors import ParameterError
from parcelnet.lastmile.solomon import VRPTWInstance, check_routes, route_distance
from parcelnet.progress import Progress, or_none
from parcelnet.results import Result

SCALE = 1000


@dataclass(frozen=True)
class VRPSolution(Result):
    distance: float              # double precision, from the routes
    routes: list[list[int]]      # customer numbers in visiting order
    feasible: bool               # by the independent checker
    seconds: float

    @property
    def vehicles(self) -> int:
        return len(self.routes)

    def to_dict(self) -> dict:
        return {"distance": round(self.distance, 6), "vehicles": self.vehicles,
                "routes": self.routes, "feasible": self.feasible, "seconds": round(self.seconds, 2)}


def solve_vrptw(inst: VRPTWInstance, seconds: float, seed: int = 0,
                progress: Progress | None = None) -> VRPSolution:
    """Minimise total distance (no cost per vehicle) within ``seconds`` of PyVRP's search
    (the stage "route search" of ``progress``)."""
    Model = require("pyvrp", "lastmile", "routing couriers").Model
    MaxRuntime = require("pyvrp.stop", "lastmile", "routing couriers").MaxRuntime
    if not seconds > 0:
        raise ParameterError(f"the search time must be a positive number of seconds, got {seconds}")
    t0 = time.perf_counter()
    d = inst.distances()
    dist = np.rint(d * SCALE).astype(np.int64)
    dur = np.ceil(d * SCALE - 1e-9).astype(np.int64)
    m = Model()
    locs = [m.add_location(float(x), float(y)) for x, y in inst.xy]
    depot = m.add_depot(locs[0], tw_early=int(inst.ready[0]) * SCALE, tw_late=int(inst.due[0]) * SCALE)
    m.add_vehicle_type(num_available=inst.vehicles, capacity=inst.capacity, start_depot=depot,
                       end_depot=depot, tw_early=int(inst.ready[0]) * SCALE,
                       tw_late=int(inst.due[0]) * SCALE)
    for i in range(1, len(locs)):
        m.add_client(locs[i], delivery=int(inst.demand[i]), service_duration=int(inst.service[i]) * SCALE,
                     tw_early=int(inst.ready[i]) * SCALE, tw_late=int(inst.due[i]) * SCALE)
    for i, a in enumerate(locs):
        for j, b in enumerate(locs):
            if i != j:
                m.add_edge(a, b, distance=int(dist[i, j]), duration=int(dur[i, j]))
    or_none(progress).start("route search")
    res = m.solve(stop=MaxRuntime(float(seconds)), seed=int(seed), display=False)
    or_none(progress).finish()
    # PyVRP numbers clients after the depot: client k is customer k here
    routes = [[_customer(a) for a in r if a.is_client()] for r in res.best.routes() if r.num_clients()]
    ok = res.best.is_feasible() and not check_routes(inst, routes)
    return VRPSolution(route_distance(inst, routes), routes, ok, time.perf_counter() - t0)


def _customer(activity) -> int:
    """PyVRP's client index (0-based among clients) -> Solomon customer number."""
    return int(activity.idx) + 1
