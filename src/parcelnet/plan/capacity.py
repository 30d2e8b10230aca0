"""Capacity for a peak day: larger vehicles and sorters where the simulated day is short of
them, until a target share of parcels is delivered by its promise (``parcelnet plan capacity``).

Each round simulates the day (:func:`parcelnet.sim.run.simulate`, exactly as ``parcelnet
simulate``) and grows what the simulation shows to be full:

- every lane with parcels left behind gets larger vehicles on all its trips:
  capacity x (1 + left behind / boarded), in steps of 5%;
- every limited sorter whose worst backlog is more than 5 minutes of its rate gets a faster
  sorter: rate x (1 + peak backlog / (60 x rate)), that is, enough to clear that backlog
  within an hour more, in steps of 5% and at most doubled per round.

It stops when the on-time share reaches the target or after ``max_rounds``. Costs: a larger
vehicle costs its lane's ``cost_per_trip`` in proportion to its capacity (a linear and
conservative assumption); a faster sorter ``sorter_cost`` a day per parcel a minute of rate.
This is a greedy heuristic that grows what binds. It does not prove least cost: it never
shrinks anything, and it may grow a lane whose parcels were held up earlier on their way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError
from parcelnet.network.model import Network
from parcelnet.sim.kpis import kpis
from parcelnet.sim.run import simulate

#: Daily cost of one parcel a minute of sorter rate: a cross-belt line of about 20,000 parcels
#: an hour (333 a minute) at about CNY 30 M, written off over 10 years, is about CNY 8,200 a
#: day, or 25 per parcel a minute. An assumption; pass your own.
SORTER_COST_PER_PPM_DAY = 25.0
STEP = 0.05
#: A sorter grows only when its worst backlog is more than this many minutes of its rate: a
#: parcel that waits a few minutes at a sorter rarely misses its trip for it.
BACKLOG_MINUTES = 5


def with_capacity(network: Network, lane_mult: np.ndarray, sorter_mult: np.ndarray) -> Network:
    """Trip capacities of each lane and sorter rates times their multipliers, rounded up;
    unlimited sorters stay unlimited."""
    tt = network.timetable
    t = {k: v.copy() for k, v in network.tables.items()}
    cap = np.ceil(np.round(tt.trip_capacity * lane_mult[tt.trip_lane], 9)).astype(np.int64)
    t["trips.csv"]["capacity"] = np.maximum(cap, tt.trip_capacity).astype(str)
    spm = tt.sort_per_minute
    new = np.where(spm > 0, np.maximum(spm, np.ceil(np.round(spm * sorter_mult, 9))), 0)
    t["facilities.csv"]["sort_per_minute"] = new.astype(np.int64).astype(str)
    return Network.from_tables(t, network.meta)


def _up(x: np.ndarray) -> np.ndarray:
    return np.ceil(np.round(x / STEP, 9)) * STEP


@dataclass(frozen=True)
class CapacityPlan:
    network: Network             # the network with the added capacity
    lanes: pd.DataFrame          # lanes that grew: capacity a day before and after, cost a day
    sorters: pd.DataFrame        # sorters that grew: rate before and after, cost a day
    rounds: list[dict]           # per round: on-time share, late parcels, cost so far
    before: dict                 # KPIs of the day as it was
    after: dict                  # KPIs of the day with the added capacity
    cost_per_day: float
    reached: bool
    seconds: float

    def to_json(self) -> dict:
        short = lambda k: {x: k[x] for x in ("parcels", "delivered_share", "on_time_share",  # noqa: E731
                                             "within_24h_share", "within_48h_share")}
        return {"reached": self.reached, "cost_per_day": round(self.cost_per_day, 2),
                "lane_cost_per_day": round(float(self.lanes["cost_per_day"].sum()), 2),
                "sorter_cost_per_day": round(float(self.sorters["cost_per_day"].sum()), 2),
                "before": short(self.before), "after": short(self.after), "rounds": self.rounds,
                "lanes": self.lanes.to_dict("records"), "sorters": self.sorters.to_dict("records"),
                "seconds": round(self.seconds, 2)}


def plan_capacity(network: Network, parcel_id, created, origin, dest, target: float = 0.95,
                  max_rounds: int = 10, sorter_cost: float = SORTER_COST_PER_PPM_DAY,
                  capacity_scale: float = 1.0, horizon_minutes: int | None = None,
                  progress=None) -> CapacityPlan:
    """Grow capacity until ``target`` of the parcels (arrays as for ``simulate``) are on time.

    With ``capacity_scale`` s the parcels are a sample: each round simulates the network with
    capacities times s (as ``parcelnet simulate --capacity-scale``), and the growth found is
    applied to, and reported for, the full network."""
    if not 0 < target <= 1:
        raise ParameterError(f"target on-time share must be in (0, 1], got {target}")
    if max_rounds < 1:
        raise ParameterError(f"rounds must be at least 1, got {max_rounds}")
    if not sorter_cost >= 0:
        raise ParameterError(f"sorter cost must be >= 0, got {sorter_cost}")
    if not (capacity_scale > 0 and np.isfinite(capacity_scale)):
        raise ParameterError(f"capacity scale must be a positive number, got {capacity_scale}")
    t0 = time.perf_counter()
    tt = network.timetable
    lane_mult = np.ones(len(tt.lane_to))
    sorter_mult = np.ones(tt.n_facilities)
    sorts = tt.sort_per_minute > 0
    from parcelnet.network.scale import scale_capacity
    net = network
    rounds, first, paths = [], None, None
    for r in range(max_rounds + 1):
        run_on = net if capacity_scale == 1.0 else scale_capacity(net, capacity_scale)
        res = simulate(run_on, parcel_id, created, origin, dest, horizon_minutes, paths=paths)
        paths = res.paths
        k = kpis(res)
        first = first or k
        on_time = (res.delivered >= 0) & (res.delivered <= res.promise)
        rounds.append({"round": r, "on_time_share": k["on_time_share"],
                       "late": int((res.routable & ~on_time).sum()),
                       "cost_per_day": round(changes(network, net, sorter_cost)[2], 2)})
        if progress:
            progress(r, k["on_time_share"])
        if k["on_time_share"] >= target or r == max_rounds:
            break
        left = res.raw.left_behind
        boarded = np.bincount(tt.trip_lane, weights=res.raw.trip_boarded, minlength=len(lane_mult))
        grow = left > 0
        lane_mult[grow] = _up(lane_mult[grow] * (1 + left[grow] / np.maximum(boarded[grow], 1)))
        rate = run_on.timetable.sort_per_minute.astype(float)
        back = res.raw.backlog_peak
        g = sorts & (back > BACKLOG_MINUTES * rate)
        sorter_mult[g] = _up(sorter_mult[g] * np.minimum(2.0, 1 + back[g] / (60 * rate[g])))
        if not grow.any() and not g.any():
            break                              # nothing binds: more capacity would not help
        net = with_capacity(network, lane_mult, sorter_mult)
    lane_rows, sorter_rows, total = changes(network, net, sorter_cost)
    return CapacityPlan(net, lane_rows, sorter_rows, rounds, first, k, total,
                        k["on_time_share"] >= target, time.perf_counter() - t0)


def changes(old: Network, new: Network, sorter_cost: float = SORTER_COST_PER_PPM_DAY):
    """(lanes, sorters, cost a day) of the capacity ``new`` adds to ``old`` (same network
    otherwise), most expensive first."""
    tt, ntt = old.timetable, new.timetable
    n_lane = len(tt.lane_to)
    trips = np.bincount(tt.trip_lane, minlength=n_lane)
    cap = np.bincount(tt.trip_lane, weights=tt.trip_capacity, minlength=n_lane)
    new_cap = np.bincount(ntt.trip_lane, weights=ntt.trip_capacity, minlength=n_lane)
    cost_trip = old.lanes["cost_per_trip"].astype(float).to_numpy()
    c = np.flatnonzero(new_cap > cap)
    lanes = old.lanes
    lane_rows = pd.DataFrame({
        "lane_id": lanes["lane_id"].to_numpy()[c], "from": lanes["from_facility"].to_numpy()[c],
        "to": lanes["to_facility"].to_numpy()[c], "mode": lanes["mode"].to_numpy()[c],
        "trips_per_day": trips[c], "capacity_per_day": cap[c].astype(np.int64),
        "new_capacity_per_day": new_cap[c].astype(np.int64),
        "cost_per_day": np.round(cost_trip[c] * trips[c] * (new_cap[c] / cap[c] - 1), 2)})
    g = np.flatnonzero(ntt.sort_per_minute > tt.sort_per_minute)
    fac = old.facilities
    sorter_rows = pd.DataFrame({
        "facility_id": fac["facility_id"].to_numpy()[g], "name": fac["name"].to_numpy()[g],
        "sort_per_minute": tt.sort_per_minute[g], "new_sort_per_minute": ntt.sort_per_minute[g],
        "cost_per_day": np.round((ntt.sort_per_minute[g] - tt.sort_per_minute[g]) * sorter_cost, 2)})
    total = float(lane_rows["cost_per_day"].sum() + sorter_rows["cost_per_day"].sum())
    return (lane_rows.sort_values("cost_per_day", ascending=False, kind="stable"),
            sorter_rows.sort_values("cost_per_day", ascending=False, kind="stable"), total)
