"""parcelnet: nationwide parcel networks on real geography.

The library's main entry points, importable from here (loaded on first use):

- build a network: :func:`build_network` (the default build of a country), or load one in the
  PNF v1 format: :func:`load_network`; a :class:`Network` is frozen, variants come from
  ``Network.replace`` and ``Network.with_capacities``;
- promise delivery times: :class:`PromiseEngine`, and 24-hour :func:`coverage`;
- simulate a day: :func:`sample_parcels` (the demand model) and :func:`simulate`, with its
  :func:`kpis`; parcels travel as :class:`Parcels`;
- report long work through a :class:`Progress`; every error is a :class:`ParcelnetError`.

Subpackages by layer: ``geo`` < ``network`` < ``promise`` < ``demand``, ``sim`` < ``plan``;
``lastmile`` and ``o2o`` on ``geo`` and ``network``; ``viz`` (maps, reports) and ``cli`` on top
(docs/design.md).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from parcelnet.errors import (MissingDependency, NotFoundError, ParameterError,  # noqa: E402
                              ParcelnetError, SolverError, ValidationError)
from parcelnet.parcels import Parcels  # noqa: E402
from parcelnet.progress import Progress  # noqa: E402

_LAZY = {
    "Network": "parcelnet.network.model",
    "load_network": "parcelnet.network.pnf",
    "write_pnf": "parcelnet.network.pnf",
    "load_params": "parcelnet.network.params",
    "build_network": "parcelnet.plan.build",
    "PromiseEngine": "parcelnet.promise.engine",
    "coverage": "parcelnet.promise.coverage",
    "sample_parcels": "parcelnet.demand.generate",
    "load_parcels": "parcelnet.demand.files",
    "simulate": "parcelnet.sim.run",
    "kpis": "parcelnet.sim.kpis",
}

__all__ = ["__version__", "MissingDependency", "NotFoundError", "ParameterError", "ParcelnetError",
           "Parcels", "Progress", "SolverError", "ValidationError", *_LAZY]


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'parcelnet' has no attribute '{name}'")
