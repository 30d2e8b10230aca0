"""Tests for parcelnet.geo.places / countries (packaged data only)."""

import numpy as np
import pytest

from parcelnet.errors import NotFoundError
from parcelnet.geo import country_info, list_countries, load_places

LEADING = ["place_id", "name", "lat", "lon", "population", "admin1", "admin2"]


@pytest.fixture(scope="module")
def cn():
    return load_places("CN")


def test_cn_one_row_per_county(cn):
    assert list(cn.columns[:7]) == LEADING
    assert len(cn) == 2845
    assert cn["place_id"].is_unique
    assert cn["place_id"].str.fullmatch(r"\d{6}").all()
    assert not cn["place_id"].str[:2].isin(["71", "81", "82"]).any()
    assert (cn["adcode"] == cn["place_id"] + "000000").all()


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
    assert info["population"] > 1_000_000_000 and info["n_places"] == 2845
    codes = list_countries()
    assert {"CN", "US", "DE", "IN", "BR"} <= set(codes)
    assert codes == sorted(codes) and len(codes) > 200
