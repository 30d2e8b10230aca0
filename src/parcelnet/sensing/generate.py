"""A synthetic world with a known answer (``parcelnet sense generate``): daily sales and
social signals by province and SKU, and the true future, from a stated functional form that
is not a forecaster's own (docs/sensing.md).

The expected units of SKU k in region r on day d are

    lambda = base[r, k] x season(d) x week(d) x promo(d) x (1 + uplift[d, r, k])

- ``base``: lognormal per SKU (median BASE_MEDIAN units a day), spread over its regions by
  population (national SKUs: every region; regional ones: 1-3 provinces);
- ``season``: 1 + SEASON_AMPLITUDE sin(2 pi (day of year - 80) / 365);
- ``week``: WEEK[weekday] (Monday first);
- ``promo``: PROMOS by month and day (Singles Day 11-11, its pre-sale from 10-20, 6-18,
  Double 12), multiplied. Singles Day's and 11-12's extra (multiplier - 1) is scaled, each
  year, for each SKU and region by a lognormal factor of mean 1 (PROMO_SIGMA): some
  products take far more from the promotion than others, and which ones changes by year;
- ``uplift``: viral bursts. A burst starts on day b with strength A (lognormal); its
  mentions decay as exp(-(d - b) / MENTION_DECAY); the sales it drives start LAG days later
  and saturate: U_MAX (1 - exp(-A / SATURATION)) exp(-(d - b - LAG) / SALES_DECAY) for
  d >= b + LAG. Bursts come as a Poisson process (BURST_RATE a day per SKU and region).

Sales are negative binomial around lambda (dispersion DISPERSION), so the noise grows with
the level. Mentions are Poisson around background + the bursts' mentions (kinds: post,
repost, livestream); before Singles Day, pre-sale deposits (kind ``pre-sale deposit``) are
Poisson around DEPOSIT_SHARE of that year's Singles Day extra units of the SKU and region,
from the pre-sale's start, so the deposits tell which products will surge.

The world is cut at ``until``: sales and signals up to that day are history; the true units
after it (and lambda) are the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError

START = "2025-09-01"
DAYS = 450
BASE_MEDIAN, BASE_SIGMA = 20.0, 1.0
SEASON_AMPLITUDE = 0.15
WEEK = (0.96, 0.95, 0.97, 1.0, 1.04, 1.1, 0.98)
#: (month, day) -> multiplier; a date in several ranges takes their product
PROMOS = {(11, 11): 6.0, (11, 12): 1.8, (6, 18): 3.0, (12, 12): 2.0}
PRESALE = ((10, 20), (11, 10), 1.25)       # Singles Day's pre-sale: from, to, multiplier
SINGLES = ((11, 11), (11, 12))             # the days whose extra varies by SKU and region
PROMO_SIGMA = 0.6
LAG = 3
MENTION_DECAY, SALES_DECAY = 2.0, 5.0
U_MAX, SATURATION = 2.5, 400.0
BURST_RATE = 1 / 150
BURST_MEDIAN, BURST_SIGMA = 300.0, 0.8
BACKGROUND_MENTIONS = 5.0
DISPERSION = 8.0
DEPOSIT_SHARE = 0.3
KINDS = ("post", "repost", "livestream")


@dataclass(frozen=True, eq=False)
class World:
    sales: pd.DataFrame        # date, region, sku, units (history, up to and with ``until``)
    signals: pd.DataFrame      # date, region, sku, mentions, kind (history)
    truth: pd.DataFrame        # date, region, sku, units, expected (after ``until``)
    expected: pd.DataFrame     # date, region, sku, expected: lambda on every day (the noise floor)
    bursts: pd.DataFrame       # date, region, sku, strength: the bursts drawn
    until: str


def _promo(dates: pd.DatetimeIndex) -> np.ndarray:
    m = np.ones(len(dates))
    md = list(zip(dates.month, dates.day))
    for i, x in enumerate(md):
        m[i] *= PROMOS.get(x, 1.0)
    (fm, fd), (tm, td), mult = PRESALE
    inside = np.array([(fm, fd) <= x <= (tm, td) for x in md])
    m[inside] *= mult
    return m


def world_calendar(dates: pd.DatetimeIndex) -> np.ndarray:
    """season x week x promo on each of ``dates`` (module docs): the expected units per
    unit of base, without the bursts and with Singles Day's extra at its mean."""
    doy = dates.day_of_year.to_numpy()
    return ((1 + SEASON_AMPLITUDE * np.sin(2 * np.pi * (doy - 80) / 365))
            * np.array(WEEK)[dates.day_of_week] * _promo(dates))


def burst_uplift(strength: float, days_since: np.ndarray) -> np.ndarray:
    """The sales uplift of a burst of ``strength`` on the days ``days_since`` its start
    (module docs): 0 before LAG days, then saturating in the strength and decaying."""
    d = np.asarray(days_since)
    on = d >= LAG
    out = np.zeros(d.shape)
    out[on] = U_MAX * (1 - np.exp(-strength / SATURATION)) * np.exp(-(d[on] - LAG) / SALES_DECAY)
    return out


