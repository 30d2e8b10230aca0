"""Optional dependencies: import them with a clear message naming the extra to install."""

from __future__ import annotations

import importlib

from parcelnet.errors import MissingDependency


def require(module: str, extra: str, what: str):
    try:
        return importlib.import_module(module)
    except ImportError:
        raise MissingDependency(f"{what} needs the '{module.split('.')[0]}' package: "
                                f"pip install 'parcelnet[{extra}]'") from None
