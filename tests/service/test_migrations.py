"""The Alembic migrations build exactly the tables the code declares, on SQLite and on
PostgreSQL, and go back down."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from parcelnet_service.db.engine import current_revision, head_revision, upgrade
from parcelnet_service.db.models import Base


def test_the_migrations_match_the_models(db):
    url, engine = db
    assert current_revision(engine) == head_revision()
    with engine.connect() as c:
        assert compare_metadata(MigrationContext.configure(c), Base.metadata) == []


def test_down_and_up_again(db):
    url, engine = db
    from parcelnet_service.db.engine import downgrade
    assert downgrade(engine, "base") is None
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert upgrade(engine) == head_revision()
    assert {"shipments", "scans", "outbox"} <= set(inspect(engine).get_table_names())
