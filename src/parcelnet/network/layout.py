"""Where the facilities go: stations, city sorting centres, regional and air hubs.

Each step is a plain function over coordinate and population arrays; the
method and its parameters are documented in ``docs/network.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    hubs: pd.DataFrame       # centre, lat, lon, name, admin1, population, air (bool)
    centre_hub: np.ndarray
    hub_air: np.ndarray      # hub -> its air hub (a hub position), or -1 without air


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
        # the most populous station of each administrative group
        order = np.lexsort((np.arange(len(stations)), -stations["population"].to_numpy()))
        first = stations.iloc[order].drop_duplicates("group")
        seed_of_group = pd.Series(first.index.to_numpy(), index=first["group"].to_numpy())
        cseed = seed_of_group.loc[stations["group"]].to_numpy()
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

    hub_air = np.full(len(hubs), -1, np.int64)
    hd = pairwise_km(hubs["lat"].to_numpy(float), hubs["lon"].to_numpy(float))
    pa = params.air
    if len(hubs) >= 2 and hd.max() >= pa.min_span_km:
        n_air = pa.count if pa.count > 0 else max(2, round(len(hubs) / 4))
        air = p_median(hd, hubs["population"].to_numpy(float), min(n_air, len(hubs)))
        hub_air = air[np.argmin(hd[:, air], axis=1)]
    hubs["air"] = np.isin(np.arange(len(hubs)), hub_air)
    return Layout(stations, place_station, centres, station_centre, hubs, centre_hub, hub_air)


def road_km(lat1, lon1, lat2, lon2, circuity: float) -> np.ndarray:
    """Great-circle distance x road circuity, at least 1 km."""
    return np.maximum(1.0, haversine_km(lat1, lon1, lat2, lon2) * circuity)
