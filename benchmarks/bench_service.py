"""The operations service against plain PostgreSQL on the same machine (docs/benchmarks.md).

    python benchmarks/bench_service.py ingest [--events 100000] [--clients 8] [--workers 1]
    python benchmarks/bench_service.py reads [--events 10000000] [--rate 200] [--seconds 30]
    python benchmarks/bench_service.py crash [--events 50000] [--clients 8] [--kill-at 0.3,0.7]
    python benchmarks/bench_service.py storm [--events 10000] [--copies 5] [--clients 8]

``ingest``: the same scan table (columns, unique key and index as the service's ``scans``)
filled by plain PostgreSQL three ways: single-row INSERTs (one transaction each, as a
naive client commits), 500-row batch INSERTs (executemany in a transaction of 500), and
COPY. Then the service (``parcelnet serve`` in its own process, on a fresh database) takes
the same number of events through its HTTP API, in batches of 1,000 from ``--clients``
threads: validation, idempotency, the status fold, re-promise and the outbox included.
Reported: rows a second each, and the API's ratio to each baseline (goals: at least 25% of
the batch INSERT, at least 5x the single-row INSERT).

``reads``: ``--events`` scan rows (5 per shipment, loaded with COPY, as carriers would have
posted them), then ``GET /v1/track/{waybill}`` for random waybills at ``--rate`` a second for
``--seconds``, after ``--warmup`` seconds at the same rate whose reads are reported apart
(the client threads and connections start, each server process takes its first requests):
latency percentiles (goal: p99 under 50 ms at 200 a second), the slowest read of the first
quarter second, and the CPU a read cost the server's processes and PostgreSQL's (from
/proc, over the whole run). Freshness: a
scan posted, then tracked until it shows, 200 times: p50 and p99 of the time from the
POST's answer to its visibility (goal: p99 under 1 s), and the same for the map's volumes.

``crash``: the server killed mid-load (tests/service/crash.py): SIGKILL at each
``--kill-at`` share of the events acknowledged while ``--clients`` threads post them in
batches, a new server on the same port, clients retrying with the same ids; then acknowledged
events lost, rows doubled and statuses that differ from a fresh fold of the stored events
(goal: 0, 0 and 0).

``storm``: a duplicate storm (tests/service/storm.py): every one of ``--events`` scan events
posted ``--copies`` times, shuffled, in batches from ``--clients`` threads; then rows,
doubled rows, content and fold mismatches (goal: exactly ``--events`` rows, 0, 0, 0); then
the same events once in reverse order on a fresh database, and the shipments whose final
status, location, status time or promise differ (goal: 0).

All need a PostgreSQL server (``--pg``, default postgresql://postgres@127.0.0.1:5432) and
create, then drop, their own databases.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from pathlib import Path

import numpy as np
import psycopg

from parcelnet_service.replay import Client

CST = timezone(timedelta(hours=8))
#: three days ago (CST midnight): the service refuses scans in its future or over 90 days old
DAY0 = datetime.now(CST).replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=3)
BASELINE_DDL = """
CREATE TABLE scans_plain (
    id bigserial PRIMARY KEY, carrier_id bigint NOT NULL, event_id varchar(64) NOT NULL,
    waybill_id bigint NOT NULL, shipment_id bigint NOT NULL, type varchar(24) NOT NULL,
    facility varchar(32) NOT NULL, trip varchar(64), event_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL, hash varchar(64) NOT NULL,
    UNIQUE (carrier_id, event_id));
