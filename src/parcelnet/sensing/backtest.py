"""Forecasts of daily units by province and SKU, with and without social signals
(``parcelnet sense backtest``), and the seasonal-naive baseline (docs/sensing.md).

**The model.** LightGBM (gradient-boosted trees), one global model per lead time h over
every series, with lag features: at the forecast's origin o = D - h the series' units on
days o, o-1, ..., o-6 and o-13, and the last same weekday as D, each over the series'
level plus one (the scale; so one model serves series of any size); the target's
calendar (weekday, the promotion days, the pre-sale, days to Singles Day, days since the
last promotion day); with signals, the mentions on days o..o-6 over their own 28-day mean
plus one, the largest of them, the days from it to D and their sum, and the pre-sale
deposits (only those paid in the season from the pre-sale's start to 11-12) of the last
seven and thirty days over the units' scale, the latter also relative to the same for all
series together (the share of the pre-sale a series holds for its size). The target is D's
units over the same scale. **The level** is the series' mean over the 28 days up to the
origin, leaving out the promotion days: a promotion's spike is not the level its next days
return to, and counted in, it lifted the scale of every row for four weeks after it.

**The statistic.** The backtest fits the target's median (the absolute error, LightGBM's
``l1``): it is scored by WAPE, a sum of absolute errors, which the median minimises. The
forward forecast fits its mean (the squared error, ``l2``): placement stocks for the
expected demand, and a day's median lies below its mean, the more so the smaller the series.
Either takes the other with ``statistic`` (docs/sensing-record.md, "The median and the mean").

**The deposits' line.** With signals, the trees do not start from a constant on
the days sold from the deposits (Singles Day and the day after): there they start from a
line of the target on the thirty days' deposits over the scale, fitted across every series
on the same day of the training year, at the same lead time (LightGBM's init_score), and fit
what the line leaves. The line estimates the model's statistic: least absolute deviations
for the median, least squares for the mean; every other row starts at the training
targets' median or mean. A year holds one Singles Day, a few leaves of a
tree, so trees alone give the units as a few steps of the deposits; the line keeps them in
proportion. The forecast rows' deposits are clipped to the training rows' range, so the
line never extrapolates.

LightGBM is chosen over a statistical model (statsforecast's ETS or ARIMA) because the
signals enter as features with a lag the model has to find, and one global model learns
from every series' bursts at once.

**Rolling origin, no look-ahead.** For every day D in the window and every h = 1..H the
forecast of D uses data up to D - h only: the model for h is fitted on targets no later
than the first day of its block minus h, and refitted every ``refit`` days; its features
stop at D - h.

**The signal gate.** The signals' columns enter only where the training data show that
the signals lead the sales (:func:`signals_lead`): over the 365 days before a block's
earliest origin, the pooled correlation of each series' signal anomaly (mentions and
deposits over their trailing 28-day mean, in logs, less what all series share that day)
with its sales anomaly (likewise) 1..7 days later
must stand GATE_Z standard deviations above the same statistic with each series' signal
shifted circularly by a random offset (GATE_SHIFTS draws: shifts keep the signal's own
rhythm and break its timing). Where it does not, the block is forecast by the model without
signals, bit for bit. A signal shuffled in time, noise, or another series' signal thus adds
nothing, instead of the few per cent that extra columns move a tree model by chance.

**At once.** The fits (one per lead time and block) run ``workers`` at a time on threads,
each fit's LightGBM on the machine's cores over ``workers``, at least one (LightGBM and
NumPy release the GIL while they work). By default ``workers`` is one more than the cores
(at most MAX_WORKERS): a fit's threads wait on each other, and a fit building its features
leaves a core idle. LightGBM runs deterministic: the forecasts are the same, bit for bit,
whatever ``workers`` (docs/sensing-record.md has the times). LightGBM keeps one thread count
for the whole process, and every call sets it from its own parameters: a call without
``num_threads`` sets it back to every core. A fit sizes its per-thread buffers by that count
and later runs its loops by it, so a call on another thread that changes it between the two
makes the fit write past its buffers (a segfault). So every LightGBM call of a fit, its
prediction too, passes the same ``num_threads`` (:func:`_train_predict`). It also builds
col-wise histograms only (``force_col_wise``, which LightGBM advises with
``deterministic``), rather than timing row- against col-wise at each fit's start; both gave
the same forecasts, bit for bit, where checked.

**Seasonal naive**: D's forecast is the units on the last same weekday known at D - h.

**Dynamic regression** (:mod:`.lead`): per series, the sales' daily change on the signal's
change at the lead found in the training data, refitted every ``refit`` days on data up to
the block's first day minus H. Meant for short, trending series with one leading indicator
(such as BJsales), where a global tree model has too few rows.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from functools import partial

import numpy as np
import pandas as pd

from parcelnet._deps import require
from parcelnet.errors import ParameterError
from parcelnet.progress import Progress, or_none
from parcelnet.sensing.tables import BACKTEST_COLUMNS as _BACKTEST_COLUMNS

#: promotion days (month, day) the calendar features flag
PROMO_DAYS = ((11, 11), (11, 12), (6, 18), (12, 12))
PRESALE = ((10, 20), (11, 10))
#: pre-sale deposits count toward the Singles Day they are paid for: from the pre-sale's
#: start to the day after Singles Day (11-12 sells from them too); others are ignored
DEPOSIT_SEASON = ((10, 20), (11, 12))
#: the days sold from the deposits, where the deposits' line starts the trees (module docs)
DEPOSIT_DAYS = ((11, 11), (11, 12))
#: _features' column of the season's deposits of the last thirty days over the scale
DEPOSITS_30 = -2
LAGS = (0, 1, 2, 3, 4, 5, 6, 13)
SIGNAL_LAGS = (0, 1, 2, 3, 4, 5, 6)
PEAK_WINDOW = 7              # days searched back from the origin for a burst's peak
HISTORY = 28
ROUNDS = 150                   # at a rate of 0.0667: the same total step as 200 at 0.05
GATE_LEADS = range(1, 8)       # days by which the signal may lead the sales
GATE_SHIFTS = 20
GATE_Z = 4.0
GATE_MIN_SERIES = 10           # fewer series: no calendar to take out across them
MODELS = ("lightgbm", "seasonal-naive", "dynamic-regression")
#: the statistic a LightGBM forecast estimates, and the objective that fits it
STATISTICS = {"median": "l1", "mean": "l2"}
#: force_col_wise: by default LightGBM picks row- or col-wise histograms by timing each fit
#: (module docs, "At once"); num_threads is set per call, by _train_predict
PARAMS = dict(learning_rate=0.0667, num_leaves=31, min_data_in_leaf=20,
              bagging_fraction=0.8, bagging_freq=1, feature_fraction=0.9, verbose=-1,
              deterministic=True, force_col_wise=True)
#: the stages reported to a Progress: a unit per lead time and block (LightGBM's fits, the
#: seasonal naive's), or per block (the dynamic regression's fits)
SENSE_STAGES = ("fitting the forecasts",)
#: the most fits at once by default: each holds its training rows (about 100 MB a year of
#: 1,000 series)
MAX_WORKERS = 8


@dataclass(frozen=True, eq=False)
class Panel:
    """Daily series as dense arrays: one row per (region, sku), one column per day."""

    dates: pd.DatetimeIndex
    keys: pd.DataFrame           # region, sku
    units: np.ndarray            # (series, days)
    mentions: np.ndarray
    deposits: np.ndarray


def make_panel(sales: pd.DataFrame, signals: pd.DataFrame | None) -> Panel:
    """Dense series from ``date,region,sku,units`` and ``date,region,sku,mentions[,kind]``
    (missing days: 0; mentions of kind ``pre-sale deposit`` are kept apart)."""
    dates = pd.date_range(sales["date"].min(), sales["date"].max(), freq="D")
    keys = sales[["region", "sku"]].drop_duplicates().sort_values(["region", "sku"],
                                                                   ignore_index=True)
    key_idx = pd.MultiIndex.from_frame(keys)
    s_idx = key_idx.get_indexer(pd.MultiIndex.from_frame(sales[["region", "sku"]]))
    d_idx = dates.get_indexer(pd.to_datetime(sales["date"]))
    units = np.zeros((len(keys), len(dates)))
    np.add.at(units, (s_idx, d_idx), sales["units"].to_numpy(float))
    mentions = np.zeros_like(units)
    deposits = np.zeros_like(units)
    if signals is not None and len(signals):
        k = key_idx.get_indexer(pd.MultiIndex.from_frame(signals[["region", "sku"]]))
        d = dates.get_indexer(pd.to_datetime(signals["date"]))
        ok = (k >= 0) & (d >= 0)
        dep = (signals["kind"].to_numpy(object) == "pre-sale deposit") if "kind" in signals \
            else np.zeros(len(signals), bool)
        m = signals["mentions"].to_numpy(float)
        np.add.at(mentions, (k[ok & ~dep], d[ok & ~dep]), m[ok & ~dep])
        np.add.at(deposits, (k[ok & dep], d[ok & dep]), m[ok & dep])
    return Panel(dates, keys, units, mentions, deposits)


def _within(dates: pd.DatetimeIndex, lo: tuple, hi: tuple) -> np.ndarray:
    """1.0 on the days whose (month, day) lies in lo..hi, else 0.0."""
    return np.array([lo <= x <= hi for x in zip(dates.month, dates.day)], float)


def _first_target(horizon: int) -> int:
    """The first day index a target may have: its features reach HISTORY + the longest lag
    + the same-weekday lag + the lead time back."""
    return HISTORY + max(LAGS) + 7 * int(np.ceil(horizon / 7)) + horizon


def _table(out: list, columns: list) -> pd.DataFrame:
    return pd.concat(out, ignore_index=True)[columns].sort_values(
        [c for c in columns if c != "units_forecast"], ignore_index=True)


BACKTEST_COLUMNS = list(_BACKTEST_COLUMNS)
FORECAST_COLUMNS = ["date", "region", "sku", "units_forecast"]


def _calendar(dates: pd.DatetimeIndex) -> np.ndarray:
    md = list(zip(dates.month, dates.day))
    cols = [dates.day_of_week.to_numpy(float)]
    cols += [np.array([x == p for x in md], float) for p in PROMO_DAYS]
    cols.append(_within(dates, *PRESALE))
    to_1111 = np.array([(pd.Timestamp(year=d.year, month=11, day=11) - d).days for d in dates], float)
    cols.append(np.where((to_1111 >= 0) & (to_1111 <= 30), to_1111, 31.0))
    # days since the last promotion day, on the days after one (a promotion's lags are not
    # the next days' level); 31 on a promotion day itself and when none is that recent
    is_promo = np.array([x in PROMO_DAYS for x in md])
    since = np.full(len(dates), 31.0)
    last = None
    for i, flag in enumerate(is_promo):
        if flag:
            last = i
        elif last is not None:
            since[i] = min(31, i - last)
    cols.append(since)
    return np.stack(cols, axis=1)


def _features(p: Panel, targets: np.ndarray, h: int, signals: bool, cal: np.ndarray):
    """Rows for (series, target day index) pairs: (X, scale) with the origin o = day - h."""
    s, d = targets[:, 0], targets[:, 1]
    o = d - h
    u = p.units
    csum = np.concatenate([np.zeros((u.shape[0], 1)), np.cumsum(u, axis=1)], axis=1)
    level = _level(p, cal)
    scale = level[s, o] + 1.0
    cols = [u[s, o - j] / scale for j in LAGS]
    back = 7 * int(np.ceil(h / 7))
    cols.append(u[s, d - back] / scale)
    cols.append((csum[s, o + 1] - csum[s, o - 6]) / 7 / scale)
    cols.append(np.log1p(level[s, o]))
    cols += list(cal[d].T)
    if signals:
        mc = np.concatenate([np.zeros((u.shape[0], 1)), np.cumsum(p.mentions, axis=1)], axis=1)
        mm = (mc[s, o + 1] - mc[s, o + 1 - HISTORY]) / HISTORY + 1.0
        cols += [p.mentions[s, o - j] / mm for j in SIGNAL_LAGS]
        recent = np.stack([p.mentions[s, o - j] for j in range(PEAK_WINDOW)], axis=1)
        cols.append(np.log1p(recent.max(axis=1)))               # the burst's size, saturating
        cols.append(recent.argmax(axis=1) + h)                  # days from its peak to D
        cols.append(recent.sum(axis=1) / mm)                   # the burst's mass this week
        season = _within(p.dates, *DEPOSIT_SEASON)
        dc = np.concatenate([np.zeros((u.shape[0], 1)), np.cumsum(p.deposits * season, axis=1)],
                            axis=1)
        cols.append((dc[s, o + 1] - dc[s, o - 6]) / scale)
        d30 = (dc[s, o + 1] - dc[s, np.maximum(o - 29, 0)]) / scale
        cols.append(d30)                                        # the pre-sale's so far
        # the same relative to every series' together at the origin: which products take
        # more or less than the average from the promotion, however far into the pre-sale
        uo, at = np.unique(o, return_inverse=True)
        every = (dc[:, uo + 1] - dc[:, np.maximum(uo - 29, 0)]).sum(axis=0)
        every /= (level[:, uo] + 1.0).sum(axis=0)
        cols.append(np.divide(d30, every[at], out=np.zeros_like(d30), where=every[at] > 0))
    return np.stack(cols, axis=1).astype(np.float32), scale


def _level(p: Panel, cal: np.ndarray) -> np.ndarray:
    """Each series' level on each day from day HISTORY - 1 on (0 before): its mean units over the
    HISTORY days up to and including that day, leaving out the promotion days (module docs)."""
    keep = 1.0 - cal[:, 1:1 + len(PROMO_DAYS)].sum(axis=1)           # _calendar's flags
    n = np.concatenate([[0.0], np.cumsum(keep)])
    c = np.concatenate([np.zeros((p.units.shape[0], 1)), np.cumsum(p.units * keep, axis=1)],
                       axis=1)
    out = np.zeros(p.units.shape)
    days = np.arange(HISTORY - 1, p.units.shape[1])
    out[:, days] = (c[:, days + 1] - c[:, days + 1 - HISTORY]) / (n[days + 1] - n[days + 1 - HISTORY])
    return out


def _pairs(n_series: int, days: np.ndarray) -> np.ndarray:
    """(series, day) rows, day-major."""
    days = np.asarray(days, np.int64)
    return np.stack([np.tile(np.arange(n_series), len(days)), np.repeat(days, n_series)], axis=1)


def seasonal_naive(p: Panel, day: np.ndarray, series: np.ndarray, h: int) -> np.ndarray:
    back = 7 * int(np.ceil(h / 7))
    return p.units[series, day - back]


def backtest(p: Panel, start: str, end: str, horizon: int, *, signals: bool = True,
             refit: int = 30, train_days: int = 365, seed: int = 0,
             model: str = "lightgbm", statistic: str = "median",
             workers: int | None = None, progress: Progress | None = None) -> pd.DataFrame:
    """Rolling-origin forecasts (module docs) of every day from ``start`` to ``end`` at lead
    times 1..``horizon``: ``date,region,sku,horizon,units_forecast``. ``model``: one of
    MODELS; ``statistic`` (LightGBM's): one of STATISTICS; ``workers``: fits at once (module
    docs, "At once"; default: the machine's cores plus one, at most MAX_WORKERS);
    ``progress``: a unit of SENSE_STAGES' stage per fit."""
    _check(model, statistic)
    workers, threads = _workers(workers)
    try:
        window = [pd.to_datetime(x, format="%Y-%m-%d") for x in (start, end)]
    except (TypeError, ValueError):
        raise ParameterError(f"the window {start}..{end} must be two dates, YYYY-MM-DD") from None
    if not (isinstance(horizon, (int, np.integer)) and 1 <= horizon <= 60):
        raise ParameterError(f"the horizon must be a whole number of days in 1..60, got {horizon}")
    t0, t1 = p.dates.get_indexer(window)
    first = _first_target(horizon)
    if t0 < 0 or t1 < 0 or t1 < t0:
        raise ParameterError(f"the window {start}..{end} must lie within the sales' dates "
                             f"({p.dates[0].date()}..{p.dates[-1].date()})")
    need = first + 28 + horizon         # days of history before the window's first day
    if t0 < need:
        span = f"{p.dates[0].date()}..{p.dates[-1].date()}"
        raise ParameterError(
            f"the window starts too early ({start}): at lead times up to {horizon} a backtest "
            f"needs {need} days of sales before it, so it can start on "
            f"{(p.dates[0] + pd.Timedelta(days=need)).date()} at the earliest"
            if need < len(p.dates) else
            f"the sales cover {len(p.dates)} days ({span}): a backtest at lead times up to "
            f"{horizon} needs {need} days of sales before its window, and one day in it")
    if model == "dynamic-regression":
        return _backtest_dr(p, t0, t1, horizon, signals, refit, train_days, progress)
    if model == "lightgbm":
        lgb = require("lightgbm", "sensing", "the sensing forecaster")
    n_s = p.units.shape[0]
    cal = _calendar(p.dates)
    blocks = range(t0, t1 + 1, refit)
    # the gate of each block, on data up to its earliest origin (module docs)
    gate = {b0: model == "lightgbm" and signals and
            signals_lead(p, b0 - horizon, train_days, seed).lead for b0 in blocks}
    grids, tasks = [], []
    for h in range(1, horizon + 1):
        for b0 in blocks:
            grid = _pairs(n_s, np.arange(b0, min(b0 + refit, t1 + 1)))
            grids.append((h, grid))
            if model == "seasonal-naive":
                tasks.append(partial(seasonal_naive, p, grid[:, 1], grid[:, 0], h))
            else:
                tasks.append(partial(_fit_predict, lgb, p, cal, h, b0 - h, grid, gate[b0], seed,
                                     train_days, first, statistic, threads))
    preds = _run(tasks, workers if model == "lightgbm" else 1, progress)
    t = _table([_frame(p, grid, pred).assign(horizon=h) for (h, grid), pred in zip(grids, preds)],
               BACKTEST_COLUMNS)
    t.attrs["signals_used"] = {str(p.dates[b0].date()): bool(g) for b0, g in gate.items()}
    return t


@dataclass(frozen=True)
class Gate:
    """:func:`signals_lead`'s answer: the observed statistic, the null's mean and standard
    deviation, z, and whether the signals lead (z >= GATE_Z and a positive statistic)."""
    statistic: float
    null_mean: float
    null_sd: float
    z: float
    lead: bool


def _anomaly(a: np.ndarray, days: np.ndarray) -> np.ndarray:
    """log1p of each day's value minus log1p of its series' mean over the HISTORY days
    before it, less that day's mean over all series (what the calendar does to all of
    them; with at least GATE_MIN_SERIES series), standardised per series (a constant series: zeros)."""
    c = np.concatenate([np.zeros((a.shape[0], 1)), np.cumsum(a, axis=1)], axis=1)
    x = np.log1p(a[:, days]) - np.log1p((c[:, days] - c[:, days - HISTORY]) / HISTORY)
    if x.shape[0] >= GATE_MIN_SERIES:           # what every series shares that day: the calendar
        x -= x.mean(axis=0, keepdims=True)
    x -= x.mean(axis=1, keepdims=True)
    sd = x.std(axis=1, keepdims=True)
    return np.divide(x, sd, out=np.zeros_like(x), where=sd > 0)


def signals_lead(p: Panel, last: int, train_days: int = 365, seed: int = 0) -> Gate:
    """Do the signals lead the sales in the days up to ``last`` (module docs: the gate)?"""
    lo = max(HISTORY, last - train_days + 1)
    days = np.arange(lo, last + 1)
    if len(days) < 4 * max(GATE_LEADS) + 2 * HISTORY:
        return Gate(0.0, 0.0, 0.0, 0.0, False)
    x = _anomaly(p.mentions + p.deposits, days)
    y = _anomaly(p.units, days)
    n = len(days)

    def stat(xs: np.ndarray) -> float:
        return max(float((xs[:, :n - k] * y[:, k:]).mean()) for k in GATE_LEADS)

    obs = stat(x)
    rng = np.random.default_rng([seed, last])
    rows = np.arange(x.shape[0])[:, None]
    null = []
    for _ in range(GATE_SHIFTS):
        shift = rng.integers(HISTORY, n - HISTORY, size=x.shape[0])
        null.append(stat(x[rows, (np.arange(n)[None, :] - shift[:, None]) % n]))
    mu, sd = float(np.mean(null)), float(np.std(null))
    z = (obs - mu) / sd if sd > 0 else 0.0
    return Gate(obs, mu, sd, z, bool(obs > 0 and z >= GATE_Z))


def _workers(workers: int | None) -> tuple[int, int]:
    """(fits at once, LightGBM threads per fit) for ``workers`` (module docs, "At once")."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if workers is None:
        workers = min(cores + 1, MAX_WORKERS)
    if not (isinstance(workers, (int, np.integer)) and not isinstance(workers, bool) and workers >= 1):
        raise ParameterError(f"workers must be a whole number of at least 1, got {workers!r}")
    return int(workers), max(1, cores // int(workers))


def _run(tasks: list, workers: int, progress: Progress | None = None) -> list:
    """Each task's result, in the tasks' order, ``workers`` of them at once on threads;
    ``progress`` advances by one as each task ends (from this thread)."""
    progress = or_none(progress)
    progress.start(SENSE_STAGES[0], len(tasks))
    out = [None] * len(tasks)
    if workers <= 1 or len(tasks) <= 1:
        for i, t in enumerate(tasks):
            out[i] = t()
            progress.advance()
    else:
        with ThreadPoolExecutor(min(workers, len(tasks))) as ex:
            futures = {ex.submit(t): i for i, t in enumerate(tasks)}
            for f in as_completed(futures):
                out[futures[f]] = f.result()
                progress.advance()
    progress.finish()
    return out


def _fit_predict(lgb, p: Panel, cal, h: int, last: int, grid: np.ndarray, signals: bool,
                 seed: int, train_days: int, first: int, statistic: str,
                 threads: int) -> np.ndarray:
    """Fit lead time h's model of ``statistic`` on targets ``first``..``last`` (at most
    ``train_days`` of them), with LightGBM on ``threads`` threads, and forecast the
    (series, day) rows of ``grid``, whose origins are at most ``last``."""
    lo = max(first, last - train_days + 1)
    train = _pairs(p.units.shape[0], np.arange(lo, last + 1))
    X, scale = _features(p, train, h, signals, cal)
    y = p.units[train[:, 0], train[:, 1]] / scale
    Xp, sp = _features(p, grid, h, signals, cal)
    start = start_p = None
    if signals:         # the deposits' line starts the trees on the days sold from them
        start, start_p = _deposit_line(X, y, cal[train[:, 1]], Xp, cal[grid[:, 1]], statistic)
    pred = _train_predict(lgb, X, y, start, Xp, start_p, statistic, seed, threads)
    return np.maximum(pred, 0) * sp


def _train_predict(lgb, X: np.ndarray, y: np.ndarray, start: np.ndarray | None, Xp: np.ndarray,
                   start_p: np.ndarray | None, statistic: str, seed: int, threads: int,
                   rounds: int = ROUNDS) -> np.ndarray:
    """LightGBM's fit of ``statistic`` on (X, y) from the starting scores ``start`` (None:
    its own), and its forecast of Xp from ``start_p``, each call on ``threads`` threads: the
    process's thread count must not change under a fit that runs at once with others
    (module docs, "At once")."""
    m = lgb.train({**PARAMS, "objective": STATISTICS[statistic], "seed": seed,
                   "num_threads": threads},
                  lgb.Dataset(X, y, init_score=start), num_boost_round=rounds)
    pred = m.predict(Xp, num_threads=threads)
    return pred if start_p is None else pred + start_p


def _check(model: str, statistic: str) -> None:
    if model not in MODELS:
        raise ParameterError(f"unknown model '{model}': one of {', '.join(MODELS)}")
    if statistic not in STATISTICS:
        raise ParameterError(f"unknown statistic '{statistic}': one of {', '.join(STATISTICS)}")


def _lad_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of the least-absolute-deviations line of y on x: the line of the
    conditional median, exactly, by Wesolowsky's direct descent (1981). Some best line
    passes through two of the points. Through a pivot point k, the best slope is the median
    of the slopes to the other points weighted by their distance in x; the point that gives
    it becomes the next pivot. The sum of absolute deviations falls at each step, and the
    search stops when it no longer does (n log n a step, a few steps)."""
    def cost(b: float, a: float) -> float:
        return float(np.abs(y - a - b * x).sum())

    b = 0.0
    a = float(np.median(y))
    k = int(np.argmin(np.abs(y - a)))                    # a point on the median's level
    best = cost(b, a)
    for _ in range(len(x)):
        dx = x - x[k]
        ok = dx != 0
        if not ok.any():
            break
        slopes, w = (y[ok] - y[k]) / dx[ok], np.abs(dx[ok])
        order = np.argsort(slopes, kind="stable")
        cum = np.cumsum(w[order])
        m = order[int(np.searchsorted(cum, cum[-1] / 2))]
        nb = float(slopes[m])
        na = float(y[k] - nb * x[k])
        c = cost(nb, na)
        if c >= best:
            break
        b, a, best = nb, na, c
        k = int(np.flatnonzero(ok)[m])
    return b, a


