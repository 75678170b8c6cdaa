"""The points service against real PostgreSQL, a real nats-server and a real gRPC server."""

from __future__ import annotations

import asyncio
from datetime import UTC, timedelta

import grpc
import pytest
import sqlalchemy.exc
from sqlalchemy import func, select, text

from salesflow.core.events import (
    POINTS_CONSUMER,
    EventBus,
    event_headers,
    subject_for,
)
from salesflow.core.oplog import OperationLogEntry, verify_chain
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from services.pipeline.models import Person
from services.points.ledger import PointsLedger
from services.points.models import LedgerEntry, PricedEvent
from services.points.server import serve
from tests.conftest import eventually
from tests.schema import schema_differences
from tests.services.points_events import (
    DIRECTOR,
    T0,
    completed,
    manager_caller,
    overdue,
    rep_caller,
    started,
    unique,
)


@pytest.fixture
def ledger(db_sessions):
    return PointsLedger(db_sessions)


@pytest.fixture
async def points(db_sessions, event_bus, ledger):
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0, ledger=ledger)
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


async def test_a_batch_handled_twice_adds_each_entry_once(ledger, db_sessions):
    rep, region, opp = unique("Anna"), unique("Central"), unique("OPP")
    batch = [
        started(rep, region, opp=opp, manager="Mia"),
        completed(rep, region, "appointment", opp=opp),
        completed(rep, region, "onsite_diagnosis", opp=opp),
        overdue(rep, region, "objection_handling", opp=opp),
        # A redelivery inside the same batch.
        completed(rep, region, "appointment", opp=opp),
    ]
    appends_before = await ledger_appends(db_sessions)

    assert await ledger.record_events(batch) == 3
    # The consumer crashed after the commit and before the ack: the batch comes again.
    assert await ledger.record_events(batch) == 0
    assert await ledger.record_events(batch[2:3]) == 0

    found = await ledger.balance(rep)
    assert (found.points, found.entries) == (5 + 5 - 2, 3)
    entries = await ledger.list_entries(rep, limit=10)
    assert {(e.rule, e.kind, e.rule_version, e.period, e.team) for e in entries} == {
        ("completion", "earned", "b2b-default@1", "2026Q1", "Mia"),
        ("overdue", "penalty", "b2b-default@1", "2026Q1", "Mia"),
    }
    # One log line for the batch that wrote something, none for the repeats.
    assert await ledger_appends(db_sessions) == appends_before + 1
    async with db_sessions() as session:
        assert (await verify_chain(session)).intact


async def test_an_event_before_its_pipeline_waits_and_is_priced_when_it_arrives(ledger):
    rep, region, opp = unique("Abe"), unique("Central"), unique("OPP")
    early = completed(rep, region, "appointment", opp=opp)

    assert await ledger.record_events([early]) == 0
    [waiting] = [row for row in await ledger.parked(limit=500) if row.event_id == early.id]
    assert waiting.status == "waiting"
    assert f"waiting for pipeline.started of {opp}" in waiting.reason

    assert await ledger.record_events([started(rep, region, opp=opp)]) == 1
    assert (await ledger.balance(rep)).points == 5
    assert early.id not in {row.event_id for row in await ledger.parked(limit=500)}


async def test_an_overdue_penalty_is_negative_whatever_sign_the_template_used(ledger):
    rep, region, opp = unique("Boris"), unique("East"), unique("OPP")
    await ledger.record_events(
        [started(rep, region, opp=opp), overdue(rep, region, "unlisted_action", 2, opp=opp)]
    )
    assert (await ledger.balance(rep)).points == -2


async def test_the_database_refuses_to_change_or_remove_an_entry(ledger, db_sessions):
    rep, region, opp = unique("Bea"), unique("East"), unique("OPP")
    await ledger.record_events(
        [started(rep, region, opp=opp), completed(rep, region, "x", opp=opp)]
    )
    for statement in (
        "UPDATE points_ledger SET points = 500 WHERE rep_id = :rep",
        "DELETE FROM points_ledger WHERE rep_id = :rep",
    ):
        with pytest.raises(sqlalchemy.exc.DBAPIError, match="never changed"):
            async with db_sessions.begin() as session:
                await session.execute(text(statement), {"rep": rep})
    assert (await ledger.balance(rep)).points == 5


