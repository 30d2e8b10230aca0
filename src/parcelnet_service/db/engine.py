"""Database URLs, engines and migrations.

- No URL (and no ``PARCELNET_DB``): an embedded SQLite file, ``parcelnet-service.db`` in the
  working folder, migrated on first use, so ``parcelnet serve`` works at once.
- ``postgresql://...``: PostgreSQL through psycopg 3. Its schema is changed only by
  ``parcelnet db upgrade`` (Alembic), never behind an operator's back.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from pathlib import Path

from parcelnet.errors import ParameterError

DEFAULT_URL = "sqlite:///parcelnet-service.db"
MIGRATIONS = Path(__file__).parent / "migrations"
#: the role the service acts as on PostgreSQL: it owns no table (migration 0003)
APP_ROLE = "parcelnet_app"
#: PostgreSQL connections each process opens before its first request
POOL_SIZE = 10
#: and at most, opened as bursts need them and then kept. (With SQLAlchemy's overflow, the
#: connections past the pool's size were closed as they came back: under a burst every
#: request past the tenth started and ended a PostgreSQL backend, which fed the burst.)
POOL_MAX = 30
#: a pooled PostgreSQL connection idle this long is pinged before use (seconds)
PING_AFTER_IDLE_S = 5.0
#: the session context of the service's own work (webhook sender, public lookups)
SYSTEM = {"kind": "system"}


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
    from sqlalchemy import create_engine, event, exc

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
    # the most recently returned connection is taken first (LIFO): under a steady load the
    # same few connections serve, and their backends' caches and prepared statements stay
    # warm; the rest wait for bursts
    engine = create_engine(url, pool_size=POOL_MAX, max_overflow=0, pool_use_lifo=True, **kw)

    # A pooled connection is pinged only when it has been idle for a while: one that a
    # restarted server or a firewall dropped is replaced before use, and under load, when
    # connections come back within milliseconds, no request pays a round trip for it
    # (SQLAlchemy's pool_pre_ping pings at every checkout: two of a tracking read's ten
    # round trips)
    @event.listens_for(engine, "checkin")
    def _idle_since(dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as e:     # the pool replaces it and retries
            raise exc.DisconnectionError(f"an idle pooled connection was lost: {e}") from e

    @event.listens_for(engine, "connect")
    def _act_as_app(dbapi_conn, _):
        # act as the role that owns nothing, so row-level security applies; before the
        # migration that creates it there is nothing to protect yet
        cur = dbapi_conn.cursor()
        cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (APP_ROLE,))
        if cur.fetchone():
            cur.execute(f"SET ROLE {APP_ROLE}")
        cur.close()
        dbapi_conn.commit()
    return engine


def warm_pool(engine, n: int = POOL_SIZE) -> int:
    """Open ``n`` pooled connections at once and put them back: a serving process's first
    burst of requests finds them ready instead of each opening its own. On PostgreSQL a new
    connection costs a backend's start, a role switch and its first look at the tables'
    catalog; a read benchmark's first half second waited on them (docs/benchmarks.md).
    Returns how many were opened (SQLite: none, it has no pool to fill)."""
    if engine.dialect.name != "postgresql":
        return 0
    from parcelnet_service.db.models import Base

    # each table's plan: the backend reads the table's and its indexes' catalog entries now
    looks = [f'SELECT 1 FROM "{t.name}" LIMIT 0' for t in Base.metadata.sorted_tables]
    conns = []
    try:
        for _ in range(n):
            conns.append(engine.connect())
            for q in looks:
                conns[-1].exec_driver_sql(q)
    finally:
        for c in conns:
            c.close()
    return len(conns)


def _tenant_context(session, transaction, connection) -> None:
    """Every transaction on PostgreSQL carries its tenant for row-level security: the
    session's ``info`` (``tenant_id``, ``kind``), local to the transaction."""
    if connection.dialect.name != "postgresql" or transaction.nested:
        return
    info = session.info
    connection.exec_driver_sql(
        "SELECT set_config('app.tenant_id', %(t)s, true), set_config('app.kind', %(k)s, true)",
        {"t": "" if info.get("tenant_id") is None else str(int(info["tenant_id"])),
         "k": str(info.get("kind") or "")})


