"""Forecasts scored against the sales (``parcelnet sense score``, docs/sensing.md "Scoring
backtests"): WAPE overall, by lead time and in disjoint windows, side by side for several
backtests, and each one's gain over a baseline.

Exact semantics:

- **The rows scored** are the (date, region, SKU, lead time) rows present in every
  forecasts table whose (date, region, SKU) has sales. The sales of a day, region and SKU
  are summed. So every table is scored on the same rows.
- **WAPE** of a set of rows: the sum of |forecast - units| over the sum of units; None where
  there are no rows or the units sum to zero.
- **The windows** are disjoint:
  - ``promotions``: the days from one day before to one day after a promotion day of the
    backtest's calendar (11-11, 11-12, 6-18 and 12-12), so 11-10..11-13, 6-17..6-19 and
    12-11..12-13;
  - ``bursts`` (only with a bursts table): the days from a burst's day (its first day of
    mentions) to ``burst_days`` days after it, in the burst's region and SKU, that are not
    promotion days; split into ``bursts_seen``, where the series' latest burst on or before
    the day began on or before the forecast's origin (the day less the lead time), so that
    a signal of it existed, and ``bursts_unseen``, the others;
  - ``quiet``: neither.
- **The gain** of a table over the baseline in a window: 1 - its WAPE / the baseline's;
  None where either WAPE is None or the baseline's is zero.
- **The bias**: the forecast units over the units sold, over all rows scored.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.results import Result
from parcelnet.sensing.backtest import PROMO_DAYS, wape

WINDOWS = ("all", "promotions", "bursts", "bursts_seen", "bursts_unseen", "quiet")
KEYS = ["date", "region", "sku", "horizon"]


@dataclasses.dataclass(frozen=True)
class Score(Result):
    """One forecasts table's errors on the rows scored."""

    name: str
    wape: dict[str, float | None]           # by window (WINDOWS; the bursts' only with bursts)
    wape_by_horizon: dict[int, float | None]
    bias: float | None                       # forecast units / units sold


@dataclasses.dataclass(frozen=True)
class Scores(Result):
    """Several forecasts tables scored on the same rows (module docs)."""

    rows: int                                # rows scored
    rows_by_window: dict[str, int]
    units_by_window: dict[str, float]        # the units sold in each window
    left_out: dict[str, int]                 # each table's rows not scored
    scores: list[Score]
    baseline: str | None
    gain: dict[str, dict[str, float | None]]  # each other table: window -> gain over the baseline


def _wape(y: np.ndarray, f: np.ndarray) -> float | None:
    """The backtest's WAPE, or None where nothing was sold (no rows, or zero units)."""
    return wape(y, f) if y.sum() > 0 else None


def _promotion_days(dates: pd.DatetimeIndex) -> np.ndarray:
    """Whether each day is a promotion day of the calendar, or the day before or after one."""
    near = [d.month * 100 + d.day for m, dd in PROMO_DAYS
            for d in pd.Timestamp(2001, m, dd) + pd.to_timedelta([-1, 0, 1], unit="D")]
    return np.isin(np.asarray(dates.month) * 100 + np.asarray(dates.day), near)


def _days_since_burst(rows: pd.DataFrame, bursts: pd.DataFrame) -> np.ndarray:
    """For each row, the days from its series' latest burst on or before its date to that
    date; -1 where the series has none."""
    out = np.full(len(rows), -1, np.int64)
    day = pd.to_datetime(rows["date"]).to_numpy("datetime64[D]").astype(np.int64)
    b = bursts.assign(_b=pd.to_datetime(bursts["date"]).to_numpy("datetime64[D]").astype(np.int64))
    starts = {k: np.unique(g["_b"].to_numpy()) for k, g in b.groupby(["region", "sku"])}
    groups = pd.Series(np.arange(len(rows))).groupby(
        [rows["region"].to_numpy(object), rows["sku"].to_numpy(object)])
    for key, idx in groups:
        s = starts.get(key)
        if s is None:
            continue
        i = idx.to_numpy()
        pos = np.searchsorted(s, day[i], side="right") - 1     # the latest start <= the day
        ok = pos >= 0
        out[i[ok]] = day[i[ok]] - s[pos[ok]]
    return out


