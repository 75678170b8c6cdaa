"""Structured logs: one key=value line per event, with the trace id when there is one."""

from __future__ import annotations

import logging
import sys

from opentelemetry import trace


class _TraceContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = trace.get_current_span().get_span_context()
        record.trace_id = format(context.trace_id, "032x") if context.is_valid else "-"
        return True


def configure_logging(level: str = "INFO") -> None:
    """Sends key=value lines to stderr; call once at process start."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_TraceContextFilter())
    handler.setFormatter(
        logging.Formatter(
            "ts=%(asctime)s level=%(levelname)s logger=%(name)s trace=%(trace_id)s %(message)s"
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    _quiet_temporal_core()
    # Libraries chatter at INFO; keep their warnings only.
    for noisy in ("temporalio", "nats", "alembic", "sqlalchemy", "grpc"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))


def _quiet_temporal_core() -> None:
    """Temporal's Rust core logs to stdout by itself; keep only its errors, on stderr."""
    from temporalio.runtime import LoggingConfig, Runtime, TelemetryConfig, TelemetryFilter

    runtime = Runtime(
        telemetry=TelemetryConfig(
            logging=LoggingConfig(filter=TelemetryFilter(core_level="ERROR", other_level="ERROR"))
        )
    )
    Runtime.set_default(runtime, error_if_already_set=False)
