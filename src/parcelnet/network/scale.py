"""Variants of a network with scaled capacities, for simulating a sample of a day.

Simulating 1/k of a day's parcels on trips and sorters with 1/k of their
capacity keeps every utilisation, and so where the network saturates, while
the run is k times smaller.
"""

from __future__ import annotations

import numpy as np

from parcelnet.errors import ParameterError
from parcelnet.network.model import Network


def scale_capacity(network: Network, factor: float) -> Network:
    """Trip capacities and sorter rates times ``factor``, rounded up (at least 1);
    unlimited sorters (0) stay unlimited. (Rounded to 9 decimals first, so that 100 x 0.07 =
    7.000000000000001 in floating point gives 7, not 8.)"""
    if not (factor > 0 and np.isfinite(factor)):
        raise ParameterError(f"capacity scale must be a positive number, got {factor}")
    cap = network.timetable.trip_capacity
    spm = network.timetable.sort_per_minute
    return network.with_capacities(
        trip_capacity=np.maximum(1, np.ceil(np.round(cap * factor, 9))).astype(np.int64),
        sort_per_minute=np.where(spm > 0, np.maximum(1, np.ceil(np.round(spm * factor, 9))), 0))
