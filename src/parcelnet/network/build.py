"""A national backbone from real geography: the network layer of ``parcelnet build``.

Pipeline: places (``parcelnet.geo``) -> layout (stations, centres, hubs, air hubs;
``layout.py``) -> lanes with travel times (``lanes.py``) -> a timetable timed forward from the
evening first-mile cut-offs and backward from the delivery waves -> capacities and sorter rates
sized for a normal day's flow (gravity model) -> the five PNF tables. Every number comes from
the parameters (``defaults.toml``); the method is documented in ``docs/network.md``.

This module only uses geography and the network itself. The default build goes further
(``parcelnet.plan.build.build_network``): it may place hubs by the p-hub median search, and it
sizes capacities by simulating a design day, both of which live above the network layer. They
work on a :class:`Draft`, which keeps what the tables are made from.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet import __version__
from parcelnet.geo import country_info, load_places, pairwise_km
from parcelnet.geo.gravity import gravity
from parcelnet.network.lanes import lane_minutes, trip_id, vehicle_trip_cost
from parcelnet.network.layout import Layout, plan_layout, road_km
from parcelnet.network.model import Network
from parcelnet.network.params import Params, load_params
from parcelnet.network.schema import COLUMNS
from parcelnet.progress import Progress, or_none
from parcelnet.units import DAY

TIERS = ("first_mile", "feeder", "linehaul", "air", "last_mile")
#: Stages of a build, as reported to a Progress.
BUILD_STAGES = ("loading places", "placing stations, centres and hubs", "laying lanes and timing trips",
                "sizing capacities for a normal day")


@dataclass(frozen=True, eq=False)
class Draft:
    """A network being built: its layout, lanes (with unrounded km), departures and normal-day
    volume. :meth:`network` gives the PNF network with capacities from the gravity model;
    :meth:`sized` the same network with capacities for measured loads."""

    country: str
    params: Params
    places: pd.DataFrame
    layout: Layout
    lanes: pd.DataFrame          # tier, from/to (kind, position), mode, km, duration
    trips: pd.DataFrame          # lane (row of ``lanes``), departure (minute of day)
    volume: float                # parcels on a normal day

    def network(self) -> Network:
        """The network with every trip and sorter sized by the gravity model's flows."""
        flow = _lane_flows(self.layout, self.lanes, self.volume, self.params)
        tables = _tables(self.places, self.layout, self.lanes, self.trips, flow, self.params)
        meta = {"params.toml": self.params.to_toml(),
                "build.json": json.dumps(_summary(self.country, self.layout, self.lanes, self.volume),
                                         indent=2) + "\n"}
        return Network.from_tables(tables, meta)

    def sized(self, net: Network, trip_load: np.ndarray, sorted_by_hour: np.ndarray) -> Network:
        """``net`` (from :meth:`network`) with capacities for a day's measured loads: each trip
        gets vehicles for ``trip_load`` (parcels a day, trips.csv order) x headroom, each
        sorter the rate of its busiest hour of ``sorted_by_hour`` (facility x hour of day) x
        headroom x ``sorter_peak_factor``; lane costs and design flows follow."""
        pc = self.params.capacity
        tt = net.timetable
        cap, cost = _capacity(self.lanes, tt.trip_lane, trip_load, self.params)
        lanes_csv = net.lanes.assign(cost_per_trip=_fmt(cost, 0), design_parcels_per_day=np.round(
            np.bincount(tt.trip_lane, weights=trip_load, minlength=len(self.lanes))).astype(np.int64))
        peak = sorted_by_hour.max(axis=1) * pc.headroom * pc.sorter_peak_factor
        rate = np.maximum(1, np.ceil(peak / 60)).astype(np.int64)
        return net.replace(lanes=lanes_csv).with_capacities(cap, rate)


#: Moves the layout's hubs (centres, centre distances, p-median hubs, params) -> (hubs, centre_hub).
HubRefiner = Callable[[pd.DataFrame, np.ndarray, np.ndarray, Params], tuple[np.ndarray, np.ndarray]]


