"""Scans: idempotent and order-independent ingestion, per-event errors, the status fold,
re-promise from where the parcel is, tracking views and who may see them, exceptions.
Every test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from parcelnet_service.db.engine import SYSTEM

from parcelnet.promise.engine import PromiseEngine
from parcelnet_service.db.models import Outbox, Scan

from .conftest import NOW, Service, shipment

CST = timezone(timedelta(hours=8))
DAY0 = datetime(2026, 12, 5, tzinfo=CST)


def at(minute: int) -> str:
    """Minute of the timetable (0 = midnight CST of 2026-12-05) as ISO 8601."""
    return (DAY0 + timedelta(minutes=minute)).isoformat()


def ev(eid, wb, type_, facility, minute, trip=None) -> dict:
    e = {"event_id": eid, "waybill": wb, "type": type_, "facility": facility, "at": at(minute)}
    if trip:
        e["trip"] = trip
    return e


def journey(wb: str, tag: str, late: bool = False) -> list[dict]:
    """Hangzhou S330106 -> C3301 -> (air) C1100 -> Beijing S110105, as the promise's path;
    ``late``: it reaches C3301 at 23:00, after the 23:20 flight's cut-off."""
    c3301 = 1380 if late else 1230
    fly = 1400 + (1440 if late else 0)
    return [ev(f"{tag}-1", wb, "picked_up", "S330106", 1110),
            ev(f"{tag}-2", wb, "departed", "S330106", 1140, "S330106>C3301@1900"),
            ev(f"{tag}-3", wb, "arrived", "C3301", c3301),
            ev(f"{tag}-4", wb, "departed", "C3301", fly, "C3301>C1100/air@2320"),
            ev(f"{tag}-5", wb, "arrived", "C1100", fly + 150),
            ev(f"{tag}-6", wb, "out_for_delivery", "S110105", fly + 330),
            ev(f"{tag}-7", wb, "delivered", "S110105", fly + 400)]


def post_scans(service: Service, events, as_="sf"):
    return service.post("/v1/scans", {"events": events}, as_=as_)


def make(service, **over) -> str:
    r = service.post("/v1/shipments", shipment(**over))
    assert r.status_code == 201, r.text
    return r.json()["waybill"]


def test_scans_fold_into_the_status_and_twice_is_once(service):
    wb = make(service)
    service.now = NOW + timedelta(days=3)
    evs = journey(wb, "a")
    r = post_scans(service, evs[:3])
    assert r.json()["accepted"] == 3, r.text
    t = service.get(f"/v1/track/{wb}").json()
    assert (t["status"], t["location"]) == ("in_transit", "C3301")
    again = post_scans(service, evs[:4]).json()
    assert (again["accepted"], again["duplicates"]) == (1, 3)
    assert [x["status"] for x in again["results"]] == ["duplicate"] * 3 + ["accepted"]
    # a stored id with other content, twice in one batch beside a new event: both refused,
    # the new one stored
    moved = ev("a-2", wb, "departed", "S330106", 1141)
    mixed = post_scans(service, [moved, evs[4], moved]).json()
    assert [x["status"] for x in mixed["results"]] == ["rejected", "accepted", "rejected"], mixed
    assert all("posted before with other content" in mixed["results"][i]["error"] for i in (0, 2))
    post_scans(service, evs[4:])
    t = service.get(f"/v1/track/{wb}").json()
    assert (t["status"], t["location"]) == ("delivered", "S110105")
    assert [e["event_id"] for e in t["events"]] == [e["event_id"] for e in evs]
    assert len(t["promise_history"]) == 1               # on time: never re-promised
    # after delivery, a later event is kept but changes nothing
    post_scans(service, [ev("a-8", wb, "exception", "S110105", 1400 + 500)])
    t = service.get(f"/v1/track/{wb}").json()
    assert t["status"] == "delivered" and len(t["events"]) == 8
    with Session(service.engine, info=SYSTEM) as s:
        assert s.scalar(select(func.count()).select_from(Scan)) == 8


