"""Starts the evidence service: its store on the configured blob folder, behind gRPC."""

from __future__ import annotations

import logging

from salesflow.core.rpc import ServiceBinding, channel, start_server
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.evidence.v1 import evidence_pb2_grpc
from services.evidence.access import AccessPolicy, PipelineAccess
from services.evidence.blobs import LocalBlobStore
from services.evidence.service import EvidenceServicer
from services.evidence.store import EvidenceStore

logger = logging.getLogger(__name__)

SERVICE_NAME = "salesflow.evidence.v1.EvidenceService"


def build_store(deps: ServiceDeps) -> EvidenceStore:
    """The evidence store as configured; the CLI's replay uses it in process."""
    settings = deps.settings
    return EvidenceStore(
        deps.sessions,
        LocalBlobStore(settings.evidence_dir),
        max_upload_bytes=settings.max_upload_bytes,
        timezone=settings.timezone,
    )


async def serve(
    deps: ServiceDeps,
    *,
    port: int,
    pipeline_target: str | None = None,
    access: AccessPolicy | None = None,
) -> RunningService:
    """Serves EvidenceService on the port (0 picks a free one).

    Evidence publishes and consumes no events, so deps.bus may be None. Access is checked
    with the pipeline service at `pipeline_target` (default: the configured one) unless
    another policy is given (the evidence service's own tests run it without pipelines).
    """
    if access is None:
        access = PipelineAccess(channel(pipeline_target or deps.settings.target("pipeline")))
    servicer = EvidenceServicer(build_store(deps), access)
    binding = ServiceBinding(
        servicer, evidence_pb2_grpc.add_EvidenceServiceServicer_to_server, SERVICE_NAME
    )
    server = await start_server([binding], host=deps.settings.grpc_host, port=port)
    logger.info(
        "evidence service started port=%s blobs=%s max_upload_bytes=%s",
        server.port,
        deps.settings.evidence_dir,
        deps.settings.max_upload_bytes,
    )
    return RunningService("evidence", server)
