"""A day of parcels: where they start, where they go, and when they are created.

The model (documented with every number in ``docs/demand.md``):

- **Origins** are delivery stations (first-mile pick-up). Each province gets its share of the
  national express volume (``origin_shares.toml``); inside a province the share is split over
  its stations by ``population ** alpha`` (alpha > 1: big e-commerce cities dominate). Networks
  whose provinces are not in the table fall back to ``population ** alpha`` over all stations.
- **Destinations** follow population, tied to the origin by a gravity model:
  ``P(dest | origin) ~ population(dest) * (1 + km(origin, dest) / scale) ** -decay``.
- **Creation minutes** follow a 24-hour curve (uniform within the hour); a peak day adds the
  midnight spike of Singles Day.

Sampling is exact and vectorised: minute counts ~ multinomial(N, curve), then per minute origin
counts ~ multinomial(n_minute, origin shares), then one uniform per parcel, inverted through the
origin's cumulative destination weights (numba). Parcels come out in blocks of whole minutes,
already sorted by (created_minute, origin id, destination id), so ids are assigned in order and
blocks stream straight to a file; memory stays bounded for any N.
"""

from __future__ import annotations

import math
import os
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from numba import njit, prange

from parcelnet.errors import ParameterError, ValidationError
from parcelnet.geo.coords import EARTH_RADIUS_KM
from parcelnet.geo.gravity import distance_decay
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.progress import Progress, log, or_none
from parcelnet.units import DAY

DAYS = ("normal", "peak")

#: Parcels on a normal day when none is given.
NORMAL_DAY_PARCELS = 1_000_000
#: Peak-day volume over a normal day: 777 M parcels on the 2025 Singles Day peak day against a
#: normal 2025 day of 545 M (State Post Bureau: 199.0 bn parcels in 2025 / 365).
PEAK_DAY_MULTIPLE = 777 / 545

#: Parcel creation by hour of day (percent, hours 0..23) on a normal day: when sellers hand
#: parcels over at first-mile pick-up. Low at night, rising through the morning, a lunch dip,
#: the peak in the late afternoon and evening before the line-haul cut-offs. An assumption,
#: documented in docs/demand.md.
HOURLY_WEIGHTS = (
    1.2, 0.6, 0.4, 0.3, 0.3, 0.5,      # 00-05: night (automated warehouses only)
    1.0, 1.8, 3.0, 4.7, 5.8, 6.0,      # 06-11: morning pick-up rounds start
    5.2, 5.8, 6.8, 7.5, 8.5, 9.2,      # 12-17: lunch dip, then the afternoon rounds
    9.0, 7.5, 5.8, 4.5, 2.8, 1.8,      # 18-23: evening hand-over before the cut-offs
)
#: Share of a peak day's parcels created in 00:00-01:00 (Singles Day orders paid at midnight).
PEAK_MIDNIGHT_SHARE = 0.10

#: Within-province concentration exponent: station weight = population ** alpha.
DEFAULT_ALPHA = 1.5
#: Gravity model distance scale (km, as the network builder's volume model) and decay. The decay
#: is calibrated on China's default network so that about 10% of parcels stay within their
#: origin's prefecture (State Post Bureau: intra-city parcels are about a tenth of express
#: volume); with 2.2 it is 10.4%, the mean great-circle distance 650 km.
DISTANCE_SCALE_KM = 200.0
DISTANCE_DECAY = 2.2

#: Parcels per block (blocks are whole minutes; a block is one Parquet write).
CHUNK_PARCELS = 4_000_000
#: The station x station cumulative weight matrix is kept in memory up to this size
#: (float64 up to _F64_MAX_BYTES, float32 above); larger networks recompute rows per block.
CDF_CACHE_BYTES = 768 << 20
_F64_MAX_BYTES = 256 << 20
_ROW_CHUNK_CELLS = 4_000_000  # station pairs per distance computation (bounds temporaries)
#: Furness balancing of the destination weights: stop when every station's expected share is
#: within BALANCE_TOL (relative) of its population share, or after the iteration cap.
BALANCE_TOL = 1e-4
BALANCE_MAX_ITER = 200
BALANCE_MAX_ITER_UNCACHED = 30  # networks too big to cache recompute distances every pass