CREATE INDEX ON scans_plain (shipment_id, event_at);
"""
COLS = ("carrier_id", "event_id", "waybill_id", "shipment_id", "type", "facility", "trip",
        "event_at", "received_at", "hash")
JOURNEY = (("picked_up", "S330106", 1110), ("departed", "S330106", 1140), ("arrived", "C3301", 1230),
           ("departed", "C3301", 1400), ("arrived", "C1100", 1550))


def fresh_db(pg: str) -> str:
    name = f"parcelnet_bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    return name


def drop_db(pg: str, name: str) -> None:
    with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
        c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rows(n: int):
    now = datetime.now(timezone.utc)
    for i in range(n):
        t, f, m = JOURNEY[i % 5]
        yield (1, f"e{i}", i // 5 + 1, i // 5 + 1, t, f, None, DAY0 + timedelta(minutes=m), now,
               f"{i:064x}")


def baselines(pg: str, n: int) -> dict:
    name = fresh_db(pg)
    out = {}
    try:
        with psycopg.connect(f"{pg}/{name}", autocommit=True) as c:
            c.execute(BASELINE_DDL)
            ins = f"INSERT INTO scans_plain ({', '.join(COLS)}) VALUES ({', '.join(['%s'] * len(COLS))})"
            k = min(n, 20_000)                       # single rows are slow: a sample
            data = list(rows(k))
            t = time.perf_counter()
            for r in data:
                c.execute(ins, r)                    # autocommit: one transaction each
            out["single_row_insert"] = k / (time.perf_counter() - t)
            c.execute("TRUNCATE scans_plain")
            data = list(rows(n))
            t = time.perf_counter()
            with c.cursor() as cur:
                for i in range(0, n, 500):
                    with c.transaction():
                        cur.executemany(ins, data[i:i + 500])
            out["batch_insert_500"] = n / (time.perf_counter() - t)
            c.execute("TRUNCATE scans_plain")
            t = time.perf_counter()
            with c.cursor() as cur, cur.copy(f"COPY scans_plain ({', '.join(COLS)}) FROM STDIN") as cp:
                for r in data:
                    cp.write_row(r)
            out["copy"] = n / (time.perf_counter() - t)
    finally:
        drop_db(pg, name)
    return {k: round(v) for k, v in out.items()}


class Server:
    """``parcelnet serve`` in its own process on a fresh database, with a merchant and a
    carrier."""

    def __init__(self, pg: str, workers: int = 1, rate_limit: str | None = None):
        self.pg, self.name = pg, fresh_db(pg)
        self.url_db = f"{pg}/{self.name}"
        cli = [sys.executable, "-m", "parcelnet.cli"]
        run = lambda *a: subprocess.run(cli + list(a) + ["--db", self.url_db], check=True,  # noqa: E731
                                        capture_output=True, text=True).stdout.strip()
        run("db", "upgrade")
        run("admin", "tenant", "create", "--name", "shop", "--kind", "merchant")
        run("admin", "tenant", "create", "--name", "sf", "--kind", "carrier")
        self.merchant = run("admin", "key", "create", "--tenant", "shop")
        self.carrier = run("admin", "key", "create", "--tenant", "sf")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen(cli + ["serve", "--db", self.url_db, "--port", str(self.port),
                                            "--workers", str(workers)]
                                     + (["--rate-limit", rate_limit] if rate_limit else []),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 180
        while time.time() < deadline:
            try:
                urllib.request.urlopen(self.url + "/healthz", timeout=2)
                return
            except OSError:
                time.sleep(0.5)
        raise RuntimeError("the service did not start")

    def call(self, key: str, method: str, path: str, body=None) -> dict:
        return Client(self.url, key, timeout=300).call(method, path, body)

    def close(self):
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        drop_db(self.pg, self.name)


def shipments(srv: Server, n: int) -> list[str]:
    body = {"sender": {"name": "张三", "phone": "13800138000", "address": "浙江省杭州市西湖区文三路90号"},
            "recipient": {"name": "李四", "phone": "13900139000", "address": "北京市朝阳区建国路88号1号楼101室"},
            "parcel": {"weight_g": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100, "contents": "书"},
            "carrier": "sf", "created_at": (DAY0 + timedelta(minutes=1100)).isoformat()}
    out = []
    for i in range(0, n, 1000):
        r = srv.call(srv.merchant, "POST", "/v1/shipments/batch", {"shipments": [body] * min(1000, n - i)})
        out += [x["shipment"]["waybill"] for x in r["results"]]
    return out


def ingest(a) -> None:
    base = baselines(a.pg, a.events)
    print(json.dumps({"baseline_rows_per_second": base}), flush=True)
    srv = Server(a.pg, a.workers)
    try:
        t = time.perf_counter()
        bills = shipments(srv, a.events // 5)
        made = time.perf_counter() - t
        with psycopg.connect(srv.url_db, autocommit=True) as c:
            c.execute("ANALYZE")          # as autovacuum would have by now on a live database
        evs = [{"event_id": f"e{i}", "waybill": bills[i // 5], "type": JOURNEY[i % 5][0],
                "facility": JOURNEY[i % 5][1], "at": (DAY0 + timedelta(minutes=JOURNEY[i % 5][2])).isoformat()}
               for i in range(len(bills) * 5)]
        # batches of 1,000 in time order of their journeys, shared out among the clients
        batches = [evs[i:i + 1000] for i in range(0, len(evs), 1000)]
        cpu0, own0 = cpu_seconds(srv.proc.pid), time.process_time()
        t = time.perf_counter()
        with ThreadPoolExecutor(a.clients) as pool:
            res = list(pool.map(lambda b: srv.call(srv.carrier, "POST", "/v1/scans", {"events": b}), batches))
        dt = time.perf_counter() - t
        server_cpu, pg_cpu = cpu_used(cpu0, cpu_seconds(srv.proc.pid))
        client_cpu = time.process_time() - own0
        accepted = sum(r["accepted"] for r in res)
        api = len(evs) / dt
        print(json.dumps({"shipments": len(bills), "shipments_per_second": round(len(bills) / made),
                          "events": len(evs), "accepted": accepted, "clients": a.clients,
                          "workers": a.workers,
                          "api_events_per_second": round(api),
                          "ratio_to_batch_insert": round(api / base["batch_insert_500"], 3),
                          "ratio_to_single_row_insert": round(api / base["single_row_insert"], 2),
                          "ratio_to_copy": round(api / base["copy"], 3),
                          "seconds": round(dt, 2),
                          # CPU seconds in the timed window: the server's processes,
                          # PostgreSQL's, and this load generator's own (on the same cores)
                          "cpu_seconds": {"server": round(server_cpu, 2), "postgres": round(pg_cpu, 2),
                                          "clients": round(client_cpu, 2)}}), flush=True)
    finally:
        srv.close()


def cpu_seconds(root_pid: int) -> dict[int, tuple[bool, float]]:
    """Each process's CPU seconds (user and system) from /proc: pid -> (is it in
    ``root_pid``'s process tree, a PostgreSQL process otherwise?, seconds)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                st = open(f"/proc/{d}/stat").read()
            except OSError:
                continue
            f = st[st.rindex(")") + 2:].split()
            procs[int(d)] = (st[st.index("(") + 1:st.rindex(")")], int(f[1]), (int(f[11]) + int(f[12])) / tick)
    tree, grew = {root_pid}, True
    while grew:
        grew = False
        for pid, (_, parent, _) in procs.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: (pid in tree, c) for pid, (name, _, c) in procs.items()
            if pid in tree or name.startswith("postgres")}


