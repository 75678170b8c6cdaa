"""Does the migrated database match the models? One check every service's tests share."""

from __future__ import annotations

from collections.abc import Iterable

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, Table, create_engine

from salesflow.core.db import sync_url


def schema_differences(database_url: str, tables: Iterable[Table]) -> list:
    """Alembic's differences between the migrated database and these tables, theirs only.

    The database holds every service's tables; alembic reports the others as removals, so
    only differences that name one of the given tables are kept.
    """
    ours = MetaData()
    for table in tables:
        table.to_metadata(ours)
    names = set(ours.tables)

    engine = create_engine(sync_url(database_url))
    try:
        with engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), ours)
    finally:
        engine.dispose()
    return [diff for diff in differences if _table_of(diff) in names]


def _table_of(diff) -> str | None:
    """The table one alembic difference is about."""
    if isinstance(diff, list):  # modify_* differences come grouped per column
        diff = diff[0]
    kind, subject = diff[0], diff[1]
    if kind in ("add_table", "remove_table"):
        return subject.name
    if kind in ("add_index", "remove_index", "add_constraint", "remove_constraint"):
        return subject.table.name
    if kind in ("add_fk", "remove_fk"):
        return subject.parent.name
    if kind in ("add_column", "remove_column") or kind.startswith("modify_"):
        return diff[2]
    return None
