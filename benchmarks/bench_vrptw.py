"""Courier routes: PyVRP (parcelnet lastmile) and OR-Tools routing at equal time on the 56
Solomon VRPTW instances, distance-only objective, against the best-known distances.

    python benchmarks/bench_vrptw.py [--data DIR] [--seconds 5] [--only R101,C201] [--no-ortools]

DIR is ../shared/data/vrp_vrptw_solomon_gh (its solomon/ folder and BKS_vroom_2022.json, whose
"<name>_distance" entries are the distance-only best-known values). Both solvers get the same
wall time per instance; every route set is checked by parcelnet.lastmile.solomon.check_routes
in double precision. OR-Tools: parallel cheapest insertion start (path-cheapest-arc finds no first solution on R101 in 5 s), guided local search, integer costs
scaled by 1000 like PyVRP's, travel times rounded up.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parcelnet.lastmile.solomon import check_routes, read_solomon, route_distance  # noqa: E402
from parcelnet.lastmile.vrp import SCALE, solve_vrptw  # noqa: E402

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "vrp_vrptw_solomon_gh"


def ortools_vrptw(inst, seconds: float):
    from ortools.constraint_solver import pywrapcp, routing_enums_pb2
    d = inst.distances()
    dist = np.rint(d * SCALE).astype(np.int64)
    dur = np.ceil(d * SCALE - 1e-9).astype(np.int64) + (inst.service[:, None] * SCALE)
    n = len(inst.demand)
    man = pywrapcp.RoutingIndexManager(n, inst.vehicles, 0)
    r = pywrapcp.RoutingModel(man)
    dcb = r.RegisterTransitCallback(lambda a, b: int(dist[man.IndexToNode(a), man.IndexToNode(b)]))
    r.SetArcCostEvaluatorOfAllVehicles(dcb)
    tcb = r.RegisterTransitCallback(lambda a, b: int(dur[man.IndexToNode(a), man.IndexToNode(b)]))
    horizon = int(inst.due[0]) * SCALE
    r.AddDimension(tcb, horizon, horizon, False, "time")
    time_dim = r.GetDimensionOrDie("time")
    for i in range(1, n):
        time_dim.CumulVar(man.NodeToIndex(i)).SetRange(int(inst.ready[i]) * SCALE, int(inst.due[i]) * SCALE)
    for v in range(inst.vehicles):
        time_dim.CumulVar(r.Start(v)).SetRange(int(inst.ready[0]) * SCALE, horizon)
        time_dim.CumulVar(r.End(v)).SetRange(int(inst.ready[0]) * SCALE, horizon)
    ccb = r.RegisterUnaryTransitCallback(lambda a: int(inst.demand[man.IndexToNode(a)]))
    r.AddDimensionWithVehicleCapacity(ccb, 0, [inst.capacity] * inst.vehicles, True, "load")
    p = pywrapcp.DefaultRoutingSearchParameters()
    p.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PARALLEL_CHEAPEST_INSERTION
    p.local_search_metaheuristic = routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
    p.time_limit.FromMilliseconds(int(seconds * 1000))
    sol = r.SolveWithParameters(p)
    if sol is None:
        return None
    routes = []
    for v in range(inst.vehicles):
        i, route = sol.Value(r.NextVar(r.Start(v))), []
        while not r.IsEnd(i):
            route.append(man.IndexToNode(i))
            i = sol.Value(r.NextVar(i))
        if route:
            routes.append(route)
    return routes


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT)
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--only", default="")
    ap.add_argument("--no-ortools", action="store_true")
    a = ap.parse_args()
    bks = json.loads((a.data / "BKS_vroom_2022.json").read_text())
    files = sorted((a.data / "solomon").glob("*.txt"))
    if a.only:
        files = [f for f in files if f.stem in a.only.split(",")]
    gaps, ogaps = [], []
    for f in files:
        inst = read_solomon(f)
        best = bks[f"{f.stem}_distance"]["best_known_cost"]
        s = solve_vrptw(inst, a.seconds)
        gap = 100 * (s.distance / best - 1)
        gaps.append(gap)
        row = {"instance": f.stem, "bks": best, "pyvrp": round(s.distance, 2), "pyvrp_gap_pct": round(gap, 3),
               "pyvrp_vehicles": s.vehicles, "pyvrp_feasible": s.feasible}
        if not a.no_ortools:
            routes = ortools_vrptw(inst, a.seconds)
            if routes is None or check_routes(inst, routes):
                row["ortools"] = None
            else:
                od = route_distance(inst, routes)
                ogaps.append(100 * (od / best - 1))
                row.update({"ortools": round(od, 2), "ortools_gap_pct": round(ogaps[-1], 3),
                            "ortools_vehicles": len(routes)})
        print(json.dumps(row), flush=True)
    print(f"PyVRP: mean gap {np.mean(gaps):.3f}% over {len(gaps)} instances, worst {np.max(gaps):.3f}%")
    if ogaps:
        print(f"OR-Tools: mean gap {np.mean(ogaps):.3f}% over {len(ogaps)} feasible of {len(files)}, "
              f"worst {np.max(ogaps):.3f}%")


if __name__ == "__main__":
    main()
