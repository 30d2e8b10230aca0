"""Address to station and sort code on China's default network (counties and the township
areas: 东莞, 中山, 儋州, 嘉峪关, 大兴安岭, 海西), and by road in a city."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from parcelnet.geo.routing import LocalRouter
from parcelnet.geo.streets import load_streets, street_graph
from parcelnet.lastmile.sortcode import Assigner, assign_addresses, nearest_by_road
from parcelnet.network.pnf import write_pnf
from tests.conftest import FIXTURES, assert_one_line_error, run_cli

OSM = FIXTURES / "osm" / "shanghai_jingan_huangpu_2p4km_drive.osm"


@pytest.fixture(scope="module")
def assigner(cn_gravity):
    return Assigner(cn_gravity)


@pytest.fixture(scope="module")
def net(cn_gravity, tmp_path_factory):
    return write_pnf(cn_gravity, tmp_path_factory.mktemp("net") / "cn")


def test_station_and_sort_code(cn_gravity, assigner):
    df = assign_addresses(cn_gravity, ["浙江省杭州市西湖区文新街道文一西路969号", "杭州市西湖区文一西路",
                                       "北京市朝阳区建外街道建国路88号"], assigner)
    assert df["status"].tolist() == ["ok"] * 3
    assert df["station_id"].tolist() == ["S330106", "S330106", "S110105"]
    hub, station, route = df["sort_code"].iat[0].split("-")
    assert station == "S330106" and hub == df["hub_id"].iat[0] and hub.startswith("H")
    assert df["sort_code"].iat[1].endswith("-00")           # no township: the station sorts it
    # the route number is the township's place among the county's townships, by code
    g_towns = sorted(c for c in assigner.route_of if c.startswith("330106"))
    assert int(route) == g_towns.index(df["township_code"].iat[0]) + 1
    # the hub really feeds the station's centre
    lanes = cn_gravity.lanes
    centre = lanes[(lanes["to_facility"] == "S330106") & (lanes["tier"] == "last_mile")]["from_facility"].iat[0]
    assert ((lanes["from_facility"] == hub) & (lanes["to_facility"] == centre)).any()


def test_rejected_with_reasons(cn_gravity, assigner):
    df = assign_addresses(cn_gravity, ["西湖区文一西路", "火星", "黑龙江省大兴安岭地区", "浙江省杭州市"], assigner)
    assert (df["status"] == "rejected").all() and df["sort_code"].isna().all()
    assert "ambiguous" in df["reason"].iat[0] and "unknown place" in df["reason"].iat[1]
    # 大兴安岭 has counties besides its own townships: naming neither leaves the station open
    assert df["reason"].iat[2] == "no county named after 黑龙江省大兴安岭地区: cannot choose a station"
    assert "cannot choose a station" in df["reason"].iat[3]


# prefectures whose townships sit directly under them (the 2025 MCA table): area -> its seat
AREAS = {"441900": "东莞市", "442000": "中山市", "460400": "儋州市", "620200": "嘉峪关市",
         "232700": "大兴安岭地区", "632800": "海西蒙古族藏族自治州"}


def test_every_township_area_has_a_station_reachable_by_promise(cn_gravity):
    from parcelnet.promise import PromiseEngine
    places = cn_gravity.places.set_index("place_id")
    engine = PromiseEngine(cn_gravity)
    for area, name in AREAS.items():
        assert places.at[area, "name_zh"] == name
        st = places.at[area, "station_id"]
        assert st == f"S{area}" and cn_gravity.station_of_place(area) == st
        # under its prefecture's own sorting centre, parcels from Hangzhou arrive
        centre = cn_gravity.centre_of_station(st)
        assert centre == f"C{area[:4]}"
        for origin in ("S330106", st):
            p = engine.query(origin, st, 600)
            assert p.promise_minute is not None and p.hours < 120, (origin, st)
        assert engine.query(st, "S330106", 600).promise_minute is not None     # and back
    # township places: stations of their own, under the same centre
    towns = places[places.index.str.len() == 9]
    assert len(towns) == 20 and set(towns.index.str[:6]) == {"441900", "460400", "232700"}
    for pid, row in towns.iterrows():
        assert row["station_id"] == f"S{pid}"
        assert cn_gravity.centre_of_station(row["station_id"]) == f"C{pid[:4]}"


@pytest.mark.parametrize("address,station", [
    ("广东省东莞市虎门镇连升路1号", "S441900121"),     # Humen: a place of its own
    ("东莞市南城街道鸿福路", "S441900"),               # no GeoNames point: the seat's station
    ("广东省东莞市鸿福路1号", "S441900"),              # no township named: the seat's, route 00
    ("中山市石岐街道孙文中路1号", "S442000"),
    ("海南省儋州市那大镇人民路", "S460400"),            # 那大 is the seat town
    ("海南省儋州市白马井镇", "S460400112"),
    ("甘肃省嘉峪关市雄关街道", "S620200"),
    ("黑龙江省大兴安岭地区红旗街道", "S232700"),         # 加格达奇's streets
    ("黑龙江省大兴安岭地区新林镇", "S232700103"),
    ("青海省海西州柴旦镇", "S632800"),
])
def test_township_areas_are_assigned(cn_gravity, assigner, address, station):
    r = assign_addresses(cn_gravity, [address], assigner).iloc[0]
    assert r["status"] == "ok" and r["reason"] is None and r["station_id"] == station
    hub, st, route = r["sort_code"].split("-")
    assert st == station and hub == r["hub_id"] and hub.startswith("H")
    # the route is the township's position among the area's townships, in code order
    if isinstance(r["township_code"], str):
        area = r["prefecture_code"]
        towns = sorted(c for c in assigner.route_of if len(c) == 9 and c[:6] == area)
        assert int(route) == towns.index(r["township_code"]) + 1
    else:
        assert route == "00"
    assert np.isfinite(r["lat_wgs84"]) and np.isfinite(r["lon_gcj02"])


def test_township_area_routes(cn_gravity, assigner):
    df = assign_addresses(cn_gravity, ["广东省东莞市东城街道", "广东省东莞市虎门镇", "广东省东莞市高埗镇"], assigner)
    assert df["sort_code"].str.split("-").str[2].tolist() == ["01", "24", "32"]


def test_other_addresses_unchanged_by_township_areas(cn_gravity, assigner):
    """County addresses go to their county's station as before, even where a township area
    shares the prefecture (大兴安岭's counties)."""
    df = assign_addresses(cn_gravity, ["黑龙江省大兴安岭地区漠河市北极镇", "黑龙江省大兴安岭地区塔河县",
                                       "广东省深圳市南山区"], assigner)
    assert df["station_id"].tolist() == ["S232701", "S232722", "S440305"]
    assert (df["status"] == "ok").all()


def test_cli(net, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "address", net, "浙江省杭州市西湖区文新街道文一西路969号", "--json")
    assert code == 0 and json.loads(out)[0]["station_id"] == "S330106"
    code, out, _ = run_cli(capsys, "address", net, "广东省东莞市虎门镇连升路1号")
    assert code == 0 and "station S441900121" in out and "-S441900121-24" in out
    pd.DataFrame({"id": ["a", "b"], "address": ["北京市朝阳区建国路88号", "鼓楼区"]}).to_csv(tmp_path / "in.csv", index=False)
    code, _, _ = run_cli(capsys, "address", net, "--in", tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert out["status"].tolist() == ["ok", "rejected"] and out["id"].tolist() == ["a", "b"]
    code, _, err = run_cli(capsys, "address", net, "鼓楼区中山路")
    assert code == 2
    assert_one_line_error(err, "鼓楼区中山路", "ambiguous place '鼓楼区'")


def test_nearest_by_road():
    router = LocalRouter(street_graph(load_streets(OSM), "ebike"))
    stations = pd.DataFrame({"id": ["west", "east"], "lat": [31.2300, 31.2300], "lon": [121.4660, 121.4820]})
    lat, lon = np.array([31.2310, 31.2290, 31.5]), np.array([121.4670, 121.4810, 121.4])
    r = nearest_by_road(router, stations, lat, lon)
    assert r["station_id"].tolist()[:2] == ["west", "east"]
    assert r["station_id"].iat[2] is None and "no station reaches it" in r["reason"].iat[2]


def test_json_of_a_rejected_address(net, tmp_path, capsys):
    code, out, err = run_cli(capsys, "address", net, "火星路1号", "--json")
    assert code == 2                                  # as without --json
    assert "NaN" not in out
    rec = json.loads(out)[0]
    assert rec["status"] == "rejected" and "unknown place" in rec["reason"] and rec["lat_wgs84"] is None
    assert_one_line_error(err, "火星路1号", "unknown place")
    pd.DataFrame({"id": ["a", "b"], "address": ["北京市朝阳区建国路88号", "火星路1号"]}).to_csv(tmp_path / "in.csv", index=False)
    code, out, _ = run_cli(capsys, "address", net, "--in", tmp_path / "in.csv", "--json")
    assert code == 0 and [r["status"] for r in json.loads(out)] == ["ok", "rejected"]   # per-row statuses


def test_header_only_addresses(tmp_path, capsys):
    (tmp_path / "in.csv").write_text("id,address\n")
    code, _, err = run_cli(capsys, "address", tmp_path / "no-network", "--in", tmp_path / "in.csv")
    assert code == 2
    assert_one_line_error(err, "in.csv", "no addresses: the file has a header but no rows")
    code, _, err = run_cli(capsys, "address", tmp_path / "no-network", "--in", tmp_path / "in.csv",
                           "--city-map", OSM, "--stations", tmp_path / "in.csv", "--max-snap", "-2")
    assert_one_line_error(err, "--max-snap must be a distance in metres > 0")


def test_city_map_with_a_point_off_it(net, tmp_path, capsys):
    pd.DataFrame({"id": ["w", "e"], "lat": [31.2300, 31.2300], "lon": [121.4660, 121.4820]}).to_csv(
        tmp_path / "st.csv", index=False)
    pd.DataFrame({"id": ["a", "b"], "address": ["上海市静安区南京西路1号", "上海市黄浦区人民大道1号"],
                  "lat": [31.2310, 31.0], "lon": [121.4670, 121.4]}).to_csv(tmp_path / "in.csv", index=False)
    code, _, _ = run_cli(capsys, "address", net, "--in", tmp_path / "in.csv", "--city-map", OSM,
                         "--stations", tmp_path / "st.csv", "--out", tmp_path / "out.csv")
    out = pd.read_csv(tmp_path / "out.csv")
    assert code == 0 and out["city_station_id"].iat[0] == "w" and pd.isna(out["city_station_id"].iat[1])
    assert out["city_station_reason"].iat[1] == "no station reaches it by road: no road within 500 m"
    pd.DataFrame({"id": ["w", "far"], "lat": [31.2300, 60.17], "lon": [121.4660, 24.94]}).to_csv(
        tmp_path / "st.csv", index=False)
    code, _, err = run_cli(capsys, "address", net, "--in", tmp_path / "in.csv", "--city-map", OSM,
                           "--stations", tmp_path / "st.csv")
    assert code == 2
    assert_one_line_error(err, "st.csv", "line 3", "station 'far'", "from the nearest road")


def test_no_addresses_give_an_empty_table(cn_gravity, assigner):
    """An empty batch (found by fuzzing the service's batch endpoint) is an empty answer."""
    got = assign_addresses(cn_gravity, [], assigner)
    assert len(got) == 0 and {"station_id", "sort_code", "status", "reason"} <= set(got.columns)
