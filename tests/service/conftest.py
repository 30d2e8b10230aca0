"""The service's fixtures: every test that takes ``db`` runs on the embedded SQLite file and
on a real PostgreSQL server (127.0.0.1:5432, a fresh database per test session).

PostgreSQL tests are skipped when no server answers, unless ``PARCELNET_REQUIRE_PG=1``
(as in CI), where a missing server fails them."""

from __future__ import annotations

import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("sqlalchemy")

PG_ADMIN = os.environ.get("PARCELNET_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
#: 18:20 China time on 2026-12-05: minute 1100 of the timetable's day
NOW = datetime(2026, 12, 5, 10, 20, tzinfo=timezone.utc)


@pytest.fixture(scope="session")
def pg_server():
    """A fresh PostgreSQL database for the session: its URL; dropped at the end."""
    psycopg = pytest.importorskip("psycopg")
    try:
        admin = psycopg.connect(PG_ADMIN, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        if os.environ.get("PARCELNET_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required (PARCELNET_REQUIRE_PG=1) but {PG_ADMIN} did not answer: {e}")
        pytest.skip(f"no PostgreSQL at {PG_ADMIN}")
    name = f"parcelnet_test_{uuid.uuid4().hex[:12]}"
    admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path):
    """A migrated, empty database on each backend: (url, engine). PostgreSQL's tables are
    emptied after each test."""
    from parcelnet_service.db.engine import make_engine, upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'service.db'}"
    else:
        url = request.getfixturevalue("pg_server")
    engine = make_engine(url)
    upgrade(engine)
    yield url, engine
    if request.param == "postgresql":
        empty(url)
    engine.dispose()


def empty(url: str) -> None:
    """Every table emptied, as the tables' owner (the service's role may not, and sees only
    its tenant's rows)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    from parcelnet_service.db.engine import database_url
    from parcelnet_service.db.models import Base
    owner = create_engine(database_url(url), poolclass=NullPool)
    with owner.begin() as c:
        if owner.dialect.name == "postgresql":
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            c.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        else:
            for t in reversed(Base.metadata.sorted_tables):
                c.execute(t.delete())
    owner.dispose()


@pytest.fixture(scope="session")
def router(cn_gravity):
    from parcelnet_service.shipments import Router
    return Router(cn_gravity)


class Service:
    """A test client on a fresh database with two merchants, two carriers and a platform
    tenant, each with a key (``keys[name]``: the Authorization header)."""

    def __init__(self, engine, router, clock):
        from fastapi.testclient import TestClient
        from sqlalchemy.orm import Session

        from parcelnet_service.admin import create_key, create_tenant
        from parcelnet_service.api.app import create_app

        self.engine = engine
        self.keys = {}
        with Session(engine) as s:
            for name, kind in (("shop", "merchant"), ("other-shop", "merchant"),
                               ("sf", "carrier"), ("zto", "carrier"), ("platform", "platform")):
                create_tenant(s, name, kind)
                _, key = create_key(s, name)
                self.keys[name] = {"Authorization": f"Bearer {key}"}
            s.commit()
        self.now = clock
        self.app = create_app(engine, router, clock=lambda: self.now)
        self.client = TestClient(self.app)

    def post(self, path, body, as_="shop", **headers):
        return self.client.post(path, json=body, headers={**self.keys[as_], **headers})

    def get(self, path, as_="shop"):
        return self.client.get(path, headers=self.keys[as_])


@pytest.fixture
def service(db, router):
    return Service(db[1], router, NOW)


def shipment(**over) -> dict:
    """A valid shipment body: Hangzhou to Beijing, handed to carrier 'sf'."""
    body = {"sender": {"name": "张三", "phone": "13800138000", "address": "浙江省杭州市西湖区文三路90号"},
            "recipient": {"name": "李四", "phone": "13900139000",
                          "address": "北京市朝阳区建国路88号1号楼101室"},
            "parcel": {"weight_g": 1200, "length_mm": 300, "width_mm": 200, "height_mm": 100,
                       "contents": "图书"},
            "carrier": "sf"}
    body.update(over)
    return body


@contextmanager
def serving(app):
    """``app`` on a free local port (uvicorn in a thread): its base URL."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    t = threading.Thread(target=server.run, daemon=True)
    t.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        t.join(10)


@pytest.fixture
def live(tmp_path, router):
    """The service on a free local port, with its SQLite file: (base URL, Service)."""
    from parcelnet_service.api.app import create_app
    from parcelnet_service.db.engine import make_engine, upgrade

    engine = make_engine(f"sqlite:///{tmp_path / 'web.db'}")
    upgrade(engine)
    svc = Service(engine, router, NOW)
    app = create_app(engine, router, clock=lambda: svc.now)
    with serving(app) as url:
        yield url, svc
    engine.dispose()
