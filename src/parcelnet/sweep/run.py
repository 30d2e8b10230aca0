"""Running a sweep (docs/sweep.md): every (scenario, seed) as a task, in local worker
processes or as Ray tasks, each cached by a hash of its inputs.

**The input hash** (:func:`input_key`) covers parcelnet's version, the network's files,
the day (its size or the parcels file's bytes, the day type), the capacity scale, the
horizon, the seed and the scenario's variations. Its name does not count: two scenarios
with the same inputs share one run. A task whose key has a file in the cache is not run.

**Identical wherever it runs.** A task is a pure function of its inputs: the network is
read from its files, the day drawn from its seed, the simulation exact
(docs/simulation.md). Its result, and the per-parcel hash (SHA-256 over the parcel ids,
promised and delivered minutes, int64 little-endian, in parcel order), do not depend on the
worker, the number of workers, or the order of submission. Results come back in the file's
order.

**Ray.** The base network goes into Ray's object store once; each worker fetches it once
(its arrays are read-only there, and no scenario changes the base in place).

**Failures.** Locally, a worker process that dies takes its pool with it: the tasks not done
are submitted again to a new pool, up to ``retries`` times each. On Ray, tasks are retried by
Ray (``max_retries``). A task that fails for a reason of its own (bad input) fails the sweep
with its error.

**Threads.** The promise kernels run in parallel with numba's threads. A worker uses its
share of the CPUs: the CPUs over the workers on this machine, one on Ray (each task asks
Ray for one CPU). Several workers each with every CPU's threads fight over the cores: on
two cores, two such workers took three times as long per day as one.

**numba.** The kernels are compiled with an on-disk cache. The driver warms it (a
ten-parcel day on the base network) before any worker starts, so workers load compiled code
instead of compiling it at once and racing on the cache's files.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import lru_cache
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from parcelnet import __version__
from parcelnet._deps import require
from parcelnet.errors import ParameterError, ParcelnetError
from parcelnet.progress import Progress, or_none
from parcelnet.results import Result
from parcelnet.sweep.scenario import Scenario, Sweep

ENGINES = ("local", "ray")
TOP = 5


def _digest_path(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (names and bytes, sorted by name)."""
    h = hashlib.sha256()
    if not path.exists():
        raise ParameterError(f"{path}: no such file or folder")
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for p in files:
        h.update(str(p.relative_to(path) if path.is_dir() else p.name).encode() + b"\0")
        h.update(p.read_bytes())
    return h.hexdigest()


def base_inputs(sweep: Sweep) -> dict:
    """The inputs every task of the sweep shares, with the digests of its files."""
    parcels = sweep.parcels
    return {"version": __version__, "network": _digest_path(sweep.network),
            "parcels": parcels if isinstance(parcels, int) else _digest_path(parcels),
            "day": sweep.day, "capacity_scale": sweep.capacity_scale,
            "horizon_days": sweep.horizon_days}


