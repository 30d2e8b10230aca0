"""Build parameters as typed objects: the packaged ``defaults.toml``, a country's own section
and a user's TOML file, merged and checked once into a frozen :class:`Params`.

Every key a user sets must exist in the defaults and have the same type, so a typo is an
error, not a silently ignored setting. Each section is a frozen dataclass
(``params.speeds.truck_kmh``); variants come from :meth:`Params.updated`, which checks the
new values the same way. The meaning, unit and source of every value is in ``defaults.toml``
and ``docs/network.md``.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from dataclasses import dataclass
from importlib import resources
from typing import Any

from parcelnet.errors import ParameterError
from parcelnet.units import minute_of_day

__all__ = ["Params", "load_params", "minute_of_day"]


@dataclass(frozen=True)
class Volume:
    parcels_per_day: int
    parcels_per_capita_per_day: float
    intra_city_share: float
    distance_scale_km: float
    distance_decay: float


@dataclass(frozen=True)
class Stations:
    method: str
    merge_radius_km: float


@dataclass(frozen=True)
class Centres:
    method: str
    radius_km: float
    site: str


@dataclass(frozen=True)
class Hubs:
    count: int
    target_mean_km: float
    min_count: int
    max_count: int
    method: str
    transfer_discount: float


@dataclass(frozen=True)
class Trunks:
    min_parcels_per_day: float
    max_km: float
    banks: int


@dataclass(frozen=True)
class Air:
    min_span_km: float
    gateways: int
    gateway_min_parcels: float
    cover_min_share: float
    min_distance_km: float
    hub: str
    hub_minutes: int
    direct_min_parcels: float
    distribution_km: float
    air_share: float


@dataclass(frozen=True)
class Speeds:
    circuity: float
    truck_kmh: float
    van_kmh: float
    van_max_km: float
    air_kmh: float
    air_ground_minutes: int
    air_hub_ground_minutes: int


@dataclass(frozen=True)
class Processing:
    station_minutes: int
    centre_minutes: int
    hub_minutes: int


@dataclass(frozen=True)
class Timetable:
    first_mile_departures: tuple[str, ...]
    waves: tuple[tuple[str, int], ...]
    evening_waves: tuple[tuple[str, int], ...]
    evening_wave_km: float
    slack_minutes: int
    timing_share: float
    round_minutes: int
    max_truck_hub_km: float

    @property
    def first_mile_minutes(self) -> tuple[int, ...]:
        return tuple(minute_of_day(t, "timetable.first_mile_departures")
                     for t in self.first_mile_departures)

    @property
    def wave_minutes(self) -> tuple[tuple[int, int], ...]:
        """(start minute of day, duration) of every delivery wave."""
        return tuple((minute_of_day(s, "timetable.waves"), int(d)) for s, d in self.waves)

    @property
    def evening_wave_minutes(self) -> tuple[tuple[int, int], ...]:
        """(start minute of day, duration) of the evening waves of urban stations."""
        return tuple((minute_of_day(s, "timetable.evening_waves"), int(d)) for s, d in self.evening_waves)


@dataclass(frozen=True)
class Capacity:
    method: str
    sizing_parcels: int
    sorter_peak_factor: float
    headroom: float
    van_parcels: int
    truck_parcels: int
    air_parcels: int
    station_sort_hours: int
    centre_sort_hours: int
    hub_sort_hours: int
    line_parcels_per_hour: int
    lines_per_site: int
    outlet_parcels_per_hour: int

    def parcels_per_vehicle(self, mode: str) -> int:
        return {"van": self.van_parcels, "truck": self.truck_parcels, "air": self.air_parcels}[mode]


@dataclass(frozen=True)
class Costs:
    van_fixed: float
    van_per_km: float
    truck_fixed: float
    truck_per_km: float
    air_fixed: float
    air_per_km: float
    sort_line_per_day: float

    def per_trip(self, mode: str) -> tuple[float, float]:
        """(fixed, per road km) cost of one vehicle's trip by ``mode`` (CNY)."""
        return getattr(self, f"{mode}_fixed"), getattr(self, f"{mode}_per_km")


SECTIONS: dict[str, type] = {
    "volume": Volume, "stations": Stations, "centres": Centres, "hubs": Hubs, "trunks": Trunks, "air": Air,
    "speeds": Speeds, "processing": Processing, "timetable": Timetable, "capacity": Capacity,
    "costs": Costs,
}
_METHODS = {"stations": ("cluster", "per_place"), "centres": ("cluster", "admin"),
            "capacity": ("simulated", "gravity"), "hubs": ("p-median", "p-hub")}


@dataclass(frozen=True)
class Params:
    """Every assumption of the network builder, checked (see ``defaults.toml``)."""

    volume: Volume
    stations: Stations
    centres: Centres
    hubs: Hubs
    trunks: Trunks
    air: Air
    speeds: Speeds
    processing: Processing
    timetable: Timetable
    capacity: Capacity
    costs: Costs

    @classmethod
    def defaults(cls, country: str | None = None) -> Params:
        """The packaged defaults, with ``[country.XX]`` of ``country`` applied."""
        return load_params(country or "XX")

    def as_dict(self) -> dict[str, dict[str, Any]]:
        """Section -> key -> value (lists for TOML arrays), as in the TOML file."""
        def plain(v):
            return [plain(x) for x in v] if isinstance(v, tuple) else v
        return {s: {f.name: plain(getattr(getattr(self, s), f.name))
                    for f in dataclasses.fields(SECTIONS[s])} for s in SECTIONS}

    def updated(self, overrides: dict[str, dict[str, Any]], where: str = "parameters") -> Params:
        """These parameters with ``{section: {key: value}}`` set, checked as a user's file is
        (unknown keys and wrong types are errors; ``where`` names the source in messages)."""
        raw = self.as_dict()
        _merge(raw, overrides, where)
        return _typed(raw)

    def to_toml(self) -> str:
        """The parameters as TOML (written next to a built network as params.toml)."""
        return to_toml(self)


