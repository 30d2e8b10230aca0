"""Demand sensed from social signals (``parcelnet sense``): daily sales and social-media
signals by province and SKU, and a synthetic world with a known answer to test forecasts on
(docs/sensing.md).

- :mod:`.generate`: :func:`generate_world`, sales, signals and the true future;
- :mod:`.tables`: the sales and signals tables, read and checked;
- :mod:`.backtest`: rolling-origin forecasts (:func:`~.backtest.backtest`) and the forward
  forecast placement reads (:func:`~.backtest.forecast`), with LightGBM, with and without
  signals, the seasonal-naive baseline, and a per-series dynamic regression;
- :mod:`.lead`: how far a signal leads sales, and the dynamic regression that uses it;
- :mod:`.score`: backtests scored side by side, overall, by lead time and in windows around
  promotions and bursts (:func:`~.score.score_forecasts`).
"""

from parcelnet.sensing.generate import World, generate_world

__all__ = ["World", "generate_world"]