def input_key(base: dict, sc: Scenario) -> str:
    """The task's cache key: SHA-256 of its inputs (module docs), 64 hex digits."""
    body = json.dumps({**base, "seed": sc.seed, "variation": sc.variation()}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()


def parcel_hash(parcel_id: np.ndarray, promised: np.ndarray, delivered: np.ndarray) -> str:
    h = hashlib.sha256()
    for a in (parcel_id, promised, delivered):
        h.update(np.ascontiguousarray(a, dtype="<i8").tobytes())
    return h.hexdigest()


@lru_cache(maxsize=2)
def _network(path: str, digest: str):
    from parcelnet.network.pnf import load_network
    return load_network(path)


_SHARED: dict[str, object] = {}


def _shared_network(ref, digest: str):
    """The base network from Ray's object store, fetched once per worker process (a Ray
    task's worker is reused). Its arrays are read-only there: every scenario's network is
    a new one built from its tables, never the base changed in place."""
    if digest not in _SHARED:
        import ray
        _SHARED.clear()
        _SHARED[digest] = ray.get(ref)
    return _SHARED[digest]


_DAYS: dict[tuple, object] = {}


def _base_day(net, digest: str, parcels: str, day: str, seed: int):
    """The base day of a seed (the last four kept in this process)."""
    from parcelnet.demand import load_parcels, sample_parcels
    key = (digest, parcels, day, seed if parcels.isdigit() else None)
    if key not in _DAYS:
        if len(_DAYS) >= 4:
            _DAYS.pop(next(iter(_DAYS)))
        _DAYS[key] = sample_parcels(net, int(parcels), day, seed) if parcels.isdigit() \
            else load_parcels(parcels, net)
    return _DAYS[key]


def run_task(task: dict) -> dict:
    """One (scenario, seed): its network and day, simulated; the result as plain data. A
    top-level function, so that worker processes and Ray can pickle it."""
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.run import simulate
    from parcelnet.sweep.apply import apply_demand, apply_network

    t0 = time.perf_counter()
    threads = task.get("threads")
    if threads:                  # numba's threads of this worker: its share of the CPUs
        import numba
        numba.set_num_threads(max(1, min(int(threads), numba.config.NUMBA_NUM_THREADS)))
    sc: Scenario = task["scenario"]
    ref = task.get("network_ref")
    base = _network(task["network"], task["digest"]) if ref is None else _shared_network(ref, task["digest"])
    net, removed = apply_network(base, sc, task["capacity_scale"])
    day = apply_demand(base, _base_day(base, task["digest"], str(task["parcels"]), task["day"], sc.seed), sc)
    res = simulate(net, day, horizon_minutes=task["horizon_days"] * 1440)
    k = kpis(res)
    promise, delivered = res.promise, res.delivered
    routable = promise >= 0
    late = int((routable & ((delivered < 0) | (delivered > promise))).sum())
    return {"key": task["key"], "scenario": sc.name, "seed": sc.seed, "parcels": k.parcels,
            "unroutable": k.unroutable, "delivered": k.delivered, "late": late,
            "on_time_share": k.on_time_share, "within_24h_share": k.within_24h_share,
            "within_48h_share": k.within_48h_share,
            "saturated_lanes": [{"lane_id": x["lane_id"], "left_behind": x["left_behind"]}
                                for x in k.saturated_lanes[:TOP]],
            "busiest_hubs": [{"facility_id": x["facility_id"], "peak_backlog": x["peak_backlog"]}
                             for x in k.busiest_hubs[:TOP]],
            "lanes_removed": removed,
            "parcel_hash": parcel_hash(res.parcel_id, promise, delivered),
            "seconds": round(time.perf_counter() - t0, 3), "pid": os.getpid()}


@dataclass(frozen=True)
class SweepResult(Result):
    """Every task's result, in the file's order, and how the sweep went."""
    runs: list
    engine: str
    workers: int
    ran: int
    cached: int
    retried: int
    seconds: float
    warm_seconds: float


def _tasks(sweep: Sweep, base: dict) -> list[dict]:
    return [{"key": input_key(base, sc), "scenario": sc, "network": str(sweep.network),
             "digest": base["network"], "parcels": str(sweep.parcels), "day": sweep.day,
             "capacity_scale": sweep.capacity_scale, "horizon_days": sweep.horizon_days}
            for sc in sweep.scenarios]


def warm(sweep: Sweep, base: dict) -> float:
    """Compile (or load) the numba kernels once in this process, before any worker starts:
    a ten-parcel day on the base network. Seconds taken."""
    from parcelnet.demand import sample_parcels
    from parcelnet.sim.run import simulate

    t = time.perf_counter()
    net = _network(str(sweep.network), base["network"])
    simulate(net, sample_parcels(net, 10, "normal", 0))
    return time.perf_counter() - t


def run_sweep(sweep: Sweep, *, cache_dir: str | Path | None = None, engine: str = "local",
              workers: int | None = None, address: str | None = None, order: list[int] | None = None,
              retries: int = 2, progress: Progress | None = None) -> SweepResult:
    """Run every task of ``sweep`` not already in ``cache_dir`` (module docs). ``workers``:
    local processes (default: the CPUs); ``address``: a Ray cluster (default: start one on
    this machine); ``order``: the submission order (a permutation of the tasks, for tests
    and for putting long tasks first)."""
    if engine not in ENGINES:
        raise ParameterError(f"unknown engine '{engine}': one of {', '.join(ENGINES)}")
    progress = or_none(progress)
    t0 = time.perf_counter()
    base = base_inputs(sweep)
    tasks = _tasks(sweep, base)
    if order is not None and sorted(order) != list(range(len(tasks))):
        raise ParameterError("order must be a permutation of the tasks' positions")
    cache = Path(cache_dir) if cache_dir is not None else None
    if cache is not None:
        cache.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict] = {}
    for t in tasks:
        f = cache / f"{t['key']}.json" if cache else None
        if f is not None and f.exists():
            try:
                results[t["key"]] = json.loads(f.read_text())
            except (json.JSONDecodeError, UnicodeDecodeError):
                pass                     # not a file this code wrote whole: run it again
    cached = len(results)                # distinct runs found in the cache
    todo, seen = [], set()
    for i in (order if order is not None else range(len(tasks))):
        k = tasks[i]["key"]
        if k not in results and k not in seen:
            seen.add(k)
            todo.append(tasks[i])
    progress.start("scenarios", len(tasks))
    progress.advance(sum(1 for t in tasks if t["key"] in results))
    warm_s = warm(sweep, base) if todo else 0.0

    def done(r: dict) -> None:
        results[r["key"]] = r
        if cache is not None:
            tmp = cache / f".{r['key']}.{os.getpid()}.tmp"
            tmp.write_text(json.dumps(r, sort_keys=True))
            os.replace(tmp, cache / f"{r['key']}.json")
        progress.advance(sum(1 for t in tasks if t["key"] == r["key"]))

    n_workers = max(1, int(workers or os.cpu_count() or 1))
    retried = 0
    if todo and engine == "local":
        for t in todo:
            t["threads"] = max(1, (os.cpu_count() or 1) // n_workers)
        retried = _run_local(todo, n_workers, retries, done)
    elif todo:
        n_workers, retried = _run_ray(todo, address, retries, done)
    progress.finish()
    runs = [results[t["key"]] | {"scenario": t["scenario"].name} for t in tasks]
    return SweepResult(runs, engine, n_workers, len(todo), cached, retried,
                       round(time.perf_counter() - t0, 2), round(warm_s, 2))


def _run_local(todo: list[dict], workers: int, retries: int, done) -> int:
    """Worker processes (spawned: no state inherited); a pool broken by a dead worker is
    replaced and its unfinished tasks submitted again."""
    left = {t["key"]: t for t in todo}
    tries = {k: 0 for k in left}
    retried = 0
    ctx = get_context("spawn")
    while left:
        with ProcessPoolExecutor(min(workers, len(left)), mp_context=ctx) as pool:
            futures = {pool.submit(run_task, t): k for k, t in left.items()}
            broken = False
            pending = set(futures)
            while pending:
                finished, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in finished:
                    k = futures[f]
                    try:
                        r = f.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    done(r)
                    left.pop(k, None)
            if not broken:
                break
        for k in left:
            tries[k] += 1
            if tries[k] > retries:
                raise ParcelnetError(f"a worker died {tries[k]} times running scenario "
                                     f"'{left[k]['scenario'].name}' (seed {left[k]['scenario'].seed})")
        retried += len(left)
    return retried


def _run_ray(todo: list[dict], address: str | None, retries: int, done) -> tuple[int, int]:
    ray = require("ray", "ray", "parcelnet sweep --engine ray")
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False)
    remote = ray.remote(max_retries=retries, num_cpus=1)(run_task)
    # the base network once into the object store: a worker fetches it instead of reading
    # and checking its files again (2 s for China's)
    t0 = todo[0]
    shared = ray.put(_network(t0["network"], t0["digest"]))
    refs = {remote.remote({**t, "threads": 1, "network_ref": shared}): t["key"] for t in todo}
    pending = list(refs)
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        for ref in ready:
            try:
                done(ray.get(ref))
            except ray.exceptions.RayTaskError as e:
                cause = e.as_instanceof_cause()
                if isinstance(cause, ParcelnetError):
                    raise ParcelnetError(str(cause).splitlines()[-1]) from None
                raise
    workers = int(ray.cluster_resources().get("CPU", 1))
    return workers, 0


