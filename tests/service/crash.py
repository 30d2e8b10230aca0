"""The server killed mid-load (issue 18, section 7), for tests/service/test_crash.py and
``benchmarks/bench_service.py crash``.

``parcelnet serve`` runs in its own process on a fresh PostgreSQL database. Shipments are
created through the API; then ``clients`` threads post their share of the scan events
(every shipment's journey, shuffled across all clients, so a shipment's events arrive from
several clients in any order) in batches. When ``kill_at`` of the events have been
acknowledged, the server gets SIGKILL (no clean shutdown: open transactions and answers in
flight are lost) and a new one starts on the same port. Clients retry a batch that got no
answer, with the same event ids, until it is answered.

Then, read straight from the database as its superuser (the service's code plays no part):

- **lost**: acknowledged events (answered ``accepted`` or ``duplicate``) with no row;
- **duplicates**: rows beyond one per (carrier, event id), and rows whose content differs
  from what was posted;
- **fold mismatches**: shipments whose stored status or location differs from a fresh fold
  of their stored events, computed here by :func:`fresh_fold`, apart from the service's
  ``tracking.fold``: events in (event time, event id, carrier) order, each setting its
  normalised status, until delivered, returned or cancelled.

All three must be 0.
"""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8))
#: written apart from parcelnet_service.tracking.EVENT_TYPES, from docs/service.md's table
STATUS_OF = {"picked_up": "picked_up", "arrived": "in_transit", "sorted": "in_transit",
             "departed": "in_transit", "out_for_delivery": "out_for_delivery",
             "delivered": "delivered", "delivery_failed": "delivery_failed",
             "exception": "exception", "returned": "returned", "cancelled": "cancelled"}
FINAL = {"delivered", "returned", "cancelled"}
#: Hangzhou (Xihu) to Beijing (Chaoyang) on China's default network
ROUTE = (("picked_up", "S330106", 0), ("departed", "S330106", 30), ("arrived", "C3301", 120),
         ("sorted", "C3301", 150), ("departed", "C3301", 290), ("arrived", "C1100", 440),
         ("departed", "C1100", 560), ("arrived", "S110105", 650))
BODY = {"sender": {"name": "张三", "phone": "13800138000", "address": "浙江省杭州市西湖区文三路90号"},
        "recipient": {"name": "李四", "phone": "13900139000", "address": "北京市朝阳区建国路88号1号楼101室"},
        "parcel": {"weight_g": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100,
                   "contents": "书"},
        "carrier": "sf"}


def journeys(bills: list[str], day0: datetime, seed: int) -> list[dict]:
    """Each waybill's scans: the route from Hangzhou to Beijing, then one of several ends
    (delivered; a failed delivery, then delivered; an exception; still out for delivery; a
    scan after delivery, which changes nothing), with ties in time broken by event id."""
    rng = random.Random(seed)
    out = []
    for i, wb in enumerate(bills):
        t0 = day0 + timedelta(minutes=1100 + rng.randrange(60))
        steps = list(ROUTE)
        end = rng.randrange(5)
        last = steps[-1][2]
        if end == 0:
            steps += [("out_for_delivery", "S110105", last + 60), ("delivered", "S110105", last + 200)]
        elif end == 1:
            steps += [("out_for_delivery", "S110105", last + 60), ("delivery_failed", "S110105", last + 200),
                      ("out_for_delivery", "S110105", last + 1500), ("delivered", "S110105", last + 1600)]
        elif end == 2:
            steps += [("exception", "C1100", ROUTE[5][2] + 10)]
        elif end == 3:
            steps += [("out_for_delivery", "S110105", last + 60)]
        else:
            steps += [("delivered", "S110105", last + 120), ("sorted", "S110105", last + 180)]
        if rng.random() < 0.2:                          # two scans in the same minute
            steps.append(("arrived", steps[-1][1], steps[-1][2]))
        for j, (ty, fac, m) in enumerate(steps):
            out.append({"event_id": f"K{i}-{j:02d}", "waybill": wb, "type": ty, "facility": fac,
                        "at": (t0 + timedelta(minutes=m)).isoformat()})
    return out


def fresh_fold(events: list[tuple]) -> tuple[str, str | None]:
    """(status, location) from (event_at, event_id, carrier_id, type, facility) rows."""
    status, location = "created", None
    for _, _, _, ty, fac in sorted(events, key=lambda e: (e[0], e[1], e[2])):
        if status in FINAL:
            break
        status, location = STATUS_OF[ty], fac
    return status, location


