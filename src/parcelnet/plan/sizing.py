"""Capacities sized by simulating a design day (``capacity.method = "simulated"``, the
builder's default; docs/network.md §5).

A sample of the demand model (``capacity.sizing_parcels`` parcels of a normal day, seed 0)
runs through the timetable with unlimited capacity (:func:`parcelnet.sim.run.simulate`). Each
trip gets vehicles for its daily boardings, each sorter the rate of its busiest hour of day,
scaled from the sample to the day's volume, times ``capacity.headroom`` (sorters also times
``capacity.sorter_peak_factor``: trucks unload in bursts, so a sorter must clear its busiest
hour faster than in an hour for connections to hold). A steady state is assumed: all days'
boardings of a trip are one day's.
"""

from __future__ import annotations

import numpy as np

from parcelnet.network.build import Draft
from parcelnet.network.model import Network


def size_by_simulation(draft: Draft, net: Network, seed: int = 0) -> Network:
    """``net`` (the draft's gravity-sized network) with capacities for its design day."""
    from parcelnet.demand import sample_parcels
    from parcelnet.sim.run import simulate
    tt = net.timetable
    free = net.with_capacities(np.full(len(tt.trip_lane), 10**9), np.zeros(tt.n_facilities, np.int64))
    n = int(draft.params.capacity.sizing_parcels)
    res = simulate(free, sample_parcels(free, n, "normal", seed=seed))
    scale = draft.volume / n
    load = res.raw.trip_boarded * scale
    hourly = res.raw.hourly
    by_hour = np.zeros((hourly.shape[0], 24))
    for h in range(hourly.shape[1]):              # fold absolute hours onto hours of day
        by_hour[:, (h + res.raw.hour0) % 24] += hourly[:, h]
    return draft.sized(net, load, by_hour * scale)
