"""How far a signal leads sales, and a dynamic regression that uses the lead
(``parcelnet sense lead``; ``sense backtest --model dynamic-regression``; docs/sensing.md).

**The lead.** Both series are differenced once (levels of sales and buzz trend and wander,
and trending levels correlate at every lag). The lead is the lag L in 1..``max_lag`` days
that maximises the correlation of the sales' change on day t with the signal's change on day
t - L. It is reported with that correlation and the rough 95% band of a correlation
between unrelated series, 2 / sqrt(n).

**The dynamic regression** (Box and Jenkins' transfer-function model in its simplest
form), fitted per series by least squares on the differences:

    dy[t] = a + b0 dx[t - L] + b1 dx[t - L - 1] + phi dy[t - 1]

with L found on the same training data. Without signals it is the same model with no
dx terms. A forecast of day o + h from origin o adds the predicted changes to y[o], with the
signal's changes after o set to zero (unknown) and dy's own recursion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.errors import ParameterError


@dataclass(frozen=True)
class Lead:
    lag: int                  # days the signal leads the sales by
    correlation: float        # of the differenced series at that lag
    band: float               # 2 / sqrt(n): the rough 95% band for unrelated series
    n: int                    # pairs the correlation is over

    @property
    def significant(self) -> bool:
        return self.correlation > self.band


def find_lead(units: np.ndarray, signal: np.ndarray, max_lag: int = 14) -> Lead:
    """The lag in 1..``max_lag`` at which the signal's daily change best predicts the
    sales' change (module docs). ``units`` and ``signal`` are one series each, day by day."""
    y = np.diff(np.asarray(units, float))
    x = np.diff(np.asarray(signal, float))
    if len(y) != len(x):
        raise ParameterError("sales and signal must cover the same days")
    if not (isinstance(max_lag, (int, np.integer)) and 1 <= max_lag <= len(y) - 3):
        raise ParameterError(f"the largest lag must be in 1..{len(y) - 3}, got {max_lag}")
    best = Lead(1, -np.inf, 0.0, 0)
    for lag in range(1, max_lag + 1):
        a, b = y[lag:], x[:len(x) - lag]
        if a.std() == 0 or b.std() == 0:
            continue
        r = float(np.corrcoef(a, b)[0, 1])
        if r > best.correlation:
            best = Lead(lag, r, float(2 / np.sqrt(len(a))), len(a))
    if not np.isfinite(best.correlation):
        return Lead(1, 0.0, float(2 / np.sqrt(max(len(y) - 1, 1))), 0)
    return best


@dataclass(frozen=True)
class DynamicRegression:
    lag: int
    coef: np.ndarray          # a, phi[, b0, b1]
    signals: bool

    def forecast(self, units: np.ndarray, signal: np.ndarray, origin: int, h: int) -> float:
        """The forecast of day ``origin + h`` from the series up to ``origin``."""
        y = np.asarray(units, float)
        x = np.asarray(signal, float)
        level = y[origin]
        prev = y[origin] - y[origin - 1]
        for k in range(1, h + 1):
            t = origin + k
            step = self.coef[0] + self.coef[1] * prev
            if self.signals:
                for j, c in ((self.lag, self.coef[2]), (self.lag + 1, self.coef[3])):
                    if t - j <= origin:                      # a change already seen
                        step += c * (x[t - j] - x[t - j - 1])
            level += step
            prev = step
        return level


def fit_dynamic_regression(units: np.ndarray, signal: np.ndarray, *, signals: bool = True,
                           max_lag: int = 14) -> DynamicRegression:
    """Least squares on the whole of the given history (module docs)."""
    y = np.asarray(units, float)
    x = np.asarray(signal, float)
    lag = find_lead(y, x, max_lag).lag if signals else 0
    dy = np.diff(y)
    dx = np.diff(x)
    t = np.arange(lag + 2, len(dy))                  # dy[t], with dx[t - lag - 1] defined
    cols = [np.ones(len(t)), dy[t - 1]]
    if signals:
        cols += [dx[t - lag], dx[t - lag - 1]]
    coef, *_ = np.linalg.lstsq(np.stack(cols, axis=1), dy[t], rcond=None)
    return DynamicRegression(lag, coef, signals)