async def test_balance_and_entries_over_grpc(client_for, ledger):
    rep, region, opp = unique("Cara"), unique("West"), unique("OPP")
    await ledger.record_events(
        [
            started(rep, region, opp=opp),
            completed(rep, region, "appointment", opp=opp, at=T0),
            completed(rep, region, "onsite_diagnosis", opp=opp, at=T0 + timedelta(hours=1)),
            overdue(rep, region, "objection_handling", opp=opp, at=T0 + timedelta(hours=2)),
        ],
    )

    balance = await client_for(rep_caller(rep, region)).GetBalance(
        points_pb2.GetBalanceRequest(rep_id=rep)
    )
    assert (balance.rep_id, balance.points, balance.entries) == (rep, 8, 3)

    listed = await client_for(manager_caller(region)).ListEntries(
        points_pb2.ListEntriesRequest(rep_id=rep, limit=2)
    )
    assert [(e.rule, e.kind, e.action_key, e.points) for e in listed.entries] == [
        ("overdue", "penalty", "objection_handling", -2),
        ("completion", "earned", "onsite_diagnosis", 5),
    ]
    first = listed.entries[0]
    assert first.occurred_at.ToDatetime(tzinfo=UTC) == T0 + timedelta(hours=2)
    assert (first.event_id, first.rule_version, first.period, first.label) == (
        f"pipeline-{opp}:action.overdue:objection_handling:{rep}",
        "b2b-default@1",
        "2026Q1",
        "objection_handling overdue",
    )


async def test_who_may_read_a_balance(client_for, ledger):
    rep, region, opp = unique("Dana"), unique("North"), unique("OPP")
    await ledger.record_events(
        [started(rep, region, opp=opp), completed(rep, region, "appointment", opp=opp)]
    )
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

    with pytest.raises(grpc.aio.AioRpcError) as period:
        await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(period="year"))
    assert period.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "period" in period.value.details()

    # A rep in the team directory who has earned nothing yet has a balance of zero.
    newcomer, region = unique("Finn"), unique("Central")
    async with db_sessions.begin() as session:
        session.add(Person(person_id=newcomer, role="rep", region=region, active=True))
    balance = await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=newcomer))
    assert (balance.points, balance.entries) == (0, 0)


async def test_leaderboard_ranks_within_a_region_and_a_window(client_for, ledger):
    region, elsewhere = unique("Central"), unique("East")
    gina, hugo, ivan, jack = (unique(name) for name in ("Gina", "Hugo", "Ivan", "Jack"))
    later = T0 + timedelta(days=10)
    opps = {rep: unique("OPP") for rep in (gina, hugo, ivan, jack)}
    await ledger.record_events(
        [
            *(started(r, elsewhere if r == jack else region, opp=o) for r, o in opps.items()),
            completed(gina, region, "appointment", 5, opp=opps[gina]),
            completed(gina, region, "onsite_diagnosis", 5, at=later, opp=opps[gina]),
            completed(hugo, region, "appointment", 5, opp=opps[hugo]),
            completed(hugo, region, "solution_demo", 7, opp=opps[hugo]),
            overdue(hugo, region, "objection_handling", -2, at=later, opp=opps[hugo]),
            completed(ivan, region, "appointment", 3, opp=opps[ivan]),
            completed(jack, elsewhere, "appointment", 50, opp=opps[jack]),
        ],
    )
    client = client_for(rep_caller(gina, region))

    # The default template prices every completion at 5, whatever an event carried.
    board = await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(region=region))
    assert [(r.rank, r.rep_id, r.points) for r in board.rows] == [
        (1, gina, 10),
        (2, hugo, 8),
        (3, ivan, 5),
    ]
    assert {row.region for row in board.rows} == {region}

    window = points_pb2.GetLeaderboardRequest(region=region)
    window.since.FromDatetime(T0)
    window.until.FromDatetime(later)
    board = await client.GetLeaderboard(window)
    assert [(r.rank, r.rep_id, r.points) for r in board.rows] == [
        (1, hugo, 10),
        (2, gina, 5),
        (2, ivan, 5),
    ]

    # A rep sees their own region's board, never another's.
    own = await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(limit=500))
    assert {row.region for row in own.rows} == {region}
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await client.GetLeaderboard(points_pb2.GetLeaderboardRequest(region=elsewhere))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    everywhere = await client_for(DIRECTOR).GetLeaderboard(
        points_pb2.GetLeaderboardRequest(limit=500)
    )
    ranked = [row.rep_id for row in everywhere.rows]
    assert ranked.index(gina) < ranked.index(hugo) < ranked.index(ivan)
    assert jack in ranked


