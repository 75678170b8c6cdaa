"""NotificationService over gRPC: who sees which notices, paging, and the admin's retry."""

from __future__ import annotations

import uuid

import grpc
import pytest
from sqlalchemy import select

from salesflow.core.caller import ADMIN_CALLER, Caller, Role
from salesflow.core.oplog import OperationLogEntry
from salesflow.core.rpc import ServiceBinding, start_server
from salesflow.notifications.v1 import notifications_pb2, notifications_pb2_grpc
from services.notifications.models import Notification
from services.notifications.server import SERVICE_NAME
from services.notifications.service import NotificationServicer
from tests.services.notifications.fakes import FakeClock
from tests.services.notifications.test_dispatcher import add_notices, notice_bodies


@pytest.fixture
async def client_for(sessions, open_channel):
    server = await start_server(
        [
            ServiceBinding(
                NotificationServicer(sessions),
                notifications_pb2_grpc.add_NotificationServiceServicer_to_server,
                SERVICE_NAME,
            )
        ]
    )
    yield lambda caller: notifications_pb2_grpc.NotificationServiceStub(
        open_channel(f"127.0.0.1:{server.port}", caller)
    )
    await server.stop(grace=0)


async def add(sessions, recipient: str, region: str, count: int = 1, **fields) -> list[int]:
    """Outbox rows for a recipient in a region, with any other column set."""
    ids = await add_notices(sessions, notice_bodies(count), clock=FakeClock())
    async with sessions.begin() as session:
        for row_id in ids:
            row = await session.get(Notification, row_id)
            row.recipient, row.region = recipient, region
            for name, value in fields.items():
                setattr(row, name, value)
    return ids


def listing(**fields) -> notifications_pb2.ListNotificationsRequest:
    return notifications_pb2.ListNotificationsRequest(**fields)


async def test_each_caller_sees_their_own_their_regions_or_all(sessions, client_for):
    east, west = f"East-{uuid.uuid4().hex[:4]}", f"West-{uuid.uuid4().hex[:4]}"
    anna = await add(sessions, "Anna", east, 2)
    mona = await add(sessions, "Mona", east)
    wes = await add(sessions, "Wes", west)
    legal = await add(sessions, "role:legal", east)

    def ids(response) -> set[int]:
        return {notice.notification_id for notice in response.notifications}

    rep = client_for(Caller("Anna", Role.REP, frozenset({east})))
    assert ids(await rep.ListNotifications(listing())) == set(anna)
    with pytest.raises(grpc.aio.AioRpcError) as foreign:
        await rep.ListNotifications(listing(recipient="Mona"))
    assert foreign.value.code() == grpc.StatusCode.PERMISSION_DENIED

    manager = client_for(Caller("Mona", Role.MANAGER, frozenset({east})))
    assert ids(await manager.ListNotifications(listing())) == {*anna, *mona, *legal}
    assert ids(await manager.ListNotifications(listing(recipient="Wes"))) == set()

    lawyer = client_for(Caller("Lee", Role.LEGAL, frozenset()))
    assert ids(await lawyer.ListNotifications(listing())) == set(legal)

    director = client_for(Caller("Dora", Role.DIRECTOR, frozenset()))
    everything = await director.ListNotifications(listing())
    assert ids(everything) == {*anna, *mona, *wes, *legal}
    newest = everything.notifications[0]
    assert (newest.channel, newest.target, newest.status) == ("wecom", "east", "pending")
    assert newest.subject.startswith("【升级】")


async def test_listing_pages_newest_first_and_filters_by_status(sessions, client_for):
    region = f"North-{uuid.uuid4().hex[:4]}"
    ids = await add(sessions, "Nina", region, 5)
    await add(sessions, "Nina", region, 1, status="dead", attempts=12, last_error="HTTP 502")
    client = client_for(Caller("Nina", Role.REP, frozenset({region})))

    seen, token = [], ""
    while True:
        page = await client.ListNotifications(
            listing(status="pending", page_size=2, page_token=token)
        )
        seen += [notice.notification_id for notice in page.notifications]
        token = page.next_page_token
        if not token:
            break
    assert seen == sorted(ids, reverse=True)

    [dead] = (await client.ListNotifications(listing(status="dead"))).notifications
    assert (dead.attempts, dead.last_error) == (12, "HTTP 502")

    for bad in (listing(status="lost"), listing(page_token="abc"), listing(page_size=10_000)):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await client.ListNotifications(bad)
        assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_only_an_admin_retries_and_only_what_failed(sessions, client_for):
    region = f"South-{uuid.uuid4().hex[:4]}"
    [dead] = await add(sessions, "Sam", region, status="dead", attempts=12, last_error="x")
    [done] = await add(sessions, "Sam", region, status="delivered")
    admin = client_for(ADMIN_CALLER)

    manager = client_for(Caller("Mona", Role.MANAGER, frozenset({region})))
    with pytest.raises(grpc.aio.AioRpcError) as not_admin:
        await manager.RetryNotification(
            notifications_pb2.RetryNotificationRequest(notification_id=dead)
        )
    assert not_admin.value.code() == grpc.StatusCode.PERMISSION_DENIED

    retried = await admin.RetryNotification(
        notifications_pb2.RetryNotificationRequest(notification_id=dead)
    )
    assert (retried.status, retried.attempts) == ("pending", 0)
    async with sessions() as session:
        logged = await session.scalar(
            select(OperationLogEntry).where(OperationLogEntry.subject == f"notification:{dead}")
        )
    assert (logged.operation, logged.actor_id) == ("notification.retried", "admin")

    for notification_id, code in (
        (done, grpc.StatusCode.FAILED_PRECONDITION),
        (10**12, grpc.StatusCode.NOT_FOUND),
        (0, grpc.StatusCode.INVALID_ARGUMENT),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await admin.RetryNotification(
                notifications_pb2.RetryNotificationRequest(notification_id=notification_id)
            )
        assert refused.value.code() == code
