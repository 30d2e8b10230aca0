"""Route table (parcelnet.sim.routes) against assign_paths on a day of parcels.

    python benchmarks/bench_routes.py [--network DIR] [--parcels 30000000] [--day normal]
                                      [--mode lazy|eager] [--origins all|stations]
                                      [--no-paths] [--json]

Prints the route table's build time and memory, the look-up speed block by
block as the demand generator yields them (parcels per second: the first pass
includes computing the keys a lazy table meets for the first time; the second
pass, over the same parcels, is the steady state), the time assign_paths takes
for the same parcels (all at once), and whether every promise and every path
is identical. ``--no-paths`` skips assign_paths.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import time

import numpy as np
from numba import njit

from parcelnet.demand.generate import demand_model, iter_parcel_blocks
from parcelnet.network.pnf import load_network
from parcelnet.parcels import Parcels
from parcelnet.promise import PromiseEngine
from parcelnet.sim.paths import assign_paths
from parcelnet.sim.routes import RouteTable


def _rss_gb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1024 ** 3


@njit(cache=True)
def _same_paths(path_id, path_ptr, path_lanes, start, route):  # pragma: no cover - compiled
    """Parcels whose route differs from the path of assign_paths."""
    bad = 0
    for i in range(path_id.shape[0]):
        q = path_id[i]
        s = start[i]
        if q < 0 or s < 0:
            bad += (q < 0) != (s < 0)
            continue
        a, b = path_ptr[q], path_ptr[q + 1]
        same = route[s + b - a] == -1
        for t in range(b - a):
            if route[s + t] != path_lanes[a + t]:
                same = False
        bad += not same
    return bad


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", default="/tmp/bench-cn")
    ap.add_argument("--parcels", type=int, default=30_000_000)
    ap.add_argument("--day", default="normal")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--mode", choices=["lazy", "eager"], default="lazy")
    ap.add_argument("--origins", choices=["all", "stations"], default="all")
    ap.add_argument("--no-paths", dest="paths", action="store_false")
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    net = load_network(a.network)
    eng = PromiseEngine(net)
    res: dict = {"cores": os.cpu_count(), "network": net.summary(), "parcels": a.parcels}
    s = time.perf_counter()
    model = demand_model(net)
    blocks = list(iter_parcel_blocks(model, a.parcels, a.day, seed=a.seed))
    res["demand_seconds"] = time.perf_counter() - s

    # warm the compiled kernels (numba cache) on a few origins
    lazy = a.mode == "lazy"
    for mode in (True, False):
        warm = RouteTable(eng, origins=net.stations[:2], lazy=mode)
        warm.lookup(net.stations[:2], net.stations[:2], np.array([0, 1]))
    del warm

    rss0 = _rss_gb()
    rt = RouteTable(eng, origins=None if a.origins == "all" else net.stations, lazy=lazy)
    res.update({"mode": a.mode, "origins": a.origins, "build_seconds": rt.build_seconds,
                "table_mib_after_build": rt.nbytes / 2 ** 20, "keys": rt.n_keys})

    s = time.perf_counter()
    out = [rt.lookup(b.origin_pos, b.dest_pos, b.created_minute) for b in blocks]
    secs = time.perf_counter() - s
    s2 = time.perf_counter()
    for b in blocks:
        rt.lookup(b.origin_pos, b.dest_pos, b.created_minute)
    secs2 = time.perf_counter() - s2
    res.update({"blocks": len(blocks), "lookup_seconds": secs, "lookup_parcels_per_second": a.parcels / secs,
                "lookup_again_seconds": secs2, "lookup_again_parcels_per_second": a.parcels / secs2,
                "build_plus_lookup_seconds": rt.build_seconds + secs,
                "keys_built": rt.n_built, "route_entries": len(rt.route),
                "route_mib": rt.route.nbytes / 2 ** 20, "table_mib": rt.nbytes / 2 ** 20,
                "rss_growth_gib": _rss_gb() - rss0})
    promise = np.concatenate([p for p, _ in out])
    start = np.concatenate([st for _, st in out])
    del out
    res["unroutable"] = int((start < 0).sum())

    if a.paths:
        day = Parcels.concat(blocks)
        del blocks
        s = time.perf_counter()
        p = assign_paths(eng, day)
        secs_a = time.perf_counter() - s
        res.update({"assign_paths_seconds": secs_a, "assign_paths_parcels_per_second": a.parcels / secs_a,
                    "speedup_build_plus_lookup": secs_a / (secs + rt.build_seconds),
                    "speedup_lookup_again": secs_a / secs2,
                    "promises_identical": bool(np.array_equal(p.promise, promise)),
                    "paths_differing": int(_same_paths(p.path_id, p.path_ptr, p.path_lanes, start, rt.route))})
    res["peak_rss_gb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 ** 2
    if a.json:
        print(json.dumps(res, indent=2))
        return
    for k, v in res.items():
        print(f"{k:34s} {v:,.3f}" if isinstance(v, float) else f"{k:34s} {v}")


if __name__ == "__main__":
    main()
