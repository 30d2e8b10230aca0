"""Which lanes the builder lays (docs/network.md §3).

Facilities are addressed by ``(kind, position)``: ``S`` stations, ``C`` city sorting centres,
``H`` regional hubs and ``A`` the air hub, positions into the layout's tables. Every lane row
carries its PNF tier and the roles that decide its departures in the bank timetable
(:mod:`parcelnet.network.timetable`):

- ``first_mile`` / ``last_mile``: station <-> its centre, by van (truck beyond ``van_max_km``);
- ``feeder``: centre <-> its regional hub, and the air hub's own city centre <-> the air hub;
- ``linehaul``: hub -> hub within ``timetable.max_truck_hub_km``;
- ``trunk``: centre -> centre, direct, where the gravity flow warrants a truck a day
  (``trunks.*``); role ``collect`` for a centre's trunk to its air gateway, ``distribute`` for
  a gateway's trunk to the centres it serves after the night flights;
- ``air``: gateway -> air hub and back (the night sort), and direct flights between gateway
  pairs with a freighter's flow.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.geo import pairwise_km
from parcelnet.network.lanes import lane_minutes
from parcelnet.network.layout import Layout, road_km
from parcelnet.network.params import Params

#: Lane tiers the builder lays, in the order of a parcel's journey.
TIERS = ("first_mile", "feeder", "linehaul", "trunk", "air", "last_mile")
#: Columns of the builder's lane table.
LANE_COLUMNS = ("tier", "from_kind", "from_pos", "to_kind", "to_pos", "mode", "km", "city_ends",
                "trunk", "collect", "distribute")


def gateway_of(lay: Layout, p: Params) -> np.ndarray:
    """Per centre, the gateway (a centre position) that serves it: itself for a gateway, else
    the nearest gateway by road within ``air.distribution_km``; -1 for none."""
    C = lay.centres
    out = np.full(len(C), -1, np.int64)
    if not lay.has_air:
        return out
    g = lay.gateways
    road = road_km(C["lat"].to_numpy(float)[:, None], C["lon"].to_numpy(float)[:, None],
                   C["lat"].to_numpy(float)[g][None, :], C["lon"].to_numpy(float)[g][None, :],
                   p.speeds.circuity)
    near = np.argmin(road, axis=1)
    ok = road[np.arange(len(C)), near] <= p.air.distribution_km
    out[ok] = g[near[ok]]
    out[g] = g
    return out


def lay_lanes(lay: Layout, centre_od: np.ndarray, p: Params) -> pd.DataFrame:
    """The lanes of ``lay``: one row per lane with from/to ``(kind, position)``, mode, km
    (road; great-circle for air), the air lane's city ends, its roles and its duration."""
    sp = p.speeds
    rows: dict[tuple, dict] = {}

    def add(tier, fk, fi, tk, ti, km, mode, city_ends=0, **roles):
        key = (fk, int(fi), tk, int(ti), mode)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"tier": tier, "from_kind": fk, "from_pos": int(fi), "to_kind": tk,
                               "to_pos": int(ti), "mode": mode, "km": float(km),
                               "city_ends": city_ends, "trunk": False, "collect": False,
                               "distribute": False}
        for r, v in roles.items():
            row[r] = row[r] or v

    S, C, H = lay.stations, lay.centres, lay.hubs
    clat, clon = C["lat"].to_numpy(float), C["lon"].to_numpy(float)
    sc = lay.station_centre
    km = road_km(S["lat"], S["lon"], clat[sc], clon[sc], sp.circuity)
    for s, (c, d) in enumerate(zip(sc, km)):
        mode = "van" if d <= sp.van_max_km else "truck"
        add("first_mile", "S", s, "C", c, d, mode)
        add("last_mile", "C", c, "S", s, d, mode)
    ch = lay.centre_hub
    km = road_km(clat, clon, H["lat"].to_numpy()[ch], H["lon"].to_numpy()[ch], sp.circuity)
    for c, (h, d) in enumerate(zip(ch, km)):
        add("feeder", "C", c, "H", h, d, "truck")
        add("feeder", "H", h, "C", c, d, "truck")
    hlat, hlon = H["lat"].to_numpy(float), H["lon"].to_numpy(float)
    gc = pairwise_km(hlat, hlon)
    for a in range(len(H)):
        for b in range(len(H)):
            if a != b and gc[a, b] * sp.circuity <= p.timetable.max_truck_hub_km:
                add("linehaul", "H", a, "H", b, gc[a, b] * sp.circuity, "truck")

    cgc = pairwise_km(clat, clon)
    croad = np.maximum(1.0, cgc * sp.circuity)
    pt = p.trunks
    ii, jj = np.nonzero((centre_od >= pt.min_parcels_per_day) & (croad <= pt.max_km))
    for i, j in zip(ii, jj):
        if i != j:
            add("trunk", "C", i, "C", j, croad[i, j], "truck", trunk=True)

    if lay.has_air:
        pa = p.air
        g = lay.gateways
        site = lay.air_hub
        for x in g:
            if x == site:
                add("feeder", "C", x, "A", 0, 1.0, "truck")
                add("feeder", "A", 0, "C", x, 1.0, "truck")
            else:
                add("air", "C", x, "A", 0, cgc[x, site], "air", city_ends=1)
                add("air", "A", 0, "C", x, cgc[x, site], "air", city_ends=1)
        for x in g:
            for y in g:
                if x != y and cgc[x, y] >= pa.min_distance_km and centre_od[x, y] >= pa.direct_min_parcels:
                    add("air", "C", x, "C", y, cgc[x, y], "air", city_ends=2)
        # each other centre within reach is served by (and collects to) its nearest gateway
        for c, x in enumerate(gateway_of(lay, p)):
            if x >= 0 and c != x:
                add("trunk", "C", x, "C", c, croad[x, c], "truck", distribute=True)
                add("trunk", "C", c, "C", x, croad[c, x], "truck", collect=True)

    df = pd.DataFrame(list(rows.values()), columns=list(LANE_COLUMNS))
    df["duration"] = lane_minutes(df["km"].to_numpy(), df["mode"].to_numpy(), sp,
                                  df["city_ends"].to_numpy())
    return df
