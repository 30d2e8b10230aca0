"""Webhooks through a transactional outbox.

A status change writes one ``outbox`` row per active webhook of the merchant, in the same
transaction as the change: a notification exists exactly when the change committed.
:func:`deliver_due` sends the due rows (an HTTP POST of the JSON payload, signed with
HMAC-SHA256 of the body under the webhook's secret in ``X-Parcelnet-Signature``) and
retries failures with exponential back-off (:data:`BACKOFF`), giving up after
:data:`MAX_ATTEMPTS`. Delivery is at least once: receivers deduplicate by ``X-Parcelnet-Delivery``
(the outbox row's id).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta

from sqlalchemy import select

from parcelnet_service.db.engine import SYSTEM
from parcelnet_service.db.models import Outbox, Webhook

BACKOFF = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5),
           timedelta(minutes=30), timedelta(hours=2), timedelta(hours=6))
MAX_ATTEMPTS = len(BACKOFF) + 1
TIMEOUT_S = 5.0
LEASE = timedelta(seconds=60)


def notify(session, tenant_id: int, topic: str, payload: dict, now: datetime,
           hooks: dict | None = None) -> int:
    """Queue ``payload`` for every active webhook of the tenant (in the caller's
    transaction); returns how many rows were queued. ``hooks``: a cache of each tenant's
    webhook ids, for one transaction that notifies many times."""
    if hooks is not None and tenant_id in hooks:
        ids = hooks[tenant_id]
    else:
        ids = session.scalars(select(Webhook.id).where(Webhook.tenant_id == tenant_id,
                                                       Webhook.disabled_at.is_(None))).all()
        if hooks is not None:
            hooks[tenant_id] = ids
    if not ids:
        return 0
    body = json.dumps({"topic": topic, "data": payload}, ensure_ascii=False)
    session.execute(Outbox.__table__.insert(), [
        dict(webhook_id=h, topic=topic, payload=body, created_at=now, attempts=0, next_attempt_at=now)
        for h in ids])
    return len(ids)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _post(url: str, body: bytes, headers: dict) -> int:
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as r:
            return r.status
    except urllib.error.HTTPError as e:       # an answer, just not a 2xx
        return e.code


def deliver_due(sessions, now: datetime, limit: int = 100, post=_post) -> dict:
    """Send up to ``limit`` due notifications (``sessions``: a
    :class:`parcelnet_service.db.engine.Sessions`); returns counts (delivered, retried, failed).
    A row is due when undelivered, not given up, and its next attempt time has come. Rows
    are claimed (their next attempt moved :data:`LEASE` ahead) in one short transaction,
    sent outside any, and their outcome written in another: a slow receiver holds no lock,
    and a worker that dies mid-send leaves its rows due again after the lease."""
    out = {"delivered": 0, "retried": 0, "failed": 0}
    with sessions.begin(SYSTEM) as s:
        q = (select(Outbox, Webhook).join(Webhook, Outbox.webhook_id == Webhook.id)
             .where(Outbox.delivered_at.is_(None), Outbox.failed_at.is_(None),
                    Outbox.next_attempt_at <= now).order_by(Outbox.id).limit(limit))
        if s.bind.dialect.name == "postgresql":
            q = q.with_for_update(skip_locked=True, of=Outbox)
        claimed = []
        for row, hook in s.execute(q).all():
            row.next_attempt_at = now + LEASE
            claimed.append((row.id, hook.url, hook.secret, row.payload.encode(), row.topic))
    sent = []
    for oid, url, secret, body, topic in claimed:
        try:
            code = post(url, body, {"X-Parcelnet-Signature": sign(secret, body),
                                    "X-Parcelnet-Delivery": str(oid), "X-Parcelnet-Topic": topic})
            sent.append((oid, 200 <= code < 300, f"HTTP {code}"))
        except Exception as e:              # the receiver's failure, never ours
            sent.append((oid, False, f"{type(e).__name__}: {e}"[:300]))
    with sessions.begin(SYSTEM) as s:
        for oid, ok, err in sent:
            row = s.get(Outbox, oid)
            row.attempts += 1
            if ok:
                row.delivered_at = now
                out["delivered"] += 1
            elif row.attempts >= MAX_ATTEMPTS:
                row.failed_at, row.last_error = now, err
                out["failed"] += 1
            else:
                row.next_attempt_at = now + BACKOFF[row.attempts - 1]
                row.last_error = err
                out["retried"] += 1
    return out