def draft_network(country: str, params: Params | None = None, *, refine_hubs: HubRefiner | None = None,
                  progress: Progress | None = None) -> Draft:
    """Lay out and time the network of ``country`` (ISO alpha-2). ``refine_hubs`` moves the
    p-median hubs (``hubs.method = "p-hub"``; see :func:`parcelnet.plan.build.build_network`)."""
    country = country.upper()
    params = params or load_params(country)
    progress = or_none(progress)
    progress.start(BUILD_STAGES[0])
    places = load_places(country)
    progress.start(BUILD_STAGES[1])
    lay = plan_layout(places, params, refine_hubs=refine_hubs)
    progress.start(BUILD_STAGES[2])
    lanes = _lanes(lay, params)
    trips = _timetable(lay, lanes, params)
    progress.finish()
    return Draft(country, params, places, lay, lanes, trips, _volume(country, places, params))


def build_gravity_network(country: str, params: Params | None = None,
                          progress: Progress | None = None) -> Network:
    """The network of ``country`` with capacities by the gravity model (``capacity.method =
    "gravity"``) and hubs by the p-median (the network layer alone)."""
    draft = draft_network(country, params, progress=progress)
    or_none(progress).start(BUILD_STAGES[3])
    net = draft.network()
    or_none(progress).finish()
    return net


# -- ids and facilities ------------------------------------------------------
def _ids(lay: Layout):
    st = "S" + lay.stations["place_id"].astype(str)
    g = lay.centres["group"].astype(str) if "group" in lay.centres else pd.Series([""])
    key = g if (g != "").all() and g.is_unique else lay.centres["place_id"].astype(str)
    ce = "C" + key
    hu = pd.Series([f"H{i + 1:02d}" for i in range(len(lay.hubs))])
    return st.to_numpy(), ce.to_numpy(), hu.to_numpy()


# -- lanes -------------------------------------------------------------------
def _lanes(lay: Layout, p: Params) -> pd.DataFrame:
    """One row per lane: from/to as (tier-kind, position), mode, duration, km."""
    sp = p.speeds
    rows = []

    def add(tier, fk, fi, tk, ti, km_road, mode):
        rows.append((tier, fk, fi, tk, ti, mode, km_road))

    S, C, H = lay.stations, lay.centres, lay.hubs
    sc = lay.station_centre
    km = road_km(S["lat"], S["lon"], C["lat"].to_numpy()[sc], C["lon"].to_numpy()[sc], sp.circuity)
    for s, (c, d) in enumerate(zip(sc, km)):
        mode = "van" if d <= sp.van_max_km else "truck"
        add("first_mile", "S", s, "C", c, d, mode)
        add("last_mile", "C", c, "S", s, d, mode)
    ch = lay.centre_hub
    km = road_km(C["lat"], C["lon"], H["lat"].to_numpy()[ch], H["lon"].to_numpy()[ch], sp.circuity)
    for c, (h, d) in enumerate(zip(ch, km)):
        add("feeder", "C", c, "H", h, d, "truck")
        add("feeder", "H", h, "C", c, d, "truck")
    hlat, hlon = H["lat"].to_numpy(float), H["lon"].to_numpy(float)
    gc = pairwise_km(hlat, hlon)
    for a in range(len(H)):
        for b in range(len(H)):
            if a != b and gc[a, b] * sp.circuity <= p.timetable.max_truck_hub_km:
                add("linehaul", "H", a, "H", b, gc[a, b] * sp.circuity, "truck")
    air = np.flatnonzero(H["air"].to_numpy())
    for a in air:
        for b in air:
            if a != b and gc[a, b] >= p.air.min_distance_km:
                add("air", "H", a, "H", b, gc[a, b], "air")
    df = pd.DataFrame(rows, columns=["tier", "from_kind", "from_pos", "to_kind", "to_pos", "mode", "km"])
    df["duration"] = lane_minutes(df["km"].to_numpy(), df["mode"].to_numpy(), sp)
    return df


# -- timetable ---------------------------------------------------------------
def _round(m: np.ndarray, step: int, up: bool) -> np.ndarray:
    return (np.ceil(m / step) if up else np.floor(m / step)).astype(np.int64) * step


def _wquantile(groups: np.ndarray, values: np.ndarray, weights: np.ndarray, q: float,
               n: int) -> np.ndarray:
    """Per group (0..n-1) and column: the weighted q-quantile of ``values`` (rows x cols)."""
    out = np.zeros((n, values.shape[1]), np.int64)
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.diff(groups[order])) + 1
    for idx in np.split(order, cuts):
        w = weights[idx] + 1e-9
        for c in range(values.shape[1]):
            o = np.argsort(values[idx, c], kind="stable")
            cum = np.cumsum(w[o]) / w.sum()
            out[groups[idx[0]], c] = values[idx, c][o][min(np.searchsorted(cum, q - 1e-12), len(o) - 1)]
    return out


