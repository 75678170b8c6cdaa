"""The ticket desk: opens tickets that pipelines request and moves them through their states.

    open ──acknowledge──> acknowledged ──request changes──> changes_requested
      │                       │   ▲                              │
      │                       │   └──── the rep resubmits ───────┤
      └───────────────────────┴──── resolve / reject ────────────┴──> resolved | rejected

    any open state ── the pipeline closes ──> withdrawn

A ticket opens with a response target in business minutes of its department's calendar
(`respond_by`) and a response clock (TicketResponseWorkflow) that escalates to the
department's head when no first response came by then. The first acknowledgement, comment,
request for changes, resolution or rejection by the department is the first response.

Every change is stored with its history row and operation-log entry in one transaction,
then the response clock and the waiting pipeline workflow are told, and a ticket.changed
event is published. Event ids are stable (ticket:<key>:<status>[:<round>]), so any step after
the commit can be repeated: asking for a change the ticket already has re-publishes and
re-signals instead of failing, which is how a caller recovers when the first attempt died
after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from salesflow.core.caller import SYSTEM_CALLER, Caller, Role
from salesflow.core.db import insert_ignoring_duplicates, utcnow
from salesflow.core.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    require,
)
from salesflow.core.events import EventBus, new_event
from salesflow.core.oplog import Operation, append_operation, append_operations
from salesflow.events.v1 import events_pb2
from services.ticketing.departments import (
    DepartmentConfig,
    calendar_from_json,
    calendar_json,
    load_departments,
    resolved_for,
)
from services.ticketing.models import (
    CLOSED_STATUSES,
    STATUS_ACKNOWLEDGED,
    STATUS_CHANGES_REQUESTED,
    STATUS_OPEN,
    STATUS_REJECTED,
    STATUS_RESOLVED,
    STATUS_WITHDRAWN,
    STATUSES,
    Ticket,
    TicketComment,
    TicketEvent,
)
from services.ticketing.report import DepartmentFigures, TicketTimes, department_figures
from workflows.pipeline.calendar import add_business_time
from workflows.pipeline.template import DEPARTMENTS
from workflows.pipeline.types import TicketChangedInput
from workflows.ticket_response.types import (
    ResponseLevel,
    TicketReassigned,
    TicketResponded,
    TicketResponseInput,
    response_workflow_id,
)
from workflows.ticket_response.workflow import TicketResponseWorkflow

logger = logging.getLogger(__name__)

SERVICE = "ticketing"
EVENT_SOURCE = "salesflow/services/ticketing"
DEFAULT_RESPONSE_TARGET_MINUTES = 120
# The status a ticket.changed event and the history use for a ticket that was just opened.
OPENED = "opened"
# History and ticket.changed statuses that are events in a ticket's life, not its status.
RESUBMITTED = "resubmitted"
ESCALATED = "escalated"
ASSIGNED = "assigned"
TICKET_SIGNAL = "ticket_changed"
MAX_NOTE_LENGTH = 2000

# Which statuses each change may start from.
_ALLOWED_FROM = {
    STATUS_ACKNOWLEDGED: (STATUS_OPEN,),
    STATUS_CHANGES_REQUESTED: (STATUS_OPEN, STATUS_ACKNOWLEDGED),
    STATUS_RESOLVED: (STATUS_OPEN, STATUS_ACKNOWLEDGED, STATUS_CHANGES_REQUESTED),
    STATUS_REJECTED: (STATUS_OPEN, STATUS_ACKNOWLEDGED, STATUS_CHANGES_REQUESTED),
}
# Roles that read every department's report besides the department itself.
REPORT_READERS = (Role.DIRECTOR, Role.SALES_OPS, Role.ADMIN, Role.SYSTEM)

Clock = Callable[[], datetime]


class SignalNotDelivered(RuntimeError):
    """A workflow could not be told of a ticket change; repeating the change retries it."""


def changed_event_id(ticket_key: str, status: str, round: int = 0) -> str:
    """ticket:<key>:<status>, and :<round> for a change made again after a resubmission."""
    base = f"ticket:{ticket_key}:{status}"
    return f"{base}:{round}" if round else base


@dataclass
class TicketDetail:
    """A ticket with its comments and history, oldest first."""

    ticket: Ticket
    comments: list[TicketComment]
    history: list[TicketEvent]


class TicketDesk:
    """Tickets for legal and logistics: opening, reading, changing and reporting on them.

    `now` gives the time of responses and changes; the wall clock by default, the
    simulated clock when the CLI replays a past export. Response clocks run as workflows on
    `task_queue`.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        temporal: Client,
        task_queue: str = "salesflow-pipelines",
        now: Clock = utcnow,
        signal_attempts: int = 5,
        signal_backoff: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._temporal = temporal
        self._task_queue = task_queue
        self._now = now
        self._signal_attempts = signal_attempts
        self._signal_backoff = signal_backoff

    # ---- opening -----------------------------------------------------------------------------

    async def open_from_events(self, events: Sequence[events_pb2.Event]) -> int:
        """Opens a ticket per ticket.requested event; returns how many were new.

        A ticket that exists already is left as it is, so a redelivered event opens nothing.
        Each ticket still waiting for its first response gets its response clock (started
        once; a repeated start finds it running).
        """
        requested: dict[str, events_pb2.Event] = {}
        for event in events:
            if event.type == "ticket.requested" and event.HasField("ticket_requested"):
                requested.setdefault(event.ticket_requested.ticket_key, event)
        if not requested:
            return 0

        async with self._sessions.begin() as session:
            departments = await load_departments(
                session, [event.ticket_requested.department for event in requested.values()]
            )
            rows = {key: _ticket_row(event, departments) for key, event in requested.items()}
            await self._assign_new(session, rows, departments)
            columns = [
                {name: value for name, value in row.items() if name != "note"}
                for row in rows.values()
            ]
            statement = insert_ignoring_duplicates(session, Ticket, columns)
            result = await session.execute(statement.returning(Ticket.ticket_key))
            opened = sorted(result.scalars())
            session.add_all(
                _history(key, OPENED, SYSTEM_CALLER, rows[key]["note"], rows[key]["opened_at"])
                for key in opened
            )
            await append_operations(session, [_opened_operation(rows[key]) for key in opened])
            waiting = list(
                await session.scalars(
                    select(Ticket).where(
                        Ticket.ticket_key.in_(list(rows)),
                        Ticket.first_response_at.is_(None),
                        Ticket.status.not_in(CLOSED_STATUSES),
                    )
                )
            )

        for ticket in waiting:
            await self._start_response_clock(ticket, departments[ticket.department])
        # Every requested ticket is announced, not only the new ones: if a crash came between
        # the commit and the publish, the redelivered batch publishes now, and the stable id
        # makes the announcement a no-op for everyone who saw it the first time.
        for row in rows.values():
            await self._bus.publish(
                _changed_event(
                    row, OPENED, actor_id=row["assignee_id"], note=row["note"], at=row["opened_at"]
                )
            )
        logger.info("tickets requested=%d opened=%d", len(rows), len(opened))
        return len(opened)

    async def _assign_new(
        self,
        session: AsyncSession,
        rows: dict[str, dict[str, Any]],
        departments: dict[str, DepartmentConfig],
    ) -> None:
        """Assigns each requested ticket: a review requested again goes to whoever had the
        rejected one, if still a member; otherwise the member with the fewest open tickets
        (ties by id). A department without members leaves the ticket unassigned."""
        loads: dict[str, Counter[str]] = {}
        for department in {row["department"] for row in rows.values()}:
            members = departments[department].members
            counted = await session.execute(
                select(Ticket.assignee_id, func.count())
                .where(
                    Ticket.department == department,
                    Ticket.assignee_id.in_(members),
                    Ticket.status.not_in(CLOSED_STATUSES),
                )
                .group_by(Ticket.assignee_id)
            )
            loads[department] = Counter({member: 0 for member in members})
            loads[department].update(dict(counted.all()))

        previous_keys = [row["previous_ticket_key"] for row in rows.values()]
        previous = {
            ticket.ticket_key: ticket.assignee_id
            for ticket in await session.scalars(
                select(Ticket).where(Ticket.ticket_key.in_([k for k in previous_keys if k]))
            )
        }
        for key in sorted(rows):
            row = rows[key]
            load = loads[row["department"]]
            if not load:
                continue
            earlier = previous.get(row["previous_ticket_key"], "")
            chosen = earlier if earlier in load else min(load, key=lambda m: (load[m], m))
            row["assignee_id"] = chosen
            load[chosen] += 1

    async def _start_response_clock(self, ticket: Ticket, department: DepartmentConfig) -> None:
        """Starts the ticket's TicketResponseWorkflow, once."""
        calendar = calendar_from_json(ticket.calendar)
        target = timedelta(minutes=ticket.response_target_minutes)
        levels = [
            ResponseLevel(
                level=number,
                at=add_business_time(calendar, ticket.opened_at, target * multiple),
                to_person=department.head_id,
            )
            for number, multiple in enumerate(department.escalate_after, start=1)
        ]
        clock = TicketResponseInput(
            ticket_key=ticket.ticket_key,
            department=ticket.department,
            opportunity_id=ticket.opportunity_id,
            rep_id=ticket.rep_id,
            region=ticket.region,
            opened_at=ticket.opened_at,
            respond_by=ticket.respond_by,
            response_target_minutes=ticket.response_target_minutes,
            levels=levels,
            assignee_id=ticket.assignee_id,
            clock_shift_seconds=ticket.clock_shift_seconds,
        )
        try:
            await self._temporal.start_workflow(
                TicketResponseWorkflow.run,
                clock,
                id=response_workflow_id(ticket.ticket_key),
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE,
            )
        except WorkflowAlreadyStartedError:
            logger.debug("response clock of ticket=%s runs already", ticket.ticket_key)

    # ---- changes -----------------------------------------------------------------------------

    async def acknowledge(
        self, caller: Caller, ticket_key: str, note: str = "", *, at: datetime | None = None
    ) -> Ticket:
        """A department member takes the ticket; the first response time is recorded.

        `at` is when it happened, for a replay that knows; the desk's clock otherwise.
        """
        return await self._change(caller, ticket_key, STATUS_ACKNOWLEDGED, note, at)

    async def request_changes(
        self, caller: Caller, ticket_key: str, note: str, *, at: datetime | None = None
    ) -> Ticket:
        """Asks the rep for changes with a reason: the pipeline's action goes back to the
        rep, the ticket stays open until the rep resubmits."""
        _require_reason(note, "changes")
        return await self._change(caller, ticket_key, STATUS_CHANGES_REQUESTED, note, at)

    async def resolve(
        self, caller: Caller, ticket_key: str, note: str = "", *, at: datetime | None = None
    ) -> Ticket:
        """Approves the ticket; the waiting pipeline may then complete its action."""
        return await self._change(caller, ticket_key, STATUS_RESOLVED, note, at)

    async def reject(
        self, caller: Caller, ticket_key: str, note: str, *, at: datetime | None = None
    ) -> Ticket:
        """Rejects the ticket with a reason; the action goes back to the rep, who may
        resubmit it (the review is then requested again as a new ticket)."""
        _require_reason(note, "rejection")
        return await self._change(caller, ticket_key, STATUS_REJECTED, note, at)

    async def comment(
        self, caller: Caller, ticket_key: str, body: str, *, at: datetime | None = None
    ) -> Ticket:
        """Adds a comment. The department's first comment is its first response; the
        ticket's rep may comment too (that answers nothing)."""
        ticket_key = require(ticket_key, "ticket_key")
        body = require(body, "body")
        _require_length(body, "body")

        async with self._sessions.begin() as session:
            ticket = await _locked(session, ticket_key)
            if not _may_comment(caller, ticket):
                raise PermissionDenied(
                    f"{caller.id} ({caller.role.value}) may not comment on {ticket_key}"
                )
            now = at or self._now()
            first = _is_department(caller, ticket) and ticket.first_response_at is None
            if first:
                ticket.first_response_at = now
                ticket.first_responder_id = caller.id
            session.add(
                TicketComment(
                    ticket_key=ticket_key,
                    author_id=caller.id,
                    author_role=caller.role.value,
                    body=body,
                    created_at=now,
                )
            )
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="ticket.commented",
                subject=f"ticket:{ticket_key}",
                payload={"body": body, "at": now, "first_response": first},
            )
        logger.info("ticket key=%s comment by=%s first_response=%s", ticket_key, caller.id, first)
        if first:
            await self._tell_response_clock(ticket)
        return ticket

    async def assign(self, caller: Caller, ticket_key: str, assignee_id: str) -> Ticket:
        """Assigns or reassigns the ticket to an active member of its department."""
        ticket_key = require(ticket_key, "ticket_key")
        assignee_id = require(assignee_id, "assignee_id")

        async with self._sessions.begin() as session:
            ticket = await _locked(session, ticket_key)
            _require_department(caller, ticket)
            if ticket.status in CLOSED_STATUSES:
                raise FailedPrecondition(f"ticket {ticket_key} is {ticket.status}")
            if ticket.assignee_id == assignee_id:
                return ticket
            department = (await load_departments(session, [ticket.department]))[ticket.department]
            if assignee_id not in department.members:
                members = ", ".join(department.members) or "none on record"
                raise InvalidArgument(
                    "assignee_id",
                    f"{assignee_id} is not an active member of {ticket.department} "
                    f"(members: {members})",
                )
            previous, ticket.assignee_id = ticket.assignee_id, assignee_id
            now = self._now()
            session.add(_history(ticket_key, ASSIGNED, caller, assignee_id, now))
            await append_operation(
                session,
                caller=caller,
                service=SERVICE,
                operation="ticket.assigned",
                subject=f"ticket:{ticket_key}",
                payload={"from": previous, "to": assignee_id, "at": now},
            )
        logger.info("ticket key=%s assigned %s -> %s", ticket_key, previous or "-", assignee_id)
        await self._signal(
            response_workflow_id(ticket_key),
            TicketResponseWorkflow.reassigned,
            TicketReassigned(assignee_id),
            required=False,
        )
        return ticket

    async def _change(
        self, caller: Caller, raw_key: str, status: str, note: str, at: datetime | None
    ) -> Ticket:
        ticket_key = require(raw_key, "ticket_key")
        note = (note or "").strip()
        _require_length(note, "note")

        async with self._sessions.begin() as session:
            ticket = await _locked(session, ticket_key)
            _require_department(caller, ticket)
            repeated = ticket.status == status
            if not repeated:
                if ticket.status not in _ALLOWED_FROM[status]:
                    raise FailedPrecondition(
                        f"ticket {ticket_key} is {ticket.status}; it cannot become {status}"
                    )
                await self._apply(session, caller, ticket, status, note, at or self._now())

        if repeated:
            logger.info("ticket key=%s already %s; delivering it again", ticket_key, status)
        await self._tell_response_clock(ticket)
        note = ticket.resolution_note
        round = ticket.resubmissions if status == STATUS_CHANGES_REQUESTED else 0
        await self._bus.publish(
            _changed_event(
                _ticket_fields(ticket),
                status,
                actor_id=ticket.assignee_id,
                note=note,
                at=ticket.status_changed_at or self._now(),
                round=round,
            )
        )
        change = TicketChangedInput(
            ticket_key=ticket_key, status=status, note=note, round=ticket.resubmissions
        )
        await self._signal(ticket.workflow_id, TICKET_SIGNAL, change, required=True)
        return ticket

    async def _apply(
        self,
        session: AsyncSession,
        caller: Caller,
        ticket: Ticket,
        status: str,
        note: str,
        now: datetime,
    ) -> None:
        previous = ticket.status
        ticket.status = status
        ticket.status_changed_at = now
        ticket.resolution_note = note
        if not ticket.assignee_id:
            ticket.assignee_id = caller.id
        if ticket.first_response_at is None:
            ticket.first_response_at = now
            ticket.first_responder_id = caller.id
        if status in CLOSED_STATUSES:
            ticket.closed_at = now

        session.add(_history(ticket.ticket_key, status, caller, note, now))
        await append_operation(
            session,
            caller=caller,
            service=SERVICE,
            operation=f"ticket.{status}",
            subject=f"ticket:{ticket.ticket_key}",
            payload={"from": previous, "to": status, "note": note, "at": now},
        )
        logger.info("ticket key=%s %s -> %s by=%s", ticket.ticket_key, previous, status, caller.id)

    # ---- what the pipeline and the response clock report ------------------------------------

    async def apply_events(self, events: Sequence[events_pb2.Event]) -> int:
        """Records resubmissions (ticket.resubmitted), escalations (ticket.escalated) and
        closed pipelines (pipeline.closed: their open tickets are withdrawn); returns how
        many tickets changed. A redelivered event changes nothing."""
        changed = 0
        for event in events:
            kind = event.WhichOneof("payload")
            if kind == "ticket_resubmitted":
                changed += await self._record_resubmission(event)
            elif kind == "ticket_escalated":
                changed += await self._record_escalation(event)
            elif kind == "pipeline_closed":
                changed += await self._withdraw(event)
        return changed

    async def _withdraw(self, event: events_pb2.Event) -> int:
        """A closed pipeline waits for nothing: its open tickets are withdrawn and their
        response clocks cancelled, so nobody is escalated to for a deal that is over."""
        closed = event.pipeline_closed
        at = event.time.ToDatetime(tzinfo=UTC)
        note = f"pipeline {closed.outcome}" + (f": {closed.reason}" if closed.reason else "")
        async with self._sessions.begin() as session:
            tickets = list(
                await session.scalars(
                    select(Ticket)
                    .where(
                        Ticket.opportunity_id == event.opportunity_id,
                        Ticket.status.not_in(CLOSED_STATUSES),
                    )
                    .with_for_update()
                )
            )
            for ticket in tickets:
                previous = ticket.status
                ticket.status = STATUS_WITHDRAWN
                ticket.status_changed_at = ticket.closed_at = at
                ticket.resolution_note = note
                session.add(_history(ticket.ticket_key, STATUS_WITHDRAWN, SYSTEM_CALLER, note, at))
                await append_operation(
                    session,
                    caller=SYSTEM_CALLER,
                    service=SERVICE,
                    operation="ticket.withdrawn",
                    subject=f"ticket:{ticket.ticket_key}",
                    payload={"from": previous, "note": note, "at": at},
                )
            # Withdrawn ones of an earlier delivery too: if a crash came after the commit,
            # their clocks are cancelled and their change announced now.
            withdrawn = list(
                await session.scalars(
                    select(Ticket).where(
                        Ticket.opportunity_id == event.opportunity_id,
                        Ticket.status == STATUS_WITHDRAWN,
                    )
                )
            )

        for ticket in withdrawn:
            await self._cancel_response_clock(ticket.ticket_key)
            await self._bus.publish(
                _changed_event(
                    _ticket_fields(ticket),
                    STATUS_WITHDRAWN,
                    actor_id="",
                    note=ticket.resolution_note,
                    at=ticket.closed_at or at,
                )
            )
        for ticket in tickets:
            logger.info("ticket key=%s withdrawn (%s)", ticket.ticket_key, note)
        return len(tickets)

    async def _record_resubmission(self, event: events_pb2.Event) -> int:
        resubmitted = event.ticket_resubmitted
        at = event.time.ToDatetime(tzinfo=UTC)
        rep = Caller(id=resubmitted.actor_id or event.rep_id, role=Role.REP, regions=frozenset())
        async with self._sessions.begin() as session:
            ticket = await session.get(Ticket, resubmitted.ticket_key, with_for_update=True)
            if ticket is None or ticket.resubmissions >= resubmitted.round:
                return 0
            ticket.resubmissions = resubmitted.round
            if ticket.status == STATUS_CHANGES_REQUESTED:
                ticket.status = STATUS_ACKNOWLEDGED
                ticket.status_changed_at = at
            session.add(_history(ticket.ticket_key, RESUBMITTED, rep, resubmitted.note, at))
            await append_operation(
                session,
                caller=rep,
                service=SERVICE,
                operation="ticket.resubmitted",
                subject=f"ticket:{ticket.ticket_key}",
                payload={"round": resubmitted.round, "note": resubmitted.note, "at": at},
            )
        await self._bus.publish(
            _changed_event(
                _ticket_fields(ticket),
                RESUBMITTED,
                actor_id=rep.id,
                note=resubmitted.note,
                at=at,
                round=resubmitted.round,
            )
        )
        logger.info("ticket key=%s resubmitted round=%d", ticket.ticket_key, resubmitted.round)
        return 1

    async def _record_escalation(self, event: events_pb2.Event) -> int:
        escalated = event.ticket_escalated
        at = event.time.ToDatetime(tzinfo=UTC)
        async with self._sessions.begin() as session:
            ticket = await session.get(Ticket, escalated.ticket_key, with_for_update=True)
            if ticket is None or ticket.escalation_level >= escalated.level:
                return 0
            ticket.escalation_level = escalated.level
            ticket.escalated_at = ticket.escalated_at or at
            note = f"level {escalated.level} to {escalated.to_person or escalated.to_role}"
            session.add(_history(ticket.ticket_key, ESCALATED, SYSTEM_CALLER, note, at))
            await append_operation(
                session,
                caller=SYSTEM_CALLER,
                service=SERVICE,
                operation="ticket.escalated",
                subject=f"ticket:{ticket.ticket_key}",
                payload={"level": escalated.level, "to": escalated.to_person, "at": at},
            )
        logger.info("ticket key=%s escalated level=%d", ticket.ticket_key, escalated.level)
        return 1

    # ---- telling workflows -------------------------------------------------------------------

    async def _tell_response_clock(self, ticket: Ticket) -> None:
        """Stops the response clock once there is a first response (again on a repeat)."""
        if ticket.first_response_at is None:
            return
        await self._signal(
            response_workflow_id(ticket.ticket_key),
            TicketResponseWorkflow.responded,
            TicketResponded(at=ticket.first_response_at, by=ticket.first_responder_id),
            required=False,
        )

    async def _cancel_response_clock(self, ticket_key: str) -> None:
        handle = self._temporal.get_workflow_handle(response_workflow_id(ticket_key))
        try:
            await handle.cancel()
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
            logger.debug("response clock of ticket=%s has ended already", ticket_key)

    async def _signal(self, workflow_id: str, signal: Any, argument: Any, *, required: bool):
        """Signals a workflow, retrying with backoff; a gone or finished workflow is only
        logged. `required`: a pipeline must hear of the change, so a signal that cannot be
        delivered fails the call (repeating the change retries it). A response clock is told
        on a best-effort basis: the change is saved and a comment must not be repeated to
        retry, so failing to reach it is logged (at worst it escalates an answered ticket)."""
        handle = self._temporal.get_workflow_handle(workflow_id)
        for attempt in range(1, self._signal_attempts + 1):
            try:
                await handle.signal(signal, argument)
                logger.debug("signalled workflow=%s", workflow_id)
                return
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    log = logger.error if required else logger.debug
                    log(
                        "workflow=%s is gone; the ticket change reaches no one: %s",
                        workflow_id,
                        error.message,
                    )
                    return
                failure: Exception = error
            except Exception as error:
                failure = error
            logger.warning(
                "signal to workflow=%s failed attempt=%d/%d: %s",
                workflow_id,
                attempt,
                self._signal_attempts,
                failure,
            )
            if attempt < self._signal_attempts:
                await asyncio.sleep(self._signal_backoff * 2 ** (attempt - 1))
        if not required:
            logger.error(
                "workflow=%s did not receive the ticket change after %d attempts",
                workflow_id,
                self._signal_attempts,
            )
            return
        raise SignalNotDelivered(
            f"workflow {workflow_id} did not receive the ticket change after "
            f"{self._signal_attempts} attempts; repeat the change to retry"
        )

    # ---- reading -----------------------------------------------------------------------------

    async def get(self, caller: Caller, ticket_key: str) -> Ticket:
        """One ticket, if the caller may see it."""
        return (await self.detail(caller, ticket_key, with_history=False)).ticket

    async def detail(self, caller: Caller, ticket_key: str, *, with_history=True) -> TicketDetail:
        """One ticket with its comments and history in the order they were recorded, if the
        caller may see it."""
        ticket_key = require(ticket_key, "ticket_key")
        async with self._sessions() as session:
            ticket = await session.get(Ticket, ticket_key)
            if ticket is None:
                raise NotFound(f"ticket {ticket_key} does not exist")
            if not _may_read(caller, ticket):
                raise PermissionDenied(
                    f"{caller.id} ({caller.role.value}) may not read {ticket_key}"
                )
            if not with_history:
                return TicketDetail(ticket, [], [])
            comments = await session.scalars(
                select(TicketComment)
                .where(TicketComment.ticket_key == ticket_key)
                .order_by(TicketComment.id)
            )
            history = await session.scalars(
                select(TicketEvent)
                .where(TicketEvent.ticket_key == ticket_key)
                .order_by(TicketEvent.id)
            )
            return TicketDetail(ticket, list(comments), list(history))

    async def list_tickets(
        self,
        caller: Caller,
        *,
        department: str = "",
        status: str = "",
        opportunity_id: str = "",
        assignee_id: str = "",
        escalated_only: bool = False,
        limit: int,
    ) -> list[Ticket]:
        """Tickets the caller may see, oldest first, filtered by whatever is given."""
        if status and status not in STATUSES:
            raise InvalidArgument("status", f"unknown status {status!r} ({', '.join(STATUSES)})")
        conditions = _visible_to(caller)
        if department:
            conditions.append(Ticket.department == department)
        if status:
            conditions.append(Ticket.status == status)
        if opportunity_id:
            conditions.append(Ticket.opportunity_id == opportunity_id)
        if assignee_id:
            conditions.append(Ticket.assignee_id == assignee_id)
        if escalated_only:
            conditions.append(Ticket.escalation_level > 0)

        async with self._sessions() as session:
            result = await session.scalars(
                select(Ticket)
                .where(*conditions)
                .order_by(Ticket.opened_at, Ticket.ticket_key)
                .limit(limit)
            )
            return list(result)

    async def report(
        self,
        caller: Caller,
        department: str,
        *,
        period_start: datetime | None,
        period_end: datetime | None,
        region: str = "",
    ) -> DepartmentFigures:
        """First-response figures of the department's tickets opened in [start, end),
        optionally of one sales region's pipelines only."""
        department = require(department, "department")
        if department not in DEPARTMENTS:
            raise InvalidArgument(
                "department", f"unknown department {department!r} ({', '.join(DEPARTMENTS)})"
            )
        if caller.role.value != department and caller.role not in REPORT_READERS:
            raise PermissionDenied(
                f"{caller.id} ({caller.role.value}) may not read the {department} report"
            )
        if period_start is None or period_end is None:
            raise InvalidArgument("period_start", "a period needs a start and an end")
        if period_end <= period_start:
            raise InvalidArgument("period_end", "must come after period_start")

        conditions = [
            Ticket.department == department,
            Ticket.opened_at >= period_start,
            Ticket.opened_at < period_end,
        ]
        if region:
            conditions.append(Ticket.region == region)
        async with self._sessions() as session:
            tickets = await session.scalars(select(Ticket).where(*conditions))
            times = [
                TicketTimes(
                    opened_at=ticket.opened_at,
                    respond_by=ticket.respond_by,
                    first_response_at=ticket.first_response_at,
                    closed_at=ticket.closed_at,
                    escalated=ticket.escalation_level > 0,
                    calendar=calendar_from_json(ticket.calendar),
                )
                for ticket in tickets
            ]
        return department_figures(times, now=self._now())


