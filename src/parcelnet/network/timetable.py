"""The bank timetable: every lane's departures around one overnight cycle (docs/network.md §4).

Times are computed on a signed minute axis (negative = the day before) and wrapped to minutes
of day at the end. The day's cycle, in the order a parcel meets it:

1. **Collection into the evening.** Station -> centre vans leave at
   ``timetable.first_mile_departures``; the last one closes the day.
2. **Origin sort.** Each collection makes a *bank* at the centre: it closes when the vans
   carrying ``timing_share`` of the centre's population have arrived and been sorted.
3. **Late-night line-haul, timed to the sort end.** Centre -> hub feeders leave at every bank;
   direct trunks (and collection trunks to a gateway) at the last ``trunks.banks`` banks. A
   hub's line-haul leaves at its own banks, when ``timing_share`` of its centres' feeders have
   arrived and been sorted.
4. **Air, after the evening sort.** Each gateway's flight to the air hub leaves at its last
   bank that still reaches the air hub by the night sort's cut-off (the ``timing_share``
   quantile, by volume, of the arrivals of the night-bank flights); the air hub's outbound
   bank leaves ``air.hub_minutes`` after the cut-off. Direct flights leave at the night bank.
5. **Arrival before dawn, distribution.** A gateway's trucks to the centres it serves leave
   when its inbound flight has been sorted (the morning bank).
6. **Waves, backward.** Each centre -> station van leaves so that it arrives and is sorted
   ``slack_minutes`` before each of the station's waves; a hub's shuttle (and a gateway's
   distribution truck) to a centre arrives in time for the vans of ``timing_share`` of the
   centre's population. City stations also run the evening waves.

Forward departures are rounded up to ``round_minutes``, backward ones down. Timing to the bulk
of the volume rather than to the farthest feeder is deliberate: outliers take the next trip.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.network.layout import Layout
from parcelnet.network.params import Params
from parcelnet.units import DAY


def round_to(m: np.ndarray, step: int, up: bool) -> np.ndarray:
    """Minutes rounded up (or down) to a multiple of ``step``."""
    m = np.asarray(m, np.float64)
    return (np.ceil(m / step) if up else np.floor(m / step)).astype(np.int64) * step


def wquantile(groups: np.ndarray, values: np.ndarray, weights: np.ndarray, q: float,
              n: int) -> np.ndarray:
    """Per group (0..n-1) and column: the weighted q-quantile of ``values`` (rows x cols),
    the smallest value whose cumulative weight share reaches q. Groups without rows get 0."""
    values = np.asarray(values).reshape(len(groups), -1)
    out = np.zeros((n, values.shape[1]), np.int64)
    order = np.argsort(groups, kind="stable")
    cuts = np.flatnonzero(np.diff(groups[order])) + 1
    for idx in np.split(order, cuts) if len(order) else []:
        w = weights[idx] + 1e-9
        for c in range(values.shape[1]):
            o = np.argsort(values[idx, c], kind="stable")
            cum = np.cumsum(w[o]) / w.sum()
            out[groups[idx[0]], c] = values[idx, c][o][min(np.searchsorted(cum, q - 1e-12), len(o) - 1)]
    return out


def station_waves(lay: Layout, p: Params, centre_km: np.ndarray) -> list[list[tuple[int, int]]]:
    """Per station, its waves (start minute of day, duration): the day's waves, and the evening
    waves where the station is within ``timetable.evening_wave_km`` of its centre."""
    base = list(p.timetable.wave_minutes)
    evening = list(p.timetable.evening_wave_minutes)
    urban = centre_km <= p.timetable.evening_wave_km
    return [base + evening if u else list(base) for u in urban]


def bank_timetable(lay: Layout, lanes: pd.DataFrame, p: Params,
                   waves: list[list[tuple[int, int]]], centre_od: np.ndarray) -> pd.DataFrame:
    """Departure minutes (of day) of every lane of ``lanes`` (:func:`parcelnet.network.links.lay_lanes`):
    a table of (lane, departure)."""
    tp, pr = p.timetable, p.processing
    step, slack, q = tp.round_minutes, tp.slack_minutes, tp.timing_share
    first = np.array(tp.first_mile_minutes, np.int64)
    nC, nH = len(lay.centres), len(lay.hubs)
    spop = lay.stations["population"].to_numpy(float)
    cpop = lay.centres["population"].to_numpy(float)
    dur = lanes["duration"].to_numpy(np.int64)
    fk, tk = lanes["from_kind"].to_numpy(), lanes["to_kind"].to_numpy()
    frm, to = lanes["from_pos"].to_numpy(), lanes["to_pos"].to_numpy()
    tier = lanes["tier"].to_numpy()
    dep: dict[int, set[int]] = {l: set() for l in range(len(lanes))}

    def put(ls, minutes):
        for l, m in zip(ls, minutes):
            dep[int(l)].update(int(x) for x in np.atleast_1d(m))

    # 6. backward from the waves: vans, then the deadlines at each centre per wave column
    n_cols = max(len(w) for w in waves)
    lm = np.flatnonzero(tier == "last_mile")
    starts = np.full((len(lm), n_cols), np.iinfo(np.int64).max // 4, np.int64)
    has = np.zeros((len(lm), n_cols), bool)
    for r, l in enumerate(lm):
        ws = np.array([s for s, _ in waves[to[l]]], np.int64)
        van = round_to(ws - slack - pr.station_minutes - dur[l], step, False)
        put([l], [van])
        starts[r, :len(van)], has[r, :len(van)] = van, True
    deadline = np.zeros((nC, n_cols), np.int64)
    for c in range(n_cols):
        rows = np.flatnonzero(has[:, c])
        if len(rows):
            got = wquantile(frm[lm[rows]], starts[rows, c], spop[to[lm[rows]]], 1 - q, nC)[:, 0]
            present = np.zeros(nC, bool)
            present[frm[lm[rows]]] = True
            deadline[present, c] = got[present]
    has_c = np.zeros((nC, n_cols), bool)
    for r, l in enumerate(lm):
        has_c[frm[l]] |= has[r]
    into_centre = np.flatnonzero((tk == "C") & ((tier == "feeder") | lanes["distribute"].to_numpy()))
    for l in into_centre:
        if fk[l] == "A":
            continue                      # the air hub's truck to its city: timed by the air bank
        cols = np.flatnonzero(has_c[to[l]])
        put([l], [round_to(deadline[to[l], cols] - slack - pr.centre_minutes - dur[l], step, False)])

    # 1-2. collection and the centres' banks
    fm = np.flatnonzero(tier == "first_mile")
    put(fm, [first] * len(fm))
    sorted_at = first[None, :] + dur[fm][:, None] + pr.centre_minutes
    banks_c = round_to(wquantile(to[fm], sorted_at, spop[frm[fm]], q, nC), step, True)

    # 3. feeders at every bank, trunks at the last banks, hubs' line-haul at the hubs' banks
    up = np.flatnonzero((tier == "feeder") & (fk == "C") & (tk == "H"))
    put(up, banks_c[frm[up]])
    night = banks_c[:, -min(p.trunks.banks, banks_c.shape[1]):]
    trunk = np.flatnonzero(lanes["trunk"].to_numpy() | lanes["collect"].to_numpy())
    put(trunk, night[frm[trunk]])
    banks_h = round_to(wquantile(to[up], banks_c[frm[up]] + dur[up][:, None] + pr.hub_minutes,
                                 cpop[frm[up]], q, nH), step, True)
    lh = np.flatnonzero(tier == "linehaul")
    put(lh, banks_h[frm[lh]])

    # 4. the air network's night
    if lay.has_air:
        to_hub = np.flatnonzero(tk == "A")
        g = frm[to_hub]
        last = banks_c[g, -1]
        w = centre_od[g].sum(axis=1) + centre_od[:, g].sum(axis=0) + 1.0
        cutoff = int(wquantile(np.zeros(len(g), np.int64), last + dur[to_hub], w, q, 1)[0, 0])
        for l, x in zip(to_hub, g):
            ok = np.flatnonzero(banks_c[x] + dur[l] <= cutoff)
            put([l], [banks_c[x, ok[-1]] if len(ok) else banks_c[x, -1]])
        out_bank = int(round_to(np.array([cutoff + p.air.hub_minutes]), step, True)[0])
        from_hub = np.flatnonzero(fk == "A")
        put(from_hub, [out_bank] * len(from_hub))
        direct = np.flatnonzero((tier == "air") & (fk == "C") & (tk == "C"))
        put(direct, banks_c[frm[direct], -1])
        # 5. the morning bank: gateways distribute once their inbound flight is sorted
        morning = np.full(nC, -1, np.int64)
        for l in from_hub:
            morning[to[l]] = round_to(np.array([out_bank + dur[l] + pr.centre_minutes]), step, True)[0]
        dist = np.flatnonzero(lanes["distribute"].to_numpy())
        put(dist, [morning[frm[l]] if morning[frm[l]] >= 0 else [] for l in dist])

    rows = [(l, int(m)) for l in range(len(lanes)) for m in sorted({x % DAY for x in dep[l]})]
    return pd.DataFrame(rows, columns=["lane", "departure"])
