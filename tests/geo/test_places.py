"""Tests for parcelnet.geo.places / countries (packaged data only): counties and the places
of the township areas (prefectures whose townships sit directly under them)."""

import numpy as np
import pytest

from parcelnet.errors import NotFoundError
from parcelnet.geo import country_info, haversine_km, list_countries, load_places

LEADING = ["place_id", "name", "lat", "lon", "population", "admin1", "admin2"]


@pytest.fixture(scope="module")
def cn():
    return load_places("CN")


# prefectures whose townships sit directly under them, as the 2025 MCA table has them
TOWNSHIP_AREAS = {"232700": 22, "441900": 32, "442000": 23, "460400": 17, "620200": 6, "632800": 2}


def test_cn_one_row_per_county_and_township_area(cn):
    assert list(cn.columns[:7]) == LEADING
    assert len(cn) == 2871                     # 2,845 counties + 26 places of 6 township areas
    assert cn["place_id"].is_unique
    assert cn["place_id"].str.fullmatch(r"\d{6}|\d{9}").all()
    assert not cn["place_id"].str[:2].isin(["71", "81", "82"]).any()
    assert (cn["adcode"] == cn["place_id"].str.ljust(12, "0")).all()
    counties = cn[(cn["place_id"].str.len() == 6) & ~cn["place_id"].str.endswith("00")]
    assert len(counties) == 2845 and counties["place_id"].str.fullmatch(r"\d{6}").all()
    # counties first (code order), then the township areas' places: county rows keep their place
    assert cn["place_id"].iloc[:2845].tolist() == sorted(counties["place_id"])


def test_township_areas_derived_from_the_mca_table(cn):
    from parcelnet.geo.address import gazetteer
    g = gazetteer()
    towns: dict[str, int] = {}
    for code, lvl in g.level.items():
        if lvl == 4 and g.level[g.parent[code]] == 2:
            towns[g.parent[code]] = towns.get(g.parent[code], 0) + 1
    assert towns == TOWNSHIP_AREAS
    area = cn[cn["place_id"].isin(TOWNSHIP_AREAS) | (cn["place_id"].str.len() == 9)]
    assert len(area) == 26
    # one seat place per area, keyed by the prefecture code; township places by their own code
    assert set(area["place_id"].str[:6]) == set(TOWNSHIP_AREAS)
    assert set(TOWNSHIP_AREAS) <= set(area["place_id"])
    for pid in area["place_id"]:
        if len(pid) == 9:
            assert g.parent[pid] == pid[:6] and g.name[pid] == area.set_index("place_id").at[pid, "name_zh"]
    # no place id is a county code; each area is under its prefecture's centre group
    assert not set(area["place_id"]) & {c for c, lvl in g.level.items() if lvl == 3}
    assert (area["group"] == area["place_id"].str[:4]).all()
    assert (area["admin2_zh"] == area["place_id"].str[:6].map(g.name)).all()
    assert area["admin1"].map(bool).all() and area["admin2"].map(bool).all()
    assert (area["name"] != "").all() and (area["population"] > 0).all()


@pytest.mark.parametrize("pid,name_zh,lat,lon,pop_min,pop_max", [
    ("441900", "东莞市", 23.02, 113.75, 5_000_000, 10_000_000),      # the seat of Dongguan
    ("441900121", "虎门镇", 22.82, 113.67, 100_000, 1_000_000),      # Humen, GeoNames 191,891
    ("442000", "中山市", 22.52, 113.39, 3_000_000, 5_000_000),       # Zhongshan, GeoNames 3.84 M
    ("460400", "儋州市", 19.52, 109.58, 100_000, 1_000_000),         # Danzhou's seat, 那大
    ("460400112", "白马井镇", 19.71, 109.22, 10_000, 200_000),
    ("620200", "嘉峪关市", 39.77, 98.29, 100_000, 500_000),          # Jiayuguan, GeoNames 231,853
    ("232700", "大兴安岭地区", 50.42, 124.12, 50_000, 500_000),      # at 加格达奇, GeoNames 135,760
    ("632800", "海西蒙古族藏族自治州", 37.85, 95.36, 1_000, 200_000),  # at 大柴旦
])
def test_township_area_places(cn, pid, name_zh, lat, lon, pop_min, pop_max):
    row = cn.set_index("place_id").loc[pid]
    assert row["name_zh"] == name_zh
    assert abs(row["lat"] - lat) < 0.05 and abs(row["lon"] - lon) < 0.05
    assert pop_min <= row["population"] <= pop_max


