"""``parcelnet build``: the default network of a country, the whole pipeline.

The network layer (:mod:`parcelnet.network.build`) lays out stations, centres and hubs, times
the trips and sizes capacities by the gravity model. Two steps of the default build need more
than the network layer, so the pipeline lives here, in the design layer:

- ``hubs.method = "p-hub"``: the p-median hubs are moved by the single-allocation p-hub median
  search (:func:`parcelnet.plan.hubs.local_search`) on the gravity flows between centres;
- ``capacity.method = "simulated"`` (the default): capacities are sized by simulating a design
  day of the demand model (:mod:`parcelnet.plan.sizing`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.geo.gravity import gravity
from parcelnet.network.build import BUILD_STAGES, draft_network
from parcelnet.network.layout import Layout
from parcelnet.network.layout import plan_layout as _network_layout
from parcelnet.network.model import Network
from parcelnet.network.params import Params, load_params
from parcelnet.progress import Progress, or_none

SIZING_STAGE = "sizing capacities by simulating a design day"


def p_hub_hubs(centres: pd.DataFrame, dist: np.ndarray, med: np.ndarray, params: Params):
    """Hubs (sorted) and each centre's hub by the p-hub median local search from the p-median
    hubs ``med``: gravity flows between centres (the volume model's), road distances, hub-to-hub
    legs at ``hubs.transfer_discount`` of the cost."""
    from parcelnet.plan.hubdata import HubInstance
    from parcelnet.plan.hubs import local_search
    pv = params.volume
    pop = centres["population"].to_numpy(float)
    flow = gravity(pop, pop, dist, pv.distance_scale_km, pv.distance_decay)
    np.fill_diagonal(flow, 0)
    flow /= flow.sum() if flow.sum() > 0 else 1.0
    road = dist * params.speeds.circuity
    inst = HubInstance("centres", road, flow, len(med), 1.0, params.hubs.transfer_discount, 1.0)
    sol = local_search(inst, start_hubs=med)
    hubs = np.asarray(sol.hubs, np.int64) - 1
    alloc = np.asarray(sol.allocation, np.int64) - 1
    return hubs, np.searchsorted(hubs, alloc)


def plan_layout(places: pd.DataFrame, params: Params) -> Layout:
    """The builder's layout, with ``hubs.method = "p-hub"`` applied."""
    return _network_layout(places, params, refine_hubs=p_hub_hubs)


def build_network(country: str, params: Params | None = None,
                  progress: Progress | None = None) -> Network:
    """Build the default network of ``country`` (ISO alpha-2) with ``params`` (default: the
    packaged parameters of that country)."""
    from parcelnet.plan.sizing import size_by_simulation
    params = params or load_params(country)
    progress = or_none(progress)
    draft = draft_network(country, params, refine_hubs=p_hub_hubs, progress=progress)
    progress.start(BUILD_STAGES[3])
    net = draft.network()
    if params.capacity.method == "simulated":
        progress.start(SIZING_STAGE)
        net = size_by_simulation(draft, net)
    progress.finish()
    return net
