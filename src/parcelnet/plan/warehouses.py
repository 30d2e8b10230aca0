"""Warehouses for forward stock (``parcelnet plan warehouses``): K sites among the city
sorting centres, chosen for the demand they reach within 24 hours, and linked into the
network's next-day cycle.

**The sites.** Every candidate centre c gets a trial warehouse (:func:`add_warehouses`: its
own pick-and-pack time, then a short truck into c at c's collection minutes). Its reach is
measured by the promise engine on that network: ``reach[c, s]`` is the share of a day's
orders (by the hour profile of a normal day, each hour's order at its first minute) that the
warehouse at c promises to station s within 24 hours. The K sites maximise the
demand-weighted reach of the best site for each station,

    F(S) = sum_s w_s max_{c in S} reach[c, s],

w_s the station's share of the population (or of given demand). F is a maximal-covering
(p-median style) objective: monotone and submodular, so the greedy that adds the site of
largest gain K times reaches at least 1 - 1/e of the optimum. A swap search (Teitz and Bart)
then exchanges a chosen site for another while F grows. The result carries the bound
``min(F(every candidate), F / (1 - 1/e))`` on the optimum, and with ``bound=True`` a much
tighter one (:func:`hourly_bound`): each order hour's exact maximal covering by K sites,
solved by HiGHS, summed over the hours. No K sites can do better at every hour at once.

**The link.** A warehouse is a facility of kind ``warehouse`` at its centre's coordinates,
with ``process_minutes`` for picking and packing, ``sort_per_minute`` 0 (the picking is not a
sorter) and a ``capacity_units`` column (units it may hold). One lane leads from it to its
centre (``link_minutes``, by truck), with a departure at each minute the centre's stations
leave for the centre (its collection times) and every half hour from 18:00 to 23:30, so that
an order picked at the warehouse joins the centre's evening sort like a parcel collected in
the city, and until later in the evening than the city's last collection (a warehouse beside
its centre has no city to cross).

**The day trucks.** The backbone runs one overnight cycle, so an order placed between the
evening's last departures and mid-morning would wait for the next night, and miss 24 hours.
A regional warehouse does not wait: like JD's regional distribution centres, it sorts to
the delivery station and dispatches all day, so that the afternoon and evening waves
deliver the morning's orders. Each warehouse gets a ``trunk`` lane by truck to every other
candidate centre within ``day_km`` of road (default :data:`DAY_KM`) and to every station
within ``direct_km`` (default :data:`DIRECT_KM`; there the parcel skips the centre's
sort), road km being great-circle km x ``speeds.circuity``, with the builder's truck
minutes and cost. Each lane has a departure every ``day_every`` minutes from midnight
(default :data:`DAY_EVERY`) of one truck (``capacity.truck_parcels``). They are costed as
line-haul, like the backbone's trunks; ``parcelnet plan capacity`` adds trucks where a day
needs more. ``day_km`` and ``direct_km`` 0 give the link alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError
from parcelnet.geo.coords import haversine_km
from parcelnet.network.lanes import lane_minutes, trip_id, vehicle_trip_cost
from parcelnet.network.model import Network
from parcelnet.network.params import Params, load_params
from parcelnet.progress import Progress, or_none
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.results import Result, internal
from parcelnet.units import DAY

#: picking and packing at a warehouse, minutes
PICK_MINUTES = 60
#: the truck from a warehouse to its centre, minutes and km
LINK_MINUTES, LINK_KM = 30, 10.0
#: parcels a link trip carries: not a limit (the warehouse's own outbound dock is not modelled)
LINK_CAPACITY = 1_000_000_000
#: units a warehouse may hold by default
CAPACITY_UNITS = 2_000_000
#: collection minutes when a centre has no trips from its stations
DEFAULT_COLLECTIONS = tuple(range(9 * 60, 22 * 60, 120))
#: and every half hour of the evening, whatever the stations do: a warehouse beside its
#: centre feeds the evening sort until the night's departures (later trucks just wait)
EVENING_LINKS = tuple(range(18 * 60, 24 * 60, 30))
#: day trucks: to the centres within this road distance (km; a morning departure reaches the
#: evening waves), leaving every DAY_EVERY minutes from midnight
DAY_KM, DAY_EVERY = 1200.0, 120
#: and straight to the delivery stations within this road distance (km): the warehouse sorts
#: its parcels to the station, so they skip the destination centre's sort
DIRECT_KM = 600.0
#: candidate warehouses whose reach is measured on one trial network (each brings its day
#: trucks; a warehouse has no lane into it, so trials never change each other's promises)
TRIAL_BATCH = 40


@dataclass(frozen=True, eq=False)
class WarehouseSites(Result):
    """The chosen centres, the demand-weighted 24 h reach they give, and its bound."""

    centres: list                 # facility ids, in the order chosen
    warehouses: list              # the new warehouses' ids, in the same order
    reach_24h: float              # F(S): demand share reached within 24 h by the best site
    reach_24h_greedy: float       # before the swap search
    upper_bound: float            # on F over every choice of K candidates
    each_alone: list              # F({c}) of each chosen centre
    candidates: int
    swaps: int
    hourly: dict | None          # with ``bound=True``: :func:`hourly_bound`'s result
    day_trucks: dict              # lanes, departures and CNY a day of the day trucks
    network: Network = internal()


def _candidates(network: Network) -> np.ndarray:
    fac = network.facilities
    if "tier" in fac.columns:
        pos = np.flatnonzero(fac["tier"].isin(["centre", "gateway"]).to_numpy())
    else:
        pos = network.hubs
    if len(pos) == 0:
        raise ParameterError("the network has no sorting centres (facilities of tier centre or "
                             "gateway, or hubs) to put warehouses at")
    return pos


def _collections(network: Network, centre: int) -> list[int]:
    tt = network.timetable
    kind_station = np.isin(tt.lane_from, network.stations)
    lanes = np.flatnonzero((tt.lane_to == centre) & kind_station)
    mins = {int(m) % DAY for m in tt.trip_departure[np.isin(tt.trip_lane, lanes)]}
    return sorted((mins or set(DEFAULT_COLLECTIONS)) | set(EVENING_LINKS))


def _check_day(day_km: float, day_every: int, direct_km: float) -> None:
    for v, what in ((day_km, "reach to centres"), (direct_km, "reach to stations")):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
                or not 0 <= v < np.inf:
            raise ParameterError(f"the day trucks' {what} must be a number of km >= 0, got {v!r}")
    if isinstance(day_every, bool) or not isinstance(day_every, (int, np.integer)) \
            or not 1 <= day_every <= DAY:
        raise ParameterError(f"the day trucks' interval must be 1 to {DAY} minutes, got {day_every!r}")


def add_warehouses(network: Network, centres: list[str], *, capacity_units: int = CAPACITY_UNITS,
                   pick_minutes: int = PICK_MINUTES, link_minutes: int = LINK_MINUTES,
                   day_km: float = DAY_KM, day_every: int = DAY_EVERY,
                   direct_km: float = DIRECT_KM, params: Params | None = None,
                   prefix: str = "W") -> tuple[Network, list[str]]:
    """The network with a warehouse at each centre of ``centres`` (see the module docs),
    and the new warehouses' ids (``W01``, ``W02``, ... unless taken). ``day_km`` and
    ``direct_km`` 0: no day trucks, only the link into the centre."""
    _check_day(day_km, day_every, direct_km)
    params = params or load_params(network.country or "CN")
    fac, lanes, trips = network.facilities, network.lanes, network.tables["trips.csv"]
    taken = set(fac["facility_id"])
    ids, rows_f, rows_l, rows_t = [], [], [], []
    k = 0
    cost = float(vehicle_trip_cost(LINK_KM, "truck", params.costs))
    targets = np.concatenate([_candidates(network), network.stations])
    limit = np.concatenate([np.full(len(targets) - len(network.stations), float(day_km)),
                            np.full(len(network.stations), float(direct_km))])
    t_lat = fac["lat"].to_numpy(float)[targets]
    t_lon = fac["lon"].to_numpy(float)[targets]
    t_id = fac["facility_id"].to_numpy()[targets]
    day_deps = list(range(0, DAY, int(day_every)))
    truck = str(int(params.capacity.truck_parcels))
    for c in centres:
        pos = network.facility(c)
        k += 1
        wid = f"{prefix}{k:02d}"
        while wid in taken:
            k += 1
            wid = f"{prefix}{k:02d}"
        taken.add(wid)
        ids.append(wid)
        row = fac.iloc[pos]
        rows_f.append({"facility_id": wid, "kind": "warehouse", "name": f"{row['name']} warehouse",
                       "lat": row["lat"], "lon": row["lon"], "sort_per_minute": "0",
                       "process_minutes": str(int(pick_minutes)), "tier": "warehouse",
                       "capacity_units": str(int(capacity_units))})
        lid = f"{wid}>{c}"
        rows_l.append({"lane_id": lid, "from_facility": wid, "to_facility": c, "mode": "truck",
                       "duration_minutes": str(int(link_minutes)), "distance_km": f"{LINK_KM:.1f}",
                       "cost_per_trip": f"{cost:.0f}", "tier": "first_mile"})
        for m in _collections(network, pos):
            rows_t.append({"trip_id": trip_id(lid, m), "lane_id": lid, "departure_minute": str(m),
                           "capacity": str(LINK_CAPACITY)})
        if day_km <= 0 and direct_km <= 0:
            continue
        km = haversine_km(float(row["lat"]), float(row["lon"]), t_lat, t_lon) * params.speeds.circuity
        near = np.flatnonzero((km <= limit) & (limit > 0) & (t_id != c))
        minutes = lane_minutes(km[near], "truck", params.speeds)
        costs = vehicle_trip_cost(km[near], "truck", params.costs)
        for j, m, k_cost in zip(near, minutes, costs):
            lid = f"{wid}>{t_id[j]}"
            rows_l.append({"lane_id": lid, "from_facility": wid, "to_facility": t_id[j],
                           "mode": "truck", "duration_minutes": str(int(m)),
                           "distance_km": f"{km[j]:.1f}", "cost_per_trip": f"{k_cost:.0f}",
                           "tier": "trunk"})
            rows_t.extend({"trip_id": trip_id(lid, d), "lane_id": lid, "departure_minute": str(d),
                           "capacity": truck} for d in day_deps)
    new_f = pd.concat([fac, pd.DataFrame(rows_f)], ignore_index=True).fillna("")
    new_l = pd.concat([lanes, pd.DataFrame(rows_l)], ignore_index=True).fillna("")
    new_t = pd.concat([trips, pd.DataFrame(rows_t)], ignore_index=True).fillna("")
    return network.replace(facilities=new_f.astype(str), lanes=new_l.astype(str),
                           trips=new_t.astype(str)), ids


def reach_matrix(network: Network, warehouses: list[str], hour_weights: np.ndarray,
                 progress: Progress | None = None, *, hourly: bool = False):
    """(warehouses, stations): the share of a day's orders (hour weights, each hour's order
    at its first minute) each warehouse promises to each station within 24 hours. With
    ``hourly`` also the (warehouses, 24, stations) booleans it is made of."""
    progress = or_none(progress)
    progress.start("24 h reach of each candidate", len(warehouses))
    reach, cover = _reach_rows(network, warehouses, hour_weights, progress, hourly)
    progress.finish()
    return (reach, cover) if hourly else reach


def _reach_rows(network: Network, warehouses: list[str], hour_weights: np.ndarray,
                progress: Progress, hourly: bool):
    eng = PromiseEngine(network)
    created = np.arange(24, dtype=np.int64) * 60
    out = np.zeros((len(warehouses), len(eng.stations)))
    cover = np.zeros((len(warehouses), 24, len(eng.stations)), bool) if hourly else None
    for i, w in enumerate(warehouses):
        d = eng.delivered_from(network.facility(w), created)
        ok = (d < INF) & (d - created[:, None] <= DAY)
        out[i] = hour_weights @ ok
        if hourly:
            cover[i] = ok
        progress.advance()
    return out, cover


def _trial_reach(network: Network, centres: list[str], hour_weights: np.ndarray,
                 progress: Progress | None, hourly: bool, **link) -> tuple[np.ndarray, np.ndarray | None]:
    """:func:`reach_matrix` of a trial warehouse at each of ``centres``, TRIAL_BATCH trials
    to a network (their day trucks would make one network of them all needlessly large)."""
    progress = or_none(progress)
    progress.start("24 h reach of each candidate", len(centres))
    reach, cover = [], []
    for at in range(0, len(centres), TRIAL_BATCH):
        trial, ids = add_warehouses(network, centres[at:at + TRIAL_BATCH], prefix="T", **link)
        r, c = _reach_rows(trial, ids, hour_weights, progress, hourly)
        reach.append(r)
        cover.append(c)
    progress.finish()
    return np.concatenate(reach), (np.concatenate(cover) if hourly else None)


def hourly_bound(cover: np.ndarray, weight: np.ndarray, hour_weights: np.ndarray, k: int,
                 time_limit: float = 60.0, progress: Progress | None = None) -> dict:
    """A proven upper bound on the 24 h reach of any ``k`` candidates: for each order hour
    h, the exact maximal covering of the stations' demand by k sites at that hour alone
    (HiGHS: binary sites, sum <= k; each station covered at most once and only by a chosen
    site that reaches it), then the hours summed by their weights. One choice of sites must
    serve every hour, so the sum bounds it; each hour's bound is HiGHS's dual bound (its
    optimum when solved within ``time_limit`` seconds)."""
    from scipy import sparse

    from parcelnet.plan._highs import solve_mip
    progress = or_none(progress)
    n_c, n_h, _ = cover.shape
    hours = []
    progress.start("the bound, hour by hour", n_h)
    for h in range(n_h):
        a = cover[:, h, :]
        st = np.flatnonzero(a.any(axis=0))
        c_idx, s_idx = np.nonzero(a[:, st])
        n = n_c + len(st)
        rows = np.concatenate([np.zeros(n_c, np.int64), 1 + np.arange(len(st)), 1 + s_idx])
        cols = np.concatenate([np.arange(n_c), n_c + np.arange(len(st)), c_idx])
        vals = np.concatenate([np.ones(n_c), np.ones(len(st)), -np.ones(len(c_idx))])
        a_m = sparse.coo_matrix((vals, (rows, cols)), shape=(1 + len(st), n))
        r = solve_mip(np.concatenate([np.zeros(n_c), -weight[st]]), a_m,
                      np.full(1 + len(st), -np.inf), np.concatenate([[k], np.zeros(len(st))]),
                      np.zeros(n), np.ones(n), np.arange(n) < n_c, time_limit=time_limit)
        hours.append({"hour": h, "best": round(-r.objective, 6) if np.isfinite(r.objective) else None,
                      "bound": round(min(1.0, -r.bound), 6), "status": r.status})
        progress.advance()
    progress.finish()
    total = float(sum(w * x["bound"] for w, x in zip(hour_weights, hours)))
    return {"bound": total, "hours": hours}


def max_cover(reach: np.ndarray, weight: np.ndarray, k: int) -> tuple[list[int], float, float, int]:
    """Greedy then swap search for F (module docs): (chosen rows, F, F after the greedy,
    swaps made)."""
    best = np.zeros(reach.shape[1])
    chosen: list[int] = []
    for _ in range(k):
        gain = (np.maximum(reach, best[None, :]) - best[None, :]) @ weight
        gain[chosen] = -1.0
        j = int(np.argmax(gain))
        chosen.append(j)
        best = np.maximum(best, reach[j])
    greedy_value = float(best @ weight)

    def value(rows) -> float:
        return float(reach[rows].max(axis=0) @ weight)

    current, swaps = greedy_value, 0
    improved = True
    while improved:
        improved = False
        for i in range(len(chosen)):
            rest = chosen[:i] + chosen[i + 1:]
            base = reach[rest].max(axis=0) if rest else np.zeros(reach.shape[1])
            vals = np.maximum(reach, base[None, :]) @ weight
            vals[chosen] = -1.0
            j = int(np.argmax(vals))
            if vals[j] > current + 1e-12:
                chosen[i], current, improved = j, float(vals[j]), True
                swaps += 1
    assert abs(value(chosen) - current) < 1e-9
    return chosen, current, greedy_value, swaps


def choose_warehouses(network: Network, count: int, *, weights: np.ndarray | None = None,
                      hour_weights: np.ndarray | None = None, capacity_units: int = CAPACITY_UNITS,
                      pick_minutes: int = PICK_MINUTES, link_minutes: int = LINK_MINUTES,
                      day_km: float = DAY_KM, day_every: int = DAY_EVERY,
                      direct_km: float = DIRECT_KM, bound: bool = False,
                      progress: Progress | None = None) -> WarehouseSites:
    """Choose ``count`` centres for warehouses and return the network with them linked in
    (module docs). ``weights``: each station's demand (order of ``network.stations``;
    default its population); ``hour_weights``: 24 shares of a day's orders by hour (default
    the normal day's profile of :mod:`parcelnet.demand`). ``bound``: also prove the
    hour-by-hour bound of :func:`hourly_bound` (minutes at national size)."""
    from parcelnet.demand.generate import hourly_profile
    cand = _candidates(network)
    if not (isinstance(count, (int, np.integer)) and 1 <= count <= len(cand)):
        raise ParameterError(f"the number of warehouses must be between 1 and the {len(cand)} "
                             f"candidate centres, got {count}")
    fac = network.facility_index
    w = network.station_population if weights is None else np.asarray(weights, float)
    if len(w) != len(network.stations) or not (w >= 0).all() or w.sum() <= 0:
        raise ParameterError("station weights must be one non-negative number per station, "
                             "not all zero")
    w = w / w.sum()
    hw = hourly_profile("normal") if hour_weights is None else np.asarray(hour_weights, float)
    link = {"capacity_units": capacity_units, "pick_minutes": pick_minutes,
            "link_minutes": link_minutes, "day_km": day_km, "day_every": day_every,
            "direct_km": direct_km, "params": load_params(network.country or "CN")}
    hw = hw / hw.sum()
    reach, cover = _trial_reach(network, [str(fac[c]) for c in cand], hw, progress, bound, **link)
    rows, value, greedy_value, swaps = max_cover(reach, w, int(count))
    every = float(reach.max(axis=0) @ w)
    hourly = hourly_bound(cover, w, hw, int(count), progress=progress) if bound else None
    centres = [str(fac[cand[r]]) for r in rows]
    net, new_ids = add_warehouses(network, centres, **link)
    lanes = net.lanes
    day = lanes[lanes["from_facility"].isin(new_ids) & (lanes["tier"] == "trunk")]
    to_station = day["to_facility"].isin(set(network.facility_index[network.stations]))
    # the day trucks' departures as the network now holds them, each at its lane's cost
    runs = net.tables["trips.csv"]["lane_id"]
    runs = runs[runs.isin(day["lane_id"])]
    cost = day.set_index("lane_id")["cost_per_trip"].astype(float)
    day_trucks = {"km": float(day_km), "direct_km": float(direct_km),
                  "every_minutes": int(day_every), "lanes": len(day),
                  "lanes_to_stations": int(to_station.sum()), "departures": len(runs),
                  "cost_per_day": float(cost.reindex(runs).sum())}
    return WarehouseSites(centres=centres, warehouses=new_ids, reach_24h=value,
                          reach_24h_greedy=greedy_value,
                          upper_bound=min(every, greedy_value / (1 - np.exp(-1)),
                                          hourly["bound"] if hourly else 1.0),
                          hourly=hourly,
                          each_alone=[float(reach[r] @ w) for r in rows], candidates=len(cand),
                          swaps=swaps, day_trucks=day_trucks, network=net)
