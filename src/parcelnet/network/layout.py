"""Where the facilities go: stations, city sorting centres, regional hubs, air gateways and the
air hub.

Each step is a plain function over coordinate and population arrays; the
method and its parameters are documented in ``docs/network.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numba import njit

from parcelnet.errors import ParameterError
from parcelnet.geo import haversine_km, pairwise_km
from parcelnet.geo.coords import EARTH_RADIUS_KM
from parcelnet.network.hubs import auto_p_median, p_median
from parcelnet.network.params import Params



@njit(cache=True)
def _greedy_cluster(lat, lon, order, radius_km):
    """Visit points in ``order``; a point within ``radius_km`` of an existing
    seed joins the nearest one, else it becomes a seed. Returns seed per point."""
    n = lat.shape[0]
    seed_of = np.empty(n, np.int64)
    seeds = np.empty(n, np.int64)
    k = 0
    rad = np.pi / 180.0
    for i in order:
        best, bd = -1, radius_km
        for s in range(k):
            j = seeds[s]
            dlat = (lat[j] - lat[i]) * rad
            dlon = (lon[j] - lon[i]) * rad
            a = np.sin(dlat / 2) ** 2 + np.cos(lat[i] * rad) * np.cos(lat[j] * rad) * np.sin(dlon / 2) ** 2
            d = 2 * EARTH_RADIUS_KM * np.arcsin(min(1.0, np.sqrt(a)))
            if d <= bd:
                best, bd = j, d
        if best < 0:
            seeds[k] = i
            k += 1
            best = i
        seed_of[i] = best
    return seed_of


def cluster_by_population(lat, lon, pop, radius_km: float) -> np.ndarray:
    """Seed index per point: greedy by descending population (ties by position)."""
    order = np.lexsort((np.arange(len(pop)), -np.asarray(pop)))
    if radius_km <= 0:
        return np.arange(len(pop), dtype=np.int64)
    return _greedy_cluster(np.asarray(lat, float), np.asarray(lon, float), order.astype(np.int64),
                           float(radius_km))


@dataclass(frozen=True)
class Layout:
    """Facilities by tier and who serves whom (positions into each table)."""

    stations: pd.DataFrame   # seed_place, lat, lon, name, admin1, group, population
    place_station: np.ndarray
    centres: pd.DataFrame    # seed_station, lat, lon, name, admin1, population
    station_centre: np.ndarray
    hubs: pd.DataFrame       # centre, lat, lon, name, admin1, population
    centre_hub: np.ndarray
    gateways: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # centre positions
    air_hub: int = -1        # centre position the air hub sits by, or -1 without air

    @property
    def has_air(self) -> bool:
        return self.air_hub >= 0 and len(self.gateways) > 0


def _seed_table(df: pd.DataFrame, seed_of: np.ndarray,
                seeds: np.ndarray) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per seed (its own attributes, summed population) and each row's seed position."""
    pos = pd.Index(seeds).get_indexer(seed_of)
    out = df.iloc[seeds].reset_index(drop=True)
    out["population"] = np.bincount(pos, weights=df["population"].to_numpy(float),
                                    minlength=len(seeds)).astype(np.int64)
    return out, pos


def plan_layout(places: pd.DataFrame, params: Params, refine_hubs=None) -> Layout:
    """Stations over places, centres over stations, hubs over centres, air hubs over hubs.

    Hubs are the population-weighted p-median of the centres. ``hubs.method = "p-hub"`` moves
    them by the p-hub median search, which lives in ``parcelnet.plan``: pass it as
    ``refine_hubs(centres, km, p_median_hubs, params) -> (hubs, centre_hub)``
    (:func:`parcelnet.plan.build.plan_layout` does)."""
    ps = params.stations
    if ps.method == "per_place":
        seed = np.arange(len(places))
    else:
        seed = cluster_by_population(places["lat"], places["lon"], places["population"],
                                     ps.merge_radius_km)
    st_seeds = np.unique(seed)
    stations, place_station = _seed_table(places, seed, st_seeds)

    pc = params.centres
    if pc.method == "admin" and "group" in stations and (stations["group"] != "").all():
        cseed = _group_sites(stations, pc.site)
    else:
        cseed = cluster_by_population(stations["lat"], stations["lon"], stations["population"],
                                      pc.radius_km)
    centres, station_centre = _seed_table(stations, cseed, np.unique(cseed))

    clat, clon = centres["lat"].to_numpy(float), centres["lon"].to_numpy(float)
    dist = pairwise_km(clat, clon)
    w = centres["population"].to_numpy(float)
    ph = params.hubs
    if ph.count > 0:
        med = p_median(dist, w, ph.count)
    else:
        med = auto_p_median(dist, w, ph.target_mean_km, ph.min_count, ph.max_count)
    centre_hub = np.argmin(dist[:, med], axis=1)
    if ph.method == "p-hub" and len(med) < len(centres):
        if refine_hubs is None:
            raise ParameterError("hubs.method 'p-hub' needs the p-hub median search of "
                                 "parcelnet.plan (parcelnet.plan.build.build_network)")
        med, centre_hub = refine_hubs(centres, dist, med, params)
    hubs = centres.iloc[med].reset_index(drop=True)
    hubs["population"] = np.bincount(centre_hub, weights=w, minlength=len(med)).astype(np.int64)
    hubs["centre"] = med
    return Layout(stations, place_station, centres, station_centre, hubs, centre_hub)


