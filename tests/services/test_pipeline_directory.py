"""The team directory: the people table as migrated, and reps' time zones on import."""

from __future__ import annotations

import json
import uuid

from salesflow.replay.export import TeamMember
from services.pipeline.directory import upsert_team
from services.pipeline.models import Person
from tests.schema import schema_differences


def test_the_people_migration_matches_the_model(database_url):
    assert schema_differences(database_url, [Person.__table__]) == []


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


async def test_a_team_file_names_the_region_director_whom_escalations_reach(stack, tmp_path):
    from salesflow.replay.export import read_team_file
    from workflows.pipeline.types import workflow_id_for

    suffix = uuid.uuid4().hex[:6]
    region = f"Region {suffix}"
    rep, manager, director = f"Rep {suffix}", f"Manager {suffix}", f"Director {suffix}"
    team_file = tmp_path / "teams.csv"
    team_file.write_text(
        "sales_agent,manager,regional_office,director\n"
        f"{rep},{manager},{region},{director}\n"
        f"Self {suffix},Boss {suffix},{region},Self {suffix}\n",
        encoding="utf-8",
    )

    team, rejections = read_team_file(team_file)
    assert [(r.row, r.reason) for r in rejections] == [(3, "director_is_rep_or_manager")]
    await upsert_team(stack.sessions, team.values())
    async with stack.sessions() as session:
        saved = await session.get(Person, director)
        boss = await session.get(Person, manager)
    assert (saved.role, saved.region, boss.manager_id) == ("director", region, director)

    commands = stack.pipeline_commands()
    from salesflow.core.caller import ADMIN_CALLER

    opportunity_id = f"D{suffix.upper()}"
    await commands.start(ADMIN_CALLER, opportunity_id=opportunity_id, rep_id=rep)
    handle = stack.temporal.get_workflow_handle(workflow_id_for(opportunity_id))
    history = await handle.fetch_history()
    started = history.events[0].workflow_execution_started_event_attributes
    [payload] = started.input.payloads
    assert json.loads(payload.data)["director_id"] == director


def test_the_schema_check_sees_a_column_the_migrations_lack(database_url):
    from sqlalchemy import Column, MetaData, String

    drifted = Person.__table__.to_metadata(MetaData())
    drifted.append_column(Column("nickname", String(50)))

    [difference] = schema_differences(database_url, [drifted])
    assert difference[0] == "add_column" and difference[2] == "people"
