"""Scenario sweeps on China's network: Ray's overhead against the plain run, and the local
engine beside it (docs/sweep.md, issue 19).

    python benchmarks/bench_sweep.py NETWORK [--parcels 200000] [--days 8] [--day peak]

NETWORK is a default build (``parcelnet build --country CN``). The sweep is ``--days``
seeds of one scenario (a generated day of ``--parcels`` parcels, capacities scaled to the
sample: parcels / the network's daily volume). Measured in one run, each from a cold cache:

- **plain**: the tasks one after the other in this process (:func:`run_task`), after the
  numba warm-up: the work itself, with numba on two threads and on one (a worker of Ray,
  or one of two local workers, has one; the overheads are against one thread);
- **local, 1 worker** and **ray, 1 CPU**: the whole ``run_sweep`` with one worker, start-up
  included (spawning the worker and importing parcelnet; starting the Ray cluster is
  reported apart and not counted, as a cluster is started once for many sweeps);
- **local, 2 workers** and **ray, 2 CPUs**: throughput on this machine's two cores.

Also a worker's start-up: a fresh interpreter importing parcelnet, reading the network and
simulating a ten-parcel day, with the numba cache the driver warmed and with an empty cache
of its own (``NUMBA_CACHE_DIR``): what compiling in every worker would cost.

Reported: seconds, the overhead against plain with as many threads as the mode's workers
have (goal for Ray with one worker: at most 5%),
the throughput ratio of 2 workers to 1, and that every mode gives the same per-parcel hashes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--parcels", type=int, default=200_000)
    ap.add_argument("--days", type=int, default=8)
    ap.add_argument("--day", default="peak")
    a = ap.parse_args()

    import ray

    from parcelnet.network.pnf import load_network
    from parcelnet.sweep import load_sweep, run_sweep
    from parcelnet.sweep.run import _tasks, base_inputs, run_task, warm

    net = Path(a.network).resolve()
    volume = load_network(net).parcels_per_day
    scale = a.parcels / volume if volume else 1.0
    tmp = Path(tempfile.mkdtemp(prefix="bench_sweep_"))
    f = tmp / "s.toml"
    seeds = ", ".join(str(s) for s in range(1, a.days + 1))
    f.write_text(f'[base]\nnetwork = "{net}"\nparcels = {a.parcels}\nday = "{a.day}"\n'
                 f'seeds = [{seeds}]\ncapacity_scale = {scale:.9f}\n\n[[scenario]]\nname = "base"\n')
    s = load_sweep(f)
    base = base_inputs(s)
    out = {"parcels": a.parcels, "days": a.days, "capacity_scale": round(scale, 9)}
    out["warm_seconds"] = round(warm(s, base), 2)
    for threads in (2, 1):
        t = time.perf_counter()
        plain = [run_task({**x, "threads": threads}) for x in _tasks(s, base)]
        out[f"plain_seconds_{threads}_threads"] = round(time.perf_counter() - t, 2)
    hashes = [r["parcel_hash"] for r in plain]
    print(json.dumps(out), flush=True)

    def timed(name, ref, **kw):
        t = time.perf_counter()
        r = run_sweep(s, cache_dir=tmp / f"cache-{name}", **kw)
        sec = time.perf_counter() - t
        same = [x["parcel_hash"] for x in r.runs] == hashes
        row = {"mode": name, "seconds": round(sec, 2),
               f"overhead_vs_plain_{ref}_threads": round(sec / out[f"plain_seconds_{ref}_threads"] - 1, 4),
               "same_hashes": same, "task_seconds": round(sum(x["seconds"] for x in r.runs), 2)}
        print(json.dumps(row), flush=True)
        return sec

    # a worker's start-up: a fresh interpreter importing parcelnet and simulating a ten-parcel
    # day, with the on-disk numba cache the driver warmed, and with an empty cache of its own
    import os
    import subprocess
    import sys
    probe = ("import time; t = time.perf_counter(); from parcelnet.network.pnf import load_network; "
             "from parcelnet.demand import sample_parcels; from parcelnet.sim.run import simulate; "
             f"n = load_network({str(net)!r}); simulate(n, sample_parcels(n, 10, 'normal', 0)); "
             "print(round(time.perf_counter() - t, 2))")
    for label, env in (("warm cache", {}), ("own empty cache", {"NUMBA_CACHE_DIR": str(tmp / "numba")})):
        t = time.perf_counter()
        inner = subprocess.run([sys.executable, "-c", probe], env={**os.environ, **env}, check=True,
                               capture_output=True, text=True).stdout.strip()
        print(json.dumps({"worker_start": label, "seconds": round(time.perf_counter() - t, 2),
                          "import_to_first_day_seconds": float(inner)}), flush=True)

    one = timed("local, 1 worker", 2, workers=1)
    two = timed("local, 2 workers", 1, workers=2)
    print(json.dumps({"local_throughput_2_vs_1": round(one / two, 3)}), flush=True)
    for cpus in (1, 2):
        t = time.perf_counter()
        ray.init(num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                 object_store_memory=200 * 1024 ** 2)
        print(json.dumps({"ray_init_seconds": round(time.perf_counter() - t, 2), "cpus": cpus}), flush=True)
        sec = timed(f"ray, {cpus} CPU", 1, engine="ray")
        if cpus == 1:
            ray1 = sec
        else:
            print(json.dumps({"ray_throughput_2_vs_1": round(ray1 / sec, 3)}), flush=True)
        ray.shutdown()


if __name__ == "__main__":
    main()