def test_each_event_gets_its_own_answer(service):
    wb = make(service)
    other = make(service, carrier="zto")
    service.now = NOW + timedelta(days=1)
    evs = [ev("x1", wb, "picked_up", "S330106", 1110),                   # fine
           ev("x2", other, "picked_up", "S330106", 1110),                # handed to zto
           ev("x3", "PN000000000010", "picked_up", "S330106", 1110),     # no such waybill
           ev("x4", wb, "arrived", "NOWHERE", 1200),
           ev("x5", wb, "departed", "S330106", 1140, trip="T-none"),
           ev("x6", wb, "arrived", "C3301", 1440 * 3),                   # in the future
           ev("x7", wb, "picked_up", "S330106", 1000),                   # before creation
           {"event_id": "x8", "waybill": wb, "type": "teleported", "facility": "C3301", "at": at(1200)},
           {"event_id": "x9", "waybill": wb, "type": "arrived", "facility": "C3301", "at": "2026-12-05T20:00:00"},
           ev("x1", wb, "picked_up", "S330106", 1111),                   # x1 again, other content
           ev("x10", wb, "arrived", "C3301", 1230)]                      # fine
    got = post_scans(service, evs).json()
    status = [r["status"] for r in got["results"]]
    assert status == ["accepted"] + ["rejected"] * 9 + ["accepted"], got
    err = [r.get("error", "") for r in got["results"]]
    assert "not a waybill handed to this carrier" in err[1] and err[1] == err[2].replace("PN000000000010", other)
    assert "no facility 'NOWHERE'" in err[3] and "no trip 'T-none'" in err[4]
    assert "in the future" in err[5] and "before the shipment was created" in err[6]
    assert err[7].startswith("type:") and err[8].startswith("at:")
    assert "posted before with other content" in err[9]
    assert (got["accepted"], got["duplicates"], got["rejected"]) == (2, 0, 9)
    # a merchant's key posts no scans
    assert post_scans(service, evs[:1], as_="shop").status_code == 403


def test_shuffled_and_late_events_converge(db, router):
    """The same events, in order, shuffled in random batches and reversed, on fresh
    databases: the same states and the same final promises."""
    from .conftest import empty

    finals = []
    for order in ("in order", "shuffled", "reversed"):
        empty(db[0])                                 # a fresh start on the same backend
        svc = Service(db[1], router, NOW)
        bills = [make(svc, reference=str(i)) for i in range(6)]
        svc.now = NOW + timedelta(days=4)
        evs = []
        for i, wb in enumerate(bills):
            evs += journey(wb, f"s{i}", late=i % 2 == 1)[: 3 + i % 5]
        rng = random.Random(7)
        if order == "shuffled":
            rng.shuffle(evs)
        elif order == "reversed":
            evs.reverse()
        i = 0
        while i < len(evs):
            n = rng.randint(1, 6)
            assert post_scans(svc, evs[i:i + n]).status_code == 200
            i += n
        state = []
        for wb in bills:
            t = svc.get(f"/v1/track/{wb}").json()
            state.append((t["status"], t["location"], t["status_at"], t["promise"]["promise_at"],
                          [e["event_id"] for e in t["events"]]))
        finals.append(state)
    assert finals[0] == finals[1] == finals[2]
    assert {s[0] for s in finals[0]} >= {"in_transit", "delivered", "out_for_delivery"}


def test_a_missed_flight_is_re_promised_from_where_the_parcel_is(service, cn_gravity):
    hook = service.post("/v1/webhooks", {"url": "http://127.0.0.1:9/hook"}).json()
    assert len(hook["secret"]) == 64
    wb = make(service)
    first = service.get(f"/v1/track/{wb}").json()["promise"]
    service.now = NOW + timedelta(days=3)
    post_scans(service, journey(wb, "m", late=True)[:3])           # at C3301 at 23:00
    t = service.get(f"/v1/track/{wb}").json()
    hist = t["promise_history"]
    assert [p["version"] for p in hist] == [1, 2]
    want = PromiseEngine(cn_gravity).query("C3301", "S110105", 1380).promise_minute
    assert hist[1]["promise_at"] == (DAY0 + timedelta(minutes=want)).isoformat()
    assert hist[1]["promise_at"] > first["promise_at"] and t["promise"] == hist[1]
    assert hist[1]["reason"].startswith("arrived at C3301 at 2026-12-05 23:00")
    assert hist[1]["from_facility"] == "C3301"
    # the same event again, or an earlier on-path one, changes nothing
    post_scans(service, journey(wb, "m", late=True)[:3])
    assert len(service.get(f"/v1/track/{wb}").json()["promise_history"]) == 2
    with Session(service.engine, info=SYSTEM) as s:
        sent = [json.loads(o.payload) for o in s.scalars(select(Outbox).order_by(Outbox.id))]
    # one batch, one change of status (created -> in transit), and the new promise
    assert [m["topic"] for m in sent] == ["shipment.status", "shipment.promise"]
    assert sent[0]["data"]["status"] == "in_transit" and sent[1]["data"]["version"] == 2


