"""TemplateService over gRPC: translates between the wire and the template library.

Reading (validate, export, list, diff, usage, preview) is open to every authenticated
caller; importing a version and moving pipelines need the sales_ops or admin role.
"""

from __future__ import annotations

import logging

from salesflow.calendars import CalendarCoverage
from salesflow.core.caller import Caller, Role
from salesflow.core.errors import InvalidArgument, require
from salesflow.core.rpc import rpc
from salesflow.core.wire import timestamp
from salesflow.templates.v1 import templates_pb2, templates_pb2_grpc
from services.templates.diff import diff_templates
from services.templates.moves import MAX_LISTED_IDS, PipelineMoves
from services.templates.problems import Problem
from services.templates.store import StoredVersion, TemplateRejected, TemplateStore
from services.templates.validation import (
    MAX_TEMPLATE_BYTES,
    CheckedTemplate,
    check_template_text,
)
from services.templates.yaml_format import dump_template
from workflows.pipeline.template import DEFAULT_TEMPLATE_ID, PipelineTemplate

logger = logging.getLogger(__name__)

MAX_COMMENT = 1000
EDITOR_ROLES = (Role.SALES_OPS,)


def version_message(stored: StoredVersion) -> templates_pb2.TemplateVersion:
    return templates_pb2.TemplateVersion(
        template_id=stored.template_id,
        version=stored.version,
        name=stored.name,
        sha256=stored.sha256,
        action_keys=stored.action_keys,
        created_at=timestamp(stored.created_at),
        created_by=stored.created_by,
        comment=stored.comment,
    )


def coverage_message(coverage: CalendarCoverage) -> templates_pb2.CalendarCoverage:
    return templates_pb2.CalendarCoverage(
        calendar_id=coverage.calendar_id,
        country=coverage.country,
        resolved_years=coverage.years,
        years_without_makeup_workdays=coverage.years_without_workdays,
        holidays_version=coverage.holidays_version,
    )


def problem_messages(problems: list[Problem]) -> list[templates_pb2.TemplateProblem]:
    return [templates_pb2.TemplateProblem(path=p.path, message=p.message) for p in problems]


def rejected(template_id: str, problems: list[Problem]) -> TemplateRejected:
    """INVALID_ARGUMENT carrying every problem as a TemplateRejection detail."""
    error = TemplateRejected(problems)
    error.detail = templates_pb2.TemplateRejection(
        template_id=template_id, problems=problem_messages(problems)
    )
    return error


def _checked(text: str, field: str = "yaml") -> CheckedTemplate:
    if not text.strip():
        raise InvalidArgument(field, "is required (the template file's text)")
    if len(text.encode()) > MAX_TEMPLATE_BYTES:
        raise InvalidArgument(field, f"is larger than {MAX_TEMPLATE_BYTES} bytes (1 MiB)")
    return check_template_text(text)


def _version_number(value: int, field: str) -> int:
    if value < 0:
        raise InvalidArgument(field, f"must be 0 (latest) or a version number, got {value}")
    return value


