"""The ticketing service against real PostgreSQL, nats-server, gRPC and a Temporal server:
opening, response targets in business hours, the rules of each change, times, comments,
assignment, the department file and the department report."""

from __future__ import annotations

import logging
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

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
from salesflow.core.oplog import OperationLogEntry
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.events.v1 import events_pb2
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc
from services.ticketing.departments import (
    DepartmentConfig,
    DepartmentFileError,
    load_departments,
    read_departments,
    upsert_departments,
)
from services.ticketing.desk import TicketDesk
from services.ticketing.models import (
    Department,
    DepartmentMember,
    Ticket,
    TicketComment,
    TicketEvent,
)
from services.ticketing.report import median, nearest_rank
from services.ticketing.server import serve
from tests.conftest import eventually
from tests.schema import schema_differences
from tests.workflows.test_pipeline_timers import (
    complete_objection_handling,
    pipeline_input,
    published,
    walk_to_objection_handling,
)
from workflows.pipeline.template import CalendarSpec
from workflows.pipeline.types import (
    CompleteActionInput,
    EvidenceItem,
    ResubmitInput,
    workflow_id_for,
)
from workflows.pipeline.workflow import PipelineWorkflow
from workflows.worker import build_worker

SHANGHAI = ZoneInfo("Asia/Shanghai")
LEGAL = Caller(id="Lena Legal", role=Role.LEGAL, regions=frozenset())
LOGISTICS = Caller(id="Lou Logistics", role=Role.LOGISTICS, regions=frozenset())
REP = Caller(id="Anna Snelling", role=Role.REP, regions=frozenset({"Central"}))


def shanghai(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


def ticket_requested(
    opportunity_id: str,
    *,
    at: datetime,
    department: str = "legal",
    target_minutes: int = 120,
    clock_shift: timedelta = timedelta(0),
    action_key: str = "contract_archive",
) -> events_pb2.Event:
    """The request a pipeline publishes when its action opens."""
    key = f"{opportunity_id}:{action_key}:{department}"
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
            department=department,
            kind="contract_review",
            action_key=action_key,
            workflow_id=workflow_id_for(opportunity_id),
            response_target_minutes=target_minutes,
            occurrence=1,
            clock_shift_seconds=clock_shift.total_seconds(),
        )
    )
    return event


def members(*names: str) -> tuple[str, ...]:
    """Names of this test's own: the database is shared by the whole session."""
    suffix = uuid.uuid4().hex[:4]
    return tuple(f"{name} {suffix}" for name in names)


@pytest.fixture(autouse=True)
async def default_departments(db_sessions):
    """Departments go back to their defaults after each test: the database is shared."""
    yield
    await upsert_departments(
        db_sessions, [DepartmentConfig("legal"), DepartmentConfig("logistics")]
    )


