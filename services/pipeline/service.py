"""PipelineService over gRPC: translates between the wire and PipelineCommands."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime

import grpc

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import InvalidArgument, NotFound, Unavailable
from salesflow.core.rpc import rpc
from salesflow.core.wire import timestamp
from salesflow.evidence.v1 import evidence_pb2, evidence_pb2_grpc
from salesflow.pipeline.v1 import pipeline_pb2, pipeline_pb2_grpc
from services.pipeline import projection
from services.pipeline.commands import PipelineCommands
from services.pipeline.feedback import StrategyFeedback
from services.templates.store import TemplateStore
from workflows.pipeline.types import (
    AnswerInput,
    EvidenceItem,
    PipelineSnapshot,
    workflow_id_for,
)


def _timestamp(message, field: str, value: datetime | None) -> None:
    if value is not None:
        getattr(message, field).CopyFrom(timestamp(value))


def snapshot_to_proto(snapshot: PipelineSnapshot, workflow_id: str) -> pipeline_pb2.PipelineState:
    state = pipeline_pb2.PipelineState(
        opportunity_id=snapshot.opportunity_id,
        workflow_id=workflow_id,
        rep_id=snapshot.rep_id,
        manager_id=snapshot.manager_id,
        region=snapshot.region,
        account=snapshot.account,
        outcome=snapshot.outcome,
        current_action=snapshot.current_action,
        overdue_actions=snapshot.overdue_actions,
        template_id=snapshot.template_id,
        template_version=snapshot.template_version,
        reminders=snapshot.reminders,
        rep_time_zone=snapshot.rep_time_zone,
    )
    _timestamp(state, "current_since", snapshot.current_since)
    _timestamp(state, "last_touch_at", snapshot.last_touch_at)
    for action in snapshot.actions:
        item = state.actions.add(
            key=action.key,
            name=action.name,
            name_zh=action.name_zh,
            status=action.status,
            overdue=action.overdue,
            escalations=action.escalations,
            paused=action.paused,
            pause_reason=action.pause_reason,
            paused_seconds=action.paused_seconds,
            warned=action.warned,
            returned=action.returned,
            return_reason=action.return_reason,
        )
        _timestamp(item, "started_at", action.started_at)
        _timestamp(item, "completed_at", action.completed_at)
        _timestamp(item, "due_at", action.due_at)
    for deadline in snapshot.deadlines:
        item = state.deadlines.add(key=deadline.key, fired=deadline.fired)
        _timestamp(item, "at", deadline.at)
    for ticket in snapshot.tickets:
        state.tickets.add(
            ticket_key=ticket.ticket_key,
            department=ticket.department,
            status=ticket.status,
            note=ticket.note,
            occurrence=ticket.occurrence,
        )
    return state


PIPELINE_SERVICE_CALLER = Caller("pipeline-service", Role.ADMIN, frozenset({"*"}))


class EvidenceClient:
    """Resolves evidence ids through the evidence service, as the caller."""

    def __init__(self, channel: grpc.aio.Channel) -> None:
        self._stub = evidence_pb2_grpc.EvidenceServiceStub(channel)

    async def lookup(self, evidence_ids: Sequence[str]):
        # The pipeline service reads evidence on its own account; the workflow's lock then
        # decides whether the caller's files count.
        metadata = PIPELINE_SERVICE_CALLER.metadata()
        return await asyncio.gather(
            *(self._one(evidence_id, metadata) for evidence_id in evidence_ids)
        )

    async def _one(self, evidence_id: str, metadata) -> EvidenceItem:
        if not evidence_id.strip():
            raise InvalidArgument("evidence_ids", "an evidence id is empty")
        try:
            record = await self._stub.GetEvidence(
                evidence_pb2.GetEvidenceRequest(evidence_id=evidence_id), metadata=metadata
            )
        except grpc.aio.AioRpcError as error:
            if error.code() in (grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT):
                raise NotFound(f"evidence {evidence_id!r} does not exist") from error
            raise Unavailable(
                f"the evidence service could not check {evidence_id!r}: {error.code().name}"
            ) from error
        return EvidenceItem(
            evidence_id=record.evidence_id,
            opportunity_id=record.opportunity_id,
            kind=record.kind,
            sha256=record.sha256,
            captured_at=(
                record.captured_at.ToDatetime(tzinfo=UTC)
                if record.HasField("captured_at")
                else None
            ),
            content_type=record.content_type,
            uploaded_by=record.uploaded_by,
            flags=list(record.flags),
            captured_local=record.captured_local,
            capture_offset_assumed=record.capture_offset_assumed,
        )


class PipelineServicer(pipeline_pb2_grpc.PipelineServiceServicer):
    def __init__(
        self,
        commands: PipelineCommands,
        sessions,
        templates: TemplateStore,
        feedback: StrategyFeedback | None = None,
    ) -> None:
        self._commands = commands
        self._sessions = sessions
        self._templates = templates
        self._feedback = feedback

    @rpc
    async def StartPipeline(self, request, context, caller):
        """Starts an opportunity's pipeline; a repeated start returns the running one."""
        started = await self._commands.start(
            caller,
            opportunity_id=request.opportunity_id,
            rep_id=request.rep_id,
            account=request.account,
            product=request.product,
            template_id=request.template_id,
        )
        snapshot = await self._commands.get(caller, opportunity_id=request.opportunity_id.strip())
        return pipeline_pb2.StartPipelineResponse(
            workflow_id=started.workflow_id,
            already_running=started.already_running,
            state=snapshot_to_proto(snapshot, started.workflow_id),
        )

    @rpc
    async def CompleteAction(self, request, context, caller):
        """Completes the current action, or FAILED_PRECONDITION listing what is missing;
        with a strategy suggestion when the action recorded response strategies."""
        answers = [AnswerInput(key=a.key, values=list(a.values)) for a in request.answers]
        result = await self._commands.complete_action(
            caller,
            opportunity_id=request.opportunity_id,
            action_key=request.action_key,
            evidence_ids=list(request.evidence_ids),
            answers=answers,
            note=request.note,
        )
        snapshot = await self._commands.get(caller, opportunity_id=request.opportunity_id.strip())

        response = pipeline_pb2.CompleteActionResponse(
            state=snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id)),
            points=result.points,
            on_time=result.on_time,
        )
        if self._feedback is not None:
            suggestion = await self._feedback.suggestion(
                caller,
                rep_id=snapshot.rep_id,
                opportunity_id=snapshot.opportunity_id,
                action_key=result.action_key,
                answers=answers,
            )
            if suggestion is not None:
                response.suggestion.CopyFrom(suggestion)
        return response

    @rpc
    async def RecordCustomerReply(self, request, context, caller):
        """Records a customer reply; the silence clock starts again."""
        snapshot = await self._commands.record_customer_reply(
            caller, opportunity_id=request.opportunity_id, note=request.note
        )
        return snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id))

    @rpc
    async def ClosePipeline(self, request, context, caller):
        """Closes a pipeline as lost with the reason."""
        snapshot = await self._commands.close_lost(
            caller, opportunity_id=request.opportunity_id, reason=request.reason
        )
        return snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id))

    @rpc
    async def PauseAction(self, request, context, caller):
        """Pauses the current action's clocks, with a reason."""
        snapshot = await self._commands.pause_action(
            caller,
            opportunity_id=request.opportunity_id,
            reason=request.reason,
            action_key=request.action_key,
        )
        return snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id))

    @rpc
    async def ResumeAction(self, request, context, caller):
        """Resumes a paused action; its pending deadlines move out by the paused time."""
        snapshot = await self._commands.resume_action(
            caller, opportunity_id=request.opportunity_id, action_key=request.action_key
        )
        return snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id))

    @rpc
    async def ResubmitAction(self, request, context, caller):
        """Resubmits an action a department sent back; its review is requested again."""
        snapshot = await self._commands.resubmit_action(
            caller,
            opportunity_id=request.opportunity_id,
            note=request.note,
            action_key=request.action_key,
        )
        return snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id))

    @rpc
    async def GetPipeline(self, request, context, caller):
        """The live state: current action, since when, what is overdue, open tickets."""
        snapshot = await self._commands.get(caller, opportunity_id=request.opportunity_id)
        return snapshot_to_proto(snapshot, _workflow_id(request.opportunity_id))

    @rpc
    async def ListPipelines(self, request, context, caller):
        """Pipelines by rep, region, current action and outcome, within the caller's scope."""
        regions = None
        if request.region:
            caller.require_region(request.region)
            regions = [request.region]
        elif not caller.may_see_region("*"):
            regions = sorted(caller.regions)
        rep_id = request.rep_id
        if caller.role is Role.REP:
            if rep_id and rep_id != caller.id:
                raise InvalidArgument("rep_id", "a rep lists only their own pipelines")
            rep_id = caller.id
        if request.current_action:
            known = await self._templates.known_action_keys()
            if request.current_action not in known:
                raise InvalidArgument(
                    "current_action",
                    f"no template has action {request.current_action!r}; "
                    f"known: {', '.join(sorted(known))}",
                )
        if request.page_token and not request.page_token.isprintable():
            raise InvalidArgument("page_token", "is not a token this service issued")
        rows, next_token = await projection.list_pipelines(
            self._sessions,
            rep_id=rep_id,
            regions=regions,
            current_action=request.current_action,
            outcome=request.outcome,
            page_size=request.page_size,
            page_token=request.page_token,
        )
        response = pipeline_pb2.ListPipelinesResponse(next_page_token=next_token)
        for row in rows:
            summary = response.pipelines.add(
                opportunity_id=row.opportunity_id,
                rep_id=row.rep_id,
                region=row.region,
                account=row.account,
                outcome=row.outcome,
                current_action=row.current_action,
                overdue_actions=row.overdue_actions,
            )
            _timestamp(summary, "current_since", row.current_since)
        return response


def _workflow_id(opportunity_id: str) -> str:
    return workflow_id_for(opportunity_id.strip())
