"""The bank timetable on small networks whose every departure and promise is worked out by
hand below (docs/network.md §4).

Places lie on the equator, so distances are 111.195 km per degree of longitude; with
``circuity = 1`` and trucks and vans at 60 km/h a lane takes one minute per road km (rounded
up, at least 5). Each city is one station and its sorting centre at the same spot (a 1 km,
5-minute van). Collection is at 18:00, one delivery wave at 08:00 for 120 minutes, stations
sort in 30 minutes, centres in 60, hubs in 90, slack 15, departures rounded to 10 minutes and
every bank waits for all of its volume (``timing_share = 1``) unless a test says otherwise.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.network.build import draft_from_places
from parcelnet.network.params import load_params
from parcelnet.promise import PromiseEngine

KM_PER_DEGREE = 111.19508  # 2 pi x 6371.0088 km / 360


def place(pid, group, lon_km, population=1_000_000):
    return {"place_id": pid, "name": pid, "lat": 0.0, "lon": lon_km / KM_PER_DEGREE,
            "population": population, "admin1": group, "admin2": group, "group": group}


def network(places, **sections):
    p = load_params("XX").updated({
        "stations": {"method": "per_place"}, "centres": {"method": "admin", "site": "largest"},
        "hubs": {"count": 1},
        "speeds": {"circuity": 1.0, "truck_kmh": 60.0, "van_kmh": 60.0},
        "processing": {"station_minutes": 30, "centre_minutes": 60, "hub_minutes": 90},
        "timetable": {"first_mile_departures": ["18:00"], "waves": [["08:00", 120]],
                      "evening_waves": [], "slack_minutes": 15, "timing_share": 1.0,
                      "round_minutes": 10},
        "capacity": {"method": "gravity"}, **sections})
    draft = draft_from_places("XX", pd.DataFrame(places), p, 1_000_000.0)
    return draft.network()


def departures(net, lane_id):
    trips = net.tables["trips.csv"]
    return sorted(trips.loc[trips["lane_id"] == lane_id, "departure_minute"].astype(int))


def promise(net, origin, dest, minute):
    return PromiseEngine(net).query(origin, dest, minute)


# Two cities 299.5 km apart (a 300-minute trunk), and a far suburb of A, 60 km out.
TWO = [place("A1", "A", 0.0), place("A2", "A", -59.5, 200_000), place("B1", "B", 299.5)]


def test_the_trunk_leaves_after_the_origin_sort_ends():
    """A1's van arrives at 18:05 and is sorted at 19:05; A2's (60 minutes) arrives at 19:00
    and is sorted at 20:00. Waiting for all the volume, the night trunk leaves at 20:00;
    timed for 80% of it (A1 is 83% of A's population), at 19:10, and A2's parcels take the
    next night's."""
    net = network(TWO, trunks={"max_km": 500.0})
    assert departures(net, "SA1>CA") == departures(net, "SA2>CA") == [18 * 60]
    assert departures(net, "CA>CB") == [20 * 60]
    assert departures(net, "CB>CA") == [19 * 60 + 10]          # B1 alone: 18:05 + 60, rounded up
    bulk = network(TWO, trunks={"max_km": 500.0},
                   timetable={"first_mile_departures": ["18:00"], "waves": [["08:00", 120]],
                              "evening_waves": [], "slack_minutes": 15, "timing_share": 0.8,
                              "round_minutes": 10})
    assert departures(bulk, "CA>CB") == [19 * 60 + 10]
    # every departure of the trunk is after the sort of the collection it carries
    for d in departures(bulk, "CA>CB"):
        assert d >= 18 * 60 + 5 + 60


def test_a_connection_made_or_missed_by_one_minute():
    """From A's centre an order at 18:10 is ready at 19:10, as the trunk (timed for 80%)
    leaves: B's centre at 00:10, sorted 01:10, the van at 07:10 (08:00 - 15 slack - 30 sort
    - 5 drive), the station at 07:15, sorted 07:45, delivered at the end of the 08:00 wave:
    10:00 next day, minute 2040. At 18:11 it misses every departure of the day (the hub's
    feeder leaves at the same bank) and is delivered a day later, minute 3480."""
    net = network(TWO, trunks={"max_km": 500.0},
                  timetable={"first_mile_departures": ["18:00"], "waves": [["08:00", 120]],
                             "evening_waves": [], "slack_minutes": 15, "timing_share": 0.8,
                             "round_minutes": 10})
    assert departures(net, "CB>SB1") == [7 * 60 + 10]
    made = promise(net, "CA", "SB1", 18 * 60 + 10)
    assert made.promise_minute == 2040 and made.path == ("CA>CB", "CB>SB1")
    missed = promise(net, "CA", "SB1", 18 * 60 + 11)
    assert missed.promise_minute == 3480
    # and at the station: created 17:30, ready 18:00 as the van leaves; 17:31 is a minute late
    assert promise(net, "SA1", "SB1", 17 * 60 + 30).promise_minute == 2040
    assert promise(net, "SA1", "SB1", 17 * 60 + 31).promise_minute == 3480


# Three cities 1,112 km apart on a line: W, M (the air hub's city), E.
THREE = [place("W1", "W", 0.0), place("M1", "M", 1111.9508), place("E1", "E", 2223.9016)]
AIR = {"gateways": 3, "gateway_min_parcels": 0.0, "hub": "CM", "direct_min_parcels": 1e12,
       "hub_minutes": 90}


def test_an_air_night_sort():
    """W and E fly to the air hub at M: 1,112 km at 700 km/h is 96 minutes, plus 90 minutes
    of ground at the city end and 15 at the hub: 201 minutes. Both leave at their centre's
    bank, 19:10, and land at 22:31, the latest inbound, which sets the cut-off. The night sort
    takes 90 minutes, so the outbound bank leaves at 00:01, rounded up to 00:10, and lands at
    03:31. E's centre sorts it by 04:31 and the 07:10 van delivers it at 10:00: an order from
    W's centre at 18:10 is delivered in 23 h 50 min (minute 2040); at 18:11 it misses the
    flight and takes a day more. By truck through the hub at M it would take until minute
    4920."""
    net = network(THREE, air=AIR, trunks={"max_km": 500.0})
    fac = net.facilities.set_index("facility_id")
    assert fac.at["A01", "tier"] == "air_hub" and set(fac.index[fac["tier"] == "gateway"]) == {"CW", "CM", "CE"}
    lanes = net.lanes.set_index("lane_id")
    assert int(lanes.at["CW>A01/air", "duration_minutes"]) == 201
    assert departures(net, "CW>A01/air") == departures(net, "CE>A01/air") == [19 * 60 + 10]
    assert departures(net, "CM>A01") == [19 * 60 + 10]                 # the hub's own city trucks
    for lane in ("A01>CW/air", "A01>CE/air", "A01>CM"):
        assert departures(net, lane) == [10]                           # the outbound bank, 00:10
    made = promise(net, "CW", "SE1", 18 * 60 + 10)
    assert made.promise_minute == 2040
    assert made.path == ("CW>A01/air", "A01>CE/air", "CE>SE1")
    assert promise(net, "CW", "SE1", 18 * 60 + 11).promise_minute == 3480
    ground = network(THREE, air={**AIR, "gateways": 0}, trunks={"max_km": 500.0})
    assert promise(ground, "CW", "SE1", 18 * 60 + 10).promise_minute == 4920


def test_a_far_gateway_flies_an_earlier_bank_to_make_the_night_sort():
    """A small far city F, 4,448 km east of W (3,336 km from the hub: 286 + 105 minutes in
    the air), and two collections, 14:00 and 18:00, so that every centre has two banks: 15:10
    and 19:10. The cut-off is timed for 80% of the gateways' long-distance flow: M's truck
    (19:15) and W's and E's flights (22:31) carry 98% of it, so the cut-off is 22:31. F's
    19:10 flight would land at 01:41, too late; its 15:10 flight lands at 21:41, so F flies
    then. The outbound bank still leaves at 00:10."""
    four = THREE + [place("F1", "F", 4447.8032, 100_000)]
    net = network(four, air={**AIR, "gateways": 4}, trunks={"max_km": 500.0},
                  timetable={"first_mile_departures": ["14:00", "18:00"], "waves": [["08:00", 120]],
                             "evening_waves": [], "slack_minutes": 15, "timing_share": 0.8,
                             "round_minutes": 10})
    assert int(net.lanes.set_index("lane_id").at["CF>A01/air", "duration_minutes"]) == 391
    assert departures(net, "CF>A01/air") == [15 * 60 + 10]
    assert departures(net, "CW>A01/air") == departures(net, "CE>A01/air") == [19 * 60 + 10]
    assert departures(net, "A01>CE/air") == departures(net, "A01>CF/air") == [10]
