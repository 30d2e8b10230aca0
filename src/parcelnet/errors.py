"""One exception tree for parcelnet.

Every error a user can cause derives from :class:`ParcelnetError`; the CLI
prints ``str(error)`` on one line and exits non-zero, never a traceback.
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


class SolverError(ParcelnetError, RuntimeError):
    """An optimisation solver (HiGHS) ended without the answer a result depends on."""
