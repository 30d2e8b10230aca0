"""The floor of ``parcelnet plan service``: no province loses more than N hours in its median
promise.

A province's median promise is the weighted median of the promise (hours from order to
delivery) over the model's orders into it: each weighted (origin, hour) by its whole units
(parcels of a demand day, or one), each place by its population; the median is the least m
with at least half of that weight within m minutes. So the median after a change stays
within ``limit = median before + N hours`` exactly when the weight delivered within
``limit`` is at least half the province's weight. That weight is counted like the model's
coverage: inside the areas once (the promise engine on the network without the backbone),
and across the backbone per search key, place x counting when the arrival at its gateway
is no later than the latest arrival that delivers x by the order's minute + ``limit``. Whole
units times whole populations are integers, so the check is exact.

Promises beyond :data:`HORIZON` (30 days) count as never: a median beyond it is reported as
none, and the floor asks every limited province to stay within it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from parcelnet.errors import ParameterError
from parcelnet.plan.service import _kernels as K
from parcelnet.plan.service.model import ServiceModel, latest_arrival
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.units import DAY

#: Promises longer than this (minutes) count as never delivered in medians and the floor.
HORIZON = 30 * DAY


def admin1_groups(network) -> tuple[list[str], np.ndarray]:
    """The provinces (sorted names) and each place's index among them."""
    names, idx = np.unique(network.places["admin1"].to_numpy(str), return_inverse=True)
    return [str(x) for x in names], idx.astype(np.int64)


def weighted_median(hist: np.ndarray) -> np.ndarray:
    """Per row of a histogram of weight by minute (last bin: beyond the horizon or never), the
    least minute with at least half of the row's weight within it (-1: beyond the horizon)."""
    cum = np.cumsum(hist, axis=1)
    total = cum[:, -1]
    first = np.argmax(2 * cum >= total[:, None], axis=1)
    return np.where((first >= hist.shape[1] - 1) | (total <= 0), -1, first)


@dataclass
class Floor:
    """The province floor of a model: which provinces are limited, to which minutes, and the
    data of the exact check (see the module docs)."""

    hours: float
    admin1: list[str]
    median_before: np.ndarray     # minutes (-1: beyond the horizon)
    limit: np.ndarray             # minutes (-1: not limited)
    total: np.ndarray             # weight of each province (int64)
    fixed: np.ndarray             # weight within the limit without the backbone (int64)
    p_ptr: np.ndarray             # places behind each gateway (positions in the arrays below)
    p_group: np.ndarray
    p_units: np.ndarray           # population (int64)
    p_latest: np.ndarray          # (24, P') latest arrival at the gateway within the limit

    def key_within(self, model: ServiceModel, keys: np.ndarray, arr: np.ndarray) -> np.ndarray:
        """(len(keys), provinces): weight within the limit across the backbone, per key, for
        the searches ``arr`` (one row per key)."""
        k = model.keys
        out = np.zeros((len(keys), len(self.admin1)), np.int64)
        K.within_by_group(np.asarray(keys, np.int64), k["src"], k["s_ptr"], k["hour"],
                          k["units"], arr, self.p_ptr, self.p_group, self.p_units,
                          self.p_latest, out)
        return out

    def holds(self, within: np.ndarray) -> bool:
        """Every limited province has at least half its weight within its limit."""
        lim = self.limit >= 0
        return bool((2 * within[lim] >= self.total[lim]).all())

    def broken(self, within: np.ndarray) -> list[str]:
        lim = self.limit >= 0
        return [a for a, x in zip(np.array(self.admin1)[lim], 2 * within[lim] < self.total[lim]) if x]


def make_floor(model: ServiceModel, hours: float, median_before: np.ndarray) -> Floor:
    """The floor "no province loses more than ``hours`` in its median promise" for
    ``model``, from each province's median before (minutes, -1: beyond the horizon; the
    order of :func:`admin1_groups`), as the promise engine gives it on the model's network."""
    if not (isinstance(hours, (int, float)) and np.isfinite(hours) and hours >= 0):
        raise ParameterError(f"the most hours a province's median promise may grow must be a "
                             f"number >= 0, got {hours}")
    net = model.network
    names, group = admin1_groups(net)
    med = np.asarray(median_before, np.int64)
    limit = np.where(med >= 0, np.minimum(med + int(np.floor(60 * hours + 1e-9)), HORIZON - 1), -1)
    pop = net.place_population.astype(np.int64)
    units_total = sum(model.units.values())
    total = np.bincount(group, weights=pop, minlength=len(names)).astype(np.int64) * units_total
    # places behind each gateway, in block order
    st_col = np.searchsorted(net.stations, net.place_station)
    gate = model.area[net.place_station]
    behind = np.flatnonzero(gate >= 0)
    behind = behind[np.argsort(gate[behind], kind="stable")]
    p_ptr = np.zeros(len(model.gateways) + 1, np.int64)
    np.add.at(p_ptr, gate[behind] + 1, 1)
    p_ptr = np.cumsum(p_ptr)
    block_pos = np.empty(len(net.stations), np.int64)
    block_pos[model.block_cols] = np.arange(len(model.block_cols))
    lim = limit[group[behind]]
    deadline = np.arange(24, dtype=np.int64)[:, None] * 60 + lim[None, :]
    p_latest = latest_arrival(model.deliver0[:, block_pos[st_col[behind]]], deadline)
    p_latest[:, lim < 0] = -1
    fixed = np.zeros(len(names), np.int64)
    eng = PromiseEngine(model.fixed)
    by_origin: dict[int, list[tuple[int, int]]] = {}
    for (o, h), u in model.units.items():
        by_origin.setdefault(o, []).append((h, u))
    for o, hu in by_origin.items():
        created = np.array([h for h, _ in hu], np.int64) * 60
        u = np.array([x for _, x in hu], np.int64)
        d = eng.delivered_from(o, created)[:, st_col]
        within = (d < INF) & (d - created[:, None] <= limit[group][None, :]) & (limit[group] >= 0)
        np.add.at(fixed, group, (u[:, None] * within * pop[None, :]).sum(axis=0))
    return Floor(hours=float(hours), admin1=names, median_before=med, limit=limit, total=total,
                 fixed=fixed, p_ptr=p_ptr, p_group=group[behind], p_units=pop[behind],
                 p_latest=p_latest.astype(np.int64))
