"""A service design as a network: the new PNF network, what changed per lane, the
independent check of its value by the promise engine, and what it does to promises (the
provinces and origin-city pairs that lose, the named origins' reasons and bounds). (The map of added, removed and retimed
lanes is drawn by :mod:`parcelnet.viz.service_map`.)"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.network.lanes import trip_id
from parcelnet.network.model import Network
from parcelnet.plan.explain import station_reasons
from parcelnet.plan.service import _kernels as K
from parcelnet.plan.service.floor import HORIZON, admin1_groups, weighted_median
from parcelnet.plan.service.model import ServiceModel
from parcelnet.promise.bounds import free_flow, physical_minimum
from parcelnet.promise.coverage import REASONS
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.units import DAY, hhmm


def apply_design(model: ServiceModel, active: np.ndarray) -> Network:
    """The network with exactly the ``active`` backbone trips (new lanes added, lanes left
    without trips removed); everything else unchanged."""
    net, c = model.network, model.cand
    active = np.asarray(active, bool)
    lanes, trips = net.lanes, net.tables["trips.csv"]
    scope_ids = set(lanes["lane_id"][lanes["tier"].isin(model.tiers)])
    run = set(c.lane_id[active])
    keep_lane = ~lanes["lane_id"].isin(scope_ids - run)
    new = c.new_lanes[c.new_lanes["lane_id"].isin(run)]
    lanes = pd.concat([lanes[keep_lane], new.reindex(columns=lanes.columns, fill_value="")],
                      ignore_index=True)
    kept = set(c.trip_id[active & c.existing])
    in_scope = trips["lane_id"].isin(scope_ids)
    trips = trips[~in_scope | trips["trip_id"].isin(kept)]
    ids = set(trips["trip_id"])
    rows = []
    for j in np.flatnonzero(active & ~c.existing):
        tid = trip_id(c.lane_id[j], int(c.dep[j]))
        while tid in ids:
            tid += "+"
        ids.add(tid)
        rows.append({"trip_id": tid, "lane_id": c.lane_id[j], "departure_minute": str(c.dep[j]),
                     "capacity": str(c.capacity[j])})
    trips = pd.concat([trips, pd.DataFrame(rows).reindex(columns=trips.columns, fill_value="")],
                      ignore_index=True)
    return net.replace(lanes=lanes, trips=trips)


def lane_changes(model: ServiceModel, active: np.ndarray) -> pd.DataFrame:
    """One row per backbone lane before or after: departures before and after, daily cost
    before and after, and a status (added, removed, more, fewer, retimed, same)."""
    c = model.cand
    fac = model.network.facility_index
    df = pd.DataFrame({"lane_id": c.lane_id.astype(str), "from": fac[model.gateways[c.frm]],
                       "to": fac[model.gateways[c.to]], "dep": c.dep, "cost": c.cost,
                       "before": c.existing, "after": np.asarray(active, bool)})
    mode = pd.concat([model.network.lanes.set_index("lane_id")["mode"],
                      c.new_lanes.set_index("lane_id")["mode"]])
    rows = []
    for lid, g in df.groupby("lane_id", sort=True):
        b, a = g[g["before"]], g[g["after"]]
        if len(b) == 0 and len(a) == 0:
            continue
        bd, ad = sorted(b["dep"].tolist()), sorted(a["dep"].tolist())
        status = ("added" if not bd else "removed" if not ad else "more" if len(ad) > len(bd)
                  else "fewer" if len(ad) < len(bd) else "retimed" if ad != bd else "same")
        rows.append({"lane_id": lid, "from": g["from"].iat[0], "to": g["to"].iat[0],
                     "mode": mode.get(lid, ""), "status": status,
                     "departures_before": " ".join(hhmm(m) for m in bd),
                     "departures_after": " ".join(hhmm(m) for m in ad),
                     "cost_before": float(b["cost"].sum()), "cost_after": float(a["cost"].sum())})
    return pd.DataFrame(rows, columns=["lane_id", "from", "to", "mode", "status",
                                       "departures_before", "departures_after", "cost_before",
                                       "cost_after"])


def engine_value(network: Network, weights: dict) -> float:
    """The service-design objective computed with the promise engine on a whole network (no
    decomposition): sum over weighted (origin, hour) of the population share of stations
    delivered within 24 h of the hour's first minute. The independent check of a design."""
    eng = PromiseEngine(network)
    pop = network.station_population
    share = pop / max(pop.sum(), 1e-12)
    by_origin: dict[int, list[tuple[int, float]]] = {}
    for (o, h), w in weights.items():
        by_origin.setdefault(o, []).append((h, w))
    total = 0.0
    for o, hw in by_origin.items():
        created = np.array([h for h, _ in hw], np.int64) * 60
        d = eng.delivered_from(o, created)
        within = (d < INF) & (d - created[:, None] <= DAY)
        total += float(np.array([w for _, w in hw]) @ (within @ share))
    return total


