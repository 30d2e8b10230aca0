"""Carrier scans: ingestion, the status fold, re-promise, and the tracking views.

**Events.** A scan event carries the carrier's event id, a waybill number (the parent's or
a piece's), a type from :data:`EVENT_TYPES`, a facility of the network, the trip where it
applies, and the event time.

**Idempotent.** An event is keyed by (carrier, event id). The same event again is stored
once and answered ``duplicate``; the same id with other content (its SHA-256 over the
waybill, type, facility, trip and UTC time, as GS1 EPCIS 2.0 hashes events) is refused.

**Order-independent.** A shipment's status is the fold of all its events (every piece's)
in the order (event time, event id, carrier id), whatever order they arrived in:
:func:`fold`. Late and shuffled events converge to the same state.

**Re-promise.** An ``arrived`` or ``delivery_failed`` event at facility F at time t asks
the promise engine for the earliest delivery from F at t. When that is later than the
shipment's latest promise, the parcel is behind its promised path (a missed departure, a
delay at a hub): a new promise version is recorded with its reason, and the merchant is
notified. The latest promise is thus the latest of the first promise and every such
event's: a set's maximum, so it too is the same in any arrival order. A promise never
moves earlier.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from json.encoder import encode_basestring as _q

import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.exc import IntegrityError

from parcelnet_service.db.engine import elevate
from parcelnet_service.db.models import Promise, Scan, Shipment, Tenant, Waybill
from parcelnet_service.notify import notify
from parcelnet_service.shipments import CST, Router, promise_view

#: event type -> the status it sets (AfterShip-like normalised statuses)
EVENT_TYPES = {
    "picked_up": "picked_up",
    "arrived": "in_transit",
    "sorted": "in_transit",
    "departed": "in_transit",
    "out_for_delivery": "out_for_delivery",
    "delivered": "delivered",
    "delivery_failed": "delivery_failed",
    "exception": "exception",
    "returned": "returned",
    "cancelled": "cancelled",
}
#: statuses that end the fold: later events stay on the timeline but change nothing
TERMINAL = ("delivered", "returned", "cancelled")
#: events after which the parcel is at a facility, ready to go on: they may re-promise
REPROMISE_ON = ("arrived", "delivery_failed")
#: how far an event may lie in the future (clock skew), and in the past
FUTURE_SKEW = timedelta(minutes=10)
MAX_AGE = timedelta(days=90)
MAX_BATCH = 1000


def event_hash(waybill: str, type_: str, facility: str, trip: str | None, at: datetime) -> str:
    """SHA-256 of the JSON array [waybill, type, facility, trip, time in CST], exactly as
    ``json.dumps(..., ensure_ascii=False)`` writes it (stored hashes depend on it), built
    from json's own string encoder without the general encoder's overhead."""
    body = "[%s, %s, %s, %s, %s]" % (_q(waybill), _q(type_), _q(facility),
                                      "null" if trip is None else _q(trip),
                                      _q(at.astimezone(CST).isoformat()))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Folded:
    status: str
    location: str | None
    status_at: datetime | None
    last_event_at: datetime | None


def order_key(e) -> tuple:
    return (e.event_at, e.event_id, e.carrier_id)


def fold(events) -> Folded:
    """The status of a shipment from its events, in (event time, event id, carrier) order."""
    status, location, at, last = "created", None, None, None
    for e in sorted(events, key=order_key):
        last = e.event_at
        if status in TERMINAL:
            continue
        status, location, at = EVENT_TYPES[e.type], e.facility, e.event_at
    return Folded(status, location, at, last)


def ingest(session, carrier: int, events: list[dict], router: Router, now: datetime) -> list[dict]:
    """Store the events (already checked for shape) of the carrier whose tenant id is
    ``carrier``, fold their shipments and re-promise where they fell behind; one result per
    event: ``accepted``, ``duplicate`` or ``rejected`` with its error. Events of other
    carriers' or unknown waybills, unknown facilities or trips, or impossible times are
    rejected one by one."""
    facilities, trips = router.facility_ids, router.trip_ids
    # a number holding NUL is no waybill (and PostgreSQL's text cannot hold it): not looked up
    numbers = sorted({e["waybill"] for e in events if "\x00" not in e["waybill"]})
    pg = session.bind.dialect.name == "postgresql"
    bills = {}
    # one writer per shipment at a time: the fold and the promise see every committed event.
    # On PostgreSQL the batch's shipments are found and locked in one statement, in id
    # order (no deadlock between batches); the locked rows cannot change before the fold,
    # which reads them from here. A shipment whose events are all rejected below is locked
    # too, for the rest of this short transaction
    locked = None
    if pg:
        locked = {}
        for row in session.connection().exec_driver_sql(_BILLS_LOCKED, {"numbers": numbers,
                                                                        "carrier": carrier}):
            bills[row.number] = (row.waybill_id, row.id, row.created_at)
            locked[row.id] = row
    else:
        for i in range(0, len(numbers), 500):
            rows = session.execute(
                select(Waybill.number, Waybill.id, Shipment.id, Shipment.created_at)
                .join(Shipment, Waybill.shipment_id == Shipment.id)
                .where(Waybill.number.in_(numbers[i:i + 500]), Shipment.carrier_id == carrier))
            bills.update({n: (w, s, c) for n, w, s, c in rows})
    results: list[dict] = [{} for _ in events]
    fresh = []
    latest, earliest = now + FUTURE_SKEW, now - MAX_AGE
    for i, e in enumerate(events):
        err = None
        at = e["at"]
        if e["waybill"] not in bills:
            err = f"waybill: {e['waybill']} is not a waybill handed to this carrier"
        elif e["facility"] not in facilities:
            err = f"facility: no facility '{e['facility']}' in the network"
        elif e.get("trip") is not None and e["trip"] not in trips:
            err = f"trip: no trip '{e['trip']}' in the network"
        elif at > latest:
            err = f"at: {at.isoformat()} is in the future"
        elif at < earliest:
            err = f"at: {at.isoformat()} is more than {MAX_AGE.days} days old"
        elif at < bills[e["waybill"]][2] - FUTURE_SKEW:
            err = f"at: {at.isoformat()} is before the shipment was created"
        if err:
            results[i] = {"index": i, "status": "rejected", "error": err}
        else:
            fresh.append((i, e, event_hash(e["waybill"], e["type"], e["facility"], e.get("trip"), at)))
    if not fresh:
        return results
    # what this carrier posted before, by event id: a duplicate, or a conflict. PostgreSQL
    # finds out in the INSERT itself (ON CONFLICT DO NOTHING RETURNING), in one statement
    known = {}
    if not pg:
        ids = [e["event_id"] for _, e, _ in fresh]
        for k in range(0, len(ids), 500):
            known.update(dict(session.execute(select(Scan.event_id, Scan.hash).where(
                Scan.carrier_id == carrier, Scan.event_id.in_(ids[k:k + 500]))).all()))
    rows = []
    for i, e, h in fresh:
        if e["event_id"] in known:         # posted before, or earlier in this batch
            results[i] = _answer(i, e["event_id"], known[e["event_id"]], h)
            continue
        known[e["event_id"]] = h
        w, sid, _ = bills[e["waybill"]]
        rows.append(dict(carrier_id=carrier, event_id=e["event_id"], waybill_id=w, shipment_id=sid,
                         type=e["type"], facility=e["facility"], trip=e.get("trip"), event_at=e["at"],
                         received_at=now, hash=h))
        results[i] = {"index": i, "status": "accepted"}
    if rows:
        if pg:
            stored = _insert_new_scans(session, rows)
        else:
            try:
                with session.begin_nested():
                    session.execute(Scan.__table__.insert(), rows)
                stored = None
            except IntegrityError:
                # another request stored one of these ids in the meantime: the rest go in
                ins = _insert(session).on_conflict_do_nothing(
                    index_elements=["carrier_id", "event_id"]).returning(Scan.event_id)
                stored = set(session.scalars(ins, rows).all())
        if stored is not None and len(stored) < len(rows):
            # ids stored before (by an earlier or a concurrent request): every event of this
            # batch with such an id is a duplicate of the stored one, or a conflict
            lost = {r["event_id"] for r in rows if r["event_id"] not in stored}
            theirs = {}
            for part in (sorted(lost)[k:k + 500] for k in range(0, len(lost), 500)):
                theirs.update(dict(session.execute(select(Scan.event_id, Scan.hash).where(
                    Scan.carrier_id == carrier, Scan.event_id.in_(part))).all()))
            for i, e, h in fresh:
                if e["event_id"] in lost:
                    results[i] = _answer(i, e["event_id"], theirs.get(e["event_id"]), h)
            rows = [r for r in rows if r["event_id"] in stored]
    if rows:
        elevate(session)            # the fold notifies the merchant (its webhooks)
        _refold(session, rows, router, now, locked)
    return results


#: what the fold reads of a shipment
_FOLD_COLUMNS = (Shipment.id, Shipment.status, Shipment.tenant_id, Shipment.waybill,
                 Shipment.dest_station, Shipment.promise_at)


#: what the fold reads of a scan
_FOLD_EVENT_COLUMNS = (Scan.shipment_id, Scan.type, Scan.facility, Scan.event_at, Scan.event_id,
                       Scan.carrier_id)
#: the batch's waybills of this carrier with their shipments' fold columns, locked
#: (PostgreSQL): the numbers travel as one array parameter, where an IN list would be
#: rendered and parsed placeholder by placeholder
_BILLS_LOCKED = (
    f"SELECT w.number, w.id AS waybill_id, s.created_at, {', '.join(f's.{c.key}' for c in _FOLD_COLUMNS)} "
    "FROM waybills AS w JOIN shipments AS s ON w.shipment_id = s.id "
    "WHERE w.number = ANY(%(numbers)s::text[]) AND s.carrier_id = %(carrier)s "
    "ORDER BY s.id FOR UPDATE OF s")
#: every event of the given shipments, as the fold reads them (PostgreSQL)
_FOLD_EVENTS = (f"SELECT {', '.join(c.key for c in _FOLD_EVENT_COLUMNS)} FROM scans "
                "WHERE shipment_id = ANY(%(ids)s::bigint[])")

#: the scan columns an ingested row fills, with their types in the set-based INSERT
_SCAN_COLUMNS = (("carrier_id", "bigint"), ("event_id", "text"), ("waybill_id", "bigint"),
                 ("shipment_id", "bigint"), ("type", "text"), ("facility", "text"), ("trip", "text"),
                 ("event_at", "timestamptz"), ("received_at", "timestamptz"), ("hash", "text"))
_NAMES = ", ".join(c for c, _ in _SCAN_COLUMNS)
#: one statement for a batch on PostgreSQL: the rows travel as one JSON document
#: (json_to_recordset), which the driver sends as it is, where arrays are built element by
#: element in Python. orjson writes it (times as RFC 3339 with their offsets, as isoformat
#: does) in a tenth of the json module's time
_SCAN_INSERT = (f"INSERT INTO scans ({_NAMES}) SELECT {_NAMES} FROM json_to_recordset(%(rows)s::json) "
                f"AS x({', '.join(f'{c} {t}' for c, t in _SCAN_COLUMNS)}) "
                "ON CONFLICT (carrier_id, event_id) DO NOTHING RETURNING event_id")
#: the fold's bulk update on PostgreSQL: a promise left NULL keeps the stored one (a
#: promise is only ever raised, never cleared, by the fold)
_SHIPMENT_UPDATE = (
    "UPDATE shipments AS s SET status = v.status, location = v.location, status_at = v.status_at, "
    "last_event_at = v.last_event_at, promise_at = coalesce(v.promise_at, s.promise_at) "
    "FROM json_to_recordset(%(rows)s::json) AS v(id bigint, status text, location text, "
    "status_at timestamptz, last_event_at timestamptz, promise_at timestamptz) WHERE s.id = v.id")


def _answer(i: int, event_id: str, stored_hash: str | None, h: str) -> dict:
    """An event whose id was taken: a duplicate when its content hashes the same."""
    if stored_hash == h:
        return {"index": i, "status": "duplicate"}
    return {"index": i, "status": "rejected",
            "error": f"event_id: {event_id} was posted before with other content"}


def _insert_new_scans(session, rows: list[dict]) -> set[str]:
    """Store the scan rows whose (carrier, event id) is new, on PostgreSQL, in one statement:
    one statement's planning and round trip for the batch instead of one per row; the
    event ids stored."""
    doc = orjson.dumps(rows, option=orjson.OPT_NAIVE_UTC).decode()          # aware times: their offsets kept
    return {r[0] for r in session.connection().exec_driver_sql(_SCAN_INSERT, {"rows": doc})}


def _update_shipments(session, updates: list[dict]) -> None:
    """The fold's results, written back (one statement on PostgreSQL)."""
    if session.bind.dialect.name != "postgresql":
        session.execute(update(Shipment), updates)
        return
    # the fold's dicts as they are: a promise_at they lack is NULL to json_to_recordset
    doc = orjson.dumps(updates, option=orjson.OPT_NAIVE_UTC).decode()
    session.connection().exec_driver_sql(_SHIPMENT_UPDATE, {"rows": doc})


