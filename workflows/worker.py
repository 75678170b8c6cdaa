"""The Temporal worker that runs pipeline workflows, ticket response clocks and their
activities.

python -m workflows.worker      # connects to SALESFLOW_TEMPORAL_ADDRESS and NATS
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal

from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from salesflow.core.events import EventBus
from salesflow.core.logs import configure_logging
from salesflow.core.settings import Settings
from workflows.pipeline.activities import PipelineActivities
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.ticket_response.activities import TicketResponseActivities
from workflows.ticket_response.workflow import TicketResponseWorkflow

logger = logging.getLogger(__name__)


def build_worker(
    client: Client, bus: EventBus, *, task_queue: str, max_cached_workflows: int = 10_000
) -> Worker:
    """A worker for the pipeline and ticket response workflows; a large cache keeps
    replays of histories rare."""
    activities = PipelineActivities(bus)
    ticket_activities = TicketResponseActivities(bus)
    # Our workflow modules hold no mutable global state, so the sandbox may share them
    # across runs instead of re-importing them for every pipeline (the main startup cost).
    runner = SandboxedWorkflowRunner(
        restrictions=SandboxRestrictions.default.with_passthrough_modules("workflows", "salesflow")
    )
    return Worker(
        client,
        task_queue=task_queue,
        workflows=[PipelineWorkflow, TicketResponseWorkflow],
        workflow_runner=runner,
        activities=[activities.publish_facts, ticket_activities.publish_escalation],
        max_cached_workflows=max_cached_workflows,
        max_concurrent_workflow_tasks=200,
        # Many pipelines act at the same moment (a replay, a Monday morning): with the
        # default five pollers, updates queue behind the poll round trips.
        max_concurrent_workflow_task_polls=40,
        max_concurrent_local_activities=200,
    )


async def main() -> None:
    settings = Settings.from_env()
    configure_logging(settings.log_level)
    client = await Client.connect(settings.temporal_address, namespace=settings.temporal_namespace)
    bus = await EventBus.connect(settings.nats_url, settings.event_prefix, name="worker")
    worker = build_worker(client, bus, task_queue=settings.task_queue)
    logger.info("worker polling task_queue=%s", settings.task_queue)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    watchdog = None
    if os.environ.get("SALESFLOW_EXIT_WITH_PARENT") == "1":
        # Started by the CLI's stack: never outlive it, even if it dies without cleaning up.
        watchdog = asyncio.create_task(_exit_with_parent(os.getppid(), stop))

    try:
        async with worker:
            await stop.wait()
        logger.info("worker stopped task_queue=%s", settings.task_queue)
    finally:
        if watchdog is not None:
            watchdog.cancel()
        await bus.close()


async def _exit_with_parent(parent_pid: int, stop: asyncio.Event) -> None:
    # Polling is the only portable way to learn that the parent has gone.
    while os.getppid() == parent_pid:  # noqa: ASYNC110
        await asyncio.sleep(1.0)
    stop.set()


if __name__ == "__main__":
    asyncio.run(main())