def _post(url: str, key: str, path: str, body: dict, timeout: float = 120) -> tuple[int, dict | None]:
    """(HTTP status, JSON) or (0, None) when no answer came (refused, reset, cut short)."""
    req = urllib.request.Request(url + path, data=json.dumps(body, ensure_ascii=False).encode(),
                                 method="POST", headers={"Authorization": f"Bearer {key}",
                                                         "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None
    except Exception:                                   # noqa: BLE001  no answer at all
        return 0, None


@dataclass
class CrashReport:
    events: int
    clients: int
    batch: int
    shipments: int
    kills: int
    acknowledged: int = 0
    accepted: int = 0
    duplicate_answers: int = 0
    rejected: int = 0
    retries: int = 0
    unanswered_at_kill: int = 0
    down_seconds: list[float] = field(default_factory=list)
    rows: int = 0
    lost: int = 0
    duplicates: int = 0
    content_mismatches: int = 0
    fold_mismatches: int = 0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["down_seconds"] = [round(x, 1) for x in self.down_seconds]
        d["seconds"] = round(self.seconds, 1)
        d["errors"] = self.errors[:5]
        return d


class _Server:
    def __init__(self, db_url: str, network: str | None, log):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.db_url, self.network, self.log = db_url, network, log
        self.proc = None

    def start(self, wait: float = 300) -> float:
        t = time.perf_counter()
        cmd = [sys.executable, "-m", "parcelnet.cli", "serve", "--db", self.db_url, "--port", str(self.port)]
        if self.network:
            cmd += ["--network", self.network]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        deadline = time.time() + wait
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the service exited with {self.proc.returncode}")
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                return time.perf_counter() - t
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the service did not start")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def run(pg: str, events: int = 50_000, clients: int = 8, batch: int = 100,
        kill_at: tuple[float, ...] = (0.4,), network: str | None = None, seed: int = 1,
        log=subprocess.DEVNULL) -> CrashReport:
    """The load, the kills and the checks (module docs) on a fresh database of the
    PostgreSQL server ``pg`` (``postgresql://user@host:port``), dropped afterwards."""
    import psycopg

    name = f"parcelnet_crash_{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    srv = None
    try:
        db_url, merchant, carrier = fresh_database(pg, name)
        srv = _Server(db_url, network, log)
        srv.start()
        day0 = three_days_ago()
        bills = create_shipments(srv.url, merchant, max(1, events // len(ROUTE)), day0)
        analyze = _Analyzer(db_url)           # autovacuum's ANALYZE, off on some servers
        evs = journeys(bills, day0, seed)[:events]
        random.Random(seed).shuffle(evs)
        rep = CrashReport(len(evs), clients, batch, len(bills), len(kill_at))
        shares = [evs[c::clients] for c in range(clients)]
        acked: dict[str, str] = {}
        lock = threading.Lock()
        in_flight = [0]
        up = threading.Event()
        up.set()

        def client(mine: list[dict]) -> None:
            for k in range(0, len(mine), batch):
                part = mine[k:k + batch]
                while True:
                    with lock:
                        in_flight[0] += 1
                    code, r = _post(srv.url, carrier, "/v1/scans", {"events": part})
                    with lock:
                        in_flight[0] -= 1
                    if code == 200:
                        break
                    with lock:
                        rep.retries += 1
                        if code not in (0, 429, 502, 503):
                            rep.errors.append(f"HTTP {code} on a batch")
                    up.wait(120)
                    time.sleep(0.05)
                with lock:
                    for e, res in zip(part, r["results"]):
                        st = res["status"]
                        if st == "rejected":
                            rep.rejected += 1
                            rep.errors.append(f"{e['event_id']}: {res.get('error')}")
                            continue
                        rep.accepted += st == "accepted"
                        rep.duplicate_answers += st == "duplicate"
                        acked[e["event_id"]] = e["waybill"]

        threads = [threading.Thread(target=client, args=(s,)) for s in shares]
        for t in threads:
            t.start()
        for frac in kill_at:
            while len(acked) < frac * len(evs) and any(t.is_alive() for t in threads):
                time.sleep(0.01)
            if not any(t.is_alive() for t in threads):
                break
            up.clear()
            with lock:
                rep.unanswered_at_kill += in_flight[0]
            srv.kill()
            rep.down_seconds.append(srv.start())
            up.set()
        for t in threads:
            t.join()
        analyze.stop()
        rep.acknowledged = len(acked)
        _check(db_url, evs, acked, rep)
        rep.seconds = time.perf_counter() - started
        return rep
    finally:
        if srv is not None:
            srv.stop()
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def fresh_database(pg: str, name: str) -> tuple[str, str, str]:
    """Database ``name`` created on the PostgreSQL server ``pg`` and migrated, with a
    merchant "shop" and a carrier "sf": (its URL, the merchant's key, the carrier's key)."""
    import psycopg
    from sqlalchemy.orm import Session

    from parcelnet_service.admin import create_key, create_tenant
    from parcelnet_service.db.engine import make_engine, upgrade

    with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    url = f"{pg}/{name}"
    engine = make_engine(url)
    upgrade(engine)
    with Session(engine) as s:
        create_tenant(s, "shop", "merchant")
        create_tenant(s, "sf", "carrier")
        keys = create_key(s, "shop")[1], create_key(s, "sf")[1]
        s.commit()
    engine.dispose()
    return url, *keys


def three_days_ago() -> datetime:
    """Midnight CST three days ago: the loads' day 0, so every scan lies in the service's past."""
    return datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)


def create_shipments(url: str, merchant: str, n: int, day0: datetime) -> list[str]:
    """``n`` shipments from Hangzhou to Beijing (BODY), created at 18:10 of ``day0`` through
    the service at ``url``: their waybill numbers, in creation order."""
    bills: list[str] = []
    for k in range(0, n, 1000):
        body = {**BODY, "created_at": (day0 + timedelta(minutes=1090)).isoformat()}
        code, r = _post(url, merchant, "/v1/shipments/batch", {"shipments": [body] * min(1000, n - k)})
        if code != 200 or r["failed"]:
            raise RuntimeError(f"creating shipments: HTTP {code}")
        bills += [x["shipment"]["waybill"] for x in r["results"]]
    return bills


class _Analyzer:
    """ANALYZE now and every few seconds, as autovacuum does on a live server (PostgreSQL's
    default; this machine's server runs with autovacuum off, and without statistics the
    planner scans whole tables for every batch)."""

    def __init__(self, db_url: str, every: float = 3.0):
        import psycopg

        self.stop_ = threading.Event()
        with psycopg.connect(db_url, autocommit=True) as c:
            c.execute("ANALYZE")

        def loop():
            while not self.stop_.wait(every):
                with psycopg.connect(db_url, autocommit=True) as c:
                    c.execute("ANALYZE")

        self.t = threading.Thread(target=loop, daemon=True)
        self.t.start()

    def stop(self) -> None:
        self.stop_.set()
        self.t.join()


def _check(db_url: str, evs: list[dict], acked: dict, rep: CrashReport) -> None:
    """Lost, doubled and mismatched rows, and the fresh fold (module docs), by plain SQL."""
    import psycopg

    posted = {e["event_id"]: e for e in evs}
    with psycopg.connect(db_url) as c:
        rows = c.execute("SELECT sc.event_id, w.number, sc.type, sc.facility, sc.event_at, sc.carrier_id, "
                         "sc.shipment_id FROM scans sc JOIN waybills w ON w.id = sc.waybill_id").fetchall()
        ships = c.execute("SELECT id, status, location FROM shipments").fetchall()
    rep.rows = len(rows)
    seen: dict[str, int] = {}
    by_ship: dict[int, list[tuple]] = {}
    for eid, number, ty, fac, at, carrier, sid in rows:
        seen[eid] = seen.get(eid, 0) + 1
        e = posted.get(eid)
        if e is None or (number, ty, fac) != (e["waybill"], e["type"], e["facility"]) \
                or at != datetime.fromisoformat(e["at"]):
            rep.content_mismatches += 1
        by_ship.setdefault(sid, []).append((at, eid, carrier, ty, fac))
    rep.duplicates = sum(n - 1 for n in seen.values())
    rep.lost = sum(1 for eid in acked if eid not in seen)
    for sid, status, location in ships:
        if (status, location) != fresh_fold(by_ship.get(sid, [])):
            rep.fold_mismatches += 1
