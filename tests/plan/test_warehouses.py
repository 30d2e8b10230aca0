"""Warehouse sites (``parcelnet plan warehouses``): the link into a centre's collection,
the day trucks, the maximal-covering choice against enumeration, and the command."""

from __future__ import annotations

import itertools
import json

import numpy as np
import pytest

from parcelnet.geo.coords import haversine_km
from parcelnet.network.costs import daily_cost
from parcelnet.network.params import load_params
from parcelnet.network.pnf import load_network, write_pnf
from parcelnet.plan.warehouses import (DAY_KM, add_warehouses, choose_warehouses, hourly_bound,
                                       max_cover)
from parcelnet.promise import PromiseEngine
from tests.conftest import assert_one_line_error, run_cli
from tests.plan.test_service_origins import BACKBONE, centres


@pytest.fixture(scope="module")
def net():
    return centres(BACKBONE)


def test_a_warehouse_joins_its_centres_collection(net):
    """An order at the warehouse is picked (60 min), trucked at the next minute a station
    leaves for the centre (20:00 here) or of the evening's half hours, and arrives 30 min
    later: its promise is the centre's for an order created then (without day trucks)."""
    new, ids = add_warehouses(net, ["SHa", "GZb"], day_km=0, direct_km=0)
    assert ids == ["W01", "W02"]
    fac = new.facilities.set_index("facility_id")
    assert fac.loc["W01", "kind"] == "warehouse" and fac.loc["W01", "capacity_units"] == "2000000"
    trips = new.tables["trips.csv"]
    deps = sorted(int(x) for x in trips.loc[trips["lane_id"] == "W01>SHa", "departure_minute"])
    assert deps == list(range(1080, 1440, 30))        # 20:00 (the stations') and the evening
    assert set(new.lanes["from_facility"]) & {"W01", "W02"} == {"W01", "W02"}
    assert len(new.lanes) == len(net.lanes) + 2
    eng = PromiseEngine(new)
    for t in (0, 600, 1139, 1140, 1141, 1300, 1400, 2000):
        ready = t + 60
        day, r = divmod(ready, 1440)
        later = [d for d in deps if d >= r]
        leave = day * 1440 + later[0] if later else (day + 1) * 1440 + deps[0]
        for s in ("SHa1", "BJb2", "GZa1"):
            w = eng.query("W01", s, t).promise_minute
            c = eng.query("SHa", s, leave + 30).promise_minute
            assert w == c, (t, s)