def compare(runs: list[dict]) -> "pd.DataFrame":
    """One row per scenario, in the file's order: its seeds, and over them the mean, least
    and most of the on-time and 24 h shares and of the late parcels; the lanes that left
    the most parcels behind and the hubs with the largest backlog, summed over the seeds
    (``id (parcels)``, at most three)."""
    import pandas as pd

    rows = []
    for name in dict.fromkeys(r["scenario"] for r in runs):
        rs = [r for r in runs if r["scenario"] == name]
        row = {"scenario": name, "seeds": len(rs), "parcels": round(float(np.mean([r["parcels"] for r in rs])))}
        for k in ("on_time_share", "within_24h_share", "late"):
            v = np.array([r[k] for r in rs], float)
            row[f"{k}_mean"] = round(float(v.mean()), 6)
            row[f"{k}_min"] = round(float(v.min()), 6)
            row[f"{k}_max"] = round(float(v.max()), 6)
        for key, item, val in (("saturated_lanes", "lane_id", "left_behind"),
                               ("busiest_hubs", "facility_id", "peak_backlog")):
            tot: dict[str, int] = {}
            for r in rs:
                for x in r[key]:
                    tot[x[item]] = tot.get(x[item], 0) + int(x[val])
            top = sorted(tot.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
            row[key] = "; ".join(f"{k} ({v:,})" for k, v in top)
        rows.append(row)
    return pd.DataFrame(rows)