def generate_world(regions: list[str], population: np.ndarray, *, skus: int = 40, seed: int = 0,
                   start: str = START, days: int = DAYS, until: str | None = None,
                   national_share: float = 0.25) -> World:
    """A world over ``regions`` (with their populations) and ``skus`` SKUs (module docs);
    ``until`` (default 30 days before the end) cuts history from the answer."""
    if isinstance(skus, bool) or not isinstance(skus, (int, np.integer)) or skus < 1:
        raise ParameterError(f"the number of SKUs must be a positive integer, got {skus!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"the seed must be an integer >= 0, got {seed!r}")
    if not regions or len(regions) != len(population):
        raise ParameterError("one population per region, and at least one region")
    rng = np.random.default_rng([int(seed), 17])
    dates = pd.date_range(start, periods=days, freq="D")
    try:
        cut = dates[-31] if until is None else pd.to_datetime(until, format="%Y-%m-%d")
    except (TypeError, ValueError):
        raise ParameterError(f"the cut '{until}' must be a date, YYYY-MM-DD") from None
    if not dates[0] <= cut < dates[-1]:
        raise ParameterError(f"the cut {until} must fall inside the world's days "
                             f"({dates[0].date()} .. {dates[-1].date()})")
    n_r = len(regions)
    pop = np.asarray(population, float) / np.sum(population)
    base = np.zeros((n_r, skus))
    level = rng.lognormal(np.log(BASE_MEDIAN), BASE_SIGMA, skus) * n_r
    for k in range(skus):
        if rng.random() < national_share:
            share = pop
        else:
            m = int(rng.integers(1, 4))
            home = rng.choice(n_r, size=min(m, n_r), replace=False, p=pop)
            share = np.zeros(n_r)
            share[home] = pop[home] / pop[home].sum()
        base[:, k] = level[k] * share
    calendar = world_calendar(dates)
    lam_plain = calendar[:, None, None] * base[None, :, :]          # (days, regions, skus)
    # Singles Day's extra by SKU and region, drawn anew each year (its own stream, so the
    # rest of the world does not depend on it)
    prng = np.random.default_rng([int(seed), 18])
    for year in sorted(set(dates.year)):
        f = prng.lognormal(-PROMO_SIGMA ** 2 / 2, PROMO_SIGMA, (n_r, skus))
        for md in SINGLES:
            i = np.flatnonzero((dates.year == year) & (dates.month == md[0]) & (dates.day == md[1]))
            if len(i):
                p_day = PROMOS[md]
                lam_plain[i] = lam_plain[i] / p_day * (1 + (p_day - 1) * f)
    # bursts: mentions and saturating, lagged uplift
    live = base > 0
    n_b = rng.poisson(BURST_RATE * days * live.sum())
    cells = np.argwhere(live)
    b_cell = cells[rng.integers(0, len(cells), n_b)] if n_b else np.zeros((0, 2), int)
    b_day = rng.integers(0, days, n_b)
    b_str = rng.lognormal(np.log(BURST_MEDIAN), BURST_SIGMA, n_b)
    t = np.arange(days)
    mentions_mean = np.full((days, n_r, skus), BACKGROUND_MENTIONS) * live[None]
    uplift = np.zeros((days, n_r, skus))
    for (r, k), b, a in zip(b_cell, b_day, b_str):
        after = t >= b
        mentions_mean[after, r, k] += a * np.exp(-(t[after] - b) / MENTION_DECAY)
        uplift[:, r, k] += burst_uplift(a, t - b)
    lam = lam_plain * (1 + uplift)
    units = rng.negative_binomial(DISPERSION, DISPERSION / (DISPERSION + lam))
    mentions = rng.poisson(mentions_mean)
    # pre-sale deposits ahead of Singles Day: a share of the promotion's extra units
    md = list(zip(dates.month, dates.day))
    (fm, fd), (tm, td), _ = PRESALE
    deposits = np.zeros_like(mentions)
    for i, x in enumerate(md):
        if (fm, fd) <= x <= (tm, td):
            j = next((j for j in range(i, len(md)) if md[j] == (11, 11)), None)
            if j is not None:
                p_day = PROMOS[(11, 11)]
                plain = calendar[j] / p_day * base                # Singles Day without its extra
                extra = lam_plain[j] - plain
                deposits[i] = rng.poisson(DEPOSIT_SHARE * extra / max(1, (j - i)))
    sku_ids = np.array([f"K{k + 1:04d}" for k in range(skus)], dtype=object)
    reg = np.array(regions, dtype=object)
    d_i, r_i, k_i = np.nonzero(live[None].repeat(days, axis=0))
    frame = pd.DataFrame({"date": dates[d_i].strftime("%Y-%m-%d"), "region": reg[r_i],
                          "sku": sku_ids[k_i], "units": units[d_i, r_i, k_i],
                          "expected": lam[d_i, r_i, k_i]})
    hist = dates[d_i] <= cut
    kind = rng.integers(0, len(KINDS), len(d_i))
    sig = pd.DataFrame({"date": frame["date"], "region": frame["region"], "sku": frame["sku"],
                        "mentions": mentions[d_i, r_i, k_i],
                        "kind": np.array(KINDS, dtype=object)[kind]})
    dep = deposits[d_i, r_i, k_i]
    dep_rows = sig[dep > 0].assign(mentions=dep[dep > 0], kind="pre-sale deposit")
    signals = pd.concat([sig[hist], dep_rows[hist[dep > 0]]], ignore_index=True) \
        .sort_values(["date", "region", "sku", "kind"], kind="mergesort", ignore_index=True)
    bursts = pd.DataFrame({"date": dates[b_day].strftime("%Y-%m-%d"), "region": reg[b_cell[:, 0]],
                           "sku": sku_ids[b_cell[:, 1]], "strength": b_str}) \
        .sort_values(["date", "region", "sku"], ignore_index=True)
    return World(sales=frame.loc[hist, ["date", "region", "sku", "units"]].reset_index(drop=True),
                 signals=signals, truth=frame[~hist].reset_index(drop=True), bursts=bursts,
                 expected=frame[["date", "region", "sku", "expected"]],
                 until=str(cut.date()))
