"""Forward inventory: SKUs, stock placed at warehouses, and the fulfilment of SKU orders
from that stock with exact promises (docs/plan.md, "Fulfilment").

- :mod:`.tables`: the SKU, order and placement tables, read and checked against a network;
- :mod:`.fulfil`: :func:`fulfil`, which serves orders in order of (created_minute,
  order_id) from the warehouse with the earliest promise, or from the SKU's seller.
"""

from parcelnet.inventory.fulfil import Fulfilment, fulfil
from parcelnet.inventory.tables import (Orders, Placement, Skus, read_orders, read_placement,
                                        read_skus)

__all__ = ["Fulfilment", "Orders", "Placement", "Skus", "fulfil", "read_orders",
           "read_placement", "read_skus"]
