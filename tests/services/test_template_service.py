"""The template service over gRPC against real PostgreSQL: versions, refusals, permissions."""

from __future__ import annotations

import json
import uuid

import grpc
import pytest
from sqlalchemy import select

from salesflow.core.caller import Caller, Role
from salesflow.core.oplog import OperationLogEntry, verify_chain
from salesflow.core.rpc import rejection_detail
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.templates.v1 import templates_pb2, templates_pb2_grpc
from services.templates.models import TemplateVersion
from services.templates.server import serve
from services.templates.validation import check_template_text
from services.templates.yaml_format import dump_template
from tests.services.test_template_files import EVERY_PROBLEM
from workflows.pipeline.template import default_template

SALES_OPS = Caller("Sam Ops", Role.SALES_OPS, frozenset())
ADMIN = Caller("Ada Admin", Role.ADMIN, frozenset({"*"}))
REP = Caller("Rita Rep", Role.REP, frozenset({"East"}))


def cold_chain_file(template_id: str, *, due_hours: int = 16, comment_line: str = "") -> str:
    """The default template renamed, with a company's own cold-chain step after the demo."""
    text = dump_template(default_template()).replace("id: b2b-default", f"id: {template_id}")
    custom = f"""\
  - key: cold_chain_plan
    name: Cold-chain transport plan confirmation
    name_zh: 冷链运输方案确认
    evidence:
      - kind: cold_chain_plan
        count: 1
        description: the signed cold-chain transport plan
        content_types: [application/pdf, image/]
      - kind: temperature_log
        count: 1
        content_types: [application/pdf]
    time:
      clock: business
      calendar: default
      warning_hours: {due_hours // 2}
      due_hours: {due_hours}
      escalations:
        - {{after_hours: {due_hours}, to: regional_manager}}
        - {{after_hours: {due_hours * 2}, to: sales_director}}
    points: {{completion: 8, overdue: -3}}
    tickets:
      - {{department: logistics, kind: cold_chain_review, response_target_minutes: 240}}
"""
    marker = "  - key: objection_handling\n"
    text = text.replace(marker, custom + marker)
    text = text.replace("    extra_days_off: []", "    extra_days_off: ['2026-06-15']")
    return comment_line + text


@pytest.fixture
async def templates(db_sessions):
    service = await serve(ServiceDeps(Settings(), db_sessions, None, None), port=0)
    yield service
    await service.stop()


@pytest.fixture
def client_for(templates, open_channel):
    return lambda caller: templates_pb2_grpc.TemplateServiceStub(
        open_channel(f"127.0.0.1:{templates.port}", caller)
    )


async def refused(call) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value


def new_template_id() -> str:
    return f"cold-chain-{uuid.uuid4().hex[:8]}"


async def test_each_import_is_a_new_version_and_the_same_content_again_is_not(
    client_for, db_sessions
):
    ops = client_for(SALES_OPS)
    template_id = new_template_id()

    first = await ops.ImportTemplate(
        templates_pb2.ImportTemplateRequest(yaml=cold_chain_file(template_id), comment="start")
    )
    second = await ops.ImportTemplate(
        templates_pb2.ImportTemplateRequest(yaml=cold_chain_file(template_id, due_hours=24))
    )
    # The same content with another comment line and another import comment: nothing new.
    again = await ops.ImportTemplate(
        templates_pb2.ImportTemplateRequest(
            yaml=cold_chain_file(template_id, due_hours=24, comment_line="# edited by Sam\n"),
            comment="re-import",
        )
    )

    assert (first.created, first.version.version) == (True, 1)
    assert (second.created, second.version.version) == (True, 2)
    assert (again.created, again.version.version) == (False, 2)
    assert again.version.sha256 == second.version.sha256 != first.version.sha256
    assert "cold_chain_plan" in first.version.action_keys
    assert first.version.created_by == SALES_OPS.id and first.version.comment == "start"
    # What the saved calendar knows: the years resolved around now (and which of them
    # still lack the State Council's make-up working days).
    [calendar] = first.calendars
    years = list(calendar.resolved_years)
    assert (calendar.calendar_id, calendar.country) == ("default", "CN")
    assert len(years) == 4 and years == list(range(years[0], years[0] + 4))
    assert set(calendar.years_without_makeup_workdays) <= set(years)
    assert again.calendars == first.calendars

    listed = await client_for(REP).ListVersions(
        templates_pb2.ListVersionsRequest(template_id=template_id)
    )
    assert [v.version for v in listed.versions] == [1, 2]

    # Version 1 is immutable: exporting it gives back what was imported then.
    exported = await client_for(REP).ExportTemplate(
        templates_pb2.ExportTemplateRequest(template_id=template_id, version=1)
    )
    assert exported.imported_yaml == cold_chain_file(template_id)
    read_back = check_template_text(exported.yaml)
    assert read_back.ok, read_back.problems
    assert read_back.template == check_template_text(cold_chain_file(template_id)).template
    assert "冷链运输方案确认" in exported.yaml and "version 1 of" in exported.yaml

    # The saved body is the resolved template: the company's extra day off is a day off.
    async with db_sessions() as session:
        row = await session.get(TemplateVersion, (template_id, 1))
        saves = list(
            await session.scalars(
                select(OperationLogEntry.subject).where(
                    OperationLogEntry.operation == "template.saved",
                    OperationLogEntry.subject.like(f"{template_id}@%"),
                )
            )
        )
        assert (await verify_chain(session)).intact
    [calendar] = json.loads(row.body)["calendars"]
    assert "2026-06-15" in calendar["days_off"]
    assert sorted(saves) == [f"{template_id}@1", f"{template_id}@2"]