def _insert(session):
    """INSERT with ON CONFLICT, in the session's dialect (PostgreSQL or SQLite)."""
    if session.bind.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(Scan)


def _refold(session, new: list[dict], router: Router, now: datetime, ships: dict | None = None) -> None:
    """Fold again every shipment the new events touch, set-based: one query for the
    shipments (none when ``ships`` holds their rows, as locked), one for all their events,
    one bulk update; re-promise where they fell behind; notify the merchants (module docs)."""
    touched = sorted({r["shipment_id"] for r in new})
    read = ships is None
    ships = {} if read else ships
    events: dict[int, list] = {}
    pg = session.bind.dialect.name == "postgresql"
    for i in range(0, len(touched), 500):
        part = touched[i:i + 500]
        if read:
            for sh in session.execute(select(*_FOLD_COLUMNS).where(Shipment.id.in_(part))):
                ships[sh.id] = sh
        rows = (session.connection().exec_driver_sql(_FOLD_EVENTS, {"ids": part}) if pg else
                session.execute(select(*_FOLD_EVENT_COLUMNS).where(Scan.shipment_id.in_(part))))
        for e in rows:
            events.setdefault(e.shipment_id, []).append(e)      # rows: what fold reads
    folded = {sid: fold(events.get(sid, [])) for sid in touched}
    new_by: dict[int, list[dict]] = {}
    for r in new:
        new_by.setdefault(r["shipment_id"], []).append(r)
    # the re-promise candidates, timed in one batch of the promise engine: every new arrived
    # or delivery_failed event, whatever the shipment's status. The latest promise is then
    # the maximum over the set of such events, the same in any arrival order; skipping the
    # shipments already delivered made it depend on whether a late scan came before or
    # after the delivery's (docs/service.md, "Re-promise")
    cands = [(sid, r) for sid in touched
             for r in sorted(new_by[sid], key=lambda r: (r["event_at"], r["event_id"]))
             if r["type"] in REPROMISE_ON]
    times = router.promise_times([(r["facility"], ships[sid].dest_station, r["event_at"])
                                  for sid, r in cands])
    timed: dict[int, list] = {}
    for (sid, r), t in zip(cands, times):
        timed.setdefault(sid, []).append((t, r))
    updates, hooks = [], {}
    for sid in touched:
        sh, f = ships[sid], folded[sid]
        updates.append({"id": sid, "status": f.status, "location": f.location, "status_at": f.status_at,
                        "last_event_at": f.last_event_at})
        if f.status != sh.status:
            notify(session, sh.tenant_id, "shipment.status", {
                "waybill": sh.waybill, "status": f.status, "location": f.location,
                "at": None if f.status_at is None else f.status_at.astimezone(CST).isoformat()}, now,
                hooks=hooks)
        if sid in timed:
            _repromise(session, sh, timed[sid], router, now, updates[-1], hooks)
    _update_shipments(session, updates)


