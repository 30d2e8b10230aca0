"""Build times and what the default backbone reaches (issue 16).

    python benchmarks/bench_build.py [--countries CN,US,DE,IN,BR] [--repeat 1]

For each country: the wall time of the default build (``parcelnet build``: layout, lanes, bank
timetable, a 300,000-parcel design-day simulation for capacities), against the target of 2
minutes, and its daily cost per parcel. For China, side by side in the same run, the 20:00
coverage from the eight main e-commerce origins on the default and on the same build without
air (``air.gateways = 0``), against the goal of 70% from each.
"""

from __future__ import annotations

import argparse
import json
import time

from parcelnet.network.costs import daily_cost
from parcelnet.network.params import load_params
from parcelnet.plan.build import build_network
from parcelnet.promise.coverage import coverage

TARGET_S = 120.0
ORIGINS = {"Hangzhou": "C3301", "Jinhua/Yiwu": "C3307", "Guangzhou": "C4401", "Shenzhen": "C4403",
           "Shanghai": "C3100", "Suzhou": "C3205", "Quanzhou": "C3505", "Beijing": "C1100"}


def timed_build(country: str, params=None):
    t0 = time.perf_counter()
    net = build_network(country, params)
    return net, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--countries", default="CN,US,DE,IN,BR")
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    nets = {}
    for c in a.countries.split(","):
        times = []
        for _ in range(a.repeat):
            net, s = timed_build(c)
            times.append(s)
        nets[c] = net
        cost = daily_cost(net)
        meta = json.loads(net.meta["build.json"])
        print(f"{c}: build {min(times):.1f} s (target < {TARGET_S:.0f} s: "
              f"{'met' if min(times) < TARGET_S else 'NOT met'}); {meta['stations']:,} stations, "
              f"{meta['centres']} centres ({meta['gateways']} gateways), {meta['hubs']} hubs, "
              f"{meta['air_hubs']} air hub; {net.summary()['lanes']:,} lanes, "
              f"{net.summary()['trips']:,} trips; cost per parcel {cost.per_parcel:.2f} "
              f"(line-haul {cost.line_haul_per_parcel:.2f} + sorting {cost.sorting_per_parcel:.2f})",
              flush=True)
    if "CN" not in nets:
        return
    ground, s = timed_build("CN", load_params("CN").updated({"air": {"gateways": 0}}))
    print(f"CN without air: build {s:.1f} s, cost per parcel {daily_cost(ground).per_parcel:.2f}")
    print(f"{'origin':12s} {'centre':7s} {'ground only':>12s} {'default':>8s}  goal 70%")
    for name, o in ORIGINS.items():
        g = coverage(ground, [o], created_minutes=[20 * 60]).by_hour[0]
        d = coverage(nets["CN"], [o], created_minutes=[20 * 60]).by_hour[0]
        print(f"{name:12s} {o:7s} {g:12.1%} {d:8.1%}  {'met' if d >= 0.7 else 'NOT met'}")


if __name__ == "__main__":
    main()