def _defaults() -> dict[str, Any]:
    text = resources.files("parcelnet.network").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: dict, over: dict[str, Any], where: str) -> None:
    for section, values in over.items():
        if section not in base:
            raise ParameterError(f"{where}: unknown parameter section [{section}]")
        if not isinstance(values, dict):
            raise ParameterError(f"{where}: '{section}' is a section; set its keys under [{section}], "
                                 f"got {section} = {values!r}")
        for key, value in values.items():
            if key not in base[section]:
                raise ParameterError(f"{where}: unknown parameter {section}.{key}")
            old = base[section][key]
            if isinstance(old, (list, tuple)) and isinstance(value, tuple):
                value = list(value)
            ok = (isinstance(value, type(old)) or (isinstance(old, float) and isinstance(value, int)))
            if not ok or isinstance(value, bool) != isinstance(old, bool):
                raise ParameterError(f"{where}: {section}.{key} must be {type(old).__name__}, "
                                     f"got {value!r}")
            base[section][key] = float(value) if isinstance(old, float) else value


def _read_toml(path: str | os.PathLike, what: str) -> dict[str, Any]:
    """A TOML file, with one clear error when it is missing, not UTF-8 or not TOML."""
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise ParameterError(f"{path}: {what} not found") from None
    except IsADirectoryError:
        raise ParameterError(f"{path}: {what} is a folder, not a file") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise ParameterError(f"{path}: line {line}: not UTF-8 text (byte 0x{data[e.start]:02x}); "
                             f"TOML files are UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"{path}: not valid TOML ({e})") from None


def load_params(country: str, path: str | os.PathLike | None = None) -> Params:
    """Defaults, then ``[country.XX]`` of the defaults, then the user's file (and its own
    ``[country.XX]``)."""
    raw = _defaults()
    countries = raw.pop("country", {})
    _merge(raw, countries.get(country.upper(), {}), f"defaults [country.{country.upper()}]")
    if path is not None:
        user = _read_toml(path, "parameter file")
        user_countries = user.pop("country", {})
        _merge(raw, user, str(path))
        _merge(raw, user_countries.get(country.upper(), {}), f"{path} [country.{country.upper()}]")
    return _typed(raw)


def _typed(raw: dict[str, dict[str, Any]]) -> Params:
    _check(raw)
    sections = {}
    for name, cls in SECTIONS.items():
        values = dict(raw[name])
        if name == "timetable":
            values["first_mile_departures"] = tuple(values["first_mile_departures"])
            for key in ("waves", "evening_waves"):
                values[key] = tuple((str(s), int(d)) for s, d in values[key])
        sections[name] = cls(**values)
    return Params(**sections)


def _check(p: dict[str, dict[str, Any]]) -> None:
    positive = [("speeds", "truck_kmh"), ("speeds", "van_kmh"), ("speeds", "air_kmh"),
                ("speeds", "circuity"), ("capacity", "headroom"), ("capacity", "van_parcels"),
                ("capacity", "truck_parcels"), ("capacity", "air_parcels"),
                ("capacity", "line_parcels_per_hour"), ("capacity", "lines_per_site"),
                ("capacity", "outlet_parcels_per_hour")]
    for s, k in positive:
        if p[s][k] <= 0:
            raise ParameterError(f"{s}.{k} must be > 0, got {p[s][k]}")
    if p["centres"]["site"] not in ("median", "largest"):
        raise ParameterError(f"centres.site must be one of median, largest, got {p['centres']['site']!r}")
    if p["trunks"]["banks"] < 1:
        raise ParameterError(f"trunks.banks must be >= 1, got {p['trunks']['banks']}")
    for s, allowed in _METHODS.items():
        if p[s]["method"] not in allowed:
            raise ParameterError(f"{s}.method must be one of {', '.join(allowed)}, "
                                 f"got {p[s]['method']!r}")
    if not 0 <= p["hubs"]["transfer_discount"] <= 1:
        raise ParameterError(f"hubs.transfer_discount must be in 0..1, got {p['hubs']['transfer_discount']}")
    for t in p["timetable"]["first_mile_departures"]:
        minute_of_day(t, "timetable.first_mile_departures")
    for key in ("waves", "evening_waves"):
        for w in p["timetable"][key]:
            if not (isinstance(w, (list, tuple)) and len(w) == 2 and isinstance(w[1], int)
                    and not isinstance(w[1], bool) and w[1] >= 0):
                raise ParameterError(f"timetable.{key}: each wave is [\"HH:MM\", minutes], got {w!r}")
            minute_of_day(w[0], f"timetable.{key}")
    if not p["timetable"]["waves"]:
        raise ParameterError("timetable.waves: at least one delivery wave is needed")


def to_toml(p: Params) -> str:
    """The parameters actually used, as TOML (written next to a built network)."""
    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, (list, tuple)):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return repr(v)
    lines = []
    for section, values in p.as_dict().items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {fmt(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)


def from_toml_text(text: str, where: str = "params.toml") -> Params:
    """Parameters written by :func:`to_toml` (a built network's params.toml) over the
    defaults; a parameter the text lacks keeps its default."""
    raw = _defaults()
    raw.pop("country", {})
    try:
        _merge(raw, tomllib.loads(text), where)
    except tomllib.TOMLDecodeError as e:
        raise ParameterError(f"{where}: not valid TOML ({e})") from None
    return _typed(raw)