def _deposit_line(X: np.ndarray, y: np.ndarray, cal_train: np.ndarray, Xp: np.ndarray,
                  cal_pred: np.ndarray, statistic: str) -> tuple[np.ndarray, np.ndarray]:
    """The trees' starting scores (LightGBM's init_score) for the training rows and the
    rows to forecast (module docs, "The deposits' line"). On each of DEPOSIT_DAYS: the line
    of the target on the thirty days' deposits over the scale, fitted on that day's training
    rows across every series (at least GATE_MIN_SERIES of them), by least absolute
    deviations for the median and least squares for the mean; the rows to forecast take it
    at their deposits clipped to the training rows' range. Every other row starts at the
    training targets' median or mean (as LightGBM starts by itself for that statistic)."""
    centre = np.median if statistic == "median" else np.mean
    level = float(centre(y))
    start, start_p = np.full(len(y), level), np.full(len(Xp), level)
    for day in DEPOSIT_DAYS:
        c = 1 + PROMO_DAYS.index(day)                        # _calendar's column of that day
        t, q = cal_train[:, c] == 1, cal_pred[:, c] == 1
        if t.sum() < GATE_MIN_SERIES:
            continue
        x = X[t, DEPOSITS_30]
        if np.ptp(x) == 0:
            slope, icpt = 0.0, float(centre(y[t]))
        elif statistic == "median":
            slope, icpt = _lad_line(x.astype(float), y[t])
        else:
            slope, icpt = np.polyfit(x, y[t], 1)
        start[t] = icpt + slope * x
        start_p[q] = icpt + slope * np.clip(Xp[q, DEPOSITS_30], x.min(), x.max())
    return start, start_p


