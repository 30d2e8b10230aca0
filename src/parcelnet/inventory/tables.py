"""The tables of forward inventory, read from CSV or Parquet and checked against a network.

- SKUs: ``sku,seller_facility,unit_cube_litres`` plus any extra columns (kept). ``sku`` is
  unique; ``seller_facility`` is any facility of the network; the cube is > 0.
- Orders: ``order_id,created_minute,sku,dest_station,quantity``. ``order_id`` is unique (an
  integer column sorts as integers, any other as text); ``created_minute`` an integer >= 0
  (absolute minutes, day 0 starting at 0); ``sku`` in the SKU table; ``dest_station`` a
  station; ``quantity`` an integer >= 1.
- Placement: ``warehouse_id,sku,units``. ``warehouse_id`` is a facility of kind
  ``warehouse``; ``sku`` in the SKU table; ``units`` an integer >= 0; each (warehouse, sku)
  at most once.

Bad input raises :class:`~parcelnet.errors.ValidationError` naming the file, the line (CSV:
the header is line 1) or row (Parquet: the first data row is row 1), the field and why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from parcelnet.errors import ValidationError
from parcelnet.network.model import Network
from parcelnet.network.schema import FACILITY_KINDS
from parcelnet.tables import Table

SKU_COLUMNS = ("sku", "seller_facility", "unit_cube_litres")
ORDER_COLUMNS = ("order_id", "created_minute", "sku", "dest_station", "quantity")
PLACEMENT_COLUMNS = ("warehouse_id", "sku", "units")
WAREHOUSE = FACILITY_KINDS.index("warehouse")


@dataclass(frozen=True, eq=False)
class Skus:
    """The SKU table: ids, each SKU's seller facility (position), unit cube, extra columns."""

    sku: np.ndarray                 # str (object)
    seller_pos: np.ndarray          # int64 facility positions
    unit_cube_litres: np.ndarray    # float
    frame: pd.DataFrame             # the table as read (extra columns kept)

    @property
    def index(self) -> dict[str, int]:
        return {s: i for i, s in enumerate(self.sku)}

    @classmethod
    def from_frame(cls, df: pd.DataFrame, network: Network) -> Skus:
        """From a table already known to be good (as :func:`parcelnet.demand.skus.generate_skus`
        makes); files go through :func:`read_skus`."""
        pos = network._facility_pos
        return cls(sku=df["sku"].to_numpy(object),
                   seller_pos=np.array([pos[x] for x in df["seller_facility"]], np.int64),
                   unit_cube_litres=df["unit_cube_litres"].to_numpy(float), frame=df)

    def __len__(self) -> int:
        return len(self.sku)


@dataclass(frozen=True, eq=False)
class Orders:
    """Orders: ids (as read), creation minutes, SKU indices, destination station positions
    and quantities, in the file's order."""

    order_id: np.ndarray
    created_minute: np.ndarray
    sku_idx: np.ndarray
    dest_pos: np.ndarray
    quantity: np.ndarray

    def __len__(self) -> int:
        return len(self.order_id)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, network: Network, skus: Skus) -> Orders:
        """From a table already known to be good (integer order ids); files go through
        :func:`read_orders`."""
        pos = network._facility_pos
        return cls(order_id=df["order_id"].to_numpy(np.int64),
                   created_minute=df["created_minute"].to_numpy(np.int64),
                   sku_idx=df["sku"].map(skus.index).to_numpy(np.int64),
                   dest_pos=np.array([pos[x] for x in df["dest_station"]], np.int64),
                   quantity=df["quantity"].to_numpy(np.int64))

    def service_order(self) -> np.ndarray:
        """Positions in the order orders are served: by (created_minute, order_id)."""
        return np.lexsort((self.order_id, self.created_minute)) if self.order_id.dtype != object \
            else pd.DataFrame({"c": self.created_minute, "o": self.order_id}) \
            .sort_values(["c", "o"], kind="mergesort").index.to_numpy()


@dataclass(frozen=True, eq=False)
class Placement:
    """Stock held: warehouse positions, SKU indices, units (one row per pair)."""

    warehouse_pos: np.ndarray
    sku_idx: np.ndarray
    units: np.ndarray

    def __len__(self) -> int:
        return len(self.units)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, network: Network, skus: Skus) -> Placement:
        """From a table already known to be good; files go through :func:`read_placement`."""
        pos = network._facility_pos
        return cls(warehouse_pos=np.array([pos[w] for w in df["warehouse_id"]], np.int64),
                   sku_idx=df["sku"].map(skus.index).to_numpy(np.int64),
                   units=df["units"].to_numpy(np.int64))


def read_skus(path: str | os.PathLike, network: Network) -> Skus:
    t = Table(path, SKU_COLUMNS, "SKU")
    sku = t.text("sku")
    t.unique(sku, "sku")
    seller = t.lookup(t.text("seller_facility"), network._facility_pos, "seller_facility",
                      "facility")
    cube = pd.to_numeric(t.df["unit_cube_litres"], errors="coerce").to_numpy(dtype=float,
                                                                            na_value=np.nan)
    bad = ~(np.isfinite(cube) & (cube > 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise t.error(f"'{t.df['unit_cube_litres'].iloc[i]}' is not a volume > 0 in litres", i,
                      "unit_cube_litres")
    return Skus(sku=sku, seller_pos=seller, unit_cube_litres=cube, frame=t.df)


def read_orders(path: str | os.PathLike, network: Network, skus: Skus) -> Orders:
    t = Table(path, ORDER_COLUMNS, "order")
    raw = t.df["order_id"]
    ids = pd.to_numeric(raw, errors="coerce")
    if ids.notna().all() and (ids == ids.round()).all():
        order_id = ids.to_numpy(dtype=np.int64)
    else:
        order_id = t.text("order_id")
    t.unique(order_id, "order_id")
    created = t.integers("created_minute", 0)
    sku = t.lookup(t.text("sku"), skus.index, "sku", "SKU")
    stations = {network.facility_index[p]: int(p) for p in network.stations}
    dest = t.lookup(t.text("dest_station"), stations, "dest_station", "station")
    qty = t.integers("quantity", 1)
    return Orders(order_id=order_id, created_minute=created, sku_idx=sku, dest_pos=dest,
                  quantity=qty)


def read_placement(path: str | os.PathLike, network: Network, skus: Skus) -> Placement:
    t = Table(path, PLACEMENT_COLUMNS, "placement")
    kind = network.timetable.kind
    ware = {f: i for f, i in network._facility_pos.items() if kind[i] == WAREHOUSE}
    wid = t.text("warehouse_id")
    for i, w in enumerate(wid):
        if w not in ware:
            what = (f"'{w}' is a {FACILITY_KINDS[kind[network._facility_pos[w]]]}, not a warehouse"
                    if w in network._facility_pos else f"unknown warehouse '{w}'")
            raise t.error(what, i, "warehouse_id")
    pos = np.array([ware[w] for w in wid], np.int64)
    sku = t.lookup(t.text("sku"), skus.index, "sku", "SKU")
    units = t.integers("units", 0)
    pair = pd.Series(list(zip(pos.tolist(), sku.tolist())), dtype=object)
    dup = pair.duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise t.error(f"warehouse '{wid[i]}' holds SKU '{skus.sku[sku[i]]}' on an earlier row "
                      "too", i, "sku")
    return Placement(warehouse_pos=pos, sku_idx=sku, units=units)
