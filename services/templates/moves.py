"""Which running pipelines use which template version, and moving them to another one.

Usage reads the pipeline service's `pipelines` projection (read-only: running pipelines
with the version they started on) and this service's own `template_moves` (the version
an operator moved each one to since). Reading the projection directly keeps one SQL query
for thousands of pipelines; nothing here ever writes it.

Preview and move talk to each pipeline's workflow by handler name: the query
`preview_template_change` and the update `change_template`, both taking the full new
template version. The workflow decides what the move changes (it keeps the elapsed time
of clocks already running) and refuses a move it cannot make.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode

from salesflow.core.caller import Caller, Role
from salesflow.core.db import utcnow
from salesflow.core.errors import InvalidArgument, Unavailable
from salesflow.core.oplog import append_operation
from services.pipeline.models import PipelineRecord
from services.templates.models import TemplateMove
from services.templates.store import SERVICE, TemplateStore
from workflows.pipeline.template import PipelineTemplate
from workflows.pipeline.types import PipelineSnapshot, TemplateChangePreview, workflow_id_for

logger = logging.getLogger(__name__)

PREVIEW_QUERY = "preview_template_change"
CHANGE_UPDATE = "change_template"
WORKER_ANSWER_TIMEOUT = timedelta(seconds=15)
# Pipelines asked at once when a whole version moves.
CONCURRENT_PIPELINES = 16
MAX_LISTED_IDS = 1000
# Who may move pipelines between versions.
MOVER_ROLES = (Role.SALES_OPS,)


@dataclass(frozen=True)
class RunningPipeline:
    opportunity_id: str
    template_id: str
    version: int


@dataclass
class Usage:
    template_id: str
    version: int
    opportunity_ids: list[str] = field(default_factory=list)


@dataclass
class Move:
    opportunity_id: str
    from_version: int
    to_version: int
    moved: bool
    problems: list[str] = field(default_factory=list)


class PipelineMoves:
    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        temporal: Client | None,
        store: TemplateStore,
    ) -> None:
        self._sessions = sessions
        self._temporal = temporal
        self._store = store

    async def running(
        self, caller: Caller, *, template_id: str = "", opportunity_ids: Sequence[str] = ()
    ) -> list[RunningPipeline]:
        """Running pipelines in the caller's scope, with the version each runs now."""
        query = select(PipelineRecord).where(PipelineRecord.outcome == "open")
        if template_id:
            query = query.where(PipelineRecord.template_id == template_id)
        if opportunity_ids:
            query = query.where(PipelineRecord.opportunity_id.in_(list(opportunity_ids)))
        if caller.role is Role.REP:
            query = query.where(PipelineRecord.rep_id == caller.id)
        elif not caller.may_see_region("*"):
            query = query.where(PipelineRecord.region.in_(sorted(caller.regions)))
        async with self._sessions() as session:
            records = list(await session.scalars(query.order_by(PipelineRecord.opportunity_id)))
            moved = await self._moved_versions(session, [r.opportunity_id for r in records])
        return [
            RunningPipeline(
                record.opportunity_id,
                record.template_id,
                moved.get(record.opportunity_id, record.template_version),
            )
            for record in records
            if record.template_id
        ]

    async def usage(self, caller: Caller, *, template_id: str = "") -> list[Usage]:
        """Running pipelines per template version; NotFound for an unknown template."""
        if template_id:
            await self._store.versions(template_id)
        found: dict[tuple[str, int], Usage] = {}
        for pipeline in await self.running(caller, template_id=template_id):
            key = (pipeline.template_id, pipeline.version)
            usage = found.setdefault(key, Usage(*key))
            usage.opportunity_ids.append(pipeline.opportunity_id)
        return [found[key] for key in sorted(found)]

    async def preview(
        self,
        caller: Caller,
        *,
        template_id: str,
        to_version: int,
        opportunity_ids: Sequence[str] = (),
        from_version: int = 0,
    ) -> list[tuple[str, TemplateChangePreview]]:
        """Each pipeline's preview by opportunity id; one that cannot be previewed answers
        possible = False with the reason."""
        template, targets, refused = await self._targets(
            caller, template_id, to_version, opportunity_ids, from_version, write=False
        )

        async def one(pipeline: RunningPipeline) -> tuple[str, TemplateChangePreview]:
            try:
                preview = await self._handle(pipeline).query(
                    PREVIEW_QUERY,
                    template,
                    result_type=TemplateChangePreview,
                    rpc_timeout=WORKER_ANSWER_TIMEOUT,
                )
            except (WorkflowQueryFailedError, WorkflowQueryRejectedError, RPCError) as error:
                preview = _impossible(_refused(pipeline, to_version, _reason(error)))
            return pipeline.opportunity_id, preview

        previews = [(move.opportunity_id, _impossible(move)) for move in refused]
        return previews + await _each(targets, one)

    async def migrate(
        self,
        caller: Caller,
        *,
        template_id: str,
        to_version: int,
        opportunity_ids: Sequence[str] = (),
        from_version: int = 0,
    ) -> list[Move]:
        """Moves each pipeline to the version; every move is recorded and logged."""
        template, targets, refused = await self._targets(
            caller, template_id, to_version, opportunity_ids, from_version, write=True
        )

        async def one(pipeline: RunningPipeline) -> Move:
            try:
                snapshot = await self._handle(pipeline).execute_update(
                    CHANGE_UPDATE,
                    template,
                    result_type=PipelineSnapshot,
                    rpc_timeout=WORKER_ANSWER_TIMEOUT,
                )
            except (
                WorkflowUpdateFailedError,
                WorkflowUpdateRPCTimeoutOrCancelledError,
                RPCError,
            ) as error:
                return _refused(pipeline, to_version, _reason(error))
            await self._record(caller, pipeline, snapshot.template_version)
            return Move(pipeline.opportunity_id, pipeline.version, snapshot.template_version, True)

        return refused + await _each(targets, one)

    async def _targets(
        self,
        caller: Caller,
        template_id: str,
        to_version: int,
        opportunity_ids: Sequence[str],
        from_version: int,
        *,
        write: bool,
    ) -> tuple[PipelineTemplate, list[RunningPipeline], list[Move]]:
        """The version to move to, the pipelines to ask, and those refused beforehand."""
        if write:
            caller.require_role(*MOVER_ROLES)
        if to_version < 1:
            raise InvalidArgument("to_version", "must be a saved version (1 or more)")
        if not opportunity_ids and from_version < 1:
            raise InvalidArgument(
                "opportunity_ids", "name the pipelines, or from_version to take all on it"
            )
        template = await self._store.template(template_id, to_version)
        if from_version:
            # A version never saved would just match no pipeline; say so instead.
            await self._store.template(template_id, from_version)
        if self._temporal is None:
            raise Unavailable("this template service has no connection to the workflows")

        running = await self.running(
            caller, template_id=template_id, opportunity_ids=opportunity_ids
        )
        if from_version:
            running = [p for p in running if p.version == from_version]
        found = {pipeline.opportunity_id for pipeline in running}
        refused = [
            Move(
                opportunity_id,
                0,
                to_version,
                False,
                [f"not a running pipeline of template {template_id!r} that you may see"],
            )
            for opportunity_id in dict.fromkeys(opportunity_ids)
            if opportunity_id not in found
        ]
        targets = []
        for pipeline in running:
            if pipeline.version == to_version:
                refused.append(_refused(pipeline, to_version, f"already runs version {to_version}"))
            else:
                targets.append(pipeline)
        return template, targets, refused

    def _handle(self, pipeline: RunningPipeline):
        return self._temporal.get_workflow_handle(workflow_id_for(pipeline.opportunity_id))

    async def _record(self, caller: Caller, pipeline: RunningPipeline, to_version: int) -> None:
        async with self._sessions() as session, session.begin():
            session.add(
                TemplateMove(
                    opportunity_id=pipeline.opportunity_id,
                    template_id=pipeline.template_id,
                    from_version=pipeline.version,
                    to_version=to_version,
                    moved_at=utcnow(),
                    moved_by=caller.id,
                )
            )
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="pipeline.template_changed",
                subject=pipeline.opportunity_id,
                payload={
                    "template_id": pipeline.template_id,
                    "from_version": pipeline.version,
                    "to_version": to_version,
                },
            )
        logger.info(
            "pipeline moved opportunity=%s template=%s version=%s->%s by=%s",
            pipeline.opportunity_id,
            pipeline.template_id,
            pipeline.version,
            to_version,
            caller.id,
        )

    @staticmethod
    async def _moved_versions(session: AsyncSession, opportunity_ids: list[str]) -> dict:
        """The latest move's version of each opportunity that was ever moved."""
        if not opportunity_ids:
            return {}
        latest = (
            select(func.max(TemplateMove.id))
            .where(TemplateMove.opportunity_id.in_(opportunity_ids))
            .group_by(TemplateMove.opportunity_id)
        )
        rows = await session.execute(
            select(TemplateMove.opportunity_id, TemplateMove.to_version).where(
                TemplateMove.id.in_(latest)
            )
        )
        return dict(rows.all())


