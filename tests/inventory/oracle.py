"""An independent reference for fulfilment, written from the semantics of docs/plan.md in
plain Python: promises from the promise oracle (tests/promise/oracle.py), the stock in a
dict, the orders sorted by Python's tuple order. Slow; small networks only."""

from __future__ import annotations

from tests.promise import oracle as promise_oracle


def fulfil(net, skus: dict[str, str], orders: list[tuple], stock: dict[tuple[str, str], int]):
    """``skus``: sku -> seller facility; ``orders``: (order_id, created_minute, sku,
    dest_station, quantity); ``stock``: (warehouse_id, sku) -> units (changed in place).
    Returns [(order_id, fulfilled_from, promise_minute or None)] in service order."""
    kinds = dict(zip(net.facilities["facility_id"], net.facilities["kind"]))
    warehouses = [f for f, k in kinds.items() if k == "warehouse"]
    out = []
    for oid, created, sku, dest, q in sorted(orders, key=lambda o: (o[1], o[0])):
        best = None                         # (promise, facility_id)
        for w in warehouses:
            if stock.get((w, sku), 0) < q:
                continue
            p = promise_oracle.promise(net, w, dest, created)
            if p is None:
                continue
            if best is None or (p, w) < best:
                best = (p, w)
        if best is not None:
            stock[(best[1], sku)] -= q
            out.append((oid, best[1], best[0]))
        else:
            seller = skus[sku]
            out.append((oid, seller, promise_oracle.promise(net, seller, dest, created)))
    return out