def test_who_may_track_what(service):
    wb = make(service)
    service.now = NOW + timedelta(days=1)
    post_scans(service, journey(wb, "w")[:2])
    for who, code in (("shop", 200), ("sf", 200), ("zto", 404), ("other-shop", 404), ("platform", 200)):
        assert service.get(f"/v1/track/{wb}", as_=who).status_code == code, who
    assert service.client.get(f"/v1/track/{wb}").status_code == 401
    # the public view: with the recipient's phone's last four digits, and no personal data
    r = service.client.get(f"/v1/public/track/{wb}?phone_last4=9000")
    assert r.status_code == 200
    text = r.text
    for private in ("李四", "张三", "13900139000", "13800138000", "建国路", "文三路"):
        assert private not in text
    assert r.json()["status"] == "in_transit" and r.json()["promise_at"]
    assert r.json()["events"][0]["type"] == "picked_up"
    assert service.client.get(f"/v1/public/track/{wb}?phone_last4=0000").status_code == 404
    assert service.client.get(f"/v1/public/track/{wb}").status_code == 422


def test_exceptions_by_facility(service):
    on_time, late, stuck = make(service), make(service), make(service)
    service.now = datetime(2026, 12, 6, 2, 0, tzinfo=timezone.utc)       # 10:00 CST
    post_scans(service, journey(on_time, "e1")[:3] + journey(late, "e2", late=True)[:3]
               + [ev("e3", stuck, "picked_up", "S330106", 1110),
                  ev("e4", stuck, "exception", "S330106", 1120)])
    # 2026-12-06 11:00 CST: the first promise (10:30) has passed for the on-time parcel,
    # not for the re-promised one; the exception is an exception
    service.now = datetime(2026, 12, 6, 3, 0, tzinfo=timezone.utc)
    got = service.get("/v1/exceptions").json()
    by = {g["facility"]: g for g in got["facilities"]}
    assert by["C3301"]["late"] == 1 and by["C3301"]["waybills"][0]["waybill"] == on_time
    assert by["S330106"]["exception"] == 1 and by["S330106"]["waybills"][0]["waybill"] == stuck
    assert got["parcels"] == 2
    # much later, every parcel is stuck somewhere
    service.now = datetime(2026, 12, 7, 12, 0, tzinfo=timezone.utc)
    got = service.get("/v1/exceptions?stuck_hours=6").json()
    assert got["parcels"] == 3
    assert service.get("/v1/exceptions", as_="other-shop").json()["parcels"] == 0
    assert service.get("/v1/exceptions?stuck_hours=0").status_code == 422


def test_the_same_event_id_racing_from_two_requests(db, router, service):
    """Two requests store the same carrier event id at once, for two waybills: one is
    accepted; the other, turned away by the unique key after its own look-up found
    nothing, is answered as a conflict, not a server error (PostgreSQL: the second insert
    waits for the first transaction)."""
    if db[1].dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns: the race cannot happen")
    import threading

    from parcelnet_service import tracking as T
    from parcelnet_service.db.engine import Sessions
    from parcelnet_service.db.models import Tenant
    a, b = make(service), make(service)
    S = Sessions(db[1])
    with S.begin(SYSTEM) as s:
        sf = s.scalar(select(Tenant).where(Tenant.name == "sf")).id
    now = NOW + timedelta(days=1)
    ev = lambda wb: {"event_id": "race", "waybill": wb, "type": "picked_up", "facility": "S330106",  # noqa: E731
                     "trip": None, "at": DAY0 + timedelta(minutes=1110)}
    ctx = {"tenant_id": sf, "kind": "carrier"}
    got = {}
    first = S(ctx)
    first.begin()
    got["first"] = T.ingest(first, sf, [ev(a)], router, now)

    def second():
        with S.begin(ctx) as s2:
            got["second"] = T.ingest(s2, sf, [ev(b)], router, now)
    t = threading.Thread(target=second)
    t.start()
    t.join(1.0)
    assert t.is_alive()                       # waiting on the first transaction's key
    first.commit()
    first.close()
    t.join(30)
    assert got["first"][0]["status"] == "accepted"
    assert got["second"][0]["status"] == "rejected" and "other content" in got["second"][0]["error"]


