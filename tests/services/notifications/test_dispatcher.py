"""The dispatcher on real PostgreSQL, delivering to local robot stand-ins on a shared clock.

The dispatcher's clock and the robots' are the same FakeClock: a minute passes when the
test says so, and the robots count their rate windows in that same time.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from salesflow.core.caller import ADMIN_CALLER
from salesflow.core.settings import RobotSettings
from services.notifications import outbox
from services.notifications.channels import LogChannel, OutgoingMessage
from services.notifications.dispatcher import Dispatcher, DispatchPolicy
from services.notifications.limits import strip_marker
from services.notifications.models import Notification
from services.notifications.robots import FeishuChannel, WeComChannel
from tests.conftest import eventually
from tests.services.notifications.fakes import FakeClock, FeishuRobot, WeComRobot
from tests.services.notifications.test_limits import chinese_text

POLICY = DispatchPolicy(lease=timedelta(seconds=30), max_attempts=4)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def wecom(clock):
    robot = WeComRobot(clock=clock, token=uuid.uuid4().hex).start()
    yield robot
    robot.stop()


def wecom_channels(robot, clock, name: str = "east") -> dict:
    return {"wecom": WeComChannel([RobotSettings(name, "wecom", robot.url)], clock=clock)}


def dispatcher(sessions, channels, clock, **kwargs) -> Dispatcher:
    return Dispatcher(
        sessions, channels, policy=kwargs.pop("policy", POLICY), clock=clock, **kwargs
    )


async def add_notices(
    sessions, bodies: list[str], *, clock, channel: str = "wecom", target: str = "east"
) -> list[int]:
    """Outbox rows as the consumer writes them, due now; returns their ids."""
    batch = uuid.uuid4().hex[:8]
    rows = [
        Notification(
            event_id=f"pipeline-{batch}:escalation.raised:objection_handling:{number}",
            recipient="Mona Manager",
            channel=channel,
            target=target,
            kind="escalation",
            subject=f"【升级】通知 {number} / Escalation {number}",
            body=body,
            opportunity_id=f"OPP-{batch}",
            region="East",
            occurred_at=clock(),
            created_at=clock(),
            status="pending",
            attempts=0,
            parts_sent=0,
            next_attempt_at=clock(),
            last_error="",
        )
        for number, body in enumerate(bodies)
    ]
    async with sessions.begin() as session:
        session.add_all(rows)
    return [row.id for row in rows]


def notice_bodies(count: int, *, size: int = 0) -> list[str]:
    tag = uuid.uuid4().hex[:6]
    return [
        f"**【升级】异议处理 已超时 48 小时**\nEscalation {tag}-{number:02d}\n"
        + "> 详情 "
        + "客" * size
        for number in range(count)
    ]


async def rows_by_id(sessions, ids: list[int]) -> list[Notification]:
    async with sessions() as session:
        found = await session.scalars(
            select(Notification).where(Notification.id.in_(ids)).order_by(Notification.id)
        )
        return list(found)


async def statuses(sessions, ids: list[int]) -> Counter:
    return Counter(row.status for row in await rows_by_id(sessions, ids))


def received_bodies(robot) -> list[str]:
    """Every notice the robot showed, digests taken apart."""
    found = []
    for text in robot.texts:
        text = strip_marker(text)
        if text.startswith("**【汇总】"):
            found += text.split("\n\n", 1)[1].split("\n\n---\n\n")
        else:
            found.append(text)
    return found


# ---- limits ------------------------------------------------------------------------------


async def test_a_10000_byte_chinese_notice_reaches_wecom_in_parts_that_rejoin(
    sessions, wecom, clock
):
    body = chinese_text(10_000)
    [row_id] = await add_notices(sessions, [body], clock=clock)

    report = await dispatcher(sessions, wecom_channels(wecom, clock), clock).run_once()

    assert (report.delivered, report.messages) == (1, len(wecom.texts))
    assert len(wecom.texts) >= 3
    assert all(len(text.encode()) <= 4096 for text in wecom.texts)
    assert "".join(strip_marker(text) for text in wecom.texts) == body
    [row] = await rows_by_id(sessions, [row_id])
    assert (row.status, row.attempts) == ("delivered", 0)


async def test_25_notices_in_a_minute_wait_for_room_and_none_is_lost(sessions, wecom, clock):
    bodies = notice_bodies(25)
    sender = dispatcher(sessions, wecom_channels(wecom, clock), clock)
    start = clock()

    ids = []
    for body in bodies:
        ids += await add_notices(sessions, [body], clock=clock)
        await sender.run_once()
        clock.advance(seconds=2)

    # Twenty went out one by one; the other five wait, unsent, for the window to open.
    assert len(wecom.texts) == 20
    assert await statuses(sessions, ids) == {"delivered": 20, "pending": 5}
    waiting = [row for row in await rows_by_id(sessions, ids) if row.status == "pending"]
    assert {row.next_attempt_at for row in waiting} == {start + timedelta(seconds=61)}
    assert all("rate limit" in row.last_error for row in waiting)

    clock.now = start + timedelta(seconds=61)
    report = await sender.run_once()

    # One message had room: the five waiting notices went out as one digest.
    assert (report.delivered, report.messages) == (5, 1)
    assert wecom.texts[-1].startswith("**【汇总】5 条通知 / Digest: 5 notices**")
    assert wecom.refused == []
    assert sorted(received_bodies(wecom)) == sorted(bodies)
    assert all(row.attempts == 0 for row in await rows_by_id(sessions, ids))


async def test_a_backlog_larger_than_the_window_goes_out_as_digests(sessions, wecom, clock):
    bodies = notice_bodies(25, size=200)
    ids = await add_notices(sessions, bodies, clock=clock)

    report = await dispatcher(sessions, wecom_channels(wecom, clock), clock).run_once()

    assert report.delivered == 25
    assert 1 < report.messages <= 20
    assert all(len(text.encode()) <= 4096 for text in wecom.texts)
    assert wecom.refused == []
    assert sorted(received_bodies(wecom)) == sorted(bodies)
    assert await statuses(sessions, ids) == {"delivered": 25}


# ---- failures ----------------------------------------------------------------------------


async def test_an_errcode_in_an_http_200_answer_is_a_failure_and_is_retried(sessions, wecom, clock):
    [row_id] = await add_notices(sessions, notice_bodies(1), clock=clock)
    sender = dispatcher(sessions, wecom_channels(wecom, clock), clock)
    wecom.fail_next(1, errcode=-1, errmsg="system busy")

    report = await sender.run_once()

    assert (report.delivered, report.failed) == (0, 1)
    [row] = await rows_by_id(sessions, [row_id])
    assert (row.status, row.attempts) == ("failed", 1)
    assert "-1: system busy" in row.last_error
    # Backoff: the first retry comes 7.5 to 15 seconds later (15 s with equal jitter).
    assert (
        clock() + timedelta(seconds=7.5) <= row.next_attempt_at <= clock() + timedelta(seconds=15)
    )
    assert (await sender.run_once()).claimed == 0

    clock.advance(seconds=15)
    assert (await sender.run_once()).delivered == 1
    [row] = await rows_by_id(sessions, [row_id])
    assert (row.status, row.attempts) == ("delivered", 1)
    assert len(wecom.accepted) == 1


async def test_a_channel_down_then_up_delivers_everything_once(sessions, wecom, clock):
    bodies = notice_bodies(6)
    ids = await add_notices(sessions, bodies, clock=clock)
    sender = dispatcher(sessions, wecom_channels(wecom, clock), clock)
    wecom.stop()

    for _ in range(2):
        report = await sender.run_once()
        # One probe per retry: the first notice fails, the rest wait for the same time.
        assert (report.failed, report.deferred) == (1, 5)
        clock.advance(minutes=1)
    assert await statuses(sessions, ids) == {"failed": 1, "pending": 5}

    wecom.start()
    assert (await sender.run_once()).delivered == 6
    assert await statuses(sessions, ids) == {"delivered": 6}
    assert Counter(received_bodies(wecom)) == Counter(bodies)


async def test_attempts_run_out_into_dead_which_an_admin_can_retry(sessions, wecom, clock):
    [row_id] = await add_notices(sessions, notice_bodies(1), clock=clock)
    [unknown_id] = await add_notices(sessions, notice_bodies(1), clock=clock, target="nowhere")
    [email_id] = await add_notices(sessions, notice_bodies(1), clock=clock, channel="email")
    sender = dispatcher(sessions, wecom_channels(wecom, clock), clock)
    wecom.fail_next(POLICY.max_attempts, status=502, errcode=-1, errmsg="bad gateway")

    for _ in range(POLICY.max_attempts):
        await sender.run_once()
        clock.advance(hours=2)

    rows = {row.id: row for row in await rows_by_id(sessions, [row_id, unknown_id, email_id])}
    assert (rows[row_id].status, rows[row_id].attempts) == ("dead", POLICY.max_attempts)
    assert "HTTP 502" in rows[row_id].last_error
    # Permanent problems are dead at the first attempt, and say why.
    assert (rows[unknown_id].status, rows[unknown_id].attempts) == ("dead", 1)
    assert "no wecom robot named 'nowhere'" in rows[unknown_id].last_error
    assert (rows[email_id].status, rows[email_id].attempts) == ("dead", 1)
    assert "channel email is not configured" in rows[email_id].last_error
    assert wecom.accepted == []

    await outbox.retry(sessions, ADMIN_CALLER, row_id, now=clock())
    assert (await sender.run_once()).delivered == 1
    [row] = await rows_by_id(sessions, [row_id])
    assert (row.status, row.attempts) == ("delivered", 0)


async def test_feishu_answering_a_non_zero_code_is_a_failure(sessions, clock):
    robot = FeishuRobot(clock=clock, token=uuid.uuid4().hex).start()
    try:
        channels = {
            "feishu": FeishuChannel([RobotSettings("north", "feishu", robot.url)], clock=clock)
        }
        sender = dispatcher(sessions, channels, clock)
        long_body = chinese_text(30_000)
        refused, long_one = await add_notices(
            sessions,
            [notice_bodies(1)[0], long_body],
            clock=clock,
            channel="feishu",
            target="north",
        )
        robot.fail_next(1, code=9499, msg="Bad Request")

        await sender.run_once()
        clock.advance(seconds=2)
        await sender.run_once()

        rows = {row.id: row for row in await rows_by_id(sessions, [refused, long_one])}
        assert rows[refused].status == "dead"
        assert "9499: Bad Request" in rows[refused].last_error
        # The long one went in parts, each request body within Feishu's 20 KB.
        assert rows[long_one].status == "delivered"
        assert len(robot.texts) >= 2 and robot.refused == []
        assert "".join(strip_marker(text) for text in robot.texts) == long_body
    finally:
        robot.stop()


# ---- stopping and crashing ---------------------------------------------------------------


async def test_a_dispatcher_killed_mid_send_resends_at_most_the_message_in_flight(
    sessions, wecom, clock
):
    bodies = notice_bodies(10)
    ids = await add_notices(sessions, bodies, clock=clock)
    wecom.answer_delay = 0.2
    first = dispatcher(sessions, wecom_channels(wecom, clock), clock, name="first")

    running = asyncio.create_task(first.run_once())
    await eventually(lambda: asyncio.sleep(0, len(wecom.accepted) >= 3), timeout=20)
    # A crash: the cycle is torn down wherever it is, nothing more is written.
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    await asyncio.sleep(0.3)  # the request in flight still reaches the robot

    at_crash = await rows_by_id(sessions, ids)
    sending = {row.body for row in at_crash if row.status == "sending"}
    delivered = {row.body for row in at_crash if row.status == "delivered"}
    assert delivered and sending
    received_at_crash = set(received_bodies(wecom))
    # At most one message went out without being marked: the one in flight.
    assert len(received_at_crash - delivered) <= 1
    assert received_at_crash - delivered <= sending

    # A new dispatcher (a restarted process) leaves the claimed rows alone until the lease
    # ends, then sends them.
    wecom.answer_delay = 0
    second = dispatcher(sessions, wecom_channels(wecom, clock), clock, name="second")
    assert (await second.run_once()).claimed == 0
    clock.advance(seconds=31)
    report = await second.run_once()

    assert report.delivered == len(sending)
    assert await statuses(sessions, ids) == {"delivered": 10}
    counts = Counter(received_bodies(wecom))
    assert set(counts) == set(bodies)
    resent = [body for body, count in counts.items() if count > 1]
    assert len(resent) <= 1 and set(resent) <= sending


async def test_a_graceful_stop_resends_nothing(sessions, wecom, clock):
    bodies = notice_bodies(12)
    ids = await add_notices(sessions, bodies, clock=clock)
    wecom.answer_delay = 0.1
    first = dispatcher(sessions, wecom_channels(wecom, clock), clock, name="first")

    await first.start()
    await eventually(lambda: asyncio.sleep(0, len(wecom.accepted) >= 3), timeout=20)
    await first.stop()

    after_stop = await statuses(sessions, ids)
    assert "sending" not in after_stop
    assert after_stop["delivered"] == len(wecom.accepted)

    wecom.answer_delay = 0
    await dispatcher(sessions, wecom_channels(wecom, clock), clock, name="second").run_once()
    assert await statuses(sessions, ids) == {"delivered": 12}
    assert Counter(received_bodies(wecom)) == Counter(bodies)


class RecordingChannel(LogChannel):
    """The log channel, remembering what it delivered and taking a moment per message."""

    def __init__(self) -> None:
        self.keys: list[str] = []

    async def send(self, message: OutgoingMessage) -> None:
        await asyncio.sleep(0.001)
        self.keys.append(message.key)


async def test_two_dispatchers_never_claim_the_same_row(sessions, clock):
    ids = await add_notices(sessions, notice_bodies(300), clock=clock, channel="log", target="")
    left, right = RecordingChannel(), RecordingChannel()
    policy = DispatchPolicy(batch_size=40, lease=timedelta(seconds=30))

    async def drain(channel, name):
        sender = dispatcher(sessions, {"log": channel}, clock, policy=policy, name=name)
        while (await sender.run_once()).claimed:
            pass

    await asyncio.gather(drain(left, "left"), drain(right, "right"))

    assert left.keys and right.keys
    assert not set(left.keys) & set(right.keys)
    assert len(left.keys) + len(right.keys) == 300
    assert await statuses(sessions, ids) == {"delivered": 300}
