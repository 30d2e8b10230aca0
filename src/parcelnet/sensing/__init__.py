"""Demand sensed from social signals (``parcelnet sense``): daily sales and social-media
signals by province and SKU, and a synthetic world with a known answer to test forecasts on
(docs/sensing.md).

- :mod:`.generate`: :func:`generate_world`, sales, signals and the true future.
"""

from parcelnet.sensing.generate import World, generate_world

__all__ = ["World", "generate_world"]