# ---- rules ---------------------------------------------------------------------------------


async def _locked(session: AsyncSession, ticket_key: str) -> Ticket:
    ticket = await session.get(Ticket, ticket_key, with_for_update=True)
    if ticket is None:
        raise NotFound(f"ticket {ticket_key} does not exist")
    return ticket


def _require_reason(note: str, what: str) -> None:
    if not (note or "").strip():
        raise InvalidArgument("note", f"a {what} needs a reason")


def _require_length(text: str, field: str) -> None:
    if len(text) > MAX_NOTE_LENGTH:
        raise InvalidArgument(field, f"must be at most {MAX_NOTE_LENGTH} characters")


def _is_department(caller: Caller, ticket: Ticket) -> bool:
    return caller.role in (Role.ADMIN, Role.SYSTEM) or caller.role.value == ticket.department


def _require_department(caller: Caller, ticket: Ticket) -> None:
    if _is_department(caller, ticket):
        return
    raise PermissionDenied(
        f"{caller.id} ({caller.role.value}) may not act on {ticket.department} tickets"
    )


def _may_comment(caller: Caller, ticket: Ticket) -> bool:
    return _is_department(caller, ticket) or (
        caller.role is Role.REP and caller.id == ticket.rep_id
    )


def _visible_to(caller: Caller) -> list[Any]:
    """Conditions that keep a ticket list to what the caller may see."""
    if caller.role in (Role.LEGAL, Role.LOGISTICS):
        return [Ticket.department == caller.role.value]
    if caller.role is Role.REP:
        return [Ticket.rep_id == caller.id]
    if caller.role is Role.MANAGER and "*" not in caller.regions:
        return [Ticket.region.in_(sorted(caller.regions))]
    if caller.role is Role.HR:
        raise PermissionDenied("hr has no access to tickets")
    return []


