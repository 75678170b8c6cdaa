"""`python -m services.evidence`: runs the evidence service alone until SIGINT or SIGTERM.

Configured from SALESFLOW_* variables; the database must be migrated already
(`salesflow db upgrade`).
"""

from __future__ import annotations

import asyncio
import logging
import signal

from salesflow.core.db import create_engine, session_factory
from salesflow.core.logs import configure_logging
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from services.evidence.server import serve

logger = logging.getLogger(__name__)


async def run(settings: Settings) -> None:
    """Serves until the process is asked to stop, then drains in-flight calls."""
    engine = create_engine(settings.database_url)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopping.set)

    try:
        # Evidence uses no events, so it needs no NATS connection.
        deps = ServiceDeps(settings=settings, sessions=session_factory(engine), bus=None)
        service = await serve(deps, port=settings.evidence_port)
        await stopping.wait()
        logger.info("evidence service stopping")
        await service.stop()
    finally:
        await engine.dispose()


def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    asyncio.run(run(settings))


if __name__ == "__main__":
    main()
