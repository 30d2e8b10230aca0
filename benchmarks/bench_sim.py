"""Capacity simulation speed, side by side with the SimPy peer (tests/oracles/simpy_peer.py).

    python benchmarks/bench_sim.py --network DIR peer [--parcels 100000]
    python benchmarks/bench_sim.py --network DIR day --parcels 30000000 [--day normal]
    python benchmarks/bench_sim.py --network DIR stream --parcels 545000000 [--day normal]

``peer``: the same parcels (the demand model) with the same paths on the same network, with
capacities scaled to the sample (so that sorters and trips bind as on the full day). It checks
that every delivered minute is identical and prints parcels per second for each simulator.
Path choice (the promise engine) is timed apart: both simulators take the paths as input.

``day``: generate and simulate a whole day sample. It prints the time of each stage and the
process's peak memory (resident set).

``stream``: the same, streamed (``parcelnet.sim.stream``): each block of parcels is sampled,
looked up in the route table and simulated before the next is made, so a whole 545M or 777M
day fits in memory. Capacities are scaled to the sample's normal-day equivalent: a peak day
of 777M runs on the full capacities of the network (built for a normal day of 545M).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests.oracles

from parcelnet.demand import sample_parcels  # noqa: E402
from parcelnet.network.pnf import load_network, write_pnf  # noqa: E402
from parcelnet.network.scale import scale_capacity  # noqa: E402
from parcelnet.promise import PromiseEngine  # noqa: E402
from parcelnet.sim.engine import run_paths  # noqa: E402
from parcelnet.sim.kpis import kpis  # noqa: E402
from parcelnet.sim.paths import assign_paths  # noqa: E402
from parcelnet.sim.run import simulate  # noqa: E402
from parcelnet.viz.console import progress_bars  # noqa: E402


def _volume(net) -> float:
    return net.parcels_per_day or 545_000_000


def peer(a) -> dict:
    from tests.oracles import simpy_peer
    base = load_network(a.network)
    net = scale_capacity(base, a.parcels / _volume(base))
    folder = Path(tempfile.mkdtemp(prefix="pn-simbench-"))
    write_pnf(net, folder)
    parcels = sample_parcels(net, a.parcels, a.day, seed=a.seed)
    ids, t, o, d = parcels.parcel_id, parcels.created_minute, parcels.origin_pos, parcels.dest_pos
    s = time.perf_counter()
    paths = assign_paths(PromiseEngine(net), parcels)
    secs_paths = time.perf_counter() - s
    ok = paths.path_id >= 0
    routable = parcels.take(ok)
    run = lambda: run_paths(net, routable, paths.path_ptr, paths.path_lanes,  # noqa: E731
                            check=False, path_id=paths.path_id[ok])
    run_paths(net, routable.take(slice(0, 10)), paths.path_ptr, paths.path_lanes, check=False,
              path_id=paths.path_id[ok][:10])                      # compile before timing
    times = []
    for _ in range(a.repeat):
        s = time.perf_counter()
        res = run()
        times.append(time.perf_counter() - s)
    ours = min(times)
    lane_ids = net.lane_id_array
    fac = net.facility_index
    rows = []
    for i in np.flatnonzero(ok):
        q = paths.path_id[i]
        rows.append((int(ids[i]), int(t[i]), fac[o[i]], fac[d[i]],
                     list(lane_ids[paths.path_lanes[paths.path_ptr[q]:paths.path_ptr[q + 1]]])))
    s = time.perf_counter()
    theirs = simpy_peer.simulate_simpy(folder, rows)
    secs_peer = time.perf_counter() - s
    got = {int(p): (int(v) if v >= 0 else None) for p, v in zip(ids[ok], res.delivered)}
    same = sum(got[p] == theirs[p] for p in got)
    late = int(np.count_nonzero((res.delivered < 0) | (res.delivered > paths.promise[ok])))
    return {"parcels": int(ok.sum()), "late_or_undelivered": late, "paths_seconds": secs_paths,
            "parcelnet_seconds": ours, "parcelnet_per_second": ok.sum() / ours,
            "simpy_seconds": secs_peer, "simpy_per_second": ok.sum() / secs_peer,
            "ratio": secs_peer / ours, "identical": f"{same}/{len(got)}"}


def day(a) -> dict:
    base = load_network(a.network)
    net = scale_capacity(base, a.parcels / _volume(base)) if a.scale else base
    s = time.perf_counter()
    parcels = sample_parcels(net, a.parcels, a.day, seed=a.seed)
    secs_demand = time.perf_counter() - s
    s = time.perf_counter()
    res = simulate(net, parcels)
    secs = time.perf_counter() - s
    k = kpis(res).to_dict()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"parcels": a.parcels, "day": a.day, "demand_seconds": secs_demand,
            "paths_seconds": res.seconds["paths"], "simulation_seconds": res.seconds["simulation"],
            "paths_plus_simulation_seconds": secs, "per_second": a.parcels / secs,
            "peak_memory_gb": peak_kb / 1024 ** 2, "on_time_share": k["on_time_share"],
            "delivered_share": k["delivered_share"]}


def stream(a) -> dict:
    from parcelnet.demand.generate import PEAK_DAY_MULTIPLE, demand_model, iter_parcel_blocks
    from parcelnet.sim.stream import simulate_blocks
    t0 = time.perf_counter()
    base = load_network(a.network)
    normal_equivalent = a.parcels / (PEAK_DAY_MULTIPLE if a.day == "peak" else 1.0)
    factor = normal_equivalent / _volume(base)
    net = scale_capacity(base, factor) if a.scale and abs(factor - 1) > 1e-9 else base
    model = demand_model(net)
    t1 = time.perf_counter()
    with progress_bars() as progress:
        res = simulate_blocks(net, iter_parcel_blocks(model, a.parcels, a.day, seed=a.seed),
                              a.parcels, progress=progress)
    t2 = time.perf_counter()
    k = res.kpis().to_dict()
    t3 = time.perf_counter()
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    sec = res.seconds
    return {"parcels": a.parcels, "day": a.day, "capacity_scale": factor if net is not base else 1.0,
            "setup_seconds": t1 - t0, "route_table_seconds": sec["route_table"],
            "demand_seconds": sec["demand"], "routes_seconds": sec["routes"],
            "simulation_seconds": sec["simulation"], "kpi_seconds": t3 - t2,
            "wall_seconds": t3 - t0, "peak_memory_gb": peak_kb / 1024 ** 2,
            "delivered_share": k["delivered_share"], "on_time_share": k["on_time_share"],
            "within_24h_share": k["within_24h_share"], "delivery_hours": k["delivery_hours"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", required=True)
    ap.add_argument("mode", choices=["peer", "day", "stream"])
    ap.add_argument("--parcels", type=int, default=100_000)
    ap.add_argument("--day", default="normal")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-scale", dest="scale", action="store_false",
                    help="day mode: keep full-day capacities")
    a = ap.parse_args()
    print(json.dumps({"peer": peer, "day": day, "stream": stream}[a.mode](a), indent=2))


if __name__ == "__main__":
    main()