def _may_read(caller: Caller, ticket: Ticket) -> bool:
    if caller.role in (Role.LEGAL, Role.LOGISTICS):
        return caller.role.value == ticket.department
    if caller.role is Role.REP:
        return caller.id == ticket.rep_id
    if caller.role is Role.HR:
        return False
    return caller.may_see_region(ticket.region)


# ---- rows and events -----------------------------------------------------------------------


def _ticket_row(
    event: events_pb2.Event, departments: dict[str, DepartmentConfig]
) -> dict[str, Any]:
    """The new ticket for a request: its target counted in the department's calendar,
    resolved for the year it opens in and the next."""
    request = event.ticket_requested
    opened_at = event.time.ToDatetime(tzinfo=UTC)
    target = request.response_target_minutes or DEFAULT_RESPONSE_TARGET_MINUTES
    calendar = resolved_for(departments[request.department].calendar, opened_at.year)
    return {
        "ticket_key": request.ticket_key,
        "department": request.department,
        "kind": request.kind,
        "opportunity_id": event.opportunity_id,
        "action_key": request.action_key,
        "workflow_id": request.workflow_id,
        "rep_id": event.rep_id,
        "region": event.region,
        "status": STATUS_OPEN,
        "opened_at": opened_at,
        "status_changed_at": opened_at,
        "respond_by": add_business_time(calendar, opened_at, timedelta(minutes=target)),
        "response_target_minutes": target,
        "assignee_id": "",
        "resolution_note": "",
        "occurrence": request.occurrence or 1,
        "previous_ticket_key": request.previous_ticket_key,
        "calendar": calendar_json(calendar),
        "clock_shift_seconds": request.clock_shift_seconds,
        # Not a column: what the rep said when requesting the review again.
        "note": request.note,
    }


