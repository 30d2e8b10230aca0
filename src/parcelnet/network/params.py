"""Build parameters: the packaged ``defaults.toml``, a user's overrides, and a
country's own section, merged and checked once.

Every key a user sets must exist in the defaults and have the same type, so a
typo is an error, not a silently ignored setting.
"""

from __future__ import annotations

import copy
import os
import tomllib
from importlib import resources
from typing import Any

from parcelnet.errors import ParameterError

Params = dict[str, dict[str, Any]]


def _defaults() -> dict[str, Any]:
    text = resources.files("parcelnet.network").joinpath("defaults.toml").read_text("utf-8")
    return tomllib.loads(text)


def _merge(base: Params, over: dict[str, Any], where: str) -> None:
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
            ok = (isinstance(value, type(old)) or (isinstance(old, float) and isinstance(value, int)))
            if not ok or isinstance(value, bool) != isinstance(old, bool):
                raise ParameterError(f"{where}: {section}.{key} must be {type(old).__name__}, "
                                     f"got {value!r}")
            base[section][key] = float(value) if isinstance(old, float) else value


def load_params(country: str, path: str | os.PathLike | None = None) -> Params:
    """Defaults, then ``[country.XX]`` of the defaults, then the user's file."""
    raw = _defaults()
    countries = raw.pop("country", {})
    params: Params = copy.deepcopy(raw)
    _merge(params, countries.get(country.upper(), {}), f"defaults [country.{country.upper()}]")
    if path is not None:
        try:
            with open(path, "rb") as fh:
                user = tomllib.load(fh)
        except FileNotFoundError:
            raise ParameterError(f"{path}: parameter file not found") from None
        except tomllib.TOMLDecodeError as e:
            raise ParameterError(f"{path}: not valid TOML ({e})") from None
        user_countries = user.pop("country", {})
        _merge(params, user, str(path))
        _merge(params, user_countries.get(country.upper(), {}), f"{path} [country.{country.upper()}]")
    _check(params)
    return params


def minute_of_day(text: str, where: str) -> int:
    """'HH:MM' -> minute of day."""
    try:
        hh, mm = text.split(":")
        m = int(hh) * 60 + int(mm)
    except (ValueError, AttributeError):
        raise ParameterError(f"{where}: {text!r} is not a time of day HH:MM") from None
    if not (0 <= int(hh) < 24 and 0 <= int(mm) < 60):
        raise ParameterError(f"{where}: {text!r} is not a time of day HH:MM")
    return m


def _check(p: Params) -> None:
    positive = [("speeds", "truck_kmh"), ("speeds", "van_kmh"), ("speeds", "air_kmh"),
                ("speeds", "circuity"), ("capacity", "headroom"), ("capacity", "van_parcels"),
                ("capacity", "truck_parcels"), ("capacity", "air_parcels")]
    for s, k in positive:
        if p[s][k] <= 0:
            raise ParameterError(f"{s}.{k} must be > 0, got {p[s][k]}")
    for s, k in [("stations", "method"), ("centres", "method"), ("capacity", "method"),
                 ("hubs", "method")]:
        allowed = {"stations": ("cluster", "per_place"), "centres": ("cluster", "admin"),
                   "capacity": ("simulated", "gravity"), "hubs": ("p-median", "p-hub")}[s]
        if p[s][k] not in allowed:
            raise ParameterError(f"{s}.{k} must be one of {', '.join(allowed)}, got {p[s][k]!r}")
    if not 0 <= p["hubs"]["transfer_discount"] <= 1:
        raise ParameterError(f"hubs.transfer_discount must be in 0..1, got {p['hubs']['transfer_discount']}")
    for t in p["timetable"]["first_mile_departures"]:
        minute_of_day(t, "timetable.first_mile_departures")
    for w in p["timetable"]["waves"]:
        if not (isinstance(w, list) and len(w) == 2 and isinstance(w[1], int) and w[1] >= 0):
            raise ParameterError(f"timetable.waves: each wave is [\"HH:MM\", minutes], got {w!r}")
        minute_of_day(w[0], "timetable.waves")
    if not p["timetable"]["waves"]:
        raise ParameterError("timetable.waves: at least one delivery wave is needed")


def to_toml(p: Params) -> str:
    """The parameters actually used, as TOML (written next to a built network)."""
    def fmt(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(fmt(x) for x in v) + "]"
        return repr(v)
    lines = []
    for section, values in p.items():
        lines.append(f"[{section}]")
        lines += [f"{k} = {fmt(v)}" for k, v in values.items()]
        lines.append("")
    return "\n".join(lines)
