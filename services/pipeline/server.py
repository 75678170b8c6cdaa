"""Starts the pipeline service: gRPC server plus the projection consumer."""

from __future__ import annotations

from salesflow.core.events import PIPELINE_PROJECTION_CONSUMER, EventConsumer
from salesflow.core.rpc import ServiceBinding, channel, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.pipeline.v1 import pipeline_pb2_grpc
from services.pipeline import projection
from services.pipeline.commands import PipelineCommands
from services.pipeline.service import EvidenceClient, PipelineServicer
from services.templates.store import TemplateStore

SERVICE_NAME = "salesflow.pipeline.v1.PipelineService"


def commands_for(
    deps: ServiceDeps, evidence_lookup, templates: TemplateStore | None = None
) -> PipelineCommands:
    """The pipeline domain on the service's parts. Templates are read from the template
    library's tables (read-only; the template service owns and writes them)."""
    templates = templates or TemplateStore(deps.sessions)
    return PipelineCommands(
        temporal=deps.temporal,
        sessions=deps.sessions,
        task_queue=deps.settings.task_queue,
        evidence_lookup=evidence_lookup,
        template_lookup=templates.template,
        search_attributes=deps.settings.search_attributes,
    )


async def serve(
    deps: ServiceDeps, *, port: int, evidence_target: str | None = None
) -> RunningService:
    """Serves PipelineService; evidence ids are resolved through the evidence service."""
    evidence = EvidenceClient(channel(evidence_target or deps.settings.target("evidence")))
    templates = TemplateStore(deps.sessions)
    commands = commands_for(deps, evidence.lookup, templates)
    server = await start_server(
        [
            ServiceBinding(
                PipelineServicer(commands, deps.sessions, templates),
                pipeline_pb2_grpc.add_PipelineServiceServicer_to_server,
                SERVICE_NAME,
            )
        ],
        host=deps.settings.grpc_host,
        port=port,
    )
    consumer = EventConsumer(
        deps.bus,
        PIPELINE_PROJECTION_CONSUMER,
        lambda events: projection.apply_events(deps.sessions, events),
    )
    try:
        await consumer.start()
    except BaseException:
        await server.stop(grace=0)
        raise
    return RunningService("pipeline", server, [consumer])
