"""Ticket response clocks at their real durations on Temporal's time-skipping server: an
unanswered ticket escalates exactly at its target (and at each later level, once), an
answered one never does.

Tickets are requested on Friday 4 December 2026 at 17:30 in Shanghai (the server's clock is
mapped there with the replay's clock shift): the 2-hour target falls on Monday 10:30, the
second level (twice the target, 4 business hours) on Monday 13:30, after the lunch break.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, timedelta

import pytest
from temporalio.client import WorkflowExecutionStatus

from salesflow.core.caller import Caller, Role
from salesflow.core.errors import FailedPrecondition
from salesflow.core.events import new_event
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.events.v1 import events_pb2
from services.ticketing.departments import DepartmentConfig, upsert_departments
from services.ticketing.desk import TicketDesk
from services.ticketing.models import Ticket
from services.ticketing.server import serve
from tests.conftest import eventually
from tests.services.test_ticketing import shanghai, ticket_requested
from tests.workflows.test_pipeline_timers import published
from workflows.ticket_response.types import response_workflow_id
from workflows.ticket_response.workflow import TicketResponseWorkflow
from workflows.worker import build_worker

SECOND = timedelta(seconds=1)
OPENED = shanghai(2026, 12, 4, 17, 30)
RESPOND_BY = shanghai(2026, 12, 7, 10, 30)
SECOND_LEVEL = shanghai(2026, 12, 7, 13, 30)


@pytest.fixture
async def clocks(db_sessions, event_bus, time_skipping_env, task_queue):
    """The ticketing service (its consumers open tickets and record escalations) and a
    worker running response clocks; yields the environment and a desk whose changes say
    when they happened."""
    deps = ServiceDeps(
        settings=replace(Settings(), task_queue=task_queue),
        sessions=db_sessions,
        bus=event_bus,
        temporal=time_skipping_env.client,
    )
    service = await serve(deps, port=0)
    desk = TicketDesk(
        sessions=db_sessions,
        bus=event_bus,
        temporal=time_skipping_env.client,
        task_queue=task_queue,
    )
    try:
        async with build_worker(time_skipping_env.client, event_bus, task_queue=task_queue):
            yield time_skipping_env, desk
    finally:
        await service.stop()


@pytest.fixture
async def legal(db_sessions) -> DepartmentConfig:
    """Legal with a head of its own and two escalation levels (1x and 2x the target)."""
    suffix = uuid.uuid4().hex[:4]
    config = DepartmentConfig(
        "legal",
        head_id=f"Helen Head {suffix}",
        members=(f"Lee Legal {suffix}",),
        escalate_after=(1.0, 2.0),
    )
    await upsert_departments(db_sessions, [config])
    yield config
    await upsert_departments(db_sessions, [DepartmentConfig("legal")])


async def request_on_friday_evening(env, event_bus, db_sessions) -> Ticket:
    """Maps the server's clock to Friday 17:30 in Shanghai and requests a legal review."""
    shift = await env.get_current_time() - OPENED
    request = ticket_requested(uuid.uuid4().hex[:8].upper(), at=OPENED, clock_shift=shift)
    await event_bus.publish(request)
    key = request.ticket_requested.ticket_key

    async def opened():
        async with db_sessions() as session:
            return await session.get(Ticket, key)

    ticket = await eventually(opened)
    handle = env.client.get_workflow_handle(response_workflow_id(key))
    await eventually(lambda: _started(handle))
    return ticket


async def _started(handle) -> bool:
    try:
        await handle.describe()
    except Exception:
        return False
    return True


def response_clock(env, ticket: Ticket):
    return env.client.get_workflow_handle_for(
        TicketResponseWorkflow.run, response_workflow_id(ticket.ticket_key)
    )


async def sleep_until(env, ticket: Ticket, moment) -> None:
    """Advances the server to `moment` (ticket time)."""
    target = moment.astimezone(UTC) + timedelta(seconds=ticket.clock_shift_seconds)
    await env.sleep(target - await env.get_current_time())


async def escalations(bus) -> list[events_pb2.Event]:
    from salesflow.core.events import subject_for

    subscription = await bus.jetstream.subscribe(
        subject_for(bus.prefix, "ticket.escalated"), ordered_consumer=True
    )
    events = []
    try:
        while True:
            message = await subscription.next_msg(timeout=0.3)
            event = events_pb2.Event()
            event.ParseFromString(message.data)
            events.append(event)
    except Exception:
        pass
    await subscription.unsubscribe()
    return events


