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
2. a whole word of a served place's name or region, or the whole name without its suffix
   (``杭州`` = 杭州市);
3. the start of a name or word;
4. anywhere inside a name or id ("Changzhou" contains "hangzhou").

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
        return 3 if field.startswith(q) else 4
    if re.search(rf"(?<![\w]){re.escape(q)}(?![\w])", field):
        return whole
    if field.startswith(q) or re.search(rf"(?<![\w]){re.escape(q)}", field):
        return 3
    return 4


def _served_places(network) -> dict[int, list[int]]:
    """Facility position -> rows of places.csv it serves (its own area; a facility with lanes
    into stations, those stations' areas)."""
    tt = network.timetable
    by_station: dict[int, list[int]] = {}
    for row, st in enumerate(network.place_station):
        by_station.setdefault(int(st), []).append(row)
    out = {s: list(rows) for s, rows in by_station.items()}
    for f, t in zip(tt.lane_from, tt.lane_to):
        if int(t) in by_station and int(f) not in by_station:
            out.setdefault(int(f), []).extend(by_station[int(t)])
    return out


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
    served = _served_places(network)
    ids = fac["facility_id"].astype(str).str.lower().to_numpy()
    names = fac["name"].astype(str).str.lower().to_numpy()
    ranks = np.full(len(fac), 9)
    for i in range(len(fac)):
        r = 0 if ids[i] == q else min(_rank_text(names[i], q, 1), 4 if q in ids[i] else 9)
        if r > 2:
            for row in served.get(i, ()):
                for col in ptext:
                    r = min(r, _rank_text(col[row], q, 2))
                if r == 2:
                    break
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
