"""The timetable rules of PNF v1, compiled once (numba) and used by every engine: the promise
search, the capacity simulation and ``parcelnet explain``.

Times are int64 absolute minutes; a timetable repeats every :data:`~parcelnet.units.DAY`.

- **Next departure.** A parcel ready at a facility at minute ``r`` takes the first departure of
  a lane at ``m + 1440 k >= r`` (``m`` one of the lane's departure minutes of day).
- **Delivery wave.** A parcel ready at its destination station at minute ``r`` is delivered at
  the end of the first wave instance starting at or after ``r``; among waves starting in the
  same minute, the one ending first (the Timetable keeps waves sorted by start, then end).

The functions are inlined where compiled code calls them (``inline="always"``), so the engines'
loops pay no call overhead; Python code (``explain``) calls them as plain functions.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from parcelnet.units import DAY

#: "Unreachable" / "never" in the engines: far above any minute they compute with.
INF = np.int64(1) << 60


@njit(cache=True, inline="always")
def lower_bound(a, lo, hi, x):
    """First position in sorted ``a[lo:hi]`` whose value is >= ``x`` (``hi`` if none)."""
    while lo < hi:
        m = (lo + hi) >> 1
        if a[m] < x:
            lo = m + 1
        else:
            hi = m
    return lo


@njit(cache=True, inline="always")
def next_departure(ready, lane, dep_ptr, dep_minute):
    """First absolute departure of ``lane`` at or after minute ``ready`` (``dep_minute[
    dep_ptr[lane]:dep_ptr[lane + 1]]``: its distinct departure minutes of day, sorted)."""
    lo = dep_ptr[lane]
    hi = dep_ptr[lane + 1]
    day = ready // DAY
    a = lower_bound(dep_minute, lo, hi, ready - day * DAY)
    if a == hi:
        return (day + 1) * DAY + dep_minute[lo]
    return day * DAY + dep_minute[a]


@njit(cache=True, inline="always")
def wave_start(ready, station, wave_ptr, wave_start_min):
    """(start, wave position) of the first wave instance of ``station`` starting at or after
    minute ``ready``; (INF, -1) when the station has no waves or ``ready`` is INF."""
    lo = wave_ptr[station]
    hi = wave_ptr[station + 1]
    if lo == hi or ready >= INF:
        return INF, -1
    day = ready // DAY
    a = lower_bound(wave_start_min, lo, hi, ready - day * DAY)
    if a == hi:
        return (day + 1) * DAY + wave_start_min[lo], lo
    return day * DAY + wave_start_min[a], a


@njit(cache=True, inline="always")
def wave_end(ready, station, wave_ptr, wave_start_min, wave_duration):
    """Delivered minute of a parcel ready at ``station`` at ``ready``: the end of the first
    wave instance starting at or after it (INF when there is none)."""
    start, k = wave_start(ready, station, wave_ptr, wave_start_min)
    if k < 0:
        return INF
    return start + wave_duration[k]