def test_day_trucks(net):
    """With day trucks, a warehouse also has a trunk lane to every other centre within
    ``day_km`` and to every station within ``direct_km`` of road (great-circle x circuity),
    of the builder's truck minutes and cost, leaving every ``day_every`` minutes with one
    truck each. Its promise to a station is the best over its lanes of the lane's end's
    promise for an order created when the truck arrives."""
    p = load_params("CN")
    fac = net.facilities.set_index("facility_id")

    def road(ids):
        return {c: float(haversine_km(float(fac.loc["SHa", "lat"]), float(fac.loc["SHa", "lon"]),
                                      float(fac.loc[c, "lat"]), float(fac.loc[c, "lon"])))
                * p.speeds.circuity for c in ids if c != "SHa"}

    to_centre = road(str(net.facility_index[h]) for h in net.hubs)
    to_station = road(str(net.facility_index[s]) for s in net.stations)
    day_km, direct_km, every = 1600.0, 1300.0, 180
    for km, cut in ((to_centre, day_km), (to_station, direct_km)):
        assert min(km.values()) < cut < max(km.values())       # some in reach, some not
    new, (w,) = add_warehouses(net, ["SHa"], day_km=day_km, direct_km=direct_km, day_every=every)
    lanes = new.lanes[new.lanes["from_facility"] == w].set_index("to_facility")
    day = lanes[lanes["tier"] == "trunk"]
    km = {c: k for c, k in to_centre.items() if k <= day_km} | \
        {c: k for c, k in to_station.items() if k <= direct_km}
    assert set(day.index) == set(km) and set(lanes.index) == set(km) | {"SHa"}
    trips = new.tables["trips.csv"]
    deps = list(range(0, 1440, every))
    for c, row in day.iterrows():
        assert int(row["duration_minutes"]) == max(5, int(np.ceil(km[c] / p.speeds.truck_kmh * 60)))
        assert float(row["cost_per_trip"]) == pytest.approx(p.costs.truck_fixed + p.costs.truck_per_km * km[c], abs=0.5)
        t = trips[trips["lane_id"] == f"{w}>{c}"]
        assert sorted(t["departure_minute"].astype(int)) == deps
        assert set(t["capacity"]) == {str(p.capacity.truck_parcels)}
    # the promise: the best lane out of the warehouse, each at its next departure
    eng = PromiseEngine(new)
    ways = [("SHa", sorted(int(x) for x in trips.loc[trips["lane_id"] == f"{w}>SHa", "departure_minute"]),
             int(lanes.loc["SHa", "duration_minutes"]))]
    ways += [(c, deps, int(r["duration_minutes"])) for c, r in day.iterrows()]
    assert any(c.startswith("BJ") and c[-1].isdigit() for c, _, _ in ways)   # a station afar
    for t in (0, 150, 600, 777, 1139, 1300, 1400, 2000):
        ready = t + 60
        for s in ("SHa1", "SHb2", "BJb2", "GZa1", "CDa1"):
            best = 10 ** 9
            for c, dd, dur in ways:
                d0, r = divmod(ready, 1440)
                later = [d for d in dd if d >= r]
                leave = d0 * 1440 + later[0] if later else (d0 + 1) * 1440 + dd[0]
                best = min(best, eng.query(c, s, leave + dur).promise_minute)
            assert eng.query(w, s, t).promise_minute == best, (t, s)
    assert DAY_KM > 0 and len(add_warehouses(net, ["SHa"])[0].lanes) > len(net.lanes) + 1
    for bad in (-1.0, float("nan"), float("inf"), "10"):
        with pytest.raises(ValueError, match="reach to centres"):
            add_warehouses(net, ["SHa"], day_km=bad)
        with pytest.raises(ValueError, match="reach to stations"):
            add_warehouses(net, ["SHa"], direct_km=bad)
    with pytest.raises(ValueError, match="interval"):
        add_warehouses(net, ["SHa"], day_every=0)


def test_daily_cost_with_warehouses(net):
    """A network's daily cost counts the day trucks as trunk line-haul, one truck a
    departure, and a warehouse, which has no sort_lines of its own, sorts nothing (a network
    built with sort_lines used to fail on the warehouses' empty cells)."""
    fac = net.facilities.assign(sort_lines="3")
    built = net.replace(facilities=fac)
    new, ids = add_warehouses(built, ["SHa", "GZb"])
    before, after = daily_cost(built), daily_cost(new)
    assert after.sorting_lines == before.sorting_lines == 3 * int((fac["kind"] != "station").sum())
    lanes = new.lanes[new.lanes["from_facility"].isin(ids) & (new.lanes["tier"] == "trunk")]
    trips = new.tables["trips.csv"]
    runs = trips["lane_id"].value_counts()
    added = float((lanes["cost_per_trip"].astype(float) * runs[lanes["lane_id"]].to_numpy()).sum())
    assert added > 0
    assert after.lane_cost_by_tier["trunk"] == pytest.approx(before.lane_cost_by_tier.get("trunk", 0) + added)
    assert after.line_haul == pytest.approx(before.line_haul + added)


def _brute(reach, w, k):
    return max(float(reach[list(c)].max(axis=0) @ w) for c in itertools.combinations(range(len(reach)), k))


@pytest.mark.parametrize("seed", range(20))
def test_max_cover_against_enumeration(seed):
    """Greedy plus swaps on random reach matrices: never below 1 - 1/e of the optimum by
    enumeration (and equal to it on most), never above it."""
    rng = np.random.default_rng(seed)
    reach = rng.random((9, 14)) * (rng.random((9, 14)) < 0.5)
    w = rng.random(14)
    w /= w.sum()
    k = int(rng.integers(1, 5))
    rows, value, greedy_value, _ = max_cover(reach, w, k)
    best = _brute(reach, w, k)
    assert len(set(rows)) == k and value == pytest.approx(float(reach[rows].max(axis=0) @ w))
    assert greedy_value <= value + 1e-12 <= best + 1e-9
    assert value >= (1 - np.exp(-1)) * best - 1e-12


