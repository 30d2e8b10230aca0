"""The capacity rules of the simulation, one hand-checked case per rule.

Every test builds a small network, writes it as a PNF folder and runs every simulator we have
(the independent SimPy peer, tests/oracles/simpy_peer.py, and parcelnet.sim when it imports) on
the same parcels; each must give the delivered minutes worked out by hand in the comments.

Conventions of the hand computations: a facility is written NAME(c=sort_per_minute,
p=process_minutes). "Every-minute waves" is a station with a wave of duration 0 starting at every
minute of the day, so its delivered minute equals the parcel's ready minute there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from parcelnet.network.model import Network
from parcelnet.network.pnf import load_network, write_pnf

from tests.oracles.simpy_peer import simulate_simpy

DAY = 1440


# -- helpers ---------------------------------------------------------------------------------

def every_minute(station: str) -> list[tuple[str, int, int]]:
    return [(station, m, 0) for m in range(DAY)]


def make_network(folder, facilities, lanes, trips, waves):
    """facilities: (id, kind, sort_per_minute, process_minutes); lanes: (id, from, to, duration);
    trips: (trip_id, lane_id, departure_minute, capacity); waves: (station, start, duration).
    Writes the PNF folder and returns it."""
    fac = pd.DataFrame([(f, k, f"Facility {f}", 30.0, 110.0, c, p) for f, k, c, p in facilities],
                       columns=["facility_id", "kind", "name", "lat", "lon", "sort_per_minute",
                                "process_minutes"])
    lan = pd.DataFrame([(lid, a, b, "truck", d, 100.0, 10.0) for lid, a, b, d in lanes],
                       columns=["lane_id", "from_facility", "to_facility", "mode",
                                "duration_minutes", "distance_km", "cost_per_trip"])
    tri = pd.DataFrame(trips, columns=["trip_id", "lane_id", "departure_minute", "capacity"])
    wav = pd.DataFrame(waves, columns=["station_id", "start_minute", "duration_minutes"])
    stations = [f for f, k, _, _ in facilities if k == "station"]
    pla = pd.DataFrame({"place_id": [f"P{s}" for s in stations], "name": "x", "lat": 30.0,
                        "lon": 110.0, "population": 1000, "admin1": "R", "admin2": "",
                        "station_id": stations})
    tables = {"facilities.csv": fac, "lanes.csv": lan, "trips.csv": tri, "waves.csv": wav,
              "places.csv": pla}
    net = Network.from_tables({k: v.astype(str) for k, v in tables.items()})
    write_pnf(net, folder)
    return folder


def _parcelnet_sim():
    try:
        from parcelnet.sim import simulate_paths
    except ImportError:
        return None
    return simulate_paths


def run_all_simulators(folder, parcels, horizon_minutes=None) -> dict[str, dict[int, int | None]]:
    """name -> {parcel_id: delivered minute or None} for the SimPy peer and, when it imports,
    parcelnet.sim.simulate_paths (given facility and lane positions as parcelnet loads them)."""
    parcels = list(parcels)
    out = {"simpy": simulate_simpy(folder, parcels, horizon_minutes)}
    simulate_paths = _parcelnet_sim()
    if simulate_paths is not None:
        net = load_network(folder)
        lanes = [net.lane_index.get_loc(lid) for p in parcels for lid in p[4]]
        ptr = np.concatenate([[0], np.cumsum([len(p[4]) for p in parcels])]).astype(np.int64)
        from parcelnet.parcels import Parcels
        res = simulate_paths(
            net,
            Parcels(np.array([p[0] for p in parcels], np.int64),
                    np.array([p[1] for p in parcels], np.int64),
                    np.array([net.facility(p[2]) for p in parcels], np.int64),
                    np.array([net.facility(p[3]) for p in parcels], np.int64)),
            ptr, np.array(lanes, np.int64), horizon_minutes=horizon_minutes)
        out["parcelnet"] = {p[0]: (None if int(d) < 0 else int(d)) for p, d in zip(parcels, res)}
    return out


def check(folder, parcels, expected: dict[int, int | None], horizon_minutes=None):
    results = run_all_simulators(folder, parcels, horizon_minutes)
    for name, got in results.items():
        assert got == expected, f"{name}: {got} != {expected}"
    return results


# -- (a) sorter capacity ---------------------------------------------------------------------

def test_sorter_limit_same_minute(tmp_path):
    # S(c=2, p=5), every-minute waves; 5 parcels created at S (origin = destination) at 100,
    # given out of id order. Handled by parcel_id, 2 per minute:
    #   ids 1, 2 at 100 -> ready 105;  ids 3, 4 at 101 -> ready 106;  id 5 at 102 -> ready 107.
    folder = make_network(tmp_path, [("S", "station", 2, 5)], [], [], every_minute("S"))
    parcels = [(pid, 100, "S", "S", []) for pid in (4, 1, 5, 3, 2)]
    check(folder, parcels, {1: 105, 2: 105, 3: 106, 4: 106, 5: 107})


def test_sorter_limit_interleaved_arrivals(tmp_path):
    # S(c=2, p=0), every-minute waves. Arrivals: ids 10, 11, 12 at 100; ids 1, 2 at 101;
    # id 3 at 104. FCFS by (arrival minute, parcel_id):
    #   minute 100: queue (100,10) (100,11) (100,12)         -> handles 10, 11
    #   minute 101: queue (100,12) (101,1) (101,2)           -> handles 12, 1 (12 came first)
    #   minute 102: queue (101,2)                            -> handles 2
    #   minute 103: idle;  minute 104: handles 3
    folder = make_network(tmp_path, [("S", "station", 2, 0)], [], [], every_minute("S"))
    parcels = [(1, 101, "S", "S", []), (12, 100, "S", "S", []), (3, 104, "S", "S", []),
               (2, 101, "S", "S", []), (10, 100, "S", "S", []), (11, 100, "S", "S", [])]
    check(folder, parcels, {10: 100, 11: 100, 12: 101, 1: 101, 2: 102, 3: 104})


def test_sorter_unlimited(tmp_path):
    # S(c=0, p=5): all 5 parcels arriving at 100 are handled at 100 -> ready 105.
    folder = make_network(tmp_path, [("S", "station", 0, 5)], [], [], every_minute("S"))
    parcels = [(pid, 100, "S", "S", []) for pid in (4, 1, 5, 3, 2)]
    check(folder, parcels, {pid: 105 for pid in range(1, 6)})


def test_sorters_at_intermediate_and_destination(tmp_path):
    # A(c=0, p=0) --L1 dep 0, dur 10--> H(c=1, p=2) --L2 deps 13 and 20, dur 5--> B(c=1, p=1),
    # B with every-minute waves. Parcels 1, 2, 3 created at A at 0: all board L1 at 0, arrive H 10.
    #   H handles 1 at 10 (ready 12), 2 at 11 (ready 13), 3 at 12 (ready 14).
    #   L2 at 13 takes 1, 2 (ready <= 13); 3 (ready 14) waits for 20.
    #   B: 1, 2 arrive at 18: 1 handled at 18 -> ready 19; 2 at 19 -> ready 20.
    #      3 arrives at 25, handled at 25 -> ready 26.
    folder = make_network(
        tmp_path,
        [("A", "station", 0, 0), ("H", "hub", 1, 2), ("B", "station", 1, 1)],
        [("L1", "A", "H", 10), ("L2", "H", "B", 5)],
        [("T1", "L1", 0, 100), ("T2", "L2", 13, 100), ("T3", "L2", 20, 100)],
        [("A", 0, 0)] + every_minute("B"))
    parcels = [(pid, 0, "A", "B", ["L1", "L2"]) for pid in (3, 2, 1)]
    check(folder, parcels, {1: 19, 2: 20, 3: 26})


# -- (b) boarding order and capacity ---------------------------------------------------------

def test_boarding_order_and_leftovers(tmp_path):
    # A(c=0, p=0) --L1 dep 600 cap 2, dur 60--> B(c=0, p=0), every-minute waves.
    # Ready at A = created. Departure 600 (day 0) boards, of ready <= 600, in (ready, id) order:
    #   (500,5) (550,1) (550,2) (590,9) (600,4)   -> boards 5, 1      -> arrive 660
    #   3 (ready 601) cannot take it.
    # Day 1, 2040: (550,2) (590,9) (600,4) (601,3) -> boards 2, 9      -> arrive 2100
    # Day 2, 3480: (600,4) (601,3)                 -> boards 4, 3      -> arrive 3540
    folder = make_network(
        tmp_path, [("A", "station", 0, 0), ("B", "station", 0, 0)], [("L1", "A", "B", 60)],
        [("T1", "L1", 600, 2)], [("A", 0, 0)] + every_minute("B"))
    parcels = [(3, 601, "A", "B", ["L1"]), (9, 590, "A", "B", ["L1"]), (4, 600, "A", "B", ["L1"]),
               (2, 550, "A", "B", ["L1"]), (1, 550, "A", "B", ["L1"]), (5, 500, "A", "B", ["L1"])]
    check(folder, parcels, {5: 660, 1: 660, 2: 2100, 9: 2100, 4: 3540, 3: 3540})


def test_boarding_by_ready_minute_not_creation(tmp_path):
    # Boarding orders by ready minute at the lane's origin, after that facility's sorter:
    # A(c=1, p=10) --L1 dep 100 cap 1, dur 5--> B(c=0, p=0), every-minute waves.
    # ids 7, 8 created at A at 50: 7 handled 50 -> ready 60; 8 handled 51 -> ready 61.
    # id 1 created at 90: handled 90 -> ready 100.
    # Departure 100 (cap 1): (60,7) (61,8) (100,1) -> 7. Day 1 (1540): 8. Day 2 (2980): 1.
    folder = make_network(
        tmp_path, [("A", "station", 1, 10), ("B", "station", 0, 0)], [("L1", "A", "B", 5)],
        [("T1", "L1", 100, 1)], [("A", 0, 0)] + every_minute("B"))
    parcels = [(1, 90, "A", "B", ["L1"]), (8, 50, "A", "B", ["L1"]), (7, 50, "A", "B", ["L1"])]
    check(folder, parcels, {7: 105, 8: 1545, 1: 2985})


# -- (c) trips of one lane in the same minute ------------------------------------------------

def test_same_minute_trips_board_in_trip_id_string_order(tmp_path):
    # A(c=0, p=0) --L1 dur 60--> B(c=0, p=0), every-minute waves. Trips of L1 (file order):
    #   T9 at 600 cap 1, T10 at 600 cap 2, T8 at 700 cap 1.
    # Parcels 1..5 created at A at 500. At 600, "T10" < "T9" as strings:
    #   T10 boards 1, 2; T9 boards 3                        -> arrive 660
    #   (numeric order would give T9: 1 and T10: 2, 3; the delivered minutes are the same, as
    #    both trips are of one lane, so the trip of each parcel is checked on the peer's trace)
    # At 700, T8 boards 4                                   -> arrive 760
    # Day 1, 2040: T10 boards 5                             -> arrive 2100
    folder = make_network(
        tmp_path, [("A", "station", 0, 0), ("B", "station", 0, 0)], [("L1", "A", "B", 60)],
        [("T9", "L1", 600, 1), ("T10", "L1", 600, 2), ("T8", "L1", 700, 1)],
        [("A", 0, 0)] + every_minute("B"))
    parcels = [(pid, 500, "A", "B", ["L1"]) for pid in (5, 4, 3, 2, 1)]
    check(folder, parcels, {1: 660, 2: 660, 3: 660, 4: 760, 5: 2100})
    trace = {}
    simulate_simpy(folder, parcels, trace=trace)
    assert trace == {1: ["T10"], 2: ["T10"], 3: ["T9"], 4: ["T8"], 5: ["T10"]}


def test_same_minute_trips_capacity_is_shared_in_order(tmp_path):
    # Two trips at 600: "T10" cap 1, "T9" cap 1; 3 parcels ready before 600.
    # T10 boards 1, T9 boards 2, 3 waits for the next day (2040, T10) -> arrive 660, 660, 2100.
    folder = make_network(
        tmp_path, [("A", "station", 0, 0), ("B", "station", 0, 0)], [("L1", "A", "B", 60)],
        [("T9", "L1", 600, 1), ("T10", "L1", 600, 1)], [("A", 0, 0)] + every_minute("B"))
    parcels = [(pid, 0, "A", "B", ["L1"]) for pid in (1, 2, 3)]
    check(folder, parcels, {1: 660, 2: 660, 3: 2100})
    trace = {}
    simulate_simpy(folder, parcels, trace=trace)
    assert trace == {1: ["T10"], 2: ["T9"], 3: ["T10"]}


# -- (d) delivery waves ----------------------------------------------------------------------

def test_waves(tmp_path):
    # B(c=0, p=10) with waves (480, 180) and (840, 120): ends 660 and 960.
    # C(c=0, p=0) with overlapping waves (480, 600) -> ends 1080 and (500, 60) -> ends 560.
    # A(c=0, p=0) --L1 dep 900, dur 60--> B.
    # Origin = destination (the one visit of B's sorter, then the wave):
    #   1: created 400 at B, ready 410 -> wave 480 -> 660
    #   2: created 470, ready 480 -> wave starting at 480 (at or after) -> 660
    #   3: created 471, ready 481 -> wave 840 -> 960
    #   4: created 1000, ready 1010 -> no wave left today -> day 1 wave 480 -> 1440 + 660 = 2100
    #   5: created 2270 (day 1, 830), ready 2280 (day 1, 840) -> 1440 + 960 = 2400
    # Via a lane:
    #   6: created 0 at A, departs 900, arrives B 960, ready 970 -> day 1 wave 480 -> 2100
    # The first wave starting at or after ready, even when a later one ends earlier:
    #   7: created 470 at C, ready 470 -> wave 480 -> 1080 (not the 500 wave ending at 560)
    #   8: created 490 at C, ready 490 -> wave 500 -> 560
    folder = make_network(
        tmp_path,
        [("A", "station", 0, 0), ("B", "station", 0, 10), ("C", "station", 0, 0)],
        [("L1", "A", "B", 60)], [("T1", "L1", 900, 10)],
        [("A", 0, 0), ("B", 840, 120), ("B", 480, 180), ("C", 480, 600), ("C", 500, 60)])
    parcels = [(1, 400, "B", "B", []), (2, 470, "B", "B", []), (3, 471, "B", "B", []),
               (4, 1000, "B", "B", []), (5, 2270, "B", "B", []), (6, 0, "A", "B", ["L1"]),
               (7, 470, "C", "C", []), (8, 490, "C", "C", [])]
    check(folder, parcels, {1: 660, 2: 660, 3: 960, 4: 2100, 5: 2400, 6: 2100, 7: 1080, 8: 560})


def test_waves_starting_in_the_same_minute_take_the_earliest_end(tmp_path):
    # S(c=0, p=0) with waves (100, 200) and (100, 20), in this file order. Both are "the first
    # wave starting at or after" ready 0; the one ending first is taken: 100 + 20 = 120.
    # (The promise oracle tests/promise/oracle.py and benchmarks/peer_td_dijkstra.py resolve the
    # tie the same way: waves sorted by (start, duration).)
    folder = make_network(tmp_path, [("S", "station", 0, 0)], [], [], [("S", 100, 200), ("S", 100, 20)])
    check(folder, [(1, 0, "S", "S", [])], {1: 120})


# -- (e) horizon -----------------------------------------------------------------------------

def _horizon_network(tmp_path):
    # A(c=0, p=0) --L1 dep 1000, dur 60--> B(c=0, p=10), B waves (480, 180).
    return make_network(
        tmp_path, [("A", "station", 0, 0), ("B", "station", 0, 10)], [("L1", "A", "B", 60)],
        [("T1", "L1", 1000, 10)], [("A", 0, 0), ("B", 480, 180)])


@pytest.mark.parametrize("horizon, delivered", [
    # Parcel 1: created 0 at A, departs 1000, arrives B 1060, ready 1070 -> day 1 wave -> 2100.
    # Parcel 2: created 100 at B (origin = destination), ready 110 -> wave 480 -> 660.
    # H = last creation (100) + horizon. A parcel is delivered iff its wave ends by H.
    (None, 2100),   # H = 10180: plenty
    (2000, 2100),   # H = 2100: the day-1 wave ends exactly at H -> delivered
    (1999, None),   # H = 2099: sorted at B (1060) and ready (1070) in time, but the wave ends after H
    (969, None),    # H = 1069: not even ready at B by H
    (900, None),    # H = 1000: departs in minute H, still in transit after H
    (899, None),    # H = 999: still waiting at A
])
def test_horizon(tmp_path, horizon, delivered):
    folder = _horizon_network(tmp_path)
    parcels = [(1, 0, "A", "B", ["L1"]), (2, 100, "B", "B", [])]
    check(folder, parcels, {1: delivered, 2: 660}, horizon_minutes=horizon)


def test_default_horizon_is_seven_days(tmp_path):
    # A(c=0, p=0) --L1 dep 600 cap 1, dur 60--> B(c=0, p=0), B wave (0, 0) only.
    # 10 parcels created at A at 0; H = 0 + 10080. One departs per day: parcel k (1..10) on day
    # k-1 at 600 + 1440(k-1), arrives 660 + 1440(k-1), delivered at the next midnight 1440k.
    # Departures by H: 600 + 1440(k-1) <= 10080 -> k <= 7. Parcels 8, 9, 10 are not delivered.
    folder = make_network(
        tmp_path, [("A", "station", 0, 0), ("B", "station", 0, 0)], [("L1", "A", "B", 60)],
        [("T1", "L1", 600, 1)], [("A", 0, 0), ("B", 0, 0)])
    parcels = [(pid, 0, "A", "B", ["L1"]) for pid in range(1, 11)]
    check(folder, parcels, {k: (DAY * k if k <= 7 else None) for k in range(1, 11)})


# -- (f) order of events within one minute ---------------------------------------------------

def test_within_minute_order(tmp_path):
    # A(c=0, p=0) --L1 dep 0 and 600, dur 100--> H(c=1, p=0) --L2 dep 100 and 700, dur 50--> B
    # H2(c=0, p=1) --L3 dep 100, dur 50--> B;  A --L4 dep 0, dur 100--> H2
    # B(c=0, p=0) with every-minute waves.
    #   1: created 600 at A, sorted 600 (p 0) ready 600, boards L1 at 600 -> H 700, sorted 700
    #      ready 700, boards L2 at 700 -> B 750.
    #   2, 3: created 0 at A, board L1 at 0, arrive H at 100 (arrivals before sorting): H (c=1)
    #      handles 2 at 100 -> ready 100 -> boards L2 at 100 (sorting before departures) -> 150;
    #      3 handled at 101 -> misses 100; next L2 departure 700 -> 750.
    #   4: created 0 at A, L4 at 0 -> H2 at 100, ready 101 (p 1) -> misses L3 at 100 -> day 1
    #      1540 -> B 1590.
    folder = make_network(
        tmp_path,
        [("A", "station", 0, 0), ("H", "hub", 1, 0), ("H2", "hub", 0, 1), ("B", "station", 0, 0)],
        [("L1", "A", "H", 100), ("L2", "H", "B", 50), ("L3", "H2", "B", 50),
         ("L4", "A", "H2", 100)],
        [("T1", "L1", 0, 10), ("T2", "L1", 600, 10), ("T3", "L2", 100, 10), ("T4", "L2", 700, 10),
         ("T5", "L3", 100, 10), ("T6", "L4", 0, 10)],
        [("A", 0, 0)] + every_minute("B"))
    parcels = [(1, 600, "A", "B", ["L1", "L2"]), (2, 0, "A", "B", ["L1", "L2"]),
               (3, 0, "A", "B", ["L1", "L2"]), (4, 0, "A", "B", ["L4", "L3"])]
    check(folder, parcels, {1: 750, 2: 150, 3: 750, 4: 1590})


# -- inputs ----------------------------------------------------------------------------------

def test_peer_rejects_a_broken_path(tmp_path):
    folder = _horizon_network(tmp_path)
    with pytest.raises(ValueError):
        simulate_simpy(folder, [(1, 0, "B", "B", ["L1"])])   # L1 leaves A, not B
    with pytest.raises(ValueError):
        simulate_simpy(folder, [(1, 0, "A", "B", [])])       # path ends at A


# -- all simulators agree on random congested networks ---------------------------------------

@pytest.mark.parametrize("seed", range(6))
def test_random_networks_agree(tmp_path, seed):
    """No hand values here: the SimPy peer and parcelnet.sim (when it imports) must agree
    on random networks with tight sorters and trips, on promise paths. The horizon is long
    enough for every parcel to arrive (the horizon rule has its own test above)."""
    from parcelnet.promise import PromiseEngine
    from parcelnet.promise.engine import INF
    from tests.conftest import random_network

    net = random_network(seed)
    t = {k: v.copy() for k, v in net.tables.items()}
    rng = np.random.default_rng(seed)
    t["facilities.csv"]["sort_per_minute"] = rng.integers(0, 3, len(t["facilities.csv"]))
    t["trips.csv"]["capacity"] = rng.integers(1, 4, len(t["trips.csv"]))
    net = Network.from_tables({k: v.astype(str) for k, v in t.items()})
    write_pnf(net, tmp_path)
    n = 300
    o = rng.choice(net.stations, n)
    d = rng.choice(net.stations, n)
    c = rng.integers(0, 3 * DAY, n)
    prom, (ptr, lanes) = PromiseEngine(net).promise_many(o, d, c, paths=True)
    ids = net.facility_index
    parcels = [(int(pid), int(c[i]), ids[o[i]], ids[d[i]], net.lane_ids(lanes[ptr[i]:ptr[i + 1]]))
               for pid, i in zip(rng.permutation(n) * 7, range(n)) if prom[i] < INF]
    results = run_all_simulators(tmp_path, parcels, horizon_minutes=400 * DAY)
    simpy_res = results.pop("simpy")
    assert None not in simpy_res.values()
    promise = {p[0]: int(prom[i]) for p, i in zip(parcels, np.flatnonzero(prom < INF))}
    # capacity can only delay a parcel past its promise
    assert all(v >= promise[k] for k, v in simpy_res.items())
    for name, got in results.items():
        assert got == simpy_res, name
