"""One exception tree for parcelnet: every exception class the package defines lives here.

Every error a user can cause derives from :class:`ParcelnetError` and from the built-in it
refines (``ValueError``, ``KeyError``, ``ImportError``, ...), so callers can catch either.
Messages describe the data (file, line, field, value and why), never a command-line flag:
the CLI and the web service translate them, the CLI into one line on stderr and exit code 2.
"""

from __future__ import annotations


class ParcelnetError(Exception):
    """Root of every error parcelnet raises on purpose."""


class ValidationError(ParcelnetError, ValueError):
    """Bad input data; names the file, row, field and reason.

    ``row`` is the 1-based line number in the file (the header is line 1, so a
    missing or duplicate column is reported at line 1), or ``None`` when the
    problem concerns the whole file (missing, empty, not a bundle).
    """

    def __init__(self, reason: str, *, file: str | None = None,
                 row: int | None = None, field: str | None = None):
        self.reason, self.file, self.row, self.field = reason, file, row, field
        where = []
        if file is not None:
            where.append(file)
        if row is not None:
            where.append(f"line {row}")
        if field is not None:
            where.append(f"field '{field}'")
        super().__init__(f"{', '.join(where)}: {reason}" if where else reason)


class NotFoundError(ParcelnetError, KeyError):
    """An id (facility, station, country, ...) that does not exist."""

    def __str__(self) -> str:  # KeyError quotes its message; we don't
        return str(self.args[0]) if self.args else ""


class ParameterError(ParcelnetError, ValueError):
    """A bad parameter value or parameter file."""


class UsageError(ParameterError):
    """A command used wrongly: options missing, contradicting each other or out of range.
    Raised by front ends (the CLI), whose messages may name their own options."""


class SolverError(ParcelnetError, RuntimeError):
    """A solver (HiGHS, PyVRP) or an internal consistency check ended without the answer a
    result depends on."""


class MissingDependency(ParcelnetError, ImportError):
    """An optional package is not installed; the message names the extra to install."""


class RoutingServerError(ParcelnetError, ConnectionError):
    """A routing server (OSRM, Valhalla) did not answer, or answered something other than
    what was asked."""


class WorkerLostError(ParcelnetError, RuntimeError):
    """A worker of a distributed run (a Ray actor holding a partition of the day) was lost
    mid-run. The run fails with it: it never returns partial results."""
