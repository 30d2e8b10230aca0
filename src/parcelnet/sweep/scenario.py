"""Scenario files for ``parcelnet sweep`` (docs/sweep.md): a base network and day, and the
variations to run on it, read from TOML and checked field by field.

```toml
[base]
network = "cn"            # PNF folder or .pnfz, relative to this file
parcels = 200000          # a day of the demand model with this many parcels, or a parcels file
day = "peak"              # normal or peak (generated days)
seeds = [1, 2, 3]         # every scenario runs once per seed (the demand model's seed)
capacity_scale = 0.000257 # trip capacities and sorter rates times this (a sample of a day)
horizon_days = 7

[[scenario]]
name = "base"

[[scenario]]
name = "Guangdong +20%"
demand = { "Guangdong" = 1.2 }        # multipliers of the parcels created in a province

[[scenario]]
name = "fog at Shanghai air hub"
outages = [{ hub = "C3100", from_minute = 360, to_minute = 600 }]

[[scenario]]
name = "a sorter line lost"
sorters = [{ hub = "C4403", scale = 0.75 }]
trips = [{ lane = "C4403>C3100/air", scale = 1.5 }]

[[scenario]]
name = "Chengdu-Hangzhou by air"
air_links = [{ from = "C5101", to = "C3301", duration_minutes = 170, departures = [1380],
               capacity = 30 }]
```

Each ``[[scenario]]`` may set its own ``seeds``. Minutes are minutes of the timetable's
day (0-1439), and a window is ``[from_minute, to_minute)``; a window may wrap past
midnight (from 1380 to 120).
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from parcelnet.errors import ParameterError

MINUTES = 1440            # a timetable's day
DAYS = ("normal", "peak")


@dataclass(frozen=True)
class Outage:
    """Trips cancelled: a lane's trips that depart in the window, or a hub's trips that
    leave it or reach it in the window."""
    lane: str | None
    hub: str | None
    from_minute: int
    to_minute: int


@dataclass(frozen=True)
class Change:
    """A capacity times ``scale``: a hub's sorter rate (``sorters``), or the trips of a lane
    or of every lane leaving a hub (``trips``)."""
    lane: str | None
    hub: str | None
    scale: float


@dataclass(frozen=True)
class AirLink:
    """A new air lane with daily trips."""
    from_facility: str
    to_facility: str
    duration_minutes: int
    departures: tuple[int, ...]
    capacity: int


@dataclass(frozen=True)
class Scenario:
    """One variation at one seed: what a worker runs."""
    name: str
    seed: int
    demand: tuple[tuple[str, float], ...] = ()
    outages: tuple[Outage, ...] = ()
    sorters: tuple[Change, ...] = ()
    trips: tuple[Change, ...] = ()
    air_links: tuple[AirLink, ...] = ()

    def variation(self) -> dict:
        """What changes, as plain data (its part of the input hash)."""
        return {"demand": [list(d) for d in self.demand],
                "outages": [o.__dict__ for o in self.outages],
                "sorters": [c.__dict__ for c in self.sorters],
                "trips": [c.__dict__ for c in self.trips],
                "air_links": [{**a.__dict__, "departures": list(a.departures)} for a in self.air_links]}


@dataclass(frozen=True)
class Sweep:
    """A scenario file, read: the base and every (scenario, seed) to run, in file order."""
    path: Path
    network: Path
    parcels: int | Path
    day: str
    capacity_scale: float
    horizon_days: int
    scenarios: tuple[Scenario, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return list(dict.fromkeys(s.name for s in self.scenarios))


class _Where:
    def __init__(self, path: Path):
        self.path = path

    def error(self, where: str, why: str) -> ParameterError:
        return ParameterError(f"{self.path}: {where}: {why}")


def _int(w: _Where, where: str, v, lo: int, hi: int | None = None) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        rng = f"{lo}..{hi}" if hi is not None else f"at least {lo}"
        raise w.error(where, f"expected a whole number {rng}, got {v!r}")
    return v


def _num(w: _Where, where: str, v, above: float = 0.0) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v <= above:
        raise w.error(where, f"expected a number above {above:g}, got {v!r}")
    return float(v)


def _str(w: _Where, where: str, v) -> str:
    if not isinstance(v, str) or not v.strip() or len(v) > 200:
        raise w.error(where, f"expected a non-empty text of at most 200 characters, got {v!r}")
    return v.strip()


def _table(w: _Where, where: str, v, allowed: set[str], required: set[str] = frozenset()) -> dict:
    if not isinstance(v, dict):
        raise w.error(where, f"expected a table, got {type(v).__name__}")
    extra = sorted(set(v) - allowed)
    if extra:
        raise w.error(f"{where}.{extra[0]}", f"unknown field (known: {', '.join(sorted(allowed))})")
    missing = sorted(required - set(v))
    if missing:
        raise w.error(f"{where}.{missing[0]}", "missing")
    return v


def _list(w: _Where, where: str, v) -> list:
    if not isinstance(v, list):
        raise w.error(where, f"expected a list, got {type(v).__name__}")
    return v


def _target(w: _Where, where: str, t: dict) -> tuple[str | None, str | None]:
    lane, hub = t.get("lane"), t.get("hub")
    if (lane is None) == (hub is None):
        raise w.error(where, "give exactly one of 'lane' and 'hub'")
    return (_str(w, f"{where}.lane", lane) if lane is not None else None,
            _str(w, f"{where}.hub", hub) if hub is not None else None)


def _seeds(w: _Where, where: str, v) -> tuple[int, ...]:
    seeds = tuple(_int(w, f"{where}[{i}]", s, 0, 2**32 - 1) for i, s in enumerate(_list(w, where, v)))
    if not seeds:
        raise w.error(where, "at least one seed")
    if len(set(seeds)) != len(seeds):
        raise w.error(where, "a seed appears twice")
    return seeds


def load_sweep(path: str | Path) -> Sweep:
    """Read and check a scenario file (module docs); errors name the file and the field."""
    path = Path(path)
    w = _Where(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ParameterError(f"{path}: no such scenario file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ParameterError(f"{path}: not valid TOML: {e}") from None
    _table(w, "the file", raw, {"base", "scenario"}, {"base", "scenario"})
    b = _table(w, "base", raw["base"], {"network", "parcels", "day", "seeds", "capacity_scale",
                                        "horizon_days"}, {"network", "parcels"})
    # absolute: workers (a Ray worker especially) need not share this process's folder
    network = (path.parent / _str(w, "base.network", b["network"])).resolve()
    parcels = b["parcels"]
    if isinstance(parcels, str):
        parcels = (path.parent / _str(w, "base.parcels", parcels)).resolve()
    else:
        parcels = _int(w, "base.parcels", parcels, 1, 10**9)
    day = b.get("day", "normal")
    if day not in DAYS:
        raise w.error("base.day", f"expected one of {', '.join(DAYS)}, got {day!r}")
    seeds = _seeds(w, "base.seeds", b.get("seeds", [0]))
    scale = _num(w, "base.capacity_scale", b.get("capacity_scale", 1.0))
    horizon = _int(w, "base.horizon_days", b.get("horizon_days", 7), 1, 366)
    out: list[Scenario] = []
    names: set[str] = set()
    for i, s in enumerate(_list(w, "scenario", raw["scenario"])):
        where = f"scenario[{i}]"
        _table(w, where, s, {"name", "seeds", "demand", "outages", "sorters", "trips", "air_links"},
               {"name"})
        name = _str(w, f"{where}.name", s["name"])
        where = f"scenario[{i}] ('{name}')"
        if name in names:
            raise w.error(f"{where}.name", "two scenarios have this name")
        names.add(name)
        d = s.get("demand", {})
        if not isinstance(d, dict):
            raise w.error(f"{where}.demand", "expected a table of province = multiplier")
        demand = []
        for k, v in d.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 100:
                raise w.error(f"{where}.demand.{k}", f"expected a multiplier in 0..100, got {v!r}")
            demand.append((_str(w, f"{where}.demand", k), float(v)))
        demand = tuple(demand)
        outages = []
        for j, o in enumerate(_list(w, f"{where}.outages", s.get("outages", []))):
            at = f"{where}.outages[{j}]"
            _table(w, at, o, {"lane", "hub", "from_minute", "to_minute"}, {"from_minute", "to_minute"})
            lane, hub = _target(w, at, o)
            a = _int(w, f"{at}.from_minute", o["from_minute"], 0, MINUTES - 1)
            z = _int(w, f"{at}.to_minute", o["to_minute"], 0, MINUTES)
            if a == z:
                raise w.error(f"{at}.to_minute", "an empty window (from_minute = to_minute)")
            outages.append(Outage(lane, hub, a, z))
        changes = {}
        for key in ("sorters", "trips"):
            changes[key] = []
            for j, c in enumerate(_list(w, f"{where}.{key}", s.get(key, []))):
                at = f"{where}.{key}[{j}]"
                _table(w, at, c, {"lane", "hub", "scale"} if key == "trips" else {"hub", "scale"},
                       {"scale"} if key == "trips" else {"hub", "scale"})
                lane, hub = _target(w, at, c)
                changes[key].append(Change(lane, hub, _num(w, f"{at}.scale", c["scale"])))
        links = []
        for j, a in enumerate(_list(w, f"{where}.air_links", s.get("air_links", []))):
            at = f"{where}.air_links[{j}]"
            _table(w, at, a, {"from", "to", "duration_minutes", "departures", "capacity"},
                   {"from", "to", "duration_minutes", "departures", "capacity"})
            deps = tuple(_int(w, f"{at}.departures[{k}]", d, 0, MINUTES - 1)
                         for k, d in enumerate(_list(w, f"{at}.departures", a["departures"])))
            if not deps or len(set(deps)) != len(deps):
                raise w.error(f"{at}.departures", "one or more distinct minutes of the day")
            links.append(AirLink(_str(w, f"{at}.from", a["from"]), _str(w, f"{at}.to", a["to"]),
                                 _int(w, f"{at}.duration_minutes", a["duration_minutes"], 1, 7 * MINUTES),
                                 deps, _int(w, f"{at}.capacity", a["capacity"], 1)))
        for seed in (_seeds(w, f"{where}.seeds", s["seeds"]) if "seeds" in s else seeds):
            out.append(Scenario(name, seed, demand, tuple(outages), tuple(changes["sorters"]),
                                tuple(changes["trips"]), tuple(links)))
    if not out:
        raise w.error("scenario", "at least one [[scenario]]")
    return Sweep(path, network, parcels, day, scale, horizon, tuple(out))
