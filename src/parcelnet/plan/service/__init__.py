"""Service network design for 24 hours (``parcelnet plan service``): which backbone trips to
run for the best coverage within a budget, or a coverage target at least cost, in all or
from each of named origins at an order hour, with a floor on every province's median promise.

- :mod:`.model`: the exact decomposition of the problem (docs/plan.md), :func:`build_model`;
- :mod:`.solve`: a greedy drop from every candidate (any size) and an exact MIP (small);
- :mod:`.floor`: the province floor and its exact check;
- :mod:`.report`: the chosen trips as a network, the changes per lane, the independent check
  by the promise engine, the provinces and pairs that lose, the named origins' reasons;
- :func:`design_service`: the whole pipeline, as the CLI and a service call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ParameterError, SolverError
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.plan.service.floor import Floor, make_floor, weighted_median
from parcelnet.plan.service.model import SCOPE_TIERS, Candidates, ServiceModel, build_model
from parcelnet.plan.service.report import (apply_design, engine_value, lane_changes,
                                           origin_report, province_histogram, promise_losses)
from parcelnet.plan.service.solve import IMPROVE_SECONDS, Design, exact, greedy
from parcelnet.progress import Progress, or_none
from parcelnet.promise.coverage import coverage
from parcelnet.results import Result, internal

__all__ = ["LAST_SHARE", "METHODS", "SCOPE_TIERS", "Candidates", "Design", "Floor", "ServiceDesign",
           "ServiceModel", "apply_design", "build_model", "design_service", "engine_value",
           "exact", "greedy", "lane_changes", "make_floor", "promise_losses"]


@dataclass(frozen=True, eq=False)
class ServiceDesign(Result):
    """A chosen set of backbone trips and what it does (``parcelnet plan service``): the
    objective (demand-weighted 24 h coverage, checked with the promise engine on the whole new
    network), ``parcelnet coverage``'s share from the hubs, the backbone's cost a day (CNY), and
    per-lane changes. ``network``: the network with exactly the chosen trips."""

    method: str
    budget: float | None
    target: float | None
    candidates: int
    trips_before: int
    trips_after: int
    cost_before: float
    cost_after: float
    objective_before: float
    objective_after: float
    objective_upper_bound: float
    coverage_24h_before: float
    coverage_24h_after: float
    lanes: dict
    seconds: float
    weights: str
    #: the backbone's cost a day over the day's parcels (build.json), CNY (None: unknown)
    parcels_per_day: int | None = None
    cost_per_parcel_before: float | None = None
    cost_per_parcel_after: float | None = None
    #: with a target: the design's cost at the target and at the target minus LAST_SHARE
    last_share: dict | None = None
    budget_met: bool = True
    #: the province floor: the most hours a province's median promise may grow, the trips
    #: kept for it, the provinces it limits
    floor: dict | None = None
    #: every province whose median promise grows or whose 24 h share falls, and every
    #: (origin, destination city) pair that does (median hours and 24 h shares before/after)
    provinces_losing: list = None
    pairs_losing: list = None
    #: with named origins: the order hour, whether the target holds per origin, and per
    #: origin its shares, achievable maximum, bounds, reasons and largest places beyond 24 h
    order_hour: int | None = None
    per_origin: bool = False
    #: today's trips all kept, only new ones chosen
    add_only: bool = False
    origins: list = None
    network: Network = internal(default=None)
    changes: pd.DataFrame = internal(default=None)
    provinces: pd.DataFrame = internal(default=None)

    def to_dict(self) -> dict:
        d = super().to_dict()
        weights = d.pop("weights")
        return {**d, "network": None, "weights": weights}


DESIGN_STAGES = ("decomposing the network", "checking with the promise engine")
#: How trips are chosen: an exact-loss greedy (any size) or the MIP over chains (small networks).
METHODS = ("greedy", "exact")
#: With a target, the design is made again at the target minus this share: what the last
#: share of coverage costs.
LAST_SHARE = 0.05
#: With named origins, rounds of departures timed for the transfers of their parcels: the
#: searches of a few origins are few, so the candidates stay few (docs/plan.md).
RELAY_ROUNDS = 3


def design_service(network: Network, demand: Parcels | None = None, *, budget: float | None = None,
                   target: float | None = None, tiers=SCOPE_TIERS, step: int = 60,
                   new_air: bool = True, method: str = "greedy", time_limit: float | None = None,
                   origins: list[str] | None = None, order_hour: int = 20,
                   max_province_loss_hours: float | None = None, last_share: float = LAST_SHARE,
                   relay: int | None = None, add_only: bool = False,
                   improve_seconds: float = IMPROVE_SECONDS,
                   progress: Progress | None = None) -> ServiceDesign:
    """Choose the backbone trips of ``network`` (see the module docs): with neither ``budget``
    nor ``target``, the best coverage at today's cost; ``method`` "greedy" (any size) or
    "exact" (the MIP over chains, small networks).

    With ``origins`` (facility ids) the orders are those from each origin at the first
    minute of ``order_hour``, and a ``target`` holds for each origin (or, where it cannot,
    the most that origin reaches with every candidate). With ``max_province_loss_hours`` no
    province's median promise grows by more than that (greedy only). With a target the
    design is made again at ``target - last_share`` for what the last share costs. With
    ``add_only`` every trip of today's network stays and only new ones are chosen, so no
    promise from anywhere lengthens (what a design for a few origins costs without taking
    anything from the rest of the country). ``improve_seconds`` bounds the greedy's local
    search per design (targets per origin; :func:`~.solve.greedy`).
    ``relay`` rounds of departures timed for transfers (:func:`build_model`; default
    RELAY_ROUNDS with origins, none otherwise).

    The chosen design's value (and each origin's share, and the floor) is checked against
    the promise engine on the whole new network; a mismatch is a
    :class:`~parcelnet.errors.SolverError`."""
    if method not in METHODS:
        raise ParameterError(f"unknown service design method '{method}': greedy or exact")
    if method == "exact" and max_province_loss_hours is not None:
        raise ParameterError("the province floor is kept by the greedy method, not the exact model")
    if not 0 <= last_share < 1:
        raise ParameterError(f"the last share of coverage to price must be in [0, 1), got {last_share}")
    progress = or_none(progress)
    progress.start(DESIGN_STAGES[0], 1)
    if relay is None:
        relay = RELAY_ROUNDS if origins is not None else 0
    model = build_model(network, demand, tiers=tuple(tiers), step=step, new_air=new_air,
                        origins=origins, hour=order_hour if origins is not None else None,
                        relay=relay)
    progress.advance()
    if budget is None and target is None:
        budget = model.cost(model.current)        # the same money, spent better
    per_origin = origins is not None and target is not None
    floor = None
    if max_province_loss_hours is not None:
        progress.start("province medians before", 1)
        floor = make_floor(model, max_province_loss_hours,
                           weighted_median(province_histogram(network, model.units)))
        progress.advance()

    def solve(b, t) -> Design:
        if method == "exact":
            progress.start("solving the MIP over chains of trips")
            return exact(model, b, t, time_limit=time_limit, per_origin=per_origin,
                         add_only=add_only)
        return greedy(model, b, t, progress=progress, per_origin=per_origin, floor=floor,
                      add_only=add_only, improve_seconds=improve_seconds)

    design = solve(budget, target)
    last = None
    if target is not None and last_share > 0 and target - last_share > 0:
        lower = target - last_share
        try:
            cost_lower = min(solve(None, lower).cost, design.cost)
        except ParameterError:                    # out of reach for the weighted target too
            cost_lower = design.cost
        last = {"target": target, "lower_target": round(lower, 6), "cost_at_target": design.cost,
                "cost_at_lower_target": cost_lower, "last_share_cost": design.cost - cost_lower,
                "how": f"the {method} run again at the lower target (the cheaper of the two "
                       "designs, since the design at the target also meets the lower one)"}
    new = apply_design(model, design.active)
    progress.start(DESIGN_STAGES[1], 3)
    checked_before = engine_value(network, model.weights)
    checked = engine_value(new, model.weights)
    if abs(checked - design.value) > 1e-9:
        raise SolverError(f"the design's coverage {design.value} differs from the promise "
                          f"engine's {checked}; please report this as a bug")
    progress.advance()
    cov_before, cov_after = (coverage(x).population_share_24h for x in (network, new))
    provinces, pairs = promise_losses(network, new, model.units)
    progress.advance()
    floor_info = _check_floor(floor, provinces, design) if floor is not None else None
    named = None
    if origins is not None:
        named = origin_report(model, new, apply_design(model, np.ones(len(model.cand), bool)),
                              upper=design.origin_upper, target=target)
        for r, b, a in zip(named, model.origin_values(model.current), design.origin_values):
            if abs(r["share_before"] - b) > 1e-9 or abs(r["share_after"] - a) > 1e-9:
                raise SolverError(f"origin {r['origin']}: the model's share {b} before, {a} after "
                                  f"differs from the promise engine's {r['share_before']}, "
                                  f"{r['share_after']}; please report this as a bug")
    progress.advance()
    progress.finish()
    changes = lane_changes(model, design.active)
    counts = changes["status"].value_counts().to_dict()
    before_trips = model.current
    ppd = network.parcels_per_day
    cost_before = model.cost(before_trips)
    mb, ma = provinces["median_minutes_before"], provinces["median_minutes_after"]
    grew = (mb >= 0) & ((ma > mb) | (ma < 0))             # -1: beyond the horizon or never
    losing = provinces[grew | (provinces["share_24h_after"] < provinces["share_24h_before"] - 1e-12)]
    losing = losing.drop(columns=["median_minutes_before", "median_minutes_after"])
    return ServiceDesign(
        method=design.method, budget=budget, target=target, candidates=len(model.cand),
        trips_before=int(before_trips.sum()), trips_after=int(design.active.sum()),
        cost_before=cost_before, cost_after=design.cost,
        objective_before=checked_before, objective_after=checked,
        objective_upper_bound=design.upper_bound,
        coverage_24h_before=cov_before, coverage_24h_after=cov_after,
        lanes={k: int(counts.get(k, 0)) for k in ("added", "removed", "more", "fewer", "retimed", "same")},
        seconds=round(design.seconds, 1),
        weights=("named origins" if origins is not None else "demand" if demand is not None
                 else "hubs alike"),
        parcels_per_day=ppd, cost_per_parcel_before=cost_before / ppd if ppd else None,
        cost_per_parcel_after=design.cost / ppd if ppd else None, last_share=last,
        budget_met=design.budget_met, floor=floor_info,
        provinces_losing=losing.to_dict("records"), pairs_losing=pairs.to_dict("records"),
        order_hour=order_hour if origins is not None else None, per_origin=per_origin,
        add_only=add_only,
        origins=named, network=new, changes=changes, provinces=provinces)


def _check_floor(floor: Floor, provinces: pd.DataFrame, design: Design) -> dict:
    """The floor as the promise engine sees it on the new network; a limited province beyond
    its limit is a bug."""
    for lim, b, a, name in zip(floor.limit, provinces["median_minutes_before"],
                               provinces["median_minutes_after"], provinces["admin1"]):
        if lim >= 0 and not 0 <= a <= lim:
            raise SolverError(f"{name}: the median promise grew from {b} to {a} minutes (-1: "
                              "never), beyond the floor; please report this as a bug")
    return {"max_province_loss_hours": floor.hours, "trips_kept": design.kept_for_floor,
            "provinces_limited": int((floor.limit >= 0).sum())}
