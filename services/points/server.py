"""Starts the points service: its gRPC server and the consumer that feeds the ledger."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from salesflow.core.events import POINTS_CONSUMER, EventConsumer
from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.events.v1 import events_pb2
from salesflow.points.v1 import points_pb2_grpc
from services.points import ledger
from services.points.service import PointsServicer

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.points.v1.PointsService"


async def serve(deps: ServiceDeps, *, port: int) -> RunningService:
    """Serves PointsService on the port (0 picks one) and starts the ledger consumer."""
    if deps.bus is None:
        raise ValueError("the points service needs an event bus: the ledger is fed by events")
    binding = ServiceBinding(
        PointsServicer(deps.sessions),
        points_pb2_grpc.add_PointsServiceServicer_to_server,
        SERVICE_NAME,
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)

    async def append_to_ledger(events: Sequence[events_pb2.Event]) -> None:
        await ledger.record_events(deps.sessions, events)

    consumer = EventConsumer(deps.bus, POINTS_CONSUMER, append_to_ledger)
    try:
        await consumer.start()
    except BaseException:
        await server.stop(grace=0)
        raise
    logger.info("points service started port=%s", server.port)
    return RunningService("points", server, [consumer])
