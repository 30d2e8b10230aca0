"""Compiled loop of fulfilment: orders served one after another against the stock."""

from __future__ import annotations

import numba as nb
import numpy as np


@nb.njit(cache=True)
def serve(order, sku, qty, promise, never, stock):  # pragma: no cover - compiled
    """For each order position in ``order`` (the service order): the warehouse column
    (columns in ascending facility id) holding at least its quantity of its SKU whose
    promise ``promise[i, w]`` is earliest and below ``never`` (the first column on ties), or
    -1 when there is none; that warehouse's stock of the SKU falls by the quantity."""
    chosen = np.full(len(qty), -1, np.int64)
    for i in order:
        s, q = sku[i], qty[i]
        best = -1
        for w in range(promise.shape[1]):
            p = promise[i, w]
            if stock[w, s] >= q and p < never and (best < 0 or p < promise[i, best]):
                best = w
        if best >= 0:
            stock[best, s] -= q
            chosen[i] = best
    return chosen