def _repromise(session, sh, timed: list, router: Router, now: datetime, upd: dict,
               hooks: dict) -> None:
    """``timed``: (promised time, event) of the shipment's new re-promise candidates, in
    (event time, event id) order. The latest time wins (the first such on ties); when it
    is later than the stored promise, a new promise version is recorded with its path."""
    best = None
    for t, e in timed:
        if t is not None and (best is None or t > best[0]):
            best = (t, e)
    if best is None or sh.promise_at is None or best[0] <= sh.promise_at:
        return
    e = best[1]
    promised, _ = router.promise(e["facility"], sh.dest_station, e["event_at"])     # with its path
    version = session.scalar(select(func.max(Promise.version)).where(Promise.shipment_id == sh.id)) + 1
    reason = (f"{'delivery failed' if e['type'] == 'delivery_failed' else 'arrived'} at "
              f"{e['facility']} at {e['event_at'].astimezone(CST):%Y-%m-%d %H:%M}, behind the promised path")
    p = Promise(shipment_id=sh.id, version=version, reason=reason, from_facility=promised.from_facility,
                from_at=promised.from_at, promise_at=promised.promise_at, path=promised.path,
                created_at=now)
    session.add(p)
    upd["promise_at"] = promised.promise_at
    notify(session, sh.tenant_id, "shipment.promise", {"waybill": sh.waybill, **promise_view(p)}, now,
           hooks=hooks)