def cpu_used(before: dict, after: dict) -> tuple[float, float]:
    """CPU seconds between two :func:`cpu_seconds`, of the server's processes and of
    PostgreSQL's, over the processes alive at both."""
    server = sum(c - before[p][1] for p, (mine, c) in after.items() if p in before and mine)
    pg = sum(c - before[p][1] for p, (mine, c) in after.items() if p in before and not mine)
    return server, pg


def reads(a) -> None:
    # the key's rate limit well above the rate asked for: measured is the service, not its limiter
    srv = Server(a.pg, a.workers, rate_limit=f"{10 * a.rate:g},{int(10 * a.rate)}")
    try:
        n_ship = max(1, a.events // 5)
        bills = shipments(srv, min(n_ship, 2000))      # real shipments through the API ...
        # ... and the rest loaded directly, as if carriers had posted them for years
        with psycopg.connect(srv.url_db) as c:
            sid = c.execute("SELECT max(id) FROM shipments").fetchone()[0]
            carrier = c.execute("SELECT id FROM tenants WHERE name = 'sf'").fetchone()[0]
            tmpl = c.execute("SELECT * FROM shipments WHERE id = %s", (sid,)).fetchone()
            cols = [d.name for d in c.execute("SELECT * FROM shipments LIMIT 0").description]
            extra = n_ship - len(bills)
            t = time.perf_counter()
            if extra > 0:
                keep = [x for x in cols if x not in ("id", "waybill")]
                with c.cursor().copy(f"COPY shipments ({', '.join(keep)}) FROM STDIN") as cp:
                    row = [tmpl[cols.index(x)] for x in keep]
                    for _ in range(extra):
                        cp.write_row(row)
            c.execute("INSERT INTO waybills (shipment_id, piece, weight_g) SELECT id, 0, 1200 FROM shipments "
                      "WHERE id NOT IN (SELECT shipment_id FROM waybills)")
            now = datetime.now(timezone.utc)
            ids = c.execute("SELECT id, shipment_id FROM waybills WHERE piece = 0 AND id NOT IN "
                            "(SELECT waybill_id FROM scans)").fetchall()
            with c.cursor().copy(f"COPY scans ({', '.join(COLS)}) FROM STDIN") as cp:
                for k, (w, s) in enumerate(ids):
                    for j, (ty, f, m) in enumerate(JOURNEY):
                        cp.write_row((carrier, f"L{k}-{j}", w, s, ty, f, None, DAY0 + timedelta(minutes=m),
                                      now, f"{k:058x}{j:06x}"))
            c.commit()
            # what autovacuum does to a live server's tables (this machine runs with it off):
            # statistics, and the rows' visibility settled once (else the first reads of each
            # page after a bulk load write it back); then the dirty pages written out, not by
            # a checkpoint in the middle of the reads
            c.autocommit = True
            c.execute("VACUUM ANALYZE")
            total = c.execute("SELECT count(*) FROM scans").fetchone()[0]
            c.execute("CHECKPOINT")
        print(json.dumps({"events_stored": total, "load_seconds": round(time.perf_counter() - t, 1)}), flush=True)
        # the load generator's own garbage collector must not pause its clients: the 2 M
        # waybill ids of the load are dropped, and what is left is collected once and frozen
        del ids
        gc.collect()
        gc.freeze()
        lat, failed, stale, lock = [], [], [], threading.Lock()
        local = threading.local()
        auth = {"Authorization": f"Bearer {srv.merchant}"}

        def get(wb):
            if getattr(local, "conn", None) is None:
                local.conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
            local.conn.request("GET", f"/v1/track/{wb}", headers=auth)
            r = local.conn.getresponse()
            return r.status, r.read()

        def one(wb, t0):
            # latency counts from the request's due time, so a request that waited for a free
            # client thread counts its wait (no coordinated omission). Each client thread
            # keeps its HTTP/1.1 connection open, as a real client does, and as real clients
            # (urllib3, browsers) do, sends a GET once more on a new connection when a kept
            # one turns out closed before any answer: the server closes connections idle for
            # 5 s (uvicorn's keep-alive timeout), and a pool thread may sit idle that long.
            # Such retries are counted, and their time is in the read's latency
            try:
                reused = getattr(local, "conn", None) is not None
                try:
                    status, body = get(wb)
                except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                    if not reused:
                        raise
                    local.conn.close()
                    local.conn = None
                    with lock:
                        stale.append(1)
                    status, body = get(wb)
                if status != 200:
                    raise RuntimeError(f"HTTP {status}: {body[:100]!r}")
            except Exception as e:      # counted and reported: a failed read is not a fast one
                local.conn = None
                with lock:
                    failed.append(str(e)[:120])
                return
            with lock:
                lat.append((t0, time.perf_counter() - t0))

        rng = random.Random(1)
        # the first --warmup seconds at the same rate are reported apart: the client threads
        # and their connections start, and each server process takes its first requests
        with ThreadPoolExecutor(32) as pool:
            cpu0 = cpu_seconds(srv.proc.pid)
            start = time.perf_counter()
            k = 0
            while time.perf_counter() - start < a.warmup + a.seconds:
                due = start + k / a.rate
                if due > time.perf_counter():
                    time.sleep(max(0.0, due - time.perf_counter()))   # the clock may pass due meanwhile
                pool.submit(one, rng.choice(bills), max(due, start))
                k += 1
        server_cpu, pg_cpu = cpu_used(cpu0, cpu_seconds(srv.proc.pid))
        t0s = np.array([x[0] for x in lat]) - start
        ms = np.array([x[1] for x in lat]) * 1000
        first = ms[t0s < 0.25]
        warm, ms = ms[t0s < a.warmup], ms[t0s >= a.warmup]
        print(json.dumps({"reads": len(ms), "failed": len(failed), "first_failure": failed[:1],
                          "retried_on_a_closed_connection": len(stale),
                          "asked": k, "rate": a.rate, "workers": a.workers,
                          "p50_ms": round(float(np.percentile(ms, 50)), 1),
                          "p99_ms": round(float(np.percentile(ms, 99)), 1),
                          "max_ms": round(float(ms.max()), 1),
                          "warmup_seconds": a.warmup, "warmup_reads": len(warm),
                          "warmup_p99_ms": round(float(np.percentile(warm, 99)), 1) if len(warm) else None,
                          "warmup_max_ms": round(float(warm.max()), 1) if len(warm) else None,
                          "first_quarter_second_max_ms": round(float(first.max()), 1) if len(first) else None,
                          # CPU a read, warm-up included: the server's processes, PostgreSQL's
                          "server_cpu_ms_per_read": round(server_cpu * 1000 / k, 2),
                          "postgres_cpu_ms_per_read": round(pg_cpu * 1000 / k, 2)}),
              flush=True)
        fresh, fresh_map = [], []
        for i in range(200):
            wb = bills[i % len(bills)]
            ev = {"event_id": f"F{i}", "waybill": wb, "type": "arrived", "facility": "S110105",
                  "at": (DAY0 + timedelta(minutes=2000 + i)).isoformat()}
            srv.call(srv.carrier, "POST", "/v1/scans", {"events": [ev]})
            t0 = time.perf_counter()
            while not any(e["event_id"] == f"F{i}" for e in srv.call(srv.merchant, "GET", f"/v1/track/{wb}")["events"]):
                pass
            fresh.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            while "S110105" not in srv.call(srv.merchant, "GET", "/v1/map/volumes")["volumes"]:
                pass
            fresh_map.append(time.perf_counter() - t0)
        f, fm = np.array(fresh) * 1000, np.array(fresh_map) * 1000
        print(json.dumps({"freshness_track_p50_ms": round(float(np.percentile(f, 50)), 1),
                          "freshness_track_p99_ms": round(float(np.percentile(f, 99)), 1),
                          "freshness_map_p99_ms": round(float(np.percentile(fm, 99)), 1)}), flush=True)
    finally:
        srv.close()


def crash(a) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))      # tests.service.crash
    from tests.service.crash import run

    kill_at = tuple(float(x) for x in a.kill_at.split(","))
    rep = run(a.pg, events=a.events, clients=a.clients, batch=a.batch, kill_at=kill_at)
    print(json.dumps(rep.to_dict()), flush=True)