@pytest.fixture
async def ticketing(db_sessions, event_bus, time_skipping_env, task_queue):
    settings = replace(Settings(), task_queue=task_queue)
    deps = ServiceDeps(
        settings=settings, sessions=db_sessions, bus=event_bus, temporal=time_skipping_env.client
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


@pytest.fixture
def desk(db_sessions, event_bus, time_skipping_env, task_queue) -> TicketDesk:
    """A desk of the test's own, whose changes say when they happened (`at=`)."""
    return TicketDesk(
        sessions=db_sessions,
        bus=event_bus,
        temporal=time_skipping_env.client,
        task_queue=task_queue,
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


async def stored(db_sessions, key: str) -> Ticket | None:
    async with db_sessions() as session:
        return await session.get(Ticket, key)


async def operations(db_sessions, key: str) -> list[str]:
    async with db_sessions() as session:
        return list(
            await session.scalars(
                select(OperationLogEntry.operation)
                .where(OperationLogEntry.subject == f"ticket:{key}")
                .order_by(OperationLogEntry.seq)
            )
        )


def test_the_ticketing_migrations_match_the_models(database_url):
    models = (Ticket, TicketEvent, TicketComment, Department, DepartmentMember)
    assert schema_differences(database_url, [model.__table__ for model in models]) == []


async def test_a_request_delivered_twice_opens_one_ticket(
    ticketing, client_for, event_bus, db_sessions, desk
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
    assert (ticket.occurrence, ticket.time_zone) == (1, "Asia/Shanghai")
    assert [step.status for step in ticket.history] == ["opened"]

    # A consumer that crashed before its ack handles the batch once more.
    assert await desk.open_from_events([request]) == 0
    async with db_sessions() as session:
        count = await session.scalar(select(func.count()).where(Ticket.ticket_key == key))
    assert count == 1
    assert await published(event_bus, "ticket.changed") == [f"ticket:{key}:opened"]
    assert await operations(db_sessions, key) == ["ticket.opened"]


@pytest.mark.parametrize(
    ("opened", "target", "respond_by"),
    [
        # Friday 17:30: half an hour left on Friday, 90 minutes on Monday morning.
        (shanghai(2026, 12, 4, 17, 30), 120, shanghai(2026, 12, 7, 10, 30)),
        # Wednesday before National Day: one hour that day, then nothing until 8 October.
        (shanghai(2026, 9, 30, 17, 0), 120, shanghai(2026, 10, 8, 10, 0)),
        # Friday 9 October: Saturday the 10th is a make-up working day (调休).
        (shanghai(2026, 10, 9, 17, 30), 120, shanghai(2026, 10, 10, 10, 30)),
        # Saturday night, outside working hours: the clock starts on Monday at 09:00; the
        # lunch break does not count.
        (shanghai(2026, 12, 5, 23, 0), 240, shanghai(2026, 12, 7, 14, 0)),
    ],
)
async def test_the_response_target_counts_the_departments_business_hours(
    desk, db_sessions, opened, target, respond_by
):
    await upsert_departments(db_sessions, [DepartmentConfig("legal")])
    request = ticket_requested(new_opportunity(), at=opened, target_minutes=target)
    await desk.open_from_events([request])

    ticket = await stored(db_sessions, request.ticket_requested.ticket_key)
    assert ticket.respond_by == respond_by
    assert ticket.response_target_minutes == target


async def test_a_department_calendar_from_the_department_file_sets_the_target(desk, db_sessions):
    # Logistics works 08:00-17:00 in Berlin without public holidays: a request on Friday
    # 16:00 Berlin time gets one hour that day and one on Monday.
    await upsert_departments(
        db_sessions,
        read_departments(
            """
logistics:
  calendar:
    time_zone: Europe/Berlin
    working_hours: ['08:00-17:00']
    holiday_country: ''
"""
        ),
    )
    berlin = ZoneInfo("Europe/Berlin")
    opened = datetime(2026, 12, 4, 16, 0, tzinfo=berlin)
    request = ticket_requested(new_opportunity(), at=opened, department="logistics")
    await desk.open_from_events([request])

    ticket = await stored(db_sessions, request.ticket_requested.ticket_key)
    assert ticket.respond_by == datetime(2026, 12, 7, 9, 0, tzinfo=berlin)


async def test_first_response_and_resolution_times_are_recorded(
    desk, client_for, db_sessions, event_bus
):
    staff = members("Lena", "Liu")
    await upsert_departments(db_sessions, [DepartmentConfig("legal", members=staff)])
    opened = shanghai(2026, 12, 7, 9, 0)
    request = ticket_requested(new_opportunity(), at=opened)
    key = request.ticket_requested.ticket_key
    await desk.open_from_events([request])
    assert (await stored(db_sessions, key)).assignee_id == staff[0]

    lena = Caller(id=staff[0], role=Role.LEGAL, regions=frozenset())
    # The rep's question answers nothing; the department's first comment does.
    await desk.comment(REP, key, "is clause 7 the problem?", at=shanghai(2026, 12, 7, 9, 10))
    assert (await stored(db_sessions, key)).first_response_at is None
    await desk.comment(lena, key, "reading it now", at=shanghai(2026, 12, 7, 9, 40))
    await desk.acknowledge(lena, key, at=shanghai(2026, 12, 7, 10, 0))
    await desk.resolve(lena, key, "clauses fine", at=shanghai(2026, 12, 7, 14, 0))

    ticket = await client_for(LEGAL).GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=key))
    assert ticket.first_response_at.ToDatetime(tzinfo=UTC) == shanghai(2026, 12, 7, 9, 40)
    assert ticket.first_responder_id == staff[0]
    assert ticket.first_response_business_minutes == 40
    assert ticket.closed_at.ToDatetime(tzinfo=UTC) == shanghai(2026, 12, 7, 14, 0)
    assert (ticket.status, ticket.resolution_note) == ("resolved", "clauses fine")
    assert [(c.author_id, c.body) for c in ticket.comments] == [
        (REP.id, "is clause 7 the problem?"),
        (staff[0], "reading it now"),
    ]
    assert [step.status for step in ticket.history] == ["opened", "acknowledged", "resolved"]
    assert await operations(db_sessions, key) == [
        "ticket.opened",
        "ticket.commented",
        "ticket.commented",
        "ticket.acknowledged",
        "ticket.resolved",
    ]
    # A comment after the close is kept too; the close stays.
    await desk.comment(lena, key, "archived copy sent", at=shanghai(2026, 12, 7, 15, 0))
    assert (await stored(db_sessions, key)).status == "resolved"


async def test_the_rules_of_a_ticket_over_grpc(
    ticketing, client_for, event_bus, db_sessions, time_skipping_env
):
    staff = members("Lena", "Liu")
    await upsert_departments(db_sessions, [DepartmentConfig("legal", members=staff)])
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
    assert await refused(legal.RequestChanges(action)) == grpc.StatusCode.INVALID_ARGUMENT
    blank = ticketing_pb2.CommentTicketRequest(ticket_key=key, body="  ")
    assert await refused(legal.CommentTicket(blank)) == grpc.StatusCode.INVALID_ARGUMENT
    missing = ticketing_pb2.TicketActionRequest(ticket_key=f"{key}:nope")
    assert await refused(legal.ResolveTicket(missing)) == grpc.StatusCode.NOT_FOUND
    assert await refused(
        legal.CommentTicket(ticketing_pb2.CommentTicketRequest(ticket_key=f"{key}:no", body="x"))
    ) == (grpc.StatusCode.NOT_FOUND)
    unknown_status = ticketing_pb2.ListTicketsRequest(status="lost")
    assert await refused(legal.ListTickets(unknown_status)) == grpc.StatusCode.INVALID_ARGUMENT
    too_many = ticketing_pb2.ListTicketsRequest(limit=501)
    assert await refused(legal.ListTickets(too_many)) == grpc.StatusCode.INVALID_ARGUMENT
    outsider = Caller(id="Someone Else", role=Role.REP, regions=frozenset({"Central"}))
    comment = ticketing_pb2.CommentTicketRequest(ticket_key=key, body="me too")
    assert await refused(client_for(outsider).CommentTicket(comment)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )

    # Assignment: only to an active member of the ticket's department, only by it.
    assign = ticketing_pb2.AssignTicketRequest(ticket_key=key, assignee_id=staff[1])
    assert await refused(client_for(REP).AssignTicket(assign)) == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    stranger = ticketing_pb2.AssignTicketRequest(ticket_key=key, assignee_id="Lou Logistics")
    assert await refused(legal.AssignTicket(stranger)) == grpc.StatusCode.INVALID_ARGUMENT
    assigned = await legal.AssignTicket(assign)
    assert assigned.assignee_id == staff[1]
    assert assigned.status == "open" and not assigned.HasField("first_response_at")

    acknowledged = await legal.AcknowledgeTicket(action)
    assert acknowledged.status == "acknowledged"
    # Acknowledging does not take the ticket from the person it is assigned to.
    assert acknowledged.assignee_id == staff[1]
    assert acknowledged.first_responder_id == LEGAL.id
    first_response = acknowledged.first_response_at.ToDatetime(tzinfo=UTC)
    assert opened_at < first_response <= datetime.now(UTC)

    rejected = await legal.RejectTicket(
        ticketing_pb2.TicketActionRequest(ticket_key=key, note="wrong contracting party")
    )
    assert (rejected.status, rejected.resolution_note) == ("rejected", "wrong contracting party")
    # The first response stays the acknowledgement's.
    assert rejected.first_response_at == acknowledged.first_response_at
    assert rejected.HasField("closed_at")

    # Repeating the same final change answers with the ticket; any other is refused.
    again = await legal.RejectTicket(
        ticketing_pb2.TicketActionRequest(ticket_key=key, note="wrong contracting party")
    )
    assert (again.status, again.closed_at) == ("rejected", rejected.closed_at)
    approve = ticketing_pb2.TicketActionRequest(ticket_key=key, note="fine after all")
    assert await refused(legal.ResolveTicket(approve)) == grpc.StatusCode.FAILED_PRECONDITION
    assert await refused(legal.RequestChanges(approve)) == grpc.StatusCode.FAILED_PRECONDITION
    assert await refused(legal.AssignTicket(assign)) == grpc.StatusCode.FAILED_PRECONDITION

    own = await client_for(REP).ListTickets(
        ticketing_pb2.ListTicketsRequest(opportunity_id=opportunity_id)
    )
    assert [ticket.ticket_key for ticket in own.tickets] == [key]
    mine = await legal.ListTickets(ticketing_pb2.ListTicketsRequest(assignee_id=staff[1]))
    assert [ticket.ticket_key for ticket in mine.tickets] == [key]
    assert await refused(
        client_for(outsider).GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=key))
    ) == (grpc.StatusCode.PERMISSION_DENIED)
    assert await published(event_bus, "ticket.changed") == [
        f"ticket:{key}:opened",
        f"ticket:{key}:acknowledged",
        f"ticket:{key}:rejected",
    ]
    assert await operations(db_sessions, key) == [
        "ticket.opened",
        "ticket.assigned",
        "ticket.acknowledged",
        "ticket.rejected",
    ]


