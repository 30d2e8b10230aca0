"""``parcelnet sense``: demand sensed from social signals: ``generate`` (a synthetic world
with a known answer), ``backtest`` (rolling-origin forecasts), ``forecast`` (the forward
forecast placement reads), ``lead`` (how far the signals lead the sales), ``chart`` (one
series' forecasts against its sales and signals) and ``score`` (backtests' WAPE side by side,
overall, by lead time and in windows)."""

from __future__ import annotations

import json
from pathlib import Path

from parcelnet.cli._common import UsageError, add_json, bars, day, integer, print_json, writable


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
    if a.orders_profile and a.orders_day is None:
        raise UsageError("--orders-profile goes with --orders-day")
    if a.orders_day is not None:
        if not a.network:
            raise UsageError("--orders-day needs --network: the orders' stations and the SKUs' "
                             "sellers are the network's")
        orders_day = day(a.orders_day, "--orders-day")
    net = None
    if a.network:
        from parcelnet.network.pnf import load_network
        net = load_network(a.network)
        places = net.places
        pop = places.assign(population=places["population"].astype(float))
    else:
        from parcelnet.geo import load_places
        pop = load_places("CN")
    if a.until is not None:
        day(a.until, "--until")
    by = pop.groupby("admin1")["population"].sum()
    w = G.generate_world(list(by.index), by.to_numpy(float), skus=skus, seed=seed, days=days,
                         until=a.until)
    tables = [("sales", w.sales), ("signals", w.signals), ("truth", w.truth), ("bursts", w.bursts)]
    orders = None
    if net is not None:
        from parcelnet.demand.skus import orders_from_units, skus_for
        tables.append(("skus", skus_for(net, sorted(set(w.sales["sku"])), seed)))
        if a.orders_day is not None:
            truth = w.truth[w.truth["date"] == orders_day]
            if truth.empty:
                raise UsageError(f"--orders-day {a.orders_day}: the true future holds "
                                 f"{w.truth['date'].min()}..{w.truth['date'].max()} (after "
                                 f"--until {w.until})")
            profile = a.orders_profile or ("peak" if orders_day[5:] == "11-11" else "normal")
            orders = orders_from_units(net, truth, profile, seed)
    for name, df in tables:
        with atomic_path(out / f"{name}.csv") as tmp:
            df.to_csv(tmp, index=False)
    if orders is not None:
        with atomic_path(out / "orders.parquet") as tmp:
            orders.to_parquet(tmp, index=False)
    params = {k: getattr(G, k) for k in ("LAG", "MENTION_DECAY", "SALES_DECAY", "U_MAX",
                                         "SATURATION", "BURST_RATE", "DISPERSION", "DEPOSIT_SHARE",
                                         "SEASON_AMPLITUDE")}
    summary = {"seed": seed, "skus": skus, "regions": len(by), "start": G.START, "days": days,
               "until": w.until, "sales_rows": len(w.sales), "signal_rows": len(w.signals),
               "truth_rows": len(w.truth), "bursts": len(w.bursts), "params": params,
               "skus_table": str(out / "skus.csv") if net is not None else None,
               "orders": None if orders is None else {
                   "day": orders_day, "profile": profile, "orders": len(orders),
                   "out": str(out / "orders.parquet")},
               "out": str(out)}
    with atomic_path(out / "world.json") as tmp:
        tmp.write_text(json.dumps(summary, indent=1, default=lambda x: float(np.asarray(x))))
    if a.json:
        print_json(summary)
        return 0
    console().print(f"a world of {skus} SKUs in {len(by)} provinces over {days} days (seed {seed}): "
                    f"history to {w.until}, {len(w.bursts)} viral bursts leading sales by "
                    f"{G.LAG} days -> {out}/ ({', '.join(n for n, _ in tables)}, world.json)")
    if orders is not None:
        console().print(f"{len(orders):,} one-unit orders, the true units of {orders_day} "
                        f"({profile} day's minutes) -> {out / 'orders.parquet'}")
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
                   "bursts.csv and world.json (and skus.csv, orders.parquet)")
    g.add_argument("--skus", default="40", help="number of SKUs (default 40)")
    g.add_argument("--days", default="450", help="days from 2025-09-01 (default 450)")
    g.add_argument("--until", help="last day of history, YYYY-MM-DD (default 30 days before the end)")
    g.add_argument("--network", help="take the provinces from this network's places (default: "
                   "China's packaged places), and write skus.csv: each SKU's seller and cube on "
                   "it, for plan placement and fulfil")
    g.add_argument("--orders-day", help="also write orders.parquet: this day's true units as "
                   "one-unit orders on --network's stations, for parcelnet fulfil (YYYY-MM-DD, "
                   "after --until)")
    g.add_argument("--orders-profile", choices=("normal", "peak"),
                   help="the orders' creation minutes follow this day's profile (default: peak "
                   "on Singles Day, 11-11, else normal)")
    add_json(g, "the world's figures")
    g.set_defaults(func=generate)
    register_backtest(ssub)
    register_forecast(ssub)
    register_lead(ssub)
    register_chart(ssub)
    register_score(ssub)


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
    from parcelnet.viz.console import console

    workers = _workers(a)
    for flag, text in (("--from", a.from_), ("--to", a.to)):
        day(text, flag)
    horizon, sales, signals = _inputs(a)
    with bars(quiet=a.json) as progress:
        f = backtest(make_panel(sales, signals), a.from_, a.to, horizon,
                     signals=signals is not None, model=a.model, statistic=a.statistic,
                     workers=workers, progress=progress)
    with atomic_path(a.out) as tmp:
        f.to_csv(tmp, index=False)
    actual = sales.set_index(["date", "region", "sku"])["units"].groupby(level=[0, 1, 2]).sum()
    got = actual.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
    known = ~pd.isna(got)
    summary = {"rows": len(f), "model": a.model, "statistic": _statistic(a),
               "signals": signals is not None,
               "horizon": horizon, "wape_where_known": wape(got[known], f["units_forecast"].to_numpy()[known])
               if known.any() else None, "out": a.out}
    if a.json:
        print_json(summary)
        return 0
    console().print(f"{len(f):,} forecasts ({_label(a)}, {'with' if signals is not None else 'without'} "
                    f"signals, lead times 1..{horizon}) -> {a.out}"
                    + (f"; WAPE {summary['wape_where_known']:.1%} where the sales are known"
                       if summary["wape_where_known"] is not None else ""))
    return 0