def _opened_operation(row: dict[str, Any]) -> Operation:
    return Operation(
        caller=SYSTEM_CALLER,
        service=SERVICE,
        operation="ticket.opened",
        subject=f"ticket:{row['ticket_key']}",
        payload={
            "department": row["department"],
            "kind": row["kind"],
            "opportunity_id": row["opportunity_id"],
            "respond_by": row["respond_by"],
            "assignee_id": row["assignee_id"],
            "occurrence": row["occurrence"],
            "previous_ticket_key": row["previous_ticket_key"],
        },
    )


def _ticket_fields(ticket: Ticket) -> dict[str, Any]:
    return {
        "ticket_key": ticket.ticket_key,
        "department": ticket.department,
        "opportunity_id": ticket.opportunity_id,
        "rep_id": ticket.rep_id,
        "region": ticket.region,
    }


def _history(key: str, status: str, caller: Caller, note: str, at: datetime) -> TicketEvent:
    return TicketEvent(
        ticket_key=key,
        status=status,
        actor_id=caller.id,
        actor_role=caller.role.value,
        note=note,
        occurred_at=at,
    )


def _changed_event(
    ticket: dict[str, Any],
    status: str,
    *,
    actor_id: str,
    note: str,
    at: datetime,
    round: int = 0,
) -> events_pb2.Event:
    event = new_event(
        event_id=changed_event_id(ticket["ticket_key"], status, round),
        event_type="ticket.changed",
        source=EVENT_SOURCE,
        time=at,
        opportunity_id=ticket["opportunity_id"],
        rep_id=ticket["rep_id"],
        region=ticket["region"],
    )
    event.ticket_changed.CopyFrom(
        events_pb2.TicketChanged(
            ticket_key=ticket["ticket_key"],
            department=ticket["department"],
            status=status,
            actor_id=actor_id,
            note=note,
        )
    )
    return event
