"""One typed settings object per process, read from SALESFLOW_* environment variables.

Every variable is documented in README.md. Values are checked when the settings are
built, so a process with a malformed configuration stops at start, not mid-request.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_HOME = Path(os.environ.get("SALESFLOW_HOME", Path.home() / ".salesflow"))


class SettingsError(ValueError):
    """A configuration value is missing or malformed."""


def _int(env: dict[str, str], name: str, default: int, *, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as error:
        raise SettingsError(f"{name} must be an integer, got {raw!r}") from error
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {value}")
    return value


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Where a salesflow process finds its parts and how it behaves."""

    database_url: str = field(default_factory=lambda: f"sqlite:///{DEFAULT_HOME / 'salesflow.db'}")
    temporal_address: str = "127.0.0.1:7233"
    temporal_namespace: str = "default"
    task_queue: str = "salesflow-pipelines"
    nats_url: str = "nats://127.0.0.1:4222"
    # Prefix of every NATS subject and the JetStream stream name; lets several stacks share
    # one NATS server without seeing each other's events.
    event_prefix: str = "salesflow"
    grpc_host: str = "127.0.0.1"
    pipeline_port: int = 50051
    evidence_port: int = 50052
    points_port: int = 50053
    ticketing_port: int = 50054
    analytics_port: int = 50057
    evidence_dir: Path = DEFAULT_HOME / "evidence"
    max_upload_bytes: int = 64 * 1024 * 1024
    timezone: str = "Asia/Shanghai"
    # Custom search attributes exist only on a real Temporal server (or a dev server started
    # with --search-attribute); the time-skipping test server has no visibility store.
    search_attributes: bool = False
    log_level: str = "INFO"

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Builds settings from the environment; raises SettingsError on bad values."""
        env = dict(os.environ if env is None else env)
        base = cls()
        settings = replace(
            base,
            database_url=env.get("SALESFLOW_DATABASE_URL") or base.database_url,
            temporal_address=env.get("SALESFLOW_TEMPORAL_ADDRESS") or base.temporal_address,
            temporal_namespace=env.get("SALESFLOW_TEMPORAL_NAMESPACE") or base.temporal_namespace,
            task_queue=env.get("SALESFLOW_TASK_QUEUE") or base.task_queue,
            nats_url=env.get("SALESFLOW_NATS_URL") or base.nats_url,
            event_prefix=env.get("SALESFLOW_EVENT_PREFIX") or base.event_prefix,
            grpc_host=env.get("SALESFLOW_GRPC_HOST") or base.grpc_host,
            pipeline_port=_int(env, "SALESFLOW_PIPELINE_PORT", base.pipeline_port),
            evidence_port=_int(env, "SALESFLOW_EVIDENCE_PORT", base.evidence_port),
            points_port=_int(env, "SALESFLOW_POINTS_PORT", base.points_port),
            ticketing_port=_int(env, "SALESFLOW_TICKETING_PORT", base.ticketing_port),
            analytics_port=_int(env, "SALESFLOW_ANALYTICS_PORT", base.analytics_port),
            evidence_dir=Path(env.get("SALESFLOW_EVIDENCE_DIR") or base.evidence_dir),
            max_upload_bytes=_int(
                env, "SALESFLOW_MAX_UPLOAD_BYTES", base.max_upload_bytes, minimum=1
            ),
            timezone=env.get("SALESFLOW_TIMEZONE") or base.timezone,
            search_attributes=(env.get("SALESFLOW_SEARCH_ATTRIBUTES", "") == "1"),
            log_level=(env.get("SALESFLOW_LOG_LEVEL") or base.log_level).upper(),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if not self.event_prefix.replace("_", "").replace("-", "").isalnum():
            raise SettingsError(
                f"SALESFLOW_EVENT_PREFIX must be letters, digits, - or _, got {self.event_prefix!r}"
            )
        if "://" not in self.database_url:
            raise SettingsError(f"SALESFLOW_DATABASE_URL is not a URL: {self.database_url!r}")
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(self.timezone)
        except Exception as error:
            raise SettingsError(f"SALESFLOW_TIMEZONE is unknown: {self.timezone!r}") from error

    def target(self, service: str) -> str:
        """host:port of one of our gRPC services."""
        port = getattr(self, f"{service}_port")
        return f"{self.grpc_host}:{port}"
