"""Hub-location instances and the two standard data sets' readers.

- **AP** (Australia Post; Ernst & Krishnamoorthy 1996, OR-Library ``phub``): ``n``, ``n`` lines of
  x y, an ``n`` x ``n`` flow matrix, then p, collection, transfer and distribution cost per unit
  flow and distance. Distances are Euclidean over the coordinates divided by 1000, the scale
  of the published objectives (n = 10, p = 2: 167,493.06). The capacitated problem adds a fixed
  cost and a capacity per node (``FcostX.NN``, ``CapY.NN``: one number a line).
- **CAB** (O'Kelly 1987, 25 US cities): lines ``i j flow cost``. As in the literature, flows
  are normalised to sum to 1 and collection = distribution = 1; the transfer discount alpha
  is the caller's.

Nodes are numbered from 1 in the files and in everything parcelnet prints; arrays are 0-based.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from parcelnet.errors import ValidationError


@dataclass(frozen=True, eq=False)
class HubInstance:
    """Flows ``flow[i, j]`` from node i to node j, unit costs ``cost[i, j]`` (a distance),
    the cost factors per unit flow and cost (collection chi, transfer alpha, distribution
    delta), the number of hubs ``p`` (None: not given), and for the capacitated problem a fixed
    cost and a capacity (on the flow a hub collects, its own included) per node."""

    name: str
    cost: np.ndarray
    flow: np.ndarray
    p: int | None = None
    chi: float = 1.0
    alpha: float = 1.0
    delta: float = 1.0
    fixed: np.ndarray | None = None
    capacity: np.ndarray | None = None

    @property
    def n(self) -> int:
        return len(self.flow)

    def with_p(self, p: int | None) -> HubInstance:
        return self if p is None else replace(self, p=int(p))

    def check(self) -> HubInstance:
        """Raise a clear error for what no model accepts; returns self."""
        n = self.n
        if n < 1:
            raise ValidationError(f"{self.name}: no nodes")
        if self.cost.shape != (n, n) or self.flow.shape != (n, n):
            raise ValidationError(f"{self.name}: cost and flow must be {n} x {n}")
        for what, a in (("cost", self.cost), ("flow", self.flow)):
            if not np.isfinite(a).all() or (a < 0).any():
                i, j = np.argwhere(~np.isfinite(a) | (a < 0))[0]
                raise ValidationError(f"{self.name}: {what} from node {i + 1} to node {j + 1} is "
                                      f"{a[i, j]}: costs and flows must be finite and >= 0")
        for what, v in (("collection cost", self.chi), ("transfer cost", self.alpha),
                        ("distribution cost", self.delta)):
            if not (np.isfinite(v) and v >= 0):
                raise ValidationError(f"{self.name}: {what} {v} must be a number >= 0")
        if self.p is not None and not 1 <= self.p <= n:
            raise ValidationError(f"{self.name}: p = {self.p} hubs, but there are {n} nodes "
                                  f"(p must be in 1..{n})")
        for what, a in (("fixed cost", self.fixed), ("capacity", self.capacity)):
            if a is not None and (a.shape != (n,) or not np.isfinite(a).all() or (a < 0).any()):
                bad = np.flatnonzero(~np.isfinite(a) | (a < 0)) if a.shape == (n,) else [0]
                raise ValidationError(f"{self.name}: {what} of node {bad[0] + 1} must be a number "
                                      f">= 0 (one per node, {n} in all)")
        return self


class _Tokens:
    """Whitespace tokens of a file with their line numbers, read as numbers in order."""

    def __init__(self, path: Path):
        self.path = path
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ValidationError("file not found", file=str(path)) from None
        except UnicodeDecodeError:
            raise ValidationError("not a text file", file=str(path)) from None
        self.tok, self.line = [], []
        for k, ln in enumerate(text.splitlines(), 1):
            for t in ln.replace(";", " ").split():
                self.tok.append(t)
                self.line.append(k)
        self.at = 0

    def take(self, count: int, what: str, integer: bool = False) -> np.ndarray:
        if self.at + count > len(self.tok):
            last = self.line[-1] if self.line else 1
            raise ValidationError(f"file ends before the {what} ({count} numbers expected, "
                                  f"{len(self.tok) - self.at} left)", file=str(self.path), row=last)
        out = np.empty(count, np.int64 if integer else np.float64)
        for q in range(count):
            t = self.tok[self.at + q]
            try:
                out[q] = int(t) if integer else float(t)
            except ValueError:
                kind = "an integer" if integer else "a number"
                raise ValidationError(f"{what}: '{t}' is not {kind}", file=str(self.path),
                                      row=self.line[self.at + q]) from None
        self.at += count
        return out

    def done(self) -> None:
        if self.at < len(self.tok):
            raise ValidationError(f"unexpected '{self.tok[self.at]}' after the last field",
                                  file=str(self.path), row=self.line[self.at])


def read_ap(path: str | os.PathLike, fixed: str | os.PathLike | None = None,
            capacity: str | os.PathLike | None = None) -> HubInstance:
    """An AP file (and, for the capacitated problem, its fixed-cost and capacity files)."""
    path = Path(path)
    t = _Tokens(path)
    n = int(t.take(1, "number of nodes", integer=True)[0])
    if n < 1:
        raise ValidationError(f"number of nodes must be positive, got {n}", file=str(path), row=1)
    xy = t.take(2 * n, "node coordinates").reshape(n, 2)
    flow = t.take(n * n, "flow matrix").reshape(n, n)
    p = int(t.take(1, "number of hubs p", integer=True)[0])
    chi, alpha, delta = t.take(3, "collection, transfer and distribution costs")
    t.done()
    diff = xy[:, None, :] - xy[None, :, :]
    cost = np.sqrt((diff ** 2).sum(axis=2)) / 1000.0
    inst = HubInstance(path.name, cost, flow, p if p >= 1 else None, float(chi), float(alpha),
                       float(delta), _per_node(fixed, n, "fixed cost"),
                       _per_node(capacity, n, "capacity"))
    return inst.check()


def _per_node(path, n: int, what: str) -> np.ndarray | None:
    if path is None:
        return None
    t = _Tokens(Path(path))
    v = t.take(n, f"{what} of each of the {n} nodes")
    t.done()
    return v


def read_cab(path: str | os.PathLike, alpha: float = 1.0, p: int | None = None) -> HubInstance:
    """The CAB file: ``i j flow cost`` lines (1-based nodes); flows normalised to sum 1."""
    path = Path(path)
    t = _Tokens(path)
    if len(t.tok) % 4:
        raise ValidationError(f"{len(t.tok)} numbers: expected lines of 'i j flow cost'",
                              file=str(path))
    rows = len(t.tok) // 4
    ij = np.empty((rows, 2), np.int64)
    fc = np.empty((rows, 2))
    for r in range(rows):
        ij[r] = t.take(2, "node numbers i j", integer=True)
        fc[r] = t.take(2, "flow and cost")
    n = int(ij.max()) if rows else 0
    if rows == 0 or ij.min() < 1:
        raise ValidationError("node numbers start at 1", file=str(path), row=t.line[0] if t.line else 1)
    if rows != n * n or len(np.unique(ij[:, 0] * (n + 1) + ij[:, 1])) != rows:
        raise ValidationError(f"expected every pair of the {n} nodes once ({n * n} lines), "
                              f"got {rows} lines", file=str(path))
    flow = np.zeros((n, n))
    cost = np.zeros((n, n))
    flow[ij[:, 0] - 1, ij[:, 1] - 1] = fc[:, 0]
    cost[ij[:, 0] - 1, ij[:, 1] - 1] = fc[:, 1]
    total = flow.sum()
    if total > 0:
        flow = flow / total
    return HubInstance(path.name, cost, flow, p, 1.0, float(alpha), 1.0).check()
