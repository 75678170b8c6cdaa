"""The ticketing service's gRPC face: reading tickets and moving them through their states.

Translates requests into calls on services.ticketing.desk, which owns the rules (who may
act on which department's tickets, which changes are allowed) and tells the pipelines.
"""

from __future__ import annotations

import logging

from salesflow.core.caller import Caller
from salesflow.core.rpc import rpc
from salesflow.core.wire import bounded_limit, timestamp
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
from services.ticketing.desk import TicketDesk
from services.ticketing.models import Ticket

logger = logging.getLogger(__name__)

DEFAULT_LIMIT = 100
MAX_LIMIT = 500


def _limit(value: int) -> int:
    return bounded_limit(value, default=DEFAULT_LIMIT, maximum=MAX_LIMIT)


def ticket_message(ticket: Ticket) -> ticketing_pb2.Ticket:
    """The wire form of a ticket."""
    return ticketing_pb2.Ticket(
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
    )


class TicketingServicer(ticketing_pb2_grpc.TicketingServiceServicer):
    def __init__(self, desk: TicketDesk) -> None:
        self._desk = desk

    @rpc
    async def ListTickets(
        self, request, context, caller: Caller
    ) -> ticketing_pb2.ListTicketsResponse:
        """Tickets the caller may see, by department, status or opportunity, oldest first."""
        tickets = await self._desk.list_tickets(
            caller,
            department=request.department.strip(),
            status=request.status.strip(),
            opportunity_id=request.opportunity_id.strip(),
            limit=_limit(request.limit),
        )
        return ticketing_pb2.ListTicketsResponse(tickets=[ticket_message(t) for t in tickets])

    @rpc
    async def GetTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """One ticket by its key."""
        return ticket_message(await self._desk.get(caller, request.ticket_key))

    @rpc
    async def AcknowledgeTicket(self, request, context, caller: Caller) -> ticketing_pb2.Ticket:
        """Takes the ticket for the caller's department; records the first response time."""
        ticket = await self._desk.acknowledge(caller, request.ticket_key, request.note)
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