# -- parameters ----------------------------------------------------------------------------
def check_day(day: str) -> str:
    if day not in DAYS:
        raise ParameterError(f"unknown day '{day}': use one of {', '.join(DAYS)}")
    return day


def default_parcels(day: str = "normal") -> int:
    """Parcels of a day when none is given: 1,000,000, or round(1,000,000 x 777/545) = 1,425,688
    for ``peak``."""
    return NORMAL_DAY_PARCELS if check_day(day) == "normal" else round(NORMAL_DAY_PARCELS * PEAK_DAY_MULTIPLE)


def _check_count(n) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise ParameterError(f"the number of parcels must be an integer, got {n!r}")
    if n <= 0:
        raise ParameterError(f"the number of parcels must be positive, got {n}")
    return int(n)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ParameterError(f"the seed must be an integer >= 0, got {seed!r}")
    return int(seed)


def hourly_profile(day: str = "normal") -> np.ndarray:
    """Share of the day's parcels created in each hour (24 values summing to 1)."""
    w = np.asarray(HOURLY_WEIGHTS, dtype=np.float64)
    w = w / w.sum()
    if check_day(day) == "peak":
        rest = w[1:] / w[1:].sum() * (1.0 - PEAK_MIDNIGHT_SHARE)
        w = np.concatenate([[PEAK_MIDNIGHT_SHARE], rest])
    return w


def minute_profile(day: str = "normal") -> np.ndarray:
    """Share of the day's parcels created in each minute 0..1439 (uniform within the hour)."""
    return np.repeat(hourly_profile(day) / 60.0, 60)


# -- origin shares ------------------------------------------------------------------------
@dataclass(frozen=True)
class OriginShares:
    """Provincial shares of parcel origins (any positive scale; normalised when used)."""

    shares: dict[str, float]
    alpha: float = DEFAULT_ALPHA
    source: str = ""
    path: str | None = None      # None: the packaged table
    explicit: bool = True        # provinces must all exist in the network


_SHARE_KEYS = {"source": str, "unit": str, "alpha": (int, float), "shares": dict}


def _shares_from_dict(raw: Mapping, where: str, explicit: bool, path: str | None) -> OriginShares:
    for key, value in raw.items():
        if key not in _SHARE_KEYS:
            raise ParameterError(f"{where}: unknown key '{key}' (expected {', '.join(_SHARE_KEYS)})")
        if isinstance(value, bool) or not isinstance(value, _SHARE_KEYS[key]):
            raise ParameterError(f"{where}: '{key}' has the wrong type ({type(value).__name__})")
    if "shares" not in raw:
        raise ParameterError(f"{where}: no [shares] table (province = share)")
    shares = {}
    for prov, s in raw["shares"].items():
        if isinstance(s, bool) or not isinstance(s, (int, float)) or not math.isfinite(s) or s < 0:
            raise ParameterError(f"{where}: share of '{prov}' must be a number >= 0, got {s!r}")
        shares[str(prov)] = float(s)
    if not shares or sum(shares.values()) <= 0:
        raise ParameterError(f"{where}: the shares must include a positive value")
    alpha = float(raw.get("alpha", DEFAULT_ALPHA))
    if not math.isfinite(alpha) or alpha <= 0:
        raise ParameterError(f"{where}: alpha must be a positive number, got {raw.get('alpha')!r}")
    return OriginShares(shares, alpha, str(raw.get("source", "")), path, explicit)