def storm(a) -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))      # tests.service.storm
    from tests.service.storm import run

    rep = run(a.pg, events=a.events, copies=a.copies, clients=a.clients, batch=a.batch)
    print(json.dumps(rep.to_dict()), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="what", required=True)
    i = sub.add_parser("ingest")
    i.add_argument("--events", type=int, default=100_000)
    i.add_argument("--clients", type=int, default=8)
    i.add_argument("--workers", type=int, default=1, help="server processes")
    r = sub.add_parser("reads")
    r.add_argument("--events", type=int, default=10_000_000)
    r.add_argument("--rate", type=float, default=200)
    r.add_argument("--seconds", type=float, default=30)
    r.add_argument("--warmup", type=float, default=2.0,
                   help="seconds at the same rate first, reported apart (0: none)")
    r.add_argument("--workers", type=int, default=1, help="server processes")
    k = sub.add_parser("crash")
    k.add_argument("--events", type=int, default=50_000)
    k.add_argument("--clients", type=int, default=8)
    k.add_argument("--batch", type=int, default=100)
    k.add_argument("--kill-at", default="0.3,0.7", help="acknowledged shares at which to SIGKILL")
    d = sub.add_parser("storm")
    d.add_argument("--events", type=int, default=10_000)
    d.add_argument("--copies", type=int, default=5, help="times each event is posted")
    d.add_argument("--clients", type=int, default=8)
    d.add_argument("--batch", type=int, default=100)
    for p in (i, r, k, d):
        p.add_argument("--pg", default=os.environ.get("PARCELNET_BENCH_PG", "postgresql://postgres@127.0.0.1:5432"))
    a = ap.parse_args()
    {"ingest": ingest, "reads": reads, "crash": crash, "storm": storm}[a.what](a)


if __name__ == "__main__":
    main()
