"""Address to delivering station and the three-segment sort code on the label.

**Station.** On a national network (``parcelnet build --country CN``: one station per
county-level unit, places keyed by the county's MCA code) the station is the one whose
service area (``places.csv``) holds the address's county. In a township area (东莞, 中山, 儋州,
嘉峪关 and the townships 大兴安岭 and 海西 administer without a county) it is the station of the
address's township when that township is a place of its own (keyed by its 9-digit code),
else the area seat's (keyed by the prefecture's code): :func:`parcelnet.geo.address.place_of`.
Inside a city with its own station list and street map, :func:`nearest_by_road` gives the
station nearest by road travel time instead.

**Sort code** ``HUB-STATION-ROUTE`` (e.g. ``H14-S330106-07``), the 三段码 that sorters and
couriers read:

1. the regional hub that serves the station: the hub whose feeder brings the station's
   centre its parcels (the first sort, at the destination hub);
2. the station id (the second sort, at the centre, onto the station's van);
3. the courier route within the station: the township's position (01, 02, ...) among the
   county's townships (in a township area: the area's townships) in official code order, as
   stations assign couriers by street and township; ``00`` when the address names no
   township (the station's own sort decides).

Every address gets a station and code or a reason, never a wrong station silently.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.geo.address import gazetteer, parse_addresses, place_of
from parcelnet.geo.routing import RoutingProvider
from parcelnet.geo.snap import refuse_far
from parcelnet.network.model import Network


class Assigner:
    """Place (county, or township area) -> station, station -> hub, township -> route number,
    for one network."""

    def __init__(self, network: Network):
        pl = network.places
        st = network.facility_index[network.place_station]
        self.station_of = dict(zip(pl["place_id"].astype(str), st))
        self.hub_of = _hubs_of_stations(network)
        g = gazetteer()
        kids: dict[str, list[str]] = {}
        for code, lvl in g.level.items():
            if lvl == 4:
                kids.setdefault(g.parent[code], []).append(code)
        self.route_of = {c: i + 1 for k in kids.values() for i, c in enumerate(sorted(k))}

    def assign(self, parsed: pd.DataFrame) -> pd.DataFrame:
        g = gazetteer()
        df = parsed.copy()
        county = df["county_code"]
        held = place_of(df, self.station_of, g)
        df["station_id"] = held.map(self.station_of)
        df["hub_id"] = df["station_id"].map(self.hub_of)
        route = df["township_code"].map(self.route_of).fillna(0).astype(int)
        ok = df["error"].isna() & df["station_id"].notna() & df["hub_id"].notna()
        suffix = pd.Series([f"{r:02d}" for r in route], index=df.index, dtype=object)
        df["sort_code"] = np.where(ok, df["hub_id"].astype(str) + "-" + df["station_id"].astype(str) + "-"
                                   + suffix, None)
        reason = df["error"].copy()
        no_county = reason.isna() & county.isna() & df["station_id"].isna()
        place = df["prefecture_code"].where(df["prefecture_code"].notna(), df["province_code"])
        town = df["township_code"]
        reason[no_county] = [
            f"no station serves {g.full_name(p)} ({p}) in this network: it has no county-level units"
            if g.level.get(p) == 2 and p not in g.has_county
            else f"no station serves {g.full_name(t)} ({t}) in this network"
            if isinstance(t, str) else f"no county named after {g.full_name(p)}: cannot choose a station"
            for p, t in zip(place[no_county], town[no_county])]
        no_station = reason.isna() & df["station_id"].isna()
        reason[no_station] = [f"no station serves {g.full_name(c)} ({c}) in this network"
                              for c in county[no_station]]
        no_hub = reason.isna() & df["hub_id"].isna()
        reason[no_hub] = [f"station {s} has no hub above it in this network" for s in df["station_id"][no_hub]]
        df["reason"] = reason
        df["status"] = np.where(df["sort_code"].notna(), "ok", "rejected")
        return df.drop(columns=["error"])


def _hubs_of_stations(network: Network) -> dict:
    """Station -> the regional hub above it: the facility that feeds the station's centre
    (last-mile lane into the station, feeder lane into that centre)."""
    lanes = network.lanes
    fac = network.facilities.set_index("facility_id")
    if "tier" in lanes.columns:
        lm = lanes[lanes["tier"] == "last_mile"].groupby("to_facility")["from_facility"].first()
        fd = lanes[lanes["tier"] == "feeder"].groupby("to_facility")["from_facility"].first()
    else:
        lm = fd = lanes.groupby("to_facility")["from_facility"].first()
    regional = set(fac.index[fac["tier"].isin(["hub", "air_hub"])]) if "tier" in fac.columns else None
    out = {}
    for s in network.facility_index[network.stations]:
        h = fd.get(lm.get(s))
        if h is not None and (regional is None or h in regional):
            out[s] = h
    return out


def assign_addresses(network: Network, addresses, assigner: Assigner | None = None) -> pd.DataFrame:
    """Parse and assign: the parsed columns plus station_id, hub_id, sort_code, status, reason."""
    return (assigner or Assigner(network)).assign(parse_addresses(addresses))


def nearest_by_road(router: RoutingProvider, stations: pd.DataFrame, lat, lon) -> pd.DataFrame:
    """The station nearest by road (travel seconds from the station) to each point, by any
    routing provider; points no station reaches get no station and a reason. With a router
    on a street map (:func:`parcelnet.geo.routing.street_router`: it knows its snapping
    limit), a station off the map is refused and a point off it gets "no road within N m"."""
    lat, lon = np.asarray(lat, float), np.asarray(lon, float)
    s_lat, s_lon = stations["lat"].to_numpy(float), stations["lon"].to_numpy(float)
    limit = getattr(router, "max_snap_m", None)
    off = np.zeros(len(lat), bool)
    if limit is not None and hasattr(router, "snap_m"):
        refuse_far(stations, router.snap_m(s_lat, s_lon), limit, "station", "id")
        off = ~(router.snap_m(lat, lon) <= limit)
    m = router.matrix(s_lat, s_lon, lat, lon)
    reach = np.isfinite(m).any(axis=0)
    best = np.nanargmin(np.where(np.isfinite(m), m, np.inf), axis=0)
    ids = stations["id"].to_numpy()
    why = [None if r else f"no station reaches it by road: no road within {limit:g} m" if o
           else "no station reaches it by road" for r, o in zip(reach, off)]
    return pd.DataFrame({"station_id": pd.Series([ids[b] if r else None for b, r in zip(best, reach)], dtype=object),
                         "seconds": np.where(reach, m[best, np.arange(m.shape[1])], np.nan),
                         "reason": pd.Series(why, dtype=object)})
