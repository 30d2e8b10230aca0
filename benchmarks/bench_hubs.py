"""Hub location (parcelnet.plan.hubs) against the published optima and on CAB.

    python benchmarks/bench_hubs.py ap  [--data DIR] [--n 10,20,25,40,50] [--p 2,3,4,5]
    python benchmarks/bench_hubs.py cab [--data DIR] [--allocation single,multiple]

``ap``: the single-allocation p-hub median on the AP files (n = 10: 10.2, otherwise NN.3, with
p overridden) solved exactly; each row gives the objective, the published optimum (Ernst &
Krishnamoorthy 1996), whether objective (to 0.01) and hubs match, the solver's proven bound
and the time. ``cab``: p in {2, 3, 4} and alpha in {0.2, ..., 1.0} on O'Kelly's CAB data.
DIR is the folder with AP/ and CAB/ (default ../shared/data/hub_location_cab_ap).
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from parcelnet.plan import read_ap, read_cab, solve_multiple, solve_single

DEFAULT = Path(__file__).resolve().parents[2] / "shared" / "data" / "hub_location_cab_ap"


def published(path: Path) -> dict:
    text = path.read_text()
    out = {}
    for n, p, obj, alloc in re.findall(r"n=(\d+), p=(\d+) :\s*Objective\s*:\s*([\d.]+)\s*"
                                       r"Allocation\s*:\s*([\d, ]+)", text):
        out[int(n), int(p)] = (float(obj), sorted({int(x) for x in alloc.split(",")}))
    return out


def ap(a) -> list[dict]:
    pub = published(a.data / "AP" / "Solutions-USApHMP.txt")
    rows = []
    for n in a.n:
        inst = read_ap(a.data / "AP" / ("10.2" if n == 10 else f"{n}.3"))
        for p in a.p:
            s = solve_single(inst, p)
            want = pub.get((n, p))
            row = {"n": n, "p": p, "objective": round(s.objective, 2), "hubs": s.hubs,
                   "published": want[0] if want else None,
                   "objective_matches": bool(want) and abs(round(s.objective, 2) - want[0]) <= 0.01,
                   "hubs_match": bool(want) and s.hubs == want[1],
                   "lower_bound": round(s.lower_bound, 2), "status": s.status,
                   "method": s.method, "seconds": round(s.seconds, 2)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    small = sum(r["seconds"] for r in rows if r["n"] <= 25)
    print(json.dumps({"cases": len(rows), "all_match": all(r["objective_matches"] and r["hubs_match"]
                                                          for r in rows),
                      "seconds_n_le_25": round(small, 2),
                      "seconds_total": round(sum(r["seconds"] for r in rows), 2)}))
    return rows


def cab(a) -> list[dict]:
    rows = []
    for alloc in a.allocation:
        for p in (2, 3, 4):
            for alpha in (0.2, 0.4, 0.6, 0.8, 1.0):
                inst = read_cab(a.data / "CAB" / "CAB25_okelly.txt", alpha)
                s = (solve_single if alloc == "single" else solve_multiple)(inst, p)
                row = {"allocation": alloc, "p": p, "alpha": alpha,
                       "objective": round(s.objective, 2), "hubs": s.hubs, "status": s.status,
                       "seconds": round(s.seconds, 2)}
                rows.append(row)
                print(json.dumps(row), flush=True)
    return rows


def main() -> None:
    ap_ = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap_.add_argument("mode", choices=["ap", "cab"])
    ap_.add_argument("--data", type=Path, default=DEFAULT)
    ap_.add_argument("--n", default="10,20,25,40,50")
    ap_.add_argument("--p", default="2,3,4,5")
    ap_.add_argument("--allocation", default="single,multiple")
    a = ap_.parse_args()
    a.n = [int(x) for x in a.n.split(",")]
    a.p = [int(x) for x in a.p.split(",")]
    a.allocation = a.allocation.split(",")
    (ap if a.mode == "ap" else cab)(a)


if __name__ == "__main__":
    main()