class TemplateServicer(templates_pb2_grpc.TemplateServiceServicer):
    def __init__(self, store: TemplateStore, moves: PipelineMoves) -> None:
        self._store = store
        self._moves = moves

    @rpc
    async def ValidateTemplate(self, request, context, caller: Caller):
        """Every problem of a template file, without saving anything."""
        checked = _checked(request.yaml)
        template = checked.template
        return templates_pb2.ValidateTemplateResponse(
            valid=checked.ok,
            problems=problem_messages(checked.problems),
            template_id=template.template_id if template else "",
            action_keys=template.action_keys if template else (),
        )

    @rpc
    async def ImportTemplate(self, request, context, caller: Caller):
        """Saves the file as a new version; INVALID_ARGUMENT lists every problem."""
        caller.require_role(*EDITOR_ROLES)
        comment = request.comment.strip()
        if len(comment) > MAX_COMMENT:
            raise InvalidArgument("comment", f"is longer than {MAX_COMMENT} characters")
        checked = _checked(request.yaml)
        template_id = checked.template.template_id if checked.template else ""
        if not checked.ok:
            raise rejected(template_id, checked.problems)
        try:
            result = await self._store.save(
                caller, checked.template, source_yaml=request.yaml, comment=comment
            )
        except TemplateRejected as error:
            raise rejected(template_id, error.problems) from error
        return templates_pb2.ImportTemplateResponse(
            version=version_message(result.version),
            created=result.created,
            calendars=[coverage_message(item) for item in result.coverage],
        )

    @rpc
    async def ExportTemplate(self, request, context, caller: Caller):
        """A version (the latest when 0) as a template file."""
        template_id = request.template_id.strip() or DEFAULT_TEMPLATE_ID
        version = _version_number(request.version, "version")
        template = await self._store.template(template_id, version)
        stored = await self._stored(template_id, template.version)
        note = (
            f"version {stored.version} of {template_id}, saved "
            f"{stored.created_at:%Y-%m-%d %H:%M} UTC by {stored.created_by}; "
            "importing this file again saves nothing new"
        )
        return templates_pb2.ExportTemplateResponse(
            version=version_message(stored),
            yaml=dump_template(template, note=note),
            imported_yaml=await self._store.source_yaml(template_id, template.version),
        )

    @rpc
    async def ListTemplates(self, request, context, caller: Caller):
        """The latest version of every template."""
        latest = await self._store.latest_versions()
        return templates_pb2.ListTemplatesResponse(templates=[version_message(v) for v in latest])

    @rpc
    async def ListVersions(self, request, context, caller: Caller):
        """Every version of a template, oldest first."""
        template_id = require(request.template_id, "template_id")
        versions = await self._store.versions(template_id)
        return templates_pb2.ListVersionsResponse(versions=[version_message(v) for v in versions])

    @rpc
    async def DiffVersions(self, request, context, caller: Caller):
        """Per action and field, what changed from one version to another (or a draft)."""
        from_version = _version_number(request.from_version, "from_version")
        to_version = _version_number(request.to_version, "to_version")
        draft: PipelineTemplate | None = None
        template_id = request.template_id.strip()
        if request.draft_yaml:
            checked = _checked(request.draft_yaml, "draft_yaml")
            if not checked.ok:
                raise rejected(template_id, checked.problems)
            draft = checked.template
            template_id = template_id or draft.template_id
            if draft.template_id != template_id:
                raise InvalidArgument(
                    "draft_yaml", f"is template {draft.template_id!r}, not {template_id!r}"
                )
        elif not to_version:
            raise InvalidArgument("to_version", "is required unless a draft_yaml is given")
        template_id = require(template_id, "template_id")

        before = await self._store.template(template_id, from_version)
        after = draft or await self._store.template(template_id, to_version)
        changes = diff_templates(before, after)
        return templates_pb2.DiffVersionsResponse(
            from_version=before.version,
            to_version=after.version,
            changes=[
                templates_pb2.TemplateChange(
                    kind=c.kind, scope=c.scope, field=c.field, before=c.before, after=c.after
                )
                for c in changes
            ],
            lines=[change.line() for change in changes],
        )

    @rpc
    async def ListTemplateUsage(self, request, context, caller: Caller):
        """Running pipelines per template version, within what the caller may see."""
        usage = await self._moves.usage(caller, template_id=request.template_id.strip())
        return templates_pb2.ListTemplateUsageResponse(
            usage=[
                templates_pb2.TemplateUsage(
                    template_id=item.template_id,
                    version=item.version,
                    running=len(item.opportunity_ids),
                    opportunity_ids=item.opportunity_ids[:MAX_LISTED_IDS],
                )
                for item in usage
            ]
        )

    @rpc
    async def PreviewMigration(self, request, context, caller: Caller):
        """What moving the pipelines to `to_version` would change; changes nothing."""
        previews = await self._moves.preview(caller, **_migration_arguments(request))
        response = templates_pb2.PreviewMigrationResponse()
        for opportunity_id, preview in previews:
            item = response.pipelines.add(
                opportunity_id=opportunity_id,
                from_version=preview.from_version,
                to_version=preview.to_version,
                possible=preview.possible,
                problems=preview.problems,
                added_actions=preview.added_actions,
                removed_actions=preview.removed_actions,
            )
            for change in preview.deadlines:
                deadline = item.deadlines.add(key=change.key)
                if change.before is not None:
                    deadline.before.CopyFrom(timestamp(change.before))
                if change.after is not None:
                    deadline.after.CopyFrom(timestamp(change.after))
        return response

    @rpc
    async def MigratePipelines(self, request, context, caller: Caller):
        """Moves the pipelines to `to_version`; each answers whether it moved, or why not."""
        moves = await self._moves.migrate(caller, **_migration_arguments(request))
        return templates_pb2.MigratePipelinesResponse(
            pipelines=[
                templates_pb2.PipelineMove(
                    opportunity_id=move.opportunity_id,
                    from_version=move.from_version,
                    to_version=move.to_version,
                    moved=move.moved,
                    problems=move.problems,
                )
                for move in moves
            ]
        )

    async def _stored(self, template_id: str, version: int) -> StoredVersion:
        versions = await self._store.versions(template_id)
        return next(stored for stored in versions if stored.version == version)


def _migration_arguments(request) -> dict:
    opportunity_ids = [value.strip() for value in request.opportunity_ids]
    if any(not value for value in opportunity_ids):
        raise InvalidArgument("opportunity_ids", "an opportunity id is empty")
    return {
        "template_id": require(request.template_id, "template_id"),
        "to_version": request.to_version,
        "opportunity_ids": opportunity_ids,
        "from_version": _version_number(request.from_version, "from_version"),
    }
