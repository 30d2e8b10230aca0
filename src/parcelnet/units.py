"""Time units, in one place.

parcelnet counts time in **integer minutes** on the network (absolute: minute 0 is midnight
at the start of day 0, so 1080 is 18:00 on day 0 and 2880 is midnight after day 1) and in
**integer seconds** on street maps (seconds from midnight). These helpers turn them into what
people read: ``day 1 08:30``, ``08:30``. Numba kernels import the constants directly; they are
compile-time constants there.
"""

from __future__ import annotations

from parcelnet.errors import ParameterError

#: Minutes in a day: the period of every timetable.
DAY = 1440
#: Minutes in an hour.
HOUR = 60


def clock(minute: int) -> str:
    """Absolute minute -> ``'day D HH:MM'`` (``clock(1080) == 'day 0 18:00'``)."""
    d, m = divmod(int(minute), DAY)
    return f"day {d} {m // HOUR:02d}:{m % HOUR:02d}"


def hhmm(minute: int) -> str:
    """Minute (of day, or absolute: the day is dropped) -> ``'HH:MM'``."""
    m = int(minute) % DAY
    return f"{m // HOUR:02d}:{m % HOUR:02d}"


def duration(minutes: float) -> str:
    """A span of minutes as people say it: ``'45 min'``, ``'21 h 30 min'``, ``'2 d 3 h'``."""
    m = int(round(minutes))
    if m < HOUR:
        return f"{m} min"
    if m < DAY:
        h, r = divmod(m, HOUR)
        return f"{h} h" if r == 0 else f"{h} h {r:02d} min"
    d, r = divmod(m, DAY)
    return f"{d} d" if r < HOUR else f"{d} d {r // HOUR} h"


def seconds_clock(seconds: float) -> str:
    """Seconds from midnight (street maps) -> ``'HH:MM'``, or ``'day D HH:MM'`` past the
    first day."""
    m = int(seconds) // 60
    return hhmm(m) if m < DAY else clock(m)


def minute_of_day(text: str, where: str) -> int:
    """``'HH:MM'`` -> minute of day; anything else is a :class:`ParameterError` naming
    ``where``."""
    try:
        hh, mm = str(text).split(":")
        h, m = int(hh), int(mm)
    except (ValueError, AttributeError):
        raise ParameterError(f"{where}: {text!r} is not a time of day HH:MM") from None
    if not (0 <= h < 24 and 0 <= m < HOUR):
        raise ParameterError(f"{where}: {text!r} is not a time of day HH:MM")
    return h * HOUR + m