def _model_arguments(p, horizon_help: str, statistic: str, why: str) -> None:
    p.add_argument("--sales", required=True, help="CSV: date,region,sku,units")
    p.add_argument("--signals", help="CSV: date,region,sku,mentions[,kind]")
    p.add_argument("--horizon", default="7", help=horizon_help)
    p.add_argument("--no-signals", action="store_true", help="the same model without the signals")
    p.add_argument("--model", default="lightgbm",
                   choices=("lightgbm", "seasonal-naive", "dynamic-regression"),
                   help="lightgbm (default), the seasonal-naive baseline, or a per-series dynamic "
                   "regression on the signal's lead (short series with one leading indicator)")
    p.add_argument("--statistic", default=statistic, choices=("median", "mean"),
                   help=f"what LightGBM's forecast estimates: the median or the mean of each "
                   f"day's units (default {statistic}: {why})")
    p.add_argument("--network", help="regions from this network's places (default China's)")
    p.add_argument("--workers", help="LightGBM fits at once, on threads (default: the CPUs plus one, "
                   "at most 8); the forecasts are the same whatever it is")


def _workers(a) -> int | None:
    return integer(a.workers, "--workers", 1, 4096) if a.workers else None


def _statistic(a) -> str | None:
    """The statistic forecast: LightGBM's only (the other models have their own)."""
    return a.statistic if a.model == "lightgbm" else None


def _label(a) -> str:
    return f"{a.model}, the {a.statistic}" if a.model == "lightgbm" else a.model


def _png(path, flag: str) -> Path:
    """A chart's path: a writable .png, or a one-line usage error naming ``flag``."""
    if Path(path).suffix.lower() != ".png":
        raise UsageError(f"{flag} {path}: the chart is a PNG (a name ending in .png)")
    return writable(path, flag)


def _inputs(a):
    """The checked horizon, sales and signals (None without them or with --no-signals)."""
    from parcelnet.sensing.tables import read_sales, read_signals

    horizon = integer(a.horizon, "--horizon", 1, 60)
    writable(a.out, "--out")
    regions = _regions(a.network)
    sales = read_sales(a.sales, regions)
    signals = None if a.no_signals or not a.signals else read_signals(a.signals, regions)
    return horizon, sales, signals


