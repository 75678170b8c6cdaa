"""One typed settings object per process, read from SALESFLOW_* environment variables.

Every variable is documented in README.md. Values are checked when the settings are
built, so a process with a malformed configuration stops at start, not mid-request.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from salesflow.core.zones import is_iana_zone

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


def _port(env: dict[str, str], name: str, default: int) -> int:
    """A TCP port: 1-65535 (a larger number would wrap around to another port)."""
    value = _int(env, name, default, minimum=1)
    if value > 65535:
        raise SettingsError(f"{name} must be a port from 1 to 65535, got {value}")
    return value


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
NATS_SCHEMES = ("nats", "tls")


def _log_level(env: dict[str, str], default: str) -> str:
    level = (env.get("SALESFLOW_LOG_LEVEL") or default).strip().upper()
    if level not in LOG_LEVELS:
        raise SettingsError(
            f"SALESFLOW_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got "
            f"{env.get('SALESFLOW_LOG_LEVEL')!r}"
        )
    return level


def _flag(env: dict[str, str], name: str) -> bool:
    raw = env.get(name, "").strip()
    if raw not in ("", "0", "1"):
        raise SettingsError(f"{name} must be 1 (on), 0 or empty (off), got {raw!r}")
    return raw == "1"


def _check_nats_url(url: str) -> None:
    """nats://host:port or tls://host:port; several servers separated by commas."""
    for server in url.split(","):
        parts = urlsplit(server.strip())
        try:
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError as error:
            raise SettingsError(f"SALESFLOW_NATS_URL has a bad port: {server!r}") from error
        if parts.scheme not in NATS_SCHEMES or not parts.hostname:
            raise SettingsError(
                f"SALESFLOW_NATS_URL must be nats://host:port or tls://host:port, got {server!r}"
            )


def _check_host_port(name: str, address: str) -> None:
    """host:port, the host a name or an address ([::1] for IPv6), the port 1-65535."""
    host, colon, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if (
        not colon
        or not host
        or any(char.isspace() or char in "/@" for char in host)
        or not port.isdigit()
        or not 1 <= int(port) <= 65535
    ):
        raise SettingsError(f"{name} must be host:port (e.g. 127.0.0.1:7233), got {address!r}")


ROBOT_KINDS = ("wecom", "dingtalk", "feishu")
SMTP_SECURITY = ("starttls", "ssl", "none")
_ROBOT_PREFIX = "SALESFLOW_ROBOT_"
_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class RobotSettings:
    """A group robot's webhook (SALESFLOW_ROBOT_<NAME>=<kind>:<url>); the URL holds its key."""

    name: str
    kind: str
    url: str = field(repr=False)
    # Signing secret (DingTalk "加签", Feishu "签名校验"); empty when the robot has none.
    secret: str = field(default="", repr=False)


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    """The mail server e-mail notices are sent through."""

    host: str
    port: int = 587
    sender: str
    username: str = ""
    password: str = field(default="", repr=False)
    # starttls (port 587), ssl (port 465) or none (a relay on the local network only).
    security: str = "starttls"
    timeout: float = 20.0


def _robots(env: dict[str, str]) -> tuple[RobotSettings, ...]:
    """Robots named by SALESFLOW_ROBOT_<NAME> (and optional SALESFLOW_ROBOT_<NAME>_SECRET)."""
    robots = []
    for key, value in sorted(env.items()):
        if not key.startswith(_ROBOT_PREFIX) or key.endswith("_SECRET") or not value:
            continue
        name = key.removeprefix(_ROBOT_PREFIX).lower()
        if not re.fullmatch(r"[a-z0-9][a-z0-9_]*", name):
            raise SettingsError(f"{key}: robot names are letters, digits and _")
        kind, _, url = value.partition(":")
        if kind not in ROBOT_KINDS:
            raise SettingsError(f"{key} must be <kind>:<url> with kind {', '.join(ROBOT_KINDS)}")
        parts = urlsplit(url)
        # Plain http only reaches a robot stand-in on this machine; real robots are https.
        if parts.scheme != "https" and not (
            parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS
        ):
            raise SettingsError(f"{key}: the webhook URL must be https:// (http:// on loopback)")
        robots.append(RobotSettings(name, kind, url, env.get(f"{key}_SECRET", "")))
    return tuple(robots)


