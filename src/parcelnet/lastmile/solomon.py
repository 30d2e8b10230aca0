"""Solomon VRPTW instances: reader, distances, and an independent route checker.

The format (Solomon 1987): a name line, a ``VEHICLE`` section with ``NUMBER CAPACITY``, and a
``CUSTOMER`` table of ``CUST NO. XCOORD. YCOORD. DEMAND READY TIME DUE DATE SERVICE TIME``
with the depot as customer 0. Distances are Euclidean in double precision and travel time
equals distance, as in the literature's distance-only objective.

A file cut short is refused, not solved as a smaller instance: when its last line has no line
end, or when it has fewer customers than the instance's name says (:func:`named_customers`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from parcelnet.errors import ValidationError

EPS = 1e-9


@dataclass(frozen=True)
class VRPTWInstance:
    name: str
    vehicles: int
    capacity: int
    xy: np.ndarray          # (n + 1, 2), row 0 = depot
    demand: np.ndarray      # int64
    ready: np.ndarray       # int64
    due: np.ndarray         # int64
    service: np.ndarray     # int64

    @property
    def n_customers(self) -> int:
        return len(self.demand) - 1

    def distances(self) -> np.ndarray:
        d = self.xy[:, None, :] - self.xy[None, :, :]
        return np.sqrt((d ** 2).sum(axis=2))


def read_solomon(path) -> VRPTWInstance:
    """Read a Solomon instance; bad files get one line naming the file, line and reason."""
    path = Path(path)
    name = path.name
    try:
        text = path.read_text(encoding="utf-8", errors="strict")
        lines = text.splitlines()
    except FileNotFoundError:
        raise ValidationError("file not found", file=name) from None
    except UnicodeDecodeError:
        raise ValidationError("not a text file", file=name) from None
    if lines and lines[-1].strip() and not text.endswith(("\n", "\r")):
        raise ValidationError("the last line has no line end: the file is cut short", file=name,
                              row=len(lines))
    vehicles = capacity = None
    rows, last = [], 0
    section = None
    for no, raw in enumerate(lines, start=1):
        text = raw.strip()
        if not text:
            continue
        up = text.upper()
        if up.startswith("VEHICLE"):
            section = "vehicle"
            continue
        if up.startswith("CUSTOMER"):
            section = "customer"
            continue
        if up.startswith("NUMBER") or up.startswith("CUST"):
            continue
        parts = text.split()
        if section == "vehicle":
            if len(parts) != 2 or not all(p.isdigit() for p in parts):
                raise ValidationError(f"expected 'NUMBER CAPACITY' (two whole numbers), got '{text}'",
                                      file=name, row=no)
            vehicles, capacity = int(parts[0]), int(parts[1])
        elif section == "customer":
            if len(parts) != 7:
                raise ValidationError(f"a customer line has 7 numbers, got {len(parts)}",
                                      file=name, row=no)
            try:
                vals = [float(p) for p in parts]
            except ValueError:
                bad = next(p for p in parts if not _is_number(p))
                raise ValidationError(f"'{bad}' is not a number", file=name, row=no) from None
            if vals[0] != len(rows):
                raise ValidationError(f"customer {parts[0]} out of order (expected {len(rows)})",
                                      file=name, row=no, field="CUST NO.")
            if min(vals[3], vals[4], vals[5], vals[6]) < 0:
                raise ValidationError("demand, times and service must not be negative",
                                      file=name, row=no)
            if vals[5] < vals[4]:
                raise ValidationError("due date before ready time", file=name, row=no,
                                      field="DUE DATE")
            rows.append(vals)
            last = no
    if vehicles is None:
        raise ValidationError("no VEHICLE section with NUMBER and CAPACITY", file=name)
    if len(rows) < 2:
        raise ValidationError("no customers (the depot is customer 0)", file=name)
    title = lines[0].strip() or path.stem
    want = named_customers(title) or named_customers(path.stem)
    if want is not None and len(rows) - 1 < want:
        raise ValidationError(f"the file ends after customer {len(rows) - 1}, but {title} has {want} "
                              "customers: it is cut short", file=name, row=last)
    a = np.array(rows)
    return VRPTWInstance(name=title, vehicles=vehicles, capacity=capacity,
                         xy=a[:, 1:3], demand=a[:, 3].astype(np.int64), ready=a[:, 4].astype(np.int64),
                         due=a[:, 5].astype(np.int64), service=a[:, 6].astype(np.int64))


def named_customers(name: str) -> int | None:
    """Customers an instance has by its name: Solomon's C101, R205, RC108 have 100 (C101.25 or
    C101_25: 25), Gehring-Homberger's C1_2_1 200 and RC2_10_5 1000 (100 times the middle
    number); None for other names."""
    m = re.fullmatch(r"(?:C|R|RC)[12]\d\d(?:[._](\d+))?", name.strip(), re.I)
    if m:
        return int(m[1]) if m[1] else 100
    m = re.fullmatch(r"(?:C|R|RC)[12]_(\d+)_\d+", name.strip(), re.I)
    return 100 * int(m[1]) if m else None


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def route_distance(inst: VRPTWInstance, routes) -> float:
    """Total Euclidean length (double precision) of depot -> customers -> depot routes."""
    total = 0.0
    for r in routes:
        stops = [0, *r, 0]
        for a, b in zip(stops, stops[1:]):
            total += math.dist(inst.xy[a], inst.xy[b])
    return total


def check_routes(inst: VRPTWInstance, routes) -> list[str]:
    """Every way the routes break the instance (empty when feasible), checked in double
    precision independently of any solver: each customer exactly once, at most ``vehicles``
    routes, load within capacity, service starts within [ready, due] (waiting allowed), back
    at the depot by its due time."""
    problems = []
    seen = [c for r in routes for c in r]
    n = inst.n_customers
    if sorted(seen) != list(range(1, n + 1)):
        missing = sorted(set(range(1, n + 1)) - set(seen))
        twice = sorted({c for c in seen if seen.count(c) > 1})
        problems.append(f"customers missing {missing[:10]} or visited twice {twice[:10]}")
    if len(routes) > inst.vehicles:
        problems.append(f"{len(routes)} routes for {inst.vehicles} vehicles")
    for k, r in enumerate(routes):
        load = int(inst.demand[list(r)].sum()) if len(r) else 0
        if load > inst.capacity:
            problems.append(f"route {k + 1}: load {load} over capacity {inst.capacity}")
        t, prev = float(inst.ready[0]), 0
        for c in r:
            t = max(t + inst.service[prev] + math.dist(inst.xy[prev], inst.xy[c]), float(inst.ready[c]))
            if t > inst.due[c] + EPS:
                problems.append(f"route {k + 1}: customer {c} served at {t:.4f}, due {inst.due[c]}")
            prev = c
        back = t + inst.service[prev] + math.dist(inst.xy[prev], inst.xy[0])
        if back > inst.due[0] + EPS:
            problems.append(f"route {k + 1}: back at the depot at {back:.4f}, due {inst.due[0]}")
    return problems