def test_max_cover_is_optimal_on_most():
    hits = 0
    for seed in range(40):
        rng = np.random.default_rng(100 + seed)
        reach = rng.random((8, 12)) * (rng.random((8, 12)) < 0.4)
        w = np.full(12, 1 / 12)
        hits += max_cover(reach, w, 3)[1] >= _brute(reach, w, 3) - 1e-12
    assert hits >= 36


@pytest.mark.parametrize("seed", range(8))
def test_hourly_bound_against_enumeration(seed):
    """Each hour's bound is that hour's best covering by k sites, found by enumeration, and
    the weighted sum bounds the best single choice of sites for the whole day."""
    rng = np.random.default_rng(seed)
    cover = rng.random((7, 3, 10)) < 0.3
    w = rng.random(10)
    w /= w.sum()
    hw = np.array([0.2, 0.3, 0.5])
    k = int(rng.integers(1, 4))
    got = hourly_bound(cover, w, hw, k)
    day = []
    for rows in itertools.combinations(range(7), k):
        per_hour = cover[list(rows)].any(axis=0) @ w
        day.append(float(hw @ per_hour))
    for h in range(3):
        best = max(float(cover[list(r), h].any(axis=0) @ w) for r in itertools.combinations(range(7), k))
        assert got["hours"][h]["bound"] == pytest.approx(best, abs=1e-6)
        assert got["hours"][h]["status"] == "optimal"
    assert max(day) <= got["bound"] + 1e-6


def test_choose_warehouses(net):
    """One site: the centre whose warehouse reaches the most population within 24 h, and
    the bound holds; two sites reach at least as much as one."""
    one = choose_warehouses(net, 1)
    two = choose_warehouses(net, 2)
    assert one.candidates == len(net.hubs) and len(two.warehouses) == 2
    assert two.reach_24h >= one.reach_24h
    assert one.reach_24h <= one.upper_bound + 1e-12
    assert one.each_alone == [pytest.approx(one.reach_24h)]
    proved = choose_warehouses(net, 2, bound=True)
    assert proved.centres == two.centres and len(proved.hourly["hours"]) == 24
    assert two.reach_24h <= proved.upper_bound + 1e-9 <= two.upper_bound + 1e-9
    kinds = two.network.facilities.set_index("facility_id")["kind"]
    assert (kinds[two.warehouses] == "warehouse").all()
    with pytest.raises(ValueError, match="between 1 and"):
        choose_warehouses(net, 0)


def test_cli(net, tmp_path, capsys):
    src = write_pnf(net, tmp_path / "net")
    code, out, _ = run_cli(capsys, "plan", "warehouses", src, "--count", "2", "--out",
                           tmp_path / "wh", "--json")
    assert code == 0
    r = json.loads(out)
    assert r["warehouses"] == ["W01", "W02"] and r["network"] == str(tmp_path / "wh")
    new = load_network(tmp_path / "wh")
    assert set(new.facilities.loc[new.facilities["kind"] == "warehouse", "facility_id"]) == {"W01", "W02"}
    assert r["day_trucks"]["lanes"] == int((new.lanes["tier"] == "trunk").sum()
                                           - (load_network(src).lanes["tier"] == "trunk").sum()) > 0
    code, out, _ = run_cli(capsys, "plan", "warehouses", src, "--count", "2", "--out",
                           tmp_path / "wh0", "--day-km", "0", "--direct-km", "0", "--json")
    assert code == 0 and json.loads(out)["day_trucks"]["lanes"] == 0
    assert len(load_network(tmp_path / "wh0").lanes) == len(load_network(src).lanes) + 2
    code, _, err = run_cli(capsys, "plan", "warehouses", src, "--count", "0", "--out", tmp_path / "x")
    assert code == 2
    assert_one_line_error(err, "--count")
    for flag, bad in (("--day-km", "-5"), ("--day-km", "far"), ("--direct-km", "-1"),
                      ("--day-every", "0"), ("--day-every", "1441")):
        code, _, err = run_cli(capsys, "plan", "warehouses", src, "--count", "1", "--out",
                               tmp_path / "x", flag, bad)
        assert code == 2
        assert_one_line_error(err, flag)
