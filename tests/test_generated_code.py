"""The checked-in gRPC code matches protos/ (run scripts/gen_protos.py after editing them)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_generated_grpc_code_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_service_serves_health_and_reflection_names():
    from salesflow.analytics.v1 import analytics_pb2
    from salesflow.evidence.v1 import evidence_pb2
    from salesflow.pipeline.v1 import pipeline_pb2
    from salesflow.points.v1 import points_pb2
    from salesflow.templates.v1 import templates_pb2
    from salesflow.ticketing.v1 import ticketing_pb2

    names = {
        module.DESCRIPTOR.package + "." + service
        for module in (
            pipeline_pb2,
            evidence_pb2,
            points_pb2,
            ticketing_pb2,
            templates_pb2,
            analytics_pb2,
        )
        for service in module.DESCRIPTOR.services_by_name
    }
    assert names == {
        "salesflow.pipeline.v1.PipelineService",
        "salesflow.evidence.v1.EvidenceService",
        "salesflow.points.v1.PointsService",
        "salesflow.ticketing.v1.TicketingService",
        "salesflow.templates.v1.TemplateService",
        "salesflow.analytics.v1.AnalyticsService",
    }
