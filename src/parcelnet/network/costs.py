"""What a network costs a day, and per parcel: line-haul plus sorting, the figure the large
carriers publish (docs/network.md §5).

- **Line-haul**: every trip of the ``feeder``, ``linehaul``, ``trunk`` and ``air`` tiers at its
  lane's ``cost_per_trip`` (the vehicles the trip runs), a day.
- **Sorting**: the sorting lines of every facility but the stations (``sort_lines`` in
  facilities.csv where given; else the lines its ``sort_per_minute`` needs, none for a
  warehouse) at ``costs.sort_line_per_day``.
- **Pickup and delivery** (``first_mile``, ``last_mile``; the stations' outlets) are reported
  apart: ZTO's published unit costs leave them to its network partners.

Per parcel means over the network's parcels a day (``build.json``; else the first mile's design
loads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from parcelnet.network.model import Network
from parcelnet.network.params import Params, from_toml_text, load_params
from parcelnet.network.schema import LANE_MODES

#: Lane tiers counted as line-haul.
LINE_HAUL_TIERS = ("feeder", "linehaul", "trunk", "air")
#: Lane tiers of pickup and delivery.
LOCAL_TIERS = ("first_mile", "last_mile")
#: ZTO Express, 2023 (RMB per parcel): line-haul transportation about 0.45 (China Post
#: Securities' FY2024 0.41, down 8.9%), sorting-hub operation about 0.28 (H1 2023: RMB 3,948.0 M
#: over about 13.97 bn parcels). Sources in docs/network.md §5.
ZTO_2023 = {"line_haul": 0.45, "sorting": 0.28}


@dataclass(frozen=True)
class DailyCost:
    """A network's cost a day (CNY) and per parcel."""

    parcels_per_day: int
    lane_cost_by_tier: dict[str, float]     # CNY a day
    sorting_lines: int                      # centres, gateways, hubs, air hubs
    sorting_sites: int
    sorting_cost: float                     # CNY a day
    outlets: int                            # the stations' delivery outlets
    flights: int                            # freighter departures a day
    trucks: int                             # line-haul truck departures a day

    @property
    def line_haul(self) -> float:
        return float(sum(self.lane_cost_by_tier.get(t, 0.0) for t in LINE_HAUL_TIERS))

    @property
    def line_haul_per_parcel(self) -> float:
        return self.line_haul / max(self.parcels_per_day, 1)

    @property
    def sorting_per_parcel(self) -> float:
        return self.sorting_cost / max(self.parcels_per_day, 1)

    @property
    def per_parcel(self) -> float:
        """Line-haul plus sorting, per parcel."""
        return self.line_haul_per_parcel + self.sorting_per_parcel

    @property
    def local_per_parcel(self) -> float:
        """Pickup and delivery vans, per parcel (not in :attr:`per_parcel`)."""
        return sum(self.lane_cost_by_tier.get(t, 0.0) for t in LOCAL_TIERS) / max(self.parcels_per_day, 1)

    def to_dict(self) -> dict:
        return {**asdict(self), "line_haul_per_parcel": round(self.line_haul_per_parcel, 4),
                "sorting_per_parcel": round(self.sorting_per_parcel, 4),
                "per_parcel": round(self.per_parcel, 4),
                "local_per_parcel": round(self.local_per_parcel, 4), "zto_2023": ZTO_2023}


def daily_cost(network: Network, params: Params | None = None) -> DailyCost:
    """The daily cost of ``network`` (its own ``params.toml`` when it has one, else ``params``
    or the defaults)."""
    params = params or _params_of(network)
    tt = network.timetable
    lanes = network.lanes
    tier = lanes["tier"].to_numpy() if "tier" in lanes else np.full(len(lanes), "", object)
    per_trip = lanes["cost_per_trip"].astype(float).to_numpy()
    trips = np.bincount(tt.trip_lane, minlength=len(lanes))
    cost = per_trip * trips
    by_tier = {str(t): float(cost[tier == t].sum()) for t in dict.fromkeys(tier) if t}
    fac = network.facilities
    station = fac["kind"].to_numpy() == "station"
    pc = params.capacity
    rate = tt.sort_per_minute.astype(float)
    per_line = np.where(station, pc.outlet_parcels_per_hour, pc.line_parcels_per_hour) / 60
    lines = np.ceil(rate / per_line).astype(np.int64)
    if "sort_lines" in fac:       # the column where given (a warehouse added later has none)
        given = pd.to_numeric(fac["sort_lines"], errors="coerce").to_numpy()
        lines = np.where(np.isnan(given), lines, np.nan_to_num(given)).astype(np.int64)
    sorting = int(lines[~station].sum())
    sites = int(np.ceil(lines[~station] / pc.lines_per_site).sum())
    ppd = network.parcels_per_day
    if not ppd:
        fm = tier == "first_mile"
        ppd = int(lanes["design_parcels_per_day"].astype(float)[fm].sum()) \
            if "design_parcels_per_day" in lanes else 0
    mode = tt.lane_mode[tt.trip_lane]
    haul = np.isin(tier[tt.trip_lane], LINE_HAUL_TIERS)
    vehicles = _vehicles(network, params)
    return DailyCost(
        parcels_per_day=int(ppd), lane_cost_by_tier=by_tier, sorting_lines=sorting,
        sorting_sites=sites, sorting_cost=float(sorting * params.costs.sort_line_per_day),
        outlets=int(lines[station].sum()),
        flights=int(vehicles[haul & (mode == LANE_MODES.index("air"))].sum()),
        trucks=int(vehicles[haul & (mode == LANE_MODES.index("truck"))].sum()))


def _vehicles(network: Network, params: Params) -> np.ndarray:
    """Vehicles each trip runs: its capacity over one vehicle's parcels."""
    tt = network.timetable
    unit = np.array([params.capacity.parcels_per_vehicle(m) if m in ("van", "truck", "air") else 1
                     for m in LANE_MODES], float)[tt.lane_mode[tt.trip_lane]]
    return np.maximum(1, np.ceil(np.round(tt.trip_capacity / unit, 9))).astype(np.int64)


def _params_of(network: Network) -> Params:
    text = network.meta.get("params.toml")
    if text:
        return from_toml_text(text)
    return load_params(network.country or "XX")
