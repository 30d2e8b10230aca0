"""What an exact capacity simulator has to beat on a network, measured three ways.

    python benchmarks/sim_floor.py --network DIR [--parcels 1000000] [--day normal]
                                   [--simpy-per-second 23400]

1. **The walk.** The cheapest loop that visits every hop of every parcel: at each lane of its
   path, the parcel's next departure after its sorter's process time (one binary search), then
   the delivery wave. No queues, no capacities, no ordering: less than any per-parcel
   simulator does. Timed in parcel_id order (the order parcels are created) and in path order
   (parcels sharing a path side by side, the most cache-friendly order there is). Its result
   is each parcel's delivery with unlimited capacity, checked against the promise.
2. **Perfect grouping.** Parcels on the same departure of a lane with the same remaining path
   stay together to their destination unless a capacity splits them, so a simulator that moved
   such groups as one would do its hop work per group. On the same uncongested schedule this
   counts the groups at each hop: (lane, departure minute, remaining path). Creation cohorts
   are the parcels sharing origin, creation minute and path.
3. **The grouped simulator.** ``grouped_sim.py`` moves such groups as one, exactly; it runs
   beside parcelnet's kernel (``run_paths``) on the same parcels, with capacities scaled to
   the sample as ``bench_sim.py peer`` does, and both must give identical delivered minutes.
   Its counters say how often a full sorter or trip splits a run, which forces ordering the
   run's parcels one by one.

With ``--simpy-per-second`` (the peer's measured rate, from ``bench_sim.py peer``) it also
prints the time a parcel may take for parcelnet to be 1,000x faster.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))   # tests.oracles

from parcelnet.demand import sample_parcels  # noqa: E402
from parcelnet.errors import ParcelnetError  # noqa: E402
from parcelnet.network.pnf import load_network  # noqa: E402
from parcelnet.network.rules import next_departure, wave_end  # noqa: E402
from parcelnet.network.scale import scale_capacity  # noqa: E402
from parcelnet.promise import PromiseEngine  # noqa: E402
from parcelnet.sim.engine import Prepared, run_paths  # noqa: E402
from parcelnet.sim.paths import assign_paths  # noqa: E402
from tests.oracles.grouped_sim import path_nodes, simulate_grouped  # noqa: E402


@njit(cache=True)
def walk(created, origin, dest, path_id, path_ptr, path_lanes, process, lane_to, lane_duration,
         dep_ptr, dep_minute, wave_ptr, wave_start, wave_duration, out, start, node_next, node,
         departure):
    """Delivery of every parcel with unlimited capacity: one departure look-up per hop. When
    ``node`` is not empty, each parcel-hop's node (its lane and the path left after it, from
    ``grouped_sim.path_nodes``: ``start`` per path row, ``node_next``) and departure minute are
    recorded too."""
    record = node.shape[0] > 0
    n = 0
    for i in range(created.shape[0]):
        m = created[i]
        f = origin[i]
        q = path_id[i]
        s = start[q] if record else 0
        for pos in range(path_ptr[q], path_ptr[q + 1]):
            ln = path_lanes[pos]
            d = next_departure(m + process[f], ln, dep_ptr, dep_minute)
            if record:
                node[n] = s
                departure[n] = d
                s = node_next[s]
                n += 1
            m = d + lane_duration[ln]
            f = lane_to[ln]
        out[i] = wave_end(m + process[f], dest[i], wave_ptr, wave_start, wave_duration)


def _best(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        s = time.perf_counter()
        fn()
        times.append(time.perf_counter() - s)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", required=True)
    ap.add_argument("--parcels", type=int, default=1_000_000)
    ap.add_argument("--day", default="normal")
    ap.add_argument("--seed", type=int, default=3)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--simpy-per-second", type=float, default=None,
                    help="the SimPy peer's measured parcels a second, for the 1,000x budget")
    a = ap.parse_args()
    if a.parcels < 1:
        ap.error("--parcels must be at least 1")
    try:
        base = load_network(a.network)
    except ParcelnetError as e:
        ap.error(str(e))
    volume = base.parcels_per_day or 545_000_000
    net = scale_capacity(base, a.parcels / volume)
    tt = net.timetable
    parcels = sample_parcels(net, a.parcels, a.day, seed=a.seed)
    o, d, t = parcels.origin_pos, parcels.dest_pos, parcels.created_minute
    paths = assign_paths(PromiseEngine(net), parcels)
    ok = paths.path_id >= 0
    o, d, t, pid, promise = o[ok], d[ok], t[ok], paths.path_id[ok], paths.promise[ok]
    pp, pl = paths.path_ptr, paths.path_lanes
    n = len(t)
    net_args = (tt.process, tt.lane_to, tt.lane_duration, tt.dep_ptr, tt.dep_minute)
    waves = (tt.wave_ptr, tt.wave_start, tt.wave_duration)
    out = np.empty(n, np.int64)
    none = np.zeros(0, np.int64)
    no_keys = (none, none, none, none)
    by_path = np.argsort(pid, kind="stable")
    t2, o2, d2, p2 = t[by_path], o[by_path], d[by_path], pid[by_path]
    walk(t[:10], o[:10], d[:10], pid[:10], pp, pl, *net_args, *waves, out, *no_keys)   # compile
    secs_id = _best(lambda: walk(t, o, d, pid, pp, pl, *net_args, *waves, out, *no_keys),
                    a.repeat)
    equal = int(np.count_nonzero(out == promise))
    secs_path = _best(lambda: walk(t2, o2, d2, p2, pp, pl, *net_args, *waves, out, *no_keys),
                      a.repeat)

    length = np.diff(pp)[pid]
    hops = int(length.sum())
    nodes = path_nodes(pp, pl, tt.lane_from, tt.lane_to, tt.n_facilities)
    node, dep = np.empty(hops, np.int64), np.empty(hops, np.int64)
    walk(t, o, d, pid, pp, pl, *net_args, *waves, out, nodes[3], nodes[1], node, dep)
    hop = np.arange(hops) - np.repeat(np.cumsum(length) - length, length)   # 0 = first lane
    assert 0 <= dep.min() and dep.max() < 1 << 20 and node.max() < 1 << 40
    key = (node << 20) | dep
    per_hop = []
    for h in range(int(hop.max(initial=-1)) + 1):
        m = hop == h
        per_hop.append({"hop": h + 1, "parcels": int(m.sum()),
                        "groups": int(len(np.unique(key[m])))})
    groups = int(len(np.unique(key)))
    cohorts = len(np.unique((pid * 20_000 + t) * 10_000 + o))
    del hop, node, dep, key

    routable = parcels.take(ok)
    ids = routable.parcel_id
    prep = Prepared(net)
    sim_args = (ids, t, o, d, pp, pl)
    run_paths(net, routable.take(slice(0, 10)), pp, pl, check=False, path_id=pid[:10])
    simulate_grouped(net, *(x[:10] for x in sim_args[:4]), pp, pl, path_id=pid[:10])
    got = {}
    secs_kernel = _best(lambda: got.update(k=run_paths(net, routable, pp, pl, check=False,
                                                       path_id=pid, prepared=prep).delivered),
                        a.repeat)
    stats = np.zeros(4, np.int64)
    secs_grouped = _best(lambda: got.update(g=simulate_grouped(net, *sim_args, path_id=pid,
                                                               prepared=prep, stats=stats,
                                                               nodes=nodes)), a.repeat)
    stats //= a.repeat
    res = {
        "parcels": n, "parcel_hops": hops, "hops_per_parcel": hops / n,
        "walk_ns_per_parcel_id_order": secs_id / n * 1e9,
        "walk_ns_per_parcel_path_order": secs_path / n * 1e9,
        "walk_equal_to_promise": f"{equal}/{n}",
        "groups": groups, "parcel_hops_per_group": hops / groups, "groups_per_hop": per_hop,
        "creation_cohorts": cohorts, "parcels_per_creation_cohort": n / cohorts,
        "kernel_seconds": secs_kernel, "grouped_seconds": secs_grouped,
        "grouped_identical": f"{int(np.count_nonzero(got['k'] == got['g']))}/{n}",
        "grouped_runs_split": int(stats[0]), "grouped_entries_sorted": int(stats[1]),
        "grouped_entries_sorted_per_parcel": int(stats[1]) / n,
        "grouped_group_handovers": int(stats[2]), "grouped_chain_links": int(stats[3]),
    }
    if a.simpy_per_second:
        res["ns_per_parcel_for_1000x"] = 1e9 / (1000 * a.simpy_per_second)
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
