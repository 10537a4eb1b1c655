"""Alembic environment: migrates the database named by the service settings.

A caller may hand over an open connection (``config.attributes["connection"]``) or a URL
(``config.attributes["url"]``); otherwise the configured database is used.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from service.db.base import Base
from service.db.engine import make_engine
import service.db.tables  # noqa: F401  (registers the tables on Base.metadata)
from service.config import get_settings

config = context.config
target_metadata = Base.metadata


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    context.configure(url=config.attributes.get("url") or get_settings().resolved_database_url,
                      target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(config.attributes.get("url") or get_settings().resolved_database_url)
    try:
        with engine.connect() as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
