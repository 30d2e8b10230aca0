"""The parcelnet network format, PNF v1: file names, required columns, domains.

See ``docs/format.md`` for the normative description. Everything here is
data, so the reader, the writer and the docs stay in step.
"""

from __future__ import annotations

FORMAT_VERSION = "PNF v1"

FACILITY_KINDS = ("warehouse", "hub", "station", "store", "pickup_point")
LANE_MODES = ("truck", "air", "rail", "van")

#: file -> required columns, in the order the format defines them.
COLUMNS: dict[str, tuple[str, ...]] = {
    "facilities.csv": ("facility_id", "kind", "name", "lat", "lon",
                       "sort_per_minute", "process_minutes"),
    "lanes.csv": ("lane_id", "from_facility", "to_facility", "mode",
                  "duration_minutes", "distance_km", "cost_per_trip"),
    "trips.csv": ("trip_id", "lane_id", "departure_minute", "capacity"),
    "waves.csv": ("station_id", "start_minute", "duration_minutes"),
    "places.csv": ("place_id", "name", "lat", "lon", "population",
                   "admin1", "admin2", "station_id"),
}

FILES = tuple(COLUMNS)