def register_backtest(ssub) -> None:
    b = ssub.add_parser("backtest", help="rolling-origin forecasts with and without signals",
                        description="For every day D from --from to --to and every lead time "
                                    "h = 1..H, the forecast of D's units made with data up to D - h "
                                    "(docs/sensing.md).")
    b.add_argument("--from", dest="from_", required=True, help="first day forecast (YYYY-MM-DD)")
    b.add_argument("--to", required=True, help="last day forecast (YYYY-MM-DD)")
    _model_arguments(b, "lead times 1..H days (default 7)", "median",
                     "WAPE, a sum of absolute errors, is least at the median")
    b.add_argument("--out", required=True, help="CSV: date,region,sku,horizon,units_forecast")
    add_json(b, "the counts and the WAPE where the sales are known")
    b.set_defaults(func=backtest_cmd)


def forecast_cmd(a) -> int:
    from parcelnet.files import atomic_path
    from parcelnet.sensing.backtest import forecast, make_panel
    from parcelnet.viz.console import console

    workers = _workers(a)
    horizon, sales, signals = _inputs(a)
    with bars(quiet=a.json) as progress:
        f = forecast(make_panel(sales, signals), horizon, signals=signals is not None,
                     model=a.model, statistic=a.statistic, workers=workers, progress=progress)
    with atomic_path(a.out) as tmp:
        f.to_csv(tmp, index=False)
    summary = {"rows": len(f), "model": a.model, "statistic": _statistic(a),
               "signals": signals is not None,
               "from": f["date"].min(), "to": f["date"].max(),
               "units_forecast": float(f["units_forecast"].sum()), "out": a.out}
    if a.json:
        print_json(summary)
        return 0
    console().print(f"{summary['units_forecast']:,.0f} units forecast for {summary['from']}.."
                    f"{summary['to']} ({_label(a)}, {'with' if signals is not None else 'without'} "
                    f"signals), {len(f):,} rows -> {a.out}")
    return 0


def register_forecast(ssub) -> None:
    f = ssub.add_parser("forecast", help="the forward forecast that plan placement reads",
                        description="The units of each region and SKU on each of the H days "
                                    "after the sales' last day, made with everything up to that "
                                    "day by the backtest's model (docs/sensing.md).")
    _model_arguments(f, "days ahead, 1..60 (default 7)", "mean",
                     "placement stocks for the expected demand")
    f.add_argument("--out", required=True, help="CSV: date,region,sku,units_forecast")
    add_json(f, "the rows, the days and the units forecast")
    f.set_defaults(func=forecast_cmd)


def lead_cmd(a) -> int:
    import numpy as np

    from parcelnet.sensing.backtest import make_panel
    from parcelnet.sensing.lead import find_lead
    from parcelnet.sensing.tables import read_sales, read_signals
    from parcelnet.viz.console import console

    max_lag = integer(a.max_lag, "--max-lag", 1, 60)
    regions = _regions(a.network)
    p = make_panel(read_sales(a.sales, regions), read_signals(a.signals, regions))
    if len(p.dates) < max_lag + 10:
        from parcelnet.errors import ParameterError
        raise ParameterError(f"--max-lag {max_lag} needs at least {max_lag + 10} days of sales; "
                             f"they cover {len(p.dates)}")
    rows = []
    for i, (region, sku) in enumerate(p.keys.itertuples(index=False)):
        ld = find_lead(p.units[i], p.mentions[i] + p.deposits[i], max_lag)
        rows.append({"region": region, "sku": sku, "lead_days": ld.lag,
                     "correlation": round(ld.correlation, 4), "band": round(ld.band, 4),
                     "significant": bool(ld.significant)})
    lags = np.array([r["lead_days"] for r in rows if r["significant"]])
    summary = {"series": len(rows), "significant": int(len(lags)),
               "median_lead_days": float(np.median(lags)) if len(lags) else None, "leads": rows}
    if a.json:
        print_json(summary)
        return 0
    c = console()
    for r in rows[:20]:
        c.print(f"{r['region']:>14} {r['sku']:<12} leads by {r['lead_days']:>2} d  "
                f"r = {r['correlation']:+.3f} (band {r['band']:.3f})"
                f"{'' if r['significant'] else '  not significant'}")
    if len(rows) > 20:
        c.print(f"... and {len(rows) - 20} more series (--json for all)")
    c.print(f"{len(lags)} of {len(rows)} series have a significant lead"
            + (f"; median {summary['median_lead_days']:.0f} days" if len(lags) else ""))
    return 0