def _timetable(lay: Layout, lanes: pd.DataFrame, p: Params) -> pd.DataFrame:
    """Departure minutes (of day) per lane. Times are computed on a signed
    minute axis (negative = the day before) and wrapped to 0..1439 at the end.

    Forward from the first-mile cut-offs: a centre's trip to its hub leaves
    when the feeders carrying ``timing_share`` of its population are sorted;
    a hub's line-haul bank leaves when that share of its centres' volume is
    sorted. Backward from the waves: each van leaves its centre in time for its
    station's wave; a hub's shuttle to a centre arrives in time for the vans of
    ``timing_share`` of the centre's population. Outliers take the next trip.
    """
    tp, pr = p.timetable, p.processing
    step, slack, q = tp.round_minutes, tp.slack_minutes, tp.timing_share
    first = np.array(tp.first_mile_minutes, np.int64)
    waves = np.array([w for w, _ in tp.wave_minutes], np.int64)
    nC, nH = len(lay.centres), len(lay.hubs)
    spop = lay.stations["population"].to_numpy(float)
    cpop = lay.centres["population"].to_numpy(float)
    dep: dict[int, np.ndarray] = {}
    by = {t: lanes.index[lanes["tier"] == t].to_numpy() for t in TIERS}
    dur = lanes["duration"].to_numpy()
    frm, to = lanes["from_pos"].to_numpy(), lanes["to_pos"].to_numpy()

    # backward from the waves: centre -> station vans, then hub -> centre shuttles
    lm = by["last_mile"]
    lm_dep = _round(waves[None, :] - slack - pr.station_minutes - dur[lm][:, None], step, False)
    dep.update(zip(lm, lm_dep))
    # deadline at the centre: the van departures of (1 - q) of the population are earlier
    deadline = _wquantile(frm[lm], lm_dep, spop[to[lm]], 1 - q, nC)
    down = by["feeder"][lanes.loc[by["feeder"], "from_kind"].to_numpy() == "H"]
    for l in down:
        dep[l] = _round(deadline[to[l]] - slack - pr.centre_minutes - dur[l], step, False)

    # forward from the first-mile cut-offs: station -> centre, centre -> hub, hub banks
    fm = by["first_mile"]
    dep.update((l, first.copy()) for l in fm)
    sorted_at_c = first[None, :] + dur[fm][:, None] + pr.centre_minutes
    ready_c = _wquantile(to[fm], sorted_at_c, spop[frm[fm]], q, nC)
    up = by["feeder"][lanes.loc[by["feeder"], "from_kind"].to_numpy() == "C"]
    up_dep = _round(ready_c[frm[up]], step, True)
    dep.update(zip(up, up_dep))
    banks = _round(_wquantile(to[up], up_dep + dur[up][:, None] + pr.hub_minutes,
                              cpop[frm[up]], q, nH), step, True)
    for l in by["linehaul"]:
        dep[l] = banks[frm[l]]
    for l in by["air"]:  # freighters fly the two latest banks (evening and night)
        dep[l] = banks[frm[l]][-2:]

    rows = [(l, int(m)) for l in lanes.index for m in np.unique(np.mod(dep[l], DAY))]
    return pd.DataFrame(rows, columns=["lane", "departure"])


# -- volume and capacity -----------------------------------------------------
def _volume(country: str, places: pd.DataFrame, p: Params) -> float:
    """Parcels on a normal day: the parameter, else the country's population
    (GeoNames country info; the places' sum if unknown) x parcels per capita."""
    pv = p.volume
    if pv.parcels_per_day > 0:
        return float(pv.parcels_per_day)
    pop = country_info(country).get("population") or places["population"].sum()
    return float(pop * pv.parcels_per_capita_per_day)


