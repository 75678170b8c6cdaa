"""Starts the points service: its gRPC server and the consumer that feeds the ledger."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from salesflow.core.events import POINTS_CONSUMER, ConsumerSpec, EventConsumer
from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.events.v1 import events_pb2
from salesflow.points.v1 import points_pb2_grpc
from services.points.ledger import PointsLedger
from services.points.service import PointsServicer

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.points.v1.PointsService"


def ledger_consumer(
    deps: ServiceDeps, ledger: PointsLedger, spec: ConsumerSpec = POINTS_CONSUMER
) -> EventConsumer:
    """The durable consumer that prices action events into the ledger.

    A batch is acknowledged only after record_events has committed it.
    """

    async def append_to_ledger(events: Sequence[events_pb2.Event]) -> None:
        await ledger.record_events(events)

    return EventConsumer(deps.bus, spec, append_to_ledger)


async def serve(
    deps: ServiceDeps, *, port: int, ledger: PointsLedger | None = None
) -> RunningService:
    """Serves PointsService on the port (0 picks one) and starts the ledger consumer."""
    if deps.bus is None:
        raise ValueError("the points service needs an event bus: the ledger is fed by events")
    ledger = ledger or PointsLedger(deps.sessions, zone=deps.settings.timezone)
    binding = ServiceBinding(
        PointsServicer(ledger),
        points_pb2_grpc.add_PointsServiceServicer_to_server,
        SERVICE_NAME,
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)

    consumer = ledger_consumer(deps, ledger)
    try:
        await consumer.start()
    except BaseException:
        await server.stop(grace=0)
        raise
    logger.info("points service started port=%s", server.port)
    return RunningService("points", server, [consumer])
