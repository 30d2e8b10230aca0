"""Address parse-and-assign: parcelnet (MCA 2025 divisions, township level, station and sort
code) against cpca (a widely used Chinese address parser; province/city/county only, no
station) on the same addresses.

    python benchmarks/bench_address.py NETWORK [--n 100000] [--seed 0] [--peer-n 20000]

Addresses are generated from the official table: a random township anywhere in China, written
with all its levels or without the province, plus a street and number. Every parcelnet answer
is compared with the township it was generated from.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from parcelnet.geo.address import gazetteer  # noqa: E402
from parcelnet.lastmile.sortcode import Assigner, assign_addresses  # noqa: E402
from parcelnet.network.pnf import load_network  # noqa: E402


def addresses(n: int, seed: int):
    g = gazetteer()
    rng = np.random.default_rng(seed)
    towns = sorted(c for c, lv in g.level.items() if lv == 4)
    pick = rng.choice(towns, n)
    streets = np.array(["人民路", "中山路", "解放大道", "建设街", "文化路", "新华路"])
    out = []
    for code, style, st, no in zip(pick, rng.integers(0, 2, n), rng.choice(streets, n), rng.integers(1, 999, n)):
        chain, p = [], g.parent[code]
        while p:
            chain.append(g.name[p])
            p = g.parent.get(p, "")
        chain.reverse()
        if style == 1 and len(chain) == 3:
            chain = chain[1:]
        out.append("".join(chain) + g.name[code] + f"{st}{no}号")
    return out, pick


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("network")
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--peer-n", type=int, default=20_000)
    a = ap.parse_args()
    net = load_network(a.network)
    t0 = time.perf_counter()
    asg = Assigner(net)
    print(f"index (gazetteer + network), once per process: {time.perf_counter() - t0:.1f} s")
    addr, truth = addresses(a.n, a.seed)
    best = np.inf
    for _ in range(3):
        t0 = time.perf_counter()
        df = assign_addresses(net, addr, asg)
        best = min(best, time.perf_counter() - t0)
    right = (df["township_code"].to_numpy() == truth).mean()
    ok = (df["status"] == "ok").mean()
    print(f"parcelnet: {a.n:,} addresses parsed and assigned in {best:.2f} s = {a.n / best:,.0f} a second "
          f"(best of 3); township right {right:.2%}; station and sort code {ok:.2%} "
          f"(the rest: {df.loc[df['status'] != 'ok', 'reason'].str.split(':').str[0].value_counts().head(3).to_dict()})")
    try:
        import cpca
    except ImportError:
        print("cpca not installed (pip install cpca): no peer figure")
        return
    sub = addr[: a.peer_n]
    cpca.transform(sub[:100])
    t0 = time.perf_counter()
    r = cpca.transform(sub)
    dt = time.perf_counter() - t0
    county = df["county_code"].iloc[: a.peer_n].fillna("").to_numpy()
    agree = (r["adcode"].astype(str).str[:6].to_numpy() == county).mean()
    print(f"cpca: {len(sub):,} addresses (county level only) in {dt:.2f} s = {len(sub) / dt:,.0f} a second; "
          f"same county as parcelnet on {agree:.1%}")


if __name__ == "__main__":
    main()
