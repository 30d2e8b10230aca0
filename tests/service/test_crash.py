"""The server killed mid-load: SIGKILL while 8 clients post scans, which retry with the same
ids; afterwards no acknowledged event is lost, none is stored twice, and every status is a
fresh fold of the stored events (tests/service/crash.py; the 50,000-scan run is
``benchmarks/bench_service.py crash``, its figures in docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from tests.service.crash import fresh_fold, run
from tests.service.storm import run as storm


def test_the_fresh_fold_stops_at_a_final_status():
    rows = [(3, "b", 1, "delivered", "S1"), (1, "a", 1, "picked_up", "S0"),
            (3, "a", 1, "arrived", "S1"), (4, "c", 1, "arrived", "S2")]
    assert fresh_fold(rows) == ("delivered", "S1")
    assert fresh_fold([]) == ("created", None)


@pytest.mark.long
def test_a_server_killed_mid_load_loses_and_doubles_nothing(pg_server):
    pg = pg_server.rsplit("/", 1)[0]
    rep = run(pg, events=6000, clients=8, batch=50, kill_at=(0.4,))
    assert rep.kills == 1 and len(rep.down_seconds) == 1, "the kill came after the load ended"
    assert rep.errors == [] and rep.rejected == 0
    assert rep.acknowledged == rep.events == rep.rows
    assert rep.lost == 0 and rep.duplicates == 0 and rep.content_mismatches == 0
    assert rep.fold_mismatches == 0
    assert rep.accepted + rep.duplicate_answers >= rep.events


@pytest.mark.long
def test_a_duplicate_storm_stores_each_event_once_and_reversed_ends_the_same(pg_server):
    """Every event five times, shuffled, over 8 connections: exactly one row each; the same
    events once in reverse order, on a fresh database: the same final states and promises
    (the 10,000-event run is ``benchmarks/bench_service.py storm``)."""
    pg = pg_server.rsplit("/", 1)[0]
    rep = storm(pg, events=2000, copies=5, clients=8, batch=100)
    assert rep.errors == [] and rep.rejected == 0
    assert rep.posted == 5 * rep.events and rep.accepted == rep.events == rep.rows
    assert rep.duplicate_answers == 4 * rep.events
    assert rep.duplicates == 0 and rep.content_mismatches == 0 and rep.fold_mismatches == 0
    assert rep.reverse_mismatches == 0
    # some shipments fell behind and were promised again, so the promises compared moved
    assert rep.promise_versions_storm > rep.shipments and rep.promise_versions_reversed > rep.shipments
