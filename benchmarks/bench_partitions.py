"""One day split across partitions (``parcelnet simulate --engine ray --partitions K``) on
China's network: measured beside the single-process run, in one run (issue 19, sections 2
and 4; docs/simulation.md, "One day split across partitions").

    python benchmarks/bench_partitions.py NETWORK [--parcels 77700000] [--day peak]
        [--ks 1 2 4] [--engine ray|local] [--no-single] [--scratch DIR]

NETWORK is a default build (``parcelnet build --country CN``). The day is the demand
model's streamed day of ``--parcels`` (seed 0), on capacities scaled to it (parcels /
777 M, the peak day the default capacities carry). First the single-process run
(``simulate_day``), then the same day split into each K of ``--ks`` on ``--engine``: Ray
actors (a local cluster of this machine's CPUs), or the partitions one after the other in
this process (``local``, for the bytes at K larger than the cores).

Reported per run: wall seconds, and whether every parcel's delivered minute and every
counter equals the single run's; the partitions' load balance; the window and the windows;
the parcels and bytes that crossed, in all and at the busiest barrier; the time of the
windows from the driver's side against the slowest partition's own work in each window
summed (the difference is the barriers and the exchange); each partition's arrays at the
end (its pools never shrink: their peak), each Ray actor's peak RSS (which counts the pages
of the shared object store it read), and the driver's peak RSS.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import time

import numpy as np

PEAK = 777_000_000


def digest(res) -> str:
    h = hashlib.sha256()
    r = res.raw
    for a in (res.delivered, res.promise, r.backlog_peak, r.left_behind, r.hourly,
              r.trip_boarded, r.trip_peak, r.sort_peak, np.array([r.last_minute])):
        h.update(np.ascontiguousarray(a, dtype="<i8").tobytes())
    return h.hexdigest()[:16]


def _rss() -> dict:
    """This process's resident memory now (GiB): anonymous (its own), and mapped from
    files (the scratch arrays' pages in memory, and the libraries)."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, val = line.partition(":")
            if key in ("RssAnon", "RssFile"):
                out[key] = round(int(val.split()[0]) / 2 ** 20, 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--parcels", type=int, default=77_700_000)
    ap.add_argument("--day", default="peak")
    ap.add_argument("--ks", type=int, nargs="+", default=[1, 2, 4])
    ap.add_argument("--engine", default="ray", choices=["ray", "local"])
    ap.add_argument("--no-single", action="store_true",
                    help="skip the single-process run (no identity check)")
    ap.add_argument("--scratch", metavar="DIR",
                    help="the driver's per-parcel arrays in files in DIR (parcelnet.sim.scratch)")
    a = ap.parse_args()

    from parcelnet.network.pnf import load_network
    from parcelnet.network.scale import scale_capacity
    from parcelnet.sim.partition import Split
    from parcelnet.sim.stream import simulate_day

    net = load_network(a.network)
    scale = a.parcels / PEAK
    if scale != 1.0:
        net = scale_capacity(net, scale)
    print(f"{a.parcels:,} parcels ({a.day}), capacities x {scale:.4g}; engine {a.engine}")
    ref = None
    if not a.no_single:
        t = time.perf_counter()
        single = simulate_day(net, a.parcels, a.day, 0, scratch=a.scratch)
        wall = time.perf_counter() - t
        ref = digest(single)
        print(json.dumps({"run": "single", "wall_s": round(wall, 1),
                          "simulation_s": round(single.seconds["simulation"], 1),
                          "digest": ref}), flush=True)
        del single
    if a.engine == "ray":
        import ray
        ray.init(include_dashboard=False, log_to_driver=False)
        from parcelnet.sweep.partitioned import ray_split
    for k in a.ks:
        split = ray_split(k) if a.engine == "ray" else Split(k=k)
        t = time.perf_counter()
        res = simulate_day(net, a.parcels, a.day, 0, split=split, scratch=a.scratch)
        wall = time.perf_counter() - t
        s = res.raw.split
        load = np.array(s["load"], float)
        d = digest(res)
        print(json.dumps({
            "run": f"{a.engine} K={k}", "wall_s": round(wall, 1),
            "simulation_s": round(res.seconds["simulation"], 1),
            "identical": None if ref is None else d == ref, "digest": d,
            "load_max_over_mean": round(float(load.max() / load.mean()), 3),
            "window_min": s["window_minutes"], "windows": s["windows"],
            "cut_lanes": s["cut_lanes"], "parcels_crossed": s["parcels_crossed"],
            "bytes_crossed": s["bytes_crossed"],
            "bytes_per_window": round(s["bytes_crossed"] / max(s["windows"], 1)),
            "busiest_window_bytes": s["busiest_window_bytes"],
            "pipelined": s["pipelined"],
            "windows_s": s["seconds_windows"], "slowest_partition_s": s["seconds_slowest_partition"],
            "barrier_ms_per_window": round(1000 * (s["seconds_windows"]
                                                   - s["seconds_slowest_partition"])
                                           / max(s["windows"], 1), 2),
            "partition_peak_gib": [round(b / 2 ** 30, 2) for b in s["partition_peak_bytes"]],
            "worker_peak_rss_gib": [None if b is None else round(b / 2 ** 30, 2)
                                    for b in s["worker_peak_rss"]],
            "driver_peak_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2 ** 20, 2),
            # now, at the end: the driver's own memory, and the pages of its scratch files
            **{f"driver_{k.lower()}_gib": v for k, v in _rss().items()},
        }), flush=True)
        del res


if __name__ == "__main__":
    main()