def trackable(number: str, tenant_id: int | None):
    """The query for the shipment behind waybill ``number`` that tenant ``tenant_id`` may
    track (its merchant's, or handed to its carrier); any tenant's for None (the platform)."""
    q = select(Shipment).join(Waybill, Waybill.shipment_id == Shipment.id).where(Waybill.number == number)
    if tenant_id is not None:
        q = q.where(or_(Shipment.tenant_id == tenant_id, Shipment.carrier_id == tenant_id))
    return q


def timeline(session, s: Shipment) -> list[dict]:
    # plain rows, not ORM objects: a tracking read is the service's most frequent call
    rows = session.execute(select(Scan.event_at, Scan.event_id, Scan.carrier_id, Scan.type,
                                  Scan.facility, Scan.trip, Waybill.number, Tenant.name)
                           .join(Waybill, Scan.waybill_id == Waybill.id)
                           .join(Tenant, Scan.carrier_id == Tenant.id)
                           .where(Scan.shipment_id == s.id)).all()
    rows.sort(key=order_key)
    return [{"event_id": e.event_id, "carrier": e.name, "waybill": e.number, "type": e.type,
             "facility": e.facility, "trip": e.trip, "at": e.event_at.astimezone(CST).isoformat()}
            for e in rows]


def track(session, s: Shipment) -> dict:
    """The full view for the merchant and its carriers."""
    return {"waybill": s.waybill, "status": s.status, "location": s.location,
            "status_at": None if s.status_at is None else s.status_at.astimezone(CST).isoformat(),
            "promise": promise_view(s.promises[-1]),
            "promise_history": [promise_view(p) for p in s.promises],
            "pieces": [b.number for b in s.waybills if b.piece > 0],
            "events": timeline(session, s)}


