"""O2O instant delivery: online orders fulfilled from nearby stores by riders on a city's
streets (docs/lastmile.md).

- :class:`City`: travel between street nodes (the street graph, or a routing provider);
- :func:`read_stores`, :func:`read_orders`, :func:`read_lockers`: the day's inputs, checked
  (:mod:`parcelnet.o2o.inputs`); :func:`random_stores`, :func:`generate_orders`: made up ones;
- :func:`simulate_day` -> :class:`O2OResult` (orders, riders, trips) -> :class:`O2OKpis`;
- :mod:`parcelnet.o2o.dispatch`: one dispatch decision, :func:`pooled` or :func:`greedy`.
"""

from parcelnet.o2o.city import City
from parcelnet.o2o.day import DAY_CURVE, O2OKpis, O2OResult, generate_orders, simulate_day
from parcelnet.o2o.dispatch import BIG, greedy, pooled
from parcelnet.o2o.inputs import (lockers_table, orders_table, random_stores, read_lockers,
                                  read_orders, read_stores, stores_table)

__all__ = ["BIG", "City", "DAY_CURVE", "O2OKpis", "O2OResult", "generate_orders", "greedy",
           "lockers_table", "orders_table", "pooled", "random_stores", "read_lockers",
           "read_orders", "read_stores", "simulate_day", "stores_table"]
