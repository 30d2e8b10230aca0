"""Database URLs, engines and migrations.

- No URL (and no ``PARCELNET_DB``): an embedded SQLite file, ``parcelnet-service.db`` in the
  working folder, migrated on first use, so ``parcelnet serve`` works at once.
- ``postgresql://...``: PostgreSQL through psycopg 3. Its schema is changed only by
  ``parcelnet db upgrade`` (Alembic), never behind an operator's back.
"""

from __future__ import annotations

import os
from pathlib import Path

from parcelnet.errors import ParameterError

DEFAULT_URL = "sqlite:///parcelnet-service.db"
MIGRATIONS = Path(__file__).parent / "migrations"


def database_url(url: str | None = None) -> str:
    """The URL to use: ``url``, else ``PARCELNET_DB``, else the embedded SQLite file; a
    plain ``postgresql://`` URL goes through psycopg 3."""
    url = (url or os.environ.get("PARCELNET_DB") or DEFAULT_URL).strip()
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain):]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql+psycopg://")):
        raise ParameterError(f"database URL '{redact(url)}': use sqlite:///FILE or "
                             "postgresql://USER@HOST:PORT/DB")
    return url


def redact(url: str) -> str:
    """The URL without its password, for messages and logs."""
    head, sep, tail = url.partition("://")
    if "@" in tail and ":" in tail.split("@", 1)[0]:
        user = tail.split("@", 1)[0].split(":", 1)[0]
        return f"{head}{sep}{user}:***@{tail.split('@', 1)[1]}"
    return url


def is_sqlite(url: str) -> bool:
    return database_url(url).startswith("sqlite")


def make_engine(url: str | None = None, **kw):
    """A SQLAlchemy engine for the URL (see :func:`database_url`). SQLite gets foreign keys
    enforced, write-ahead logging, a busy timeout and transactions that take the write lock
    when they begin, so the API's threads share the file by waiting, never failing."""
    from sqlalchemy import create_engine, event

    url = database_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **kw)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn, _):
            dbapi_conn.isolation_level = None       # transactions are begun below
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _begin(conn):
            # take the write lock at the start: a deferred transaction that reads, then
            # writes, fails at once with "database is locked" when another writer got in
            # between (the busy timeout cannot help it); an immediate one waits its turn
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20, **kw)


def _alembic_config(engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine, revision: str = "head") -> str | None:
    """Apply the migrations up to ``revision``; returns the revision the database is at."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)
    return current_revision(engine)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current(engine, url: str) -> None:
    """Refuse to run on a schema that is not the code's: name the command that fixes it."""
    at, head = current_revision(engine), head_revision()
    if at != head:
        raise ParameterError(f"the database {redact(url)} is at schema revision {at or 'none'}, "
                             f"this parcelnet needs {head}: run 'parcelnet db upgrade --db URL'")
