"""Forward stock placement (``parcelnet plan placement``): how many units of each SKU to
hold at each warehouse, for the forecast orders promised within 24 hours.

**The planning model.** Regions are provinces (``places.csv`` admin1). ``reach[w, r]`` is
the share of region r's orders that warehouse w promises within 24 hours: the promise
engine's 24 h reach of w to each station (over a day's order hours, by the normal day's hour
profile, or the peak's with ``--day peak``), weighted by the stations' population within r.
A unit of SKU k held at w and sold in r is promised within 24 hours with that probability,
whichever SKU it is. So the
units served from w in r, y[w, r], decide the plan's value, and the problem is a flow:

    max  sum_{w,r} reach[w, r] y[w, r] - eps sum y
    s.t. sum_w y[w, r] <= D[r]            (the forecast units of region r, all SKUs)
         sum_r y[w, r] <= capacity[w]     (the warehouse's ``capacity_units``)
         sum_{w,r} y[w, r] <= U           (the stock budget)

It is a maximum-value flow (source -> warehouses -> regions -> sink, with the budget on the
source), so HiGHS's LP optimum is integral and optimal among all integer placements **for
this model**. The small ``eps`` (1e-6 per unit) keeps units where they reach nobody from
being placed at all: at equal value, fewer units held means less holding cost.

**Per SKU.** Each region's y[w, r] is then filled with its SKUs' forecasts, in whole units
with no rounding, so the placement reaches exactly the model's optimum. Which SKU goes to
which warehouse does not change that value, so the fill keeps the transfer cost low. The
cost to bring a unit of k from its seller to w is its cube x the great-circle km x the
network's truck cost per km / a truck's volume (TRUCK_M3). The fill is the cheapest-cell
method of the transportation problem: the (SKU, warehouse) pairs of least unit cost first,
each given as much as both sides have left. It is a heuristic; the result reports the
transfer cost it reached.

**Safety stock.** Budget the model leaves unused (it places no more than the forecast) is
spread over the placed (warehouse, SKU) pairs in proportion to their units, within the
capacities: orders from other regions take units meant for this one (next paragraph), and
forecasts are wrong.

**What the model leaves out.** Fulfilment (``parcelnet fulfil``) serves each order from the
stocked warehouse with the earliest promise, not the one the plan meant. An order from
another region can take a unit meant for this one. Forecasts are wrong, and the hour of an
order matters. The transfer cost is kept low only within the optimal flow. The exact
24 h share of a placement is what ``parcelnet fulfil`` reports on a day of orders.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import sparse

from parcelnet.demand.skus import station_provinces
from parcelnet.errors import ParameterError, SolverError
from parcelnet.inventory.tables import WAREHOUSE, Skus
from parcelnet.tables import Table
from parcelnet.network.model import Network
from parcelnet.plan._highs import solve_mip
from parcelnet.plan.warehouses import reach_matrix
from parcelnet.progress import Progress, or_none
from parcelnet.results import Result, internal

EPS = 1e-6
#: the volume of a line-haul truck, m3 (a 17.5 m trailer holds about 100 m3): a unit's share of
#: a truck's cost per km is its cube over this
TRUCK_M3 = 100.0
FORECAST_COLUMNS = ("region", "sku", "units_forecast")


@dataclass(frozen=True, eq=False)
class PlacementPlan(Result):
    """The placement and the model's figures."""

    warehouses: list
    budget_units: int
    forecast_units: int          # what one central warehouse would hold for the forecast
    units_placed: int
    safety_units: int            # placed beyond the model's optimum (budget left over)
    planned_within_24h_units: float
    planned_share_24h: float     # of the forecast units, by the model
    skus_placed: int
    transfer_cost: float         # CNY to bring the placed units from their sellers
    seconds: float
    table: pd.DataFrame = internal()          # warehouse_id, sku, units (> 0)
    region_reach: pd.DataFrame = internal()   # warehouse x region reach


def _safety_stock(table: pd.DataFrame, ids: np.ndarray, cap: np.ndarray, left: int):
    """Spread ``left`` units of budget over the placed (warehouse, SKU) pairs in proportion
    to their units, within each warehouse's capacity (whole units, rounded down)."""
    if left <= 0 or not len(table):
        return table, 0
    units = table["units"].to_numpy(np.int64)
    factor = left / units.sum()
    extra = np.floor(units * factor).astype(np.int64)
    w = pd.Index(ids).get_indexer(table["warehouse_id"])
    room = cap - np.bincount(w, weights=units, minlength=len(ids))
    want = np.bincount(w, weights=extra, minlength=len(ids))
    scale = np.where(want > room, np.maximum(room, 0) / np.maximum(want, 1), 1.0)
    extra = np.floor(extra * scale[w]).astype(np.int64)
    return table.assign(units=units + extra), int(extra.sum())


