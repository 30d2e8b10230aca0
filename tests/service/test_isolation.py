"""Tenants are kept apart twice: by the application's own filters (every endpoint, walked
with another tenant's ids) and, on PostgreSQL, by row-level security, which the catalogue
shows on and which holds even for raw SQL without a WHERE clause."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .conftest import NOW, Service, shipment
from .test_tracking import journey, post_scans

TABLES = ("shipments", "waybills", "promises", "scans", "idempotency_keys", "webhooks", "outbox")


def two_tenants(service: Service) -> tuple[str, str]:
    mine = service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "k1"}).json()["waybill"]
    theirs = service.post("/v1/shipments", shipment(carrier="zto"), as_="other-shop").json()["waybill"]
    service.post("/v1/webhooks", {"url": "http://127.0.0.1:9/a"})
    service.post("/v1/webhooks", {"url": "http://127.0.0.1:9/b"}, as_="other-shop")
    service.now = NOW + timedelta(days=1)
    post_scans(service, journey(mine, "i")[:2])
    post_scans(service, journey(theirs, "j")[:2], as_="zto")
    return mine, theirs


def test_every_endpoint_refuses_another_tenants_ids(service):
    mine, theirs = two_tenants(service)
    hook = service.get("/v1/webhooks", as_="other-shop").json()["webhooks"][0]["id"]
    c, h = service.client, service.keys["shop"]
    for method, path, body in (
            ("GET", f"/v1/shipments/{theirs}", None),
            ("GET", f"/v1/shipments/{theirs}/label", None),
            ("POST", "/v1/labels", {"waybills": [theirs]}),
            ("GET", f"/v1/track/{theirs}", None),
            ("DELETE", f"/v1/webhooks/{hook}", None)):
        r = c.request(method, path, json=body, headers=h)
        assert r.status_code == 404, (method, path, r.status_code)
    # carriers: sf may not post for zto's waybill, nor read it
    r = post_scans(service, [{**journey(theirs, "x")[2], "event_id": "x"}], as_="sf")
    assert r.json()["rejected"] == 1
    assert service.get(f"/v1/track/{theirs}", as_="sf").status_code == 404
    assert theirs not in str(service.get("/v1/shipments").json())
    assert theirs not in str(service.get("/v1/exceptions?stuck_hours=1").json())


def pg_only(db):
    if db[1].dialect.name != "postgresql":
        pytest.skip("row-level security is PostgreSQL's; SQLite has the application's checks")


def test_row_level_security_is_on_and_forced(db, service):
    pg_only(db)
    with db[1].connect() as c:
        assert c.execute(text("SELECT current_user")).scalar() == "parcelnet_app"
        role = c.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles "
                              "WHERE rolname = 'parcelnet_app'")).one()
        assert tuple(role) == (False, False)
        rows = c.execute(text(
            "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, pg_get_userbyid(c.relowner), "
            "(SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname) "
            "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relname = ANY(:t)"), {"t": list(TABLES)}).all()
    assert {r[0] for r in rows} == set(TABLES)
    for name, on, forced, owner, policies in rows:
        assert on and forced and owner != "parcelnet_app" and policies == 1, name


def test_raw_sql_sees_only_the_tenants_rows(db, service):
    pg_only(db)
    two_tenants(service)
    from sqlalchemy import select

    from parcelnet_service.db.models import Tenant
    with Session(db[1], info={"kind": "system"}) as s:
        ids = {t.name: t.id for t in s.scalars(select(Tenant))}
        total = {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}
    assert total["shipments"] == 2 and total["scans"] == 4 and total["webhooks"] == 2

    def counts(ctx):
        with Session(db[1], info=ctx) as s:
            return {t: s.execute(text(f"SELECT count(*) FROM {t}")).scalar() for t in TABLES}

    shop = counts({"tenant_id": ids["shop"], "kind": "merchant"})
    assert shop["shipments"] == 1 and shop["scans"] == 2 and shop["webhooks"] == 1
    assert shop["idempotency_keys"] == 1 and shop["promises"] == 1
    zto = counts({"tenant_id": ids["zto"], "kind": "carrier"})
    assert zto["shipments"] == 1 and zto["webhooks"] == 0 and zto["outbox"] == 0
    assert set(counts({}).values()) == {0}                          # no tenant, no rows
    # writing into another tenant's shipment is refused by the policy itself
    with Session(db[1], info={"tenant_id": ids["shop"], "kind": "merchant"}) as s:
        other = s.execute(text("SELECT id FROM shipments")).scalar()
        with pytest.raises(DBAPIError, match="row-level security"):
            s.execute(text("INSERT INTO webhooks (tenant_id, url, secret, created_at) "
                           "VALUES (:t, 'http://x', 's', now())"), {"t": ids["other-shop"]})
        s.rollback()
        n = s.execute(text("UPDATE shipments SET status = 'cancelled' WHERE id <> :i"), {"i": other}).rowcount
        assert n == 0
