"""Creating shipments: the waybill, the station and sort code, the promise on the clock,
multi-piece shipments, batches, refusals, and what each tenant may see. Every test runs on
SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parcelnet_service.db.engine import SYSTEM

from parcelnet.lastmile.sortcode import assign_addresses
from parcelnet.promise.engine import PromiseEngine
from parcelnet_service.db.models import Promise, Shipment, Waybill
from parcelnet_service.waybill import is_valid

from .conftest import shipment

CST = timezone(timedelta(hours=8))


def count(service, model) -> int:
    with Session(service.engine, info=SYSTEM) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_a_shipment_gets_its_waybill_station_sort_code_and_promise(service, cn_gravity):
    r = service.post("/v1/shipments", shipment())
    assert r.status_code == 201, r.text
    got = r.json()
    assert is_valid(got["waybill"])
    want = assign_addresses(cn_gravity, [shipment()["sender"]["address"],
                                         shipment()["recipient"]["address"]])
    assert got["origin_station"] == want["station_id"][0]
    assert got["dest_station"] == want["station_id"][1]
    assert got["sort_code"] == want["sort_code"][1]
    assert got["sort_code"].split("-")[:2] == [got["dest_hub"], got["dest_station"]]
    # 10:20 UTC is 18:20 in China: minute 1100 of the timetable's day 0
    p = PromiseEngine(cn_gravity).query(got["origin_station"], got["dest_station"], 1100)
    day0 = datetime(2026, 12, 5, tzinfo=CST)
    assert got["promise"]["promise_at"] == (day0 + timedelta(minutes=p.promise_minute)).isoformat()
    assert got["promise"]["from_at"] == "2026-12-05T18:20:00+08:00"
    assert got["promise"]["hours"] == round((p.promise_minute - 1100) / 60, 2)
    assert got["promise"]["path"] == list(p.path) and got["promise"]["version"] == 1
    assert got["carrier"] == "sf" and got["status"] == "created"
    # stored, and read back the same
    assert service.get(f"/v1/shipments/{got['waybill']}").json() == got


def test_an_address_no_station_serves_is_refused_with_its_reason(service):
    bad = shipment(recipient={"name": "李四", "phone": "13900139000", "address": "火星市奥林匹斯山1号"})
    r = service.post("/v1/shipments", bad)
    assert r.status_code == 422
    assert r.json()["detail"].startswith("recipient.address: unknown place")
    assert count(service, Shipment) == 0 and count(service, Waybill) == 0


def test_next_day_is_taken_only_where_the_network_delivers_next_day(service, cn_gravity):
    ok = service.post("/v1/shipments", shipment(service_level="next_day"))
    assert ok.status_code == 201, ok.text
    assert ok.json()["promise"]["promise_at"] < "2026-12-07"
    # Hangzhou to a county in Xinjiang's far west is not next-day at 18:20
    far = shipment(service_level="next_day",
                   recipient={"name": "李四", "phone": "13900139000", "address": "新疆维吾尔自治区喀什地区塔什库尔干塔吉克自治县1号"})
    r = service.post("/v1/shipments", far)
    assert r.status_code == 422, r.text
    assert "next_day is not possible" in r.json()["detail"] and "delivers by" in r.json()["detail"]
    assert service.post("/v1/shipments", {**far, "service_level": "standard"}).status_code == 201


def test_multi_piece_shipments_have_a_parent_and_child_waybills(service):
    r = service.post("/v1/shipments", shipment(pieces=[{"weight_g": 500}, {"weight_g": 700},
                                                       {"weight_g": 900}]))
    assert r.status_code == 201, r.text
    got = r.json()
    kids = [p["waybill"] for p in got["pieces"]]
    assert len(set(kids + [got["waybill"]])) == 4 and all(map(is_valid, kids))
    assert [p["piece"] for p in got["pieces"]] == [1, 2, 3]
    assert service.get(f"/v1/shipments/{kids[1]}").json()["waybill"] == got["waybill"]
    assert service.post("/v1/shipments", shipment(pieces=[{"weight_g": 5}])).status_code == 422


def test_a_batch_keeps_its_good_rows_and_names_each_bad_one(service):
    rows = [shipment(reference="a"), {"sender": {}}, shipment(carrier="nobody"),
            shipment(recipient={"name": "李四", "phone": "1", "address": "北京市朝阳区建国路88号"}),
            shipment(reference="e")]
    r = service.post("/v1/shipments/batch", {"shipments": rows})
    assert r.status_code == 200, r.text
    got = r.json()
    assert (got["created"], got["failed"]) == (2, 3)
    res = got["results"]
    assert [x["ok"] for x in res] == [True, False, False, False, True]
    assert "sender.name: Field required" in res[1]["error"]
    assert res[2]["error"] == "carrier: no carrier tenant named 'nobody'"
    assert res[3]["error"].startswith("recipient.phone:")
    assert count(service, Shipment) == 2 and count(service, Promise) == 2
    assert service.post("/v1/shipments/batch", {"shipments": []}).status_code == 422


def test_fields_are_validated_at_the_edge(service):
    for bad in (shipment(parcel={**shipment()["parcel"], "weight_g": 0}),
                shipment(parcel={**shipment()["parcel"], "weight_g": 70_001}),
                shipment(sender={**shipment()["sender"], "name": "x" * 51}),
                shipment(service_level="overnight"),
                shipment(extra="field"),
                shipment(reference="r" * 65)):
        r = service.post("/v1/shipments", bad)
        assert r.status_code == 422, bad
        assert isinstance(r.json()["detail"], str) and ":" in r.json()["detail"]
    assert count(service, Shipment) == 0


def test_keys_and_tenants(service):
    wb = service.post("/v1/shipments", shipment()).json()["waybill"]
    # another merchant, and a carrier, cannot read it: 404 and 403, never the shipment
    assert service.get(f"/v1/shipments/{wb}", as_="other-shop").status_code == 404
    assert service.get(f"/v1/shipments/{wb}", as_="sf").status_code == 403
    assert service.post("/v1/shipments", shipment(), as_="sf").status_code == 403
    assert service.get("/v1/shipments", as_="other-shop").json()["shipments"] == []
    # no key, a malformed one, an unknown one
    assert service.client.get(f"/v1/shipments/{wb}").status_code == 401
    for h in ("Bearer nope", "Bearer pn_12345678_secret"):
        r = service.client.get(f"/v1/shipments/{wb}", headers={"Authorization": h})
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer"
    # a typo in the number is caught by its check digit
    typo = wb[:-1] + str((int(wb[-1]) + 1) % 10)
    assert "check digit" in service.get(f"/v1/shipments/{typo}").json()["detail"]


def test_a_revoked_key_stops_at_once(service):
    from parcelnet_service.admin import revoke_key
    prefix = service.keys["shop"]["Authorization"].split("_")[1]
    assert service.get("/v1/shipments").status_code == 200
    with Session(service.engine, info=SYSTEM) as s:
        revoke_key(s, prefix)
        s.commit()
    r = service.get("/v1/shipments")
    assert r.status_code == 401 and "revoked" in r.json()["detail"]


def test_pages_of_shipments(service):
    made = [service.post("/v1/shipments", shipment(reference=str(i))).json()["waybill"] for i in range(5)]
    page = service.get("/v1/shipments?limit=2").json()
    seen = [x["waybill"] for x in page["shipments"]]
    while page["next_before"] is not None:
        page = service.get(f"/v1/shipments?limit=2&before={page['next_before']}").json()
        seen += [x["waybill"] for x in page["shipments"]]
    assert seen == made[::-1]
    assert service.get("/v1/shipments?limit=0").status_code == 422


def test_big_bodies_are_refused(service, router):
    from fastapi.testclient import TestClient

    from parcelnet_service.api.app import create_app
    small = TestClient(create_app(service.engine, router, max_body=1000))
    r = small.post("/v1/shipments", json=shipment(reference="x" * 64, contents="y" * 2000),
                   headers=service.keys["shop"])
    assert r.status_code == 413


def test_the_openapi_document(service):
    doc = service.client.get("/openapi.json").json()
    assert {"/v1/shipments", "/v1/shipments/batch", "/v1/shipments/{waybill}"} <= set(doc["paths"])
    assert service.client.get("/healthz").json()["status"] == "ok"


def test_each_key_has_a_rate_limit(service, router):
    from fastapi.testclient import TestClient

    from parcelnet_service.api.app import create_app
    slow = TestClient(create_app(service.engine, router, rate=(0.5, 3)))
    codes = [slow.get("/v1/shipments", headers=service.keys["shop"]) for _ in range(5)]
    assert [r.status_code for r in codes] == [200, 200, 200, 429, 429]
    assert int(codes[3].headers["retry-after"]) in (1, 2) and "too many requests" in codes[3].json()["detail"]
    # another key has its own bucket
    assert slow.get("/v1/shipments", headers=service.keys["other-shop"]).status_code == 200


def test_an_earlier_creation_time_for_imports_and_replays(service, cn_gravity):
    at = "2026-12-01T09:15:00+08:00"
    r = service.post("/v1/shipments", shipment(created_at=at))
    assert r.status_code == 201, r.text
    got = r.json()
    assert got["created_at"] == at and got["promise"]["from_at"] == at
    p = PromiseEngine(cn_gravity).query(got["origin_station"], got["dest_station"], 9 * 60 + 15)
    day0 = datetime(2026, 12, 1, tzinfo=CST)
    assert got["promise"]["promise_at"] == (day0 + timedelta(minutes=p.promise_minute)).isoformat()
    for bad, why in (("2026-12-05T19:00:00+08:00", "in the future"),
                     ("2026-10-01T09:00:00+08:00", "more than 30 days ago")):
        r = service.post("/v1/shipments", shipment(created_at=bad))
        assert r.status_code == 422 and why in r.json()["detail"]
    assert service.post("/v1/shipments", shipment(created_at="2026-12-01T09:15:00")).status_code == 422
    me = service.get("/v1/me").json()
    assert me["tenant"] == "shop" and me["kind"] == "merchant" and "shipments:write" in me["scopes"]


def test_query_numbers_are_bounded(service):
    """Found by fuzzing: an id past 64 bits is a 422, not a database overflow."""
    assert service.get(f"/v1/shipments?before={2**63}").status_code == 422
    assert service.client.delete(f"/v1/webhooks/{2**64}", headers=service.keys["shop"]).status_code == 422
    assert service.get("/v1/exceptions?stuck_hours=-1").status_code == 422
    assert service.get("/v1/map/coverage?origin=C3301&hour=24").status_code == 422


def test_big_bodies_without_a_length_are_refused_as_they_come(service, router):
    """A body sent in chunks (no Content-Length) is counted as it arrives, and refused with
    413 once it passes the limit; a real server stops reading it there."""
    import http.client

    from fastapi.testclient import TestClient

    from parcelnet_service.api.app import create_app

    from .conftest import serving
    small = create_app(service.engine, router, max_body=1000)
    r = TestClient(small).post("/v1/shipments", content=iter([b" " * 100] * 50),
                               headers={**service.keys["shop"], "Content-Type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["detail"] == "the request body is over 1,000 bytes"
    # over a socket: 100 MB offered in 64 kB chunks; the server answers and closes after
    # the first kilobyte, so the client cannot send more than the sockets' buffers hold
    sent = []

    def chunks():
        for _ in range(1600):
            sent.append(1)
            yield b" " * 65536
    with serving(small) as url:
        conn = http.client.HTTPConnection(url.removeprefix("http://"), timeout=30)
        try:
            conn.request("POST", "/v1/shipments", body=chunks(), encode_chunked=True,
                         headers={**service.keys["shop"], "Content-Type": "application/json"})
            status = conn.getresponse().status
        except OSError:                       # the server closed while we were sending
            status = 413
        finally:
            conn.close()
    assert status == 413
    assert len(sent) < 400, f"the server read {len(sent) * 64} kB before refusing"
    # a small chunked body is read as any other
    body = json.dumps(shipment()).encode()
    r = TestClient(create_app(service.engine, router)).post(
        "/v1/shipments", content=iter([body[:50], body[50:]]),
        headers={**service.keys["shop"], "Content-Type": "application/json"})
    assert r.status_code == 201, r.text
