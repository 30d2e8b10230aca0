"""The service's errors: part of parcelnet's one exception tree, each with its HTTP status.

The API answers every one of them, and every :class:`parcelnet.errors.ParcelnetError`, with
a 4xx and ``{"detail": "..."}``; nothing a client sends becomes a 500.
"""

from __future__ import annotations

from parcelnet.errors import NotFoundError, ParcelnetError, ValidationError


class ServiceError(ParcelnetError):
    status = 400


class Unauthorized(ServiceError, PermissionError):
    """No API key, an unknown one, or a revoked one."""
    status = 401


class Forbidden(ServiceError, PermissionError):
    """A key without the scope the request needs."""
    status = 403


class Conflict(ServiceError):
    """The same Idempotency-Key while its first request is still running."""
    status = 409


class RateLimited(ServiceError):
    """Too many requests for one key: retry after ``retry_after`` seconds."""
    status = 429

    def __init__(self, message: str, retry_after: int):
        super().__init__(message)
        self.retry_after = retry_after


class Unprocessable(ServiceError, ValueError):
    """Well-formed but refused: an address no station serves, a key reused with another
    body, a service level the network cannot keep."""
    status = 422


def status_of(e: ParcelnetError) -> int:
    if isinstance(e, ServiceError):
        return e.status
    if isinstance(e, NotFoundError):
        return 404
    if isinstance(e, ValidationError):
        return 422
    return 400
