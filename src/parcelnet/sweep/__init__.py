"""Scenario sweeps (``parcelnet sweep``): variations of a base network and day, each a
simulated day, run in worker processes or on Ray, cached by their inputs (docs/sweep.md)."""

from parcelnet.sweep.run import SweepResult, run_sweep
from parcelnet.sweep.scenario import Scenario, Sweep, load_sweep

__all__ = ["Scenario", "Sweep", "SweepResult", "load_sweep", "run_sweep"]
