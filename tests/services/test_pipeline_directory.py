"""The team directory: the people table as migrated, and reps' time zones on import."""

from __future__ import annotations

import uuid

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, create_engine

from salesflow.core.db import sync_url
from salesflow.replay.export import TeamMember
from services.pipeline.directory import upsert_team
from services.pipeline.models import Person


def test_the_people_migration_matches_the_model(database_url):
    engine = create_engine(sync_url(database_url))
    people_only = MetaData()
    Person.__table__.to_metadata(people_only)

    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), people_only)
    engine.dispose()

    # Other tables show as "remove_table" here; only the people table counts.
    ours = [diff for diff in differences if "people" in repr(diff)]
    assert ours == []


async def test_an_import_without_time_zones_keeps_the_zone_the_directory_knows(db_sessions):
    rep = f"Rep {uuid.uuid4().hex[:6]}"
    await upsert_team(db_sessions, [TeamMember(rep, "Mona Manager", "West", "Europe/Berlin")])
    await upsert_team(db_sessions, [TeamMember(rep, "Mona Manager", "East")])
    async with db_sessions() as session:
        person = await session.get(Person, rep)
    assert (person.region, person.time_zone) == ("East", "Europe/Berlin")

    await upsert_team(db_sessions, [TeamMember(rep, "Mona Manager", "East", "")])
    async with db_sessions() as session:
        person = await session.get(Person, rep)
    assert person.time_zone == ""
