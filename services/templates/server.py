"""Starts the template service: its gRPC server, with the default template seeded."""

from __future__ import annotations

import logging

from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.templates.v1 import templates_pb2_grpc
from services.templates.moves import PipelineMoves
from services.templates.service import TemplateServicer
from services.templates.store import TemplateStore

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.templates.v1.TemplateService"


async def serve(deps: ServiceDeps, *, port: int) -> RunningService:
    """Serves TemplateService on the port (0 picks one).

    Needs a Temporal client to preview and move running pipelines; everything else works
    on the database alone.
    """
    store = TemplateStore(deps.sessions)
    await store.ensure_default()
    moves = PipelineMoves(sessions=deps.sessions, temporal=deps.temporal, store=store)
    binding = ServiceBinding(
        TemplateServicer(store, moves),
        templates_pb2_grpc.add_TemplateServiceServicer_to_server,
        SERVICE_NAME,
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)
    logger.info("template service started port=%s", server.port)
    return RunningService("templates", server)
