"""SKU-level demand (``parcelnet demand --skus N``): a catalogue of SKUs and a day of orders
for them, concentrated regionally the way e-commerce demand is.

**The catalogue.** SKU popularity follows Zipf's law (the k-th most popular SKU sells in
proportion to 1 / k^ZIPF_S). The most popular NATIONAL_SHARE of SKUs are sold nationally.
Every other SKU sells in a few provinces: 1 + a geometric number (mean REGION_EXTRA), at most
REGION_MAX. The seller's own province is one of them with probability HOME_PROB, and the
others are drawn by population. Each SKU's seller is a city sorting centre (tier ``centre``
or ``gateway``; else a hub). Its province is drawn by the provincial origin shares of the
parcel demand model (docs/demand.md), then one of its centres, each alike. A unit's cube is
lognormal (median CUBE_MEDIAN_LITRES litres). With ZIPF_S = 1 the national 2% of 10,000 SKUs
take about 60% of the orders.

**The orders.** Each order picks a SKU by popularity and a creation minute by the day's
minute profile (normal or peak, as ``parcelnet demand``). Its station is drawn by population
among the stations of the SKU's provinces (every station for a national SKU). Its quantity is
1, 2 or 3 units with probabilities QUANTITY. Order ids run 1..N in order of creation.

**A known day's units as orders** (:func:`orders_from_units`, ``parcelnet sense generate
--orders-day``): given the units by province and SKU, each unit becomes a one-unit order at
a station of its province, drawn by population, created at a minute of the day's profile.
:func:`skus_for` gives SKUs named elsewhere (a sensed world's) sellers and cubes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from parcelnet.demand.generate import (_check_seed, _station_provinces, check_day,
                                       load_origin_shares, minute_profile)
from parcelnet.errors import ParameterError
from parcelnet.network.model import Network

ZIPF_S = 1.0
NATIONAL_SHARE = 0.02
REGION_EXTRA = 1.0
REGION_MAX = 6
HOME_PROB = 0.7
QUANTITY = {1: 0.85, 2: 0.10, 3: 0.05}
CUBE_MEDIAN_LITRES, CUBE_SIGMA = 3.0, 1.0


def _count(n, what: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n <= 0:
        raise ParameterError(f"the number of {what} must be a positive integer, got {n!r}")
    return int(n)


def _sellers(network: Network) -> np.ndarray:
    fac = network.facilities
    if "tier" in fac.columns:
        pos = np.flatnonzero(fac["tier"].isin(["centre", "gateway"]).to_numpy())
        if len(pos):
            return pos
    pos = network.hubs
    if len(pos) == 0:
        raise ParameterError("the network has no sorting centres or hubs to sell from")
    return pos


def station_provinces(network: Network) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Province names, each station's province index, each province's population."""
    st_prov = _station_provinces(network, network.stations).astype(str)
    names, idx = np.unique(st_prov, return_inverse=True)
    pop = np.bincount(idx, weights=network.station_population, minlength=len(names))
    return [str(x) for x in names], idx, pop


def generate_skus(network: Network, n: int, seed: int = 0, origin_shares=None) -> pd.DataFrame:
    """The SKU table: ``sku,seller_facility,unit_cube_litres,popularity,scope,provinces``
    (the last three: the share of orders, ``national`` or ``regional``, and the provinces it
    sells in, joined by ``;``), most popular first."""
    n = _count(n, "SKUs")
    rng = np.random.default_rng([_check_seed(seed), 1])
    names, st_prov, prov_pop = station_provinces(network)
    sellers = _sellers(network)
    seller_prov = _station_provinces(network, sellers).astype(str)
    shares = (origin_shares or load_origin_shares()).shares
    # each seller: its province's origin share, split by the population its province serves
    w = np.array([shares.get(p, 0.0) for p in seller_prov], float)
    if w.sum() <= 0:
        w = np.ones(len(sellers))
    same = pd.Series(seller_prov).map(pd.Series(seller_prov).value_counts()).to_numpy(float)
    w = w / same
    seller = rng.choice(sellers, size=n, p=w / w.sum())
    rank = np.arange(1, n + 1, dtype=float)
    pop = rank ** -ZIPF_S
    pop /= pop.sum()
    national = rank <= max(1, round(NATIONAL_SHARE * n))
    prov_index = {p: i for i, p in enumerate(names)}
    sp = _station_provinces(network, seller).astype(str)
    pp = prov_pop / prov_pop.sum()
    scopes, provinces = [], []
    for k in range(n):
        if national[k]:
            scopes.append("national")
            provinces.append("")
            continue
        m = min(REGION_MAX, int(rng.geometric(1 / (1 + REGION_EXTRA))), len(names))
        chosen: list[int] = []
        home = prov_index.get(sp[k])
        if home is not None and rng.random() < HOME_PROB:
            chosen.append(home)
        while len(chosen) < m:
            q = pp.copy()
            q[chosen] = 0
            chosen.append(int(rng.choice(len(names), p=q / q.sum())))
        scopes.append("regional")
        provinces.append(";".join(names[i] for i in sorted(chosen)))
    cube = np.clip(rng.lognormal(np.log(CUBE_MEDIAN_LITRES), CUBE_SIGMA, n), 0.05, 200.0)
    fac = network.facility_index
    return pd.DataFrame({"sku": [f"K{k:06d}" for k in range(1, n + 1)],
                         "seller_facility": np.asarray(fac[seller], dtype=object),
                         "unit_cube_litres": np.round(cube, 3), "popularity": pop,
                         "scope": scopes, "provinces": provinces})


