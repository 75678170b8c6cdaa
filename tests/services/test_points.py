"""The points service against real PostgreSQL, a real nats-server and a real gRPC server."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import grpc
import pytest
from sqlalchemy import func, select

from salesflow.core.caller import Caller, Role
from salesflow.core.events import (
    POINTS_CONSUMER,
    EventBus,
    event_headers,
    new_event,
    subject_for,
)
from salesflow.core.oplog import OperationLogEntry, verify_chain
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.events.v1 import events_pb2
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from services.pipeline.models import Person
from services.points import ledger
from services.points.models import LedgerEntry
from services.points.server import serve
from tests.conftest import eventually

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def unique(name: str) -> str:
    return f"{name} {uuid.uuid4().hex[:6]}"


def completed(rep: str, region: str, action: str, points: int = 5, *, at=T0, opp="OPP1"):
    event = new_event(
        event_id=f"pipeline-{opp}:action.completed:{action}:{rep}",
        event_type="action.completed",
        source="tests",
        time=at,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.action_completed.CopyFrom(events_pb2.ActionCompleted(action_key=action, points=points))
    return event


def overdue(rep: str, region: str, action: str, points: int = -2, *, at=T0, opp="OPP1"):
    event = new_event(
        event_id=f"pipeline-{opp}:action.overdue:{action}:{rep}",
        event_type="action.overdue",
        source="tests",
        time=at,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.action_overdue.CopyFrom(events_pb2.ActionOverdue(action_key=action, points=points))
    return event


def rep_caller(rep: str, region: str) -> Caller:
    return Caller(id=rep, role=Role.REP, regions=frozenset({region}))


def manager_caller(region: str) -> Caller:
    return Caller(id=unique("manager"), role=Role.MANAGER, regions=frozenset({region}))


DIRECTOR = Caller(id="director", role=Role.DIRECTOR, regions=frozenset())


@pytest.fixture
async def points(db_sessions, event_bus):
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0)
    yield service
    await service.stop()


@pytest.fixture
def client_for(points, open_channel):
    """Makes a client per caller; the channels stay open until the test ends."""
    return lambda caller: points_pb2_grpc.PointsServiceStub(
        open_channel(f"127.0.0.1:{points.port}", caller)
    )


async def ledger_appends(db_sessions) -> int:
    async with db_sessions() as session:
        return await session.scalar(
            select(func.count()).where(OperationLogEntry.operation == "ledger.appended")
        )


async def test_a_batch_handled_twice_adds_each_entry_once(db_sessions):
    rep, region = unique("Anna"), unique("Central")
    batch = [
        completed(rep, region, "appointment"),
        completed(rep, region, "onsite_diagnosis"),
        overdue(rep, region, "objection_handling"),
        # A redelivery inside the same batch.
        completed(rep, region, "appointment"),
    ]
    appends_before = await ledger_appends(db_sessions)

    assert await ledger.record_events(db_sessions, batch) == 3
    # The consumer crashed after the commit and before the ack: the batch comes again.
    assert await ledger.record_events(db_sessions, batch) == 0
    assert await ledger.record_events(db_sessions, batch[1:2]) == 0

    found = await ledger.balance(db_sessions, rep)
    assert (found.points, found.entries) == (5 + 5 - 2, 3)
    # One log line for the batch that wrote something, none for the repeats.
    assert await ledger_appends(db_sessions) == appends_before + 1
    async with db_sessions() as session:
        assert (await verify_chain(session)).intact


async def test_an_overdue_penalty_is_negative_whatever_sign_the_template_used(db_sessions):
    rep, region = unique("Boris"), unique("East")
    await ledger.record_events(db_sessions, [overdue(rep, region, "objection_handling", 2)])
    assert (await ledger.balance(db_sessions, rep)).points == -2


async def test_balance_and_entries_over_grpc(client_for, db_sessions):
    rep, region = unique("Cara"), unique("West")
    await ledger.record_events(
        db_sessions,
        [
            completed(rep, region, "appointment", at=T0),
            completed(rep, region, "onsite_diagnosis", at=T0 + timedelta(hours=1)),
            overdue(rep, region, "objection_handling", at=T0 + timedelta(hours=2)),
        ],
    )

    balance = await client_for(rep_caller(rep, region)).GetBalance(
        points_pb2.GetBalanceRequest(rep_id=rep)
    )
    assert (balance.rep_id, balance.points, balance.entries) == (rep, 8, 3)

    listed = await client_for(manager_caller(region)).ListEntries(
        points_pb2.ListEntriesRequest(rep_id=rep, limit=2)
    )
    assert [(e.rule, e.action_key, e.points) for e in listed.entries] == [
        ("action.overdue", "objection_handling", -2),
        ("action.completed", "onsite_diagnosis", 5),
    ]
    assert listed.entries[0].occurred_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(hours=2)


async def test_who_may_read_a_balance(client_for, db_sessions):
    rep, region = unique("Dana"), unique("North")
    await ledger.record_events(db_sessions, [completed(rep, region, "appointment")])
    request = points_pb2.GetBalanceRequest(rep_id=rep)

    with pytest.raises(grpc.aio.AioRpcError) as other_rep:
        await client_for(rep_caller(unique("Eve"), region)).GetBalance(request)
    assert other_rep.value.code() == grpc.StatusCode.PERMISSION_DENIED

    with pytest.raises(grpc.aio.AioRpcError) as other_region:
        await client_for(manager_caller(unique("South"))).GetBalance(request)
    assert other_region.value.code() == grpc.StatusCode.PERMISSION_DENIED

    assert (await client_for(manager_caller(region)).GetBalance(request)).points == 5
    assert (await client_for(DIRECTOR).GetBalance(request)).points == 5


async def test_bad_requests_are_refused_with_their_reason(client_for, db_sessions):
    client = client_for(DIRECTOR)

    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=" "))
    assert missing.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "rep_id" in missing.value.details()

    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=unique("Nobody")))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND

    with pytest.raises(grpc.aio.AioRpcError) as too_many:
        await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(limit=100_000))
    assert too_many.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # A rep in the team directory who has earned nothing yet has a balance of zero.
    newcomer, region = unique("Finn"), unique("Central")
    async with db_sessions.begin() as session:
        session.add(Person(person_id=newcomer, role="rep", region=region, active=True))
    balance = await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=newcomer))
    assert (balance.points, balance.entries) == (0, 0)


async def test_leaderboard_ranks_within_a_region_and_a_window(client_for, db_sessions):
    region, elsewhere = unique("Central"), unique("East")
    gina, hugo, ivan, jack = (unique(name) for name in ("Gina", "Hugo", "Ivan", "Jack"))
    later = T0 + timedelta(days=10)
    await ledger.record_events(
        db_sessions,
        [
            completed(gina, region, "appointment", 5),
            completed(gina, region, "onsite_diagnosis", 5, at=later),
            completed(hugo, region, "appointment", 5),
            completed(hugo, region, "solution_demo", 7),
            overdue(hugo, region, "objection_handling", -2, at=later),
            completed(ivan, region, "appointment", 3),
            completed(jack, elsewhere, "appointment", 50),
        ],
    )
    client = client_for(rep_caller(gina, region))

    board = await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(region=region))
    assert [(r.rank, r.rep_id, r.points) for r in board.rows] == [
        (1, gina, 10),
        (1, hugo, 10),
        (3, ivan, 3),
    ]
    assert {row.region for row in board.rows} == {region}

    window = points_pb2.GetLeaderboardRequest(region=region)
    window.since.FromDatetime(T0)
    window.until.FromDatetime(later)
    board = await client.GetLeaderboard(window)
    assert [(r.rank, r.rep_id, r.points) for r in board.rows] == [
        (1, hugo, 12),
        (2, gina, 5),
        (3, ivan, 3),
    ]

    everywhere = await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(limit=500))
    ranked = [row.rep_id for row in everywhere.rows]
    assert ranked.index(jack) < ranked.index(gina) < ranked.index(ivan)


async def test_events_through_nats_are_counted_once(client_for, event_bus, db_sessions):
    rep, region = unique("Kim"), unique("West")
    first = completed(rep, region, "appointment", 5, opp="OPP9")
    second = completed(rep, region, "onsite_diagnosis", 5, opp="OPP9")
    late = overdue(rep, region, "objection_handling", -2, opp="OPP9")

    await event_bus.publish(first)
    await event_bus.publish(second)
    # A retried publish inside JetStream's duplicate window...
    await event_bus.publish(first)
    await event_bus.publish(late)
    # ...and one from beyond it, which JetStream stores again: the ledger must drop it.
    headers = {**event_headers(second), "Nats-Msg-Id": f"{second.id}:after-window"}
    await event_bus.jetstream.publish(
        subject_for(event_bus.prefix, second.type), second.SerializeToString(), headers=headers
    )

    client = client_for(rep_caller(rep, region))

    async def settled():
        if await event_bus.pending(POINTS_CONSUMER):
            return None
        return await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=rep))

    balance = await eventually(settled)
    assert (balance.points, balance.entries) == (8, 3)
    async with db_sessions() as session:
        stored = await session.scalars(
            select(LedgerEntry.event_id).where(LedgerEntry.rep_id == rep)
        )
        assert sorted(stored) == sorted([first.id, second.id, late.id])


async def test_a_stopped_service_lets_the_event_bus_close_at_once(db_sessions, nats_server):
    bus = await EventBus.connect(nats_server.url, unique("stop").replace(" ", "-"), name="stop")
    service = await serve(ServiceDeps(settings=Settings(), sessions=db_sessions, bus=bus), port=0)
    # Long enough for the consumer's fetch on the empty stream to time out at least once.
    await asyncio.sleep(1.5)
    await service.stop()
    # The server answers the last, abandoned pull request when it expires, after a second.
    await asyncio.sleep(1.5)

    started = asyncio.get_running_loop().time()
    await asyncio.wait_for(bus.close(), timeout=10)
    assert asyncio.get_running_loop().time() - started < 2
