"""Activities of the ticket response workflow: publishing an escalation on NATS.

The event id is fixed by the ticket and level, so a retried publish is dropped by JetStream
and by every consumer.
"""

import logging
from datetime import UTC

from temporalio import activity

from salesflow.core.events import EventBus, new_event
from salesflow.events.v1 import events_pb2
from workflows.ticket_response.types import TicketEscalation, escalation_event_id

logger = logging.getLogger(__name__)

EVENT_SOURCE = "salesflow/workflows/ticket_response"


def escalation_event(escalation: TicketEscalation) -> events_pb2.Event:
    """The ticket.escalated envelope for one escalation."""
    event = new_event(
        event_id=escalation_event_id(escalation.ticket_key, escalation.level),
        event_type="ticket.escalated",
        source=EVENT_SOURCE,
        time=escalation.at,
        opportunity_id=escalation.opportunity_id,
        rep_id=escalation.rep_id,
        region=escalation.region,
    )
    payload = event.ticket_escalated
    payload.ticket_key = escalation.ticket_key
    payload.department = escalation.department
    payload.level = escalation.level
    payload.to_person = escalation.to_person
    payload.to_role = escalation.to_role
    payload.assignee_id = escalation.assignee_id
    payload.opened_at.FromDatetime(escalation.opened_at.astimezone(UTC))
    payload.respond_by.FromDatetime(escalation.respond_by.astimezone(UTC))
    payload.response_target_minutes = escalation.response_target_minutes
    return event


class TicketResponseActivities:
    def __init__(self, bus: EventBus) -> None:
        self._bus = bus

    @activity.defn(name="publish_ticket_escalation")
    async def publish_escalation(self, escalation: TicketEscalation) -> int:
        """Publishes one ticket.escalated event; returns its stream sequence."""
        sequence = await self._bus.publish(escalation_event(escalation))
        logger.info(
            "ticket escalated key=%s level=%d to=%s seq=%s",
            escalation.ticket_key,
            escalation.level,
            escalation.to_person or "-",
            sequence,
        )
        return sequence
