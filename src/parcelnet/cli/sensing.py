"""``parcelnet sense``: demand sensed from social signals (``generate`` for now: a synthetic
world with a known answer)."""

from __future__ import annotations

import json
from pathlib import Path

from parcelnet.cli._common import add_json, integer, print_json, writable


def generate(a) -> int:
    import numpy as np

    from parcelnet.files import atomic_path
    from parcelnet.sensing import generate as G
    from parcelnet.viz.console import console

    seed = integer(a.seed, "--seed", 0)
    skus = integer(a.skus, "--skus", 1)
    days = integer(a.days, "--days", 60, 3660)
    out = Path(a.out)
    writable(out / "sales.csv", "--out")
    if a.network:
        from parcelnet.network.pnf import load_network
        places = load_network(a.network).places
        pop = places.assign(population=places["population"].astype(float))
    else:
        from parcelnet.geo import load_places
        pop = load_places("CN")
    by = pop.groupby("admin1")["population"].sum()
    w = G.generate_world(list(by.index), by.to_numpy(float), skus=skus, seed=seed, days=days,
                         until=a.until)
    for name, df in (("sales", w.sales), ("signals", w.signals), ("truth", w.truth),
                     ("bursts", w.bursts)):
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False)
    params = {k: getattr(G, k) for k in ("LAG", "MENTION_DECAY", "SALES_DECAY", "U_MAX",
                                         "SATURATION", "BURST_RATE", "DISPERSION", "DEPOSIT_SHARE",
                                         "SEASON_AMPLITUDE")}
    summary = {"seed": seed, "skus": skus, "regions": len(by), "start": G.START, "days": days,
               "until": w.until, "sales_rows": len(w.sales), "signal_rows": len(w.signals),
               "truth_rows": len(w.truth), "bursts": len(w.bursts), "params": params,
               "out": str(out)}
    with atomic_path(out / "world.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1, default=lambda x: float(np.asarray(x))))
    if a.json:
        print_json(summary)
        return 0
    console().print(f"a world of {skus} SKUs in {len(by)} provinces over {days} days (seed {seed}): "
                    f"history to {w.until}, {len(w.bursts)} viral bursts leading sales by "
                    f"{G.LAG} days -> {out}/ (sales, signals, truth, bursts, world.json)")
    return 0


def register(sub) -> None:
    s = sub.add_parser("sense", help="demand sensed from social signals (docs/sensing.md)")
    ssub = s.add_subparsers(dest="sense", required=True, metavar="WHAT")
    g = ssub.add_parser("generate", help="a synthetic world with a known answer: sales, social "
                        "signals and the true future", description="Sales and social signals by "
                        "province and SKU with seasonality, a weekly pattern, promotions, viral "
                        "bursts that lead sales and saturate, and noise; the true future after "
                        "the cut (docs/sensing.md).")
    g.add_argument("--seed", default="0", help="random seed (default 0)")
    g.add_argument("--out", required=True, help="folder for sales.csv, signals.csv, truth.csv, "
                   "bursts.csv and world.json")
    g.add_argument("--skus", default="40", help="number of SKUs (default 40)")
    g.add_argument("--days", default="450", help="days from 2025-09-01 (default 450)")
    g.add_argument("--until", help="last day of history, YYYY-MM-DD (default 30 days before the end)")
    g.add_argument("--network", help="take the provinces from this network's places (default: "
                   "China's packaged places)")
    add_json(g, "the world's figures")
    g.set_defaults(func=generate)
    register_backtest(ssub)


def _regions(network):
    if network:
        from parcelnet.network.pnf import load_network
        return sorted(set(load_network(network).places["admin1"]))
    from parcelnet.geo import load_places
    return sorted(set(load_places("CN")["admin1"]))


def backtest_cmd(a) -> int:
    import pandas as pd

    from parcelnet.files import atomic_path
    from parcelnet.sensing.backtest import backtest, make_panel, wape
    from parcelnet.sensing.tables import read_sales, read_signals
    from parcelnet.viz.console import console

    horizon = integer(a.horizon, "--horizon", 1, 60)
    writable(a.out, "--out")
    regions = _regions(a.network)
    sales = read_sales(a.sales, regions)
    signals = None if a.no_signals or not a.signals else read_signals(a.signals, regions)
    f = backtest(make_panel(sales, signals), a.from_, a.to, horizon,
                 signals=signals is not None, model=a.model)
    with atomic_path(a.out) as tmp:
        f.to_csv(tmp, index=False)
    actual = sales.set_index(["date", "region", "sku"])["units"].groupby(level=[0, 1, 2]).sum()
    got = actual.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
    known = ~pd.isna(got)
    summary = {"rows": len(f), "model": a.model, "signals": signals is not None,
               "horizon": horizon, "wape_where_known": wape(got[known], f["units_forecast"].to_numpy()[known])
               if known.any() else None, "out": a.out}
    if a.json:
        print_json(summary)
        return 0
    console().print(f"{len(f):,} forecasts ({a.model}, {'with' if signals is not None else 'without'} "
                    f"signals, lead times 1..{horizon}) -> {a.out}"
                    + (f"; WAPE {summary['wape_where_known']:.1%} where the sales are known"
                       if summary["wape_where_known"] is not None else ""))
    return 0


def register_backtest(ssub) -> None:
    b = ssub.add_parser("backtest", help="rolling-origin forecasts with and without signals",
                        description="For every day D from --from to --to and every lead time "
                                    "h = 1..H, the forecast of D's units made with data up to D - h "
                                    "(docs/sensing.md).")
    b.add_argument("--sales", required=True, help="CSV: date,region,sku,units")
    b.add_argument("--signals", help="CSV: date,region,sku,mentions[,kind]")
    b.add_argument("--from", dest="from_", required=True, help="first day forecast (YYYY-MM-DD)")
    b.add_argument("--to", required=True, help="last day forecast (YYYY-MM-DD)")
    b.add_argument("--horizon", default="7", help="lead times 1..H days (default 7)")
    b.add_argument("--no-signals", action="store_true", help="the same model without the signals")
    b.add_argument("--model", default="lightgbm", choices=("lightgbm", "seasonal-naive"),
                   help="lightgbm (default) or the seasonal-naive baseline")
    b.add_argument("--network", help="regions from this network's places (default China's)")
    b.add_argument("--out", required=True, help="CSV: date,region,sku,horizon,units_forecast")
    add_json(b, "the counts and the WAPE where the sales are known")
    b.set_defaults(func=backtest_cmd)