async def test_a_template_with_problems_is_refused_listing_every_one_and_nothing_is_saved(
    client_for, db_sessions
):
    ops = client_for(SALES_OPS)
    error = await refused(
        ops.ImportTemplate(templates_pb2.ImportTemplateRequest(yaml=EVERY_PROBLEM))
    )

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    rejection = rejection_detail(error, templates_pb2.TemplateRejection)
    assert rejection.template_id == "hospital-supplies"
    paths = [problem.path for problem in rejection.problems]
    assert len(paths) == 15
    assert "actions[0].time.escalations[0].to" in paths and "actions[2].key" in paths

    validated = await client_for(REP).ValidateTemplate(
        templates_pb2.ValidateTemplateRequest(yaml=EVERY_PROBLEM)
    )
    assert not validated.valid and [p.path for p in validated.problems] == paths

    missing = await refused(
        ops.ListVersions(templates_pb2.ListVersionsRequest(template_id="hospital-supplies"))
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    async with db_sessions() as session:
        logged = await session.scalar(
            select(OperationLogEntry.seq).where(
                OperationLogEntry.subject.like("hospital-supplies@%")
            )
        )
    assert logged is None


async def test_the_default_template_is_version_1_of_b2b_default(client_for):
    reader = client_for(REP)
    listed = await reader.ListVersions(templates_pb2.ListVersionsRequest(template_id="b2b-default"))
    first = listed.versions[0]
    assert (first.version, first.created_by) == (1, "salesflow")
    assert list(first.action_keys) == list(default_template().action_keys)

    exported = await reader.ExportTemplate(templates_pb2.ExportTemplateRequest(version=1))
    assert list(check_template_text(exported.yaml).template.action_keys) == list(first.action_keys)

    everything = await reader.ListTemplates(templates_pb2.ListTemplatesRequest())
    assert "b2b-default" in [t.template_id for t in everything.templates]


async def test_every_call_answers_a_precise_status(client_for, templates, open_channel):
    template_id = new_template_id()
    request = templates_pb2.ImportTemplateRequest(yaml=cold_chain_file(template_id))

    anonymous = templates_pb2_grpc.TemplateServiceStub(
        open_channel(f"127.0.0.1:{templates.port}", None)
    )
    assert (
        await refused(anonymous.ListTemplates(templates_pb2.ListTemplatesRequest()))
    ).code() == (grpc.StatusCode.UNAUTHENTICATED)
    for caller in (REP, Caller("Max Manager", Role.MANAGER, frozenset({"East"}))):
        denied = await refused(client_for(caller).ImportTemplate(request))
        assert denied.code() == grpc.StatusCode.PERMISSION_DENIED
    assert (await client_for(ADMIN).ImportTemplate(request)).created

    reader = client_for(REP)
    cases = [
        (
            reader.ExportTemplate(templates_pb2.ExportTemplateRequest(template_id="no-such")),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            reader.ExportTemplate(
                templates_pb2.ExportTemplateRequest(template_id=template_id, version=9)
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            reader.ExportTemplate(
                templates_pb2.ExportTemplateRequest(template_id=template_id, version=-1)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            reader.ValidateTemplate(templates_pb2.ValidateTemplateRequest(yaml="  ")),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            reader.ListVersions(templates_pb2.ListVersionsRequest()),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            reader.DiffVersions(templates_pb2.DiffVersionsRequest(template_id=template_id)),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            reader.PreviewMigration(
                templates_pb2.MigrationRequest(template_id=template_id, to_version=1)
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        (
            reader.MigratePipelines(
                templates_pb2.MigrationRequest(
                    template_id=template_id, to_version=1, opportunity_ids=["X1"]
                )
            ),
            grpc.StatusCode.PERMISSION_DENIED,
        ),
        (
            client_for(SALES_OPS).ImportTemplate(
                templates_pb2.ImportTemplateRequest(yaml="x" * (1024 * 1024 + 1))
            ),
            grpc.StatusCode.INVALID_ARGUMENT,
        ),
        # Unknown templates and versions are NOT_FOUND, never an empty answer.
        (
            reader.ListTemplateUsage(templates_pb2.ListTemplateUsageRequest(template_id="no-such")),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            reader.PreviewMigration(
                templates_pb2.MigrationRequest(template_id="no-such", to_version=1, from_version=1)
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            reader.PreviewMigration(
                templates_pb2.MigrationRequest(
                    template_id=template_id, to_version=5, from_version=1
                )
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            reader.PreviewMigration(
                templates_pb2.MigrationRequest(
                    template_id=template_id, to_version=1, from_version=7
                )
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
        (
            client_for(SALES_OPS).MigratePipelines(
                templates_pb2.MigrationRequest(
                    template_id="no-such", to_version=1, opportunity_ids=["X1"]
                )
            ),
            grpc.StatusCode.NOT_FOUND,
        ),
    ]
    for call, code in cases:
        assert (await refused(call)).code() == code


async def test_a_diff_compares_two_versions_or_a_draft_with_the_latest(client_for):
    ops = client_for(SALES_OPS)
    template_id = new_template_id()
    for due_hours in (16, 24):
        await ops.ImportTemplate(
            templates_pb2.ImportTemplateRequest(
                yaml=cold_chain_file(template_id, due_hours=due_hours)
            )
        )

    diff = await client_for(REP).DiffVersions(
        templates_pb2.DiffVersionsRequest(template_id=template_id, from_version=1, to_version=2)
    )
    assert (diff.from_version, diff.to_version) == (1, 2)
    assert "~ action cold_chain_plan: time.due_hours 16 -> 24" in diff.lines
    assert "~ action cold_chain_plan: time.escalations[1].after_hours 32 -> 48" in diff.lines

    draft = cold_chain_file(template_id, due_hours=24).replace("completion: 8", "completion: 10")
    against_latest = await client_for(REP).DiffVersions(
        templates_pb2.DiffVersionsRequest(draft_yaml=draft)
    )
    assert (against_latest.from_version, against_latest.to_version) == (2, 0)
    assert list(against_latest.lines) == ["~ action cold_chain_plan: points.completion 8 -> 10"]


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
@pytest.mark.parametrize("change", ["update", "delete"])
async def test_the_database_refuses_to_change_or_delete_a_saved_version(
    client_for, database_url, tmp_path, backend, change
):
    from sqlalchemy import create_engine, delete, insert, update
    from sqlalchemy.exc import DBAPIError

    from salesflow.core.db import sync_url, utcnow
    from salesflow.core.migrate import upgrade

    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'templates.db'}"
        upgrade(url)
    else:
        url = database_url
    template_id = new_template_id()
    engine = create_engine(sync_url(url))
    table = TemplateVersion.__table__
    row = (table.c.template_id == template_id) & (table.c.version == 1)
    statement = (
        update(table).where(row).values(comment="rewritten")
        if change == "update"
        else delete(table).where(row)
    )
    try:
        with engine.begin() as connection:
            connection.execute(
                insert(table).values(
                    template_id=template_id,
                    version=1,
                    name="Saved",
                    body="{}",
                    yaml_source="",
                    sha256="0" * 64,
                    action_keys="a",
                    created_at=utcnow(),
                    created_by="Sam Ops",
                    comment="first",
                )
            )
        with pytest.raises(DBAPIError, match="template versions are immutable"):
            with engine.begin() as connection:
                connection.execute(statement)
        with engine.connect() as connection:
            kept = connection.execute(select(table.c.comment).where(row)).scalar_one()
        assert kept == "first"
    finally:
        engine.dispose()