def _refused(pipeline: RunningPipeline, to_version: int, problem: str) -> Move:
    return Move(pipeline.opportunity_id, pipeline.version, to_version, False, [problem])


def _impossible(move: Move) -> TemplateChangePreview:
    return TemplateChangePreview(
        from_version=move.from_version,
        to_version=move.to_version,
        possible=False,
        problems=list(move.problems),
    )


def _reason(error: Exception) -> str:
    """One line a person can act on, for a pipeline that did not answer as hoped."""
    if isinstance(error, WorkflowUpdateRPCTimeoutOrCancelledError):
        return "the pipeline did not answer in time (is a worker running?); retrying is safe"
    if isinstance(error, RPCError) and error.status == RPCStatusCode.NOT_FOUND:
        return "the pipeline's workflow is closed or does not exist"
    message = str(error)
    if isinstance(error, WorkflowUpdateFailedError):
        message = getattr(error.cause, "message", None) or str(error.cause)
    if "not found" in message and (PREVIEW_QUERY in message or CHANGE_UPDATE in message):
        return "the pipeline's worker does not support template changes yet"
    return message


async def _each(pipelines: list[RunningPipeline], ask) -> list:
    limit = asyncio.Semaphore(CONCURRENT_PIPELINES)

    async def bounded(pipeline: RunningPipeline):
        async with limit:
            return await ask(pipeline)

    return list(await asyncio.gather(*(bounded(pipeline) for pipeline in pipelines)))
