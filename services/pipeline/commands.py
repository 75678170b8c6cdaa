"""The pipeline service's domain: start pipelines and act on them through their workflows.

Used by the gRPC servicer and, in-process, by the CLI's replay, so both meet the same
checks. The workflow enforces the evidence lock; this layer resolves people and evidence,
checks who may act, and turns workflow answers into domain errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import ApplicationError, WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Unavailable,
    require,
)
from salesflow.core.oplog import append_operation
from salesflow.pipeline.v1 import pipeline_pb2
from services.pipeline.models import Person
from workflows.pipeline.template import DEFAULT_TEMPLATE_ID, PipelineTemplate
from workflows.pipeline.types import (
    AnswerInput,
    CloseInput,
    CompleteActionInput,
    CompleteActionResult,
    CustomerReplyInput,
    EvidenceItem,
    PauseInput,
    PipelineInput,
    PipelineSnapshot,
    RejectedEvidence,
    ResubmitInput,
    ResumeInput,
    Unmet,
    workflow_id_for,
)
from workflows.pipeline.workflow import (
    INCOMPLETE_ERROR_TYPE,
    PipelineWorkflow,
)

logger = logging.getLogger(__name__)

SERVICE = "pipeline"
MAX_ID_LENGTH = 100
MAX_REASON_LENGTH = 500
# The team directory changes rarely (hires, handovers); a short cache keeps starts cheap.
PEOPLE_CACHE_SECONDS = 30.0
# Roles that may change a pipeline; HR, legal and logistics only read them.
SALES_ROLES = frozenset({Role.REP, Role.MANAGER, Role.DIRECTOR, Role.ADMIN, Role.SYSTEM})
# How long a caller waits for a pipeline's worker before hearing UNAVAILABLE.
WORKER_ANSWER_TIMEOUT = timedelta(seconds=15)

# Resolves evidence ids to what the lock needs; raises NotFound for unknown ids.
EvidenceLookup = Callable[[Sequence[str]], Awaitable[list[EvidenceItem]]]
# The latest saved version of a template by id; raises NotFound for an unknown template.
TemplateLookup = Callable[[str], Awaitable[PipelineTemplate]]


@dataclass
class StartResult:
    workflow_id: str
    already_running: bool


class PipelineCommands:
    def __init__(
        self,
        *,
        temporal: Client,
        sessions: async_sessionmaker[AsyncSession],
        task_queue: str,
        evidence_lookup: EvidenceLookup,
        template_lookup: TemplateLookup,
        search_attributes: bool = False,
    ) -> None:
        self._temporal = temporal
        self._sessions = sessions
        self._task_queue = task_queue
        self._evidence_lookup = evidence_lookup
        self._search_attributes = search_attributes
        self._template_lookup = template_lookup
        self._people: dict[str, tuple[Person, float]] = {}

    async def start(
        self,
        caller: Caller,
        *,
        opportunity_id: str,
        rep_id: str,
        account: str = "",
        product: str = "",
        template_id: str = "",
        clock_shift: timedelta = timedelta(0),
    ) -> StartResult:
        """Starts one pipeline per opportunity; a second start returns the first."""
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        rep_id = require(rep_id, "rep_id")
        template_id = template_id.strip() or DEFAULT_TEMPLATE_ID

        if caller.role not in SALES_ROLES:
            raise PermissionDenied(f"role {caller.role.value} may not start pipelines")
        rep = await self._person(rep_id)
        if rep.role != "rep":
            raise InvalidArgument("rep_id", f"{rep_id} is a {rep.role}, not a rep")
        caller.require_region(rep.region)
        if caller.role is Role.REP and caller.id != rep_id:
            raise InvalidArgument("rep_id", "a rep starts pipelines only for themself")
        # The latest version now; the pipeline keeps it whatever is saved later.
        template = await self._template_lookup(template_id)
        director_id = await self._director_of(rep.region)

        workflow_id = workflow_id_for(opportunity_id)
        pipeline_input = PipelineInput(
            opportunity_id=opportunity_id,
            rep_id=rep.person_id,
            manager_id=rep.manager_id or "",
            director_id=director_id,
            region=rep.region,
            account=account.strip(),
            product=product.strip(),
            template=template,
            clock_shift_seconds=clock_shift.total_seconds(),
            search_attributes=self._search_attributes,
            rep_time_zone=rep.time_zone or "",
        )
        try:
            await self._temporal.start_workflow(
                PipelineWorkflow.run,
                pipeline_input,
                id=workflow_id,
                task_queue=self._task_queue,
                # A won or lost pipeline is final: the same opportunity never starts again.
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            return StartResult(workflow_id=workflow_id, already_running=True)

        if caller.role is not Role.SYSTEM:
            await self._log(
                caller,
                "pipeline.started",
                opportunity_id,
                {
                    "rep_id": rep_id,
                    "template_id": template_id,
                    "template_version": template.version,
                },
            )
        logger.info("pipeline started opportunity=%s rep=%s", opportunity_id, rep_id)
        return StartResult(workflow_id=workflow_id, already_running=False)

    async def complete_action(
        self,
        caller: Caller,
        *,
        opportunity_id: str,
        action_key: str,
        evidence_ids: Sequence[str] = (),
        answers: Sequence[AnswerInput] = (),
        note: str = "",
        evidence: Sequence[EvidenceItem] | None = None,
    ) -> CompleteActionResult:
        """Completes the current action; FailedPrecondition lists what is missing."""
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        action_key = require(action_key, "action_key")
        if len(set(evidence_ids)) != len(evidence_ids):
            raise InvalidArgument("evidence_ids", "an evidence id is listed twice")
        for answer in answers:
            require(answer.key, "answers.key")

        handle = await self._authorised_handle(caller, opportunity_id)
        items = (
            list(evidence) if evidence is not None else await self._evidence_lookup(evidence_ids)
        )
        request = CompleteActionInput(
            action_key=action_key,
            evidence=items,
            answers=list(answers),
            note=note,
            actor_id=caller.id,
        )
        # One update id per action: a client retrying after a lost answer gets the first
        # result back instead of a second completion (refused attempts are not kept).
        result = await self._update(
            handle, PipelineWorkflow.complete_action, request, update_id=f"complete:{action_key}"
        )
        if caller.role is not Role.SYSTEM:
            await self._log(
                caller,
                "action.completed",
                opportunity_id,
                {"action_key": action_key, "evidence_ids": list(evidence_ids)},
            )
        return result

    async def record_customer_reply(
        self, caller: Caller, *, opportunity_id: str, note: str = ""
    ) -> PipelineSnapshot:
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        handle = await self._authorised_handle(caller, opportunity_id)
        snapshot = await self._update(
            handle, PipelineWorkflow.record_customer_reply, CustomerReplyInput(note=note)
        )
        if caller.role is not Role.SYSTEM:
            await self._log(caller, "customer.replied", opportunity_id, {"note": note})
        return snapshot

    async def close_lost(
        self, caller: Caller, *, opportunity_id: str, reason: str
    ) -> PipelineSnapshot:
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        reason = require(reason, "reason")
        handle = await self._authorised_handle(caller, opportunity_id)
        snapshot = await self._update(
            handle, PipelineWorkflow.close_lost, CloseInput(reason=reason, actor_id=caller.id)
        )
        if caller.role is not Role.SYSTEM:
            await self._log(caller, "pipeline.lost", opportunity_id, {"reason": reason})
        return snapshot

    async def pause_action(
        self, caller: Caller, *, opportunity_id: str, reason: str, action_key: str = ""
    ) -> PipelineSnapshot:
        """Stops the current action's clocks; FailedPrecondition when it is already paused."""
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        reason = require(reason, "reason")
        if len(reason) > MAX_REASON_LENGTH:
            raise InvalidArgument("reason", f"must be at most {MAX_REASON_LENGTH} characters")

        handle = await self._authorised_handle(caller, opportunity_id)
        request = PauseInput(reason=reason, actor_id=caller.id, action_key=action_key.strip())
        snapshot = await self._update(handle, PipelineWorkflow.pause_action, request)
        if caller.role is not Role.SYSTEM:
            await self._log(
                caller,
                "action.paused",
                opportunity_id,
                {"action_key": snapshot.current_action, "reason": reason},
            )
        logger.info(
            "action paused opportunity=%s action=%s", opportunity_id, snapshot.current_action
        )
        return snapshot

    async def resume_action(
        self, caller: Caller, *, opportunity_id: str, action_key: str = ""
    ) -> PipelineSnapshot:
        """Starts the paused action's clocks again; its pending deadlines move out by the
        paused time. FailedPrecondition when it is not paused."""
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")

        handle = await self._authorised_handle(caller, opportunity_id)
        request = ResumeInput(actor_id=caller.id, action_key=action_key.strip())
        snapshot = await self._update(handle, PipelineWorkflow.resume_action, request)
        if caller.role is not Role.SYSTEM:
            action = next(a for a in snapshot.actions if a.key == snapshot.current_action)
            await self._log(
                caller,
                "action.resumed",
                opportunity_id,
                {"action_key": action.key, "paused_seconds": action.paused_seconds},
            )
        logger.info(
            "action resumed opportunity=%s action=%s", opportunity_id, snapshot.current_action
        )
        return snapshot

    async def resubmit_action(
        self, caller: Caller, *, opportunity_id: str, note: str = "", action_key: str = ""
    ) -> PipelineSnapshot:
        """Resubmits the current action a department sent back (a rejected ticket is
        requested again, a ticket awaiting changes goes back to its department).
        FailedPrecondition when nothing of it was sent back."""
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        note = (note or "").strip()
        if len(note) > MAX_REASON_LENGTH:
            raise InvalidArgument("note", f"must be at most {MAX_REASON_LENGTH} characters")

        handle = await self._authorised_handle(caller, opportunity_id)
        request = ResubmitInput(note=note, actor_id=caller.id, action_key=action_key.strip())
        snapshot = await self._update(handle, PipelineWorkflow.resubmit_action, request)
        if caller.role is not Role.SYSTEM:
            await self._log(
                caller,
                "action.resubmitted",
                opportunity_id,
                {"action_key": snapshot.current_action, "note": note},
            )
        logger.info(
            "action resubmitted opportunity=%s action=%s", opportunity_id, snapshot.current_action
        )
        return snapshot

    async def get(self, caller: Caller, *, opportunity_id: str) -> PipelineSnapshot:
        opportunity_id = _checked_id(opportunity_id, "opportunity_id")
        snapshot = await self._query(
            self._temporal.get_workflow_handle(workflow_id_for(opportunity_id))
        )
        _authorise(caller, snapshot, write=False)
        return snapshot

    # ---- helpers ---------------------------------------------------------------------------

    async def _person(self, person_id: str) -> Person:
        cached = self._people.get(person_id)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0]
        async with self._sessions() as session:
            person = await session.get(Person, person_id)
        if person is not None:
            self._people[person_id] = (person, time.monotonic() + PEOPLE_CACHE_SECONDS)
        if person is None:
            raise NotFound(f"rep {person_id!r} is not in the team directory")
        if not person.active:
            raise FailedPrecondition(f"rep {person_id!r} has left; hand their pipelines over")
        return person

    async def _director_of(self, region: str) -> str:
        """The active sales director of the region (one over all regions otherwise), or ""."""
        key = f"director:{region}"
        cached = self._people.get(key)
        if cached is not None and cached[1] > time.monotonic():
            return cached[0].person_id
        async with self._sessions() as session:
            directors = (
                await session.scalars(
                    select(Person)
                    .where(Person.role == "director", Person.active.is_(True))
                    .where(Person.region.in_((region, "*")))
                    .order_by(Person.person_id)
                )
            ).all()
        # The region's own director first; one for every region when the region has none.
        chosen = next((d for d in directors if d.region == region), None) or next(
            iter(directors), None
        )
        if chosen is None:
            return ""
        self._people[key] = (chosen, time.monotonic() + PEOPLE_CACHE_SECONDS)
        return chosen.person_id

    async def _authorised_handle(self, caller: Caller, opportunity_id: str) -> WorkflowHandle:
        """The pipeline's handle, once the caller is known to be allowed to change it."""
        handle = self._temporal.get_workflow_handle(workflow_id_for(opportunity_id))
        if caller.role is Role.SYSTEM:
            return handle
        if caller.role not in SALES_ROLES:
            raise PermissionDenied(
                f"role {caller.role.value} may read pipelines but not change them"
            )
        snapshot = await self._query(handle)
        _authorise(caller, snapshot, write=True)
        if snapshot.outcome != "open":
            # Refused here: a finished workflow cannot answer an update's validator.
            raise FailedPrecondition(
                f"pipeline {opportunity_id!r} is closed ({snapshot.outcome}); it takes no changes"
            )
        return handle

    async def _query(self, handle: WorkflowHandle) -> PipelineSnapshot:
        try:
            return await handle.query(PipelineWorkflow.state, rpc_timeout=WORKER_ANSWER_TIMEOUT)
        except RPCError as error:
            raise _translated_rpc_error(error, handle.id) from error

    async def _update(self, handle: WorkflowHandle, update, argument, *, update_id=None):
        try:
            return await handle.execute_update(
                update, argument, id=update_id, rpc_timeout=WORKER_ANSWER_TIMEOUT
            )
        except WorkflowUpdateFailedError as failure:
            raise _translated_update_failure(failure, handle.id) from failure
        except WorkflowUpdateRPCTimeoutOrCancelledError as timeout:
            raise Unavailable(
                f"pipeline {handle.id} did not answer within "
                f"{WORKER_ANSWER_TIMEOUT.total_seconds():.0f}s (is a worker running?); "
                "retrying is safe"
            ) from timeout
        except RPCError as error:
            raise _translated_rpc_error(error, handle.id) from error

    async def _log(self, caller: Caller, operation: str, subject: str, payload: dict) -> None:
        async with self._sessions() as session, session.begin():
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation=operation,
                subject=subject,
                payload=payload,
            )


