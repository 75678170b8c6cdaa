"""The redemption pool over real gRPC and PostgreSQL: the catalogue, holds, decisions,
refunds, and twenty redemptions at once against a balance that covers one."""

from __future__ import annotations

import asyncio
import uuid

import grpc
import pytest
from sqlalchemy import func, select

from salesflow.core.caller import Caller, Role
from salesflow.core.oplog import OperationLogEntry
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import Settings
from salesflow.points.v1 import points_pb2, points_pb2_grpc
from services.points.ledger import PointsLedger
from services.points.models import LedgerEntry
from services.points.server import serve
from tests.services.points_events import (
    ADMIN,
    DIRECTOR,
    completed,
    manager_caller,
    rep_caller,
    started,
    unique,
)


@pytest.fixture
async def points(db_sessions, event_bus):
    deps = ServiceDeps(settings=Settings(), sessions=db_sessions, bus=event_bus)
    service = await serve(deps, port=0, ledger=PointsLedger(db_sessions))
    yield service
    await service.stop()


@pytest.fixture
def client_for(points, open_channel):
    return lambda caller: points_pb2_grpc.PointsServiceStub(
        open_channel(f"127.0.0.1:{points.port}", caller)
    )


async def earn(db_sessions, rep: str, region: str, completions: int) -> None:
    """Gives the rep 5 points per completion through the ledger."""
    opp = unique("OPP")
    await PointsLedger(db_sessions).record_events(
        [started(rep, region, opp=opp)]
        + [completed(rep, region, f"step_{n}", opp=opp) for n in range(completions)]
    )


async def reward(client, *, price: int, stock: int) -> str:
    key = f"leave_{uuid.uuid4().hex[:8]}"
    await client.PutReward(
        points_pb2.Reward(
            key=key,
            name="Paid leave day",
            name_zh="带薪假一天",
            price=price,
            stock=stock,
            active=True,
        )
    )
    return key


async def entries(db_sessions, rep: str) -> list[tuple[str, int]]:
    async with db_sessions() as session:
        rows = await session.execute(
            select(LedgerEntry.kind, LedgerEntry.points)
            .where(LedgerEntry.rep_id == rep)
            .order_by(LedgerEntry.entry_id)
        )
        return [tuple(row) for row in rows]


async def test_twenty_concurrent_redemptions_against_a_balance_for_one(client_for, db_sessions):
    rep, region = unique("Ann"), unique("Central")
    await earn(db_sessions, rep, region, 3)  # 15 points
    leave = await reward(client_for(ADMIN), price=10, stock=5)
    client = client_for(rep_caller(rep, region))

    async def attempt(number: int):
        request = points_pb2.RedeemRequest(
            rep_id=rep, reward_key=leave, idempotency_key=f"attempt-{number}"
        )
        try:
            return await client.Redeem(request)
        except grpc.aio.AioRpcError as error:
            return error

    results = await asyncio.gather(*(attempt(number) for number in range(20)))

    granted = [r for r in results if isinstance(r, points_pb2.Redemption)]
    refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
    assert len(granted) == 1 and granted[0].status == "pending"
    assert len(refused) == 19
    assert {(e.code(), e.details()) for e in refused} == {
        (grpc.StatusCode.FAILED_PRECONDITION, "insufficient points: balance 5, price 10")
    }
    balance = await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=rep))
    assert balance.points == 5
    assert await entries(db_sessions, rep) == [("earned", 5)] * 3 + [("redemption", -10)]
    [offered] = [
        r
        for r in (await client.ListRewards(points_pb2.ListRewardsRequest())).rewards
        if r.key == leave
    ]
    assert offered.stock == 4

    # A refused attempt's key answers the same refusal again, even once points would cover it.
    await earn(db_sessions, rep, region, 2)
    with pytest.raises(grpc.aio.AioRpcError) as again:
        await client.Redeem(
            points_pb2.RedeemRequest(rep_id=rep, reward_key=leave, idempotency_key="attempt-19")
            if granted[0].idempotency_key != "attempt-19"
            else points_pb2.RedeemRequest(rep_id=rep, reward_key=leave, idempotency_key="attempt-0")
        )
    assert again.value.details() == "insufficient points: balance 5, price 10"