def load_origin_shares(path: str | os.PathLike | None = None) -> OriginShares:
    """The packaged provincial origin shares, or a user's TOML file in the same layout
    (``[shares]`` province = share; optional ``alpha``, ``source``, ``unit``)."""
    if path is None:
        text = resources.files("parcelnet.demand").joinpath("origin_shares.toml").read_text("utf-8")
        return _shares_from_dict(tomllib.loads(text), "origin_shares.toml", False, None)
    try:
        with open(path, "rb") as fh:
            raw = tomllib.load(fh)
    except FileNotFoundError:
        raise ParameterError(f"{path}: origin shares file not found") from None
    except IsADirectoryError:
        raise ParameterError(f"{path}: origin shares file is a directory") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise ParameterError(f"{path}: not valid TOML ({e})") from None
    return _shares_from_dict(raw, str(path), True, str(path))


# -- the model ----------------------------------------------------------------------------
def _station_provinces(network: Network, stations: np.ndarray) -> np.ndarray:
    """admin1 of each station: facilities.csv's ``admin1`` column when present, else (and where
    empty) the admin1 of the station's most populous place."""
    n = network.timetable.n_facilities
    prov = np.full(n, "", dtype=object)
    pla = network.places
    if len(pla):
        order = np.lexsort((np.arange(len(pla)), -network.place_population))
        pos = network.place_station[order]
        first = np.unique(pos, return_index=True)[1]
        prov[pos[first]] = pla["admin1"].to_numpy(dtype=object)[order][first]
    fac = network.facilities
    if "admin1" in fac.columns:
        own = fac["admin1"].to_numpy(dtype=object)
        prov = np.where(own != "", own, prov)
    return prov[stations]


@njit(parallel=True, cache=True)
def _decay_rows(lat, lon, row0, scale, decay, out):  # pragma: no cover
    """out[r, j] = (1 + km(row0 + r, j) / scale) ** -decay, km by haversine (radians in)."""
    K, S = out.shape
    for r in prange(K):
        i = row0 + r
        p1 = lat[i]
        c1 = np.cos(p1)
        for j in range(S):
            h = np.sin((lat[j] - p1) / 2.0) ** 2 + c1 * np.cos(lat[j]) * np.sin((lon[j] - lon[i]) / 2.0) ** 2
            h = min(max(h, 0.0), 1.0)
            km = 2.0 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(h))
            out[r, j] = distance_decay(km, scale, decay)