def test_large_township_areas_have_several_places(cn):
    pre = cn["place_id"].str[:6]
    n = pre[cn["place_id"].str.len() == 9].value_counts()
    assert n["441900"] == 3 and n["460400"] == 16 and n["232700"] == 1   # + the seat place each
    # Dongguan's population is spread over its places; the seat keeps the towns without a point
    dg = cn[pre == "441900"]
    assert dg["population"].sum() > 9_000_000 and dg["population"].max() < 9_500_000
    # every township place is a GeoNames town of its area, more than 5 km from the seat (else it
    # is the seat town) and at most ~150 km from it (新林 lies 143 km north of 加格达奇)
    for area, grp in cn[cn["place_id"].str.len() == 9].groupby(pre):
        seat = cn.set_index("place_id").loc[area]
        d = haversine_km(seat["lat"], seat["lon"], grp["lat"], grp["lon"])
        assert (d > 5).all() and (d < 160).all(), area
        assert (grp["coord_source"] == "geonames").all() and (grp["geonameid"] != "").all()


def test_cn_dtypes_and_values(cn):
    assert cn["lat"].dtype == np.float64 and cn["lon"].dtype == np.float64
    assert cn["population"].dtype == np.int64
    assert (cn["population"] > 0).all()
    assert cn["lat"].between(3.0, 54.0).all() and cn["lon"].between(73.0, 136.0).all()
    assert set(cn["population_source"]) <= {"geonames", "estimate"}
    assert (cn["population_source"] == "geonames").mean() > 0.3
    assert (cn["name"] != "").all() and (cn["name_zh"] != "").all()


def test_cn_provinces(cn):
    names = set(cn["admin1"])
    assert len(names) == 31
    assert {"Beijing", "Zhejiang", "Inner Mongolia", "Xinjiang", "Xizang",
            "Guangdong"} <= names
    assert len(set(cn["admin1_zh"])) == 31


def test_cn_landmarks(cn):
    xihu = cn[(cn["name_zh"] == "西湖区") & (cn["admin2_zh"] == "杭州市")]
    assert len(xihu) == 1
    row = xihu.iloc[0]
    assert row["place_id"] == "330106" and row["admin1"] == "Zhejiang"
    assert row["admin2"] == "Hangzhou" and row["group"] == "3301"
    assert abs(row["lat"] - 30.26) < 0.1 and abs(row["lon"] - 120.13) < 0.1
    dc = cn[cn["place_id"] == "110101"].iloc[0]
    assert dc["name_zh"] == "东城区" and dc["name"] == "Dongcheng"
    assert dc["admin1"] == "Beijing" and dc["group"] == "1100"
    # Dongcheng centroid ~ 2 km from Tiananmen (WGS-84 116.3913, 39.9075)
    assert abs(dc["lat"] - 39.92) < 0.05 and abs(dc["lon"] - 116.41) < 0.05


def test_cn_groups(cn):
    # a county under a prefecture belongs to it; a provincially administered one to itself
    assert (cn.loc[cn["place_id"].str.startswith("3301"), "group"] == "3301").all()
    assert cn.loc[cn["place_id"] == "429004", "group"].item() == "429004"  # Xiantao
    assert cn["group"].str.fullmatch(r"\d{4}|\d{6}").all()
    assert 330 < cn["group"].nunique() < 460


def test_us_and_de():
    us = load_places("US")
    assert list(us.columns[:7]) == LEADING
    assert len(us) > 10000 and us["place_id"].is_unique
    assert "California" in set(us["admin1"]) and "Texas" in set(us["admin1"])
    assert (us["group"] == "").all()
    de = load_places("de")
    assert len(de) > 1000
    assert (de["admin1"] != "").all()
    berlin = de[de["name"] == "Berlin"]
    assert len(berlin) >= 1 and berlin["population"].max() > 3_000_000


def test_copies_are_returned():
    a = load_places("FR")
    a.loc[:, "name"] = "x"
    assert (load_places("FR")["name"] != "x").any()


def test_unknown_country():
    with pytest.raises(NotFoundError) as exc:
        load_places("XX")
    assert "unknown country 'XX'" in str(exc.value)
    assert "\n" not in str(exc.value)
    with pytest.raises(NotFoundError):
        country_info("ZZ")


def test_country_info_and_list():
    info = country_info("cn")
    assert info["code"] == "CN" and info["name"] == "China"
    assert info["population"] > 1_000_000_000 and info["n_places"] == 2871
    codes = list_countries()
    assert {"CN", "US", "DE", "IN", "BR"} <= set(codes)
    assert codes == sorted(codes) and len(codes) > 200