async def test_one_key_sent_ten_times_at_once_is_one_redemption(client_for, db_sessions):
    rep, region = unique("Ben"), unique("Central")
    await earn(db_sessions, rep, region, 10)  # 50 points
    course = await reward(client_for(ADMIN), price=10, stock=20)
    client = client_for(rep_caller(rep, region))
    request = points_pb2.RedeemRequest(rep_id=rep, reward_key=course, idempotency_key="k-1")

    answers = await asyncio.gather(*(client.Redeem(request) for _ in range(10)))

    assert len({answer.redemption_id for answer in answers}) == 1
    assert (await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=rep))).points == 40
    later = await client.Redeem(request)
    assert later.redemption_id == answers[0].redemption_id

    # The key names one reward: sent for another it is a mistake, not a new redemption.
    other = await reward(client_for(ADMIN), price=1, stock=1)
    with pytest.raises(grpc.aio.AioRpcError) as misuse:
        await client.Redeem(
            points_pb2.RedeemRequest(rep_id=rep, reward_key=other, idempotency_key="k-1")
        )
    assert misuse.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_decisions_refunds_and_who_may_make_them(client_for, db_sessions):
    rep, region = unique("Cleo"), unique("Central")
    await earn(db_sessions, rep, region, 6)  # 30 points
    seat = await reward(client_for(ADMIN), price=10, stock=2)
    client = client_for(rep_caller(rep, region))
    manager = client_for(manager_caller(region))

    def redeem(key: str):
        return client.Redeem(
            points_pb2.RedeemRequest(rep_id=rep, reward_key=seat, idempotency_key=key)
        )

    first, second = await redeem("a"), await redeem("b")
    with pytest.raises(grpc.aio.AioRpcError) as sold_out:
        await redeem("c")
    assert sold_out.value.details() == f"reward {seat} is out of stock"

    # Only a manager of the rep's region (or a director) decides; the rep only cancels.
    decide = points_pb2.DecideRedemptionRequest(redemption_id=first.redemption_id)
    for stranger in (client, client_for(manager_caller(unique("Elsewhere")))):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await stranger.ApproveRedemption(decide)
        assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED

    approved = await manager.ApproveRedemption(decide)
    assert approved.status == "approved" and approved.decided_by
    assert (await manager.ApproveRedemption(decide)).status == "approved"
    with pytest.raises(grpc.aio.AioRpcError) as late:
        await manager.RejectRedemption(decide)
    assert late.value.code() == grpc.StatusCode.FAILED_PRECONDITION

    rejected = await manager.RejectRedemption(
        points_pb2.DecideRedemptionRequest(redemption_id=second.redemption_id, note="busy")
    )
    assert (rejected.status, rejected.note) == ("rejected", "busy")
    # The rejection gave back the points and the seat: a third attempt succeeds.
    third = await redeem("d")
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await client_for(rep_caller(unique("Dora"), region)).CancelRedemption(
            points_pb2.DecideRedemptionRequest(redemption_id=third.redemption_id)
        )
    assert not_theirs.value.code() == grpc.StatusCode.PERMISSION_DENIED
    cancelled = await client.CancelRedemption(
        points_pb2.DecideRedemptionRequest(redemption_id=third.redemption_id)
    )
    assert cancelled.status == "cancelled"

    assert await entries(db_sessions, rep) == [("earned", 5)] * 6 + [
        ("redemption", -10),
        ("redemption", -10),
        ("refund", 10),
        ("redemption", -10),
        ("refund", 10),
    ]
    assert (await client.GetBalance(points_pb2.GetBalanceRequest(rep_id=rep))).points == 20
    listed = await client_for(DIRECTOR).ListRedemptions(
        points_pb2.ListRedemptionsRequest(rep_id=rep)
    )
    statuses = sorted(r.status for r in listed.redemptions)
    assert statuses == ["approved", "cancelled", "refused", "rejected"]
    async with db_sessions() as session:
        logged = await session.scalar(
            select(func.count()).where(
                OperationLogEntry.subject == f"redemption:{first.redemption_id}"
            )
        )
    assert logged == 2  # requested, approved


async def test_the_catalogue_is_the_admins_to_change(client_for):
    rep = Caller(id=unique("Eli"), role=Role.REP, regions=frozenset({"Central"}))
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await client_for(rep).PutReward(
            points_pb2.Reward(key="lead_priority", name="Lead priority", price=5, stock=1)
        )
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await client_for(ADMIN).PutReward(
            points_pb2.Reward(key="lead_priority", name="Lead priority", price=0, stock=1)
        )
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "price" in bad.value.details()