def generate_orders(network: Network, skus: pd.DataFrame, n: int, day: str = "normal",
                    seed: int = 0) -> pd.DataFrame:
    """A day of ``n`` orders for the SKUs of :func:`generate_skus` (module docs):
    ``order_id,created_minute,sku,dest_station,quantity``."""
    n = _count(n, "orders")
    check_day(day)
    rng = np.random.default_rng([_check_seed(seed), 2])
    names, st_prov, _ = station_provinces(network)
    st_pop = network.station_population
    prov_index = {p: i for i, p in enumerate(names)}
    pop = skus["popularity"].to_numpy(float)
    which = rng.choice(len(skus), size=n, p=pop / pop.sum())
    created = np.sort(rng.choice(1440, size=n, p=minute_profile(day)))
    dest = np.empty(n, np.int64)
    stations = network.stations
    all_p = st_pop / st_pop.sum()
    order = np.argsort(which, kind="stable")
    cuts = np.flatnonzero(np.diff(which[order])) + 1
    for idx in np.split(order, cuts):
        k = int(which[idx[0]])
        provs = skus["provinces"].iat[k]
        if skus["scope"].iat[k] == "national" or not provs:
            p = all_p
        else:
            mask = np.isin(st_prov, [prov_index[x] for x in provs.split(";") if x in prov_index])
            p = np.where(mask, st_pop, 0.0)
            p = p / p.sum() if p.sum() > 0 else all_p
        dest[idx] = rng.choice(stations, size=len(idx), p=p)
    qty = rng.choice(list(QUANTITY), size=n, p=list(QUANTITY.values()))
    fac = network.facility_index
    return pd.DataFrame({"order_id": np.arange(1, n + 1), "created_minute": created,
                         "sku": skus["sku"].to_numpy(object)[which],
                         "dest_station": np.asarray(fac[dest], dtype=object), "quantity": qty})


def skus_for(network: Network, ids, seed: int = 0) -> pd.DataFrame:
    """Sellers and cubes for SKUs named ``ids`` (such as a sensed world's,
    ``parcelnet sense generate``): ``sku,seller_facility,unit_cube_litres``, the i-th SKU's
    seller and cube those of :func:`generate_skus`'s i-th for the same ``seed``. The seller
    is drawn by the provinces' origin shares, whatever provinces the SKU sells in."""
    ids = [str(x) for x in ids]
    if len(set(ids)) != len(ids):
        raise ParameterError("the SKU ids must differ from each other")
    cat = generate_skus(network, len(ids), seed)
    return pd.DataFrame({"sku": np.asarray(ids, dtype=object),
                         "seller_facility": cat["seller_facility"].to_numpy(object),
                         "unit_cube_litres": cat["unit_cube_litres"].to_numpy(float)})


def orders_from_units(network: Network, units: pd.DataFrame, day: str = "normal",
                      seed: int = 0) -> pd.DataFrame:
    """A day of one-unit orders for ``units`` (``region,sku,units``: whole units by province
    and SKU, such as a sensed world's true units of one day): an order per unit, its station
    drawn by population among its province's stations, its creation minute by the day's
    minute profile (``normal`` or ``peak``), the orders shuffled before the sorted minutes are
    dealt to them. Order ids run 1..N in order of creation:
    ``order_id,created_minute,sku,dest_station,quantity``."""
    check_day(day)
    rng = np.random.default_rng([_check_seed(seed), 5])
    names, st_prov, _ = station_provinces(network)
    q = pd.to_numeric(units["units"], errors="coerce").to_numpy(float)
    if not np.all(np.isfinite(q) & (q >= 0) & (q == np.round(q))):
        raise ParameterError("a day's units must be whole numbers >= 0")
    q = q.astype(np.int64)
    unknown = sorted(set(units["region"].astype(str)[q > 0]) - set(names))
    if unknown:
        raise ParameterError(f"region '{unknown[0]}' has no stations on the network "
                             f"(regions are the admin1 names of its stations' places)")
    reg = np.repeat(units["region"].astype(str).to_numpy(object), q)
    sku = np.repeat(units["sku"].astype(str).to_numpy(object), q)
    n = len(reg)
    dest = np.empty(n, np.int64)
    pop = network.station_population
    for r, idx in pd.Series(np.arange(n)).groupby(reg):
        here = st_prov == names.index(r)
        p = pop[here]
        p = p / p.sum() if p.sum() > 0 else np.full(len(p), 1 / len(p))
        dest[idx.to_numpy()] = rng.choice(network.stations[here], size=len(idx), p=p)
    order = rng.permutation(n)
    created = np.sort(rng.choice(1440, size=n, p=minute_profile(day)))
    return pd.DataFrame({"order_id": np.arange(1, n + 1), "created_minute": created,
                         "sku": sku[order],
                         "dest_station": network.facility_index[dest[order]].astype(object),
                         "quantity": 1})


def units_by_region(network: Network, orders: pd.DataFrame) -> pd.DataFrame:
    """The units of ``orders`` by province and SKU, as a forecast table
    (``region,sku,units_forecast``): the forecast of perfect foresight for that day."""
    names, st_region, _ = station_provinces(network)
    region = dict(zip(network.facility_index[network.stations], [names[i] for i in st_region]))
    return (orders.assign(region=orders["dest_station"].map(region))
            .groupby(["region", "sku"], as_index=False)["quantity"].sum()
            .rename(columns={"quantity": "units_forecast"}))
