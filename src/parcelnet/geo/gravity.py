"""The gravity model of spatial interaction, in one place.

Flow between two places grows with their masses (population) and falls with distance:
``flow(i, j) ~ mass_i * mass_j * distance_decay(km_ij)``, where
``distance_decay(km) = (1 + km / scale_km) ** -decay``. Each caller names its own scale and
decay, with their source:

- the network builder's lane sizing and p-hub flows: ``volume.distance_scale_km`` (200 km) and
  ``volume.distance_decay`` (1.0) in ``defaults.toml`` (docs/network.md);
- the demand model's destination choice: :data:`parcelnet.demand.DISTANCE_SCALE_KM` (200 km)
  and :data:`parcelnet.demand.DISTANCE_DECAY` (2.2, calibrated so that about 10% of China's
  parcels stay in their prefecture; docs/demand.md).
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def distance_decay(km, scale_km, decay):
    """``(1 + km / scale_km) ** -decay``: 1 at distance 0, falling with distance; km a number
    or an array (compiled, so numba kernels call it too)."""
    return (1.0 + km / scale_km) ** -decay


def gravity(mass_from, mass_to, km, scale_km: float, decay: float) -> np.ndarray:
    """Unnormalised flows ``mass_from[i] * mass_to[j] * distance_decay(km[i, j])``."""
    km = np.asarray(km, np.float64)
    return np.outer(np.asarray(mass_from, np.float64), np.asarray(mass_to, np.float64)) * \
        distance_decay(km, float(scale_km), float(decay))
