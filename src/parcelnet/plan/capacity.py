"""Capacity for a peak day: more vehicles on the departures and faster sorters where the
simulated day is short of them, until a target share of parcels is delivered by its promise
(``parcelnet plan capacity``).

Each round simulates the day (:func:`parcelnet.sim.run.simulate`, exactly as ``parcelnet
simulate``) and grows what the simulation shows to be full:

- every departure (trip) that left with a full load on a lane that left parcels behind gets
  more vehicles: capacity x (1 + left behind / boarded on the lane), in whole vehicles (the
  builder's parcels a vehicle by mode when the network says them, else single parcels), at
  least one more;
- every limited sorter whose worst backlog is more than 5 minutes of its rate gets a faster
  sorter: rate x (1 + peak backlog / (60 x rate)), that is, enough to clear that backlog
  within an hour more, in steps of 5% and at most doubled per round.

Once the target is reached, capacity that the final day never used is taken back, exactly:
a trip whose largest load stayed below its capacity keeps only the vehicles that load needs,
and a sorter that never handled its full rate in a minute keeps the most it did handle. Such
a trip or sorter was never the limit, so the day simulates identically (checked: the plan
re-simulates the trimmed network). Every vehicle and sorter unit the plan adds is therefore
used by the day.

Costs follow the builder: a vehicle costs its lane's ``cost_per_trip`` divided by the
vehicles of a mean trip (cost is linear in vehicles); a faster sorter costs ``sorter_cost`` a
day per parcel a minute of rate. Extra departures are not proposed: at the same minute one
costs what the same vehicles on the full departure cost and boards the same parcels; at a
later minute it carries them later. For parcels left behind by a full trip more vehicles on
that trip is never dearer and never later. This is a greedy heuristic that grows what binds
and takes back what is idle; it does not prove least cost (a lane it grows may have held
parcels up that a faster sorter upstream would have let through on time).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError, SolverError
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.progress import Progress, log, or_none
from parcelnet.results import Result, jsonable
from parcelnet.sim.kpis import Kpis, kpis
from parcelnet.sim.run import simulate

#: Daily cost of one parcel a minute of sorter rate: a cross-belt line of about 20,000 parcels
#: an hour (333 a minute) at about CNY 30 M, written off over 10 years, is about CNY 8,200 a
#: day, or 25 per parcel a minute. An assumption; pass your own.
SORTER_COST_PER_PPM_DAY = 25.0
STEP = 0.05
#: A sorter grows only when its worst backlog is more than this many minutes of its rate: a
#: parcel that waits a few minutes at a sorter rarely misses its trip for it.
BACKLOG_MINUTES = 5
#: The first rounds grow only sorters whose worst backlog is this many minutes of their rate;
#: the bar halves (down to BACKLOG_MINUTES) whenever a round gains less than MIN_GAIN of
#: on-time share, so the worst sorters grow first and milder ones only if still needed.
FIRST_BACKLOG_MINUTES = 60
MIN_GAIN = 0.005


def vehicle_units(network: Network) -> np.ndarray:
    """Parcels a vehicle per lane: the builder's ``capacity.<mode>_parcels`` when the network
    carries its build parameters (params.toml) and every trip of the lane is a whole number
    of such vehicles; else 1 (capacity is counted in parcels)."""
    from parcelnet.network.lanes import MODES_BUILT
    from parcelnet.network.params import from_toml_text
    tt = network.timetable
    unit = np.ones(len(tt.lane_to), np.int64)
    text = network.meta.get("params.toml")
    if not text:
        return unit
    try:
        pc = from_toml_text(text).capacity
    except ParameterError:
        return unit                      # not parcelnet's parameters: count in parcels
    modes = network.lanes["mode"].to_numpy()
    for i, m in enumerate(modes):
        if m in MODES_BUILT:
            unit[i] = pc.parcels_per_vehicle(m)
    whole = np.ones(len(unit), bool)
    np.logical_and.at(whole, tt.trip_lane, tt.trip_capacity % unit[tt.trip_lane] == 0)
    return np.where(whole, unit, 1)


def _up(x: np.ndarray) -> np.ndarray:
    return np.ceil(np.round(x / STEP, 9)) * STEP


def _whole(x: np.ndarray, unit: np.ndarray) -> np.ndarray:
    """x rounded up to whole vehicles."""
    return (np.ceil(np.round(x / unit, 9)) * unit).astype(np.int64)


def trim_idle(network: Network, base: Network, trip_peak: np.ndarray, sort_peak: np.ndarray,
              scale: float = 1.0) -> Network:
    """``network`` (``base`` with added capacity) without the added capacity a simulated day
    never used: ``trip_peak`` and ``sort_peak`` are that day's largest load of each trip and
    most parcels a sorter handled in a minute, on ``network`` scaled by ``scale``. A trip or
    sorter that never reached its (scaled) capacity was never the limit; keeping what its
    peak needs (whole vehicles, never below ``base``) simulates the day identically."""
    from parcelnet.network.scale import scale_capacity
    tt, bt = network.timetable, base.timetable
    run_on = network if scale == 1.0 else scale_capacity(network, scale)
    unit = vehicle_units(base)[tt.trip_lane]
    cap = tt.trip_capacity
    idle = trip_peak < run_on.timetable.trip_capacity
    need = np.maximum(bt.trip_capacity, _whole(trip_peak / scale, unit))
    cap = np.where(idle, np.minimum(cap, need), cap)
    rate = tt.sort_per_minute
    limited = rate > 0
    idle_s = limited & (sort_peak < run_on.timetable.sort_per_minute)
    need_s = np.maximum(bt.sort_per_minute, np.ceil(np.round(sort_peak / scale, 9)).astype(np.int64))
    rate = np.where(idle_s, np.minimum(rate, need_s), rate)
    return network.with_capacities(cap, rate)


@dataclass(frozen=True)
class CapacityPlan(Result):
    """The added capacity, what it costs a day (CNY) and what it does to the day."""

    network: Network             # the network with the added capacity
    lanes: pd.DataFrame          # lanes that grew: capacity a day before and after, cost a day
    sorters: pd.DataFrame        # sorters that grew: rate before and after, cost a day
    rounds: list[dict]           # per round: on-time share, late parcels, cost so far
    before: Kpis                 # KPIs of the day as it was
    after: Kpis                  # KPIs of the day with the added capacity
    cost_per_day: float
    reached: bool
    seconds: float
    reverse: dict = None         # the taking-back pass: simulations, items reverted, cost saved

    def to_dict(self) -> dict:
        short = lambda k: {x: getattr(k, x) for x in ("parcels", "delivered_share",  # noqa: E731
                                                       "on_time_share", "within_24h_share",
                                                       "within_48h_share")}
        return jsonable({"reached": self.reached, "cost_per_day": round(self.cost_per_day, 2),
                         "lane_cost_per_day": round(float(self.lanes["cost_per_day"].sum()), 2),
                         "sorter_cost_per_day": round(float(self.sorters["cost_per_day"].sum()), 2),
                         "before": short(self.before), "after": short(self.after),
                         "rounds": self.rounds, "reverse": self.reverse,
                         "lanes": self.lanes, "sorters": self.sorters,
                         "seconds": round(self.seconds, 2)})


def plan_capacity(network: Network, parcels: Parcels, target: float = 0.95,
                  max_rounds: int = 20, sorter_cost: float = SORTER_COST_PER_PPM_DAY,
                  capacity_scale: float = 1.0, horizon_minutes: int | None = None,
                  reverse_sims: int = 16, progress: Progress | None = None) -> CapacityPlan:
    """Grow capacity until ``target`` of ``parcels`` are on time.

    With ``capacity_scale`` s the parcels are a sample: each round simulates the network with
    capacities times s (as ``parcelnet simulate --capacity-scale``), and the growth found is
    applied to, and reported for, the full network. Reports the stages "growing capacity"
    (rounds) and "taking capacity back" (trial days) to ``progress``; each round's on-time
    share is logged (``logging.getLogger("parcelnet")``, INFO)."""
    if not 0 < target <= 1:
        raise ParameterError(f"target on-time share must be in (0, 1], got {target}")
    if max_rounds < 1:
        raise ParameterError(f"rounds must be at least 1, got {max_rounds}")
    if not sorter_cost >= 0:
        raise ParameterError(f"sorter cost must be >= 0, got {sorter_cost}")
    if not (capacity_scale > 0 and np.isfinite(capacity_scale)):
        raise ParameterError(f"capacity scale must be a positive number, got {capacity_scale}")
    if reverse_sims < 0:
        raise ParameterError(f"trial days for taking capacity back must be >= 0, got {reverse_sims}")
    if len(parcels) == 0:
        raise ParameterError("there are no parcels to plan capacity for")
    progress = or_none(progress)
    t0 = time.perf_counter()
    tt = network.timetable
    unit = vehicle_units(network)[tt.trip_lane]
    cap = tt.trip_capacity.astype(np.int64).copy()
    sorter_mult = np.ones(tt.n_facilities)
    sorts = tt.sort_per_minute > 0
    from parcelnet.network.scale import scale_capacity
    net = network
    rounds, first, paths = [], None, None
    bar = max(FIRST_BACKLOG_MINUTES, BACKLOG_MINUTES)
    progress.start("growing capacity", max_rounds + 1)
    for r in range(max_rounds + 1):
        run_on = net if capacity_scale == 1.0 else scale_capacity(net, capacity_scale)
        res = simulate(run_on, parcels, horizon_minutes=horizon_minutes, paths=paths)
        paths = res.paths
        k = kpis(res)
        first = first or k
        on_time = (res.delivered >= 0) & (res.delivered <= res.promise)
        rounds.append({"round": r, "on_time_share": k.on_time_share,
                       "late": int((res.routable & ~on_time).sum()),
                       "cost_per_day": round(changes(network, net, sorter_cost)[2], 2)})
        progress.advance()
        log.info("round %d: %.1f%% on time", r, 100 * k.on_time_share)
        if k.on_time_share >= target or r == max_rounds:
            break
        left = res.raw.left_behind
        boarded = np.bincount(tt.trip_lane, weights=res.raw.trip_boarded, minlength=len(left))
        ratio = left / np.maximum(boarded, 1)
        full = (left[tt.trip_lane] > 0) & (res.raw.trip_peak >= run_on.timetable.trip_capacity)
        grown = np.maximum(cap + unit, _whole(cap * (1 + ratio[tt.trip_lane]), unit))
        cap = np.where(full, grown, cap)
        rate = run_on.timetable.sort_per_minute.astype(float)
        back = res.raw.backlog_peak
        if r > 0 and k.on_time_share - rounds[-2]["on_time_share"] < MIN_GAIN:
            bar = max(BACKLOG_MINUTES, bar / 2)
        g = sorts & (back > bar * rate)
        while not full.any() and not g.any() and bar > BACKLOG_MINUTES:
            bar = max(BACKLOG_MINUTES, bar / 2)    # nothing at this bar: a lower one
            g = sorts & (back > bar * rate)
        sorter_mult[g] = _up(sorter_mult[g] * np.minimum(2.0, 1 + back[g] / (60 * rate[g])))
        if not full.any() and not g.any():
            break                              # nothing binds: more capacity would not help
        spm = tt.sort_per_minute
        net = network.with_capacities(cap, np.where(
            spm > 0, np.maximum(spm, np.ceil(np.round(spm * sorter_mult, 9))), 0))
    progress.finish()
    reverse = {"simulations": 0, "reverted": 0, "cost_saved_per_day": 0.0}
    if net is not network and k.on_time_share >= target:
        progress.start("taking capacity back", reverse_sims)
        net, res, k, reverse = _reverse(network, net, res, k, target, sorter_cost, reverse_sims,
                                        lambda n: _day(n, capacity_scale, parcels,
                                                       horizon_minutes, paths, progress))
        progress.finish()
    if net is not network:
        trimmed = trim_idle(net, network, res.raw.trip_peak, res.raw.sort_peak, capacity_scale)
        again, _ = _day(trimmed, capacity_scale, parcels, horizon_minutes, paths)
        if not np.array_equal(again.delivered, res.delivered):   # pragma: no cover - a bug
            raise SolverError("taking back idle capacity changed the simulated day; please "
                              "report this as a bug")
        net = trimmed
    lane_rows, sorter_rows, total = changes(network, net, sorter_cost)
    return CapacityPlan(net, lane_rows, sorter_rows, rounds, first, k, total,
                        k.on_time_share >= target, time.perf_counter() - t0, reverse)


def _day(net: Network, scale: float, parcels: Parcels, horizon_minutes, paths, progress=None):
    from parcelnet.network.scale import scale_capacity
    run_on = net if scale == 1.0 else scale_capacity(net, scale)
    res = simulate(run_on, parcels, horizon_minutes=horizon_minutes, paths=paths)
    if progress is not None:
        progress.advance()
    return res, kpis(res)


def unit_costs(network: Network, sorter_cost: float = SORTER_COST_PER_PPM_DAY):
    """Cost a day of one parcel of capacity on each trip (trips.csv order; a vehicle's cost
    over its parcels), and of one parcel a minute of rate at each sorter."""
    tt = network.timetable
    n_lane = len(tt.lane_to)
    trips = np.bincount(tt.trip_lane, minlength=n_lane)
    cap = np.bincount(tt.trip_lane, weights=tt.trip_capacity, minlength=n_lane)
    cost_trip = network.lanes["cost_per_trip"].astype(float).to_numpy()
    per_parcel = cost_trip / np.maximum(cap / np.maximum(trips, 1), 1)   # = per vehicle / unit
    return per_parcel[tt.trip_lane], np.full(tt.n_facilities, float(sorter_cost))


def _reverse(base: Network, net: Network, res, k, target, sorter_cost, sims, day):
    """Take back grown capacity in blocks while the day stays on target: the grown trips and
    sorters, dearest first, in 8 blocks of about equal cost; a block that cannot go is tried
    again as two halves, once. At most ``sims`` simulations."""
    bt, nt = base.timetable, net.timetable
    trip_c, sort_c = unit_costs(base, sorter_cost)
    cost = np.r_[(nt.trip_capacity - bt.trip_capacity) * trip_c,
                 (nt.sort_per_minute - bt.sort_per_minute) * sort_c]
    items = np.flatnonzero(cost > 0)
    items = items[np.argsort(-cost[items], kind="stable")]
    edges = np.searchsorted(np.cumsum(cost[items]), np.linspace(0, cost[items].sum(), 9)[1:-1])
    queue = [(b, 0) for b in np.split(items, edges) if len(b)]
    n_trip = len(bt.trip_capacity)
    cap, rate = nt.trip_capacity.copy(), nt.sort_per_minute.copy()
    out = {"simulations": 0, "reverted": 0, "cost_saved_per_day": 0.0}
    while queue and out["simulations"] < sims:
        block, depth = queue.pop(0)
        c2, r2 = cap.copy(), rate.copy()
        t, f = block[block < n_trip], block[block >= n_trip] - n_trip
        c2[t], r2[f] = bt.trip_capacity[t], bt.sort_per_minute[f]
        trial = base.with_capacities(c2, r2)
        res2, k2 = day(trial)
        out["simulations"] += 1
        if k2.on_time_share >= target:
            cap, rate, net, res, k = c2, r2, trial, res2, k2
            out["reverted"] += len(block)
            out["cost_saved_per_day"] = round(out["cost_saved_per_day"] + float(cost[block].sum()), 2)
        elif depth == 0 and len(block) > 1:
            queue += [(h, 1) for h in np.array_split(block, 2)]
    return net, res, k, out


def changes(old: Network, new: Network, sorter_cost: float = SORTER_COST_PER_PPM_DAY):
    """(lanes, sorters, cost a day) of the capacity ``new`` adds to ``old`` (same network
    otherwise), most expensive first."""
    tt, ntt = old.timetable, new.timetable
    n_lane = len(tt.lane_to)
    trips = np.bincount(tt.trip_lane, minlength=n_lane)
    cap = np.bincount(tt.trip_lane, weights=tt.trip_capacity, minlength=n_lane)
    new_cap = np.bincount(ntt.trip_lane, weights=ntt.trip_capacity, minlength=n_lane)
    cost_trip = old.lanes["cost_per_trip"].astype(float).to_numpy()
    unit = vehicle_units(old)
    vehicles = (new_cap - cap) / unit                          # added, over all trips of the lane
    per_vehicle = cost_trip * unit / np.maximum(cap / np.maximum(trips, 1), 1)
    grew = np.bincount(ntt.trip_lane, weights=ntt.trip_capacity > tt.trip_capacity, minlength=n_lane)
    c = np.flatnonzero(new_cap > cap)
    lanes = old.lanes
    lane_rows = pd.DataFrame({
        "lane_id": lanes["lane_id"].to_numpy()[c], "from": lanes["from_facility"].to_numpy()[c],
        "to": lanes["to_facility"].to_numpy()[c], "mode": lanes["mode"].to_numpy()[c],
        "trips_per_day": trips[c], "trips_grown": grew[c].astype(np.int64),
        "parcels_per_vehicle": unit[c], "vehicles_added": np.round(vehicles[c], 6),
        "capacity_per_day": cap[c].astype(np.int64),
        "new_capacity_per_day": new_cap[c].astype(np.int64),
        "cost_per_day": np.round(per_vehicle[c] * vehicles[c], 2)})
    g = np.flatnonzero(ntt.sort_per_minute > tt.sort_per_minute)
    fac = old.facilities
    sorter_rows = pd.DataFrame({
        "facility_id": fac["facility_id"].to_numpy()[g], "name": fac["name"].to_numpy()[g],
        "sort_per_minute": tt.sort_per_minute[g], "new_sort_per_minute": ntt.sort_per_minute[g],
        "cost_per_day": np.round((ntt.sort_per_minute[g] - tt.sort_per_minute[g]) * sorter_cost, 2)})
    total = float(lane_rows["cost_per_day"].sum() + sorter_rows["cost_per_day"].sum())
    return (lane_rows.sort_values("cost_per_day", ascending=False, kind="stable"),
            sorter_rows.sort_values("cost_per_day", ascending=False, kind="stable"), total)
