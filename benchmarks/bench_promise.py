"""Promise engine speed on the default China network, side by side with a plain
time-dependent Dijkstra in Python (benchmarks/peer_td_dijkstra.py).

    python benchmarks/bench_promise.py [--network DIR] [--queries 1000000] [--json]

Prints, for parcelnet and the peer: single-query p50/p95, batch throughput,
the full coverage matrix (every hub x every station x 96 order times), the
speed ratio, and whether the answers on the compared queries are identical.
The peer's batch and matrix figures are measured on a sample and scaled
(marked "extrapolated"); running it in full would take hours.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
import peer_td_dijkstra as peer  # noqa: E402

from parcelnet.plan.build import build_network  # noqa: E402
from parcelnet.network.pnf import load_network, write_pnf  # noqa: E402
from parcelnet.promise import PromiseEngine  # noqa: E402
from parcelnet.promise.engine import INF  # noqa: E402


def _net(path: str | None) -> Path:
    if path:
        return Path(path)
    folder = Path(tempfile.mkdtemp(prefix="pn-bench-")) / "cn"
    write_pnf(build_network("CN"), folder)
    return folder


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--network", help="PNF folder (default: build CN into a temp dir)")
    ap.add_argument("--queries", type=int, default=1_000_000)
    ap.add_argument("--single", type=int, default=1000)
    ap.add_argument("--peer-sample", type=int, default=300)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()

    folder = _net(a.network)
    net = load_network(folder)
    eng = PromiseEngine(net)
    pn = peer.PeerNetwork(folder)
    ids = net.facility_index
    rng = np.random.default_rng(a.seed)
    hubs, stations = net.hubs, net.stations
    res: dict = {"machine": f"{os.cpu_count()} cores, {platform.processor() or platform.machine()}",
                 "network": net.summary()}

    # warm up the compiled kernels
    eng.query(ids[hubs[0]], ids[stations[0]], 0)
    eng.promise_many(hubs[:2], stations[:2], np.array([0, 1]))

    # -- single queries -------------------------------------------------------------------
    o = rng.choice(hubs, a.single)
    d = rng.choice(stations, a.single)
    t = rng.integers(0, 1440, a.single)
    ours, answers = [], []
    for i in range(a.single):
        s = time.perf_counter()
        p = eng.query(ids[o[i]], ids[d[i]], int(t[i]))
        ours.append(time.perf_counter() - s)
        answers.append(p.promise_minute)
    theirs, same = [], 0
    n_peer = min(a.single, a.peer_sample)
    for i in range(n_peer):
        s = time.perf_counter()
        q = peer.promise(pn, ids[o[i]], ids[d[i]], int(t[i]))
        theirs.append(time.perf_counter() - s)
        same += q == answers[i]
    res["single"] = {"queries": a.single, "p50_ms": 1e3 * float(np.median(ours)),
                     "p95_ms": 1e3 * float(np.percentile(ours, 95)),
                     "peer_queries": n_peer, "peer_p50_ms": 1e3 * float(np.median(theirs)),
                     "peer_p95_ms": 1e3 * float(np.percentile(theirs, 95)),
                     "identical": f"{same}/{n_peer}"}
    res["single"]["ratio_p50"] = res["single"]["peer_p50_ms"] / res["single"]["p50_ms"]

    # -- batch -----------------------------------------------------------------------------
    m = a.queries
    bo = rng.choice(np.concatenate([hubs, stations]), m)
    bd = rng.choice(stations, m)
    bt = rng.integers(0, 3 * 1440, m)
    s = time.perf_counter()
    got = eng.promise_many(bo, bd, bt)            # cold: searches per (origin, breakpoint)
    secs_cold = time.perf_counter() - s
    s = time.perf_counter()
    eng.promise_many(bo, bd, bt, paths=True)
    secs_paths = time.perf_counter() - s
    s = time.perf_counter()
    table = eng.precompute(np.unique(bo))         # profiles of every origin in the batch
    secs_pre = time.perf_counter() - s
    eng.promise_many(bo[:10], bd[:10], bt[:10])   # compile the gather kernel
    s = time.perf_counter()
    warm = eng.promise_many(bo, bd, bt)
    secs = time.perf_counter() - s
    assert (warm == got).all(), "profile look-ups differ from cold searches"
    k = min(m, a.peer_sample)
    s = time.perf_counter()
    pv = [peer.promise(pn, ids[bo[i]], ids[bd[i]], int(bt[i])) for i in range(k)]
    peer_rate = k / (time.perf_counter() - s)
    same = sum((got[i] if got[i] < INF else None) == pv[i] for i in range(k))
    res["batch"] = {"queries": m, "seconds": secs, "per_second": m / secs,
                    "precompute_seconds": secs_pre, "profile_mb": table.nbytes / 1e6,
                    "cold_seconds": secs_cold, "cold_per_second": m / secs_cold,
                    "seconds_with_paths": secs_paths, "per_second_with_paths": m / secs_paths,
                    "distinct_origins": int(len(np.unique(bo))),
                    "peer_per_second": peer_rate, "peer_sample": k, "identical": f"{same}/{k}",
                    "ratio": (m / secs) / peer_rate}

    # -- coverage matrix: every hub x every station x 96 order times --------------------------
    created = np.arange(96) * 15
    s = time.perf_counter()
    total_within = 0
    first = None
    for h in hubs:
        dm = eng.delivered_from(int(h), created)
        total_within += int(((dm < INF) & (dm - created[:, None] <= 1440)).sum())
        if first is None:
            first = dm
    secs = time.perf_counter() - s
    cells = len(hubs) * len(stations) * len(created)
    # peer: full one-to-all searches for a sample of (hub, time) pairs, then extrapolate
    pairs = [(int(rng.choice(hubs)), int(rng.integers(0, 96))) for _ in range(8)] + [(int(hubs[0]), 0)]
    s = time.perf_counter()
    same = total = 0
    for h, ti in pairs:
        ready = peer.dijkstra(pn, ids[h], int(created[ti]))
        dm = eng.delivered_from(h, created[ti:ti + 1])[0]
        for j, st in enumerate(stations):
            q = peer.deliver(pn, ids[h], ids[st], ready)
            same += q == (dm[j] if dm[j] < INF else None)
            total += 1
    peer_secs = (time.perf_counter() - s) / len(pairs) * len(hubs) * len(created)
    res["coverage_matrix"] = {"hubs": len(hubs), "stations": len(stations), "order_times": 96,
                              "cells": cells, "seconds": secs, "cells_within_24h": total_within,
                              "peer_seconds_extrapolated": peer_secs, "peer_sample_searches": len(pairs),
                              "identical": f"{same}/{total}", "ratio": peer_secs / secs}

    if a.json:
        print(json.dumps(res, indent=2))
        return
    sgl, b, c = res["single"], res["batch"], res["coverage_matrix"]
    print(f"network: {res['network']}")
    print(f"single query   parcelnet p50 {sgl['p50_ms']:.3f} ms (p95 {sgl['p95_ms']:.3f})   "
          f"peer p50 {sgl['peer_p50_ms']:.2f} ms (p95 {sgl['peer_p95_ms']:.2f})   "
          f"ratio {sgl['ratio_p50']:.0f}x   identical {sgl['identical']}")
    print(f"batch          parcelnet {b['per_second']:,.0f}/s with profiles ({b['queries']:,} in "
          f"{b['seconds']:.3f} s; profiles of {b['distinct_origins']:,} origins built in "
          f"{b['precompute_seconds']:.1f} s, {b['profile_mb']:.0f} MB)   cold {b['cold_per_second']:,.0f}/s, "
          f"with paths {b['per_second_with_paths']:,.0f}/s   peer {b['peer_per_second']:,.0f}/s   "
          f"ratio {b['ratio']:,.0f}x   identical {b['identical']}")
    print(f"coverage matrix parcelnet {c['seconds']:.1f} s for {c['cells']:,} cells "
          f"({c['hubs']} hubs x {c['stations']} stations x 96)   peer ~{c['peer_seconds_extrapolated']:,.0f} s "
          f"(extrapolated from {c['peer_sample_searches']} searches)   ratio {c['ratio']:,.0f}x   "
          f"identical {c['identical']}")


if __name__ == "__main__":
    main()
