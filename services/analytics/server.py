"""Starts the analytics service: its gRPC server and the consumer that feeds the read model."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from salesflow.analytics.v1 import analytics_pb2_grpc
from salesflow.core.db import utcnow
from salesflow.core.events import ANALYTICS_CONSUMER, EventConsumer
from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.events.v1 import events_pb2
from services.analytics import projection
from services.analytics.config import AnalyticsConfig
from services.analytics.service import AnalyticsServicer

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.analytics.v1.AnalyticsService"


def config_for(deps: ServiceDeps) -> AnalyticsConfig:
    """The analytics configuration from the environment, in the settings' time zone."""
    return AnalyticsConfig.from_env(timezone=deps.settings.timezone)


async def serve(
    deps: ServiceDeps,
    *,
    port: int,
    config: AnalyticsConfig | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> RunningService:
    """Serves AnalyticsService on the port (0 picks one) and starts the projection consumer.

    The durable consumer resumes where it stopped, so figures catch up after downtime.
    """
    if deps.bus is None:
        raise ValueError(
            "the analytics service needs an event bus: its read model is fed by events"
        )
    config = config or config_for(deps)
    binding = ServiceBinding(
        AnalyticsServicer(deps.sessions, config, clock=clock),
        analytics_pb2_grpc.add_AnalyticsServiceServicer_to_server,
        SERVICE_NAME,
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)

    async def project(events: Sequence[events_pb2.Event]) -> None:
        await projection.apply_events(deps.sessions, events, config)

    consumer = EventConsumer(deps.bus, ANALYTICS_CONSUMER, project)
    try:
        await consumer.start()
    except BaseException:
        await server.stop(grace=0)
        raise
    logger.info("analytics service started port=%s", server.port)
    return RunningService("analytics", server, [consumer])
