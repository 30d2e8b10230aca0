"""A national backbone from real geography: the network layer of ``parcelnet build``.

Pipeline: places (``parcelnet.geo``) -> layout (stations, centres, hubs, air gateways and the
air hub; ``layout.py``) -> lanes with travel times (``links.py``, rules in ``lanes.py``) -> the
bank timetable around one overnight cycle (``timetable.py``) -> capacities and sorter rates
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
from parcelnet.network.lanes import trip_id, vehicle_trip_cost
from parcelnet.network.layout import Layout, centre_ids, plan_air, plan_layout, road_km
from parcelnet.network.links import TIERS, gateway_of, lay_lanes
from parcelnet.network.model import Network
from parcelnet.network.params import Params, load_params
from parcelnet.network.schema import COLUMNS
from parcelnet.network.timetable import bank_timetable, station_waves
from parcelnet.progress import Progress, or_none

__all__ = ["BUILD_STAGES", "TIERS", "Draft", "build_gravity_network", "centre_od", "draft_from_places",
           "draft_network", "sorting_lines"]
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
    lanes: pd.DataFrame          # links.LANE_COLUMNS + duration
    trips: pd.DataFrame          # lane (row of ``lanes``), departure (minute of day)
    volume: float                # parcels on a normal day
    od: np.ndarray               # gravity parcels a day between centres
    waves: list                  # per station: [(start minute of day, duration)]

    def network(self) -> Network:
        """The network with every trip and sorter sized by the gravity model's flows."""
        flow = _lane_flows(self.layout, self.lanes, self.od, self.volume, self.params)
        tables = _tables(self.places, self.layout, self.lanes, self.trips, flow, self.waves,
                         self.params)
        meta = {"params.toml": self.params.to_toml(),
                "build.json": json.dumps(_summary(self.country, self.layout, self.lanes, self.volume),
                                         indent=2) + "\n"}
        return Network.from_tables(tables, meta)

    def sized(self, net: Network, trip_load: np.ndarray, sorted_by_hour: np.ndarray) -> Network:
        """``net`` (from :meth:`network`) with capacities for a day's measured loads: each trip
        gets vehicles for ``trip_load`` (parcels a day, trips.csv order) x headroom, each
        sorter whole lines for the rate of its busiest hour of ``sorted_by_hour`` (facility x
        hour of day) x headroom x ``sorter_peak_factor`` (:func:`sorting_lines`); lane costs
        and design flows follow."""
        pc = self.params.capacity
        tt = net.timetable
        cap, cost = _capacity(self.lanes, tt.trip_lane, trip_load, self.params)
        lanes_csv = net.lanes.assign(cost_per_trip=_fmt(cost, 0), design_parcels_per_day=np.round(
            np.bincount(tt.trip_lane, weights=trip_load, minlength=len(self.lanes))).astype(np.int64))
        peak = sorted_by_hour.max(axis=1) * pc.headroom * pc.sorter_peak_factor
        station = net.facilities["kind"].to_numpy() == "station"
        lines, rate, sites = sorting_lines(peak / 60, station, self.params)
        fac = net.facilities.assign(sort_per_minute=rate, sort_lines=lines, sites=sites)
        return net.replace(facilities=fac, lanes=lanes_csv).with_capacities(cap)


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
    return draft_from_places(country, places, params, _volume(country, places, params),
                             refine_hubs=refine_hubs, progress=progress)


def draft_from_places(country: str, places: pd.DataFrame, params: Params, volume: float, *,
                      refine_hubs: HubRefiner | None = None,
                      progress: Progress | None = None) -> Draft:
    """Lay out and time a network over ``places`` (the columns of
    :func:`parcelnet.geo.load_places`) carrying ``volume`` parcels a day."""
    progress = or_none(progress)
    progress.start(BUILD_STAGES[1])
    lay = plan_layout(places, params, refine_hubs=refine_hubs)
    od = centre_od(lay, volume, params)
    lay = plan_air(lay, od, params)
    progress.start(BUILD_STAGES[2])
    lanes = lay_lanes(lay, od, params)
    S, C = lay.stations, lay.centres
    sc = lay.station_centre
    km = road_km(S["lat"], S["lon"], C["lat"].to_numpy()[sc], C["lon"].to_numpy()[sc], 1.0)
    waves = station_waves(lay, params, km)
    trips = bank_timetable(lay, lanes, params, waves, od)
    progress.finish()
    return Draft(country, params, places, lay, lanes, trips, volume, od, waves)


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
    hu = pd.Series([f"H{i + 1:02d}" for i in range(len(lay.hubs))])
    return st.to_numpy(), centre_ids(lay.centres), hu.to_numpy(), np.array(["A01"] if lay.has_air else [])