async def test_an_unanswered_ticket_escalates_exactly_at_its_target(
    clocks, legal, event_bus, db_sessions
):
    env, desk = clocks
    ticket = await request_on_friday_evening(env, event_bus, db_sessions)
    assert ticket.respond_by == RESPOND_BY
    assert ticket.assignee_id == legal.members[0]

    await sleep_until(env, ticket, RESPOND_BY - SECOND)
    assert await published(event_bus, "ticket.escalated") == []

    await sleep_until(env, ticket, RESPOND_BY + SECOND)
    [first] = await eventually(lambda: escalations(event_bus))
    assert first.id == f"ticket:{ticket.ticket_key}:escalated:1"
    assert first.time.ToDatetime(tzinfo=UTC) == RESPOND_BY
    escalated = first.ticket_escalated
    assert (escalated.level, escalated.to_person, escalated.to_role) == (
        1,
        legal.head_id,
        "department_head",
    )
    assert escalated.assignee_id == legal.members[0]
    assert escalated.respond_by.ToDatetime(tzinfo=UTC) == RESPOND_BY

    async def recorded(level: int):
        async with db_sessions() as session:
            stored = await session.get(Ticket, ticket.ticket_key)
        return stored if stored.escalation_level == level else None

    stored = await eventually(lambda: recorded(1))
    assert stored.escalated_at == RESPOND_BY

    # Twice the target: 4 business hours, Monday 13:30 after the lunch break; once.
    await sleep_until(env, ticket, SECOND_LEVEL - SECOND)
    assert len(await escalations(event_bus)) == 1
    await sleep_until(env, ticket, SECOND_LEVEL + SECOND)
    await eventually(lambda: recorded(2))
    await env.sleep(timedelta(days=30))
    ids = [event.id for event in await escalations(event_bus)]
    assert ids == [
        f"ticket:{ticket.ticket_key}:escalated:1",
        f"ticket:{ticket.ticket_key}:escalated:2",
    ]
    result = await response_clock(env, ticket).result()
    assert (result.responded_at, result.escalated_levels) == (None, [1, 2])

    # A late answer still counts as the first response, outside the target.
    reviewer = Caller(id=legal.members[0], role=Role.LEGAL, regions=frozenset())
    late = shanghai(2026, 12, 7, 15, 0)
    answered = await desk.acknowledge(reviewer, ticket.ticket_key, at=late)
    assert answered.first_response_at == late > answered.respond_by


async def test_a_ticket_acknowledged_in_time_never_escalates(clocks, legal, event_bus, db_sessions):
    env, desk = clocks
    ticket = await request_on_friday_evening(env, event_bus, db_sessions)
    reviewer = Caller(id=legal.members[0], role=Role.LEGAL, regions=frozenset())

    await sleep_until(env, ticket, shanghai(2026, 12, 7, 10, 0))
    await desk.acknowledge(reviewer, ticket.ticket_key, at=shanghai(2026, 12, 7, 10, 0))
    result = await response_clock(env, ticket).result()
    assert result.responded_at == shanghai(2026, 12, 7, 10, 0)
    assert result.escalated_levels == []

    await sleep_until(env, ticket, SECOND_LEVEL + timedelta(days=7))
    assert await published(event_bus, "ticket.escalated") == []
    async with db_sessions() as session:
        stored = await session.get(Ticket, ticket.ticket_key)
    assert (stored.escalation_level, stored.first_responder_id) == (0, reviewer.id)
    # The clock is over; another change reaches no workflow and fails nothing.
    resolved = await desk.resolve(reviewer, ticket.ticket_key, at=shanghai(2026, 12, 7, 11, 0))
    assert resolved.status == "resolved"


async def test_a_ticket_of_a_lost_pipeline_is_withdrawn_and_never_escalates(
    clocks, legal, event_bus, db_sessions
):
    env, desk = clocks
    ticket = await request_on_friday_evening(env, event_bus, db_sessions)
    lost_at = shanghai(2026, 12, 7, 9, 30)
    await sleep_until(env, ticket, lost_at)
    closed = new_event(
        event_id=f"{ticket.workflow_id}:pipeline.closed",
        event_type="pipeline.closed",
        source="tests",
        time=lost_at,
        opportunity_id=ticket.opportunity_id,
        rep_id=ticket.rep_id,
        region=ticket.region,
    )
    closed.pipeline_closed.outcome = "lost"
    closed.pipeline_closed.reason = "customer chose a competitor"
    await event_bus.publish(closed)

    async def withdrawn():
        async with db_sessions() as session:
            stored = await session.get(Ticket, ticket.ticket_key)
        return stored if stored.status == "withdrawn" else None

    stored = await eventually(withdrawn)
    assert (stored.closed_at, stored.resolution_note) == (
        lost_at,
        "pipeline lost: customer chose a competitor",
    )
    description = await response_clock(env, ticket).describe()
    assert description.status == WorkflowExecutionStatus.CANCELED

    await sleep_until(env, ticket, SECOND_LEVEL + timedelta(days=7))
    assert await published(event_bus, "ticket.escalated") == []
    assert await published(event_bus, "ticket.changed") == [
        f"ticket:{ticket.ticket_key}:opened",
        f"ticket:{ticket.ticket_key}:withdrawn",
    ]
    # Delivered again (a consumer that died before its ack): nothing changes twice.
    assert await desk.apply_events([closed]) == 0
    reviewer = Caller(id=legal.members[0], role=Role.LEGAL, regions=frozenset())
    with pytest.raises(FailedPrecondition):
        await desk.resolve(reviewer, ticket.ticket_key, "too late")
