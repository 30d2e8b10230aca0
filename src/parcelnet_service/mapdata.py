"""What the web page draws, as GeoJSON and plain data: the network (province outlines,
hubs, centres and stations, hub lanes), live volumes per facility, and the 24-hour coverage
from one origin at one order hour."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from sqlalchemy import func, select

from parcelnet.network.model import Network

from parcelnet_service.db.engine import plan_for_values
from parcelnet_service.db.models import Shipment
from parcelnet_service.tracking import TERMINAL

#: facility tiers drawn as markers; stations go in a plain table (there are thousands)
MARKED = ("air_hub", "hub", "gateway", "centre")
#: lane tiers drawn as lines
LINES = ("linehaul", "air")


def _ring(r: np.ndarray) -> list:
    return [[round(float(x), 3), round(float(y), 3)] for x, y in r]


@lru_cache(maxsize=4)
def network_geojson(network: Network, country: str = "CN") -> dict:
    from parcelnet.geo.outlines import load_outlines

    f = network.facilities
    feats = []
    for name, rings in load_outlines(country):
        feats.append({"type": "Feature", "properties": {"layer": "province", "name": name},
                      "geometry": {"type": "MultiPolygon", "coordinates": [[_ring(r)] for r in rings]}})
    tiers = f["tier"] if "tier" in f.columns else f["kind"]
    pos = {}
    for fid, name, tier, lat, lon in zip(f["facility_id"].astype(str), f["name"].astype(str), tiers,
                                         f["lat"].astype(float), f["lon"].astype(float)):
        pos[fid] = (round(lon, 4), round(lat, 4))
        if tier in MARKED:
            feats.append({"type": "Feature", "properties": {"layer": "facility", "id": fid, "name": name,
                                                            "tier": tier},
                          "geometry": {"type": "Point", "coordinates": list(pos[fid])}})
    lanes = network.lanes
    tier_col = lanes["tier"] if "tier" in lanes.columns else lanes["mode"]
    for lid, a, b, tier in zip(lanes["lane_id"], lanes["from_facility"], lanes["to_facility"], tier_col):
        if tier in LINES:
            feats.append({"type": "Feature", "properties": {"layer": "lane", "id": str(lid), "tier": tier},
                          "geometry": {"type": "LineString", "coordinates": [list(pos[a]), list(pos[b])]}})
    stations = {fid: [*pos[fid], n] for fid, n, k in zip(f["facility_id"].astype(str), f["name"].astype(str),
                                                          f["kind"]) if k == "station"}
    return {"type": "FeatureCollection", "features": feats, "stations": stations,
            "positions": {k: list(v) for k, v in pos.items()}}


def volumes(session, tenant_id: int | None, kind: str) -> dict[str, int]:
    """Parcels not yet delivered, by the facility where they are (their origin station
    before the first scan): the tenant's, or every tenant's for the platform."""
    plan_for_values(session)
    where = func.coalesce(Shipment.location, Shipment.origin_station)
    q = select(where, func.count()).where(Shipment.status.notin_(TERMINAL)).group_by(where)
    if kind == "merchant":
        q = q.where(Shipment.tenant_id == tenant_id)
    elif kind == "carrier":
        q = q.where(Shipment.carrier_id == tenant_id)
    return {str(k): int(n) for k, n in session.execute(q)}


def coverage_points(network: Network, origin: str, hour: int) -> dict:
    """Every station's promised hours from ``origin`` for an order at ``hour``:00, and the
    population share reached within 24 hours."""
    from parcelnet.promise.coverage import coverage

    cov = coverage(network, [origin], created_minutes=[hour * 60])
    ids = network.facility_index[network.stations]
    hours = cov.station_hours
    return {"origin": origin, "hour": hour, "share_24h": round(cov.population_share_24h, 4),
            "hours": {str(s): (None if not np.isfinite(h) else round(float(h), 1)) for s, h in zip(ids, hours)}}
