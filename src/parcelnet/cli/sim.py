"""Demand and simulation commands: demand, simulate."""

from __future__ import annotations

import time
from pathlib import Path

from parcelnet.cli._common import UsageError, add_json, bars, integer, number, print_json, warn, writable
from parcelnet.demand.generate import DAYS


def demand(a) -> int:
    from parcelnet.demand import default_parcels, generate_to_file
    from parcelnet.network.pnf import load_network
    from parcelnet.viz.console import console
    n = default_parcels(a.day) if a.parcels is None else integer(a.parcels, "--parcels")
    seed = integer(a.seed, "--seed")
    writable(a.out, "--out")
    if a.skus is not None:
        return _sku_orders(a, n, seed)
    if a.sku_table or a.foresight:
        raise UsageError(f"{'--sku-table' if a.sku_table else '--foresight'} goes with --skus N")
    net = load_network(a.network)
    t0 = time.perf_counter()
    with bars() as progress:
        generate_to_file(net, a.out, n, a.day, seed, a.origin_shares, progress=progress)
    console().print(f"{n:,} parcels ({a.day} day, seed {seed}) -> {a.out} "
                    f"in {time.perf_counter() - t0:.1f} s")
    return 0


def _sku_orders(a, n: int, seed: int) -> int:
    from parcelnet.demand.skus import generate_orders, generate_skus, units_by_region
    from parcelnet.files import atomic_path
    from parcelnet.network.pnf import load_network
    from parcelnet.viz.console import console
    count = integer(a.skus, "--skus", 1)
    table = a.sku_table or str(Path(a.out).parent / "skus.csv")
    writable(table, "--sku-table")
    if a.foresight:
        writable(a.foresight, "--foresight")
    net = load_network(a.network)
    skus = generate_skus(net, count, seed)
    orders = generate_orders(net, skus, n, a.day, seed)
    tables = [(skus, table), (orders, a.out)]
    if a.foresight:     # the day's own units: the forecast of perfect foresight
        foresight = units_by_region(net, orders)
        tables.append((foresight, a.foresight))
    for df, path in tables:
        with atomic_path(path) as tmp:
            if str(path).lower().endswith(".csv"):
                df.to_csv(tmp, index=False)
            else:
                df.to_parquet(tmp, index=False)
    national = orders["sku"].isin(skus.loc[skus["scope"] == "national", "sku"]).mean()
    console().print(f"{n:,} orders ({a.day} day, seed {seed}) for {count:,} SKUs -> {a.out}; SKU "
                    f"table -> {table}; {national:.0%} of the orders are for the "
                    f"{int((skus['scope'] == 'national').sum()):,} SKUs sold nationally")
    if a.foresight:
        console().print(f"the day's {int(foresight['units_forecast'].sum()):,} units by province "
                        f"and SKU (perfect foresight) -> {a.foresight}")
    return 0


def simulate(a) -> int:
    from parcelnet.demand import load_parcels
    from parcelnet.network.pnf import load_network
    from parcelnet.network.scale import scale_capacity
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.results import write_results
    from parcelnet.sim.run import simulate as run
    from parcelnet.viz.console import console
    from parcelnet.viz.sim_report import write_report
    from parcelnet.viz.text import kpi_table

    horizon_days = integer(a.horizon_days, "--horizon-days", 1, 366)
    split = _split(a)
    if (a.parcels is None) == (a.generate is None):
        raise UsageError("give either --parcels FILE or --generate N (a day of the demand model)")
    if a.generate is not None and a.out:
        raise UsageError("--out: a streamed day (--generate) keeps no per-parcel paths; write the "
                         "parcels with 'parcelnet demand' and simulate that file for per-parcel results")
    if a.parcels is not None and (a.day or a.seed is not None or a.scratch):
        raise UsageError("--day, --seed and --scratch go with --generate, not with --parcels")
    for flag, target in (("--out", a.out), ("--report", a.report)):
        if target:   # fail before an hour of simulation, not after; create nothing yet
            writable(target, flag)
    if a.scratch:
        from parcelnet.sim.scratch import check_scratch
        check_scratch(a.scratch, "--scratch")
    scale = number(a.capacity_scale, "--capacity-scale", "a positive number", above=0)
    net = load_network(a.network)
    n = integer(a.generate, "--generate") if a.generate is not None else None
    seed = integer(a.seed, "--seed") if a.seed is not None else 0
    parcels = load_parcels(a.parcels, net) if a.parcels is not None else None
    _warn_full_capacity(net, n if n is not None else len(parcels), scale)
    if scale != 1.0:
        net = scale_capacity(net, scale)
    with bars(quiet=a.json) as progress:
        if n is not None:
            from parcelnet.sim.stream import simulate_day
            res = simulate_day(net, n, a.day or "normal", seed, horizon_minutes=horizon_days * 1440,
                               progress=progress, split=split, scratch=a.scratch)
        else:
            res = run(net, parcels, horizon_minutes=horizon_days * 1440, progress=progress,
                      split=split)
    k = kpis(res)
    if a.out:
        write_results(res, a.out)
    report = Path(a.report) if a.report else (Path(a.out).with_suffix(".html") if a.out
                                               else Path("simulation.html"))
    write_report(res, k, report)
    parts = res.raw.split
    if a.json:
        print_json({**k.to_dict(), "results": a.out, "report": str(report),
                    **({"partitions": parts} if parts else {})})
    else:
        kpi_table(k)
        if parts:
            mem = ", ".join(f"{b / 2 ** 30:.2f}" for b in (
                parts["worker_peak_rss"] if a.engine == "ray" else parts["partition_peak_bytes"]))
            console().print(
                f"{parts['partitions']} partitions ({a.engine}), loads {parts['load']}: "
                f"{parts['windows']:,} windows of up to {parts['window_minutes']} min, "
                f"{parts['parcels_crossed']:,} parcels ({parts['bytes_crossed'] / 2 ** 20:,.1f} MiB) "
                f"crossed {parts['cut_lanes']:,} cut lanes; "
                + ("peak memory per worker" if a.engine == "ray" else "peak state per partition")
                + f" (GiB): {mem}")
        console().print(f"report: {report}" + (f"  results: {a.out}" if a.out else ""))
    return 0


