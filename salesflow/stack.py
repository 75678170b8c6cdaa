"""The whole salesflow stack in one process: servers, worker and every service.

    embedded   Temporal's time-skipping server, a private nats-server, SQLite by default
    local      Temporal's dev server (web UI) on a persistent file, as `salesflow up` runs
    external   existing Temporal and NATS at the configured addresses

The CLI's demo, replay and up commands run on it; tests use it for end-to-end runs.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import sys
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from urllib.parse import urlsplit

from temporalio.client import Client
from temporalio.worker import Worker

from salesflow.core.db import create_engine, session_factory
from salesflow.core.events import CONSUMERS, TRANSIENT_ERRORS, EventBus
from salesflow.core.migrate import upgrade
from salesflow.core.servers import (
    NatsServer,
    free_port,
    start_dev_server_environment,
    start_time_skipping_environment,
)
from salesflow.core.service import RunningService, ServiceDeps
from salesflow.core.settings import Settings
from workflows.pipeline.workflow import SEARCH_ATTRIBUTE_TYPES
from workflows.worker import build_worker

logger = logging.getLogger(__name__)


def evidence_item(record):
    """What the evidence lock needs to know of one stored evidence record."""
    from workflows.pipeline.types import EvidenceItem

    return EvidenceItem(
        evidence_id=record.evidence_id,
        opportunity_id=record.opportunity_id,
        kind=record.kind,
        sha256=record.sha256,
        captured_at=record.captured_at,
        content_type=record.content_type,
        uploaded_by=record.uploaded_by,
        flags=list(record.flags),
        captured_local=record.captured_local.isoformat() if record.captured_local else "",
        capture_offset_assumed=record.capture_offset_assumed,
    )


def make_url_port(url: str) -> tuple[str, int]:
    """(host, port) of a URL such as nats://127.0.0.1:4222."""
    parsed = urlsplit(url)
    return parsed.hostname or "127.0.0.1", parsed.port or 4222


async def port_answers(host: str, port: int) -> bool:
    try:
        _reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    await writer.wait_closed()
    return True


class TemporalMode(StrEnum):
    TIME_SKIPPING = "time-skipping"
    DEV_SERVER = "dev-server"
    EXTERNAL = "external"


@dataclass
class StackOptions:
    temporal: TemporalMode = TemporalMode.TIME_SKIPPING
    # Start a private nats-server instead of using settings.nats_url.
    embedded_nats: bool = True
    # Bind services to the configured ports instead of free ones.
    fixed_ports: bool = False
    # Run the Temporal worker in a process of its own, so workflow code gets a core of its
    # own instead of sharing the interpreter with the services.
    worker_process: bool = False
    # Deliver every notice to the log whatever its route (replays of past exports).
    notices_to_log: bool = False
    dev_server_ui_port: int | None = None
    dev_server_db: Path | None = None
    state_dir: Path | None = None


