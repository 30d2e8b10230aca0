"""What every command shares: option parsing that names the option in its errors, JSON output,
progress bars, warnings, and early checks of output paths."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from parcelnet.errors import ParcelnetError, UsageError, ValidationError
from parcelnet.results import jsonable

#: Largest seed accepted (PyVRP and numpy both take 32-bit seeds).
MAX_SEED = 2**32 - 1


# -- options ------------------------------------------------------------------------------
def integer(text, flag: str, lo: int | None = None, hi: int | None = None) -> int:
    """A whole-number option, in range, or a one-line usage error naming ``flag``."""
    try:
        v = int(str(text).strip())
    except (TypeError, ValueError):
        raise UsageError(f"{flag} must be an integer, got '{text}'") from None
    if lo is not None and v < lo:
        raise UsageError(f"{flag} must be at least {lo:,}, got {v:,}")
    if hi is not None and v > hi:
        raise UsageError(f"{flag} must be at most {hi:,}, got {v:,}")
    return v


def number(text, flag: str, what: str = "a number", lo: float | None = None,
           above: float | None = None, hi: float | None = None) -> float | None:
    """An optional real-number option (None stays None), checked against ``lo`` (>=),
    ``above`` (>) and ``hi`` (<=)."""
    if text is None:
        return None
    try:
        v = float(str(text).strip())
    except ValueError:
        raise UsageError(f"{flag} must be {what}, got '{text}'") from None
    if v != v or v in (float("inf"), float("-inf")) or (lo is not None and v < lo) or \
            (above is not None and v <= above) or (hi is not None and v > hi):
        raise UsageError(f"{flag} must be {what}, got '{text}'")
    return v


def seed(text, flag: str = "--seed") -> int:
    """A random seed: a whole number from 0 to 2^32 - 1."""
    return integer(text, flag, 0, MAX_SEED)


def day(text, flag: str) -> str:
    """A day given as YYYY-MM-DD (returned so), or a one-line usage error naming ``flag``."""
    import pandas as pd

    try:
        return str(pd.to_datetime(str(text).strip(), format="%Y-%m-%d").date())
    except (TypeError, ValueError):
        raise UsageError(f"{flag} must be a date (YYYY-MM-DD), got '{text}'") from None


def minute(text: str) -> int:
    """argparse type of an absolute creation minute."""
    from parcelnet.promise.engine import MAX_CREATED_MINUTE
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not an integer minute") from None
    if v < 0:
        raise argparse.ArgumentTypeError(f"{v} is negative; minutes count from midnight of day 0")
    if v > MAX_CREATED_MINUTE:
        raise argparse.ArgumentTypeError(f"{v} is too large (at most {MAX_CREATED_MINUTE})")
    return v


def lat_lon(text: str, flag: str) -> tuple[float, float]:
    """``LAT,LON`` in degrees, each in range."""
    try:
        lat, lon = (float(x) for x in str(text).split(","))
    except ValueError:
        raise UsageError(f"{flag} must be LAT,LON in degrees, got '{text}'") from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise UsageError(f"{flag} must be LAT,LON with latitude in [-90, 90] and longitude in "
                         f"[-180, 180], got '{text}'")
    return lat, lon


def writable(path, flag: str) -> Path:
    """Fail before long work when ``path`` could not be written (its folder is created when
    the file is written)."""
    from parcelnet.files import check_writable
    try:
        return check_writable(path)
    except ValidationError as e:
        raise UsageError(f"{flag} {path}: {e.reason}") from None


# -- output -------------------------------------------------------------------------------
def print_json(obj) -> None:
    """A result (its ``to_dict()``) or plain data as one line of strict JSON on stdout."""
    print(json.dumps(jsonable(obj), ensure_ascii=False, allow_nan=False))


def bars(quiet: bool = False):
    """Progress bars on stderr (none when ``quiet`` or stderr is not a terminal)."""
    from parcelnet.viz.console import progress_bars
    return progress_bars(quiet)


# -- warnings and notes -------------------------------------------------------------------
class _StderrHandler(logging.Handler):
    """parcelnet's log records on stderr: warnings as ``parcelnet: warning: ...``, notes
    (INFO) as they are."""

    def emit(self, record: logging.LogRecord) -> None:
        msg = one_line(record.getMessage())
        if record.levelno >= logging.WARNING:
            msg = f"parcelnet: warning: {msg}"
        print(msg, file=sys.stderr)


def setup_logging(quiet: bool) -> None:
    """Warnings always reach stderr; notes (INFO) too unless ``quiet`` (e.g. with --json)."""
    log = logging.getLogger("parcelnet")
    for h in [h for h in log.handlers if isinstance(h, _StderrHandler)]:
        log.removeHandler(h)
    log.addHandler(_StderrHandler())
    log.setLevel(logging.WARNING if quiet else logging.INFO)
    log.propagate = False


def warn(message: str) -> None:
    logging.getLogger("parcelnet").warning(message)


def one_line(text: str) -> str:
    """Escape line breaks and other control characters (e.g. in a quoted CSV value)."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


class Parser(argparse.ArgumentParser):
    """argparse with errors on one line, like every other error of the command."""

    def error(self, message: str):
        self.exit(2, f"parcelnet: error: {one_line(message)} (see '{self.prog} --help')\n")


def add_json(p: argparse.ArgumentParser, what: str = "the result") -> None:
    p.add_argument("--json", action="store_true", help=f"print {what} as one line of JSON")


__all__ = ["ParcelnetError", "Parser", "UsageError", "add_json", "bars", "integer", "lat_lon",
           "minute", "number", "one_line", "print_json", "seed", "setup_logging", "warn", "writable"]
