"""Delivery promises on a PNF network: single queries, batches, cut-offs, coverage."""

from parcelnet.promise.coverage import Coverage, coverage
from parcelnet.promise.engine import Cutoffs, Promise, PromiseEngine

__all__ = ["PromiseEngine", "Promise", "Cutoffs", "coverage", "Coverage"]