# -- what a design does to promises, by the promise engine on whole networks --------------------
def _by_origin(units: dict) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """origin -> (order hours, whole units) of the weighted (origin, hour) pairs."""
    out: dict[int, list[tuple[int, int]]] = {}
    for (o, h), u in units.items():
        out.setdefault(o, []).append((h, u))
    return {o: (np.array([h for h, _ in hu], np.int64), np.array([u for _, u in hu], np.int64))
            for o, hu in out.items()}


def _place_minutes(eng: PromiseEngine, o: int, hours: np.ndarray, col: np.ndarray) -> np.ndarray:
    """(hours, places): promise in minutes from the order at each hour's first minute to
    each place's station (HORIZON: beyond the horizon or never)."""
    created = hours * 60
    d = eng.delivered_from(o, created)[:, col]
    return np.where(d < INF, np.minimum(d - created[:, None], HORIZON), HORIZON)


def province_histogram(network: Network, units: dict) -> np.ndarray:
    """(provinces, HORIZON + 1): the weight (units x population) of the orders of ``units``
    into each province (:func:`admin1_groups`) by promised minutes (last bin: beyond the
    horizon or never), by the promise engine."""
    eng = PromiseEngine(network)
    names, group = admin1_groups(network)
    col = np.searchsorted(eng.stations, network.place_station)
    pop = network.place_population.astype(np.int64)
    hist = np.zeros((len(names), HORIZON + 1), np.int64)
    for o, (hours, u) in _by_origin(units).items():
        m = _place_minutes(eng, o, hours, col)
        K.add_histogram(hist, np.tile(group, len(hours)), m.ravel(),
                        (u[:, None] * pop[None, :]).ravel(), HORIZON)
    return hist


def _hours(minutes) -> float | None:
    return None if minutes < 0 or minutes >= HORIZON else round(float(minutes) / 60, 2)


def _group_medians(group: np.ndarray, minutes: np.ndarray, weight: np.ndarray, n: int):
    """Per group: the weighted median of ``minutes`` (the least with at least half the
    group's weight within it) and the weight share within 24 h."""
    o = np.lexsort((minutes, group))
    g, m, w = group[o], minutes[o], weight[o]
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    cum = np.cumsum(w)
    base = np.repeat(cum[starts] - w[starts], np.diff(np.r_[starts, len(g)]))
    total = np.bincount(group, weights=weight, minlength=n)
    pos = np.where(2 * (cum - base) >= total[g], np.arange(len(g)), len(g))
    median = np.full(n, -1, np.int64)
    median[g[starts]] = m[np.minimum(np.minimum.reduceat(pos, starts), len(g) - 1)]
    within = np.bincount(group, weights=weight * (minutes <= DAY), minlength=n)
    return median, within / np.maximum(total, 1e-300)


