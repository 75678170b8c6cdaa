"""Starts the notifications service: its gRPC server, the consumer that fills the outbox
and the dispatcher that empties it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from salesflow.core.db import utcnow
from salesflow.core.events import NOTIFICATIONS_CONSUMER, EventConsumer
from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.events.v1 import events_pb2
from salesflow.notifications.v1 import notifications_pb2_grpc
from services.notifications import outbox
from services.notifications.channels import Channel, channels_from_settings
from services.notifications.dispatcher import Dispatcher, DispatchPolicy
from services.notifications.limits import Clock
from services.notifications.service import NotificationServicer

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.notifications.v1.NotificationService"


def dispatcher_for(
    deps: ServiceDeps,
    *,
    channels: dict[str, Channel] | None = None,
    policy: DispatchPolicy | None = None,
    clock: Clock = utcnow,
) -> Dispatcher:
    """A dispatcher over the configured channels (or the given ones, in tests)."""
    if channels is None:
        channels = channels_from_settings(deps.settings, clock=clock)
    policy = policy or DispatchPolicy(max_attempts=deps.settings.notify_max_attempts)
    return Dispatcher(deps.sessions, channels, policy=policy, clock=clock)


async def serve(
    deps: ServiceDeps, *, port: int, dispatcher: Dispatcher | None = None
) -> RunningService:
    """Serves NotificationService on the port (0 picks one), starts the outbox consumer
    and the dispatcher."""
    if deps.bus is None:
        raise ValueError("the notifications service needs an event bus: notices come from events")
    dispatcher = dispatcher or dispatcher_for(deps)
    zone = ZoneInfo(deps.settings.timezone)
    binding = ServiceBinding(
        NotificationServicer(deps.sessions),
        notifications_pb2_grpc.add_NotificationServiceServicer_to_server,
        SERVICE_NAME,
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)

    async def write_outbox(events: Sequence[events_pb2.Event]) -> None:
        if await outbox.enqueue_events(deps.sessions, events, zone=zone):
            dispatcher.wake()

    consumer = EventConsumer(deps.bus, NOTIFICATIONS_CONSUMER, write_outbox)
    try:
        await consumer.start()
        await dispatcher.start()
    except BaseException:
        await consumer.stop()
        await server.stop(grace=0)
        raise
    logger.info("notifications service started port=%s", server.port)
    return RunningService("notifications", server, [consumer], [dispatcher])