@dataclass
class Stack:
    settings: Settings
    options: StackOptions
    temporal: Client | None = None
    environment: object | None = None
    bus: EventBus | None = None
    engine: object | None = None
    sessions: object | None = None
    worker: Worker | None = None
    services: dict[str, RunningService] = field(default_factory=dict)
    nats: NatsServer | None = None
    _exit: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def __aenter__(self) -> Stack:
        try:
            await self._start()
        except BaseException:
            await self._exit.aclose()
            raise
        return self

    async def __aexit__(self, *exc_info) -> None:
        await self._exit.aclose()

    @property
    def time_skipping(self) -> bool:
        return self.options.temporal is TemporalMode.TIME_SKIPPING

    def target(self, service: str) -> str:
        return f"{self.settings.grpc_host}:{self.services[service].port}"

    async def _start(self) -> None:
        from services.analytics.server import serve as serve_analytics
        from services.evidence.server import serve as serve_evidence
        from services.notifications.channels import log_only_channels
        from services.notifications.server import dispatcher_for
        from services.notifications.server import serve as serve_notifications
        from services.pipeline.server import serve as serve_pipeline
        from services.points.server import serve as serve_points
        from services.templates.server import serve as serve_templates
        from services.ticketing.server import serve as serve_ticketing

        # The database first: nothing runs on a schema that is not migrated.
        await asyncio.to_thread(upgrade, self.settings.database_url)
        self.engine = create_engine(self.settings.database_url)
        self._exit.push_async_callback(self.engine.dispose)
        self.sessions = session_factory(self.engine)

        await self._start_nats()
        self.bus = await EventBus.connect(self.settings.nats_url, self.settings.event_prefix)
        self._exit.push_async_callback(self.bus.close)
        for spec in CONSUMERS:
            await self.bus.ensure_consumer(spec)

        await self._start_temporal()
        if self.options.worker_process:
            await self._start_worker_process()
        else:
            self.worker = build_worker(self.temporal, self.bus, task_queue=self.settings.task_queue)
            await self._exit.enter_async_context(self.worker)

        deps = ServiceDeps(self.settings, self.sessions, self.bus, self.temporal)
        ports = self._ports()
        # Templates first: it seeds the default template pipelines start on.
        self._register(await serve_templates(deps, port=ports["templates"]))
        evidence = await serve_evidence(
            deps,
            port=ports["evidence"],
            pipeline_target=f"{self.settings.grpc_host}:{ports['pipeline']}",
        )
        self._register(evidence)
        self._register(
            await serve_pipeline(
                deps,
                port=ports["pipeline"],
                evidence_target=f"{self.settings.grpc_host}:{evidence.port}",
                # Analytics starts later on its chosen port; suggestions reach it from then.
                analytics_target=f"{self.settings.grpc_host}:{ports['analytics']}",
            )
        )
        self._register(await serve_points(deps, port=ports["points"]))
        self._register(await serve_ticketing(deps, port=ports["ticketing"]))
        # Notices go where SALESFLOW_ROBOT_* / SALESFLOW_SMTP_* and the routes table say;
        # with none configured (the demo, the tests) every notice is delivered to the log.
        dispatcher = None
        if self.options.notices_to_log:
            dispatcher = dispatcher_for(deps, channels=log_only_channels())
        self._register(
            await serve_notifications(deps, port=ports["notifications"], dispatcher=dispatcher)
        )
        self._register(await serve_analytics(deps, port=ports["analytics"]))
        logger.info(
            "stack up temporal=%s nats=%s database=%s services=%s",
            self.options.temporal.value,
            self.settings.nats_url,
            self.settings.database_url.split("@")[-1],
            {name: service.port for name, service in self.services.items()},
        )

    async def _start_worker_process(self) -> None:
        environment = {
            **os.environ,
            "SALESFLOW_TEMPORAL_ADDRESS": self.temporal.service_client.config.target_host,
            "SALESFLOW_TEMPORAL_NAMESPACE": self.temporal.namespace,
            "SALESFLOW_NATS_URL": self.settings.nats_url,
            "SALESFLOW_EVENT_PREFIX": self.settings.event_prefix,
            "SALESFLOW_TASK_QUEUE": self.settings.task_queue,
            "SALESFLOW_LOG_LEVEL": logging.getLevelName(logging.getLogger().level),
            "SALESFLOW_EXIT_WITH_PARENT": "1",
        }
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "workflows.worker", env=environment
        )

        async def stop_worker() -> None:
            if process.returncode is None:
                process.terminate()
                try:
                    await asyncio.wait_for(process.wait(), 15)
                except TimeoutError:
                    process.kill()
                    await process.wait()

        self._exit.push_async_callback(stop_worker)
        logger.info("worker process started pid=%s", process.pid)

    def _ports(self) -> dict[str, int]:
        names = (
            "pipeline",
            "evidence",
            "points",
            "ticketing",
            "templates",
            "notifications",
            "analytics",
        )
        if self.options.fixed_ports:
            return {name: getattr(self.settings, f"{name}_port") for name in names}
        # Chosen before any service starts: evidence and pipeline each need the other's
        # address (evidence asks the pipeline service who may see a pipeline's files), and
        # the pipeline service asks analytics for strategy suggestions.
        return {name: free_port() for name in names}

    def _register(self, service: RunningService) -> None:
        self.services[service.name] = service
        self._exit.push_async_callback(service.stop)

    async def _start_nats(self) -> None:
        if not self.options.embedded_nats:
            return
        store = None
        if self.options.state_dir is not None:
            store = self.options.state_dir / "nats"
        port = None
        if self.options.fixed_ports:
            # The configured port if it is free; another server there may be one we must not
            # share (an older nats-server ignores multi-subject consumer filters).
            host, configured = make_url_port(self.settings.nats_url)
            if not await port_answers(host, configured):
                port = configured
        self.nats = NatsServer(
            **({"store_dir": store} if store else {}), **({"port": port} if port else {})
        )
        await self.nats.start()
        self._exit.push_async_callback(self._stop_nats)
        self._nats_supervisor = asyncio.create_task(self._supervise_nats())
        self.settings = replace(self.settings, nats_url=self.nats.url)

    async def _supervise_nats(self) -> None:
        """Restarts the private nats-server if it dies; clients reconnect by themselves and
        JetStream's store on disk keeps every acknowledged event."""
        while True:
            await asyncio.sleep(0.5)
            process = self.nats.process
            if process is not None and process.poll() is not None:
                logger.warning(
                    "nats-server exited code=%s; restarting it on port %s",
                    process.returncode,
                    self.nats.port,
                )
                await self.nats.start()

    async def _stop_nats(self) -> None:
        if self.nats is None:
            return
        self._nats_supervisor.cancel()
        await self.nats.stop()
        if self.options.state_dir is None:
            shutil.rmtree(self.nats.store_dir, ignore_errors=True)

    async def _start_temporal(self) -> None:
        mode = self.options.temporal
        if mode is TemporalMode.TIME_SKIPPING:
            self.environment = await start_time_skipping_environment()
            self._exit.push_async_callback(self.environment.shutdown)
            self.temporal = self.environment.client
        elif mode is TemporalMode.DEV_SERVER:
            from temporalio.common import SearchAttributeKey

            keys = [
                SearchAttributeKey.for_keyword(name)
                if kind == "Keyword"
                else SearchAttributeKey.for_datetime(name)
                for name, kind in SEARCH_ATTRIBUTE_TYPES.items()
            ]
            port = None
            if self.options.fixed_ports:
                port = make_url_port(f"grpc://{self.settings.temporal_address}")[1]
            self.environment = await start_dev_server_environment(
                db_file=self.options.dev_server_db,
                ui_port=self.options.dev_server_ui_port,
                search_attributes=keys,
                port=port,
            )
            self._exit.push_async_callback(self.environment.shutdown)
            self.temporal = self.environment.client
            self.settings = replace(
                self.settings,
                search_attributes=True,
                temporal_address=self.temporal.service_client.config.target_host,
            )
        else:
            self.temporal = await Client.connect(
                self.settings.temporal_address, namespace=self.settings.temporal_namespace
            )

    def pipeline_commands(self):
        """The pipeline service's domain API, resolving evidence in-process."""
        from services.pipeline.server import commands_for

        store = self.evidence_store()

        async def lookup(evidence_ids):
            records = await store.get_many(list(evidence_ids))
            found = {record.evidence_id for record in records}
            missing = [evidence_id for evidence_id in evidence_ids if evidence_id not in found]
            if missing:
                from salesflow.core.errors import NotFound

                raise NotFound(f"evidence {', '.join(missing)} does not exist")
            return [evidence_item(record) for record in records]

        return commands_for(self._deps(), lookup)

    def evidence_store(self):
        from services.evidence.server import build_store

        return build_store(self._deps())

    def ticket_desk(self, now=None):
        from services.ticketing.server import desk_for

        return desk_for(self._deps(), now=now)

    def _deps(self) -> ServiceDeps:
        return ServiceDeps(self.settings, self.sessions, self.bus, self.temporal)

    async def totals(self) -> dict[str, int]:
        """What the stack has recorded: pipelines, actions, clocks, points and tickets."""
        from sqlalchemy import func, select

        from services.notifications.models import Notification
        from services.pipeline.models import PipelineRecord
        from services.points.models import LedgerEntry
        from services.ticketing.models import Ticket

        async with self.sessions() as session:
            outcomes = dict(
                (
                    await session.execute(
                        select(PipelineRecord.outcome, func.count()).group_by(
                            PipelineRecord.outcome
                        )
                    )
                ).all()
            )
            sums = (
                await session.execute(
                    select(
                        func.coalesce(func.sum(PipelineRecord.actions_completed), 0),
                        func.coalesce(func.sum(PipelineRecord.escalations), 0),
                        func.coalesce(func.sum(PipelineRecord.reminders), 0),
                        func.coalesce(func.sum(PipelineRecord.overdue_actions), 0),
                    )
                )
            ).one()
            ledger = (
                await session.execute(
                    select(func.count(), func.coalesce(func.sum(LedgerEntry.points), 0))
                )
            ).one()
            tickets = dict(
                (
                    await session.execute(
                        select(Ticket.status, func.count()).group_by(Ticket.status)
                    )
                ).all()
            )
            notices = dict(
                (
                    await session.execute(
                        select(Notification.status, func.count()).group_by(Notification.status)
                    )
                ).all()
            )
        return {
            "actions_completed": int(sums[0]),
            "escalations": int(sums[1]),
            "reminders": int(sums[2]),
            "overdue_actions": int(sums[3]),
            "points_entries": int(ledger[0]),
            "points_total": int(ledger[1]),
            "tickets_opened": sum(tickets.values()),
            "tickets_resolved": tickets.get("resolved", 0),
            "pipelines_won": outcomes.get("won", 0),
            "pipelines_lost": outcomes.get("lost", 0),
            "pipelines_open": outcomes.get("open", 0),
            "notifications_written": sum(notices.values()),
            "notifications_delivered": notices.get("delivered", 0),
        }

    async def drain_outbox(self, timeout: float = 60.0) -> None:
        """Waits until the notification outbox has nothing due left to send.

        Notices waiting for a retry later are not waited for; after `timeout` the wait
        ends with a warning (a channel may be down), never an error.
        """
        from sqlalchemy import func, select

        from salesflow.core.db import utcnow
        from services.notifications.models import STATUS_PENDING, STATUS_SENDING, Notification

        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            async with self.sessions() as session:
                due = await session.scalar(
                    select(func.count()).where(
                        Notification.status.in_((STATUS_PENDING, STATUS_SENDING)),
                        Notification.next_attempt_at <= utcnow(),
                    )
                )
            if not due:
                return
            if asyncio.get_running_loop().time() > deadline:
                logger.warning("outbox still has %d notices due after %ss", due, timeout)
                return
            await asyncio.sleep(0.05)

    async def drain_events(self, timeout: float = 120.0, consumers=CONSUMERS) -> None:
        """Waits until the consumers have acknowledged everything published so far."""
        deadline = asyncio.get_running_loop().time() + timeout
        pending: dict[str, int] = {}
        while True:
            try:
                pending = {spec.durable: await self.bus.pending(spec) for spec in consumers}
            except TRANSIENT_ERRORS as error:
                # NATS is restarting; the consumers resume where they were when it is back.
                logger.warning("cannot read consumer progress yet: %s", error)
                pending = {"unknown": 1}
            if not any(pending.values()):
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"consumers still behind after {timeout}s: {pending}")
            await asyncio.sleep(0.02)
