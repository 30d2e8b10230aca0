"""Chinese addresses to the 2025 MCA divisions: full and short forms, left-out levels,
municipalities and cities without counties, ambiguous and unknown names, the fast path equal
to the step-by-step parser, and WGS-84 / GCJ-02 both given."""

from __future__ import annotations

import numpy as np
import pytest

from parcelnet.geo.address import gazetteer, parse_addresses, short_forms
from parcelnet.geo.coords import wgs84_to_gcj02

CASES = [
    ("浙江省杭州市西湖区文新街道文一西路969号", ("浙江省", "杭州市", "西湖区", "文新街道"), "文一西路969号"),
    ("浙江杭州西湖区文一西路969号", ("浙江省", "杭州市", "西湖区", None), "文一西路969号"),
    ("杭州市西湖区文一西路969号", ("浙江省", "杭州市", "西湖区", None), "文一西路969号"),
    ("北京市朝阳区建外街道建国路88号", ("北京市", None, "朝阳区", "建外街道"), "建国路88号"),
    ("中国上海市 静安区 南京西路1266号", ("上海市", None, "静安区", None), "南京西路1266号"),
    ("吉林市昌邑区", ("吉林省", "吉林市", "昌邑区", None), ""),
    ("吉林省吉林市船营区", ("吉林省", "吉林市", "船营区", None), ""),
    ("延边州延吉市河南街道", ("吉林省", "延边朝鲜族自治州", "延吉市", "河南街道"), ""),
    ("内蒙古呼和浩特市新城区", ("内蒙古自治区", "呼和浩特市", "新城区", None), ""),
    ("湖北省仙桃市干河街道", ("湖北省", None, "仙桃市", "干河街道"), ""),
    ("广东省东莞市南城街道鸿福路", ("广东省", "东莞市", None, "南城街道"), "鸿福路"),
    ("广东省东莞市虎门镇连升路1号", ("广东省", "东莞市", None, "虎门镇"), "连升路1号"),
    ("海南省儋州市那大镇人民路", ("海南省", "儋州市", None, "那大镇"), "人民路"),
    ("黑龙江省大兴安岭地区红旗街道", ("黑龙江省", "大兴安岭地区", None, "红旗街道"), ""),
]


@pytest.mark.parametrize("address,names,detail", CASES)
def test_good_addresses(address, names, detail):
    r = parse_addresses([address]).iloc[0]
    got = tuple(None if not isinstance(x, str) else x for x in r[["province", "prefecture", "county", "township"]])
    assert got == names and r["detail"] == detail and r["error"] is None


def test_codes_are_official():
    r = parse_addresses(["浙江省杭州市西湖区文新街道"]).iloc[0]
    assert (r["province_code"], r["prefecture_code"], r["county_code"]) == ("330000", "330100", "330106")
    assert r["township_code"].startswith("330106") and len(r["township_code"]) == 9


@pytest.mark.parametrize("address,why", [
    ("西湖区文一西路", "ambiguous place '西湖区': it is 浙江省杭州市西湖区; 江西省南昌市西湖区"),
    ("鼓楼区中山路1号", "ambiguous place '鼓楼区'"),
    ("火星市某区1号", "unknown place"),
    ("", "unknown place"),
])
def test_bad_addresses(address, why):
    r = parse_addresses([address]).iloc[0]
    assert why in r["error"] and not isinstance(r["county_code"], str)
    assert np.isnan(r["lat_wgs84"])


def test_coordinates_in_both_datums():
    r = parse_addresses(["浙江省杭州市西湖区"]).iloc[0]
    assert 30.0 < r["lat_wgs84"] < 30.5 and 119.9 < r["lon_wgs84"] < 120.3
    glon, glat = wgs84_to_gcj02(r["lon_wgs84"], r["lat_wgs84"])
    assert (r["lat_gcj02"], r["lon_gcj02"]) == pytest.approx((glat, glon))
    assert 100 < abs(r["lon_gcj02"] - r["lon_wgs84"]) * 96_000 < 800   # GCJ-02 is offset by ~500 m


def test_short_forms():
    assert short_forms("延边朝鲜族自治州", 2) >= {"延边", "延边州"}
    assert short_forms("广西壮族自治区", 1) >= {"广西"}
    assert short_forms("城区", 3) == {"城区"}                     # too short to shorten


def test_fast_path_equals_the_parser():
    g = gazetteer()
    rng = np.random.default_rng(0)
    towns = [c for c, lv in g.level.items() if lv == 4]
    for code in rng.choice(towns, 3000, replace=False):
        chain, p = [], g.parent[code]
        while p:
            chain.append(g.name[p])
            p = g.parent.get(p, "")
        text = "".join(reversed(chain)) + g.name[code] + "人民路1号"
        fast, slow = g.parse(text), g._parse_steps(text)
        assert (fast.codes, fast.detail) == (slow.codes, slow.detail), text
        assert fast.codes[3] == code


def test_place_keys():
    g = gazetteer()
    assert g.place_keys(("330000", "330100", "330106", "330106001")) == ("330106",)
    assert g.place_keys(("440000", "441900", None, "441900121")) == ("441900121", "441900")
    assert g.place_keys(("440000", "441900", None, None)) == ("441900",)      # no counties at all
    assert g.place_keys(("230000", "232700", None, "232700003")) == ("232700003", "232700")
    assert g.place_keys(("230000", "232700", None, None)) == ()               # it has counties
    assert g.place_keys(("330000", "330100", None, None)) == ()
    assert g.place_keys(("330000", None, None, None)) == ()


def test_township_area_coordinates():
    """An address in a township area is placed at its township's own place (Humen) or else at
    the area's seat; a county address at its county, as before."""
    from parcelnet.geo import load_places
    pl = load_places("CN").set_index("place_id")
    df = parse_addresses(["广东省东莞市虎门镇连升路1号", "东莞市南城街道鸿福路", "东莞市鸿福路1号",
                          "海南省儋州市那大镇人民路", "黑龙江省大兴安岭地区红旗街道", "黑龙江省大兴安岭地区",
                          "浙江省杭州市西湖区"])
    at = ["441900121", "441900", "441900", "460400", "232700", None, "330106"]
    for i, pid in enumerate(at):
        if pid is None:
            assert np.isnan(df["lat_wgs84"].iat[i])
        else:
            assert (df["lat_wgs84"].iat[i], df["lon_wgs84"].iat[i]) == (pl.at[pid, "lat"], pl.at[pid, "lon"])
    assert df["error"].isna().all()
    glon, glat = wgs84_to_gcj02(df["lon_wgs84"].iat[0], df["lat_wgs84"].iat[0])
    assert (df["lat_gcj02"].iat[0], df["lon_gcj02"].iat[0]) == pytest.approx((glat, glon))
