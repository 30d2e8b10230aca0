"""What a planner looks at after a simulated day.

The per-parcel part of the KPIs is one compiled pass (:func:`tally`) into counters and a
histogram of delivery minutes, so the same numbers come out of an in-memory run
(:func:`kpis`) and of a streamed day of hundreds of millions of parcels
(:mod:`parcelnet.sim.stream`). Percentiles are read off the histogram exactly as
``numpy.percentile`` (linear) would compute them over every parcel's delivery hours.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numba import njit

from dataclasses import dataclass

from parcelnet.network.model import HUB, Network
from parcelnet.results import Result
from parcelnet.units import DAY

TOP = 20
# counters of a tally
N_PARCELS, N_UNROUTABLE, N_DELIVERED, N_ON_TIME, N_24H, N_48H = range(6)


def station_admin1(network: Network) -> np.ndarray:
    """admin1 of every facility: its own ``admin1`` column when the file has one,
    else (stations) that of the most populous place it serves, else ''."""
    fac = network.facilities
    if "admin1" in fac:
        return fac["admin1"].to_numpy(dtype=object)
    out = np.full(len(fac), "", dtype=object)
    pl = pd.DataFrame({"st": network.place_station, "pop": network.place_population,
                       "a1": network.places["admin1"].to_numpy()})
    top = pl.sort_values("pop", ascending=False).drop_duplicates("st")
    out[top["st"].to_numpy()] = top["a1"].to_numpy()
    return out


def admin1_groups(network: Network) -> tuple[np.ndarray, np.ndarray]:
    """(group code per facility, int16; group names): admin1 codes for :func:`tally`."""
    codes, names = pd.factorize(pd.Series(station_admin1(network), dtype=object).fillna(""))
    return codes.astype(np.int16), np.asarray(names, dtype=object)


def new_tally(n_groups: int, max_age: int) -> dict:
    """Empty accumulators: counters, per group [parcels, late, on time], histograms (minutes)
    of delivery age and of promised age, for ages 0..max_age."""
    return {"counts": np.zeros(6, np.int64), "groups": np.zeros((n_groups, 3), np.int64),
            "age": np.zeros(max_age + 1, np.int64), "promised": np.zeros(max_age + 1, np.int64)}


@njit(cache=True)
def _tally(created, promise, delivered, group, counts, groups, age_hist, prom_hist):  # pragma: no cover
    top = age_hist.shape[0] - 1
    for i in range(created.shape[0]):
        c = created[i]
        g = group[i]
        counts[0] += 1
        groups[g, 0] += 1
        p = promise[i]
        if p < 0:
            counts[1] += 1
            continue
        prom_hist[min(p - c, top)] += 1
        d = delivered[i]
        if d < 0:
            groups[g, 1] += 1
            continue
        age = d - c
        counts[2] += 1
        age_hist[min(age, top)] += 1
        if d <= p:
            counts[3] += 1
            groups[g, 2] += 1
        else:
            groups[g, 1] += 1
        if age <= DAY:
            counts[4] += 1
        if age <= 2 * DAY:
            counts[5] += 1


def tally(t: dict, created, promise, delivered, group) -> None:
    """Add parcels to tally ``t``: created minute, promise (-1 = unroutable), delivered minute
    (-1 = not delivered) and group code per parcel; ages above the histogram's top count there."""
    _tally(created, promise, delivered, group, t["counts"], t["groups"], t["age"], t["promised"])


def _lerp(a: float, b: float, t: float) -> float:
    """numpy.percentile's linear interpolation, to the same rounding."""
    d = b - a
    return b - d * (1 - t) if t >= 0.5 else a + d * t


def hist_percentile(hist: np.ndarray, q: float, scale: float = 60.0) -> float | None:
    """``numpy.percentile(values / scale, q)`` of the values whose counts ``hist`` holds."""
    n = int(hist.sum())
    if n == 0:
        return None
    cum = np.cumsum(hist)
    pos = q / 100 * (n - 1)
    lo = int(np.floor(pos))
    hi = min(lo + 1, n - 1)
    a, b = (int(np.searchsorted(cum, k, side="right")) for k in (lo, hi))
    return _lerp(a / scale, b / scale, pos - lo)