def _checked_id(value: str, field: str) -> str:
    value = require(value, field)
    if len(value) > MAX_ID_LENGTH or any(char.isspace() for char in value):
        raise InvalidArgument(field, f"must be 1-{MAX_ID_LENGTH} characters without spaces")
    return value


def _authorise(caller: Caller, snapshot: PipelineSnapshot, *, write: bool) -> None:
    """Reps act on their own pipelines, managers within their regions, directors and
    admins anywhere; other departments (HR, legal, logistics) may only read."""
    if write and caller.role not in SALES_ROLES:
        raise PermissionDenied(f"role {caller.role.value} may read pipelines but not change them")
    if caller.role is Role.REP and caller.id != snapshot.rep_id:
        raise PermissionDenied(f"{caller.id} does not own pipeline {snapshot.opportunity_id}")
    caller.require_region(snapshot.region)


def _translated_rpc_error(error: RPCError, workflow_id: str) -> Exception:
    opportunity_id = workflow_id.removeprefix("pipeline-")
    if error.status == RPCStatusCode.NOT_FOUND and "already completed" in error.message:
        return FailedPrecondition(f"pipeline {opportunity_id!r} is closed; it takes no changes")
    if error.status == RPCStatusCode.NOT_FOUND:
        return NotFound(f"no pipeline {opportunity_id!r}")
    if error.status in (
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.CANCELLED,
    ):
        return Unavailable(f"pipeline {workflow_id} could not be reached: {error.message}")
    return error