def _fit_dr(p: Panel, last: int, signals: bool, train_days: int) -> list:
    from parcelnet.sensing.lead import fit_dynamic_regression

    lo = max(0, last - train_days + 1)
    sig = p.mentions + p.deposits
    return [fit_dynamic_regression(p.units[i, lo:last + 1], sig[i, lo:last + 1], signals=signals,
                                   max_lag=min(14, (last - lo) // 3))
            for i in range(p.units.shape[0])]


def _backtest_dr(p: Panel, t0: int, t1: int, horizon: int, signals: bool, refit: int,
                 train_days: int, progress: Progress | None = None) -> pd.DataFrame:
    """The dynamic regression's rolling-origin forecasts: fitted per block on data up to
    the block's first day minus ``horizon``, so no forecast sees past its origin."""
    sig = p.mentions + p.deposits
    out = []
    blocks = range(t0, t1 + 1, refit)
    progress = or_none(progress)
    progress.start(SENSE_STAGES[0], len(blocks))
    for b0 in blocks:
        fits = _fit_dr(p, b0 - horizon, signals, train_days)
        days = np.arange(b0, min(b0 + refit, t1 + 1))
        grid = _pairs(p.units.shape[0], days)
        for h in range(1, horizon + 1):
            pred = np.array([max(fits[i].forecast(p.units[i], sig[i], d - h, h), 0.0)
                             for i, d in grid])
            out.append(_frame(p, grid, pred).assign(horizon=h))
        progress.advance()
    progress.finish()
    return _table(out, BACKTEST_COLUMNS)


def _frame(p: Panel, grid: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"date": p.dates[grid[:, 1]].strftime("%Y-%m-%d"),
                         "region": p.keys["region"].to_numpy(object)[grid[:, 0]],
                         "sku": p.keys["sku"].to_numpy(object)[grid[:, 0]],
                         "units_forecast": pred})


def forecast(p: Panel, horizon: int, *, signals: bool = True, seed: int = 0,
             train_days: int = 365, model: str = "lightgbm",
             statistic: str = "mean", workers: int | None = None,
             progress: Progress | None = None) -> pd.DataFrame:
    """The forward forecast (``parcelnet sense forecast``): the units of each of the
    ``horizon`` days after the panel's last day, each made with everything up to that day
    (lead time h for the h-th day): ``date,region,sku,units_forecast``, the table
    ``parcelnet plan placement`` reads. The model and its features are the backtest's; by
    default it estimates the mean, which placement stocks for (module docs). ``workers`` and
    ``progress`` (LightGBM's fits): as :func:`backtest`'s."""
    _check(model, statistic)
    workers, threads = _workers(workers)
    if not (isinstance(horizon, (int, np.integer)) and 1 <= horizon <= 60):
        raise ParameterError(f"the horizon must be a whole number of days in 1..60, got {horizon}")
    n_days = len(p.dates)
    first = _first_target(horizon)
    if n_days - 1 < first + 28:
        raise ParameterError(f"the sales cover {n_days} days: a forecast needs at least "
                             f"{first + 29} days of history")
    # the future days, with no sales or signals: features never reach past the origin
    z = np.zeros((p.units.shape[0], horizon))
    ext = Panel(p.dates.append(pd.date_range(p.dates[-1] + pd.Timedelta(days=1), periods=horizon)),
                p.keys, *(np.concatenate([a, z], axis=1) for a in (p.units, p.mentions, p.deposits)))
    cal = _calendar(ext.dates)
    last = n_days - 1
    lgb = require("lightgbm", "sensing", "the sensing forecaster") if model == "lightgbm" else None
    if model == "dynamic-regression":
        fits = _fit_dr(ext, last, signals, train_days)
        sig = ext.mentions + ext.deposits
    use = model == "lightgbm" and signals and signals_lead(ext, last, train_days, seed).lead
    grids = [_pairs(p.units.shape[0], [last + h]) for h in range(1, horizon + 1)]
    if model == "dynamic-regression":
        preds = [np.array([max(fits[i].forecast(ext.units[i], sig[i], last, h), 0.0)
                           for i in grid[:, 0]]) for h, grid in enumerate(grids, 1)]
    elif lgb is None:
        preds = [seasonal_naive(ext, grid[:, 1], grid[:, 0], h) for h, grid in enumerate(grids, 1)]
    else:
        preds = _run([partial(_fit_predict, lgb, ext, cal, h, last, grid, use, seed, train_days,
                              first, statistic, threads) for h, grid in enumerate(grids, 1)], workers,
                     progress)
    return _table([_frame(ext, grid, pred) for grid, pred in zip(grids, preds)], FORECAST_COLUMNS)


def wape(actual: np.ndarray, forecast: np.ndarray) -> float:
    """Weighted absolute percentage error: sum |actual - forecast| / sum actual."""
    a = np.asarray(actual, float)
    return float(np.abs(a - np.asarray(forecast, float)).sum() / max(a.sum(), 1e-12))
