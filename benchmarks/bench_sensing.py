"""Forecasts with and without social signals on generated worlds (``parcelnet sense``).

    python benchmarks/bench_sensing.py goals [--seeds 11,12,13] [--skus 40] [--horizon 7]
    python benchmarks/bench_sensing.py speed [--series 1000] [--days 60] [--horizon 7]

``goals``: for each seed (worlds the model was not tuned on; it was tuned on seed 5), the
backtest of 2026-09-22..2026-11-20 at lead times 1..H with signals, without, with the
signals shuffled in time within each series, and the seasonal naive; WAPE overall, in the
days around bursts (from the burst to LAG + 7 days after), on the promotion days
(11-10..11-13) and on quiet days (neither). ``expected_units`` is the WAPE of the world's
own expected units, the floor that the noise sets for any forecast.
``speed``: the wall time of one backtest of that many province x SKU series over that many
days (target: 1,000 x 60 in under a minute).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np
import pandas as pd

from parcelnet.geo import load_places
from parcelnet.sensing import generate as G
from parcelnet.sensing.backtest import backtest, make_panel, wape

PROMO = {"2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13"}


def _regions(n: int | None = None):
    g = load_places("CN").groupby("admin1")["population"].sum()
    return list(g.index)[:n], g.to_numpy(float)[:n]


def goals(a) -> None:
    regions, pop = _regions(8)
    for seed in (int(x) for x in a.seeds.split(",")):
        w = G.generate_world(regions, pop, skus=a.skus, seed=seed, until="2026-11-20")
        truth = w.sales.set_index(["date", "region", "sku"])["units"]
        rng = np.random.default_rng(seed)
        # the signals shuffled in time: each series' rows (any kind) moved to permuted days
        shuffled = w.signals.copy()
        shuffled["date"] = shuffled.groupby(["region", "sku"])["date"].transform(
            lambda s: rng.permutation(s.to_numpy()))
        lam = w.expected.set_index(["date", "region", "sku"])["expected"]
        near = set()
        for _, b in w.bursts.iterrows():
            for k in range(0, G.LAG + 8):
                near.add(((pd.Timestamp(b["date"]) + pd.Timedelta(days=k)).strftime("%Y-%m-%d"),
                          b["region"], b["sku"]))
        row = {"seed": seed}
        for name, sig, kw in (("signals", w.signals, {}), ("no_signals", None, {"signals": False}),
                              ("shuffled", shuffled, {}),
                              ("seasonal_naive", None, {"model": "seasonal-naive"})):
            t = time.perf_counter()
            f = backtest(make_panel(w.sales, sig), "2026-09-22", "2026-11-20", a.horizon, **kw)
            y = truth.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
            fc = f["units_forecast"].to_numpy()
            burst = np.array([k in near for k in zip(f["date"], f["region"], f["sku"])])
            promo = f["date"].isin(PROMO).to_numpy()
            quiet = ~burst & ~promo
            row[name] = {"all": round(wape(y, fc), 4), "bursts": round(wape(y[burst], fc[burst]), 4),
                         "promotions": round(wape(y[promo], fc[promo]), 4),
                         "quiet": round(wape(y[quiet], fc[quiet]), 4),
                         "seconds": round(time.perf_counter() - t, 1)}
        e = lam.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
        row["expected_units"] = {k: round(wape(y[m], e[m]), 4) for k, m in
                                 (("all", slice(None)), ("bursts", burst), ("promotions", promo),
                                  ("quiet", quiet))}
        s, n = row["signals"], row["no_signals"]
        row["gain"] = {k: round(1 - s[k] / n[k], 4) for k in ("all", "bursts", "promotions", "quiet")}
        row["shuffled_gain"] = round(1 - row["shuffled"]["all"] / n["all"], 4)
        print(json.dumps(row), flush=True)


def speed(a) -> None:
    regions, pop = _regions()
    skus = int(np.ceil(a.series / 4))            # regional SKUs sell in 1-3 provinces, national in all
    w = G.generate_world(regions, pop, skus=skus, seed=1, until="2026-11-20")
    keys = w.sales[["region", "sku"]].drop_duplicates().head(a.series)
    sales = w.sales.merge(keys)
    sig = w.signals.merge(keys)
    end = pd.Timestamp("2026-11-20")
    start = (end - pd.Timedelta(days=a.days - 1)).strftime("%Y-%m-%d")
    for name, s, kw in (("signals", sig, {}), ("no_signals", None, {"signals": False})):
        t = time.perf_counter()
        f = backtest(make_panel(sales, s), start, "2026-11-20", a.horizon, **kw)
        print(json.dumps({"series": len(keys), "days": a.days, "horizon": a.horizon, "model": name,
                          "forecasts": len(f), "seconds": round(time.perf_counter() - t, 1)}), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    g = sub.add_parser("goals")
    g.add_argument("--seeds", default="11,12,13")
    g.add_argument("--skus", type=int, default=40)
    g.add_argument("--horizon", type=int, default=7)
    s = sub.add_parser("speed")
    s.add_argument("--series", type=int, default=1000)
    s.add_argument("--days", type=int, default=60)
    s.add_argument("--horizon", type=int, default=7)
    a = ap.parse_args()
    goals(a) if a.what == "goals" else speed(a)


if __name__ == "__main__":
    main()