def centre_od(lay: Layout, volume: float, p: Params) -> np.ndarray:
    """Parcels a day between centres by the gravity model: the non-local share of ``volume``
    over centre pairs, ``flow(i,j) ~ pop_i * pop_j / (1 + d_ij / distance_scale_km)^decay``."""
    pv = p.volume
    cpop = lay.centres["population"].to_numpy(float)
    dist = pairwise_km(lay.centres["lat"].to_numpy(float), lay.centres["lon"].to_numpy(float))
    g = gravity(cpop, cpop, dist, pv.distance_scale_km, pv.distance_decay)
    np.fill_diagonal(g, 0)
    return volume * (1 - pv.intra_city_share) * g / g.sum() if g.sum() > 0 else np.zeros_like(g)


# -- volume and capacity -----------------------------------------------------
def _volume(country: str, places: pd.DataFrame, p: Params) -> float:
    """Parcels on a normal day: the parameter, else the country's population
    (GeoNames country info; the places' sum if unknown) x parcels per capita."""
    pv = p.volume
    if pv.parcels_per_day > 0:
        return float(pv.parcels_per_day)
    pop = country_info(country).get("population") or places["population"].sum()
    return float(pop * pv.parcels_per_capita_per_day)


def _lane_flows(lay: Layout, lanes: pd.DataFrame, od: np.ndarray, volume: float,
                p: Params) -> np.ndarray:
    """Design parcels per day on every lane (``capacity.method = "gravity"``): the gravity OD
    between centres, routed by a direct trunk where there is one, else through the regional
    hubs; ``air.air_share`` of the flow between gateway regions at least
    ``air.min_distance_km`` apart flies (direct or through the air hub)."""
    spop = lay.stations["population"].to_numpy(float)
    share = spop / spop.sum()
    key = {(r.from_kind, r.from_pos, r.to_kind, r.to_pos, r.mode): i
           for i, r in enumerate(lanes.itertuples())}
    flow = np.zeros(len(lanes))
    for i, r in enumerate(lanes.itertuples()):
        if r.tier in ("first_mile", "last_mile"):
            flow[i] = volume * share[r.from_pos if r.tier == "first_mile" else r.to_pos]

    on = lambda *k: key.get(k)  # noqa: E731

    nC = len(lay.centres)
    ch = lay.centre_hub
    gate = gateway_of(lay, p)
    gc = pairwise_km(lay.centres["lat"].to_numpy(float), lay.centres["lon"].to_numpy(float))
    trunk_of = {(r.from_pos, r.to_pos): i for i, r in enumerate(lanes.itertuples())
                if r.trunk and r.mode == "truck"}
    for a in range(nC):
        for b in range(nC):
            f = od[a, b]
            if a == b or f <= 0:
                continue
            t = trunk_of.get((a, b))
            if t is not None:
                flow[t] += f
                continue
            ga, gb = gate[a], gate[b]
            if ga >= 0 and gb >= 0 and ga != gb and gc[a, b] >= p.air.min_distance_km:
                air = f * p.air.air_share
                legs = [on("C", a, "C", int(ga), "truck") if a != ga else None,
                        on("C", int(gb), "C", b, "truck") if b != gb else None]
                direct = on("C", int(ga), "C", int(gb), "air")
                if direct is not None:
                    legs.append(direct)
                else:
                    legs += [on("C", int(ga), "A", 0, "air"), on("C", int(ga), "A", 0, "truck"),
                             on("A", 0, "C", int(gb), "air"), on("A", 0, "C", int(gb), "truck")]
                for l in legs:
                    if l is not None:
                        flow[l] += air
                f -= air
            ha, hb = ch[a], ch[b]
            for l in (on("C", a, "H", int(ha), "truck"), on("H", int(hb), "C", b, "truck"),
                      on("H", int(ha), "H", int(hb), "truck") if ha != hb else None):
                if l is not None:
                    flow[l] += f
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
    """Parcels a minute each sorter needs: daily inbound visits x headroom / sorting hours."""
    pc = p.capacity
    visits = {k: np.zeros(n) for k, n in (("S", len(lay.stations)), ("C", len(lay.centres)),
                                          ("H", len(lay.hubs)), ("A", int(lay.has_air)))}
    for kind, pos, f in zip(lanes["to_kind"], lanes["to_pos"], flow):
        visits[kind][pos] += f
    for kind, pos, f in zip(lanes["from_kind"], lanes["from_pos"], flow):
        if kind == "S":  # a parcel's first sort is at its origin station
            visits[kind][pos] += f
    hours = {"S": pc.station_sort_hours, "C": pc.centre_sort_hours, "H": pc.hub_sort_hours,
             "A": pc.hub_sort_hours}
    return {k: v * pc.headroom / (hours[k] * 60) for k, v in visits.items()}


