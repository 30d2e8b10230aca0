"""Tenants and keys (``parcelnet admin``): plain functions over a session."""

from __future__ import annotations

from sqlalchemy import select

from parcelnet.errors import NotFoundError, ParameterError

from parcelnet_service.db.models import ApiKey, Tenant, utcnow
from parcelnet_service.keys import DEFAULT_SCOPES, KINDS, check_scopes, new_key


def create_tenant(session, name: str, kind: str) -> Tenant:
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise ParameterError("a tenant's name must have 1 to 100 characters")
    if kind not in KINDS:
        raise ParameterError(f"unknown tenant kind '{kind}': one of {', '.join(KINDS)}")
    if session.scalar(select(Tenant).where(Tenant.name == name)) is not None:
        raise ParameterError(f"a tenant named '{name}' exists already")
    t = Tenant(name=name, kind=kind, created_at=utcnow())
    session.add(t)
    session.flush()
    return t


def tenant(session, name: str) -> Tenant:
    t = session.scalar(select(Tenant).where(Tenant.name == name))
    if t is None:
        raise NotFoundError(f"no tenant named '{name}'")
    return t


def create_key(session, tenant_name: str, scopes: list[str] | None = None,
               name: str | None = None) -> tuple[ApiKey, str]:
    """A new key for the tenant: (its row, the full key, to show once)."""
    t = tenant(session, tenant_name)
    scopes = check_scopes(t.kind, scopes or list(DEFAULT_SCOPES[t.kind]))
    full, prefix, digest = new_key()
    k = ApiKey(tenant_id=t.id, prefix=prefix, secret_hash=digest, scopes=" ".join(scopes),
               name=name, created_at=utcnow())
    session.add(k)
    session.flush()
    return k, full


def revoke_key(session, prefix: str) -> ApiKey:
    k = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if k is None:
        raise NotFoundError(f"no API key with the prefix '{prefix}'")
    if k.revoked_at is None:
        k.revoked_at = utcnow()
    return k
