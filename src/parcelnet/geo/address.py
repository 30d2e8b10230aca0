"""Chinese addresses to official divisions: province, prefecture, county, township (2025 MCA
codes), then a coordinate.

An address is read from its start, one level at a time, the way it is written
(``浙江省杭州市西湖区文新街道文一西路 ...``). Each level accepts the official name or its short
form (``浙江``, ``杭州``, ``西湖``; ``内蒙古``, ``广西``; ``延边`` for 延边朝鲜族自治州), among the
children of the level above when that is known. A level may be missing (``杭州市西湖区...``,
``西湖区...``): the level below is then looked up among all units, and the address is accepted
only if that name is unique nationally or within what is known. Four-municipality and
province-managed counties (北京市朝阳区, 湖北省仙桃市) sit directly under their province, and
prefecture-level cities without counties (东莞市, 中山市) have their townships directly, as do
parts of a few prefectures (大兴安岭地区's 加格达奇 streets).

An address falls in one packaged place (:meth:`Gazetteer.place_keys`): its county; in a
township area (the townships a prefecture administers without a county) the township when it
is a place of its own, else the area's seat place, keyed by the prefecture's code. Its
coordinate is that place's point (WGS-84, from the packaged places: a county's centroid, a
township's GeoNames point, an area's seat) when nothing finer is known. Both WGS-84
(OpenStreetMap, GPS) and GCJ-02 (the datum of Chinese map apps) are returned, named as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from parcelnet.geo.coords import wgs84_to_gcj02

_ETHNIC = ("蒙古|回|藏|维吾尔|苗|彝|壮|布依|朝鲜|满|侗|瑶|白|土家|哈尼|哈萨克|傣|黎|傈僳|佤|畲|拉祜|水|"
           "东乡|纳西|景颇|柯尔克孜|土|达斡尔|仫佬|羌|布朗|撒拉|毛南|仡佬|锡伯|阿昌|普米|塔吉克|怒|"
           "乌孜别克|俄罗斯|鄂温克|德昂|保安|裕固|京|塔塔尔|独龙|鄂伦春|赫哲|门巴|珞巴|基诺")
_AUTONOMOUS = re.compile(rf"^(.+?)(?:(?:{_ETHNIC})族?)+自治(?:州|县|旗|区)$")
_SUFFIX = ("特别行政区", "自治区", "自治州", "自治县", "自治旗", "地区", "街道", "省", "市", "盟", "县",
           "区", "旗", "镇", "乡")
_LEADING = ("中华人民共和国", "中国")
LEVELS = ("province", "prefecture", "county", "township")
WHOLE_KEY = 6      # characters that index the whole-address table


def short_forms(name: str, level: int) -> set[str]:
    """Names a division also goes by in addresses (its official name first)."""
    out = {name}
    m = _AUTONOMOUS.match(name)
    if m and len(m.group(1)) >= 2:
        out.add(m.group(1))
        if name.endswith("州"):
            out.add(m.group(1) + "州")          # 延边州
    if level < 4:
        for suf in _SUFFIX:
            if name.endswith(suf) and len(name) - len(suf) >= 2:
                out.add(name[: -len(suf)])
                break
    return out


def normalize(address) -> str:
    """The address without white space and without a leading country name."""
    text = "".join(str(address).split())
    for lead in _LEADING:
        if text.startswith(lead):
            return text[len(lead):]
    return text


@dataclass(frozen=True)
class Parsed:
    codes: tuple                 # (province, prefecture, county, township) codes or None
    names: tuple
    detail: str                  # the rest of the address (street, number, building)
    error: str | None = None


class _Table:
    """Names of one level (under one parent): name -> codes, and per start of ``key``
    characters the name lengths that exist, longest first, so a match costs a look-up or two.
    Names shorter than ``key`` are not found (the whole-address table leaves those to the
    step-by-step parser)."""
    __slots__ = ("names", "by2", "key")

    def __init__(self, key: int = 2):
        self.names: dict[str, list[str]] = {}
        self.by2: dict[str, tuple] = {}
        self.key = key

    def add(self, form: str, code: str) -> None:
        if len(form) >= self.key:
            self.names.setdefault(form, []).append(code)

    def freeze(self) -> None:
        lens: dict[str, set] = {}
        for form in self.names:
            lens.setdefault(form[:self.key], set()).add(len(form))
        self.by2 = {k: tuple(sorted(v, reverse=True)) for k, v in lens.items()}

    def match(self, text: str, pos: int):
        ns = self.by2.get(text[pos:pos + self.key])
        if ns:
            for n in ns:
                hit = self.names.get(text[pos:pos + n])
                if hit:
                    return hit, pos + n
        return None


class Gazetteer:
    """The 2025 MCA divisions, indexed for address parsing (built once, :func:`gazetteer`)."""

    def __init__(self, div: pd.DataFrame):
        self.name = dict(zip(div["code"], div["name"]))
        self.level = dict(zip(div["code"], div["level"].astype(int)))
        self.parent = dict(zip(div["code"], div["parent"]))
        self.has_county = frozenset(div["parent"][div["level"] == 3])
        self.children: dict[tuple[str, int], _Table] = {}
        self.everywhere: dict[int, _Table] = {k: _Table() for k in (1, 2, 3, 4)}
        for code, lvl, par, nm in zip(div["code"], div["level"].astype(int), div["parent"], div["name"]):
            for form in short_forms(nm, lvl):
                t = self.children.get((par, lvl))
                if t is None:
                    t = self.children[(par, lvl)] = _Table()
                t.add(form, code)
                self.everywhere[lvl].add(form, code)
        for t in (*self.children.values(), *self.everywhere.values()):
            t.freeze()
        self._whole = self._whole_prefixes(div)

    def _whole_prefixes(self, div: pd.DataFrame) -> _Table:
        """Every way of writing a county or township with the levels above it (official and
        short forms; with or without the province, with or without the prefecture), each to
        its codes: the fast path, one look-up for most addresses. A string that two places can
        be written as is left out, so the step-by-step parser decides (and reports it)."""
        whole = _Table(key=WHOLE_KEY)
        seen: dict[str, tuple] = {}
        forms = {c: short_forms(self.name[c], self.level[c]) for c in div["code"][div["level"] < 4]}

        def put(text: str, codes: tuple) -> None:
            old = seen.get(text)
            if old is None:
                seen[text] = codes
            elif old != codes:
                seen[text] = ()
        has_county = set(div["parent"][div["level"] == 3])
        for code, lvl in zip(div["code"], div["level"].astype(int)):
            par = self.parent.get(code, "")
            # counties, and townships of a county or of a prefecture without counties (东莞)
            if lvl < 3 or (lvl == 4 and self.level.get(par) == 2 and par in has_county):
                continue
            top = par if lvl == 4 else code
            chain = [*reversed(list(self.ancestors(top))), top]   # province first
            codes = [None, None, None, None]
            for c in chain + [code]:
                codes[self.level[c] - 1] = c
            codes = tuple(codes)
            own = self.name[code] if lvl == 4 else ""
            *optional, required = chain
            combos = [""]
            for c in optional:                            # province, prefecture: optional
                combos = [x + f for x in combos for f in forms[c]] + combos
            bare_ok = self.level[required] == 2           # 东莞市南城街道 needs no province
            for x in combos:
                if not x and not bare_ok:
                    continue                              # a bare county name: left to the parser
                for f in forms[required]:
                    put(x + f + own, codes)
        for text, codes in seen.items():
            if codes:
                whole.add(text, codes)
        whole.freeze()
        return whole

    def place_keys(self, codes) -> tuple:
        """The place ids an address with these (province, prefecture, county, township) codes
        may fall in, finest first: its county; else, in a township area (its township sits
        directly under the prefecture, or the prefecture has no counties at all), the township
        (a place of its own when GeoNames knows it) and then the area's seat (the prefecture
        code). Empty when the address names neither (a province or a prefecture with counties
        alone)."""
        _, pref, county, town = codes
        if county:
            return (county,)
        if town and pref and self.parent.get(town) == pref:
            return (town, pref)
        if pref and not town and self.level.get(pref) == 2 and pref not in self.has_county:
            return (pref,)
        return ()

    def full_name(self, code: str) -> str:
        return "".join(self.name[c] for c in [*reversed(list(self.ancestors(code))), code])

    def _tables(self, deepest: str | None, lvl: int):
        """Where names of level ``lvl`` are looked up: the children of the deepest level known,
        or every unit of that level (then filtered to those under it)."""
        if deepest is None:
            return self.everywhere[lvl], False
        own = self.children.get((deepest, lvl))
        if own:
            return own, False
        if lvl == 4:                     # townships only under their county (or 东莞-like cities)
            return None, False
        return self.everywhere[lvl], True

    def parse(self, address: str) -> Parsed:
        codes, detail, error = self.parse_text(normalize(address))
        return Parsed(codes, self._names(codes), detail, error)

    def parse_text(self, text: str) -> tuple[tuple, str, str | None]:
        """(codes, detail, error) of a normalised address: one look-up in the table of whole
        prefixes, else the level-by-level parser."""
        hit = self._whole.match(text, 0)
        if hit is not None:
            return hit[0][0], text[hit[1]:], None
        p = self._parse_steps(text)
        return p.codes, p.detail, p.error

    def ancestors(self, code: str):
        """The divisions above ``code``, nearest first."""
        p = self.parent.get(code, "")
        while p:
            yield p
            p = self.parent.get(p, "")

    def _parse_steps(self, text: str) -> Parsed:
        codes: list = [None, None, None, None]
        pos, last, deepest = 0, 0, None
        while last < 4:
            best = None
            for lvl in range(last + 1, 5):
                table, filtered = self._tables(deepest, lvl)
                if table is None:
                    continue
                m = table.match(text, pos)
                if m is None:
                    continue
                hits = m[0]
                if filtered:
                    hits = [h for h in hits if self._under(h, deepest)]
                    if not hits:
                        continue
                if best is None or m[1] > best[2]:
                    best = (lvl, hits, m[1])
            if best is None:
                break
            lvl, hits, end = best
            hits = list(dict.fromkeys(hits))
            if len(hits) > 1:
                where = "; ".join(self.full_name(h) for h in hits[:4])
                return Parsed(tuple(codes), self._names(codes), text[pos:],
                              f"ambiguous place '{text[pos:end]}': it is {where}")
            code = hits[0]
            codes[lvl - 1] = code
            for p in self.ancestors(code):   # the levels above, written or not
                codes[self.level[p] - 1] = p
            pos, last, deepest = end, lvl, code
        if all(c is None for c in codes):
            return Parsed(tuple(codes), self._names(codes), text,
                          f"unknown place: no province, prefecture or county name at the start of '{text[:20]}'")
        return Parsed(tuple(codes), self._names(codes), text[pos:])

    def _under(self, code: str, above: str) -> bool:
        return above in self.ancestors(code)

    def _names(self, codes) -> tuple:
        return tuple(self.name[c] if c else None for c in codes)


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    path = resources.files("parcelnet.geo").joinpath("data/divisions_cn.parquet")
    with resources.as_file(path) as p:
        return Gazetteer(pd.read_parquet(p))


@lru_cache(maxsize=1)
def _place_points() -> pd.DataFrame:
    from parcelnet.geo.places import load_places
    pl = load_places("CN")
    return pl.set_index(pl["place_id"].astype(str))[["lat", "lon"]]


def place_of(codes: pd.DataFrame, place_ids, gaz: Gazetteer | None = None) -> pd.Series:
    """Per row of parsed ``codes`` (the ``*_code`` columns), the place it falls in: its county;
    without one, the first of its :meth:`Gazetteer.place_keys` among ``place_ids`` (a collection
    of place ids: a network's or the packaged places'); else None."""
    county = codes["county_code"]
    rest = np.flatnonzero(county.isna().to_numpy())
    if not len(rest):
        return county
    g = gaz or gazetteer()
    ids = place_ids if isinstance(place_ids, (set, frozenset, dict)) else set(place_ids)
    rows = codes.iloc[rest][[f"{x}_code" for x in LEVELS]].to_numpy()
    out = county.to_numpy(dtype=object, copy=True)
    out[rest] = [next((k for k in g.place_keys([x if isinstance(x, str) else None for x in row])
                       if k in ids), None) for row in rows]
    return pd.Series(out, index=codes.index, dtype=object)


def parse_addresses(addresses) -> pd.DataFrame:
    """One row per address: the four codes and names, the detail, a coordinate (WGS-84 and
    GCJ-02) at the point of the place it falls in (a county's centroid, or in a township
    area the township's or the area seat's point), and ``error`` (None when parsed)."""
    g = gazetteer()
    codes, details, errors = [], [], []
    for a in addresses:
        c, d, e = g.parse_text(normalize(a))
        codes.append(c)
        details.append(d)
        errors.append(e)
    df = pd.DataFrame(codes, columns=[f"{x}_code" for x in LEVELS]) if codes else \
        pd.DataFrame(columns=[f"{x}_code" for x in LEVELS])
    for x in LEVELS:
        df[x] = df[f"{x}_code"].map(g.name)
    df["detail"], df["error"] = details, errors
    points = _place_points()
    pts = points.reindex(place_of(df, points.index, g).fillna(""))
    df["lat_wgs84"], df["lon_wgs84"] = pts["lat"].to_numpy(), pts["lon"].to_numpy()
    ok = np.isfinite(df["lat_wgs84"].to_numpy(float))
    glon, glat = np.full(len(df), np.nan), np.full(len(df), np.nan)
    if ok.any():
        glon[ok], glat[ok] = wgs84_to_gcj02(df["lon_wgs84"].to_numpy()[ok], df["lat_wgs84"].to_numpy()[ok])
    df["lat_gcj02"], df["lon_gcj02"] = glat, glon
    return df
