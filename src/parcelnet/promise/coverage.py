"""24-hour coverage: the share of population whose station an order reaches
within 24 hours, by hour of order, nationally and per first-level region.

An order created at absolute minute 60h (h = 0..23) at origin o counts a
place's population when the promise to the place's station satisfies
promise - created <= 1440. Without an explicit origin list, the result is the
mean over every facility of kind ``hub``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from parcelnet.network.model import Network
from parcelnet.promise.bounds import free_flow, physical_minimum
from parcelnet.progress import Progress, or_none
from parcelnet.results import Result
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.units import DAY

COVERAGE_STAGE = "coverage"

#: Why a station is outside 24 hours, in the order parcelnet explain tests them.
REASONS = ("unreachable", "physically impossible", "no air link", "timetable")


@dataclass(frozen=True)
class Coverage(Result):
    origins: list[str]
    created_minutes: np.ndarray            # order times (absolute minutes, day 0)
    by_hour: np.ndarray                    # national population share within 24h, per order time
    admin1: list[str]
    by_admin1: np.ndarray                  # (n_admin1, n_times)
    #: mean promised hours per place, over the (origin, order time) pairs that reach it
    #: (NaN: no origin reaches it at any order time)
    place_hours: np.ndarray
    station_hours: np.ndarray = field(repr=False)  # same per station (order of network.stations)
    #: share of the (origin, order time) pairs that reach each station at all (any time)
    station_reach: np.ndarray = field(default=None, repr=False)
    #: population share outside 24 h by reason (parcelnet explain's), averaged like by_hour; the
    #: shares add up to 1 - population_share_24h
    why_not: dict = field(default_factory=dict)

    @property
    def population_share_24h(self) -> float:
        return float(self.by_hour.mean())

    def to_dict(self) -> dict:
        return {
            "origins": self.origins if len(self.origins) <= 20 else len(self.origins),
            "population_share_24h": round(self.population_share_24h, 6),
            "by_hour": [round(float(x), 6) for x in self.by_hour],
            "by_admin1": {a: round(float(v), 6) for a, v in zip(self.admin1, self.by_admin1.mean(axis=1))},
            "outside_24h_by_reason": {k: round(float(v), 6) for k, v in self.why_not.items()},
        }


def coverage(network: Network, origins: list[str] | None = None,
             created_minutes=None, progress: Progress | None = None) -> Coverage:
    """Coverage from ``origins`` (facility ids; default every hub), averaged. Reports the
    stage "coverage" (origins done) to ``progress``."""
    eng = PromiseEngine(network)
    if origins is None:
        pos = list(network.hubs)
        origins = [network.facility_index[i] for i in pos]
    else:
        pos = [network.facility(o) for o in origins]
    created = np.asarray(created_minutes if created_minutes is not None
                         else np.arange(24) * 60, np.int64)
    col = np.searchsorted(eng.stations, network.place_station)
    pop = network.place_population.astype(float)
    pop_s = network.station_population
    adm = network.places["admin1"].to_numpy()
    names, adm_idx = np.unique(adm, return_inverse=True)
    m = np.zeros((len(eng.stations), len(names)))
    np.add.at(m, (col, adm_idx), pop)
    m_tot = np.maximum(m.sum(axis=0), 1e-12)
    total = max(pop.sum(), 1e-12)

    by_hour = np.zeros(len(created))
    by_adm = np.zeros((len(names), len(created)))
    hours_sum = np.zeros(len(eng.stations))
    reach_cnt = np.zeros(len(eng.stations))        # (origin, order time) pairs reaching it
    why = dict.fromkeys(REASONS, 0.0)
    progress = or_none(progress)
    progress.start(COVERAGE_STAGE, len(pos))
    fast = free_flow(network, np.asarray(pos, np.int64))[:, eng.stations] if pos else None
    for q, o in enumerate(pos):
        d = eng.delivered_from(o, created)
        ok = d < INF
        within = ok & (d - created[:, None] <= DAY)
        # why the others are not: the first reason that holds, in parcelnet explain's order
        phys = physical_minimum(network, o)[0][eng.stations]
        out = ~within
        for reason, hit in (("unreachable", ~ok), ("physically impossible", phys > DAY),
                            ("no air link", fast[q] > DAY), ("timetable", np.ones_like(ok))):
            why[reason] += (out & hit) @ pop_s / total / len(created)
            out = out & ~hit
        by_hour += within @ pop_s / total
        by_adm += (within.astype(float) @ m / m_tot).T
        hours_sum += np.where(ok, (d - created[:, None]) / 60.0, 0.0).sum(axis=0)
        reach_cnt += ok.sum(axis=0)
        progress.advance()
    progress.finish()
    n = max(len(pos), 1)
    station_hours = np.where(reach_cnt > 0, hours_sum / np.maximum(reach_cnt, 1), np.nan)
    return Coverage(origins=list(origins), created_minutes=created, by_hour=by_hour / n,
                    admin1=[str(x) for x in names], by_admin1=by_adm / n,
                    place_hours=station_hours[col], station_hours=station_hours,
                    station_reach=reach_cnt / (n * max(len(created), 1)),
                    why_not={k: float(v.sum() if np.ndim(v) else v) / n for k, v in why.items()})