class DemandModel:
    """Origin probabilities and destination weights over a network's stations.

    Stations are held in the string order of their ids, so sampled parcels sort by
    (minute, origin id, destination id) without a sort.
    """

    def __init__(self, network: Network, origin_shares: OriginShares | None = None,
                 alpha: float | None = None, distance_scale_km: float = DISTANCE_SCALE_KM,
                 distance_decay: float = DISTANCE_DECAY, balanced: bool = True):
        table = origin_shares or load_origin_shares()
        alpha = table.alpha if alpha is None else float(alpha)
        for name, v, lo_ok in (("alpha", alpha, False), ("distance_scale_km", distance_scale_km, False),
                               ("distance_decay", distance_decay, True)):
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) \
                    or v < 0 or (v == 0 and not lo_ok):
                raise ParameterError(f"{name} must be a {'non-negative' if lo_ok else 'positive'} "
                                     f"number, got {v!r}")
        self.network = network
        ids = network.facility_index.to_numpy(dtype=object)
        st = network.stations
        self.stations = st[np.argsort(ids[st], kind="stable")].astype(np.int64)
        self.station_ids = ids[self.stations]
        S = len(self.stations)
        if S == 0:
            raise ValidationError("the network has no stations", file="facilities.csv", field="kind")
        pop = np.bincount(network.place_station, weights=network.place_population.astype(np.float64),
                          minlength=network.timetable.n_facilities)
        self.population = pop[self.stations]
        if self.population.sum() <= 0:
            raise ValidationError("no place has a positive population", file="places.csv",
                                  field="population")
        self.province = _station_provinces(network, self.stations)
        self.alpha = alpha
        self.distance_scale_km = float(distance_scale_km)
        self.distance_decay = float(distance_decay)
        self.origin_p, self.province_shares = self._origins(table)
        fac = network.facilities
        self.lat = fac["lat"].to_numpy().astype(np.float64)[self.stations]
        self.lon = fac["lon"].to_numpy().astype(np.float64)[self.stations]
        self.balanced = bool(balanced)
        cells = S * S
        self._cdf_dtype = np.float64 if cells * 8 <= _F64_MAX_BYTES else np.float32
        self._cached = cells * np.dtype(self._cdf_dtype).itemsize <= CDF_CACHE_BYTES
        self._cdf: np.ndarray | None = None
        self._ready = False

    # origins
    def _origins(self, table: OriginShares) -> tuple[np.ndarray, dict[str, float] | None]:
        w = (self.population / self.population.max()) ** self.alpha
        provs = set(self.province)
        where = table.path or "origin_shares.toml"
        if table.explicit:
            missing = [p for p in table.shares if p not in provs]
            if missing:
                known = ", ".join(sorted(p for p in provs if p)) or "none"
                raise ParameterError(f"{where}: province '{missing[0]}' is not in the network "
                                     f"(its provinces: {known})")
        elif not provs <= set(table.shares):
            return w / w.sum(), None  # not a (part of a) Chinese network: population ** alpha
        p = np.zeros(len(w))
        used = {}
        for prov, share in table.shares.items():
            mask = self.province == prov
            if share <= 0 or not mask.any():
                continue
            ww = w[mask]
            p[mask] = share * (ww / ww.sum() if ww.sum() > 0 else np.full(len(ww), 1.0 / len(ww)))
            used[prov] = share
        if p.sum() <= 0:
            raise ParameterError(f"{where}: no station of the network gets a positive share")
        total = sum(used.values())
        return p / p.sum(), {k: v / total for k, v in used.items()}

    # destinations
    def decay_rows(self, a: int, b: int) -> np.ndarray:
        """Distance decay ``(1 + km / scale) ** -decay`` for origins a..b-1 x all stations
        (great-circle km between station coordinates), float64."""
        out = np.empty((b - a, len(self.stations)), dtype=np.float64)
        _decay_rows(np.radians(self.lat), np.radians(self.lon), a, self.distance_scale_km,
                    self.distance_decay, out)
        return out

    def _row_chunks(self, decay: np.ndarray | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """(first origin, float64 decay rows) over all origins, from ``decay`` or computed."""
        S = len(self.stations)
        rows = max(1, _ROW_CHUNK_CELLS // S)
        for a in range(0, S, rows):
            b = min(S, a + rows)
            yield a, (self.decay_rows(a, b) if decay is None else
                      decay[a:b].astype(np.float64, copy=False))

    def _balance(self, decay: np.ndarray | None) -> None:
        """Destination weights W_d (doubly constrained gravity, Furness iterations): with
        P(d | o) = W_d f(o, d) / sum_d' W_d' f(o, d'), the expected destination shares equal the
        population shares while the origin shares stay the table's."""
        target = self.population / self.population.sum()
        w = target.copy()
        self.balance_iterations, self.balance_error = 0, 0.0
        if not self.balanced:
            return self._set_weights(w)
        pos = target > 0
        for it in range(BALANCE_MAX_ITER if decay is not None else BALANCE_MAX_ITER_UNCACHED):
            got = np.zeros(len(w))
            for a, f in self._row_chunks(decay):
                r = f @ w
                q = np.divide(self.origin_p[a:a + len(f)], r, out=np.zeros(len(f)), where=r > 0)
                got += q @ f
            got *= w
            err = float(np.abs(got[pos] / target[pos] - 1.0).max())
            self.balance_iterations, self.balance_error = it, err
            if err < BALANCE_TOL:
                break
            w = np.where(pos, w * target / np.where(got > 0, got, 1.0), 0.0)
            w /= w.sum()
        self._set_weights(w)

    def _set_weights(self, w: np.ndarray) -> None:
        self.dest_weight = w
        positive = np.flatnonzero(w > 0)
        self._last_positive = int(positive[-1])

    def _prepare(self) -> None:
        if self._ready:
            return
        S = len(self.stations)
        if self._cached:
            f = np.empty((S, S), dtype=self._cdf_dtype)
            if f.dtype == np.float64:
                _decay_rows(np.radians(self.lat), np.radians(self.lon), 0, self.distance_scale_km,
                            self.distance_decay, f)
            else:
                for a, rows in self._row_chunks():
                    f[a:a + len(rows)] = rows
            self._balance(f)
            for a, rows in self._row_chunks(f):       # decay rows -> cumulative weights, in place
                rows = rows * self.dest_weight[None, :]
                np.cumsum(rows, axis=1, out=rows)
                f[a:a + len(rows)] = rows
            self._cdf = f
        else:
            self._balance(None)
        self._ready = True

    def cdf_chunks(self) -> Iterator[tuple[int, np.ndarray]]:
        """(first origin, cumulative destination weights of a run of origins), over all origins."""
        self._prepare()
        if self._cdf is not None:
            yield 0, self._cdf
            return
        for a, rows in self._row_chunks():
            rows *= self.dest_weight[None, :]
            np.cumsum(rows, axis=1, out=rows)
            yield a, rows.astype(self._cdf_dtype, copy=False)

    def dest_probabilities(self, origin: int) -> np.ndarray:
        """P(destination station | origin station index), float64 (for tests and reports)."""
        self._prepare()
        w = self.decay_rows(origin, origin + 1)[0] * self.dest_weight
        return w / w.sum()


def demand_model(network: Network, origin_shares=None, *, alpha: float | None = None,
                 distance_scale_km: float = DISTANCE_SCALE_KM,
                 distance_decay: float = DISTANCE_DECAY, balanced: bool = True) -> DemandModel:
    """The demand model of a network. ``origin_shares``: None (the packaged table, or
    population ** alpha where the network's provinces are not in it), a TOML path, a
    ``{province: share}`` mapping or an :class:`OriginShares`."""
    if origin_shares is None or isinstance(origin_shares, OriginShares):
        table = origin_shares
    elif isinstance(origin_shares, Mapping):
        table = _shares_from_dict({"shares": dict(origin_shares)}, "origin shares", True, None)
    else:
        table = load_origin_shares(origin_shares)
    return DemandModel(network, table, alpha, distance_scale_km, distance_decay, balanced)


# -- sampling -----------------------------------------------------------------------------
@njit(cache=True)
def _sort_small(a, s, e):  # pragma: no cover
    """Sort a[s:e] in place (insertion sort for the usual few elements, else np.sort)."""
    if e - s > 32:
        a[s:e] = np.sort(a[s:e])
        return
    for i in range(s + 1, e):
        v = a[i]
        j = i - 1
        while j >= s and a[j] > v:
            a[j + 1] = a[j]
            j -= 1
        a[j + 1] = v


@njit(parallel=True, cache=True)
def _sample_block(cdf, row0, counts_t, offsets_t, u, last_positive, origin, dest):  # pragma: no cover
    """For each (origin, minute) group of the block whose origin row is in ``cdf``: sort its
    uniforms and invert them through the origin's cumulative weights, so destinations come out
    sorted within the group. ``counts_t``/``offsets_t``: (stations, minutes)."""
    K = cdf.shape[0]
    S = cdf.shape[1]
    B = counts_t.shape[1]
    for r in prange(K):  # origin outer: its row stays in cache over the block's minutes
        o = row0 + r
        row = cdf[r]
        total = row[S - 1]
        cnt = counts_t[o]
        off = offsets_t[o]
        for b in range(B):
            c = cnt[b]
            if c == 0:
                continue
            s = off[b]
            e = s + c
            if c > 1:
                _sort_small(u, s, e)
            for k in range(s, e):
                x = u[k] * total
                lo = 0
                hi = S - 1
                while lo < hi:
                    mid = (lo + hi) >> 1
                    if row[mid] > x:
                        hi = mid
                    else:
                        lo = mid + 1
                if row[lo] <= x:  # u * total rounded up to total
                    lo = last_positive
                dest[k] = lo
                origin[k] = o


def _minute_blocks(per_minute: np.ndarray, chunk: int) -> list[tuple[int, int]]:
    blocks, start, size = [], 0, 0
    for m, c in enumerate(per_minute.tolist()):
        if size and size + c > chunk:
            blocks.append((start, m))
            start, size = m, 0
        size += c
    blocks.append((start, len(per_minute)))
    return blocks


def iter_parcel_blocks(model: DemandModel, n: int, day: str = "normal", seed: int = 0,
                       chunk_parcels: int = CHUNK_PARCELS) -> Iterator[Parcels]:
    """Sample ``n`` parcels of ``day`` in blocks of whole minutes, each sorted by (minute,
    origin id, destination id), with ids 0, 1, 2, ... in that order. The same arguments give
    the same parcels (numpy ``default_rng(seed)``)."""
    check_day(day)
    n, seed = _check_count(n), _check_seed(seed)
    rng = np.random.default_rng(seed)
    per_minute = rng.multinomial(n, minute_profile(day))
    next_id = 0
    for m0, m1 in _minute_blocks(per_minute, chunk_parcels):
        nm = per_minute[m0:m1]
        nb = int(nm.sum())
        if nb == 0:
            continue
        counts = rng.multinomial(nm, model.origin_p)            # (minutes, stations)
        flat = counts.ravel()
        offsets_t = np.ascontiguousarray((np.cumsum(flat) - flat).reshape(counts.shape).T)
        counts_t = np.ascontiguousarray(counts.T)
        del counts, flat
        u = rng.random(nb)
        origin = np.empty(nb, dtype=np.int64)
        dest = np.empty(nb, dtype=np.int64)
        for row0, cdf in model.cdf_chunks():
            _sample_block(cdf, row0, counts_t, offsets_t, u, model._last_positive, origin, dest)
        del u, counts_t, offsets_t
        minute = np.repeat(np.arange(m0, m1, dtype=np.int64), nm)
        ids = np.arange(next_id, next_id + nb, dtype=np.int64)
        next_id += nb
        yield Parcels(ids, minute, model.stations[origin], model.stations[dest])


def _prepare(network, n, day, seed, origin_shares, model_kw) -> tuple[DemandModel, int, int]:
    check_day(day)
    n = default_parcels(day) if n is None else _check_count(n)
    seed = _check_seed(seed)
    if not isinstance(network, Network):
        from parcelnet.network.pnf import load_network
        network = load_network(network)
    return demand_model(network, origin_shares, **model_kw), n, seed


def sample_parcels(network: Network | str | os.PathLike, n: int | None = None, day: str = "normal",
                   seed: int = 0, origin_shares=None, *, alpha: float | None = None,
                   distance_scale_km: float = DISTANCE_SCALE_KM,
                   distance_decay: float = DISTANCE_DECAY, balanced: bool = True) -> Parcels:
    """A day of parcels of the demand model as one :class:`~parcelnet.parcels.Parcels` block
    (ids 0..n-1, sorted by creation minute). ``n`` defaults to :func:`default_parcels` of
    ``day``."""
    model, n, seed = _prepare(network, n, day, seed, origin_shares,
                              {"alpha": alpha, "distance_scale_km": distance_scale_km,
                               "distance_decay": distance_decay, "balanced": balanced})
    return Parcels.concat(iter_parcel_blocks(model, n, day, seed))


def generate_parcels(network: Network | str | os.PathLike, n: int | None = None,
                     day: str = "normal", seed: int = 0, origin_shares=None, *,
                     alpha: float | None = None, distance_scale_km: float = DISTANCE_SCALE_KM,
                     distance_decay: float = DISTANCE_DECAY, balanced: bool = True):
    """The parcels of :func:`sample_parcels` as a table with facility ids, the columns of a
    parcels file: ``parcel_id`` (int64, 0..n-1), ``created_minute`` (int64, 0..1439),
    ``origin_facility`` and ``dest_station`` (str ids)."""
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if not isinstance(network, Network):
        from parcelnet.network.pnf import load_network
        network = load_network(network)
    p = sample_parcels(network, n, day, seed, origin_shares, alpha=alpha,
                       distance_scale_km=distance_scale_km, distance_decay=distance_decay,
                       balanced=balanced)
    ids = pa.array(network.facility_index.to_numpy(dtype=object), type=pa.string())
    return pd.DataFrame({
        "parcel_id": p.parcel_id,
        "created_minute": p.created_minute,
        "origin_facility": pc.take(ids, pa.array(p.origin_pos)).to_pandas(),
        "dest_station": pc.take(ids, pa.array(p.dest_pos)).to_pandas(),
    })


#: Bytes a parcel takes in a parcels file, rounded up from what China's network's days take
#: (docs/benchmarks.md, "Parcels files"), for the disk check of :func:`generate_to_file`.
FILE_BYTES_PER_PARCEL = {"parquet": 4, "csv": 28}
#: Parcels of China's busiest day (Singles Day 2025); far larger days get a warning.
BUSIEST_DAY = 777_000_000


def _size(nbytes: float) -> str:
    for unit, k in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if nbytes >= k:
            return f"{nbytes / k:,.1f} {unit}"
    return f"{nbytes:,.0f} bytes"


def check_room(path: str | os.PathLike, n: int) -> int:
    """The bytes ``n`` parcels will take in ``path``; a :class:`ParameterError` when the disk
    has not that much free, a warning (``logging``) when ``n`` is far beyond a real day."""
    import shutil

    from parcelnet.files import is_csv_path
    need = n * FILE_BYTES_PER_PARCEL["csv" if is_csv_path(path) else "parquet"]
    folder = Path(path).absolute().parent
    while not folder.exists():
        folder = folder.parent
    free = shutil.disk_usage(folder).free
    if need > free:
        raise ParameterError(f"{n:,} parcels need about {_size(need)} in {Path(path).name}, but "
                             f"only {_size(free)} are free in {folder}")
    if n > 2 * BUSIEST_DAY:
        log.warning("%s parcels: %.0f times China's busiest day (777 M); about %s to write",
                    f"{n:,}", n / BUSIEST_DAY, _size(need))
    return need


def generate_to_file(network: Network | str | os.PathLike, path: str | os.PathLike,
                     n: int | None = None, day: str = "normal", seed: int = 0, origin_shares=None,
                     *, progress: Progress | None = None, alpha: float | None = None,
                     distance_scale_km: float = DISTANCE_SCALE_KM,
                     distance_decay: float = DISTANCE_DECAY, balanced: bool = True) -> int:
    """Sample a day of parcels straight into ``path`` (Parquet, or CSV when it ends in
    ``.csv``) block by block, so memory stays bounded for any ``n``. Reports the stage "parcels"
    (written) to ``progress``. Returns ``n``. Same parcels as :func:`generate_parcels`."""
    from parcelnet.demand.files import ParcelWriter
    model, n, seed = _prepare(network, n, day, seed, origin_shares,
                              {"alpha": alpha, "distance_scale_km": distance_scale_km,
                                   "distance_decay": distance_decay, "balanced": balanced})
    check_room(path, n)
    progress = or_none(progress)
    progress.start("parcels", n)
    with ParcelWriter(Path(path), model.network) as w:
        for block in iter_parcel_blocks(model, n, day, seed):
            w.write_block(block)
            progress.advance(len(block))
        progress.finish()
    return n