async def test_tickets_go_to_the_least_busy_member_and_back_to_the_same_one(desk, db_sessions):
    staff = members("Ada", "Bo")
    await upsert_departments(db_sessions, [DepartmentConfig("legal", members=staff)])
    at = shanghai(2026, 12, 7, 9, 0)
    requests = [ticket_requested(new_opportunity(), at=at) for _ in range(3)]
    await desk.open_from_events(requests)

    assignees = [
        (await stored(db_sessions, r.ticket_requested.ticket_key)).assignee_id for r in requests
    ]
    # Ada, Bo, then Ada again (both had one; ties go by name).
    assert sorted(assignees) == sorted([staff[0], staff[1], staff[0]])

    # The review requested again after a rejection goes to whoever had it, load or not.
    first = requests[1].ticket_requested.ticket_key
    holder = (await stored(db_sessions, first)).assignee_id
    again = ticket_requested(requests[1].opportunity_id, at=at + timedelta(hours=1))
    again.id = f"{again.id}:2"
    again.ticket_requested.ticket_key = f"{first}:2"
    again.ticket_requested.occurrence = 2
    again.ticket_requested.previous_ticket_key = first
    await desk.open_from_events([again])
    follow_up = await stored(db_sessions, f"{first}:2")
    assert (follow_up.assignee_id, follow_up.occurrence) == (holder, 2)
    assert follow_up.previous_ticket_key == first


