"""The ticket desk: opens tickets that pipelines request and moves them through their states.

    open ──acknowledge──> acknowledged ──resolve / reject──> resolved | rejected
      └───────────────────resolve / reject───────────────────┘

Every change is stored with its history row and operation-log entry in one transaction,
then published as a ticket.changed event, then signalled to the waiting pipeline workflow.
Event ids are stable (ticket:<key>:<status>), so any step after the commit can be repeated:
asking for a change the ticket already has re-publishes and re-signals instead of failing,
which is how a caller recovers when the first attempt died after the commit.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from temporalio.client import Client
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
from services.ticketing.models import (
    CLOSED_STATUSES,
    STATUS_ACKNOWLEDGED,
    STATUS_OPEN,
    STATUS_REJECTED,
    STATUS_RESOLVED,
    STATUSES,
    Ticket,
    TicketEvent,
)
from workflows.pipeline.types import TicketChangedInput

logger = logging.getLogger(__name__)

SERVICE = "ticketing"
EVENT_SOURCE = "salesflow/services/ticketing"
DEFAULT_RESPONSE_TARGET_MINUTES = 120
# The status a ticket.changed event and the history use for a ticket that was just opened.
OPENED = "opened"
TICKET_SIGNAL = "ticket_changed"

# Which statuses each change may start from.
_ALLOWED_FROM = {
    STATUS_ACKNOWLEDGED: (STATUS_OPEN,),
    STATUS_RESOLVED: (STATUS_OPEN, STATUS_ACKNOWLEDGED),
    STATUS_REJECTED: (STATUS_OPEN, STATUS_ACKNOWLEDGED),
}

Clock = Callable[[], datetime]


class SignalNotDelivered(RuntimeError):
    """The pipeline could not be told of a ticket change; repeating the change retries it."""


def changed_event_id(ticket_key: str, status: str) -> str:
    return f"ticket:{ticket_key}:{status}"


class TicketDesk:
    """Tickets for legal and logistics: opening, reading and changing them.

    `now` gives the time of acknowledgements and resolutions; the wall clock by default,
    the simulated clock when the CLI replays a past export.
    """

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        temporal: Client,
        now: Clock = utcnow,
        signal_attempts: int = 5,
        signal_backoff: float = 0.5,
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._temporal = temporal
        self._now = now
        self._signal_attempts = signal_attempts
        self._signal_backoff = signal_backoff

    # ---- opening -----------------------------------------------------------------------------

    async def open_from_events(self, events: Sequence[events_pb2.Event]) -> int:
        """Opens a ticket per ticket.requested event; returns how many were new.

        A ticket that exists already is left as it is, so a redelivered event opens nothing.
        """
        rows: dict[str, dict[str, Any]] = {}
        for event in events:
            if event.type == "ticket.requested" and event.HasField("ticket_requested"):
                row = _ticket_row(event)
                rows.setdefault(row["ticket_key"], row)
        if not rows:
            return 0

        async with self._sessions.begin() as session:
            statement = insert_ignoring_duplicates(session, Ticket, list(rows.values()))
            result = await session.execute(statement.returning(Ticket.ticket_key))
            opened = sorted(result.scalars())
            session.add_all(
                _history(key, OPENED, SYSTEM_CALLER, "", rows[key]["opened_at"]) for key in opened
            )
            await append_operations(
                session,
                [
                    Operation(
                        caller=SYSTEM_CALLER,
                        service=SERVICE,
                        operation="ticket.opened",
                        subject=f"ticket:{key}",
                        payload={
                            "department": rows[key]["department"],
                            "kind": rows[key]["kind"],
                            "opportunity_id": rows[key]["opportunity_id"],
                            "response_due_at": rows[key]["response_due_at"],
                        },
                    )
                    for key in opened
                ],
            )

        # Every requested ticket is announced, not only the new ones: if a crash came between
        # the commit and the publish, the redelivered batch publishes now, and the stable id
        # makes the announcement a no-op for everyone who saw it the first time.
        for row in rows.values():
            await self._bus.publish(
                _changed_event(row, OPENED, actor_id=SYSTEM_CALLER.id, note="", at=row["opened_at"])
            )
        logger.info("tickets requested=%d opened=%d", len(rows), len(opened))
        return len(opened)

    # ---- changes -----------------------------------------------------------------------------

    async def acknowledge(
        self, caller: Caller, ticket_key: str, note: str = "", *, at: datetime | None = None
    ) -> Ticket:
        """A department member takes the ticket; the first response time is recorded.

        `at` is when it happened, for a replay that knows; the desk's clock otherwise.
        """
        return await self._change(caller, ticket_key, STATUS_ACKNOWLEDGED, note, at)

    async def resolve(
        self, caller: Caller, ticket_key: str, note: str = "", *, at: datetime | None = None
    ) -> Ticket:
        """Approves the ticket; the waiting pipeline may then complete its action."""
        return await self._change(caller, ticket_key, STATUS_RESOLVED, note, at)

    async def reject(
        self, caller: Caller, ticket_key: str, note: str, *, at: datetime | None = None
    ) -> Ticket:
        """Rejects the ticket with a reason the rep will see on the blocked action."""
        if not (note or "").strip():
            raise InvalidArgument("note", "a rejection needs a reason")
        return await self._change(caller, ticket_key, STATUS_REJECTED, note, at)

    async def _change(
        self, caller: Caller, raw_key: str, status: str, note: str, at: datetime | None
    ) -> Ticket:
        ticket_key = require(raw_key, "ticket_key")
        note = (note or "").strip()

        async with self._sessions.begin() as session:
            ticket = await session.get(Ticket, ticket_key, with_for_update=True)
            if ticket is None:
                raise NotFound(f"ticket {ticket_key} does not exist")
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
        closed = status in CLOSED_STATUSES
        changed_at = (ticket.closed_at if closed else ticket.first_response_at) or self._now()
        note = ticket.resolution_note if closed else note
        await self._bus.publish(
            _changed_event(
                _ticket_fields(ticket),
                status,
                actor_id=ticket.assignee_id,
                note=note,
                at=changed_at,
            )
        )
        await self._signal_pipeline(ticket, status, note)
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
        ticket.assignee_id = caller.id
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if status in CLOSED_STATUSES:
            ticket.closed_at = now
            ticket.resolution_note = note

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

    async def _signal_pipeline(self, ticket: Ticket, status: str, note: str) -> None:
        """Tells the waiting workflow, retrying with backoff; a gone workflow is only logged."""
        handle = self._temporal.get_workflow_handle(ticket.workflow_id)
        change = TicketChangedInput(ticket_key=ticket.ticket_key, status=status, note=note)
        for attempt in range(1, self._signal_attempts + 1):
            try:
                await handle.signal(TICKET_SIGNAL, change)
                logger.debug("signalled workflow=%s ticket=%s", ticket.workflow_id, status)
                return
            except RPCError as error:
                if error.status == RPCStatusCode.NOT_FOUND:
                    logger.error(
                        "workflow=%s is gone; ticket key=%s %s reaches no pipeline: %s",
                        ticket.workflow_id,
                        ticket.ticket_key,
                        status,
                        error.message,
                    )
                    return
                failure: Exception = error
            except Exception as error:
                failure = error
            logger.warning(
                "signal to workflow=%s failed attempt=%d/%d: %s",
                ticket.workflow_id,
                attempt,
                self._signal_attempts,
                failure,
            )
            if attempt < self._signal_attempts:
                await asyncio.sleep(self._signal_backoff * 2 ** (attempt - 1))
        raise SignalNotDelivered(
            f"workflow {ticket.workflow_id} did not receive ticket {ticket.ticket_key} "
            f"{status} after {self._signal_attempts} attempts; repeat the change to retry"
        )

    # ---- reading -----------------------------------------------------------------------------

    async def get(self, caller: Caller, ticket_key: str) -> Ticket:
        """One ticket, if the caller may see it."""
        ticket_key = require(ticket_key, "ticket_key")
        async with self._sessions() as session:
            ticket = await session.get(Ticket, ticket_key)
        if ticket is None:
            raise NotFound(f"ticket {ticket_key} does not exist")
        if not _may_read(caller, ticket):
            raise PermissionDenied(f"{caller.id} ({caller.role.value}) may not read {ticket_key}")
        return ticket

    async def list_tickets(
        self,
        caller: Caller,
        *,
        department: str = "",
        status: str = "",
        opportunity_id: str = "",
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

        async with self._sessions() as session:
            result = await session.scalars(
                select(Ticket)
                .where(*conditions)
                .order_by(Ticket.opened_at, Ticket.ticket_key)
                .limit(limit)
            )
            return list(result)


def _require_department(caller: Caller, ticket: Ticket) -> None:
    if caller.role in (Role.ADMIN, Role.SYSTEM) or caller.role.value == ticket.department:
        return
    raise PermissionDenied(
        f"{caller.id} ({caller.role.value}) may not act on {ticket.department} tickets"
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


def _ticket_row(event: events_pb2.Event) -> dict[str, Any]:
    request = event.ticket_requested
    opened_at = event.time.ToDatetime(tzinfo=UTC)
    target = request.response_target_minutes or DEFAULT_RESPONSE_TARGET_MINUTES
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
        "response_due_at": opened_at + timedelta(minutes=target),
        "response_target_minutes": target,
        "assignee_id": "",
        "resolution_note": "",
    }


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
    ticket: dict[str, Any], status: str, *, actor_id: str, note: str, at: datetime
) -> events_pb2.Event:
    event = new_event(
        event_id=changed_event_id(ticket["ticket_key"], status),
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
