"""A scaling model for one day split across K workers (issue 19, section 4), fed by the
single-process run: what a partitioned simulation could gain, and what bounds it.

    python benchmarks/model_partitions.py NETWORK [--parcels 777000000] [--day peak]
                                          [--k 2,4,8,16,64] [--bandwidth-gbps 10]

**Measured.** The day is simulated in one process (streamed, ``simulate_day``). Its work is
the sorter events it records per facility and hour (``RawResult.hourly``); the time per
event is the simulation's seconds over their number. A Ray barrier (K actors each answering
one call, gathered by the driver) is timed on this machine for K = 1, 2 and 4, 300 rounds.

**Partitions.** Facilities joined by a lane shorter than ``--min-window`` minutes (60) form
one group (a station and its local hub, say), so that every lane between groups takes at
least that long; groups are dealt to K partitions by longest processing time first, on
their events of the day. A lane between two partitions is cut; the window is the shortest
duration of a cut lane (conservative synchronisation: nothing sent in a window can arrive
within it).

**Projected** (not measured), for each K: compute = the time per event x the sum over
hours of the busiest partition's events in that hour (work spread evenly within an hour);
barriers = the number of windows in the day's horizon x the barrier's cost (measured up to
K = 4; beyond, its per-actor slope extended linearly); exchange = the parcels boarding cut
lanes x 40 bytes (id, minute, facility, path, hop as five int64) over the stated bandwidth.
The bound: no partitioning splits a group, so the busiest group's events in each hour are
a floor for the compute.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

from parcelnet.network.pnf import load_network
from parcelnet.network.schema import FACILITY_KINDS
from parcelnet.sim.stream import simulate_day

HUB = FACILITY_KINDS.index("hub")
BYTES_PER_PARCEL = 40


def groups_of(net, min_window: int) -> np.ndarray:
    """The group of every facility: facilities joined by a lane shorter than ``min_window``
    minutes share one (union-find), so every lane between groups takes at least that long."""
    tt = net.timetable
    parent = np.arange(tt.n_facilities)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for lane in np.flatnonzero(tt.lane_duration < min_window):
        a, b = find(int(tt.lane_from[lane])), find(int(tt.lane_to[lane]))
        if a != b:
            parent[max(a, b)] = min(a, b)
    return np.array([find(f) for f in range(tt.n_facilities)])


def deal(weights: np.ndarray, k: int) -> np.ndarray:
    """Longest processing time first: group -> partition."""
    part = np.zeros(len(weights), np.int64)
    load = np.zeros(k)
    for i in np.argsort(-weights, kind="stable"):
        j = int(np.argmin(load))
        part[i] = j
        load[j] += weights[i]
    return part


def barrier_costs(ks=(1, 2, 4), rounds: int = 300) -> dict[int, float]:
    import ray

    @ray.remote(num_cpus=0)
    class Part:
        def step(self, payload):
            return len(payload)

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             object_store_memory=100 * 1024 ** 2)
    out = {}
    try:
        for k in ks:
            actors = [Part.remote() for _ in range(k)]
            ray.get([a.step.remote(b"") for a in actors])
            t = time.perf_counter()
            for _ in range(rounds):
                ray.get([a.step.remote(b"") for a in actors])
            out[k] = (time.perf_counter() - t) / rounds
            for a in actors:
                ray.kill(a)
    finally:
        ray.shutdown()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--parcels", type=int, default=777_000_000)
    ap.add_argument("--day", default="peak")
    ap.add_argument("--k", default="2,4,8,16,64")
    ap.add_argument("--bandwidth-gbps", type=float, default=10.0)
    ap.add_argument("--min-window", type=int, default=60,
                    help="minutes: facilities joined by a shorter lane stay in one partition")
    a = ap.parse_args()
    ks = [int(x) for x in a.k.split(",")]

    barrier = barrier_costs()
    slope = (barrier[4] - barrier[1]) / 3
    print(json.dumps({"barrier_seconds_measured": {k: round(v, 6) for k, v in barrier.items()}}), flush=True)

    net = load_network(a.network)
    tt = net.timetable
    t = time.perf_counter()
    res = simulate_day(net, a.parcels, a.day, 0)
    wall = time.perf_counter() - t
    sim_s = res.seconds.get("simulation", wall)
    hourly = res.raw.hourly.astype(np.float64)            # facility x hour
    events = float(hourly.sum())
    per_event = sim_s / events
    hours = hourly.shape[1]
    horizon_min = hours * 60
    print(json.dumps({"parcels": a.parcels, "day": a.day, "single_process_seconds": round(wall, 1),
                      "simulation_seconds": round(sim_s, 1), "sorter_events": int(events),
                      "seconds_per_million_events": round(per_event * 1e6, 3), "hours": hours}), flush=True)

    g = groups_of(net, a.min_window)
    uniq, gi = np.unique(g, return_inverse=True)
    g_hourly = np.zeros((len(uniq), hours))
    np.add.at(g_hourly, gi, hourly)
    floor = per_event * g_hourly.max(axis=0).sum()
    heavy = np.unravel_index(np.argmax(g_hourly), g_hourly.shape)
    boarded = res.raw.trip_boarded.astype(np.float64)
    for k in ks:
        part = deal(g_hourly.sum(axis=1), k)[gi]               # facility -> partition
        cut = part[tt.lane_from] != part[tt.lane_to]
        window = int(tt.lane_duration[cut].min()) if cut.any() else horizon_min
        p_hourly = np.zeros((k, hours))
        np.add.at(p_hourly, part, hourly)
        compute = per_event * p_hourly.max(axis=0).sum()
        n_windows = int(np.ceil(horizon_min / window))
        bar = barrier.get(k, barrier[4] + slope * (k - 4))
        crossing = float(boarded[cut[tt.trip_lane]].sum())
        by_trip_window = np.bincount((tt.trip_departure // window)[cut[tt.trip_lane]],
                                     weights=boarded[cut[tt.trip_lane]],
                                     minlength=int(np.ceil(1440 / window)))
        exchange = crossing * BYTES_PER_PARCEL / (a.bandwidth_gbps * 1e9 / 8)
        total = compute + n_windows * bar + exchange
        print(json.dumps({
            "k": k, "cut_lanes": int(cut.sum()), "window_minutes": window, "windows": n_windows,
            "busiest_partition_share": round(float(p_hourly.sum(axis=1).max() / events), 4),
            "crossing_parcels": int(crossing),
            "bytes_per_window_mean": int(crossing * BYTES_PER_PARCEL / n_windows),
            "bytes_per_window_of_day_max": int(by_trip_window.max() * BYTES_PER_PARCEL),
            "projected_compute_s": round(compute, 1), "projected_barriers_s": round(n_windows * bar, 2),
            "projected_exchange_s": round(exchange, 2), "projected_wall_s": round(total, 1),
            "projected_speedup": round(sim_s / total, 2)}), flush=True)
    print(json.dumps({"groups": len(uniq), "largest_group_share": round(float(g_hourly.sum(axis=1).max() / events), 4),
                      "bound_compute_s": round(floor, 1), "bound_speedup": round(sim_s / floor, 2),
                      "heaviest_group": str(net.facility_index[uniq[heavy[0]]]),
                      "its_busiest_hour": int(heavy[1]),
                      "its_events_that_hour": int(g_hourly[heavy])}), flush=True)


if __name__ == "__main__":
    main()