def plan_for_values(session) -> None:
    """Plan the rest of this transaction's statements for their values, never with the
    generic plan PostgreSQL settles on for a prepared statement (after its fifth run on a
    connection). For an aggregate over a tenant's shipments (the map's volumes, the
    exceptions) the generic plan guessed one row where two million match, and sorted them
    on disk instead of hashing them: twice the time (docs/benchmarks.md). Nothing on SQLite."""
    if session.bind.dialect.name == "postgresql":
        session.connection().exec_driver_sql("SET LOCAL plan_cache_mode = force_custom_plan")


def elevate(session) -> None:
    """From here to the end of the transaction, the service's own work: the fold of a
    carrier's scans notifies the merchant, whose webhooks the carrier may not see."""
    if session.bind.dialect.name == "postgresql":
        session.connection().exec_driver_sql("SELECT set_config('app.kind', 'system', true)")


class Sessions:
    """Sessions that carry a tenant context (a dict with ``tenant_id`` and ``kind``)."""

    def __init__(self, engine):
        from sqlalchemy.orm import sessionmaker
        self.engine = engine
        self.maker = sessionmaker(engine, expire_on_commit=False)

    def __call__(self, ctx: dict | None = None):
        return self.maker(info=dict(ctx or {}))

    @contextmanager
    def begin(self, ctx: dict | None = None):
        with self.maker(info=dict(ctx or {})) as s, s.begin():
            yield s

    def read(self, ctx: dict | None = None):
        """A session for reading: as :meth:`begin`, its transaction ends with COMMIT (an
        exception rolls it back). A plain session's close ends it with ROLLBACK, and at
        every ROLLBACK psycopg forgets the connection's prepared statements (a rolled-back
        transaction may have dropped what they name): every statement of every read was
        parsed and planned afresh, the tracking read's plan taking three times its run
        (docs/benchmarks.md)."""
        return self.begin(ctx)


def _install() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    if not event.contains(Session, "after_begin", _tenant_context):
        event.listen(Session, "after_begin", _tenant_context)


def _alembic_config(engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


@contextmanager
def _owner(engine):
    """An engine on the same database as the login role (not acting as the service's role),
    pooled nowhere; the service's engine drops its pooled connections afterwards."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    owner = create_engine(engine.url, poolclass=NullPool)
    try:
        yield owner
    finally:
        owner.dispose()


def upgrade(engine, revision: str = "head") -> str | None:
    """Apply the migrations up to ``revision``, as the login role (which then owns the
    tables), never as the service's role; returns the revision the database is at. The
    engine's pooled connections are dropped, so they act as the service's role from now."""
    from alembic import command

    with _owner(engine) as owner:
        command.upgrade(_alembic_config(owner), revision)
    engine.dispose()
    return current_revision(engine)


def downgrade(engine, revision: str) -> str | None:
    """Undo migrations down to ``revision`` (``base``: all), as :func:`upgrade` runs them."""
    from alembic import command

    with _owner(engine) as owner:
        command.downgrade(_alembic_config(owner), revision)
    engine.dispose()
    return current_revision(engine)


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine) -> str | None:
    """The schema revision, read as the login role (the service's role may not read it
    once a downgrade took its grants away)."""
    from alembic.runtime.migration import MigrationContext

    with _owner(engine) as owner, owner.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def require_current(engine, url: str) -> None:
    """Refuse to run on a schema that is not the code's: name the command that fixes it."""
    at, head = current_revision(engine), head_revision()
    if at != head:
        raise ParameterError(f"the database {redact(url)} is at schema revision {at or 'none'}, "
                             f"this parcelnet needs {head}: run 'parcelnet db upgrade --db URL'")


_install()