def promise_losses(before: Network, after: Network, units: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What a design does to the promises of the weighted orders (promise engine on both
    networks): per province, the median promise in hours (and in whole minutes, -1: never)
    and the share within 24 h before and after (every province); and every (origin, destination city) pair that loses, that
    is whose median grows or whose 24 h share falls. Medians weigh each (origin, hour) by its
    units and each place by its population; None: beyond 30 days or never."""
    names, group = admin1_groups(before)
    hists = [province_histogram(n, units) for n in (before, after)]
    med = [weighted_median(h) for h in hists]
    share = [h[:, :DAY + 1].sum(axis=1) / np.maximum(h.sum(axis=1), 1) for h in hists]
    provinces = pd.DataFrame({
        "admin1": names, "median_hours_before": [_hours(x) for x in med[0]],
        "median_hours_after": [_hours(x) for x in med[1]], "share_24h_before": share[0],
        "share_24h_after": share[1], "median_minutes_before": med[0],
        "median_minutes_after": med[1]})
    places = before.places
    city = places["admin1"].astype(str) + "\x00" + places["admin2"].astype(str)
    cities, cgroup = np.unique(city.to_numpy(), return_inverse=True)
    pop = before.place_population.astype(np.int64)
    engines = [PromiseEngine(n) for n in (before, after)]
    col = np.searchsorted(before.stations, before.place_station)
    rows = []
    fac = before.facility_index
    for o, (hours, u) in _by_origin(units).items():
        m = [_place_minutes(e, o, hours, col) for e in engines]
        if (m[0] == m[1]).all():
            continue
        g = np.tile(cgroup, len(hours))
        w = (u[:, None] * pop[None, :]).ravel().astype(float)
        (mb, sb), (ma, sa) = (_group_medians(g, x.ravel(), w, len(cities)) for x in m)
        lose = np.flatnonzero((ma > mb) & (mb >= 0) | (ma < 0) & (mb >= 0) | (sa < sb - 1e-12))
        for c in lose:
            a1, a2 = cities[c].split("\x00")
            rows.append((str(fac[o]), a1, a2, _hours(mb[c]), _hours(ma[c]), float(sb[c]),
                         float(sa[c])))
    pairs = pd.DataFrame(rows, columns=["origin", "admin1", "admin2", "median_hours_before",
                                        "median_hours_after", "share_24h_before",
                                        "share_24h_after"])
    return provinces, pairs


def origin_report(model: ServiceModel, design_net: Network, every: Network, *,
                  upper: np.ndarray, target: float | None, largest: int = 10) -> list[dict]:
    """Per named origin of the model: its share within 24 h before and after (promise
    engine on the model's network and on the designed one) and with every candidate (the
    achievable maximum, the model's), the shortfall from the target, the timetable-free
    bounds on the network with every candidate (the share no timetable of its lanes can
    beat, ``free_flow``; the share no network can beat, ``physical_minimum``), the share
    beyond 24 h by parcelnet explain's reasons on the designed network, and the largest
    places beyond 24 h there with their reason."""
    st = design_net.stations
    share = design_net.station_population / max(design_net.station_population.sum(), 1e-12)
    eng, old = PromiseEngine(design_net), PromiseEngine(model.network)
    created = int(model.hour) * 60
    places = design_net.places
    col = np.searchsorted(st, design_net.place_station)
    pop = design_net.place_population
    by_size = np.argsort(-pop, kind="stable")
    fac = design_net.facilities.set_index("facility_id")["name"]
    free = free_flow(every, model.origins)[:, every.stations]
    out = []
    for i, o in enumerate(model.origins):
        d, why = station_reasons(design_net, int(o), created, eng)
        d0 = old.delivered_from(int(o), np.array([created], np.int64))[0]
        phys = physical_minimum(every, int(o))[0][every.stations]
        oid = str(design_net.facility_index[o])
        big = [p for p in by_size if why[col[p]] >= 0][:largest]
        out.append({
            "origin": oid, "name": str(fac.get(oid, oid)), "order_minute": created,
            "target": target, "held_to": None if target is None else float(min(target, upper[i])),
            "share_before": float(share @ ((d0 < INF) & (d0 - created <= DAY))),
            "share_after": float(share @ (why < 0)),
            "achievable_max": float(upper[i]),
            "shortfall": None if target is None else max(0.0, float(target - upper[i])),
            "free_flow_share": float(share @ (free[i] <= DAY)),
            "physically_impossible_share": float(share @ (phys > DAY)),
            "outside_24h_by_reason": {r: float(share @ (why == k)) for k, r in enumerate(REASONS)},
            "largest_beyond_24h": [{
                "place_id": str(places["place_id"].iat[p]), "name": str(places["name"].iat[p]),
                "admin1": str(places["admin1"].iat[p]), "admin2": str(places["admin2"].iat[p]),
                "population": int(pop[p]), "station": str(design_net.facility_index[st[col[p]]]),
                "hours": None if d[col[p]] >= INF else round((int(d[col[p]]) - created) / 60, 2),
                "reason": REASONS[int(why[col[p]])]} for p in big]})
    return out
