"""API keys: ``pn_<prefix>_<secret>``, shown once, stored only as the prefix and a hash.

The prefix (8 characters) finds the key's row and is safe to log; the secret (32 random
bytes, URL-safe base64) is checked against its SHA-256. A slow password hash (bcrypt,
Argon2) protects guessable passwords; a 256-bit random secret cannot be guessed, and a fast
hash keeps every request cheap. Comparison is constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from parcelnet.errors import ParameterError

#: every scope a key can hold, and what it allows
SCOPES = {
    "shipments:write": "create shipments (merchants)",
    "shipments:read": "read the tenant's own shipments and their tracking",
    "scans:write": "post scan events for waybills handed to the tenant (carriers)",
    "tracking:read": "read the tracking of waybills the tenant holds",
    "admin": "administer tenants and keys (the platform)",
}
#: the scopes a key gets by default, by tenant kind
DEFAULT_SCOPES = {
    "merchant": ("shipments:write", "shipments:read", "tracking:read"),
    "carrier": ("scans:write", "tracking:read"),
    "platform": ("admin", "shipments:read", "tracking:read"),
}
#: scopes a tenant kind may hold at all: a carrier's key never creates or reads shipments
ALLOWED_SCOPES = {
    "merchant": {"shipments:write", "shipments:read", "tracking:read"},
    "carrier": {"scans:write", "tracking:read"},
    "platform": set(SCOPES),
}
KINDS = tuple(DEFAULT_SCOPES)


def new_key() -> tuple[str, str, str]:
    """A fresh key: (the full key to show once, its prefix, the secret's hash)."""
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    return f"pn_{prefix}_{secret}", prefix, hash_secret(secret)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def split(key: str) -> tuple[str, str] | None:
    """(prefix, secret) of a well-formed key, else None."""
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != "pn" or len(parts[1]) != 8 or not parts[2]:
        return None
    return parts[1], parts[2]


def matches(secret: str, stored_hash: str) -> bool:
    return hmac.compare_digest(hash_secret(secret), stored_hash)


def check_scopes(kind: str, scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The scopes, checked: known, and allowed for the tenant's kind."""
    unknown = [s for s in scopes if s not in SCOPES]
    if unknown:
        raise ParameterError(f"unknown scope '{unknown[0]}': one of {', '.join(SCOPES)}")
    denied = [s for s in scopes if s not in ALLOWED_SCOPES[kind]]
    if denied:
        raise ParameterError(f"a {kind} key cannot hold the scope '{denied[0]}' "
                             f"(allowed: {', '.join(sorted(ALLOWED_SCOPES[kind]))})")
    if not scopes:
        raise ParameterError("a key needs at least one scope")
    return tuple(dict.fromkeys(scopes))
