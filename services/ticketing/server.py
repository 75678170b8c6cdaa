"""Starts the ticketing service: its gRPC server, the consumer that opens requested tickets
and the consumer that records resubmissions and escalations."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from salesflow.core.events import TICKETING_CONSUMER, TICKETING_UPDATES_CONSUMER, EventConsumer
from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.events.v1 import events_pb2
from salesflow.ticketing.v1 import ticketing_pb2_grpc
from services.ticketing.desk import Clock, TicketDesk
from services.ticketing.service import TicketingServicer

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.ticketing.v1.TicketingService"


def desk_for(deps: ServiceDeps, *, now: Clock | None = None) -> TicketDesk:
    """The ticket desk on the service's parts; `now` replaces the wall clock (replays).

    Needs an event bus (changes are published) and a Temporal client (pipelines are told,
    response clocks run on the configured task queue).
    """
    if deps.bus is None or deps.temporal is None:
        raise ValueError("the ticket desk needs an event bus and a Temporal client")
    clock = {} if now is None else {"now": now}
    return TicketDesk(
        sessions=deps.sessions,
        bus=deps.bus,
        temporal=deps.temporal,
        task_queue=deps.settings.task_queue,
        **clock,
    )


async def serve(deps: ServiceDeps, *, port: int) -> RunningService:
    """Serves TicketingService on the port (0 picks one) and starts both consumers."""
    desk = desk_for(deps)
    binding = ServiceBinding(
        TicketingServicer(desk),
        ticketing_pb2_grpc.add_TicketingServiceServicer_to_server,
        SERVICE_NAME,
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)

    async def open_tickets(events: Sequence[events_pb2.Event]) -> None:
        await desk.open_from_events(events)

    async def record_updates(events: Sequence[events_pb2.Event]) -> None:
        await desk.apply_events(events)

    consumers = [
        EventConsumer(deps.bus, TICKETING_CONSUMER, open_tickets),
        EventConsumer(deps.bus, TICKETING_UPDATES_CONSUMER, record_updates),
    ]
    try:
        for consumer in consumers:
            await consumer.start()
    except BaseException:
        for consumer in consumers:
            await consumer.stop()
        await server.stop(grace=0)
        raise
    logger.info("ticketing service started port=%s", server.port)
    return RunningService("ticketing", server, consumers)