def score_forecasts(sales: pd.DataFrame, forecasts: dict[str, pd.DataFrame], *,
                    bursts: pd.DataFrame | None = None, burst_days: int = 10,
                    baseline: str | None = None) -> Scores:
    """Score backtests (``date,region,sku,horizon,units_forecast``, one row per date, region,
    SKU and lead time) against ``sales`` (``date,region,sku,units``), optionally near the
    ``bursts`` (``date,region,sku``: each burst's first day). ``forecasts`` maps a name (the
    file's) to its table; ``baseline`` names one of them (module docs)."""
    if not forecasts:
        raise ParameterError("no forecasts to score")
    if baseline is not None and baseline not in forecasts:
        raise ParameterError(f"the baseline '{baseline}' is not among the forecasts scored")
    if burst_days < 0:
        raise ParameterError(f"burst_days must be at least 0, got {burst_days}")
    names = list(forecasts)
    rows = None
    for i, name in enumerate(names):
        f = forecasts[name][KEYS + ["units_forecast"]].rename(columns={"units_forecast": f"f{i}"})
        f = f.astype({"horizon": np.int64})
        dup = f.duplicated(KEYS).to_numpy()
        if dup.any():       # read_backtest names the line; a table built in code, the row
            r = f.iloc[int(np.flatnonzero(dup)[0])]
            raise ParameterError(f"{name}: two forecasts of {r['date']}, {r['region']}, "
                                 f"{r['sku']} at lead time {r['horizon']}")
        rows = f if rows is None else rows.merge(f, on=KEYS, how="inner")
    units = sales.groupby(["date", "region", "sku"], sort=False)["units"].sum().rename("units")
    rows = rows.merge(units.reset_index(), on=["date", "region", "sku"], how="inner")
    if rows.empty:
        raise ValidationError(f"no forecast in {', '.join(names)} is of a day, region and SKU "
                              f"with sales" + (" and held by every file" if len(names) > 1 else ""))
    rows = rows.sort_values(KEYS, kind="stable").reset_index(drop=True)
    y = rows["units"].to_numpy(float)
    hz = rows["horizon"].to_numpy(np.int64)
    promo = _promotion_days(pd.DatetimeIndex(pd.to_datetime(rows["date"])))
    masks = {"all": np.ones(len(rows), bool), "promotions": promo}
    if bursts is not None:
        since = _days_since_burst(rows, bursts)
        near = (since >= 0) & (since <= burst_days) & ~promo
        masks |= {"bursts": near, "bursts_seen": near & (since >= hz),
                  "bursts_unseen": near & (since < hz)}
        masks["quiet"] = ~near & ~promo
    else:
        masks["quiet"] = ~promo
    masks = {k: masks[k] for k in WINDOWS if k in masks}
    scores = []
    for i, name in enumerate(names):
        fc = rows[f"f{i}"].to_numpy(float)
        scores.append(Score(
            name=name, wape={k: _wape(y[m], fc[m]) for k, m in masks.items()},
            wape_by_horizon={int(h): _wape(y[hz == h], fc[hz == h]) for h in np.unique(hz)},
            bias=float(fc.sum() / y.sum()) if y.sum() > 0 else None))
    gain = {}
    if baseline is not None:
        base = scores[names.index(baseline)].wape
        for s in scores:
            if s.name != baseline:
                gain[s.name] = {k: (1 - s.wape[k] / base[k]) if s.wape[k] is not None
                                and base[k] else None for k in masks}
    return Scores(rows=len(rows), rows_by_window={k: int(m.sum()) for k, m in masks.items()},
                  units_by_window={k: float(y[m].sum()) for k, m in masks.items()},
                  left_out={n: len(forecasts[n]) - len(rows) for n in names},
                  scores=scores, baseline=baseline, gain=gain)
