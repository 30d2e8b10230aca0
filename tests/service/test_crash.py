"""The server killed mid-load: SIGKILL while 8 clients post scans, which retry with the same
ids; afterwards no acknowledged event is lost, none is stored twice, and every status is a
fresh fold of the stored events (tests/service/crash.py; the 50,000-scan run is
``benchmarks/bench_service.py crash``, its figures in docs/benchmarks.md)."""

from __future__ import annotations

import pytest

from tests.service.crash import fresh_fold, run


def test_the_fresh_fold_stops_at_a_final_status():
    rows = [(3, "b", 1, "delivered", "S1"), (1, "a", 1, "picked_up", "S0"),
            (3, "a", 1, "arrived", "S1"), (4, "c", 1, "arrived", "S2")]
    assert fresh_fold(rows) == ("delivered", "S1")
    assert fresh_fold([]) == ("created", None)


def test_a_server_killed_mid_load_loses_and_doubles_nothing(pg_server):
    pg = pg_server.rsplit("/", 1)[0]
    rep = run(pg, events=6000, clients=8, batch=50, kill_at=(0.4,))
    assert rep.kills == 1 and len(rep.down_seconds) == 1, "the kill came after the load ended"
    assert rep.errors == [] and rep.rejected == 0
    assert rep.acknowledged == rep.events == rep.rows
    assert rep.lost == 0 and rep.duplicates == 0 and rep.content_mismatches == 0
    assert rep.fold_mismatches == 0
    assert rep.accepted + rep.duplicate_answers >= rep.events