def _split(a):
    """The run's partitions from --engine, --partitions, --window and --address."""
    if a.engine not in ("local", "ray"):
        raise UsageError(f"--engine: local or ray, not {a.engine!r}")
    k = integer(a.partitions, "--partitions", 1, 4096) if a.partitions is not None else None
    window = integer(a.window, "--window", 1) if a.window is not None else None
    if a.address and a.engine != "ray":
        raise UsageError("--address goes with --engine ray")
    if a.engine == "local" and k is None:
        if window is not None:
            raise UsageError("--window goes with --partitions")
        return None                      # the single run
    if a.engine == "ray":
        from parcelnet._deps import require
        from parcelnet.sweep.partitioned import ray_split
        require("ray", "ray", "parcelnet simulate --engine ray")   # before any work
        return ray_split(k or 1, address=a.address, window=window)
    from parcelnet.sim.partition import Split
    return Split(k=k, window=window)


def _warn_full_capacity(net, n: int, scale: float) -> None:
    """A sample of a day on the capacities of the whole day makes the network look empty."""
    volume = net.parcels_per_day
    if volume and scale == 1.0 and n < 0.5 * volume:
        warn(f"{n:,} parcels on capacities built for {volume:,} a day: sorters and trips will look "
             f"empty. For a sample of a day pass --capacity-scale {n / volume:.3g} (parcels / "
             f"the day's volume)")


def register(sub) -> None:
    m = sub.add_parser("demand", help="a day of parcels (origins, destinations, creation minutes)",
                       description="Sample a day of parcels from the demand model (docs/demand.md) "
                                   "into a Parquet or CSV file.")
    m.add_argument("network", help="PNF folder or .pnfz bundle")
    m.add_argument("--parcels", help="number of parcels (default 1,000,000; peak: x 777/545)")
    m.add_argument("--day", default="normal",
                   help=f"{' or '.join(DAYS)} (peak: Singles Day; default normal)")
    m.add_argument("--seed", default="0", help="random seed (default 0); same seed, same parcels")
    m.add_argument("--origin-shares", help="TOML of provincial origin shares (see docs/demand.md)")
    m.add_argument("--out", required=True, help="parcels file: Parquet, or CSV when it ends in .csv")
    m.add_argument("--skus", metavar="N", help="SKU-level orders instead of parcels: N SKUs "
                   "(a few national, a long regional tail; docs/demand.md); --out then holds "
                   "order_id,created_minute,sku,dest_station,quantity and --parcels counts orders")
    m.add_argument("--sku-table", help="with --skus: the SKU table (default skus.csv beside --out)")
    m.add_argument("--foresight", metavar="FORECAST",
                   help="with --skus: also write the day's own units by province and SKU "
                        "(region,sku,units_forecast; CSV, or Parquet unless it ends in .csv): the "
                        "forecast of perfect foresight that plan placement reads")
    m.set_defaults(func=demand)

    s = sub.add_parser("simulate", help="run a day of parcels through sorters and trips with "
                                        "capacities",
                       description="Simulate every parcel of a day through sorters and trips with "
                                   "capacities, exactly as docs/simulation.md defines it.")
    s.add_argument("network", help="PNF folder or .pnfz bundle")
    s.add_argument("--parcels", help="parcels file (Parquet, or CSV by extension)")
    s.add_argument("--generate", metavar="N",
                   help="instead of a file: simulate N parcels of the demand model as they are "
                        "sampled (streamed; memory for 777M parcels fits in 24 GB)")
    s.add_argument("--day", help="with --generate: normal or peak (default normal)")
    s.add_argument("--seed", help="with --generate: random seed (default 0), as parcelnet demand")
    s.add_argument("--scratch", metavar="DIR",
                   help="with --generate: keep 8 of the 12 bytes a parcel that the day holds (its "
                        "promise, creation minute and destination) in unnamed files in DIR, "
                        "paged by the kernel, instead of in memory; for a day split across Ray "
                        "actors on one machine (same results)")
    s.add_argument("--out", help="per-parcel results (Parquet, or CSV when it ends in .csv)")
    add_json(s, "the KPIs")
    s.add_argument("--report", help="HTML report path (default RESULTS.html or simulation.html)")
    s.add_argument("--horizon-days", default="7", help="days after the last creation (default 7)")
    s.add_argument("--capacity-scale", default="1.0",
                   help="multiply trip capacities and sorter rates (e.g. 0.002 to run a 1/500 "
                        "sample of a day)")
    s.add_argument("--engine", default="local",
                   help="local (this process; default) or ray: the day split across Ray actors, "
                        "one per partition, with the single run's results (docs/simulation.md)")
    s.add_argument("--partitions", metavar="K",
                   help="split the network into K partitions of hubs, balanced by the parcels "
                        "they sort, advanced in windows no longer than the shortest cut lane "
                        "(default 1 with --engine ray; with --engine local they run one after "
                        "the other in this process)")
    s.add_argument("--window", metavar="MIN",
                   help="with --partitions: window length in minutes (default and most: the "
                        "shortest travel time on a lane between partitions)")
    s.add_argument("--address", help="with --engine ray: the Ray cluster's address (default: "
                                     "start a local one)")
    s.set_defaults(func=simulate)
