"""The PostgreSQL engine's pool: an idle connection is checked before use, a busy one is not."""

from __future__ import annotations

import pytest

from parcelnet_service.db import engine as E

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def pg_engine(pg_server):
    engine = E.make_engine(pg_server)
    E.upgrade(engine)                                # as serve requires (a no-op when done)
    engine.dispose()                                 # the pool starts empty
    yield engine
    engine.dispose()


def _pid(engine) -> int:
    with engine.connect() as c:
        return c.exec_driver_sql("SELECT pg_backend_pid()").scalar()


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(pg_engine, pg_server, monkeypatch):
    monkeypatch.setattr(E, "PING_AFTER_IDLE_S", 0.0)
    first = _pid(pg_engine)                          # back in the pool, idle
    with psycopg.connect(pg_server, autocommit=True) as admin:
        assert admin.execute("SELECT pg_terminate_backend(%s)", (first,)).fetchone()[0]
    assert _pid(pg_engine) != first                  # no error reached the caller


def test_a_connection_back_within_the_idle_time_is_not_pinged(pg_engine, monkeypatch):
    pings = []
    real = pg_engine.dialect.do_ping
    monkeypatch.setattr(pg_engine.dialect, "do_ping", lambda c: pings.append(1) or real(c))
    a = _pid(pg_engine)
    assert _pid(pg_engine) == a and pings == []      # the same connection, no round trip
    monkeypatch.setattr(E, "PING_AFTER_IDLE_S", 0.0)
    assert _pid(pg_engine) == a and pings == [1]


def test_a_serving_process_fills_its_pool_before_the_first_request(pg_engine, tmp_path):
    assert pg_engine.pool.checkedin() == 0
    assert E.warm_pool(pg_engine, 3) == 3
    assert pg_engine.pool.checkedin() == 3 and pg_engine.pool.checkedout() == 0
    lite = E.make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert E.warm_pool(lite) == 0                    # nothing to fill
    lite.dispose()