def test_a_duplicate_storm_stores_each_event_once(service):
    """Every event posted five times, shuffled, in batches over 8 connections at once: each
    stored exactly once, and every state the fold of its events."""
    from concurrent.futures import ThreadPoolExecutor

    bills = [r["shipment"]["waybill"] for r in service.post(
        "/v1/shipments/batch", {"shipments": [shipment(reference=str(i)) for i in range(120)]}).json()["results"]]
    service.now = NOW + timedelta(days=4)
    evs = [e for i, wb in enumerate(bills) for e in journey(wb, f"d{i}", late=i % 3 == 0)[:5]]
    storm = evs * 5
    random.Random(3).shuffle(storm)
    batches = [storm[k:k + 100] for k in range(0, len(storm), 100)]
    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda b: post_scans(service, b).json(), batches))
    assert sum(g["accepted"] for g in got) == len(evs)
    assert sum(g["duplicates"] for g in got) == 4 * len(evs) and sum(g["rejected"] for g in got) == 0
    with Session(service.engine, info=SYSTEM) as s:
        assert s.scalar(select(func.count()).select_from(Scan)) == len(evs)
    from parcelnet_service.tracking import fold
    for wb in bills[:30]:
        t = service.get(f"/v1/track/{wb}").json()
        mine = [e for e in evs if e["waybill"] == wb]
        assert t["status"] != "created" and len(t["events"]) == len(mine)
        last = max(mine, key=lambda e: (e["at"], e["event_id"]))
        assert t["location"] == last["facility"]
    assert fold([]).status == "created"


def test_batched_promise_times_are_the_single_queries(router):
    """The fold re-promises from one batch of the promise engine; each time must be the
    one a single query gives (which also gives the path stored with a new promise)."""
    import numpy as np

    net = router.network
    rng = np.random.default_rng(7)
    fac = net.facilities["facility_id"].astype(str).to_numpy()
    stations = [net.facility_index[i] for i in net.stations]
    queries = [(str(fac[rng.integers(len(fac))]), str(stations[rng.integers(len(stations))]),
                NOW + timedelta(minutes=int(rng.integers(0, 3 * 1440)))) for _ in range(300)]
    queries += [(queries[0][0], queries[0][1], queries[0][2])] * 3        # repeats share a search
    got = router.promise_times(queries)
    want = [router.promise(f, s, at)[0].promise_at for f, s, at in queries]
    assert got == want
    assert sum(t is not None for t in got) > 250


def test_the_event_hash_is_sha256_of_the_json_array():
    """The stored hashes are SHA-256 of json.dumps([...], ensure_ascii=False): the fast
    builder must write the same bytes for any text, quotes, escapes and CJK included."""
    import hashlib

    from hypothesis import given, settings, strategies as st

    from parcelnet_service.shipments import CST
    from parcelnet_service.tracking import event_hash

    @settings(max_examples=300, deadline=None)
    @given(st.text(), st.text(), st.text(), st.none() | st.text(),
           st.datetimes(timezones=st.just(timezone.utc)))
    def same(w, t, f, trip, at):
        body = json.dumps([w, t, f, trip, at.astimezone(CST).isoformat()], ensure_ascii=False)
        assert event_hash(w, t, f, trip, at) == hashlib.sha256(body.encode()).hexdigest()

    same()


def test_a_server_warms_its_reads_without_writing(service):
    """settle_heap's warm-up (warm_reads): requests with an unknown key and the tracking
    queries on a stored shipment, compiled into the engine's statement cache before the
    first real request; nothing written, and the service answers as before."""
    from parcelnet_service.api.app import warm_reads
    from parcelnet_service.db.models import Base

    r = service.post("/v1/shipments", shipment())
    assert r.status_code == 201, r.text
    number = r.json()["waybill"]

    def counts():
        with Session(service.engine) as s:
            s.info.update(SYSTEM)
            return {t.name: s.scalar(select(func.count()).select_from(t))
                    for t in Base.metadata.sorted_tables}
    before = counts()
    cache = service.engine._compiled_cache
    cache.clear()
    warm_reads(service.app)
    assert counts() == before
    compiled = " ".join(str(k) for k in cache.keys())
    assert len(cache) >= 4 and "api_keys" in compiled and "scans" in compiled
    assert service.get(f"/v1/track/{number}").json()["waybill"] == number


