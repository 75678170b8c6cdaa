"""Starts the dashboard's HTTP server in front of a stack's analytics and pipeline services.

`salesflow up` starts it beside the services, `salesflow dashboard` and
`python -m services.dashboard` on their own against the configured service addresses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from salesflow.core.db import utcnow
from salesflow.core.settings import Settings
from services.dashboard.api import build_app
from services.dashboard.backend import DashboardBackend
from services.dashboard.config import DashboardConfig

logger = logging.getLogger(__name__)


@dataclass
class RunningDashboard:
    url: str
    port: int
    backend: DashboardBackend
    runner: web.AppRunner

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.backend.close()
        logger.info("dashboard stopped url=%s", self.url)


async def serve_dashboard(
    settings: Settings,
    config: DashboardConfig,
    *,
    analytics_target: str | None = None,
    pipeline_target: str | None = None,
    port: int | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> RunningDashboard:
    """Serves the page on config.host and the port (config.port unless given; 0 picks one).

    The services are reached at the given targets, else where the settings say.
    """
    backend = DashboardBackend(
        analytics_target=analytics_target or settings.target("analytics"),
        pipeline_target=pipeline_target or settings.target("pipeline"),
        zone=ZoneInfo(settings.timezone),
    )
    runner = web.AppRunner(build_app(backend, config, clock), handle_signals=False)
    try:
        await runner.setup()
        site = web.TCPSite(runner, config.host, config.port if port is None else port)
        await site.start()
    except BaseException:
        await runner.cleanup()
        await backend.close()
        raise

    bound = runner.addresses[0][1]
    host = config.host if config.host not in ("0.0.0.0", "::") else "127.0.0.1"
    url = f"http://{host}:{bound}/"
    logger.info(
        "dashboard listening url=%s analytics=%s pipeline=%s viewer=%s/%s",
        url,
        backend.analytics_target,
        backend.pipeline_target,
        config.viewer.id,
        config.viewer.role.value,
    )
    return RunningDashboard(url=url, port=bound, backend=backend, runner=runner)