class _FlakyTemporal:
    """The real client, except that the first signal to a pipeline fails as if the server
    were busy."""

    def __init__(self, client) -> None:
        self._client = client
        self.attempts = 0

    def __getattr__(self, name):
        return getattr(self._client, name)

    def get_workflow_handle(self, workflow_id: str):
        handle = self._client.get_workflow_handle(workflow_id)
        if not workflow_id.startswith("pipeline-"):
            return handle
        flaky = self

        class _Handle:
            async def signal(self, *args, **kwargs):
                flaky.attempts += 1
                if flaky.attempts == 1:
                    raise RPCError("busy", RPCStatusCode.UNAVAILABLE, b"")
                return await handle.signal(*args, **kwargs)

        return _Handle()


async def test_a_failed_signal_is_retried_and_a_gone_workflow_is_logged(
    event_bus, db_sessions, time_skipping_env, task_queue, caplog
):
    temporal = _FlakyTemporal(time_skipping_env.client)
    desk = TicketDesk(
        sessions=db_sessions,
        bus=event_bus,
        temporal=temporal,
        task_queue=task_queue,
        signal_backoff=0.01,
    )
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


def archive_input(opportunity_id: str) -> CompleteActionInput:
    return CompleteActionInput(
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
    archive = archive_input(opportunity_id)

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


# ---- the department file -------------------------------------------------------------------


def test_the_department_file_is_read_or_refused_with_every_problem():
    [legal] = read_departments(
        """
legal:
  head: Helen Head
  members: [Lee Legal, Lena Legal]
  escalate_after: [1, 2]
"""
    )
    assert (legal.head_id, legal.members, legal.escalate_after) == (
        "Helen Head",
        ("Lee Legal", "Lena Legal"),
        (1.0, 2.0),
    )
    # Left out, the calendar is the company's: Shanghai, lunch break, China's holidays.
    assert (legal.calendar.time_zone, legal.calendar.working_hours) == (
        "Asia/Shanghai",
        (("09:00", "12:00"), ("13:00", "18:00")),
    )
    assert legal.calendar.holiday_country == "CN"

    with pytest.raises(DepartmentFileError) as refused_file:
        read_departments(
            """
legel: {}
logistics:
  boss: Nobody
  calendar:
    time_zone: Mars/Olympus
    working_hours: ['13:00-12:00']
    weekend: [caturday]
    holiday_country: XX
  escalate_after: [2, 1, -1]
"""
        )
    problems = refused_file.value.problems
    assert problems[0] == "legel: unknown department (known: legal, logistics, finance, hr)"
    expected = [
        "logistics.boss: unknown field",
        "logistics.calendar.time_zone: unknown time zone 'Mars/Olympus'",
        "logistics.calendar.working_hours: '13:00-12:00' must be ordered",
        "logistics.calendar.weekend: unknown days caturday",
        "holiday_country 'XX' is not a country the holiday package knows",
        "logistics.escalate_after: -1 is not a positive multiple of the target",
        "logistics.escalate_after: levels must each come later than the one before",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), (fragment, problems)


async def test_departments_are_stored_and_members_who_left_are_inactive(db_sessions):
    staff = members("Ada", "Bo", "Cy")
    config = DepartmentConfig(
        "logistics",
        head_id="Hal Head",
        members=staff,
        calendar=CalendarSpec(time_zone="Europe/Berlin", holiday_country="DE"),
        escalate_after=(1.0, 3.0),
    )
    await upsert_departments(db_sessions, [config])
    await upsert_departments(db_sessions, [replace(config, members=staff[1:])])

    async with db_sessions() as session:
        loaded = (await load_departments(session, ["logistics", "legal"]))["logistics"]
    assert loaded == replace(config, members=staff[1:])
    async with db_sessions() as session:
        gone = await session.get(DepartmentMember, ("logistics", staff[0]))
    assert gone.active is False


# ---- the department report -----------------------------------------------------------------


def test_median_and_nearest_rank_percentile():
    values = [10, 20, 30, 40, 50, 60, 70, 80, 90, 100]
    assert (median(values), nearest_rank(values, 90)) == (55, 90)
    assert (median([30, 60, 120]), nearest_rank([30, 60, 120], 90)) == (60, 120)
    assert (median([]), nearest_rank([], 90)) == (0, 0)


async def test_the_department_report_over_tickets_with_known_times(
    db_sessions, event_bus, time_skipping_env, task_queue, client_for
):
    """Seven logistics tickets opened in the week of Monday 3 March 2025 (no holidays), read
    on Monday 10 March at 10:15 Shanghai time:

    ticket opened         first response   business  wall   respond by       within
    A      Mon 09:00      Mon 09:30            30      30   Mon 11:00        yes
    B      Mon 11:30      Mon 13:30            60     120   Mon 14:30        yes
    C      Fri 17:00      Mon 10:00           120    3900   Mon 10:00        yes (at it)
    D      Tue 09:00      Tue 14:00           240     300   Tue 11:00        no
    E      Tue 10:00      -                     -       -   Tue 12:00        no (passed)
    F      Fri 17:30      -                     -       -   Mon 10:30        undecided
    G      Wed 09:00      - (withdrawn 09:30)   -       -   Wed 11:00        undecided

    business minutes [30, 60, 120, 240]: median (60 + 120) / 2 = 90, p90 rank ceil(3.6) =
    4 -> 240; wall minutes [30, 120, 300, 3900]: median 210, p90 3900. Within target 3 of 5
    decided = 0.6. A and B resolved, C rejected, G withdrawn (its pipeline was lost before
    its target): 3 open. D and E escalated.
    """
    now = shanghai(2025, 3, 10, 10, 15)
    desk = TicketDesk(
        sessions=db_sessions,
        bus=event_bus,
        temporal=time_skipping_env.client,
        task_queue=task_queue,
        now=lambda: now,
    )
    await upsert_departments(db_sessions, [DepartmentConfig("logistics")])
    staff = Caller(id="Lou Logistics", role=Role.LOGISTICS, regions=frozenset())
    tickets = {
        "A": (shanghai(2025, 3, 3, 9, 0), shanghai(2025, 3, 3, 9, 30), "resolve"),
        "B": (shanghai(2025, 3, 3, 11, 30), shanghai(2025, 3, 3, 13, 30), "resolve"),
        "C": (shanghai(2025, 3, 7, 17, 0), shanghai(2025, 3, 10, 10, 0), "reject"),
        "D": (shanghai(2025, 3, 4, 9, 0), shanghai(2025, 3, 4, 14, 0), "acknowledge"),
        "E": (shanghai(2025, 3, 4, 10, 0), None, None),
        "F": (shanghai(2025, 3, 7, 17, 30), None, None),
    }
    keys = {}
    for name, (opened, answered, change) in tickets.items():
        request = ticket_requested(new_opportunity(), at=opened, department="logistics")
        keys[name] = request.ticket_requested.ticket_key
        await desk.open_from_events([request])
        if change == "resolve":
            await desk.resolve(staff, keys[name], "ok", at=answered)
        elif change == "reject":
            await desk.reject(staff, keys[name], "incomplete plan", at=answered)
        elif change == "acknowledge":
            await desk.acknowledge(staff, keys[name], at=answered)
    for name in ("D", "E"):
        escalation = new_event(
            event_id=f"ticket:{keys[name]}:escalated:1",
            event_type="ticket.escalated",
            source="tests",
            time=(await stored(db_sessions, keys[name])).respond_by,
            opportunity_id=keys[name].split(":")[0],
        )
        escalation.ticket_escalated.ticket_key = keys[name]
        escalation.ticket_escalated.level = 1
        # Delivered twice: counted once.
        assert await desk.apply_events([escalation, escalation]) == 1
    withdrawn = ticket_requested(
        new_opportunity(), at=shanghai(2025, 3, 5, 9, 0), department="logistics"
    )
    await desk.open_from_events([withdrawn])
    lost = new_event(
        event_id=f"{workflow_id_for(withdrawn.opportunity_id)}:pipeline.closed",
        event_type="pipeline.closed",
        source="tests",
        time=shanghai(2025, 3, 5, 9, 30),
        opportunity_id=withdrawn.opportunity_id,
    )
    lost.pipeline_closed.outcome = "lost"
    assert await desk.apply_events([lost]) == 1
    # Outside the report: another department, and the period's end (excluded).
    await desk.open_from_events([ticket_requested(new_opportunity(), at=shanghai(2025, 3, 4))])
    late = ticket_requested(new_opportunity(), at=shanghai(2025, 3, 10), department="logistics")
    await desk.open_from_events([late])

    assert (await stored(db_sessions, keys["C"])).respond_by == shanghai(2025, 3, 10, 10, 0)
    assert (await stored(db_sessions, keys["F"])).respond_by == shanghai(2025, 3, 10, 10, 30)

    # The report over gRPC, as the department reads it.
    stub = client_for(staff)
    request = ticketing_pb2.DepartmentReportRequest(department="logistics")
    request.period_start.FromDatetime(shanghai(2025, 3, 3).astimezone(UTC))
    request.period_end.FromDatetime(shanghai(2025, 3, 10).astimezone(UTC))
    report = await stub.GetDepartmentReport(request)
    refusal = await refused(client_for(LEGAL).GetDepartmentReport(request))
    backwards = ticketing_pb2.DepartmentReportRequest(
        department="logistics", period_start=request.period_end, period_end=request.period_start
    )
    assert await refused(stub.GetDepartmentReport(backwards)) == grpc.StatusCode.INVALID_ARGUMENT
    unknown = ticketing_pb2.DepartmentReportRequest(department="sales")
    assert await refused(stub.GetDepartmentReport(unknown)) == grpc.StatusCode.INVALID_ARGUMENT
    assert refusal == grpc.StatusCode.PERMISSION_DENIED
    assert (report.tickets_opened, report.responded) == (7, 4)
    assert (report.escalated, report.open_now) == (2, 3)
    # Read on the wall clock (long after March 2025), F's target has passed as well.
    assert (report.within_target, report.target_decided) == (3, 6)
    assert report.median_first_response_business_minutes == 90
    assert report.p90_first_response_business_minutes == 240
    assert report.median_first_response_wall_minutes == 210
    assert report.p90_first_response_wall_minutes == 3900
    # By region: all seven are Central pipelines; another region has none of them.
    request.region = "Central"
    assert (await stub.GetDepartmentReport(request)).tickets_opened == 7
    request.region = "West"
    assert (await stub.GetDepartmentReport(request)).tickets_opened == 0

    # Read at 10:15 on 10 March, F is still inside its target.
    figures = await desk.report(
        staff,
        "logistics",
        period_start=shanghai(2025, 3, 3),
        period_end=shanghai(2025, 3, 10),
    )
    assert (figures.within_target, figures.target_decided) == (3, 5)
    assert figures.share_within_target == 0.6


# ---- back to the pipeline ------------------------------------------------------------------


async def test_changes_and_rejections_send_the_contract_back_to_the_rep(
    pipelines, client_for, task_queue, event_bus, db_sessions
):
    env = pipelines
    staff = members("Lena")
    await upsert_departments(db_sessions, [DepartmentConfig("legal", members=staff)])
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
    archive = archive_input(opportunity_id)
    await eventually(lambda: listed(legal, opportunity_id))

    async def archive_state(returned: bool):
        state = await handle.query(PipelineWorkflow.state)
        action = next(a for a in state.actions if a.key == "contract_archive")
        return (state, action) if action.returned == returned else None

    # Legal asks for changes: the contract goes back to the rep, open, with the reason.
    await legal.RequestChanges(
        ticketing_pb2.TicketActionRequest(ticket_key=key, note="clause 7: add the penalty cap")
    )
    state, action = await eventually(lambda: archive_state(True))
    assert (action.status, action.return_reason) == ("open", "clause 7: add the penalty cap")
    assert [(t.ticket_key, t.status) for t in state.tickets] == [(key, "changes_requested")]
    with pytest.raises(WorkflowUpdateFailedError) as blocked:
        await handle.execute_update(PipelineWorkflow.complete_action, archive)
    [unmet] = blocked.value.cause.details
    assert unmet["message"] == (
        f"legal ticket {key} is changes_requested: clause 7: add the penalty cap; "
        "revise and resubmit the action"
    )

    # The rep revises and resubmits: the same ticket goes back to legal.
    revised = ResubmitInput(note="penalty cap added", actor_id=REP.id)
    state = await handle.execute_update(PipelineWorkflow.resubmit_action, revised)
    assert [(t.ticket_key, t.status, t.round) for t in state.tickets] == [(key, "resubmitted", 1)]
    assert not next(a for a in state.actions if a.key == "contract_archive").returned
    with pytest.raises(WorkflowUpdateFailedError) as nothing_to_resubmit:
        await handle.execute_update(PipelineWorkflow.resubmit_action, revised)
    assert nothing_to_resubmit.value.cause.type == "ResubmitRefused"

    async def ticket_now(ticket_key: str, status: str):
        try:
            ticket = await legal.GetTicket(ticketing_pb2.GetTicketRequest(ticket_key=ticket_key))
        except grpc.aio.AioRpcError as error:
            if error.code() != grpc.StatusCode.NOT_FOUND:
                raise
            return None  # not opened yet
        return ticket if ticket.status == status else None

    ticket = await eventually(lambda: ticket_now(key, "acknowledged"))
    assert ticket.resubmissions == 1
    assert [(s.status, s.actor_id, s.note) for s in ticket.history][1:] == [
        ("changes_requested", LEGAL.id, "clause 7: add the penalty cap"),
        ("resubmitted", REP.id, "penalty cap added"),
    ]

    # Legal rejects: the ticket is closed, the contract goes back once more.
    await legal.RejectTicket(
        ticketing_pb2.TicketActionRequest(ticket_key=key, note="wrong contracting party")
    )
    state, action = await eventually(lambda: archive_state(True))
    assert action.return_reason == "wrong contracting party"

    # Resubmitting requests the review again, as the ticket's second occurrence.
    state = await handle.execute_update(
        PipelineWorkflow.resubmit_action, ResubmitInput(note="party corrected", actor_id=REP.id)
    )
    assert [(t.ticket_key, t.status, t.occurrence) for t in state.tickets] == [
        (f"{key}:2", "requested", 2)
    ]
    follow_up = await eventually(lambda: ticket_now(f"{key}:2", "open"))
    assert (follow_up.occurrence, follow_up.previous_ticket_key) == (2, key)
    assert follow_up.assignee_id == staff[0]
    assert [(s.status, s.note) for s in follow_up.history] == [("opened", "party corrected")]
    old = ticketing_pb2.TicketActionRequest(ticket_key=key, note="ok")
    assert await refused(legal.ResolveTicket(old)) == grpc.StatusCode.FAILED_PRECONDITION

    await legal.ResolveTicket(ticketing_pb2.TicketActionRequest(ticket_key=f"{key}:2", note="ok"))
    await eventually(lambda: archive_state(False))

    async def completed():
        try:
            return await handle.execute_update(PipelineWorkflow.complete_action, archive)
        except WorkflowUpdateFailedError:
            return None

    assert (await eventually(completed)).action_key == "contract_archive"
    assert (await handle.result()).outcome == "won"
    assert await published(event_bus, "action.returned") == [
        f"{handle.id}:action.returned:contract_archive:1:1",
        f"{handle.id}:action.returned:contract_archive:2:1",
    ]
    assert await published(event_bus, "ticket.resubmitted") == [
        f"{handle.id}:ticket.resubmitted:{key}:1"
    ]
    assert await published(event_bus, "ticket.changed") == [
        f"ticket:{key}:opened",
        f"ticket:{key}:changes_requested",
        f"ticket:{key}:resubmitted:1",
        f"ticket:{key}:rejected",
        f"ticket:{key}:2:opened",
        f"ticket:{key}:2:resolved",
    ]