def test_reads_keep_their_prepared_statements(service):
    """A read's transaction ends with COMMIT (Sessions.read), not ROLLBACK: psycopg forgets
    a connection's prepared statements at every ROLLBACK, and each read then planned its
    statements afresh. prepare_reads leaves the tracking read and the key's query prepared
    on each connection it warms, and real reads after it run on those prepared statements
    instead of wiping them."""
    if service.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    from parcelnet_service.api.app import WARM_RUNS, prepare_reads

    number = make(service)
    prepare_reads(service.app.state.sessions, number, connections=3)
    reads = 20
    for _ in range(reads):
        assert service.get(f"/v1/track/{number}").json()["waybill"] == number
    conns = [service.engine.connect() for _ in range(3)]     # the pool's three most recent
    try:
        held = [dict(c.exec_driver_sql("SELECT statement, generic_plans FROM pg_prepared_statements")
                     .all()) for c in conns]
    finally:
        for c in conns:
            c.close()
    read = [max((n for q, n in h.items() if "json_agg" in q), default=0) for h in held]
    key = [max((n for q, n in h.items() if "api_keys" in q), default=-1) for h in held]
    # psycopg prepares at the sixth run; the first five runs of a prepared statement are
    # planned for their values, the rest take the generic plan
    assert min(read) >= WARM_RUNS - 10 and min(key) >= 0, held
    assert max(read) >= WARM_RUNS - 10 + reads, held   # the connection that served the reads


def test_the_aggregates_are_planned_for_their_values(service):
    """The map's volumes and the exceptions aggregate a tenant's shipments: each run is
    planned for its values (plan_for_values), never with the generic plan PostgreSQL
    settles on for a prepared statement after five runs (on two million shipments it
    guessed one row and sorted them all on disk)."""
    if service.engine.dialect.name != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    make(service)
    for _ in range(12):
        assert service.get("/v1/map/volumes").status_code == 200
        assert service.get("/v1/exceptions").status_code == 200
    with service.engine.connect() as c:          # the pool's most recent: the one that served
        plans = c.exec_driver_sql("SELECT statement, generic_plans, custom_plans "
                                  "FROM pg_prepared_statements WHERE statement LIKE '%%FROM shipments%%' AND "
                                  "(statement LIKE '%%GROUP BY%%' OR statement LIKE '%%last_event_at%%')").all()
    assert len(plans) == 2, plans                       # both prepared, and run since ...
    assert all(g == 0 and c >= 6 for _, g, c in plans), plans   # ... each planned afresh


def test_bodies_that_are_not_json_are_a_422_with_the_reason(service):
    """The body is parsed by orjson (api.app._Request): malformed JSON, bytes that are not
    UTF-8 and NaN are each one 422 naming the body, as FastAPI answers them; nothing is
    stored."""
    wb = make(service)
    good = b'{"events": [' + orjson_event(wb) + b"]}"
    bad = {"a cut body": good[:-5], "not UTF-8": good.replace(b"S330106", b"S33\xff106"),
           "NaN": good.replace(b"]}", b"], \"x\": NaN}"), "empty": b"{"}
    for why, body in bad.items():
        r = service.client.post("/v1/scans", content=body,
                                headers={**service.keys["sf"], "Content-Type": "application/json"})
        assert r.status_code == 422, (why, r.text)
        assert "body" in r.json()["detail"] and "JSON" in r.json()["detail"], (why, r.text)
    r = service.client.post("/v1/scans", content=good,
                            headers={**service.keys["sf"], "Content-Type": "application/json"})
    assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
    with Session(service.engine, info=SYSTEM) as s:
        assert s.scalar(select(func.count()).select_from(Scan)) == 1


def orjson_event(wb: str) -> bytes:
    import json
    return json.dumps(ev("j1", wb, "picked_up", "S330106", 1110)).encode()


