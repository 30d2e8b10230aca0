"""Street travel-time matrices: parcelnet (scipy.sparse.csgraph, partial segments) against
networkx Dijkstra from each source, on the Shanghai extract.

    python benchmarks/bench_streets.py [--osm FILE] [--n 1000] [--mode car] [--peer-sources 100]

Points are uniform in the inner part of the extract. parcelnet computes the whole n x n
matrix (snapping included); networkx runs single-source Dijkstra on the same graph from
--peer-sources sources to the snapped nodes, and its time is scaled to n sources.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from parcelnet.geo.routing import LocalRouter  # noqa: E402
from parcelnet.geo.streets import load_streets, street_graph  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--osm", default=str(ROOT / "tests/fixtures/osm/shanghai_jingan_huangpu_2p4km_drive.osm"))
    ap.add_argument("--n", type=int, default=1000)
    ap.add_argument("--mode", default="car")
    ap.add_argument("--peer-sources", type=int, default=100)
    a = ap.parse_args()
    t0 = time.perf_counter()
    ways = load_streets(a.osm)
    g = street_graph(ways, a.mode)
    r = LocalRouter(g)
    t_load = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    lat0, lat1, lon0, lon1 = g.lat.min(), g.lat.max(), g.lon.min(), g.lon.max()
    mlat, mlon = 0.1 * (lat1 - lat0), 0.1 * (lon1 - lon0)
    lat = rng.uniform(lat0 + mlat, lat1 - mlat, a.n)
    lon = rng.uniform(lon0 + mlon, lon1 - mlon, a.n)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        m = r.matrix(lat, lon, lat, lon)
        best = min(best, time.perf_counter() - t0)
    print(f"graph: {g.n_nodes:,} nodes, {len(g.u):,} directed edges ({a.mode}); load {t_load:.2f} s")
    print(f"parcelnet: {a.n} x {a.n} matrix in {best:.3f} s (best of 3; {np.isnan(m).mean():.1%} "
          f"unreachable, median {np.nanmedian(m):.0f} s)")
    import networkx as nx
    G = nx.DiGraph()
    for u, v, t in zip(g.u, g.v, g.ms):
        G.add_edge(int(u), int(v), w=int(t))
    nodes = g.v[r.snap(lat, lon).edge]
    k = min(a.peer_sources, a.n)
    t0 = time.perf_counter()
    for s in nodes[:k]:
        d = nx.single_source_dijkstra_path_length(G, int(s), weight="w")
        _ = [d.get(int(x)) for x in nodes]
    peer = (time.perf_counter() - t0) * a.n / k
    print(f"networkx: {a.n} x {a.n} node-to-node in {peer:.2f} s (from {k} sources, scaled); "
          f"parcelnet is {peer / best:.0f}x faster")


if __name__ == "__main__":
    main()