def read_forecast(path, network: Network, skus: Skus,
                  dates: tuple[str, str] | None = None) -> pd.DataFrame:
    """The forecast table ``region,sku,units_forecast`` (and an optional ``date``, summed
    over): regions are ``places.csv`` admin1 names; units >= 0. With ``dates`` (first, last;
    YYYY-MM-DD) only the rows dated from first to last count, and the table must have a
    ``date`` column. Returns region, sku, units_forecast summed per (region, sku)."""
    t = Table(path, FORECAST_COLUMNS, "forecast")
    names = set(station_provinces(network)[0])
    region = t.text("region")
    for i, r in enumerate(region):
        if r not in names:
            raise t.error(f"unknown region '{r}' (regions are the admin1 names of places.csv)",
                          i, "region")
    idx = skus.index
    sku = t.text("sku")
    for i, k in enumerate(sku):
        if k not in idx:
            raise t.error(f"unknown SKU '{k}'", i, "sku")
    units = pd.to_numeric(t.df["units_forecast"], errors="coerce").to_numpy(float, na_value=np.nan)
    bad = ~(np.isfinite(units) & (units >= 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise t.error(f"'{t.df['units_forecast'].iloc[i]}' is not a number of units >= 0", i,
                      "units_forecast")
    keep = np.ones(len(units), bool)
    if "date" in t.df.columns:
        d = pd.to_datetime(t.df["date"], errors="coerce", format="%Y-%m-%d")
        if d.isna().any():
            i = int(np.flatnonzero(d.isna().to_numpy())[0])
            raise t.error(f"'{t.df['date'].iloc[i]}' is not a date (YYYY-MM-DD)", i, "date")
        if dates is not None:
            first, last = (pd.Timestamp(x) for x in dates)
            keep = ((d >= first) & (d <= last)).to_numpy()
            if not keep.any():
                raise ParameterError(f"{path}: no row dated {dates[0]}..{dates[1]} (its dates: "
                                     f"{d.min().date()}..{d.max().date()})")
    elif dates is not None:
        raise ParameterError(f"{path}: no 'date' column to take the dates {dates[0]}..{dates[1]} "
                             f"from")
    df = pd.DataFrame({"region": region, "sku": sku, "units_forecast": units})[keep]
    return df.groupby(["region", "sku"], as_index=False, sort=True)["units_forecast"].sum()


def forecast_units(forecast: pd.DataFrame) -> int:
    """What one central warehouse would hold for ``forecast`` (:func:`read_forecast`'s
    shape): its units, each region and SKU's rounded to a whole unit, as placement counts
    them."""
    u = forecast["units_forecast"].to_numpy(float)
    return int(np.rint(u[u > 0]).sum())


def plan_placement(network: Network, skus: Skus, forecast: pd.DataFrame, budget_units: int,
                   hour_weights: np.ndarray | None = None,
                   progress: Progress | None = None) -> PlacementPlan:
    """The placement of the module docs for ``forecast`` (:func:`read_forecast`'s shape)
    within ``budget_units``."""
    import time

    from parcelnet.demand.generate import hourly_profile
    t0 = time.perf_counter()
    progress = or_none(progress)
    if isinstance(budget_units, bool) or not isinstance(budget_units, (int, np.integer)) \
            or budget_units < 0:
        raise ParameterError(f"the stock budget must be a whole number of units >= 0, got "
                             f"{budget_units!r}")
    fac = network.facilities
    ware = np.flatnonzero(network.timetable.kind == WAREHOUSE)
    if len(ware) == 0:
        raise ParameterError("the network has no warehouses (facilities of kind warehouse); "
                             "add them with parcelnet plan warehouses")
    ids = np.asarray(network.facility_index[ware], dtype=str)
    order = np.argsort(ids, kind="stable")
    ware, ids = ware[order], ids[order]
    cap = np.full(len(ware), np.inf)
    if "capacity_units" in fac.columns:
        raw = pd.to_numeric(fac["capacity_units"].iloc[ware], errors="coerce").to_numpy(float)
        cap = np.where(np.isfinite(raw), raw, np.inf)
    names, st_region, _ = station_provinces(network)
    hw = hourly_profile("normal") if hour_weights is None else np.asarray(hour_weights, float)
    reach_st = reach_matrix(network, list(ids), hw / hw.sum(), progress)
    pop = network.station_population
    pop_r = np.bincount(st_region, weights=pop, minlength=len(names))
    reach = np.zeros((len(ware), len(names)))
    for w in range(len(ware)):
        reach[w] = np.bincount(st_region, weights=pop * reach_st[w], minlength=len(names)) \
            / np.maximum(pop_r, 1e-300)
    rindex = {r: i for i, r in enumerate(names)}
    f = forecast[forecast["units_forecast"] > 0]
    r_of = f["region"].map(rindex).to_numpy(np.int64)
    units = np.rint(f["units_forecast"].to_numpy(float)).astype(np.int64)
    demand = np.bincount(r_of, weights=units, minlength=len(names))
    n_w, n_r = len(ware), len(names)
    nv = n_w * n_r                                   # y[w, r] at w * n_r + r
    cols = np.arange(nv)
    w_of, reg = cols // n_r, cols % n_r
    a = sparse.vstack([sparse.coo_matrix((np.ones(nv), (reg, cols)), shape=(n_r, nv)),
                       sparse.coo_matrix((np.ones(nv), (w_of, cols)), shape=(n_w, nv)),
                       sparse.coo_matrix(np.ones((1, nv)))])
    hi = np.concatenate([demand, np.where(np.isfinite(cap), cap, 1e30), [float(budget_units)]])
    res = solve_mip(-(reach.ravel() - EPS), a, np.full(len(hi), -np.inf), hi, np.zeros(nv),
                    np.full(nv, np.inf), np.zeros(nv, bool))
    if res.status != "optimal":
        raise SolverError(f"the placement flow was not solved ({res.status}); please report this")
    y = np.rint(res.x).astype(np.int64).reshape(n_w, n_r)
    # fill each region's y[w, r] with its SKUs' forecasts, the cheapest transfers first
    from parcelnet.geo import haversine_km
    from parcelnet.network.params import load_params
    per_km = load_params(network.country or "CN").costs.truck_per_km
    lat = fac["lat"].astype(float).to_numpy()
    lon = fac["lon"].astype(float).to_numpy()
    sku_col = f["sku"].to_numpy(object)
    k_of = f["sku"].map(skus.index).to_numpy(np.int64)
    seller = skus.seller_pos[k_of]
    km = haversine_km(lat[seller][:, None], lon[seller][:, None], lat[ware][None, :],
                      lon[ware][None, :])
    unit_cost = skus.unit_cube_litres[k_of][:, None] / 1000.0 / TRUCK_M3 * per_km * km
    rows: dict[tuple[int, str], int] = {}
    transfer = 0.0
    for r in range(n_r):
        mine = np.flatnonzero(r_of == r)
        if not len(mine) or not y[:, r].any():
            continue
        supply = y[:, r].copy()
        left = units[mine].copy()
        ws = np.flatnonzero(supply > 0)
        cells = unit_cost[np.ix_(mine, ws)]
        for c in np.argsort(cells, axis=None, kind="stable"):
            i, j = divmod(int(c), len(ws))
            w = int(ws[j])
            take = int(min(supply[w], left[i]))
            if take <= 0:
                continue
            key = (w, sku_col[mine[i]])
            rows[key] = rows.get(key, 0) + take
            supply[w] -= take
            left[i] -= take
            if not supply.any():
                break
    table = pd.DataFrame([(ids[w], k, u) for (w, k), u in sorted(rows.items())],
                         columns=["warehouse_id", "sku", "units"])
    value = float((reach * y).sum())
    table, safety = _safety_stock(table, ids, cap, int(budget_units) - int(y.sum()))
    if len(table):                    # the transfer cost of everything placed, safety included
        k_t = table["sku"].map(skus.index).to_numpy(np.int64)
        w_t = ware[pd.Index(ids).get_indexer(table["warehouse_id"])]
        s_t = skus.seller_pos[k_t]
        transfer = float((table["units"].to_numpy() * skus.unit_cube_litres[k_t] / 1000.0
                          / TRUCK_M3 * per_km
                          * haversine_km(lat[s_t], lon[s_t], lat[w_t], lon[w_t])).sum())
    total = forecast_units(forecast)
    rr = pd.DataFrame(reach, index=ids, columns=names)
    return PlacementPlan(warehouses=list(ids), budget_units=int(budget_units), forecast_units=total,
                         units_placed=int(table["units"].sum()) if len(table) else 0,
                         safety_units=safety, planned_within_24h_units=value,
                         planned_share_24h=value / total if total else 0.0,
                         skus_placed=int(table["sku"].nunique()) if len(table) else 0,
                         transfer_cost=round(transfer, 2),
                         seconds=round(time.perf_counter() - t0, 2), table=table, region_reach=rr)
