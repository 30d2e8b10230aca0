"""A duplicate storm, then the same events in reverse order (issue 18, section 7), for
tests/service/test_crash.py and ``benchmarks/bench_service.py storm``.

On a fresh PostgreSQL database, ``parcelnet serve`` in its own process takes shipments and
then every scan event ``copies`` times, shuffled, in batches from ``clients`` threads (one
connection each). Read straight from the database afterwards (tests/service/crash.py's
checks, apart from the service's code): rows (must equal the events), rows beyond one per
(carrier, event id), rows whose content differs from what was posted, statuses that differ
from a fresh fold of the stored events.

Then a second fresh database takes the same shipments and the same events once, in reverse
order, in batches from one client. Every shipment must end in the same status, location,
status time and promise as after the storm.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass, field

from tests.service.crash import (ROUTE, _Analyzer, _check, _post, _Server, create_shipments,
                                 fresh_database, journeys, three_days_ago)


@dataclass
class StormReport:
    events: int
    copies: int
    clients: int
    batch: int
    shipments: int = 0
    posted: int = 0
    accepted: int = 0
    duplicate_answers: int = 0
    rejected: int = 0
    rows: int = 0
    lost: int = 0
    duplicates: int = 0
    content_mismatches: int = 0
    fold_mismatches: int = 0
    reverse_mismatches: int = 0
    promise_versions_storm: int = 0
    promise_versions_reversed: int = 0
    storm_seconds: float = 0.0
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = dict(self.__dict__)
        d["storm_seconds"] = round(self.storm_seconds, 2)
        d["seconds"] = round(self.seconds, 1)
        d["errors"] = self.errors[:5]
        return d


def _states(url: str, bills: list[str]) -> tuple[list[tuple], int]:
    """Each shipment's (status, location, status time, promise), in ``bills``' order, and
    the number of promise versions stored, read by plain SQL."""
    import psycopg

    with psycopg.connect(url) as c:
        got = {r[0]: r[1:] for r in c.execute(
            "SELECT waybill, status, location, status_at, promise_at FROM shipments")}
        versions = c.execute("SELECT count(*) FROM promises").fetchone()[0]
    return [got[b] for b in bills], versions


def run(pg: str, events: int = 10_000, copies: int = 5, clients: int = 8, batch: int = 100,
        seed: int = 2, log=None) -> StormReport:
    """The storm, the reversed replay and the checks (module docs), on fresh databases of
    the PostgreSQL server ``pg`` (``postgresql://user@host:port``), dropped afterwards."""
    import subprocess

    import psycopg

    log = subprocess.DEVNULL if log is None else log
    rep = StormReport(events, copies, clients, batch)
    started = time.perf_counter()
    made = []
    day0 = three_days_ago()
    try:
        made.append(f"parcelnet_storm_{uuid.uuid4().hex[:8]}")
        url, merchant, carrier = fresh_database(pg, made[-1])
        srv = _Server(url, None, log)
        srv.start()
        try:
            bills = create_shipments(srv.url, merchant, max(1, events // len(ROUTE)), day0)
            _Analyzer(url).stop()                     # statistics, as autovacuum would have
            evs = journeys(bills, day0, seed)[:events]
            rep.events, rep.shipments = len(evs), len(bills)
            storm = evs * copies
            random.Random(seed).shuffle(storm)
            batches = [storm[k:k + batch] for k in range(0, len(storm), batch)]
            rep.posted = len(storm)
            lock = threading.Lock()

            def client(mine: list[list[dict]]) -> None:
                for part in mine:
                    code, r = _post(srv.url, carrier, "/v1/scans", {"events": part})
                    with lock:
                        if code != 200:
                            rep.errors.append(f"HTTP {code} on a batch")
                            continue
                        for res in r["results"]:
                            rep.accepted += res["status"] == "accepted"
                            rep.duplicate_answers += res["status"] == "duplicate"
                            rep.rejected += res["status"] == "rejected"
                            if res["status"] == "rejected":
                                rep.errors.append(res.get("error", ""))

            t = time.perf_counter()
            threads = [threading.Thread(target=client, args=(batches[c::clients],)) for c in range(clients)]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            rep.storm_seconds = time.perf_counter() - t
        finally:
            srv.stop()
        _check(url, evs, {e["event_id"]: e["waybill"] for e in evs}, rep)
        storm_states, rep.promise_versions_storm = _states(url, bills)

        # the same shipments and events once, newest first, on a fresh database
        made.append(f"parcelnet_storm_{uuid.uuid4().hex[:8]}")
        url2, merchant2, carrier2 = fresh_database(pg, made[-1])
        srv = _Server(url2, None, log)
        srv.start()
        try:
            bills2 = create_shipments(srv.url, merchant2, len(bills), day0)
            _Analyzer(url2).stop()
            to2 = dict(zip(bills, bills2))
            back = [{**e, "waybill": to2[e["waybill"]]} for e in reversed(evs)]
            for k in range(0, len(back), batch):
                code, r = _post(srv.url, carrier2, "/v1/scans", {"events": back[k:k + batch]})
                if code != 200 or r["rejected"]:
                    rep.errors.append(f"reversed: HTTP {code}")
        finally:
            srv.stop()
        rev_states, rep.promise_versions_reversed = _states(url2, bills2)
        rep.reverse_mismatches = sum(a != b for a, b in zip(storm_states, rev_states))
        rep.seconds = time.perf_counter() - started
        return rep
    finally:
        with psycopg.connect(f"{pg}/postgres", autocommit=True) as c:
            for n in made:
                c.execute(f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)')
