"""Alembic's environment: migrations run on the engine the caller hands over
(:func:`parcelnet_service.db.engine.upgrade`)."""

from alembic import context

from parcelnet_service.db.models import Base

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
