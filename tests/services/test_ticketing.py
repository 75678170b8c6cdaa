"""The ticketing service against real PostgreSQL, nats-server, gRPC and a Temporal server."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select
from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from salesflow.core.caller import Caller, Role
from salesflow.core.events import (
    TICKETING_CONSUMER,
    event_headers,
    new_event,
    subject_for,
)
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.events.v1 import events_pb2
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
from services.ticketing.desk import TicketDesk
from services.ticketing.models import Ticket
from services.ticketing.server import serve
from tests.conftest import eventually
from tests.workflows.test_pipeline_timers import (
    complete_objection_handling,
    pipeline_input,
    published,
    walk_to_objection_handling,
)
from workflows.pipeline.types import CompleteActionInput, EvidenceItem, workflow_id_for
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

LEGAL = Caller(id="Lena Legal", role=Role.LEGAL, regions=frozenset())
LOGISTICS = Caller(id="Lou Logistics", role=Role.LOGISTICS, regions=frozenset())
REP = Caller(id="Anna Snelling", role=Role.REP, regions=frozenset({"Central"}))


def ticket_requested(opportunity_id: str, *, at: datetime) -> events_pb2.Event:
    key = f"{opportunity_id}:contract_archive:legal"
    event = new_event(
        event_id=f"{workflow_id_for(opportunity_id)}:ticket.requested:{key}",
        event_type="ticket.requested",
        source="tests",
        time=at,
        opportunity_id=opportunity_id,
        rep_id=REP.id,
        region="Central",
    )
    event.ticket_requested.CopyFrom(
        events_pb2.TicketRequested(
            ticket_key=key,
            department="legal",
            kind="contract_review",
            action_key="contract_archive",
            workflow_id=workflow_id_for(opportunity_id),
            response_target_minutes=120,
        )
    )
    return event


@pytest.fixture
async def ticketing(db_sessions, event_bus, time_skipping_env):
    deps = ServiceDeps(
        settings=Settings(), sessions=db_sessions, bus=event_bus, temporal=time_skipping_env.client
    )
    service = await serve(deps, port=0)
    yield service
    await service.stop()


@pytest.fixture
def client_for(ticketing, open_channel):
    """Makes a client per caller; the channels stay open until the test ends."""
    return lambda caller: ticketing_pb2_grpc.TicketingServiceStub(
        open_channel(f"127.0.0.1:{ticketing.port}", caller)
    )


def new_opportunity() -> str:
    return uuid.uuid4().hex[:8].upper()


async def listed(client, opportunity_id: str) -> ticketing_pb2.ListTicketsResponse | None:
    """The opportunity's tickets, or None while there are none yet."""
    request = ticketing_pb2.ListTicketsRequest(opportunity_id=opportunity_id)
    found = await client.ListTickets(request)
    return found if found.tickets else None


async def refused(call) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await call
    return error.value.code()


async def test_a_request_delivered_twice_opens_one_ticket(
    ticketing, client_for, event_bus, db_sessions, time_skipping_env
):
    opportunity_id = new_opportunity()
    opened_at = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    request = ticket_requested(opportunity_id, at=opened_at)
    key = request.ticket_requested.ticket_key

    await event_bus.publish(request)
    # The same request stored twice by JetStream (a publish retried beyond its window).
    headers = {**event_headers(request), "Nats-Msg-Id": f"{request.id}:again"}
    await event_bus.jetstream.publish(
        subject_for(event_bus.prefix, request.type), request.SerializeToString(), headers=headers
    )

    async def settled():
        if await event_bus.pending(TICKETING_CONSUMER):
            return None
        return await client_for(LEGAL).GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=key))

    ticket = await eventually(settled)
    assert (ticket.status, ticket.department, ticket.rep_id) == ("open", "legal", REP.id)
    assert ticket.opened_at.ToDatetime(tzinfo=UTC) == opened_at
    assert ticket.response_target_minutes == 120

    # A consumer that crashed before its ack handles the batch once more.
    desk = TicketDesk(sessions=db_sessions, bus=event_bus, temporal=time_skipping_env.client)
    assert await desk.open_from_events([request]) == 0
    async with db_sessions() as session:
        count = await session.scalar(select(func.count()).where(Ticket.ticket_key == key))
    assert count == 1
    assert await published(event_bus, "ticket.changed") == [f"ticket:{key}:opened"]


