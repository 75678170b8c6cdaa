"""The ticketing service's gRPC face: reading tickets, moving them through their states and
reporting on departments.

Translates requests into calls on services.ticketing.desk, which owns the rules (who may
act on which department's tickets, which changes are allowed) and tells the pipelines.
"""

from __future__ import annotations

import logging
from datetime import UTC

from salesflow.core.caller import Caller
from salesflow.core.rpc import rpc
from salesflow.core.wire import bounded_limit, timestamp
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
from services.ticketing.departments import calendar_from_json
from services.ticketing.desk import TicketDesk, TicketDetail
from services.ticketing.models import Ticket
from services.ticketing.report import TicketTimes, business_minutes

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _limit(value: int) -> int:
    return bounded_limit(value, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def ticket_message(ticket: Ticket) -> ticketing_pb2.Ticket:
    """The wire form of a ticket (without comments and history)."""
    calendar = calendar_from_json(ticket.calendar)
    message = ticketing_pb2.Ticket(
        ticket_key=ticket.ticket_key,
        department=ticket.department,
        kind=ticket.kind,
        opportunity_id=ticket.opportunity_id,
        action_key=ticket.action_key,
        status=ticket.status,
        opened_at=timestamp(ticket.opened_at),
        first_response_at=timestamp(ticket.first_response_at),
        closed_at=timestamp(ticket.closed_at),
        response_target_minutes=ticket.response_target_minutes,
        assignee_id=ticket.assignee_id,
        resolution_note=ticket.resolution_note,
        rep_id=ticket.rep_id,
        region=ticket.region,
        respond_by=timestamp(ticket.respond_by),
        occurrence=ticket.occurrence,
        previous_ticket_key=ticket.previous_ticket_key,
        first_responder_id=ticket.first_responder_id,
        escalation_level=ticket.escalation_level,
        escalated_at=timestamp(ticket.escalated_at),
        time_zone=calendar.time_zone,
        resubmissions=ticket.resubmissions,
    )
    if ticket.first_response_at is not None:
        times = TicketTimes(
            opened_at=ticket.opened_at,
            respond_by=ticket.respond_by,
            first_response_at=ticket.first_response_at,
            closed_at=None,
            escalated=False,
            calendar=calendar,
        )
        message.first_response_business_minutes = business_minutes(times, ticket.first_response_at)
    return message


def detail_message(detail: TicketDetail) -> ticketing_pb2.Ticket:
    """A ticket with its comments and history."""
    message = ticket_message(detail.ticket)
    for comment in detail.comments:
        message.comments.add(
            author_id=comment.author_id,
            author_role=comment.author_role,
            body=comment.body,
            created_at=timestamp(comment.created_at),
        )
    for step in detail.history:
        message.history.add(
            status=step.status,
            actor_id=step.actor_id,
            actor_role=step.actor_role,
            note=step.note,
            occurred_at=timestamp(step.occurred_at),
        )
    return message


class TicketingServicer(ticketing_pb2_grpc.TicketingServiceServicer):
    def __init__(self, desk: TicketDesk) -> None:
        self._desk = desk

    @rpc
    async def ListTickets(
        self, request, context, caller: Caller
    ) -> ticketing_pb2.ListTicketsResponse:
        """Tickets the caller may see, by department, status, opportunity, assignee or
        escalation, oldest first."""
        tickets = await self._desk.list_tickets(
            caller,
            department=request.department.strip(),
            status=request.status.strip(),
            opportunity_id=request.opportunity_id.strip(),
            assignee_id=request.assignee_id.strip(),
            escalated_only=request.escalated_only,
            limit=_limit(request.limit),
        )
        return ticketing_pb2.ListTicketsResponse(tickets=[ticket_message(t) for t in tickets])

    @rpc
    async def GetTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """One ticket by its key, with its comments and history."""
        return detail_message(await self._desk.detail(caller, request.ticket_key))

    @rpc
    async def AcknowledgeTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Takes the ticket for the caller's department; records the first response time."""
        ticket = await self._desk.acknowledge(caller, request.ticket_key, request.note)
        return ticket_message(ticket)

    @rpc
    async def CommentTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Adds a comment; the department's first one is its first response."""
        ticket = await self._desk.comment(caller, request.ticket_key, request.body)
        return ticket_message(ticket)

    @rpc
    async def RequestChanges(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Asks the rep for changes; the note (the reason) is required and reaches the
        pipeline, whose action goes back to the rep."""
        ticket = await self._desk.request_changes(caller, request.ticket_key, request.note)
        return ticket_message(ticket)

    @rpc
    async def ResolveTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Resolves (approves) the ticket; the waiting pipeline is told."""
        ticket = await self._desk.resolve(caller, request.ticket_key, request.note)
        return ticket_message(ticket)

    @rpc
    async def RejectTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Rejects the ticket; the note is required and reaches the waiting pipeline."""
        ticket = await self._desk.reject(caller, request.ticket_key, request.note)
        return ticket_message(ticket)

    @rpc
    async def AssignTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Assigns the ticket to an active member of its department."""
        ticket = await self._desk.assign(caller, request.ticket_key, request.assignee_id)
        return ticket_message(ticket)

    @rpc
    async def GetDepartmentReport(
        self, request, context, caller: Caller
    ) -> ticketing_pb2.DepartmentReport:
        """Tickets opened, first-response median and p90, share within target, open and
        escalated tickets of one department over a period."""
        start = (
            request.period_start.ToDatetime(tzinfo=UTC)
            if request.HasField("period_start")
            else None
        )
        end = request.period_end.ToDatetime(tzinfo=UTC) if request.HasField("period_end") else None
        figures = await self._desk.report(
            caller,
            request.department.strip(),
            period_start=start,
            period_end=end,
            region=request.region.strip(),
        )
        return ticketing_pb2.DepartmentReport(
            department=request.department.strip(),
            period_start=request.period_start,
            period_end=request.period_end,
            tickets_opened=figures.tickets_opened,
            responded=figures.responded,
            median_first_response_business_minutes=figures.median_business_minutes,
            p90_first_response_business_minutes=figures.p90_business_minutes,
            median_first_response_wall_minutes=figures.median_wall_minutes,
            p90_first_response_wall_minutes=figures.p90_wall_minutes,
            within_target=figures.within_target,
            target_decided=figures.target_decided,
            share_within_target=figures.share_within_target,
            open_now=figures.open_now,
            escalated=figures.escalated,
        )