#: a tracking read on PostgreSQL in one statement: the shipment with its promises, pieces
#: and events, each list one JSON array built by the server (times as ISO 8601 with their
#: offsets). The ORM's way is four statements, two of them lazy loads, and most of a read's
#: Python time (docs/benchmarks.md); the view made from this one is the same, field for
#: field (a test checks it against :func:`track`)
_TRACK_PG = """
SELECT s.waybill, s.status, s.location, s.status_at,
  (SELECT json_agg(json_build_array(p.version, p.reason, p.from_facility, p.from_at, p.promise_at,
                                    p.path) ORDER BY p.version)
     FROM promises p WHERE p.shipment_id = s.id) AS promises,
  (SELECT json_agg(b.number ORDER BY b.piece) FROM waybills b
     WHERE b.shipment_id = s.id AND b.piece > 0) AS pieces,
  (SELECT json_agg(json_build_array(e.event_at, e.event_id, e.carrier_id, e.type, e.facility, e.trip,
                                    b.number, t.name))
     FROM scans e JOIN waybills b ON e.waybill_id = b.id JOIN tenants t ON e.carrier_id = t.id
     WHERE e.shipment_id = s.id) AS events
FROM shipments s JOIN waybills w ON w.shipment_id = s.id
WHERE w.number = %(number)s"""
_TRACK_PG_TENANT = _TRACK_PG + " AND (s.tenant_id = %(tenant)s OR s.carrier_id = %(tenant)s)"


