"""``parcelnet sweep``: scenario days run side by side, locally or on Ray (docs/sweep.md)."""

from __future__ import annotations

import json
from pathlib import Path

from parcelnet.cli._common import UsageError, add_json, bars, integer, print_json, writable


def sweep(a) -> int:
    from parcelnet.files import atomic_path
    from parcelnet.sweep import load_sweep, run_sweep
    from parcelnet.sweep.run import compare
    from parcelnet.viz.console import console
    from parcelnet.viz.sweep_chart import render_sweep_chart

    if a.engine not in ("local", "ray"):
        raise UsageError(f"--engine: 'local' or 'ray', got '{a.engine}'")
    if a.address and a.engine != "ray":
        raise UsageError("--address goes with --engine ray")
    workers = integer(a.workers, "--workers", 1, 4096) if a.workers else None
    out = Path(a.out)
    writable(out / "comparison.csv", "--out")
    spec = load_sweep(a.scenarios)
    with bars(quiet=a.json) as progress:
        res = run_sweep(spec, cache_dir=out / "cache", engine=a.engine, workers=workers,
                        address=a.address, progress=progress)
    table = compare(res.runs)
    with atomic_path(out / "comparison.csv") as tmp:
        table.to_csv(tmp, index=False)
    with atomic_path(out / "runs.json") as tmp:
        tmp.write_text(json.dumps(res.to_dict(), ensure_ascii=False, indent=1))
    chart = render_sweep_chart(table, out / "comparison.png")
    if a.json:
        print_json({**res.to_dict(), "comparison": table, "files": {
            "comparison": str(out / "comparison.csv"), "chart": str(chart), "runs": str(out / "runs.json")}})
        return 0
    from rich.table import Table
    t = Table(title=f"{len(res.runs)} scenario days: {res.ran} run, {res.cached} from the cache "
                    f"({res.engine}, {res.workers} workers, {res.seconds:.1f} s)")
    for c in ("scenario", "seeds", "on time", "within 24 h", "late", "most saturated lane", "busiest hub"):
        t.add_column(c, justify="left" if c in ("scenario", "most saturated lane", "busiest hub") else "right")
    for _, r in table.iterrows():
        span = lambda k, f: (f"{r[k + '_mean']:{f}}" + (f" ({r[k + '_min']:{f}}-{r[k + '_max']:{f}})"  # noqa: E731
                                                      if r["seeds"] > 1 else ""))
        t.add_row(str(r["scenario"]), str(r["seeds"]), span("on_time_share", ".1%"),
                  span("within_24h_share", ".1%"), span("late", ",.0f"),
                  str(r["saturated_lanes"] or "-").split("; ")[0], str(r["busiest_hubs"] or "-").split("; ")[0])
    console().print(t)
    console().print(f"table (with the top three lanes and hubs): {out / 'comparison.csv'}  chart: {chart}  "
                    f"runs: {out / 'runs.json'}")
    return 0


def register(sub) -> None:
    s = sub.add_parser("sweep", help="scenario days side by side: demand, outages, capacity, air "
                                     "links, seeds; locally or on Ray",
                       description="Run every scenario of a TOML file (docs/sweep.md) as a simulated "
                                   "day, in worker processes or on a Ray cluster, each cached by a "
                                   "hash of its inputs, and compare them in one table and chart.")
    s.add_argument("scenarios", metavar="SCENARIOS.toml", help="the scenario file (docs/sweep.md)")
    s.add_argument("--out", required=True, help="folder for comparison.csv, comparison.png, "
                                                "runs.json and the cache")
    s.add_argument("--engine", default="local", help="local (worker processes, default) or ray "
                                                     "(pip install 'parcelnet[ray]')")
    s.add_argument("--address", help="with --engine ray: the cluster to join (default: start one "
                                     "on this machine)")
    s.add_argument("--workers", help="local worker processes (default: the CPUs)")
    add_json(s, "the runs and the comparison")
    s.set_defaults(func=sweep)