async def test_the_rules_of_a_ticket_over_grpc(ticketing, client_for, event_bus, db_sessions):
    opportunity_id = new_opportunity()
    opened_at = datetime.now(UTC) - timedelta(hours=1)
    await event_bus.publish(ticket_requested(opportunity_id, at=opened_at))
    key = f"{opportunity_id}:contract_archive:legal"
    legal = client_for(LEGAL)
    action = ticketing_pb2.TicketActionRequest(ticket_key=key)

    await eventually(lambda: listed(legal, opportunity_id))
    assert await refused(client_for(REP).ResolveTicket(action)) == grpc.StatusCode.PERMISSION_DENIED
    assert await refused(client_for(LOGISTICS).AcknowledgeTicket(action)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    assert await refused(legal.RejectTicket(action)) == grpc.StatusCode.INVALID_ARGUMENT
    missing = ticketing_pb2.TicketActionRequest(ticket_key=f"{key}:nope")
    assert await refused(legal.ResolveTicket(missing)) == grpc.StatusCode.NOT_FOUND
    unknown_status = ticketing_pb2.ListTicketsRequest(status="lost")
    assert await refused(legal.ListTickets(unknown_status)) == grpc.StatusCode.INVALID_ARGUMENT
    too_many = ticketing_pb2.ListTicketsRequest(limit=501)
    assert await refused(legal.ListTickets(too_many)) == grpc.StatusCode.INVALID_ARGUMENT

    acknowledged = await legal.AcknowledgeTicket(action)
    assert acknowledged.status == "acknowledged"
    assert acknowledged.assignee_id == LEGAL.id
    first_response = acknowledged.first_response_at.ToDatetime(tzinfo=UTC)
    assert opened_at < first_response <= datetime.now(UTC)

    resolved = await legal.ResolveTicket(
        ticketing_pb2.TicketActionRequest(ticket_key=key, note="clauses 4 and 9 fine")
    )
    assert (resolved.status, resolved.resolution_note) == ("resolved", "clauses 4 and 9 fine")
    # The first response stays the acknowledgement's.
    assert resolved.first_response_at == acknowledged.first_response_at
    assert resolved.HasField("closed_at")

    # Repeating the same final change answers with the ticket; a conflicting one is refused.
    again = await legal.ResolveTicket(action)
    assert (again.status, again.closed_at) == ("resolved", resolved.closed_at)
    conflicting = ticketing_pb2.TicketActionRequest(ticket_key=key, note="too late")
    assert await refused(legal.RejectTicket(conflicting)) == grpc.StatusCode.FAILED_PRECONDITION

    own = await client_for(REP).ListTickets(
        ticketing_pb2.ListTicketsRequest(opportunity_id=opportunity_id)
    )
    assert [ticket.ticket_key for ticket in own.tickets] == [key]
    someone_else = Caller(id="Someone Else", role=Role.REP, regions=frozenset({"Central"}))
    assert await refused(
        client_for(someone_else).GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=key))
    ) == (grpc.StatusCode.PERMISSION_DENIED)
    assert await published(event_bus, "ticket.changed") == [
        f"ticket:{key}:opened",
        f"ticket:{key}:acknowledged",
        f"ticket:{key}:resolved",
    ]


class _FlakyTemporal:
    """The real client, except that the first signal fails as if the server were busy."""

    def __init__(self, client) -> None:
        self._client = client
        self.attempts = 0

    def get_workflow_handle(self, workflow_id: str):
        handle = self._client.get_workflow_handle(workflow_id)
        flaky = self

        class _Handle:
            async def signal(self, *args, **kwargs):
                flaky.attempts += 1
                if flaky.attempts == 1:
                    raise RPCError("busy", RPCStatusCode.UNAVAILABLE, b"")
                return await handle.signal(*args, **kwargs)

        return _Handle()


async def test_a_failed_signal_is_retried_and_a_gone_workflow_is_logged(
    event_bus, db_sessions, time_skipping_env, caplog
):
    temporal = _FlakyTemporal(time_skipping_env.client)
    desk = TicketDesk(sessions=db_sessions, bus=event_bus, temporal=temporal, signal_backoff=0.01)
    opportunity_id = new_opportunity()
    await desk.open_from_events([ticket_requested(opportunity_id, at=datetime.now(UTC))])

    with caplog.at_level(logging.WARNING, logger="services.ticketing.desk"):
        ticket = await desk.resolve(LEGAL, f"{opportunity_id}:contract_archive:legal")

    assert ticket.status == "resolved"
    # The first attempt failed; the second reached the server, which knows no such workflow.
    assert temporal.attempts == 2
    assert any("is gone" in record.getMessage() for record in caplog.records)


CONTRACT_EVIDENCE = ("signed_signature_page", "product_list", "service_commitment_letter")


@pytest.fixture
async def pipelines(time_skipping_env, event_bus, task_queue, ticketing):
    worker = build_worker(time_skipping_env.client, event_bus, task_queue=task_queue)
    async with worker:
        yield time_skipping_env


async def test_contract_archive_waits_for_the_legal_review(pipelines, client_for, task_queue):
    env = pipelines
    opportunity_id = new_opportunity()
    handle = await env.client.start_workflow(
        PipelineWorkflow.run,
        pipeline_input(opportunity_id),
        id=workflow_id_for(opportunity_id),
        task_queue=task_queue,
    )
    await walk_to_objection_handling(env, handle, opportunity_id)
    await complete_objection_handling(handle)
    key = f"{opportunity_id}:contract_archive:legal"
    legal = client_for(LEGAL)
    action = ticketing_pb2.TicketActionRequest(ticket_key=key, note="approved")
    archive = CompleteActionInput(
        action_key="contract_archive",
        evidence=[
            EvidenceItem(
                f"ev-{kind}",
                opportunity_id,
                kind,
                f"{index:064x}",
                None,
                "application/pdf",
                "Anna Snelling",
            )
            for index, kind in enumerate(CONTRACT_EVIDENCE)
        ],
    )

    async def ticket_status(status: str):
        state = await handle.query(PipelineWorkflow.state)
        return [t.status for t in state.tickets] == [status]

    found = await eventually(lambda: listed(legal, opportunity_id))
    assert [t.ticket_key for t in found.tickets] == [key]
    await legal.AcknowledgeTicket(action)
    await eventually(lambda: ticket_status("acknowledged"))

    with pytest.raises(WorkflowUpdateFailedError) as blocked:
        await handle.execute_update(PipelineWorkflow.complete_action, archive)
    assert blocked.value.cause.type == "ActionIncomplete"
    assert [(item["kind"], item["key"]) for item in blocked.value.cause.details] == [
        ("ticket", "legal")
    ]

    await legal.ResolveTicket(action)
    await eventually(lambda: ticket_status("resolved"))
    completed = await handle.execute_update(PipelineWorkflow.complete_action, archive)
    assert completed.action_key == "contract_archive"
    result = await handle.result()
    assert result.outcome == "won"