def register_lead(ssub) -> None:
    d = ssub.add_parser("lead", help="how many days the signals lead the sales, per series",
                        description="For each region and SKU, the lag at which the signals' "
                                    "daily change best correlates with the sales' change, with "
                                    "the band of unrelated series (docs/sensing.md).")
    d.add_argument("--sales", required=True, help="CSV: date,region,sku,units")
    d.add_argument("--signals", required=True, help="CSV: date,region,sku,mentions[,kind]")
    d.add_argument("--max-lag", default="14", help="the longest lead tried, in days (default 14)")
    d.add_argument("--network", help="regions from this network's places (default China's)")
    add_json(d, "every series' lead, correlation and band")
    d.set_defaults(func=lead_cmd)


def chart_cmd(a) -> int:
    import math

    from parcelnet.sensing.tables import read_backtest, read_sales, read_signals
    from parcelnet.viz.console import console
    from parcelnet.viz.sensing_chart import render_forecast_chart, series_view

    horizons = list(dict.fromkeys(integer(h, "--horizon", 1, 60)
                                  for h in str(a.horizon).split(",")))
    out = _png(a.out, "--out")
    regions = _regions(a.network)
    sales = read_sales(a.sales, regions)
    forecasts = read_backtest(a.forecasts, regions)
    compare = read_backtest(a.compare, regions) if a.compare else None
    signals = read_signals(a.signals, regions) if a.signals else None
    labels = (a.label or Path(a.forecasts).stem,
              a.compare_label or (Path(a.compare).stem if a.compare else ""))
    view = series_view(sales, forecasts, a.region, a.sku, horizons, signals=signals,
                       compare=compare, names=(a.forecasts, a.compare))
    render_forecast_chart(view, out, labels)
    # (the view's and JSON's key, legend label) of each file drawn
    lines = [("forecasts", labels[0])] + ([("compare", labels[1])] if compare is not None else [])
    summary = {"region": a.region, "sku": a.sku, "horizons": horizons,
               "from": str(view.dates[0].date()), "to": str(view.dates[-1].date()),
               **{key: {"label": label, "wape": {h: v for h, v in view.wape[key].items()
                                                 if not math.isnan(v)}}
                  for key, label in lines},
               "out": str(out)}
    if a.json:
        print_json(summary)
        return 0
    scores = "; ".join(f"{summary[key]['label']} {h} d ahead {v:.1%}" for key, _ in lines
                       for h, v in summary[key]["wape"].items())
    console().print(f"{a.sku} in {a.region}, {summary['from']}..{summary['to']}: WAPE "
                    f"{scores or 'none (no sales on those days)'} -> {out}")
    return 0


def register_chart(ssub) -> None:
    c = ssub.add_parser("chart", help="one series' forecasts against its sales and signals (PNG)",
                        description="The units sold by one region and SKU, a backtest's "
                                    "forecasts made h days ahead (and a second backtest's, "
                                    "dashed), the promotion days, and below them the mentions "
                                    "and pre-sale deposits (docs/sensing.md).")
    c.add_argument("--sales", required=True, help="CSV: date,region,sku,units")
    c.add_argument("--forecasts", required=True,
                   help="CSV from sense backtest: date,region,sku,horizon,units_forecast")
    c.add_argument("--compare", help="a second backtest's CSV, drawn dashed (say, --no-signals)")
    c.add_argument("--signals", help="CSV: date,region,sku,mentions[,kind], drawn below")
    c.add_argument("--region", required=True, help="the province (places.csv admin1)")
    c.add_argument("--sku", required=True, help="the SKU")
    c.add_argument("--horizon", default="1",
                   help="lead times to draw, days, comma-separated (default 1)")
    c.add_argument("--label", help="the forecasts' name in the legend (default: the file's)")
    c.add_argument("--compare-label", help="the comparison's name (default: the file's)")
    c.add_argument("--network", help="regions from this network's places (default China's)")
    c.add_argument("--out", required=True, help="the chart, a .png file")
    add_json(c, "the days drawn and each line's WAPE")
    c.set_defaults(func=chart_cmd)


_WINDOW_LABELS = {"all": "all", "promotions": "promotions", "bursts": "near bursts",
                  "bursts_seen": "  seen", "bursts_unseen": "  unseen", "quiet": "quiet"}


