"""Finding facilities by what people call them (``parcelnet find``, :meth:`Network.find`).

A facility is found by its id, its name, and the places it serves: a station by the places
in its service area (places.csv), a sorting centre by the places of the stations it delivers
to. Every text column of places.csv whose name starts with ``name`` or ``admin`` counts, so a
Chinese network is found by its Chinese names too (``name_zh``, ``admin2_zh``: 杭州 finds
Hangzhou's centre and its district stations).

Matches are ranked, best first:

0. the facility id itself (any case);
1. a whole word of the facility's own name (``hangzhou`` -> "Hangzhou sorting centre", not
   "Changzhou sorting centre");
2. a whole word of the name or region of a place in the facility's own service area, or the
   whole name without its suffix (``杭州`` = 杭州市, ``西湖`` = 西湖区);
3. the same for a place served through the facility's lanes (a centre, by its stations' areas);
4. the start of a name or word;
5. anywhere inside a name or id ("Changzhou" contains "hangzhou").

Within a rank: hubs before stations, then the order of facilities.csv.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

_SUFFIXES = ("特别行政区", "自治区", "自治州", "自治县", "地区", "省", "市", "区", "县", "盟", "旗", "镇", "乡")
_CJK = re.compile(r"[\u3400-\u9fff]")


def _rank_text(field: str, q: str, whole: int) -> int:
    """Rank of query ``q`` (lower case) in one field value (lower case); 9 = no match."""
    if not field or q not in field:
        return 9
    if _CJK.search(q):
        stem = field
        for suf in _SUFFIXES:
            if field.endswith(suf) and len(field) > len(suf):
                stem = field[: -len(suf)]
                break
        if field == q or stem == q:
            return whole
        return 4 if field.startswith(q) else 5
    if re.search(rf"(?<![\w]){re.escape(q)}(?![\w])", field):
        return whole
    if field.startswith(q) or re.search(rf"(?<![\w]){re.escape(q)}", field):
        return 4
    return 5


def _served_places(network) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Rows of places.csv per facility position: its own service area (stations), and the
    areas of the stations its lanes lead to (centres)."""
    tt = network.timetable
    own: dict[int, list[int]] = {}
    for row, st in enumerate(network.place_station):
        own.setdefault(int(st), []).append(row)
    via: dict[int, list[int]] = {}
    for f, t in zip(tt.lane_from, tt.lane_to):
        if int(t) in own and int(f) not in own:
            via.setdefault(int(f), []).extend(own[int(t)])
    return own, via


def find_facilities(network, text: str, kind: str | None = None, limit: int | None = 20) -> pd.DataFrame:
    """The facilities matching ``text`` (see the module docs), best first: facilities.csv's
    columns plus ``serves`` (the places served, shortened), ``match`` (the rank) and
    ``population`` (served)."""
    q = str(text).strip().lower()
    fac = network.facilities
    if not q:
        return fac.iloc[:0].assign(serves="", match=0, population=0)
    pla = network.places
    cols = [c for c in pla.columns if c.startswith(("name", "admin"))]
    ptext = [pla[c].astype(str).str.lower().to_numpy() for c in cols]
    own, via = _served_places(network)
    served = {i: own.get(i, []) + via.get(i, []) for i in set(own) | set(via)}
    ids = fac["facility_id"].astype(str).str.lower().to_numpy()
    names = fac["name"].astype(str).str.lower().to_numpy()
    ranks = np.full(len(fac), 9)
    for i in range(len(fac)):
        r = 0 if ids[i] == q else min(_rank_text(names[i], q, 1), 5 if q in ids[i] else 9)
        for whole, rows in ((2, own.get(i, ())), (3, via.get(i, ()))):
            for row in rows:
                if r <= whole:
                    break
                for col in ptext:
                    r = min(r, _rank_text(col[row], q, whole))
        ranks[i] = r
    hit = np.flatnonzero(ranks < 9)
    served_pop = np.array([int(network.place_population[served.get(i, [])].sum())
                           for i in range(len(fac))], np.int64)
    out = fac.iloc[hit].copy()
    out["match"] = ranks[hit]
    out["population"] = served_pop[hit].astype(np.int64)
    name_col = "name_zh" if "name_zh" in pla.columns else "name"
    out["serves"] = [_short([pla[name_col].iat[r] for r in served.get(int(i), [])]) for i in hit]
    if kind:
        out = out[out["kind"] == kind]
    is_station = (out["kind"] == "station").to_numpy()
    order = np.lexsort((np.arange(len(out)), is_station, out["match"].to_numpy()))
    out = out.iloc[order]
    return out.head(limit) if limit else out


def _short(names: list, k: int = 3) -> str:
    names = [str(n) for n in dict.fromkeys(names)]
    return ", ".join(names[:k]) + (f" (+{len(names) - k})" if len(names) > k else "")
