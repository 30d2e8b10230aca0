"""O2O instant delivery on the Shanghai extract: a simulated day checked against its own rules
(store stock, travel times, capacity, riders never in two places, locker slots), the pooled
dispatcher against the greedy baseline, one decision by hand, the CLI and bad input."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.streets import load_streets
from parcelnet.o2o import (City, generate_orders, random_stores, read_lockers, read_orders, read_stores,
                           simulate_day)
from parcelnet.o2o import dispatch as D
from tests.conftest import FIXTURES, assert_one_line_error, run_cli
from tests.lastmile.fake_routing import routing_server

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"


@pytest.fixture(scope="module")
def city():
    return City(load_streets(OSM))


def _stores(city, k=4, stock=10_000, seed=1):
    return random_stores(city, k, seed=seed, stock=stock)


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
    assert k.orders == 400 and 0 < k.mean_minutes < 120


def test_pooling_beats_the_greedy_baseline_when_riders_are_scarce(city):
    stores = _stores(city)
    orders = generate_orders(city, 1200, seed=5)
    g = simulate_day(city, stores, orders, 8, policy="greedy").kpis()
    p = simulate_day(city, stores, orders, 8, policy="pooled").kpis()
    assert p.orders_per_trip > 1.2 and g.orders_per_trip == 1.0
    assert p.mean_minutes < g.mean_minutes and p.on_time_share > g.on_time_share
    assert p.km_per_order < g.km_per_order


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


KPI_KEYS = ["policy", "orders", "delivered", "rejected", "mean_minutes", "p50_minutes", "p90_minutes",
            "p99_minutes", "on_time_share", "orders_per_trip", "rider_utilisation", "km_per_order",
            "to_locker", "decision_ms_p50", "decision_ms_max"]


def _orders_csv(path, n=30, **cols):
    df = pd.DataFrame({"order_id": [f"o{i}" for i in range(n)], "created_s": np.arange(n) * 120 + 36000,
                       "lat": 31.2300, "lon": 121.4700, **cols})
    df.to_csv(path, index=False)
    return path


def test_kpis_are_a_result_with_the_same_json(city):
    res = simulate_day(city, _stores(city), generate_orders(city, 50, seed=4), 4)
    k = res.kpis()
    d = k.to_dict()
    assert list(d) == KPI_KEYS and d["orders"] == 50 == k.orders and d["policy"] == "pooled"
    assert json.loads(json.dumps(d, allow_nan=False)) == d


def test_readers_refuse_nonsense(tmp_path):
    (tmp_path / "s.csv").write_text("store_id,lat,lon,stock\n")
    with pytest.raises(ValidationError, match="s.csv: no stores: the file has a header but no rows"):
        read_stores(tmp_path / "s.csv")
    pd.DataFrame({"store_id": ["a", "b"], "lat": 31.23, "lon": 121.47, "stock": [5, -1]}).to_csv(
        tmp_path / "s.csv", index=False)
    with pytest.raises(ValidationError, match="s.csv, line 3, field 'stock'"):
        read_stores(tmp_path / "s.csv")
    pd.DataFrame({"locker_id": ["L", "M"], "lat": 31.23, "lon": 121.47, "slots": [-2, 3]}).to_csv(
        tmp_path / "l.csv", index=False)
    with pytest.raises(ValidationError, match="l.csv, line 2, field 'slots'"):
        read_lockers(tmp_path / "l.csv")
    cases = [({"order_id": ["o1", "o2", "o1"]}, "line 4, field 'order_id': duplicate id 'o1'"),
             ({"created_s": [0, -60, 120]}, "line 3, field 'created_s'"),
             ({"created_s": [0, 60.5, 120]}, "line 3, field 'created_s'"),
             ({"units": [1, 0, 2]}, "line 3, field 'units'"),
             ({"promise_min": [30, 0, 30]}, "line 3, field 'promise_min'"),
             ({"promise_min": [30, 30, -5]}, "line 4, field 'promise_min'"),
             ({"to_locker": ["0", "1", "maybe"]}, "line 4, field 'to_locker'"),
             ({"lat": [31.23, 91.0, 31.23]}, "line 3, field 'lat'")]
    for cols, where in cases:
        base = {"order_id": ["o1", "o2", "o3"], "created_s": [0, 60, 120], "lat": 31.23, "lon": 121.47}
        pd.DataFrame({**base, **cols}).to_csv(tmp_path / "o.csv", index=False)
        with pytest.raises(ValidationError, match=f"o.csv, {where}"):
            read_orders(tmp_path / "o.csv")
    # "0" is no: a customer who wrote 0 did not choose a locker
    pd.DataFrame({"order_id": ["a", "b", "c", "d"], "created_s": 0, "lat": 31.23, "lon": 121.47,
                  "to_locker": ["0", "1", "no", "TRUE"]}).to_csv(tmp_path / "o.csv", index=False)
    o = read_orders(tmp_path / "o.csv", promise_min=25)
    assert o["to_locker"].tolist() == [False, True, False, True] and (o["promise_min"] == 25).all()


def test_library_refuses_nonsense(city):
    stores, orders = _stores(city), generate_orders(city, 20, seed=1)
    with pytest.raises(ParameterError, match="capacity.* must be a whole number >= 1, got 0"):
        simulate_day(city, stores, orders, 2, capacity=0)
    with pytest.raises(ValidationError, match="field 'promise_min'"):
        simulate_day(city, stores, orders.assign(promise_min=0), 2)
    with pytest.raises(ValidationError, match="duplicate id 'o0'"):
        simulate_day(city, stores, orders.assign(order_id="o0"), 2)
    with pytest.raises(ValidationError, match="field 'stock'"):
        simulate_day(city, stores.assign(stock=-1), orders, 2)
    with pytest.raises(ParameterError, match="number of orders must be a positive"):
        generate_orders(city, 0)


def test_points_off_the_map(city, tmp_path, capsys):
    stores = _stores(city)
    orders = generate_orders(city, 40, seed=6)
    orders.loc[5, ["lat", "lon"]] = [60.17, 24.94]                      # a customer in Helsinki
    res = simulate_day(city, stores, orders, 5)
    o = res.orders.set_index("order_id")
    assert o.loc["o5", "status"] == "rejected" and o.loc["o5", "reason"] == "no road within 500 m"
    assert np.isnan(o.loc["o5", "minutes"]) and (o.drop("o5")["status"] == "delivered").all()
    assert res.kpis().rejected == {"no road within 500 m": 1}
    with pytest.raises(ValidationError, match="store 'st2' at 60.17000,24.94000 is [\\d,]+ km from the nearest road"):
        simulate_day(city, stores.assign(lat=[stores["lat"][0], stores["lat"][1], 60.17, stores["lat"][3]],
                                         lon=[stores["lon"][0], stores["lon"][1], 24.94, stores["lon"][3]]), orders, 5)
    stores.iloc[:2].to_csv(tmp_path / "s.csv", index=False)
    with open(tmp_path / "s.csv", "a") as fh:
        fh.write("far,60.17,24.94,10\n")
    code, _, err = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "2", "--orders", "10",
                           "--stores", tmp_path / "s.csv")
    assert code == 2
    assert_one_line_error(err, "s.csv, line 4, field 'lat'", "store 'far'", "km from the nearest road")
    pd.DataFrame({"locker_id": ["L1"], "lat": [31.2300], "lon": [121.3], "slots": [4]}).to_csv(
        tmp_path / "l.csv", index=False)
    code, _, err = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "2", "--orders", "10",
                           "--lockers", tmp_path / "l.csv")
    assert_one_line_error(err, "l.csv, line 2", "locker 'L1'", "from the nearest road", "the limit is 500 m")
    code, out, _ = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "2", "--stores", "2", "--policy", "greedy",
                           "--orders", _orders_csv(tmp_path / "o.csv", 10, lat=[31.23] * 9 + [60.17],
                                                   lon=[121.47] * 9 + [24.94]), "--json")
    assert code == 0 and json.loads(out)["rejected"] == {"no road within 500 m": 1}


def test_cli_refuses_nonsense(tmp_path, capsys):
    base = ["o2o", "simulate", OSM, "--riders", "2", "--orders", "10", "--stores", "2"]
    for flag, bad, why in (("--capacity", "0", "--capacity must be at least 1, got 0"),
                           ("--promise", "0", "--promise must be at least 1, got 0"),
                           ("--promise", "-5", "--promise must be at least 1, got -5"),
                           ("--orders", "-5", "--orders must be at least 1, got -5"),
                           ("--stores", "-5", "--stores must be at least 1, got -5"),
                           ("--step", "0", "--step must be at least 1"),
                           ("--seed", "-1", "--seed must be at least 0"),
                           ("--seed", "99999999999", "--seed must be at most 4,294,967,295"),
                           ("--max-snap", "0", "--max-snap must be a distance in metres > 0")):
        code, _, err = run_cli(capsys, *base, flag, bad)
        assert code == 2, (flag, bad)
        assert_one_line_error(err, why)
    (tmp_path / "s.csv").write_text("store_id,lat,lon,stock\n")
    code, _, err = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "2", "--stores", tmp_path / "s.csv")
    assert_one_line_error(err, "s.csv", "no stores: the file has a header but no rows")
    _orders_csv(tmp_path / "o.csv", 3, order_id=["a", "b", "a"])
    code, _, err = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "2", "--orders", tmp_path / "o.csv")
    assert_one_line_error(err, "o.csv", "line 4", "duplicate id 'a'")


def test_to_locker_zero_is_no(city, tmp_path, capsys):
    node = city.nodes[100]
    pd.DataFrame({"locker_id": ["L1"], "lat": [city.g.lat[node]], "lon": [city.g.lon[node]],
                  "slots": [50]}).to_csv(tmp_path / "l.csv", index=False)
    _orders_csv(tmp_path / "o.csv", 30, to_locker=["1" if i % 10 == 0 else "0" for i in range(30)])
    code, out, _ = run_cli(capsys, "o2o", "simulate", OSM, "--riders", "4", "--stores", "3", "--orders",
                           tmp_path / "o.csv", "--lockers", tmp_path / "l.csv", "--policy", "pooled", "--json",
                           "--out", tmp_path / "out.csv")
    assert code == 0 and json.loads(out)["to_locker"] == 3
    got = pd.read_csv(tmp_path / "out.csv")
    assert sorted(got.loc[got["to_locker"], "order_id"]) == ["o0", "o10", "o20"]


def test_a_day_on_a_routing_server(city, capsys):
    from parcelnet.geo.routing import LocalRouter, OSRMRouter
    from parcelnet.geo.streets import street_graph
    ways = load_streets(OSM)
    local = LocalRouter(street_graph(ways, "ebike"))
    with routing_server(local) as (url, log):
        served = City(ways, router=OSRMRouter(url))
        stores = _stores(served, k=3)
        orders = generate_orders(served, 60, seed=8)
        res = simulate_day(served, stores, orders, 4)
        assert (res.orders["status"] == "delivered").all()
        _check(served, stores, orders, res)
        # travel between two of the day's points is the server's, rounded up to the second
        a = served.snap(stores["lat"][:1], stores["lon"][:1])[0]
        b = served.snap(orders["lat"][:1], orders["lon"][:1])[0]
        want = local.matrix(served.g.lat[[a]], served.g.lon[[a]], served.g.lat[[b]], served.g.lon[[b]])[0, 0]
        assert served([a], [b])[0] == np.ceil(want)
        assert len(log) > 0 and all(k == "table" for k, _ in log)
        n_log = len(log)
    k = res.kpis()
    alone = simulate_day(city, stores, orders, 4).kpis()            # the street graph's own times
    assert abs(k.mean_minutes - alone.mean_minutes) < 0.1 * alone.mean_minutes
    assert n_log < 200                                               # rows are cached, not asked again
