"""Webhooks through the transactional outbox: delivered signed, retried with back-off,
given up after the last attempt, and sent by the app's own worker."""

from __future__ import annotations

import hashlib
import hmac
import http.server
import json
import threading
import time
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from parcelnet_service.db.engine import SYSTEM

from parcelnet_service.db.models import Outbox
from parcelnet_service.notify import BACKOFF, MAX_ATTEMPTS, deliver_due

from .conftest import NOW, shipment
from .test_tracking import journey, post_scans


class Receiver:
    """A local HTTP endpoint that records what it gets and fails the first ``fail`` times."""

    def __init__(self, fail: int = 0):
        self.got, self.fail = [], fail
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if outer.fail > 0:
                    outer.fail -= 1
                    self.send_response(500)
                else:
                    outer.got.append((dict(self.headers), body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()


def setup(service, receiver):
    secret = service.post("/v1/webhooks", {"url": receiver.url}).json()["secret"]
    wb = service.post("/v1/shipments", shipment()).json()["waybill"]
    service.now = NOW + timedelta(days=3)
    post_scans(service, journey(wb, "h")[:1])
    return secret, wb


def test_a_status_change_is_delivered_signed(service):
    rx = Receiver()
    try:
        secret, wb = setup(service, rx)
        got = deliver_due(service.app.state.sessions, service.now)
        assert got == {"delivered": 1, "retried": 0, "failed": 0}
        headers, body = rx.got[0]
        want = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Parcelnet-Signature"] == want
        msg = json.loads(body)
        assert msg["topic"] == "shipment.status"
        assert msg["data"] == {"waybill": wb, "status": "picked_up", "location": "S330106",
                               "at": "2026-12-05T18:30:00+08:00"}
        assert deliver_due(service.app.state.sessions, service.now)["delivered"] == 0   # once
    finally:
        rx.close()


def test_failures_back_off_then_give_up(service):
    rx = Receiver(fail=2)
    try:
        setup(service, rx)
        S, t = service.app.state.sessions, service.now
        assert deliver_due(S, t)["retried"] == 1
        assert deliver_due(S, t + BACKOFF[0] - timedelta(seconds=1))["retried"] == 0    # not due
        assert deliver_due(S, t + BACKOFF[0])["retried"] == 1
        t2 = t + BACKOFF[0] + BACKOFF[1]
        assert deliver_due(S, t2)["delivered"] == 1 and len(rx.got) == 1
        with Session(service.engine, info=SYSTEM) as s:
            row = s.scalar(select(Outbox))
            assert row.attempts == 3 and row.last_error == "HTTP 500"
    finally:
        rx.close()
    # a receiver that is gone: every attempt fails, then the row is given up
    first = service.get("/v1/webhooks").json()["webhooks"][0]["id"]
    assert service.client.delete(f"/v1/webhooks/{first}", headers=service.keys["shop"]).status_code == 204
    assert service.client.delete(f"/v1/webhooks/{first}", headers=service.keys["other-shop"]).status_code == 404
    service.post("/v1/webhooks", {"url": "http://127.0.0.1:9/gone"})
    service.now = NOW
    wb = service.post("/v1/shipments", shipment(reference="2")).json()["waybill"]
    service.now = t = NOW + timedelta(days=3)
    post_scans(service, journey(wb, "g")[:1])
    results = []
    for k in range(MAX_ATTEMPTS):
        results.append(deliver_due(S, t))
        t += BACKOFF[min(k, len(BACKOFF) - 1)]
    assert [r["retried"] for r in results] == [1] * (MAX_ATTEMPTS - 1) + [0]
    assert results[-1]["failed"] == 1
    with Session(service.engine, info=SYSTEM) as s:
        gone = s.scalars(select(Outbox).where(Outbox.failed_at.is_not(None))).all()
        assert len(gone) == 1 and gone[0].attempts == MAX_ATTEMPTS
        assert "Connection refused" in gone[0].last_error or "URLError" in gone[0].last_error


def test_the_apps_own_worker_sends_them(db, router):
    from fastapi.testclient import TestClient

    from parcelnet_service.api.app import create_app

    from .conftest import Service
    svc = Service(db[1], router, NOW)
    rx = Receiver()
    try:
        app = create_app(db[1], router, clock=lambda: svc.now, webhooks_every=0.05)
        with TestClient(app) as c:
            svc.client = c
            setup(svc, rx)
            deadline = time.time() + 10
            while not rx.got and time.time() < deadline:
                time.sleep(0.05)
        assert len(rx.got) == 1
    finally:
        rx.close()