def score_cmd(a) -> int:
    from rich.table import Table

    from parcelnet.sensing.score import score_forecasts
    from parcelnet.sensing.tables import read_backtest, read_bursts, read_sales
    from parcelnet.viz.console import console

    burst_days = integer(a.burst_days, "--burst-days", 0, 365)
    if a.chart:
        _png(a.chart, "--chart")
    # each file once, however it is written (the baseline may be among --forecasts too)
    files, seen = [], set()
    for f in a.forecasts + ([a.baseline] if a.baseline else []):
        if Path(f).resolve() not in seen:
            seen.add(Path(f).resolve())
            files.append(f)
    names = [Path(f).name for f in files]
    if len(set(names)) < len(names):
        raise UsageError("--forecasts: two files of the same name; the scores are named by file")
    regions = _regions(a.network)
    sales = read_sales(a.sales, regions)
    tables = {n: read_backtest(f, regions) for n, f in zip(names, files)}
    bursts = read_bursts(a.bursts, regions) if a.bursts else None
    res = score_forecasts(sales, tables, bursts=bursts, burst_days=burst_days,
                          baseline=Path(a.baseline).name if a.baseline else None)
    if a.chart:
        from parcelnet.viz.sensing_chart import render_score_chart
        render_score_chart(res, a.chart, [Path(n).stem for n in names])
    if a.json:
        print_json({**res.to_dict(), "chart": a.chart})
        return 0
    pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
    base = res.baseline
    t = Table(title=f"WAPE on the {res.rows:,} forecasts (day, region, SKU, lead time) every "
              f"file holds" + (f"; gains: how much lower than {base}'s" if base else ""),
              caption=(f"near bursts: from a burst's day to {burst_days} days after, not "
                       f"promotions; seen: the burst had begun by the forecast's origin"
                       if bursts is not None else "promotions: a day before to a day after "
                       "11-11, 11-12, 6-18 and 12-12"))
    t.add_column("window", no_wrap=True)
    t.add_column("rows", justify="right")
    for s in res.scores:
        t.add_column(Path(s.name).stem, justify="right", overflow="fold")
    for name in res.gain:
        t.add_column(f"gain: {Path(name).stem}", justify="right", style="bold", overflow="fold")
    for w, n in res.rows_by_window.items():
        t.add_row(_WINDOW_LABELS[w], f"{n:,}", *[pct(s.wape[w]) for s in res.scores],
                  *[pct(g[w]) for g in res.gain.values()])
    t.add_section()
    t.add_row("bias", "", *["-" if s.bias is None else f"{s.bias:.3f}" for s in res.scores],
              *["" for _ in res.gain])
    for k in res.scores[0].wape_by_horizon:
        t.add_row(f"lead {k} d", "", *[pct(s.wape_by_horizon[k]) for s in res.scores],
                  *["" for _ in res.gain])
    c = console()
    c.print(t)
    left = {n: k for n, k in res.left_out.items() if k}
    if left:
        c.print("not scored (no sales, or not in every file): "
                + ", ".join(f"{n} {k:,} rows" for n, k in left.items()))
    if a.chart:
        c.print(f"chart -> {a.chart}")
    return 0


def register_score(ssub) -> None:
    s = ssub.add_parser("score", help="backtests' WAPE side by side: overall, by lead time, on "
                        "promotion days, near bursts and on quiet days",
                        description="WAPE of each backtest on the rows every file holds, overall, "
                                    "by lead time and in disjoint windows (promotion days, near "
                                    "viral bursts, quiet days), with each one's gain over a "
                                    "baseline (docs/sensing.md, \"Scoring backtests\").")
    s.add_argument("--sales", required=True, help="CSV: date,region,sku,units (the days forecast)")
    s.add_argument("--forecasts", required=True, nargs="+",
                   help="CSVs from sense backtest: date,region,sku,horizon,units_forecast")
    s.add_argument("--baseline", help="the backtest the others' gains are over (say, --no-signals); "
                   "scored too")
    s.add_argument("--bursts", help="CSV: date,region,sku, each burst's first day (sense "
                   "generate's bursts.csv); adds the windows near bursts")
    s.add_argument("--burst-days", default="10", help="a burst's window: from its day to this "
                   "many days after (default 10: the generated signal's lead of 3 days plus a week)")
    s.add_argument("--network", help="regions from this network's places (default China's)")
    s.add_argument("--chart", help="also draw the scores: WAPE by window and by lead time (.png)")
    add_json(s, "the rows, every file's WAPE by window and lead time, and the gains")
    s.set_defaults(func=score_cmd)
