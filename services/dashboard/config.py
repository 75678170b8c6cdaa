"""Where the dashboard listens and whom it shows figures to by default.

    SALESFLOW_DASHBOARD_HOST           address to bind (default 127.0.0.1)
    SALESFLOW_DASHBOARD_PORT           port (default 8080)
    SALESFLOW_DASHBOARD_VIEWER         default viewer id (default "dashboard")
    SALESFLOW_DASHBOARD_VIEWER_ROLE    their role (default director)
    SALESFLOW_DASHBOARD_VIEWER_REGIONS their regions, comma-separated (default *)

Read once at start; malformed values stop the process. See README.md, "Dashboard".
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from salesflow.core.caller import Caller, Role
from salesflow.core.settings import SettingsError

DEFAULT_PORT = 8080
DEFAULT_VIEWER = Caller(id="dashboard", role=Role.DIRECTOR, regions=frozenset({"*"}))


def parse_role(raw: str, name: str) -> Role:
    """A role a viewer may claim: any caller role but the platform's own."""
    try:
        role = Role(raw.strip().lower())
    except ValueError:
        role = None
    if role is None or role is Role.SYSTEM:
        known = ", ".join(r.value for r in Role if r is not Role.SYSTEM)
        raise SettingsError(f"{name} must be one of {known}, got {raw!r}")
    return role


def parse_regions(raw: str) -> frozenset[str]:
    return frozenset(region.strip() for region in raw.split(",") if region.strip())


@dataclass(frozen=True, kw_only=True)
class DashboardConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    # Whom the page shows figures to when its address names nobody (see viewer.py).
    viewer: Caller = field(default=DEFAULT_VIEWER)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DashboardConfig:
        env = os.environ if env is None else env
        raw_port = env.get("SALESFLOW_DASHBOARD_PORT", "").strip()
        try:
            port = int(raw_port) if raw_port else DEFAULT_PORT
        except ValueError as error:
            raise SettingsError(
                f"SALESFLOW_DASHBOARD_PORT must be an integer, got {raw_port!r}"
            ) from error
        if not 0 <= port <= 65535:
            raise SettingsError(f"SALESFLOW_DASHBOARD_PORT must be a port, got {port}")

        role = DEFAULT_VIEWER.role
        if env.get("SALESFLOW_DASHBOARD_VIEWER_ROLE", "").strip():
            role = parse_role(
                env["SALESFLOW_DASHBOARD_VIEWER_ROLE"], "SALESFLOW_DASHBOARD_VIEWER_ROLE"
            )
        regions = parse_regions(env.get("SALESFLOW_DASHBOARD_VIEWER_REGIONS", "*"))
        viewer = Caller(
            id=env.get("SALESFLOW_DASHBOARD_VIEWER", "").strip() or DEFAULT_VIEWER.id,
            role=role,
            regions=regions or DEFAULT_VIEWER.regions,
        )
        return cls(
            host=env.get("SALESFLOW_DASHBOARD_HOST", "").strip() or "127.0.0.1",
            port=port,
            viewer=viewer,
        )
