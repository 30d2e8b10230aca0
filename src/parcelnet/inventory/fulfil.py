"""Fulfilment of SKU orders from placed stock, with exact semantics (docs/plan.md):

- orders are served in order of (created_minute, order_id);
- an order for q units of SKU s to station d goes to the warehouse holding at least q units
  of s whose promise to d, for an order created at that minute at the warehouse, is
  earliest; ties go to the smaller facility_id (text order); a warehouse that cannot reach d
  at all is not a candidate; that warehouse's stock of s falls by q;
- if no warehouse qualifies, the order ships from the SKU's seller facility, whose stock is
  unlimited (its promise may be none: unreachable).

Promises are the promise engine's, in absolute minutes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.inventory import _kernels as K
from parcelnet.inventory.tables import WAREHOUSE, Orders, Placement, Skus
from parcelnet.network.model import Network
from parcelnet.parcels import Parcels
from parcelnet.progress import Progress, or_none
from parcelnet.promise.engine import INF, PromiseEngine
from parcelnet.results import Result, internal
from parcelnet.units import DAY


@dataclass(frozen=True, eq=False)
class Fulfilment(Result):
    """Where each order was served from and its promise, with the day's shares."""

    orders: int
    from_warehouses: int
    from_sellers: int
    unreachable: int                  # orders whose source has no promise to them
    within_24h: int                   # promised within 24 h of creation
    share_within_24h: float
    units_shipped_from_warehouses: int
    #: order_id, fulfilled_from, promise_minute (nullable), in the order orders are served
    table: pd.DataFrame = internal()
    #: one parcel per order (parcel_id = position in the service order), origin = the source
    parcels: Parcels = internal()


FULFIL_STAGES = ("promises from the warehouses", "serving the orders")


def fulfil(network: Network, skus: Skus, orders: Orders, placement: Placement,
           engine: PromiseEngine | None = None, progress: Progress | None = None) -> Fulfilment:
    """Serve ``orders`` from the stock of ``placement`` (see the module docs)."""
    progress = or_none(progress)
    eng = engine or PromiseEngine(network)
    fac = network.facility_index
    kind = network.timetable.kind
    ware = np.flatnonzero(kind == WAREHOUSE)
    ware = ware[np.argsort(np.asarray(fac[ware], dtype=str), kind="stable")]   # by facility_id
    col = np.full(len(kind), -1, np.int64)
    col[ware] = np.arange(len(ware))
    stock = np.zeros((len(ware), len(skus)), np.int64)
    np.add.at(stock, (col[placement.warehouse_pos], placement.sku_idx), placement.units)
    n = len(orders)
    promise = np.full((n, len(ware)), INF, np.int64)
    held = np.unique(col[placement.warehouse_pos[placement.units > 0]])
    progress.start(FULFIL_STAGES[0], len(held) + 1)
    for w in held:
        promise[:, w] = eng.promise_many(np.full(n, ware[w], np.int64), orders.dest_pos,
                                         orders.created_minute)
        progress.advance()
    seller = eng.promise_many(skus.seller_pos[orders.sku_idx], orders.dest_pos,
                              orders.created_minute)
    progress.advance()
    progress.start(FULFIL_STAGES[1], 1)
    order = orders.service_order()
    chosen = K.serve(order.astype(np.int64), orders.sku_idx, orders.quantity, promise, INF, stock)
    progress.advance()
    progress.finish()
    from_w = chosen >= 0
    source = np.where(from_w, ware[np.maximum(chosen, 0)], skus.seller_pos[orders.sku_idx])
    minute = np.where(from_w, promise[np.arange(n), np.maximum(chosen, 0)], seller)
    reach = minute < INF
    within = reach & (minute - orders.created_minute <= DAY)
    table = pd.DataFrame({
        "order_id": orders.order_id[order],
        "fulfilled_from": np.asarray(fac[source[order]], dtype=object),
        "promise_minute": pd.array(np.where(reach, minute, 0)[order], dtype="Int64")})
    table.loc[~reach[order], "promise_minute"] = pd.NA
    parcels = Parcels(np.arange(n), orders.created_minute[order], source[order],
                      orders.dest_pos[order])
    return Fulfilment(orders=n, from_warehouses=int(from_w.sum()), from_sellers=int((~from_w).sum()),
                      unreachable=int((~reach).sum()), within_24h=int(within.sum()),
                      share_within_24h=float(within.mean()) if n else 0.0,
                      units_shipped_from_warehouses=int(orders.quantity[from_w].sum()),
                      table=table, parcels=parcels)