def test_the_one_statement_read_is_the_orm_view(service):
    """On PostgreSQL, ``GET /v1/track`` reads in one statement (tracking.track_pg); field for
    field it is the ORM's view (tracking.track) for every waybill number (parents and
    pieces) and every tenant: re-promises, pieces, trips, sub-second times, and events at
    the same time ordered by their ids' code points; and None where the ORM's query finds
    nothing to track."""
    from parcelnet_service.db.models import Tenant
    from parcelnet_service.tracking import track, track_pg, trackable
    if service.engine.dialect.name != "postgresql":
        pytest.skip("the one-statement read is PostgreSQL's")
    plain, late = make(service), make(service)
    r = service.post("/v1/shipments", shipment(pieces=[{"weight_g": 500}, {"weight_g": 700}]))
    multi, kids = r.json()["waybill"], [p["waybill"] for p in r.json()["pieces"]]
    service.now = NOW + timedelta(days=3)
    post_scans(service, journey(late, "L", late=True)[:4])        # re-promised at C3301
    sub = "2026-12-05T19:31:00.250000+08:00"
    post_scans(service, [ev("p-1", plain, "picked_up", "S330106", 1110),
                         {**ev("b", plain, "arrived", "C3301", 1230), "at": sub},
                         {**ev("B", plain, "sorted", "C3301", 1230), "at": sub},
                         {**ev("a", plain, "departed", "C3301", 1230), "at": sub},
                         ev("k-1", kids[0], "picked_up", "S330106", 1110),
                         ev("k-2", kids[1], "arrived", "C3301", 1230),
                         ev("m-1", multi, "departed", "C3301", 1300, "C3301>C1100/air@2320")])
    with Session(service.engine, info=SYSTEM) as s:
        tenants = {t.name: (t.id, t.kind) for t in s.scalars(select(Tenant))}
    numbers = [plain, late, multi, *kids, "PN000000000010"]
    seen = 0
    for name, (tid, kind) in tenants.items():
        with service.app.state.sessions({"tenant_id": tid, "kind": kind}) as s:
            scope = None if kind == "platform" else tid
            for n in numbers:
                sh = s.scalar(trackable(n, scope))
                want = None if sh is None else track(s, sh)
                s.expunge_all()
                assert track_pg(s, n, scope) == want, (name, n)
                seen += want is not None
    assert seen == 3 * 5                      # shop, sf and the platform see all five numbers
    with service.app.state.sessions({"tenant_id": tenants["shop"][0], "kind": "merchant"}) as s:
        got = track_pg(s, plain, tenants["shop"][0])
    assert [e["event_id"] for e in got["events"]] == ["p-1", "B", "a", "b"]
    assert got["events"][1]["at"] == sub
    with service.app.state.sessions(SYSTEM) as s:
        assert len(track_pg(s, late, None)["promise_history"]) == 2


def test_a_nul_character_is_the_fields_own_error_on_either_database(service):
    """PostgreSQL's text cannot hold NUL (SQLite's can): every string of a body that reaches
    the database refuses it at the edge, naming the field, and a batch's other rows go on."""
    bad = shipment()
    bad["sender"]["name"] = "张\x00三"
    r = service.post("/v1/shipments", bad)
    assert r.status_code == 422 and r.json()["detail"].startswith("sender.name: "), r.text
    assert "NUL" in r.json()["detail"]
    for field, value in (("contents", "图\x00书"), ("reference", "r\x00"), ("carrier", "s\x00f")):
        body = shipment(**({field: value} if field != "contents" else {}))
        if field == "contents":
            body["parcel"]["contents"] = value
        r = service.post("/v1/shipments", body)
        assert r.status_code == 422 and "NUL" in r.json()["detail"], (field, r.text)
    rows = service.post("/v1/shipments/batch", {"shipments": [shipment(), bad]}).json()
    assert (rows["created"], rows["failed"]) == (1, 1)
    assert rows["results"][1]["error"].startswith("sender.name: ")
    wb = rows["results"][0]["shipment"]["waybill"]
    service.now = NOW + timedelta(days=1)
    got = post_scans(service, [ev("n1", wb, "picked_up", "S330106", 1110),
                               ev("n2", wb + "\x00", "arrived", "C3301", 1230),
                               ev("n3", wb, "arrived", "C\x003301", 1230),
                               ev("n4", wb, "departed", "S330106", 1140, trip="S330106>C3301\x00")]).json()
    assert [r["status"] for r in got["results"]] == ["accepted", "rejected", "rejected", "rejected"], got
    assert [r["error"].split(":")[0] for r in got["results"][1:]] == ["waybill", "facility", "trip"]
    assert service.post("/v1/labels", {"waybills": [wb + "\x00"]}).status_code == 422
    hook = service.post("/v1/webhooks", {"url": "https://example.com/\x00"})   # URL parsing drops it
    assert hook.status_code == 201 and "\x00" not in hook.json()["url"], hook.text
