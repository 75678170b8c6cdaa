"""`salesflow dashboard`: the web dashboard in front of a running stack's services.

    salesflow dashboard [--port N] [--host H]

It reaches the analytics and pipeline services where the SALESFLOW_* settings say (as the
other commands do) and serves http://127.0.0.1:<SALESFLOW_DASHBOARD_PORT, 8080>/ until
Ctrl-C. `salesflow up` starts the same server beside the services; `salesflow demo` ends by
writing a snapshot of it (see services/dashboard/snapshot.py).
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import replace
from pathlib import Path

from salesflow.core.settings import Settings, SettingsError

DEMO_SNAPSHOT = "demo-dashboard.html"


def register(commands) -> None:
    """Adds the `dashboard` command to the top-level parser."""
    dashboard = commands.add_parser(
        "dashboard", help="serve the web dashboard in front of a running stack"
    )
    dashboard.add_argument("--port", type=int, help="port (default SALESFLOW_DASHBOARD_PORT, 8080)")
    dashboard.add_argument("--host", help="address to bind (default 127.0.0.1)")
    dashboard.set_defaults(handler=_dashboard)


def dashboard_config(options=None):
    """The dashboard's configuration from the environment and the command line."""
    from services.dashboard.config import DashboardConfig

    config = DashboardConfig.from_env()
    if options is not None and getattr(options, "port", None) is not None:
        config = replace(config, port=options.port)
    if options is not None and getattr(options, "host", None):
        config = replace(config, host=options.host)
    return config


async def wait_for_stop() -> None:
    """Returns on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def _dashboard(options, settings: Settings) -> int:
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    from salesflow.core.rpc import channel
    from services.dashboard.server import serve_dashboard

    try:
        config = dashboard_config(options)
    except SettingsError as error:
        print(f"salesflow: configuration error: {error}", file=sys.stderr)
        return 2
    try:
        running = await serve_dashboard(settings, config)
    except OSError as error:
        print(f"salesflow: cannot listen on {config.host}:{config.port}: {error}", file=sys.stderr)
        return 1

    print(f"salesflow dashboard on {running.url}")
    for name in ("analytics", "pipeline"):
        target = settings.target(name)
        async with channel(target) as service_channel:
            try:
                await health_pb2_grpc.HealthStub(service_channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=3
                )
                print(f"  {name:<10} {target}")
            except Exception:
                print(f"  {name:<10} {target} does not answer yet (the page shows 503 till then)")
    print(f"  viewer     {config.viewer.id} ({config.viewer.role.value}); not a login, see README")
    print("Press Ctrl-C to stop.")
    try:
        await wait_for_stop()
    finally:
        await running.stop()
    return 0


async def start_for_stack(stack, config):
    """The dashboard in front of a stack running in this process."""
    from services.dashboard.server import serve_dashboard

    return await serve_dashboard(
        stack.settings,
        config,
        analytics_target=stack.target("analytics"),
        pipeline_target=stack.target("pipeline"),
    )


async def write_demo_snapshot(stack, home: Path) -> Path:
    """The demo's figures as one HTML file under `home` (SALESFLOW_HOME)."""
    from zoneinfo import ZoneInfo

    from salesflow.core.db import utcnow
    from services.dashboard.backend import DashboardBackend
    from services.dashboard.config import DEFAULT_VIEWER
    from services.dashboard.snapshot import write_snapshot

    backend = DashboardBackend(
        analytics_target=stack.target("analytics"),
        pipeline_target=stack.target("pipeline"),
        zone=ZoneInfo(stack.settings.timezone),
    )
    try:
        return await write_snapshot(backend, DEFAULT_VIEWER, home / DEMO_SNAPSHOT, now=utcnow())
    finally:
        await backend.close()