def _smtp(env: dict[str, str]) -> SmtpSettings | None:
    host = env.get("SALESFLOW_SMTP_HOST", "")
    if not host:
        return None
    sender = env.get("SALESFLOW_SMTP_FROM", "")
    if "@" not in sender:
        raise SettingsError("SALESFLOW_SMTP_FROM must be an e-mail address when SMTP is set")
    security = env.get("SALESFLOW_SMTP_SECURITY") or "starttls"
    if security not in SMTP_SECURITY:
        raise SettingsError(f"SALESFLOW_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}")
    return SmtpSettings(
        host=host,
        port=_port(env, "SALESFLOW_SMTP_PORT", 465 if security == "ssl" else 587),
        sender=sender,
        username=env.get("SALESFLOW_SMTP_USER", ""),
        password=env.get("SALESFLOW_SMTP_PASSWORD", ""),
        security=security,
    )


# Our gRPC services, each with SALESFLOW_<NAME>_PORT and, optionally, SALESFLOW_<NAME>_HOST.
SERVICES = (
    "pipeline",
    "evidence",
    "points",
    "ticketing",
    "templates",
    "notifications",
    "analytics",
)


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
    templates_port: int = 50055
    notifications_port: int = 50056
    analytics_port: int = 50057
    evidence_dir: Path = DEFAULT_HOME / "evidence"
    max_upload_bytes: int = 64 * 1024 * 1024
    timezone: str = "Asia/Shanghai"
    # Custom search attributes exist only on a real Temporal server (or a dev server started
    # with --search-attribute); the time-skipping test server has no visibility store.
    search_attributes: bool = False
    log_level: str = "INFO"
    # Where notices go besides the service log: group robots and a mail server.
    robots: tuple[RobotSettings, ...] = ()
    smtp: SmtpSettings | None = None
    # Failed deliveries of one notice before it is marked dead (backoff up to an hour).
    notify_max_attempts: int = 12
    # Where clients reach a service when it is not on grpc_host (one container per service):
    # (service, host) pairs from SALESFLOW_<SERVICE>_HOST.
    service_hosts: tuple[tuple[str, str], ...] = ()

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
            pipeline_port=_port(env, "SALESFLOW_PIPELINE_PORT", base.pipeline_port),
            evidence_port=_port(env, "SALESFLOW_EVIDENCE_PORT", base.evidence_port),
            points_port=_port(env, "SALESFLOW_POINTS_PORT", base.points_port),
            ticketing_port=_port(env, "SALESFLOW_TICKETING_PORT", base.ticketing_port),
            templates_port=_port(env, "SALESFLOW_TEMPLATES_PORT", base.templates_port),
            notifications_port=_port(env, "SALESFLOW_NOTIFICATIONS_PORT", base.notifications_port),
            analytics_port=_port(env, "SALESFLOW_ANALYTICS_PORT", base.analytics_port),
            evidence_dir=Path(env.get("SALESFLOW_EVIDENCE_DIR") or base.evidence_dir),
            max_upload_bytes=_int(
                env, "SALESFLOW_MAX_UPLOAD_BYTES", base.max_upload_bytes, minimum=1
            ),
            timezone=env.get("SALESFLOW_TIMEZONE") or base.timezone,
            search_attributes=_flag(env, "SALESFLOW_SEARCH_ATTRIBUTES"),
            log_level=_log_level(env, base.log_level),
            robots=_robots(env),
            smtp=_smtp(env),
            notify_max_attempts=_int(
                env, "SALESFLOW_NOTIFY_MAX_ATTEMPTS", base.notify_max_attempts, minimum=1
            ),
            service_hosts=tuple(
                (service, env[f"SALESFLOW_{service.upper()}_HOST"].strip())
                for service in SERVICES
                if env.get(f"SALESFLOW_{service.upper()}_HOST", "").strip()
            ),
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
        _check_nats_url(self.nats_url)
        _check_host_port("SALESFLOW_TEMPORAL_ADDRESS", self.temporal_address)
        if not is_iana_zone(self.timezone):
            raise SettingsError(
                f"SALESFLOW_TIMEZONE must be an IANA zone (e.g. Asia/Shanghai), got "
                f"{self.timezone!r}"
            )

    def target(self, service: str) -> str:
        """host:port where a client reaches one of our gRPC services."""
        port = getattr(self, f"{service}_port")
        host = dict(self.service_hosts).get(service, self.grpc_host)
        # A server bound to every interface is reached on this machine's loopback.
        if host in ("0.0.0.0", "::", "[::]"):
            host = "127.0.0.1"
        return f"{host}:{port}"
