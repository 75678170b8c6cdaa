"""Starts the pipeline service: gRPC server plus the projection consumer."""

from __future__ import annotations

import os

from salesflow.core.events import PIPELINE_PROJECTION_CONSUMER, EventConsumer
from salesflow.core.rpc import ServiceBinding, channel, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.pipeline.v1 import pipeline_pb2_grpc
from services.pipeline import projection
from services.pipeline.commands import PipelineCommands
from services.pipeline.feedback import STRATEGY_ANSWER_KEY, StrategyFeedback
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


def feedback_for(deps: ServiceDeps, analytics_target: str | None = None) -> StrategyFeedback:
    """The strategy suggestions of CompleteAction, asked of the analytics service. Which
    answers hold strategies is the analytics setting SALESFLOW_ANALYTICS_STRATEGY_ANSWER_KEY
    (read here as a variable)."""
    answer_key = os.environ.get("SALESFLOW_ANALYTICS_STRATEGY_ANSWER_KEY", "").strip()
    return StrategyFeedback(
        channel(analytics_target or deps.settings.target("analytics")),
        answer_key=answer_key or STRATEGY_ANSWER_KEY,
    )


async def serve(
    deps: ServiceDeps,
    *,
    port: int,
    evidence_target: str | None = None,
    analytics_target: str | None = None,
) -> RunningService:
    """Serves PipelineService; evidence ids are resolved through the evidence service, and
    strategy suggestions come from the analytics service."""
    evidence = EvidenceClient(channel(evidence_target or deps.settings.target("evidence")))
    feedback = feedback_for(deps, analytics_target)
    templates = TemplateStore(deps.sessions)
    commands = commands_for(deps, evidence.lookup, templates)
    server = await start_server(
        [
            ServiceBinding(
                PipelineServicer(commands, deps.sessions, templates, feedback),
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
        await feedback.stop()
        raise
    return RunningService("pipeline", server, [consumer], background=[feedback])
