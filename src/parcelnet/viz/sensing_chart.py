"""One series' forecasts against its sales and its signals (``parcelnet sense chart``), as a
PNG: the units sold, the backtest's forecasts made h days ahead (and a second backtest's,
dashed, to compare), the promotion days shaded, and below them the mentions, with the
pre-sale deposits apart; and backtests scored side by side (``parcelnet sense score
--chart``): WAPE by window and by lead time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from parcelnet.errors import ParameterError
from parcelnet.files import atomic_path
from parcelnet.sensing.backtest import PROMO_DAYS, wape

#: days of sales shown before the first forecast
LEAD_IN = 14
COLOURS = ("#2166ac", "#b2182b", "#1b7837", "#762a83", "#e08214")


@dataclass(frozen=True)
class SeriesView:
    """What the chart draws, by day: ``sold`` (units, NaN where unknown), and per horizon
    the forecasts (``forecast`` and ``compare``) with their WAPE over the days sold
    (``wape["forecasts"]`` and ``wape["compare"]``)."""

    region: str
    sku: str
    dates: pd.DatetimeIndex
    sold: np.ndarray
    mentions: np.ndarray | None
    deposits: np.ndarray | None
    forecast: dict[int, np.ndarray]
    compare: dict[int, np.ndarray]
    wape: dict[str, dict[int, float]]


def _pick(f: pd.DataFrame, region: str, sku: str, name: str) -> pd.DataFrame:
    rows = f[(f["region"] == region) & (f["sku"] == sku)]
    if rows.empty:
        raise ParameterError(f"{name} holds no forecasts for SKU '{sku}' in '{region}'")
    return rows


def series_view(sales: pd.DataFrame, forecasts: pd.DataFrame, region: str, sku: str,
                horizons=(1,), *, signals: pd.DataFrame | None = None,
                compare: pd.DataFrame | None = None, names=("the forecasts' table", "the comparison's table")
                ) -> SeriesView:
    """The series (``region``, ``sku``) of the tables read by :mod:`parcelnet.sensing.tables`,
    at the lead times ``horizons``, from LEAD_IN days before the first forecast to the
    last. A series or a lead time the forecasts do not hold is refused in one line."""
    mine = _pick(forecasts, region, sku, names[0])
    other = None if compare is None else _pick(compare, region, sku, names[1])
    for h in horizons:
        for rows, name in ((mine, names[0]), (other, names[1])):
            if rows is not None and not (rows["horizon"] == h).any():
                have = sorted(set(rows["horizon"]))
                raise ParameterError(f"{name} holds no forecasts {h} days ahead for SKU '{sku}' "
                                     f"in '{region}' (it holds lead times {have[0]}..{have[-1]})")
    first, last = pd.Timestamp(mine["date"].min()), pd.Timestamp(mine["date"].max())
    dates = pd.date_range(first - pd.Timedelta(days=LEAD_IN), last)
    key = dates.strftime("%Y-%m-%d")

    def by_day(df: pd.DataFrame | None, col: str) -> np.ndarray | None:
        if df is None:
            return None
        rows = df[(df["region"] == region) & (df["sku"] == sku)]
        return rows.groupby("date")[col].sum().reindex(key).to_numpy(float)

    sold = by_day(sales, "units")
    mentions = deposits = None
    if signals is not None:
        kind = signals["kind"] if "kind" in signals.columns else pd.Series("post", signals.index)
        dep = kind == "pre-sale deposit"
        mentions = np.nan_to_num(by_day(signals[~dep], "mentions"))
        deposits = np.nan_to_num(by_day(signals[dep], "mentions"))
    fc = {h: by_day(mine[mine["horizon"] == h], "units_forecast") for h in horizons}
    cmp = {} if other is None else {h: by_day(other[other["horizon"] == h], "units_forecast")
                                    for h in horizons}
    scores: dict[str, dict[int, float]] = {"forecasts": {}, "compare": {}}
    for name, d in (("forecasts", fc), ("compare", cmp)):
        for h, v in d.items():
            ok = ~np.isnan(sold) & ~np.isnan(v)
            scores[name][h] = wape(sold[ok], v[ok]) if ok.any() and sold[ok].sum() > 0 else float("nan")
    return SeriesView(region, sku, dates, sold, mentions, deposits, fc, cmp, scores)


def render_forecast_chart(view: SeriesView, path: str | Path,
                          labels=("forecast", "compare")) -> Path:
    """Draw ``view`` to ``path`` (PNG)."""
    rows = 2 if view.mentions is not None else 1
    fig = Figure(figsize=(10, 5.6 if rows == 2 else 4.2), dpi=110)
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 1, sharex=True, squeeze=False,
                        gridspec_kw={"height_ratios": [3, 1][:rows]})[:, 0]
    ax = axes[0]
    x = view.dates
    for d in x:
        if (d.month, d.day) in PROMO_DAYS:
            for a in axes:
                a.axvspan(d - pd.Timedelta(hours=12), d + pd.Timedelta(hours=12),
                          color="#fdd49e", alpha=0.6, lw=0)
    ax.plot(x, view.sold, color="black", marker="o", ms=3, lw=1, label="units sold")
    for i, h in enumerate(view.forecast):
        c = COLOURS[i % len(COLOURS)]
        ax.plot(x, view.forecast[h], color=c, lw=1.8,
                label=f"{labels[0]}, {h} d ahead (WAPE {view.wape['forecasts'][h]:.1%})")
        if h in view.compare:
            ax.plot(x, view.compare[h], color=c, lw=1.4, ls="--",
                    label=f"{labels[1]}, {h} d ahead (WAPE {view.wape['compare'][h]:.1%})")
    ax.set_ylabel("units a day")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="upper left", frameon=False)
    ax.set_title(f"{view.sku} in {view.region}: units sold and the forecasts made h days ahead"
                 " (shaded: promotion days)", fontsize=10)
    if rows == 2:
        b = axes[1]
        b.bar(x, view.mentions, width=0.8, color="#969696", label="mentions")
        b.bar(x, view.deposits, width=0.8, bottom=view.mentions, color="#f16913",
              label="pre-sale deposits")
        top = float(np.max(view.mentions + view.deposits, initial=0.0))
        b.set_ylim(0, max(top * 1.08, 1.0))
        b.set_ylabel("signals")
        b.legend(fontsize=8, loc="upper left", frameon=False)
    fig.autofmt_xdate()
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)


#: the windows of a score, as the chart names them
WINDOW_NAMES = {"all": "all", "promotions": "promotions", "bursts": "near bursts",
                "bursts_seen": "near bursts:\nseen", "bursts_unseen": "near bursts:\nunseen",
                "quiet": "quiet"}


def render_score_chart(scores, path: str | Path, labels: list[str] | None = None) -> Path:
    """Backtests scored side by side (:class:`parcelnet.sensing.score.Scores`) to ``path``
    (PNG): WAPE in each window as grouped bars, each bar labelled with its WAPE (and the
    gain over the baseline below it on the other files' bars), and WAPE by lead time as
    lines, with the legend. ``labels`` name the files there (default: their names)."""
    names = [s.name for s in scores.scores]
    labels = list(labels) if labels is not None else names
    windows = [w for w in scores.rows_by_window if scores.rows_by_window[w] > 0]
    fig = Figure(figsize=(11, 4.6), dpi=110)
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [3, 2]})
    width = 0.8 / len(names)
    x = np.arange(len(windows))
    top = 0.0
    colours = ["#636363" if s.name == scores.baseline else COLOURS[i % len(COLOURS)]
               for i, s in enumerate(scores.scores)]
    for i, (s, c) in enumerate(zip(scores.scores, colours)):
        v = np.array([np.nan if s.wape[w] is None else s.wape[w] for w in windows])
        pos = x - 0.4 + width * (i + 0.5)
        left.bar(pos, v, width=width * 0.92, color=c)
        gain = scores.gain.get(s.name, {})
        for p, w, val in zip(pos, windows, v):
            if np.isnan(val):
                continue
            g = gain.get(w)
            left.text(p, val, f"{val:.0%}" + ("" if g is None else f"\n{g:+.0%}"),
                      ha="center", va="bottom", fontsize=6.5)
        top = max([top, *v[~np.isnan(v)]])
    left.set_xticks(x, [WINDOW_NAMES[w] for w in windows], fontsize=8)
    left.set_ylim(0, max(top * 1.25, 0.01))
    left.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    left.set_ylabel("WAPE")
    left.set_title("WAPE by window" + (" (and below it, the gain over the baseline)"
                                        if scores.gain else ""), fontsize=10)
    for s, label, c in zip(scores.scores, labels, colours):
        hs = sorted(s.wape_by_horizon)
        right.plot(hs, [np.nan if s.wape_by_horizon[h] is None else s.wape_by_horizon[h]
                        for h in hs], marker="o", color=c,
                   label=label + (" (baseline)" if s.name == scores.baseline else ""))
    right.set_xlabel("lead time, days")
    right.yaxis.set_major_formatter(lambda v, _: f"{v:.0%}")
    right.set_ylim(bottom=0)
    right.set_title("WAPE by lead time", fontsize=10)
    right.legend(fontsize=8, frameon=False, loc="best")
    fig.suptitle(f"{scores.rows:,} forecasts scored (day, region, SKU, lead time)", fontsize=10)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png")
    return Path(path)
