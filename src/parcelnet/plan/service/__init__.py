"""Service network design for 24 hours (``parcelnet plan service``): which backbone trips to
run for the best coverage within a budget, or a coverage target at least cost.

- :mod:`.model`: the exact decomposition of the problem (docs/plan.md), :func:`build_model`;
- :mod:`.solve`: a greedy drop from every candidate (any size) and an exact MIP (small);
- :mod:`.report`: the chosen trips as a network, the changes per lane, the independent check
  by the promise engine;
- :func:`design_service`: the whole pipeline, as the CLI and a service call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from parcelnet.errors import ParameterError, SolverError
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.plan.service.model import SCOPE_TIERS, Candidates, ServiceModel, build_model
from parcelnet.plan.service.report import apply_design, engine_value, lane_changes
from parcelnet.plan.service.solve import Design, exact, greedy
from parcelnet.progress import Progress, or_none
from parcelnet.promise.coverage import coverage
from parcelnet.results import Result, internal

__all__ = ["METHODS", "SCOPE_TIERS", "Candidates", "Design", "ServiceDesign", "ServiceModel", "apply_design",
           "build_model", "design_service", "engine_value", "exact", "greedy", "lane_changes"]


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
    network: Network = internal()
    changes: pd.DataFrame = internal()

    def to_dict(self) -> dict:
        d = super().to_dict()
        weights = d.pop("weights")
        return {**d, "network": None, "weights": weights}


DESIGN_STAGES = ("decomposing the network", "checking with the promise engine")
#: How trips are chosen: an exact-loss greedy (any size) or the MIP over chains (small networks).
METHODS = ("greedy", "exact")


def design_service(network: Network, demand: Parcels | None = None, *, budget: float | None = None,
                   target: float | None = None, tiers=SCOPE_TIERS, step: int = 60,
                   new_air: bool = True, method: str = "greedy", time_limit: float | None = None,
                   progress: Progress | None = None) -> ServiceDesign:
    """Choose the backbone trips of ``network`` (see the module docs): with neither ``budget``
    nor ``target``, the best coverage at today's cost; ``method`` "greedy" (any size) or
    "exact" (the MIP over chains, small networks). The chosen design's value is checked
    against the promise engine on the whole new network; a mismatch is a
    :class:`~parcelnet.errors.SolverError`."""
    if method not in METHODS:
        raise ParameterError(f"unknown service design method '{method}': greedy or exact")
    progress = or_none(progress)
    progress.start(DESIGN_STAGES[0], 1)
    model = build_model(network, demand, tiers=tuple(tiers), step=step, new_air=new_air)
    progress.advance()
    if budget is None and target is None:
        budget = model.cost(model.current)        # the same money, spent better
    if method == "exact":
        progress.start("solving the MIP over chains of trips")
        design = exact(model, budget, target, time_limit=time_limit)
    else:
        design = greedy(model, budget, target, progress=progress)
    new = apply_design(model, design.active)
    progress.start(DESIGN_STAGES[1], 2)
    checked_before = engine_value(network, model.weights)
    checked = engine_value(new, model.weights)
    progress.advance()
    cov_before, cov_after = (coverage(x).population_share_24h for x in (network, new))
    progress.advance()
    progress.finish()
    if abs(checked - design.value) > 1e-9:
        raise SolverError(f"the design's coverage {design.value} differs from the promise "
                          f"engine's {checked}; please report this as a bug")
    changes = lane_changes(model, design.active)
    counts = changes["status"].value_counts().to_dict()
    before = model.current
    return ServiceDesign(
        method=design.method, budget=budget, target=target, candidates=len(model.cand),
        trips_before=int(before.sum()), trips_after=int(design.active.sum()),
        cost_before=model.cost(before), cost_after=design.cost,
        objective_before=checked_before, objective_after=checked,
        objective_upper_bound=design.upper_bound,
        coverage_24h_before=cov_before, coverage_24h_after=cov_after,
        lanes={k: int(counts.get(k, 0)) for k in ("added", "removed", "more", "fewer", "retimed", "same")},
        seconds=round(design.seconds, 1), weights="demand" if demand is not None else "hubs alike",
        network=new, changes=changes)
