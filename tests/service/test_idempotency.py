"""The Idempotency-Key header, as the IETF draft (httpapi-idempotency-key-header) has it:
the same key and body replay the first response, another body is a 422, a request while
the first still runs is a 409; and concurrent identical requests make one waybill."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parcelnet_service.db.engine import SYSTEM

from parcelnet_service.api.app import fingerprint
from parcelnet_service.api.schemas import ShipmentIn
from parcelnet_service.db.models import IdempotencyKey, Shipment, Tenant

from .conftest import shipment


def shipments(service) -> int:
    with Session(service.engine, info=SYSTEM) as s:
        return s.scalar(select(func.count()).select_from(Shipment))


def test_the_same_key_and_body_replays_the_first_response(service):
    first = service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "order-1"})
    assert first.status_code == 201
    service.now += timedelta(minutes=5)        # a retry later still gets the first answer
    again = service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "order-1"})
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert shipments(service) == 1
    # the key is the tenant's: another merchant's same key is its own request
    other = service.post("/v1/shipments", shipment(carrier=None), as_="other-shop",
                         **{"Idempotency-Key": "order-1"})
    assert other.status_code == 201 and other.json()["waybill"] != first.json()["waybill"]


def test_the_same_key_with_another_body_is_refused(service):
    service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "k"})
    r = service.post("/v1/shipments", shipment(reference="changed"), **{"Idempotency-Key": "k"})
    assert r.status_code == 422 and "another request body" in r.json()["detail"]
    assert shipments(service) == 1


def test_a_refusal_is_the_keys_answer_too(service):
    bad = shipment(carrier="nobody")
    a = service.post("/v1/shipments", bad, **{"Idempotency-Key": "r"})
    b = service.post("/v1/shipments", bad, **{"Idempotency-Key": "r"})
    assert a.status_code == b.status_code == 422 and a.json() == b.json()


def _running(service, key: str, age: timedelta) -> None:
    """A record as a request still running (or one whose server died) leaves it."""
    payload = ShipmentIn.model_validate(shipment()).model_dump()
    with Session(service.engine, info=SYSTEM) as s:
        shop = s.scalar(select(Tenant).where(Tenant.name == "shop"))
        s.add(IdempotencyKey(tenant_id=shop.id, key=key, state="running",
                             fingerprint=fingerprint("POST", "/v1/shipments", payload),
                             created_at=service.now - age))
        s.commit()


def test_a_request_while_the_first_runs_is_a_conflict(service):
    _running(service, "busy", timedelta(seconds=5))
    r = service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "busy"})
    assert r.status_code == 409 and "still being processed" in r.json()["detail"]
    assert shipments(service) == 0


def test_a_key_abandoned_by_a_dead_server_runs_again(service):
    _running(service, "dead", timedelta(minutes=5))
    r = service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "dead"})
    assert r.status_code == 201 and shipments(service) == 1
    again = service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "dead"})
    assert again.json() == r.json()


def test_concurrent_identical_creations_make_one_waybill(service):
    def post(_):
        return service.post("/v1/shipments", shipment(), **{"Idempotency-Key": "storm"})
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(post, range(100)))
    codes = {r.status_code for r in got}
    assert codes <= {201, 409}, codes
    bills = {r.json()["waybill"] for r in got if r.status_code == 201}
    assert len(bills) == 1 and shipments(service) == 1


def test_a_key_with_a_creation_time_in_the_body(service):
    """Found by fuzzing: a body with created_at (a time) under an Idempotency-Key."""
    body = shipment(created_at="2026-12-05T09:00:00+08:00")
    a = service.post("/v1/shipments", body, **{"Idempotency-Key": "t"})
    b = service.post("/v1/shipments", body, **{"Idempotency-Key": "t"})
    assert a.status_code == b.status_code == 201 and a.json() == b.json()
    c = service.post("/v1/shipments", shipment(created_at="2026-12-05T09:01:00+08:00"),
                     **{"Idempotency-Key": "t"})
    assert c.status_code == 422
