"""What every service hands back when it starts: its gRPC server and its event consumers.

Each service folder has `server.py` with

    async def serve(deps: ServiceDeps, *, port: int) -> RunningService

so the CLI can run all services in one process and `python -m services.<name>` runs one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.events import EventBus, EventConsumer
from salesflow.core.rpc import RunningServer
from salesflow.core.settings import Settings

logger = logging.getLogger(__name__)


@dataclass
class ServiceDeps:
    """The shared parts a service is started with."""

    settings: Settings
    sessions: async_sessionmaker[AsyncSession]
    # None for services that neither publish nor consume events.
    bus: EventBus | None
    # A temporalio.client.Client; None for services that never talk to workflows.
    temporal: Any = None


class Background(Protocol):
    """A loop a service runs beside its server (e.g. the notification dispatcher)."""

    async def stop(self) -> None: ...


@dataclass
class RunningService:
    name: str
    server: RunningServer
    consumers: list[EventConsumer] = field(default_factory=list)
    background: list[Background] = field(default_factory=list)

    @property
    def port(self) -> int:
        return self.server.port

    async def stop(self) -> None:
        for consumer in self.consumers:
            await consumer.stop()
        for loop in self.background:
            await loop.stop()
        await self.server.stop()
        logger.info("service stopped name=%s", self.name)