@dataclass(frozen=True)
class Kpis(Result):
    """What a planner looks at after a simulated day (docs/simulation.md). Shares are of all
    parcels; ``delivery_hours`` are hours from creation to delivery (mean and percentiles) of
    the delivered parcels."""

    parcels: int
    unroutable: int
    delivered: int
    not_delivered: int
    delivered_share: float
    on_time_share: float
    within_24h_share: float
    within_48h_share: float
    delivery_hours: dict
    horizon_end_minute: int
    late_by_province: list
    saturated_lanes: list
    busiest_hubs: list
    seconds: dict


def summarize(network: Network, t: dict, names: np.ndarray, raw, horizon_end: int,
              seconds: dict | None = None) -> Kpis:
    """The KPIs of a tally (``names``: group names) and a run's per-facility and
    per-lane outputs ``raw`` (a :class:`parcelnet.sim.engine.RawResult`)."""
    c = t["counts"]
    n = int(c[N_PARCELS])
    share = (lambda x: round(float(x) / n, 6)) if n else (lambda x: 0.0)
    g = t["groups"]
    present = np.flatnonzero(g[:, 0] > 0)
    present = present[np.argsort(names[present].astype(str), kind="stable")]
    present = present[np.lexsort((-g[present, 0], -g[present, 1]))]
    late_prov = [{"admin1": str(names[k]), "parcels": int(g[k, 0]), "late": int(g[k, 1]),
                  "late_share": round(float(g[k, 1] / g[k, 0]), 6)} for k in present]

    tt = network.timetable
    lanes = network.lanes
    left = raw.left_behind
    top_l = np.argsort(-left, kind="stable")[:TOP]
    sat_lanes = [{"lane_id": lanes["lane_id"].iloc[i], "from": lanes["from_facility"].iloc[i],
                  "to": lanes["to_facility"].iloc[i], "mode": lanes["mode"].iloc[i],
                  "left_behind": int(left[i])} for i in top_l if left[i] > 0]
    backlog = np.where(tt.kind == HUB, raw.backlog_peak, -1)
    top_h = np.argsort(-backlog, kind="stable")[:TOP]
    fac = network.facilities
    hubs = [{"facility_id": fac["facility_id"].iloc[i], "name": fac["name"].iloc[i],
             "peak_backlog": int(backlog[i]), "sorted": int(raw.hourly[i].sum())}
            for i in top_h if backlog[i] > 0]
    age = t["age"]
    done = int(c[N_DELIVERED])
    mean = float((age * np.arange(len(age))).sum()) / done / 60 if done else None
    pct = lambda q: None if not done else round(hist_percentile(age, q), 2)  # noqa: E731
    return Kpis(
        parcels=n,
        unroutable=int(c[N_UNROUTABLE]),
        delivered=done,
        not_delivered=n - int(c[N_UNROUTABLE]) - done,
        delivered_share=share(done),
        on_time_share=share(c[N_ON_TIME]),
        within_24h_share=share(c[N_24H]),
        within_48h_share=share(c[N_48H]),
        delivery_hours={"mean": None if mean is None else round(mean, 2),
                        "p50": pct(50), "p90": pct(90), "p95": pct(95), "p99": pct(99)},
        horizon_end_minute=int(horizon_end),
        late_by_province=late_prov,
        saturated_lanes=sat_lanes,
        busiest_hubs=hubs,
        seconds={k: round(v, 3) for k, v in (seconds or {}).items()},
    )


def tally_of(res) -> tuple[dict, np.ndarray]:
    """(tally, group names) of a :class:`parcelnet.sim.run.SimulationResult`."""
    codes, names = admin1_groups(res.network)
    created = np.asarray(res.created, np.int64)
    top = max(int(res.horizon_end - created.min()), 0) if len(created) else 0
    t = new_tally(len(names), top)
    tally(t, created, np.asarray(res.promise, np.int64), np.asarray(res.delivered, np.int64),
          codes[res.dest])
    return t, names


def kpis(res, tallied: tuple[dict, np.ndarray] | None = None) -> Kpis:
    """KPIs (docs/simulation.md) of a :class:`parcelnet.sim.run.SimulationResult` or a
    streamed :class:`parcelnet.sim.stream.DayResult`; ``tallied`` = its tally, if made."""
    t, names = tallied if tallied is not None else (
        res.tally() if hasattr(res, "tally") else tally_of(res))
    return summarize(res.network, t, names, res.raw, res.horizon_end, res.seconds)
