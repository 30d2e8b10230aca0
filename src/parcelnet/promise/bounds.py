"""Lower bounds on a promise, ignoring the timetable: what no departure or wave time can beat.

- :func:`free_flow`: the network's fastest chain of lanes, with no wait for any departure or
  wave (lane durations, processing at every facility, the shortest wave at the end).
- :func:`physical_minimum`: a direct link over the great circle at the network's fastest speed.

``parcelnet explain`` and the coverage report use them to say why a station is not reached
within 24 hours.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from parcelnet.geo.coords import haversine_km
from parcelnet.network.model import Network
from parcelnet.network.schema import LANE_MODES

AIR = LANE_MODES.index("air")


def free_flow(network: Network, origin, ground_only: bool = False) -> np.ndarray:
    """Minutes from creation at ``origin`` to delivery at every facility when no departure or
    wave is waited for: processing, lane durations and the shortest wave (inf: unreachable;
    for a facility without waves, up to being ready there). ``origin``: a position (1-d
    result) or an array of them (one row each)."""
    tt = network.timetable
    n = tt.n_facilities
    keep = np.ones(len(tt.lane_from), bool) if not ground_only else tt.lane_mode != AIR
    w = (tt.lane_duration + tt.process[tt.lane_to])[keep].astype(np.float64)
    # parallel lanes: the fastest counts (csr_matrix would add duplicates up)
    order = np.lexsort((w, tt.lane_to[keep], tt.lane_from[keep]))
    f, t, w = tt.lane_from[keep][order], tt.lane_to[keep][order], w[order]
    first = np.ones(len(f), bool)
    first[1:] = (f[1:] != f[:-1]) | (t[1:] != t[:-1])
    g = csr_matrix((w[first] + 1e-9, (f[first], t[first])), shape=(n, n))   # +eps: keep zeros
    many = np.ndim(origin) > 0
    o = np.atleast_1d(np.asarray(origin, np.int64))
    dist = dijkstra(g, indices=o).reshape(len(o), n) + tt.process[o][:, None]
    out = np.round(dist + _shortest_wave(tt))
    return out if many else out[0]


#: Block speed of a direct flight (km/h, gate to gate over the great circle) when the network's
#: own lanes are slower: a narrow-body freighter cruises at about 800 km/h; taxi, climb and
#: descent bring a 1,000-2,000 km sector to about 600 km/h.
AIR_BLOCK_KMH = 600.0


def physical_minimum(network: Network, origin: int) -> tuple[np.ndarray, np.ndarray, float]:
    """(minutes, km per facility; km/h): the least time from creation at ``origin`` to delivery
    at each facility by a direct link over the great circle at the fastest speed of any lane of
    the network (at least AIR_BLOCK_KMH), with the processing at both ends and the shortest
    wave there."""
    tt = network.timetable
    ll = network.lat_lon
    km = haversine_km(ll[origin, 0], ll[origin, 1], ll[:, 0], ll[:, 1])
    dist = network.lanes["distance_km"].astype(float).to_numpy()
    speeds = dist / tt.lane_duration * 60.0 if len(dist) else np.zeros(0)
    kmh = max(AIR_BLOCK_KMH, float(speeds.max()) if len(speeds) else 0.0)
    away = np.arange(tt.n_facilities) != origin
    minutes = tt.process[origin] + np.where(away, km / kmh * 60.0 + tt.process, 0.0) + _shortest_wave(tt)
    return minutes, km, kmh


def _shortest_wave(tt) -> np.ndarray:
    out = np.zeros(tt.n_facilities)
    has = np.diff(tt.wave_ptr) > 0
    if has.any():
        out[has] = np.minimum.reduceat(tt.wave_duration, tt.wave_ptr[:-1][has])
    return out