def _lane_flows(lay: Layout, lanes: pd.DataFrame, volume: float, p: Params) -> np.ndarray:
    """Design parcels per day on every lane: a gravity OD between centres,
    routed station-centre-hub-hub-centre-station (far hub pairs without a
    truck lane via their air hubs; a share of long air-region flow flies)."""
    pv = p.volume
    spop = lay.stations["population"].to_numpy(float)
    share = spop / spop.sum()
    cpop = lay.centres["population"].to_numpy(float)
    dist = pairwise_km(lay.centres["lat"].to_numpy(float), lay.centres["lon"].to_numpy(float))
    g = gravity(cpop, cpop, dist, pv.distance_scale_km, pv.distance_decay)
    np.fill_diagonal(g, 0)
    # centre x centre, between cities (none when the country has a single centre)
    od = volume * (1 - pv.intra_city_share) * g / g.sum() if g.sum() > 0 else np.zeros_like(g)
    nH = len(lay.hubs)
    ch = lay.centre_hub
    hub_od = np.zeros((nH, nH))
    np.add.at(hub_od, (ch[:, None].repeat(len(ch), 1), ch[None, :].repeat(len(ch), 0)), od)
    np.fill_diagonal(hub_od, 0)

    flow = np.zeros(len(lanes))
    key = {(r.from_kind, r.from_pos, r.to_kind, r.to_pos, r.mode): i
           for i, r in enumerate(lanes.itertuples())}
    for i, r in enumerate(lanes.itertuples()):
        if r.tier in ("first_mile", "last_mile"):
            flow[i] = volume * share[r.from_pos if r.tier == "first_mile" else r.to_pos]
        elif r.tier == "feeder":
            flow[i] = od[r.from_pos].sum() if r.from_kind == "C" else od[:, r.to_pos].sum()
    air_of = lay.hub_air
    for a in range(nH):
        for b in range(nH):
            f = hub_od[a, b]
            if a == b or f == 0:
                continue
            truck = key.get(("H", a, "H", b, "truck"))
            A, B = air_of[a], air_of[b]
            flies = ("H", A, "H", B, "air") in key
            air_part = f * p.air.air_share if flies else 0.0
            if truck is None and flies:
                air_part = f
            elif truck is not None:
                flow[truck] += f - air_part
            if air_part:
                flow[key[("H", A, "H", B, "air")]] += air_part
                for x, y in ((a, A), (B, b)):
                    if x != y and ("H", x, "H", y, "truck") in key:
                        flow[key[("H", x, "H", y, "truck")]] += air_part
    return flow


def _capacity(lanes: pd.DataFrame, trip_lane: np.ndarray, trip_load: np.ndarray, p: Params):
    """Vehicles per departure for each trip's daily load x headroom -> parcels per
    trip, and per lane the mean cost of its trips."""
    pc = p.capacity
    modes = lanes["mode"].to_numpy()[trip_lane]
    unit = pd.Series(modes).map(pc.parcels_per_vehicle).to_numpy(float)
    vehicles = np.maximum(1, np.ceil(trip_load * pc.headroom / unit)).astype(np.int64)
    one = vehicle_trip_cost(lanes["km"].to_numpy(), lanes["mode"].to_numpy(), p.costs)[trip_lane]
    n_trips = np.bincount(trip_lane, minlength=len(lanes))
    lane_cost = np.bincount(trip_lane, weights=vehicles * one, minlength=len(lanes)) / np.maximum(n_trips, 1)
    return vehicles * unit.astype(np.int64), lane_cost


def _sort_rates(lay: Layout, lanes: pd.DataFrame, flow: np.ndarray, p: Params):
    """Parcels per minute each sorter needs: daily inbound visits x headroom / sorting hours."""
    pc = p.capacity
    visits = {k: np.zeros(n) for k, n in (("S", len(lay.stations)), ("C", len(lay.centres)),
                                          ("H", len(lay.hubs)))}
    for kind, pos, f in zip(lanes["to_kind"], lanes["to_pos"], flow):
        visits[kind][pos] += f
    for kind, pos, f in zip(lanes["from_kind"], lanes["from_pos"], flow):
        if kind == "S":  # a parcel's first sort is at its origin station
            visits[kind][pos] += f
    hours = {"S": pc.station_sort_hours, "C": pc.centre_sort_hours, "H": pc.hub_sort_hours}
    return {k: np.maximum(1, np.ceil(v * pc.headroom / (hours[k] * 60))).astype(np.int64)
            for k, v in visits.items()}


# -- tables ------------------------------------------------------------------
def _fmt(x: np.ndarray, nd: int) -> list[str]:
    return [f"{v:.{nd}f}" for v in np.asarray(x, float)]


