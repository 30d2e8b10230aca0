"""The platform's administration over the API: tenants and keys, for keys with the
``admin`` scope, which only a platform tenant's keys can hold (docs/service.md, "Tenants
and keys"). The same functions as ``parcelnet admin``, without a database URL."""

from __future__ import annotations

from fastapi import FastAPI, Path, Query
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from parcelnet.errors import ParameterError

from parcelnet_service.admin import create_key, create_tenant, revoke_key, tenant
from parcelnet_service.api.schemas import KeyIn, TenantIn
from parcelnet_service.db.models import ApiKey, Tenant
from parcelnet_service.errors import Conflict, Unprocessable


def tenant_view(t: Tenant) -> dict:
    return {"name": t.name, "kind": t.kind, "created_at": t.created_at.isoformat()}


def key_view(k: ApiKey, tenant_name: str) -> dict:
    """A key as the platform sees it: never its secret, nor the secret's hash."""
    return {"prefix": k.prefix, "tenant": tenant_name, "scopes": k.scopes.split(), "name": k.name,
            "created_at": k.created_at.isoformat(),
            "revoked_at": None if k.revoked_at is None else k.revoked_at.isoformat()}


def add_routes(app: FastAPI, needs) -> None:
    from fastapi import Depends

    ctx = app.state.ctx

    @app.get("/v1/admin/tenants", tags=["admin"], summary="Every tenant (the platform)")
    def list_tenants(p=Depends(needs("admin"))):
        with app.state.sessions.read(ctx(p)) as s:
            return {"tenants": [tenant_view(t) for t in s.scalars(select(Tenant).order_by(Tenant.id))]}

    @app.post("/v1/admin/tenants", tags=["admin"], status_code=201,
              summary="A new merchant, carrier or platform tenant (the platform)")
    def add_tenant(body: TenantIn, p=Depends(needs("admin"))):
        with app.state.sessions.begin(ctx(p)) as s:
            try:
                return tenant_view(create_tenant(s, body.name, body.kind))
            except (ParameterError, IntegrityError):  # the name is taken (the body is valid)
                raise Conflict(f"a tenant named '{body.name}' exists already") from None

    @app.get("/v1/admin/keys", tags=["admin"],
             summary="The keys of every tenant, or of one: prefixes, scopes, revocations (the platform)")
    def list_keys(tenant_name: str | None = Query(None, alias="tenant", min_length=1, max_length=100),
                  p=Depends(needs("admin"))):
        if tenant_name is not None and "\x00" in tenant_name:
            raise Unprocessable("query.tenant: NUL characters (\\u0000) are not allowed")
        with app.state.sessions.read(ctx(p)) as s:
            q = select(ApiKey, Tenant.name).join(Tenant, ApiKey.tenant_id == Tenant.id)
            if tenant_name is not None:
                q = q.where(Tenant.id == tenant(s, tenant_name).id)     # an unknown one: 404
            return {"keys": [key_view(k, name) for k, name in s.execute(q.order_by(ApiKey.id))]}

    @app.post("/v1/admin/keys", tags=["admin"], status_code=201,
              summary="A new key for a tenant, shown once in the answer (the platform)")
    def add_key(body: KeyIn, p=Depends(needs("admin"))):
        with app.state.sessions.begin(ctx(p)) as s:
            try:
                k, full = create_key(s, body.tenant, body.scopes, body.name)
            except ParameterError as e:               # a scope the tenant's kind may not hold
                raise Unprocessable(f"scopes: {e}") from None
            return {"key": full, **key_view(k, body.tenant)}

    @app.post("/v1/admin/keys/{prefix}/revoke", tags=["admin"],
              summary="Revoke a key by its prefix, at once (the platform)")
    def revoke(prefix: str = Path(pattern=r"^[0-9a-f]{8}$"), p=Depends(needs("admin"))):
        with app.state.sessions.begin(ctx(p)) as s:
            k = revoke_key(s, prefix)                 # none with that prefix: 404
            return key_view(k, s.get(Tenant, k.tenant_id).name)