def track_pg(session, number: str, tenant_id: int | None) -> dict | None:
    """:func:`track`'s view of waybill ``number`` in one statement (PostgreSQL only), or
    None when tenant ``tenant_id`` may not track it (any tenant's for None, as
    :func:`trackable`)."""
    q = _TRACK_PG if tenant_id is None else _TRACK_PG_TENANT
    row = session.connection().exec_driver_sql(q, {"number": number, "tenant": tenant_id}).first()
    if row is None:
        return None
    waybill, status, location, status_at, promises, pieces, events = row
    history = []
    for version, reason, from_facility, from_at, promise_at, path in promises:
        f, t = datetime.fromisoformat(from_at), promise_at and datetime.fromisoformat(promise_at)
        history.append({"version": version, "reason": reason, "from_facility": from_facility,
                        "from_at": f.astimezone(CST).isoformat(),
                        "promise_at": None if t is None else t.astimezone(CST).isoformat(),
                        "hours": None if t is None else round((t - f).total_seconds() / 3600, 2),
                        "path": path})
    evs = sorted(((datetime.fromisoformat(e[0]), *e[1:]) for e in events or ()),
                 key=lambda e: (e[0], e[1], e[2]))           # order_key: time, event id, carrier
    return {"waybill": waybill, "status": status, "location": location,
            "status_at": None if status_at is None else status_at.astimezone(CST).isoformat(),
            "promise": history[-1], "promise_history": history, "pieces": pieces or [],
            "events": [{"event_id": e[1], "carrier": e[7], "waybill": e[6], "type": e[3],
                        "facility": e[4], "trip": e[5], "at": e[0].astimezone(CST).isoformat()}
                       for e in evs]}


def view(session, number: str, tenant_id: int | None) -> dict | None:
    """:func:`track`'s view of waybill ``number`` for tenant ``tenant_id`` (any tenant's for
    None), or None when it may not track it: one statement on PostgreSQL
    (:func:`track_pg`), the ORM's queries elsewhere."""
    if session.bind.dialect.name == "postgresql":
        return track_pg(session, number, tenant_id)
    got = session.scalar(trackable(number, tenant_id))
    return None if got is None else track(session, got)


def public(session, s: Shipment, names: dict[str, str]) -> dict:
    """What anyone with the waybill number (and the phone's last four digits) sees: status,
    promise and where, by facility name; no names, phones or addresses."""
    p = s.promises[-1]
    return {"waybill": s.waybill, "status": s.status,
            "location": names.get(s.location) if s.location else None,
            "promise_at": None if p.promise_at is None else p.promise_at.astimezone(CST).isoformat(),
            "events": [{"type": e["type"], "at": e["at"], "facility": names.get(e["facility"], e["facility"])}
                       for e in timeline(session, s)]}
