"""O2O instant delivery on the Shanghai extract: a simulated day checked against its own rules
(store stock, travel times, capacity, riders never in two places, locker slots), the pooled
dispatcher against the greedy baseline, one decision by hand, the CLI and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError
from parcelnet.geo.streets import load_streets
from parcelnet.lastmile import dispatch as D
from parcelnet.lastmile.o2o import City, generate_orders, simulate_day
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"


@pytest.fixture(scope="module")
def city():
    return City(load_streets(OSM))


def _stores(city, k=4, stock=10_000, seed=1):
    sn = np.random.default_rng(seed).choice(city.nodes, k, replace=False)
    return pd.DataFrame({"store_id": [f"st{i}" for i in range(k)], "lat": city.g.lat[sn],
                         "lon": city.g.lon[sn], "stock": stock})


def _check(city, stores, orders, res, capacity=3, prep_s=60):
    o = res.orders.set_index("order_id")
    s_node = dict(zip(stores["store_id"], city.snap(stores["lat"], stores["lon"])))
    done = o[o["status"] == "delivered"]
    for oid, r in done.iterrows():           # never faster than the ride from the store
        dest = city.snap([orders.set_index("order_id").loc[oid, "lat"]], [orders.set_index("order_id").loc[oid, "lon"]])[0]
        if not r["to_locker"]:
            assert r["delivered_s"] >= r["created_s"] + prep_s + city([s_node[r["store_id"]]], [dest])[0]
    for rider, g in res.trips.groupby("rider"):
        g = g.sort_values("start_s")
        assert (g["start_s"].to_numpy()[1:] >= g["end_s"].to_numpy()[:-1]).all()   # one trip at a time
        assert g["stops"].str.split(";").map(len).max() <= capacity
    per_store = done.groupby("store_id").size()
    assert (per_store <= stores.set_index("store_id")["stock"].reindex(per_store.index)).all()


def test_a_day_keeps_its_rules(city):
    stores = _stores(city)
    orders = generate_orders(city, 400, seed=3)
    for pol in ("pooled", "greedy"):
        res = simulate_day(city, stores, orders, 6, policy=pol)
        assert (res.orders["status"] == "delivered").all()
        _check(city, stores, orders, res)
    k = res.kpis()
    assert k["orders"] == 400 and 0 < k["mean_minutes"] < 120


def test_pooling_beats_the_greedy_baseline_when_riders_are_scarce(city):
    stores = _stores(city)
    orders = generate_orders(city, 1200, seed=5)
    g = simulate_day(city, stores, orders, 8, policy="greedy").kpis()
    p = simulate_day(city, stores, orders, 8, policy="pooled").kpis()
    assert p["orders_per_trip"] > 1.2 and g["orders_per_trip"] == 1.0
    assert p["mean_minutes"] < g["mean_minutes"] and p["on_time_share"] > g["on_time_share"]
    assert p["km_per_order"] < g["km_per_order"]


def test_stock_runs_out(city):
    stores = _stores(city, k=2, stock=30)
    orders = generate_orders(city, 100, seed=1)
    res = simulate_day(city, stores, orders, 10)
    assert (res.orders["status"] == "delivered").sum() == 60
    assert set(res.orders.loc[res.orders["status"] != "delivered", "reason"]) == {"out of stock"}


def test_lockers_by_choice_and_by_policy(city):
    stores = _stores(city)
    orders = generate_orders(city, 300, seed=2)
    node = city.nodes[100]
    lockers = pd.DataFrame({"locker_id": ["L1"], "lat": [city.g.lat[node]], "lon": [city.g.lon[node]], "slots": [5]})
    orders["to_locker"] = np.arange(300) % 10 == 0                  # 30 customers chose a locker
    res = simulate_day(city, stores, orders, 10, lockers=lockers)
    got = res.orders[res.orders["to_locker"]]
    assert 0 < len(got) <= 30 and set(got["locker_id"]) == {"L1"}
    # never more than 5 slots in use: a slot is held from the order to 2 h after its deadline
    t = got["created_s"].to_numpy()
    held_to = t + 30 * 60 + 7200
    assert max(((t <= x) & (held_to > x)).sum() for x in t) <= 5
    nearby = simulate_day(city, stores, orders.drop(columns="to_locker"), 10, lockers=lockers,
                          locker_policy="nearby")
    assert nearby.orders["to_locker"].sum() > 0


def test_one_decision_by_hand():
    class Line:   # nodes 0..9 on a line, 60 s apart
        def __call__(self, a, b):
            return np.abs(np.asarray(a) - np.asarray(b)) * 60

        def rows(self, nodes, reverse=False):
            return np.abs(np.asarray(nodes)[:, None] - np.arange(10)[None, :]) * 60
    T = Line()
    t = 1000
    store, dest = np.array([0, 0]), np.array([5, 6])
    deadline = np.array([t + 1000, t + 1000])
    r_free, r_node = np.array([0, 0]), np.array([0, 9])
    trips = D.pooled(t, store, dest, deadline, r_free, r_node, T, capacity=3, hold_s=2000)
    assert trips == [(0, [0, 1])]                     # both orders on one trip, the rider at the store
    assert D.greedy(t, store, dest, deadline, r_free, r_node, T) == [(0, [0]), (1, [1])]
    tight = np.array([t + 60 + 300 + 60, t + 60 + 300 + 60])    # prep + 5 stops: only order 0 fits
    assert D.pooled(t, store, dest, tight, r_free, r_node, T, hold_s=2000)[0][1] == [0]


def test_cli_and_bad_input(tmp_path, capsys):
    code, out, _ = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "6", "--orders", "200",
                           "--stores", "3", "--json", "--map", tmp_path / "r", "--out", tmp_path / "o.csv")
    assert code == 0
    r = json.loads(out)
    assert set(r) == {"greedy", "pooled"} and r["pooled"]["orders"] == 200
    assert (tmp_path / "r.png").stat().st_size > 20_000
    assert len(pd.read_csv(tmp_path / "o.csv")) == 200
    code, _, err = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "0", "--orders", "10")
    assert code == 2
    assert_one_line_error(err, "--riders must be a positive whole number")
    pd.DataFrame({"store_id": ["a"], "lat": [31.23]}).to_csv(tmp_path / "s.csv", index=False)
    code, _, err = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "2", "--stores", tmp_path / "s.csv")
    assert_one_line_error(err, "s.csv", "missing column 'lon'")
    with pytest.raises(ParameterError, match="unknown dispatch policy"):
        simulate_day(City(load_streets(OSM)), _stores(City(load_streets(OSM))), generate_orders(City(load_streets(OSM)), 5), 2,
                     policy="fastest")
