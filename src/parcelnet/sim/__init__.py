"""Capacity simulation of a day of parcels (issue 3): exact semantics, compiled core."""

from parcelnet.sim.engine import RawResult, run_paths, simulate_paths, trip_schedule

__all__ = ["RawResult", "run_paths", "simulate_paths", "trip_schedule"]
