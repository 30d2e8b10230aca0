"""Variants of a network with scaled capacities, for simulating a sample of a day.

Simulating 1/k of a day's parcels on trips and sorters with 1/k of their
capacity keeps every utilisation, and so where the network saturates, while
the run is k times smaller.
"""

from __future__ import annotations

import numpy as np

from parcelnet.errors import ParameterError
from parcelnet.network.model import Network


def scale_capacity(network: Network, factor: float = 1.0, *, trip_factor=None,
                   sort_factor=None) -> Network:
    """Trip capacities and sorter rates times ``factor``, rounded up (at least 1);
    unlimited sorters (0) stay unlimited. (Rounded to 9 decimals first, so that 100 x 0.07 =
    7.000000000000001 in floating point gives 7, not 8.) ``trip_factor`` (per trip, trips.csv
    order) and ``sort_factor`` (per facility) multiply ``factor`` where given, rounded once."""
    ft = factor if trip_factor is None else factor * np.asarray(trip_factor, np.float64)
    fs = factor if sort_factor is None else factor * np.asarray(sort_factor, np.float64)
    for f in (ft, fs):
        if not (np.all(np.asarray(f) > 0) and np.all(np.isfinite(f))):
            raise ParameterError(f"capacity scale must be a positive number, got {factor}")
    cap = network.timetable.trip_capacity
    spm = network.timetable.sort_per_minute
    return network.with_capacities(
        trip_capacity=np.maximum(1, np.ceil(np.round(cap * ft, 9))).astype(np.int64),
        sort_per_minute=np.where(spm > 0, np.maximum(1, np.ceil(np.round(spm * fs, 9))), 0))
