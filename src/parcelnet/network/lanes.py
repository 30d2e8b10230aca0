"""The lane rules of the builder, used by ``parcelnet build`` and by service design when it
adds lanes, so that the two never drift apart.

- **Duration** (whole minutes): road km (air: great-circle km) at the mode's speed
  (``speeds.van_kmh``, ``truck_kmh``, ``air_kmh``), rounded up; an air lane adds ground
  handling at each end: ``speeds.air_ground_minutes`` at a city (gateway) end,
  ``speeds.air_hub_ground_minutes`` at an air hub end; at least :data:`MIN_LANE_MINUTES`.
- **Cost of a trip** (CNY): per vehicle ``costs.<mode>_fixed + costs.<mode>_per_km x km``,
  times the vehicles the trip runs.
- **Trip ids**: ``LANE@HHMM`` (the departure's time of day).
"""

from __future__ import annotations

import numpy as np

from parcelnet.network.params import Costs, Speeds
from parcelnet.units import HOUR, hhmm

#: The shortest lane (minutes): loading and unloading alone take that long.
MIN_LANE_MINUTES = 5
MODES_BUILT = ("van", "truck", "air")


def lane_minutes(km, mode, speeds: Speeds, city_ends=2) -> np.ndarray:
    """Duration in minutes of lanes of ``km`` by ``mode`` (arrays of the same length, or
    scalars). ``city_ends`` (0, 1 or 2, per lane) counts the ends of an air lane at a city
    gateway; the others are at an air hub."""
    km = np.asarray(km, np.float64)
    mode = np.asarray(mode)
    speed = np.select([mode == "van", mode == "truck", mode == "air"],
                      [speeds.van_kmh, speeds.truck_kmh, speeds.air_kmh], np.nan)
    minutes = np.ceil(km / speed * HOUR).astype(np.int64)
    ends = np.asarray(city_ends, np.int64)
    ground = ends * int(speeds.air_ground_minutes) + (2 - ends) * int(speeds.air_hub_ground_minutes)
    minutes = minutes + np.where(mode == "air", ground, 0)
    return np.maximum(minutes, MIN_LANE_MINUTES)


def vehicle_trip_cost(km, mode, costs: Costs) -> np.ndarray:
    """Cost (CNY) of one vehicle's trip of ``km`` by ``mode``."""
    km = np.asarray(km, np.float64)
    mode = np.asarray(mode)
    fixed = np.select([mode == m for m in MODES_BUILT], [costs.per_trip(m)[0] for m in MODES_BUILT], np.nan)
    per_km = np.select([mode == m for m in MODES_BUILT], [costs.per_trip(m)[1] for m in MODES_BUILT], np.nan)
    return fixed + per_km * km


def trip_id(lane_id: str, departure_minute: int) -> str:
    """``LANE@HHMM`` for a departure at that minute of day."""
    return f"{lane_id}@{hhmm(departure_minute).replace(':', '')}"