def _group_sites(stations: pd.DataFrame, site: str) -> np.ndarray:
    """Per station, the station its administrative group's centre sits at: the group's
    population-weighted 1-median (``"median"``) or its most populous station (``"largest"``);
    ties go to the more populous, then the earlier station."""
    pop = stations["population"].to_numpy(float)
    lat, lon = stations["lat"].to_numpy(float), stations["lon"].to_numpy(float)
    out = np.empty(len(stations), np.int64)
    for _, idx in stations.groupby("group", sort=False).indices.items():
        idx = np.asarray(idx)
        order = idx[np.lexsort((idx, -pop[idx]))]
        if site == "median" and len(idx) > 1:
            cost = pairwise_km(lat[order], lon[order]) @ pop[order]
            best = order[int(np.argmin(cost))]       # argmin keeps the first (most populous) tie
        else:
            best = order[0]
        out[idx] = best
    return out


def plan_air(lay: Layout, centre_od: np.ndarray, params: Params) -> Layout:
    """``lay`` with its air network: gateways and the central air hub (docs/network.md §2).

    ``centre_od`` is the gravity flow between centres (parcels a day). A gateway is a centre
    whose flow to centres at least ``air.min_distance_km`` away reaches
    ``air.gateway_min_parcels`` (the ``air.gateways`` largest), or one that brings at least
    ``air.cover_min_share`` of the population no other gateway reaches within
    ``air.distribution_km`` by road (greedy, largest first). The air hub sits by
    ``air.hub`` (a centre id), or by the centre minimising the gateways' flow-weighted
    great-circle distance. No air when the centres span less than ``air.min_span_km``."""
    pa = params.air
    C = lay.centres
    dist = pairwise_km(C["lat"].to_numpy(float), C["lon"].to_numpy(float))
    if len(C) < 2 or dist.max() < pa.min_span_km or pa.gateways <= 0:
        return lay
    far = np.where(dist >= pa.min_distance_km, centre_od, 0.0)
    long_flow = far.sum(axis=1) + far.sum(axis=0)
    order = np.lexsort((np.arange(len(C)), -long_flow))
    chosen = order[:pa.gateways]
    chosen = list(chosen[long_flow[chosen] >= pa.gateway_min_parcels])
    if len(chosen) < 2:
        return lay
    chosen = np.sort(_cover(chosen, dist * params.speeds.circuity, C["population"].to_numpy(float),
                            pa.distribution_km, pa.cover_min_share))
    if pa.hub != "auto":
        ids = centre_ids(C)
        hit = np.flatnonzero(ids == pa.hub)
        if len(hit) == 0:
            raise ParameterError(f"air.hub: no sorting centre {pa.hub!r} in this country "
                                 f"(centre ids look like {ids[0]!r}); use \"auto\"")
        hub = int(hit[0])
    else:
        hub = int(np.argmin(dist[:, chosen] @ long_flow[chosen]))
    return dataclasses.replace(lay, gateways=chosen.astype(np.int64), air_hub=hub)


def _cover(chosen: list, road: np.ndarray, pop: np.ndarray, reach_km: float,
           min_share: float) -> np.ndarray:
    """``chosen`` gateways plus, one at a time, the most populous centre no gateway reaches
    within ``reach_km`` whose own reach takes in at least ``min_share`` of the total population
    not yet reached (ties to the lower position): the regions far from the large cities get an
    airport too, at their largest city."""
    chosen = [int(c) for c in chosen]
    near = road <= reach_km
    covered = near[:, chosen].any(axis=1)
    need = min_share * pop.sum()
    while True:
        free = np.where(covered, 0.0, pop)
        for c in np.lexsort((np.arange(len(pop)), -pop)):
            if not covered[c] and free[near[:, c]].sum() >= need and free[near[:, c]].sum() > 0:
                chosen.append(int(c))
                covered |= near[:, c]
                break
        else:
            return np.array(chosen, np.int64)


def centre_ids(centres: pd.DataFrame) -> np.ndarray:
    """Facility ids of the centres: ``C`` + the administrative group where every centre has a
    distinct one (China: the prefecture code), else ``C`` + the seed place id."""
    g = centres["group"].astype(str) if "group" in centres else pd.Series([""])
    key = g if (g != "").all() and g.is_unique else centres["place_id"].astype(str)
    return ("C" + key).to_numpy()


def road_km(lat1, lon1, lat2, lon2, circuity: float) -> np.ndarray:
    """Great-circle distance x road circuity, at least 1 km."""
    return np.maximum(1.0, haversine_km(lat1, lon1, lat2, lon2) * circuity)