def sorting_lines(rate, station, p: Params):
    """Whole sorting lines for a needed rate (parcels a minute): ``(lines, sort_per_minute,
    sites)``. A station's lines are delivery outlets of ``capacity.outlet_parcels_per_hour``
    (each its own site); other facilities' are cross-belt lines of
    ``capacity.line_parcels_per_hour``, ``capacity.lines_per_site`` to a sorting centre."""
    pc = p.capacity
    station = np.asarray(station, bool)
    per_line = np.where(station, pc.outlet_parcels_per_hour, pc.line_parcels_per_hour) / 60
    lines = np.maximum(1, np.ceil(np.round(np.asarray(rate, float) / per_line, 9))).astype(np.int64)
    rate = np.ceil(np.round(lines * per_line, 9)).astype(np.int64)
    sites = np.where(station, lines, -(-lines // pc.lines_per_site)).astype(np.int64)
    return lines, rate, sites


# -- tables ------------------------------------------------------------------
def _fmt(x: np.ndarray, nd: int) -> list[str]:
    return [f"{v:.{nd}f}" for v in np.asarray(x, float)]


def _tables(places, lay: Layout, lanes, trips, flow, waves, p) -> dict[str, pd.DataFrame]:
    sid, cid, hid, aid = _ids(lay)
    fid = {"S": sid, "C": cid, "H": hid, "A": aid}
    rate = _sort_rates(lay, lanes, flow, p)
    pr = p.processing
    C = lay.centres
    site = C.iloc[[lay.air_hub]] if lay.has_air else C.iloc[[]]
    ctier = np.where(np.isin(np.arange(len(C)), lay.gateways), "gateway", "centre")
    fac = pd.concat([
        pd.DataFrame({"facility_id": hid, "kind": "hub",
                      "name": [f"{n} regional hub" for n in _city(lay.hubs)],
                      "lat": _fmt(lay.hubs["lat"], 5), "lon": _fmt(lay.hubs["lon"], 5),
                      "sort_per_minute": rate["H"], "process_minutes": pr.hub_minutes,
                      "tier": "hub", "admin1": lay.hubs["admin1"]}),
        pd.DataFrame({"facility_id": aid, "kind": "hub",
                      "name": [f"{n} air hub" for n in _city(site)],
                      "lat": _fmt(site["lat"], 5), "lon": _fmt(site["lon"], 5),
                      "sort_per_minute": rate["A"], "process_minutes": p.air.hub_minutes,
                      "tier": "air_hub", "admin1": site["admin1"].to_numpy()}),
        pd.DataFrame({"facility_id": cid, "kind": "hub",
                      "name": [f"{n} sorting centre" for n in _city(C)],
                      "lat": _fmt(C["lat"], 5), "lon": _fmt(C["lon"], 5),
                      "sort_per_minute": rate["C"], "process_minutes": pr.centre_minutes,
                      "tier": ctier, "admin1": C["admin1"]}),
        pd.DataFrame({"facility_id": sid, "kind": "station",
                      "name": [f"{n} station" for n in lay.stations["name"]],
                      "lat": _fmt(lay.stations["lat"], 5), "lon": _fmt(lay.stations["lon"], 5),
                      "sort_per_minute": rate["S"], "process_minutes": pr.station_minutes,
                      "tier": "station", "admin1": lay.stations["admin1"]}),
    ], ignore_index=True)
    need = np.concatenate([rate["H"], rate["A"], rate["C"], rate["S"]])
    fac["sort_lines"], fac["sort_per_minute"], fac["sites"] = sorting_lines(
        need, fac["kind"].to_numpy() == "station", p)
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
    wav = pd.DataFrame([(s, a, d) for s, ws in zip(sid, waves) for a, d in ws],
                       columns=COLUMNS["waves.csv"])
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
            "gateways": len(lay.gateways), "air_hubs": int(lay.has_air),
            "lanes_by_tier": {t: int((lanes["tier"] == t).sum()) for t in TIERS}}