def _translated_update_failure(failure: WorkflowUpdateFailedError, workflow_id: str) -> Exception:
    cause = failure.cause
    if not isinstance(cause, ApplicationError):
        return failure
    if cause.type == INCOMPLETE_ERROR_TYPE:
        opportunity_id = workflow_id.removeprefix("pipeline-")
        unmet = [_unmet_from(detail) for detail in cause.details]
        rejection = pipeline_pb2.CompleteActionRejection(
            opportunity_id=opportunity_id,
            action_key=cause.message.split(" ", 1)[0],
            unmet=[
                pipeline_pb2.UnmetRequirement(
                    kind=item.kind,
                    key=item.key,
                    required=item.required,
                    provided=item.provided,
                    message=item.message,
                    rejected=[
                        pipeline_pb2.RejectedEvidence(
                            evidence_id=refusal.evidence_id,
                            reason=refusal.reason,
                            detail=refusal.detail,
                        )
                        for refusal in item.rejected
                    ],
                )
                for item in unmet
            ],
        )
        return FailedPrecondition(cause.message, detail=rejection)
    return FailedPrecondition(cause.message)


def _unmet_from(detail) -> Unmet:
    """An Unmet from a failure detail (the workflow's dataclass arrives as a plain dict)."""
    if isinstance(detail, Unmet):
        return detail
    fields = dict(detail)
    fields["rejected"] = [
        refusal if isinstance(refusal, RejectedEvidence) else RejectedEvidence(**refusal)
        for refusal in fields.get("rejected", [])
    ]
    return Unmet(**fields)