async def test_leaderboard_by_week_month_quarter_and_team(client_for, ledger):
    # Shanghai time: Monday 2026-06-29 is in week 27, June and Q2; Friday 2026-07-03 in
    # week 27, July and Q3; Monday 2026-06-22 00:30 Shanghai is 2026-06-21 16:30 UTC.
    region = unique("South")
    kai, lea, max_ = unique("Kai"), unique("Lea"), unique("Max")
    mon = datetime_utc(2026, 6, 29, 2)
    fri = datetime_utc(2026, 7, 3, 2)
    week_before = datetime_utc(2026, 6, 21, 16, 30)
    opps = {rep: unique("OPP") for rep in (kai, lea, max_)}
    await ledger.record_events(
        [
            started(kai, region, opp=opps[kai], manager="Team A", at=week_before),
            started(lea, region, opp=opps[lea], manager="Team A", at=week_before),
            started(max_, region, opp=opps[max_], manager="Team B", at=week_before),
            completed(kai, region, "appointment", opp=opps[kai], at=week_before),
            completed(kai, region, "onsite_diagnosis", opp=opps[kai], at=mon),
            completed(lea, region, "appointment", opp=opps[lea], at=fri),
            completed(lea, region, "onsite_diagnosis", opp=opps[lea], at=fri),
            completed(max_, region, "appointment", opp=opps[max_], at=mon),
        ]
    )
    client = client_for(manager_caller(region))

    async def board(period: str, at, team: str = ""):
        request = points_pb2.GetLeaderboardRequest(region=region, period=period, team=team)
        request.at.FromDatetime(at)
        found = await client.GetLeaderboard(request)
        return found.period_label, [(r.rep_id, r.points, r.team) for r in found.rows]

    assert await board("week", fri) == (
        "2026-W27",
        [(lea, 10, "Team A"), (kai, 5, "Team A"), (max_, 5, "Team B")],
    )
    assert await board("week", week_before) == ("2026-W26", [(kai, 5, "Team A")])
    assert await board("month", mon) == ("2026-06", [(kai, 10, "Team A"), (max_, 5, "Team B")])
    assert await board("quarter", fri) == ("2026Q3", [(lea, 10, "Team A")])
    assert await board("quarter", mon, team="Team A") == ("2026Q2", [(kai, 10, "Team A")])


def datetime_utc(*parts):
    from datetime import datetime

    return datetime(*parts, tzinfo=UTC)


async def test_the_live_leaderboard_pushes_each_change(client_for, ledger):
    region = unique("Live")
    ola, pia = unique("Ola"), unique("Pia")
    opps = {rep: unique("OPP") for rep in (ola, pia)}
    await ledger.record_events([started(r, region, opp=o) for r, o in opps.items()])
    request = points_pb2.GetLeaderboardRequest(region=region)
    stream = client_for(DIRECTOR).WatchLeaderboard(request)
    boards = stream.__aiter__()

    first = await asyncio.wait_for(boards.__anext__(), 10)
    assert list(first.rows) == []

    await ledger.record_events([completed(ola, region, "appointment", opp=opps[ola])])
    second = await asyncio.wait_for(boards.__anext__(), 10)
    assert [(r.rep_id, r.points) for r in second.rows] == [(ola, 5)]

    await ledger.record_events(
        [
            completed(pia, region, "appointment", opp=opps[pia]),
            completed(pia, region, "onsite_diagnosis", opp=opps[pia]),
        ]
    )
    third = await asyncio.wait_for(boards.__anext__(), 10)
    assert [(r.rank, r.rep_id, r.points) for r in third.rows] == [(1, pia, 10), (2, ola, 5)]
    stream.cancel()


async def test_events_through_nats_are_counted_once(client_for, event_bus, db_sessions):
    rep, region, opp = unique("Kim"), unique("West"), unique("OPP")
    first = completed(rep, region, "appointment", 5, opp=opp)
    second = completed(rep, region, "onsite_diagnosis", 5, opp=opp)
    late = overdue(rep, region, "objection_handling", -2, opp=opp)

    await event_bus.publish(started(rep, region, opp=opp))
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
        facts = await session.scalar(
            select(func.count()).where(PricedEvent.rep_id == rep, PricedEvent.status == "priced")
        )
        assert facts == 3


async def test_a_stopped_service_lets_the_event_bus_close_at_once(db_sessions, nats_server):
    bus = await EventBus.connect(nats_server.url, unique("stop").replace(" ", "-"), name="stop")
    service = await serve(ServiceDeps(settings=Settings(), sessions=db_sessions, bus=bus), port=0)
    # Long enough for the consumer's fetch on the empty stream to time out at least once.
    await asyncio.sleep(1.5)
    await service.stop()
    # The server answers the last, abandoned pull request when it expires, after a second.
    await asyncio.sleep(1.5)

    started_at = asyncio.get_running_loop().time()
    await asyncio.wait_for(bus.close(), timeout=10)
    assert asyncio.get_running_loop().time() - started_at < 2


def test_the_migrations_match_the_points_models(database_url):
    from salesflow.core.db import Base

    points_tables = [t for t in Base.metadata.sorted_tables if t.name.startswith("points_")]
    assert schema_differences(database_url, points_tables) == []
