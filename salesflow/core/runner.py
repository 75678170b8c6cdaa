"""Runs one service alone (`python -m services.<name>`) until SIGINT or SIGTERM.

Connects what the service needs from the SALESFLOW_* settings, serves on the service's
configured port, then drains in-flight calls and consumers before exiting. The database
must already be migrated (`salesflow db upgrade`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable

from salesflow.core.db import create_engine, session_factory
from salesflow.core.events import EventBus
from salesflow.core.logs import configure_logging
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.core.settings import Settings

logger = logging.getLogger(__name__)

Serve = Callable[..., Awaitable[RunningService]]


async def _run(name: str, serve: Serve, *, needs_events: bool, needs_temporal: bool) -> None:
    settings = Settings.from_env()
    engine = create_engine(settings.database_url)
    bus = None
    if needs_events:
        bus = await EventBus.connect(settings.nats_url, settings.event_prefix, name=name)
    temporal = None
    if needs_temporal:
        from temporalio.client import Client

        temporal = await Client.connect(
            settings.temporal_address, namespace=settings.temporal_namespace
        )

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)

    deps = ServiceDeps(settings, session_factory(engine), bus, temporal)
    try:
        service = await serve(deps, port=getattr(settings, f"{name}_port"))
        try:
            await stopping.wait()
            logger.info("service stopping name=%s", name)
        finally:
            await service.stop()
    finally:
        if bus is not None:
            await bus.close()
        await engine.dispose()


def run_service(name: str, serve: Serve, *, needs_events: bool, needs_temporal: bool) -> None:
    """The body of every service's __main__."""
    configure_logging(Settings.from_env().log_level)
    asyncio.run(_run(name, serve, needs_events=needs_events, needs_temporal=needs_temporal))