def _tables(places, lay: Layout, lanes, trips, flow, p) -> dict[str, pd.DataFrame]:
    sid, cid, hid = _ids(lay)
    fid = {"S": sid, "C": cid, "H": hid}
    rate = _sort_rates(lay, lanes, flow, p)
    pr = p.processing
    hub_tier = np.where(lay.hubs["air"].to_numpy(), "air_hub", "hub")
    hub_name = [f"{n} {'air hub' if a else 'regional hub'}" for n, a in
                zip(_city(lay.hubs), lay.hubs["air"])]
    fac = pd.concat([
        pd.DataFrame({"facility_id": hid, "kind": "hub", "name": hub_name,
                      "lat": _fmt(lay.hubs["lat"], 5), "lon": _fmt(lay.hubs["lon"], 5),
                      "sort_per_minute": rate["H"], "process_minutes": pr.hub_minutes,
                      "tier": hub_tier, "admin1": lay.hubs["admin1"]}),
        pd.DataFrame({"facility_id": cid, "kind": "hub",
                      "name": [f"{n} sorting centre" for n in _city(lay.centres)],
                      "lat": _fmt(lay.centres["lat"], 5), "lon": _fmt(lay.centres["lon"], 5),
                      "sort_per_minute": rate["C"], "process_minutes": pr.centre_minutes,
                      "tier": "centre", "admin1": lay.centres["admin1"]}),
        pd.DataFrame({"facility_id": sid, "kind": "station",
                      "name": [f"{n} station" for n in lay.stations["name"]],
                      "lat": _fmt(lay.stations["lat"], 5), "lon": _fmt(lay.stations["lon"], 5),
                      "sort_per_minute": rate["S"], "process_minutes": pr.station_minutes,
                      "tier": "station", "admin1": lay.stations["admin1"]}),
    ], ignore_index=True)
    frm = [fid[k][i] for k, i in zip(lanes["from_kind"], lanes["from_pos"])]
    to = [fid[k][i] for k, i in zip(lanes["to_kind"], lanes["to_pos"])]
    lane_id = [f"{a}>{b}" + ("/air" if m == "air" else "") for a, b, m in zip(frm, to, lanes["mode"])]
    trip_lane = trips["lane"].to_numpy()
    n_trips = np.bincount(trip_lane, minlength=len(lanes))
    cap, cost = _capacity(lanes, trip_lane, flow[trip_lane] / n_trips[trip_lane], p)
    lan = pd.DataFrame({"lane_id": lane_id, "from_facility": frm, "to_facility": to,
                        "mode": lanes["mode"], "duration_minutes": lanes["duration"],
                        "distance_km": _fmt(lanes["km"], 1), "cost_per_trip": _fmt(cost, 0),
                        "tier": lanes["tier"], "design_parcels_per_day": np.round(flow).astype(np.int64)})
    lane_of = np.asarray(lane_id, dtype=object)[trips["lane"].to_numpy()]
    tri = pd.DataFrame({"trip_id": [trip_id(l, m) for l, m in zip(lane_of, trips["departure"])],
                        "lane_id": lane_of, "departure_minute": trips["departure"],
                        "capacity": cap})
    waves = list(p.timetable.wave_minutes)
    wav = pd.DataFrame([(s, a, d) for s in sid for a, d in waves], columns=COLUMNS["waves.csv"])
    pla = places.drop(columns=[c for c in ("group",) if c in places]).copy()
    pla.insert(7, "station_id", sid[lay.place_station])
    pla["lat"], pla["lon"] = _fmt(pla["lat"], 5), _fmt(pla["lon"], 5)
    tables = {"facilities.csv": fac, "lanes.csv": lan, "trips.csv": tri, "waves.csv": wav,
              "places.csv": pla}
    return {k: v.astype(str) for k, v in tables.items()}


def _city(df: pd.DataFrame) -> list[str]:
    """A city-level name: the place's admin2 where it has one, else its own name."""
    a2 = df["admin2"] if "admin2" in df else pd.Series([""] * len(df))
    return [b if isinstance(b, str) and b and not b.isdigit() else n for n, b in zip(df["name"], a2)]


def _summary(country, lay: Layout, lanes: pd.DataFrame, volume: float) -> dict:
    return {"format": "PNF v1", "builder": f"parcelnet {__version__}", "country": country,
            "parcels_per_day": int(volume), "stations": len(lay.stations),
            "centres": len(lay.centres), "hubs": len(lay.hubs),
            "air_hubs": int(lay.hubs["air"].sum()),
            "lanes_by_tier": {t: int((lanes["tier"] == t).sum()) for t in TIERS}}
