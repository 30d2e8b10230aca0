"""Tenants are kept apart twice: by the application's own filters (every endpoint, walked
with another tenant's ids) and, on PostgreSQL, by row-level security, which the catalogue
shows on and which holds even for raw SQL without a WHERE clause."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from .conftest import NOW, Service, shipment
from .test_tracking import at, journey, post_scans

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
    with db[1].connect() as c:
        # the tenant is asked once per query (an InitPlan), and scans may run in parallel
        quals = c.execute(text("SELECT tablename, qual FROM pg_policies WHERE tablename = 'shipments'")).all()
        parallel = dict(c.execute(text("SELECT proname, proparallel FROM pg_proc "
                                       "WHERE proname IN ('parcelnet_tenant', 'parcelnet_trusted')")).all())
    assert "( SELECT parcelnet_tenant()" in quals[0][1] and "( SELECT parcelnet_trusted()" in quals[0][1]
    assert parallel == {"parcelnet_tenant": "s", "parcelnet_trusted": "s"}


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


@pytest.mark.long
def test_isolation_holds_under_10000_interleaved_requests(db, router, service):
    """Two merchants, each with its carrier, and every endpoint walked at once from 8
    connections to a live server: each tenant's own reads and writes answer with its own
    rows only, and every request with the other side's ids is refused (404; a scan for
    another carrier's waybill is rejected in its batch). 10,000 requests on PostgreSQL,
    where the tenant rides on pooled connections and row-level security; 2,000 on SQLite."""
    import http.client
    import json
    import random
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    from parcelnet_service.api.app import create_app

    from .conftest import serving

    n = 10_000 if db[1].dialect.name == "postgresql" else 2_000
    own = {"shop": [], "other-shop": []}
    for m, carrier, k in (("shop", "sf", 12), ("other-shop", "zto", 30)):
        r = service.post("/v1/shipments/batch", {"shipments": [shipment(carrier=carrier)] * k}, as_=m)
        own[m] = [x["shipment"]["waybill"] for x in r.json()["results"]]
    hooks = {m: service.post("/v1/webhooks", {"url": f"http://127.0.0.1:9/{m}"}, as_=m).json()["id"]
             for m in own}
    service.now = NOW + timedelta(days=1)
    side = {"shop": "shop", "sf": "shop", "other-shop": "other-shop", "zto": "other-shop"}
    other = {"shop": "other-shop", "other-shop": "shop"}
    rng = random.Random(7)
    ops = []
    for k in range(n):
        who = rng.choice(list(side))
        mine, theirs = own[side[who]], own[other[side[who]]]
        o, f = rng.choice(mine), rng.choice(theirs)
        if who in ("sf", "zto"):
            ops.append(rng.choice([
                (who, "GET", f"/v1/track/{o}", None, ("ok", o)),
                (who, "GET", f"/v1/track/{f}", None, ("404",)),
                (who, "POST", "/v1/scans", {"events": [{"event_id": f"x{k}", "waybill": f, "type": "arrived",
                                                        "facility": "C1100", "at": at(1500 + k % 500)}]},
                 ("rejected",)),
                (who, "POST", "/v1/scans", {"events": [{"event_id": f"s{k}", "waybill": o, "type": "arrived",
                                                        "facility": "C1100", "at": at(1500 + k % 500)}]},
                 ("accepted",)),
                (who, "GET", "/v1/exceptions?stuck_hours=1", None, ("only", mine)),
                (who, "GET", "/v1/map/volumes", None, ("at_most", len(mine)))]))
        else:
            ops.append(rng.choice([
                (who, "GET", f"/v1/shipments/{o}", None, ("ok", o)),
                (who, "GET", f"/v1/shipments/{f}", None, ("404",)),
                (who, "GET", f"/v1/shipments/{o}/label?format=zpl", None, ("has", o)),
                (who, "GET", f"/v1/shipments/{f}/label?format=zpl", None, ("404",)),
                (who, "POST", "/v1/labels", {"waybills": [o, f], "format": "zpl"}, ("404",)),
                (who, "GET", f"/v1/track/{o}", None, ("ok", o)),
                (who, "GET", f"/v1/track/{f}", None, ("404",)),
                (who, "GET", "/v1/shipments?limit=100", None, ("only", mine)),
                (who, "GET", "/v1/exceptions?stuck_hours=1", None, ("only", mine)),
                (who, "GET", "/v1/map/volumes", None, ("at_most", len(mine))),
                (who, "GET", "/v1/webhooks", None, ("hooks", hooks[who])),
                (who, "DELETE", f"/v1/webhooks/{hooks[other[who]]}", None, ("404",))]))

    def check(code: int, raw: bytes, expect: tuple) -> str | None:
        what = expect[0]
        if what == "404":
            return None if code == 404 else f"HTTP {code}, not 404"
        if code != 200:
            return f"HTTP {code}: {raw[:200]!r}"
        if what == "has":
            return None if expect[1].encode() in raw else "the label is not the waybill's"
        body = json.loads(raw)
        if what == "ok":
            return None if body["waybill"] == expect[1] else f"got {body['waybill']}"
        if what in ("rejected", "accepted"):
            st = body["results"][0]["status"]
            return None if st == what else f"the scan was {st}: {body['results'][0].get('error')}"
        if what == "only":
            seen = set(re.findall(r"PN\d{12}", json.dumps(body)))
            return None if seen <= set(expect[1]) else f"foreign waybills {sorted(seen - set(expect[1]))[:3]}"
        if what == "at_most":
            total = sum(body["volumes"].values())
            return None if total <= expect[1] else f"{total} parcels on the map, the tenant has {expect[1]}"
        if what == "hooks":
            ids = [h["id"] for h in body["webhooks"]]
            return None if ids == [expect[1]] else f"webhooks {ids}"
        raise AssertionError(what)

    app = create_app(db[1], router, clock=lambda: service.now, rate=(1e9, 10**9))
    with serving(app) as url:
        host = urlsplit(url)

        def worker(part):
            conn = http.client.HTTPConnection(host.hostname, host.port, timeout=60)
            bad = []
            for who, method, path, body, expect in part:
                data = None if body is None else json.dumps(body).encode()
                conn.request(method, path, body=data, headers={**service.keys[who],
                                                               "Content-Type": "application/json"})
                r = conn.getresponse()
                err = check(r.status, r.read(), expect)
                if err:
                    bad.append(f"{who} {method} {path}: {err}")
            conn.close()
            return bad

        with ThreadPoolExecutor(8) as pool:
            bad = [b for part in pool.map(worker, [ops[i::8] for i in range(8)]) for b in part]
    assert bad == [], f"{len(bad)} of {n} requests crossed tenants, e.g. {bad[:3]}"
    # nothing of the other side changed: its webhook still on, no scan of the wrong carrier
    for m in own:
        assert service.get("/v1/webhooks", as_=m).json()["webhooks"][0]["disabled_at"] is None
    accepted = sum(1 for op in ops if op[4] == ("accepted",))
    with Session(db[1], info={"kind": "system"}) as s:
        wrong = s.execute(text(
            "SELECT count(*) FROM scans sc JOIN shipments sh ON sh.id = sc.shipment_id "
            "WHERE sc.carrier_id <> sh.carrier_id")).scalar()
        stored = s.execute(text("SELECT count(*) FROM scans")).scalar()
    assert wrong == 0 and stored == accepted
