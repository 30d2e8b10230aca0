"""The frozen, validated :class:`Network` and its compiled arrays.

A network keeps the five PNF tables exactly as read (all strings, extra
columns and row order preserved, so writing them back changes nothing) and,
next to them, integer arrays the engines use: facility indices, minutes,
capacities, and CSR adjacency. Build one with :func:`Network.from_tables`
(validates once); engines trust it afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from parcelnet.errors import NotFoundError, ValidationError
from parcelnet import tables as v
from parcelnet.network.schema import COLUMNS, FACILITY_KINDS, LANE_MODES
from parcelnet.units import DAY

STATION = FACILITY_KINDS.index("station")
HUB = FACILITY_KINDS.index("hub")


def _csr(keys: np.ndarray, n: int, order_by: np.ndarray | None = None):
    """Row pointer and permutation grouping ``keys`` (0..n-1), stable."""
    order = np.lexsort((order_by, keys)) if order_by is not None else np.argsort(keys, kind="stable")
    ptr = np.zeros(n + 1, dtype=np.int64)
    np.add.at(ptr, keys + 1, 1)
    return np.cumsum(ptr), order


@dataclass(frozen=True, eq=False)
class Timetable:
    """Integer arrays of a network: what the promise and simulation cores read."""

    process: np.ndarray          # int64[n_fac]
    sort_per_minute: np.ndarray  # int64[n_fac]
    kind: np.ndarray             # int8[n_fac], index into FACILITY_KINDS
    lane_from: np.ndarray        # int64[n_lane]
    lane_to: np.ndarray          # int64[n_lane]
    lane_duration: np.ndarray    # int64[n_lane]
    lane_mode: np.ndarray        # int8[n_lane], index into LANE_MODES
    out_ptr: np.ndarray          # CSR: lanes leaving facility f are out_lane[out_ptr[f]:out_ptr[f+1]]
    out_lane: np.ndarray
    in_ptr: np.ndarray           # CSR: lanes entering facility f are in_lane[in_ptr[f]:in_ptr[f+1]]
    in_lane: np.ndarray
    dep_ptr: np.ndarray          # CSR: distinct departure minutes of lane l, sorted
    dep_minute: np.ndarray
    trip_lane: np.ndarray        # int64[n_trip]
    trip_departure: np.ndarray   # int64[n_trip]
    trip_capacity: np.ndarray    # int64[n_trip]
    wave_ptr: np.ndarray         # CSR over facilities: waves sorted by start
    wave_start: np.ndarray
    wave_duration: np.ndarray

    @property
    def n_facilities(self) -> int:
        return len(self.process)


@dataclass(frozen=True, eq=False)
class Network:
    """A validated PNF v1 network. ``tables`` holds the files as read."""

    tables: dict[str, pd.DataFrame]
    timetable: Timetable
    facility_index: pd.Index          # facility_id -> position
    lane_index: pd.Index              # lane_id -> position
    place_station: np.ndarray         # int64[n_place], facility position
    place_population: np.ndarray      # int64[n_place]
    meta: dict[str, str] = field(default_factory=dict)  # other small files of the folder, verbatim

    # -- construction -------------------------------------------------------
    @classmethod
    def from_tables(cls, tables: dict[str, pd.DataFrame],
                    meta: dict[str, str] | None = None) -> Network:
        """Validate the five tables (all-string DataFrames) and compile them."""
        for file, cols in COLUMNS.items():
            if file not in tables:
                raise ValidationError("file is missing", file=file)
            missing = [c for c in cols if c not in tables[file].columns]
            if missing:
                raise ValidationError(f"missing column '{missing[0]}'", file=file, row=1,
                                      field=missing[0])
        fac, lan, tri, wav, pla = (tables[f] for f in COLUMNS)

        f = "facilities.csv"
        fac_ids = v.ids(fac, f, "facility_id")
        kind = v.choice(fac, f, "kind", FACILITY_KINDS)
        v.floats(fac, f, "lat", -90, 90)
        v.floats(fac, f, "lon", -180, 180)
        spm = v.ints(fac, f, "sort_per_minute", 0)
        proc = v.ints(fac, f, "process_minutes", 0)
        fidx = pd.Index(fac_ids)

        f = "lanes.csv"
        lane_ids = v.ids(lan, f, "lane_id")
        lfrom = v.refs(lan, f, "from_facility", fidx, "facility")
        lto = v.refs(lan, f, "to_facility", fidx, "facility")
        if (lfrom == lto).any():
            i = int(np.flatnonzero(lfrom == lto)[0])
            raise ValidationError("a lane must join two different facilities", file=f,
                                  row=i + 2, field="to_facility")
        mode = v.choice(lan, f, "mode", LANE_MODES)
        dur = v.ints(lan, f, "duration_minutes", 1)
        v.floats(lan, f, "distance_km", 0)
        v.floats(lan, f, "cost_per_trip", 0)
        lidx = pd.Index(lane_ids)

        f = "trips.csv"
        v.ids(tri, f, "trip_id")
        tlane = v.refs(tri, f, "lane_id", lidx, "lane")
        tdep = v.ints(tri, f, "departure_minute", 0, DAY - 1)
        tcap = v.ints(tri, f, "capacity", 1)
        no_trip = np.setdiff1d(np.arange(len(lane_ids)), tlane)
        if len(no_trip):
            i = int(no_trip[0])
            raise ValidationError(f"lane '{lane_ids[i]}' has no trips in trips.csv",
                                  file="lanes.csv", row=i + 2, field="lane_id")

        f = "waves.csv"
        wst = v.refs(wav, f, "station_id", fidx, "facility")
        not_station = kind[wst] != STATION
        if not_station.any():
            i = int(np.flatnonzero(not_station)[0])
            raise ValidationError(f"'{wav['station_id'].iloc[i]}' is not a station", file=f,
                                  row=i + 2, field="station_id")
        wstart = v.ints(wav, f, "start_minute", 0, DAY - 1)
        wdur = v.ints(wav, f, "duration_minutes", 0)
        stations = np.flatnonzero(kind == STATION)
        no_wave = np.setdiff1d(stations, wst)
        if len(no_wave):
            i = int(no_wave[0])
            raise ValidationError(f"station '{fac_ids[i]}' has no delivery waves in waves.csv",
                                  file="facilities.csv", row=i + 2, field="facility_id")

        f = "places.csv"
        v.ids(pla, f, "place_id")
        v.floats(pla, f, "lat", -90, 90)
        v.floats(pla, f, "lon", -180, 180)
        pop = v.ints(pla, f, "population", 0)
        pst = v.refs(pla, f, "station_id", fidx, "facility")
        if (kind[pst] != STATION).any():
            i = int(np.flatnonzero(kind[pst] != STATION)[0])
            raise ValidationError(f"'{pla['station_id'].iloc[i]}' is not a station", file=f,
                                  row=i + 2, field="station_id")

        n = len(fac_ids)
        out_ptr, out_lane = _csr(lfrom, n)
        in_ptr, in_lane = _csr(lto, n)
        # distinct departure minutes per lane (capacity is ignored by promises)
        pairs = np.unique(tlane * DAY + tdep)
        dlane, dmin = pairs // DAY, pairs % DAY
        dep_ptr, _ = _csr(dlane, len(lane_ids))
        # waves by start, and among waves starting together the one ending first
        wave_ptr, worder = _csr(wst, n, order_by=wstart * (1 << 32) + wdur)
        tt = Timetable(
            process=proc, sort_per_minute=spm, kind=kind,
            lane_from=lfrom, lane_to=lto, lane_duration=dur, lane_mode=mode,
            out_ptr=out_ptr, out_lane=out_lane.astype(np.int64),
            in_ptr=in_ptr, in_lane=in_lane.astype(np.int64),
            dep_ptr=dep_ptr, dep_minute=dmin.astype(np.int64),
            trip_lane=tlane, trip_departure=tdep, trip_capacity=tcap,
            wave_ptr=wave_ptr, wave_start=wstart[worder], wave_duration=wdur[worder],
        )
        return cls(tables=dict(tables), timetable=tt, facility_index=fidx, lane_index=lidx,
                   place_station=pst, place_population=pop, meta=dict(meta or {}))

    # -- variants -----------------------------------------------------------
    def replace(self, *, facilities: pd.DataFrame | None = None, lanes: pd.DataFrame | None = None,
                trips: pd.DataFrame | None = None, waves: pd.DataFrame | None = None,
                places: pd.DataFrame | None = None, meta: dict[str, str] | None = None) -> Network:
        """A new network with some tables (all-string DataFrames) or the meta files replaced,
        validated again; this one is unchanged."""
        tables = dict(self.tables)
        for file, df in (("facilities.csv", facilities), ("lanes.csv", lanes),
                         ("trips.csv", trips), ("waves.csv", waves), ("places.csv", places)):
            if df is not None:
                tables[file] = df.reset_index(drop=True).astype(str)
        return Network.from_tables(tables, self.meta if meta is None else meta)

    def with_capacities(self, trip_capacity=None, sort_per_minute=None) -> Network:
        """A new network with these trip capacities (parcels, trips.csv order) and sorter
        rates (parcels a minute, facilities.csv order; 0 = unlimited)."""
        fac = trips = None
        if trip_capacity is not None:
            trips = self.tables["trips.csv"].assign(
                capacity=np.asarray(trip_capacity, np.int64).astype(str))
        if sort_per_minute is not None:
            fac = self.tables["facilities.csv"].assign(
                sort_per_minute=np.asarray(sort_per_minute, np.int64).astype(str))
        return self.replace(facilities=fac, trips=trips)

    # -- look-ups -----------------------------------------------------------
    @cached_property
    def _facility_pos(self) -> dict[str, int]:
        return {f: i for i, f in enumerate(self.facility_index)}

    @cached_property
    def lane_id_array(self) -> np.ndarray:
        return np.asarray(self.lane_index, dtype=object)

    def facility(self, facility_id: str) -> int:
        """Position of a facility id; unknown ids raise NotFoundError."""
        pos = self._facility_pos.get(facility_id)
        if pos is None:
            raise NotFoundError(f"unknown facility '{facility_id}'")
        return pos

    def station(self, station_id: str) -> int:
        pos = self.facility(station_id)
        if self.timetable.kind[pos] != STATION:
            raise NotFoundError(f"'{station_id}' is a {FACILITY_KINDS[self.timetable.kind[pos]]}, not a station")
        return pos

    @property
    def facilities(self) -> pd.DataFrame:
        return self.tables["facilities.csv"]

    @property
    def lanes(self) -> pd.DataFrame:
        return self.tables["lanes.csv"]

    @property
    def places(self) -> pd.DataFrame:
        return self.tables["places.csv"]

    @cached_property
    def stations(self) -> np.ndarray:
        return np.flatnonzero(self.timetable.kind == STATION)

    @cached_property
    def station_population(self) -> np.ndarray:
        """Population served by each station (float, in the order of :attr:`stations`)."""
        pop = np.bincount(self.place_station, weights=self.place_population.astype(float),
                          minlength=self.timetable.n_facilities)
        return pop[self.stations]

    @cached_property
    def hubs(self) -> np.ndarray:
        return np.flatnonzero(self.timetable.kind == HUB)

    @cached_property
    def lat_lon(self) -> np.ndarray:
        fac = self.facilities
        return np.column_stack([fac["lat"].astype(float), fac["lon"].astype(float)])

    @cached_property
    def country(self) -> str | None:
        """The ISO country code the network was built for (its build.json), if known."""
        try:
            return json.loads(self.meta.get("build.json", "{}")).get("country")
        except (json.JSONDecodeError, AttributeError):
            return None

    @cached_property
    def parcels_per_day(self) -> int | None:
        """The normal day's volume the network was built for (its build.json), if known."""
        try:
            v = json.loads(self.meta.get("build.json", "{}")).get("parcels_per_day")
        except (json.JSONDecodeError, AttributeError):
            return None
        return int(v) if isinstance(v, (int, float)) and v > 0 else None

    def lane_ids(self, lanes: np.ndarray) -> list[str]:
        return self.lane_id_array[lanes].tolist()

    def find(self, text: str, kind: str | None = None, limit: int | None = 20) -> pd.DataFrame:
        """Facilities by id, name, or the names of the places they serve, best matches first
        (:func:`parcelnet.network.search.find_facilities`)."""
        from parcelnet.network.search import find_facilities
        return find_facilities(self, text, kind, limit)

    def station_of_place(self, place_id: str) -> str:
        """The station serving a place (places.csv ``place_id``, e.g. a county code)."""
        hit = self.places.loc[self.places["place_id"] == str(place_id), "station_id"]
        if hit.empty:
            raise NotFoundError(f"no place with id {place_id} in this network")
        return str(hit.iloc[0])

    def centre_of_station(self, station_id: str) -> str:
        """The facility a station's first-mile lane leads to (its sorting centre)."""
        s = self.station(station_id)
        tt = self.timetable
        lanes = tt.out_lane[tt.out_ptr[s]:tt.out_ptr[s + 1]]
        if len(lanes) == 0:
            raise NotFoundError(f"station {station_id} has no outgoing lane")
        return str(self.facility_index[tt.lane_to[lanes[0]]])

    def summary(self) -> dict[str, int]:
        kinds = np.bincount(self.timetable.kind, minlength=len(FACILITY_KINDS))
        return {**{f"{k}s": int(c) for k, c in zip(FACILITY_KINDS, kinds) if c},
                "lanes": len(self.lane_index), "trips": len(self.timetable.trip_lane),
                "places": len(self.place_station),
                "population": int(self.place_population.sum())}
