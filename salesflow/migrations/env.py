"""Alembic environment: runs the migration scripts against the configured database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

config = context.config


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url")
    # A server that does not answer is reported within seconds, not after TCP gives up.
    connect_args = {"connect_timeout": 10} if url.startswith("postgresql") else {}
    engine = create_engine(url, poolclass=pool.NullPool, connect_args=connect_args)
    with engine.connect() as connection:
        context.configure(
            connection=connection, render_as_batch=connection.dialect.name == "sqlite"
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
