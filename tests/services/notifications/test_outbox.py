"""From events to the outbox: the notices' texts, routes, idempotency, and the service fed
through a real nats-server delivering to local robot and SMTP stand-ins."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from salesflow.core.events import NOTIFICATIONS_CONSUMER, event_headers, new_event, subject_for
from salesflow.core.service import ServiceDeps
from salesflow.core.settings import RobotSettings, Settings, SmtpSettings
from salesflow.events.v1 import events_pb2
from services.notifications import outbox
from services.notifications.models import Notification
from services.notifications.notices import notices_for
from services.notifications.routes import RouteRow, save_routes
from services.notifications.server import serve
from services.pipeline.models import Person
from tests.conftest import eventually
from tests.services.notifications.fakes import DingTalkRobot, SmtpServer

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def unique(name: str) -> str:
    return f"{name}-{uuid.uuid4().hex[:6]}"


def escalation(opp: str, rep: str, manager: str, region: str) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:escalation.raised:objection_handling:1",
        event_type="escalation.raised",
        source="tests",
        time=T0 + timedelta(hours=48),
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.escalation_raised.CopyFrom(
        events_pb2.EscalationRaised(
            action_key="objection_handling", level=1, to_role="regional_manager", to_person=manager
        )
    )
    event.escalation_raised.open_since.FromDatetime(T0)
    return event


def silence(opp: str, rep: str, manager: str, region: str) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:reminder.raised:customer_silence:1",
        event_type="reminder.raised",
        source="tests",
        time=T0 + timedelta(hours=72),
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.reminder_raised.CopyFrom(
        events_pb2.ReminderRaised(
            kind="customer_silence", to_people=[rep, manager], action_key="solution_demo"
        )
    )
    event.reminder_raised.silent_since.FromDatetime(T0)
    return event


def completed(opp: str, rep: str, region: str, points: int = 5) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:action.completed:appointment",
        event_type="action.completed",
        source="tests",
        time=T0,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.action_completed.CopyFrom(
        events_pb2.ActionCompleted(action_key="appointment", points=points, on_time=True)
    )
    return event


def ticket_requested(opp: str, rep: str, region: str) -> events_pb2.Event:
    event = new_event(
        event_id=f"pipeline-{opp}:ticket.requested:contract_archive:legal",
        event_type="ticket.requested",
        source="tests",
        time=T0,
        opportunity_id=opp,
        rep_id=rep,
        region=region,
    )
    event.ticket_requested.CopyFrom(
        events_pb2.TicketRequested(
            ticket_key=f"{opp}:contract_archive:legal",
            department="legal",
            kind="contract_review",
            action_key="contract_archive",
            response_target_minutes=120,
        )
    )
    return event


async def outbox_rows(sessions, opportunity_id: str) -> list[Notification]:
    async with sessions() as session:
        rows = await session.scalars(
            select(Notification)
            .where(Notification.opportunity_id == opportunity_id)
            .order_by(Notification.recipient, Notification.channel)
        )
        return list(rows)


# ---- texts -------------------------------------------------------------------------------


def test_an_escalation_reads_in_chinese_then_english():
    [notice] = notices_for(escalation("1C1I7A6R", "Anna", "Mona", "East"), zone=SHANGHAI)

    assert notice.recipient == "Mona"
    assert notice.kind == "escalation"
    assert notice.subject == (
        "【升级】异议处理 已超时 48 小时 / Escalation: objection handling open 48 h"
    )
    lines = notice.body.split("\n")
    assert lines[0] == "**【升级】异议处理 已超时 48 小时**"
    assert lines[1] == ("Escalation: objection handling open 48 h — opportunity 1C1I7A6R, rep Anna")
    assert "> 开始 Open since: 2026-03-02 15:00 (Asia/Shanghai)" in lines


def test_each_event_tells_the_people_it_concerns():
    opp = "OPPX"
    reminder = notices_for(silence(opp, "Anna", "Mona", "East"), zone=SHANGHAI)
    assert [n.recipient for n in reminder] == ["Anna", "Mona"]
    assert reminder[0].subject.startswith("【提醒】客户已 72 小时无回应 / Reminder: customer")

    [points] = notices_for(completed(opp, "Anna", "East"), zone=SHANGHAI)
    assert (
        points.subject
        == "【积分】客户预约 已完成，+5 分 / Points: customer appointment completed, +5"
    )
    assert notices_for(completed(opp, "Anna", "East", points=0), zone=SHANGHAI) == []

    # An escalation to a role nobody holds on this pipeline goes to the role's routes.
    unnamed = escalation(opp, "Anna", "", "East")
    unnamed.escalation_raised.to_role = "sales_director"
    [director] = notices_for(unnamed, zone=SHANGHAI)
    assert director.recipient == "role:director"

    [ticket] = notices_for(ticket_requested(opp, "Anna", "East"), zone=SHANGHAI)
    assert ticket.recipient == "role:legal"
    assert "120 分钟内响应" in ticket.subject and "respond within 120 min" in ticket.subject


# ---- writing the outbox ------------------------------------------------------------------


async def test_an_event_delivered_twice_adds_one_row_per_recipient_and_channel(sessions):
    opp, region = unique("OPP"), unique("East")
    batch = [silence(opp, "Anna", "Mona", region), completed(opp, "Anna", region)]
    zone = SHANGHAI

    assert await outbox.enqueue_events(sessions, batch + batch[:1], zone=zone) == 3
    # The consumer crashed after its commit and before its ack: the batch comes again.
    assert await outbox.enqueue_events(sessions, batch, zone=zone) == 0

    rows = await outbox_rows(sessions, opp)
    assert sorted((row.recipient, row.kind, row.channel) for row in rows) == [
        ("Anna", "points", "log"),
        ("Anna", "reminder", "log"),
        ("Mona", "reminder", "log"),
    ]
    assert {row.status for row in rows} == {"pending"}


async def test_routes_pick_the_channels_of_the_person_their_role_or_their_region(sessions):
    opp, region = unique("OPP"), unique("East")
    rep, manager, other = unique("Anna"), unique("Mona"), unique("Otto")
    async with sessions.begin() as session:
        session.add_all(
            [
                Person(person_id=manager, role="manager", region=region),
                Person(person_id=rep, role="rep", region=region, manager_id=manager),
                Person(person_id=other, role="rep", region=region, manager_id=manager),
            ]
        )
    await save_routes(
        sessions,
        [
            # Anna: her own e-mail, and the reps' robot (a role route) does not apply to her.
            RouteRow(rep, "*", "email", "anna@example.com"),
            # Managers of this region: the managers' robot; elsewhere another one.
            RouteRow("role:manager", region, "wecom", "east_managers"),
            RouteRow("role:manager", "*", "wecom", "all_managers"),
            RouteRow("role:rep", "*", "dingtalk", "reps"),
            # Everyone in the region, when nothing more specific exists.
            RouteRow("*", region, "feishu", "east_group"),
        ],
    )

    await outbox.enqueue_events(
        sessions,
        [
            silence(opp, rep, manager, region),
            completed(opp, other, region),
            ticket_requested(opp, rep, region),
        ],
        zone=SHANGHAI,
    )

    found = {(row.recipient, row.channel, row.target) for row in await outbox_rows(sessions, opp)}
    assert found == {
        (rep, "email", "anna@example.com"),
        (manager, "wecom", "east_managers"),
        (other, "dingtalk", "reps"),
        ("role:legal", "feishu", "east_group"),
    }


# ---- the service, fed through NATS ---------------------------------------------------------


async def test_events_through_nats_reach_a_signed_robot_and_a_mailbox_once(
    sessions, event_bus, database_url
):
    def now() -> datetime:
        return datetime.now(UTC)

    secret = "SEC" + uuid.uuid4().hex
    robot = DingTalkRobot(clock=now, token=uuid.uuid4().hex, secret=secret).start()
    mailbox = SmtpServer(sender="salesflow@example.com").start()
    settings = replace(
        Settings(),
        database_url=database_url,
        robots=(RobotSettings("east_managers", "dingtalk", robot.url, secret),),
        smtp=SmtpSettings(
            host="127.0.0.1", port=mailbox.port, sender="salesflow@example.com", security="none"
        ),
    )
    opp, region = unique("OPP"), unique("East")
    rep, manager = unique("Anna"), unique("Mona")
    async with sessions.begin() as session:
        session.add(Person(person_id=manager, role="manager", region=region))
    await save_routes(
        sessions,
        [
            RouteRow("role:manager", region, "dingtalk", "east_managers"),
            RouteRow(rep, region, "email", "anna@example.com"),
        ],
    )
    service = await serve(ServiceDeps(settings, sessions, event_bus), port=0)
    try:
        first = escalation(opp, rep, manager, region)
        second = completed(opp, rep, region)
        await event_bus.publish(first)
        await event_bus.publish(second)
        await event_bus.publish(first)
        # Past JetStream's duplicate window the same event is stored again; the outbox
        # drops it by its key.
        headers = {**event_headers(first), "Nats-Msg-Id": f"{first.id}:after-window"}
        await event_bus.jetstream.publish(
            subject_for(event_bus.prefix, first.type), first.SerializeToString(), headers=headers
        )

        async def delivered():
            if await event_bus.pending(NOTIFICATIONS_CONSUMER):
                return None
            rows = await outbox_rows(sessions, opp)
            return rows if rows and all(row.status == "delivered" for row in rows) else None

        rows = await eventually(delivered)
    finally:
        await service.stop()
        robot.stop()
        mailbox.stop()

    assert [(row.recipient, row.channel) for row in rows] == [
        (rep, "email"),
        (manager, "dingtalk"),
    ]
    [markdown] = [body["markdown"] for body in robot.accepted]
    assert markdown["title"].startswith("【升级】异议处理 已超时 48 小时")
    assert robot.refused == []
    [mail] = mailbox.received
    assert mail.recipients == ["anna@example.com"]
    assert str(mail.message["Subject"]).startswith("【积分】客户预约 已完成，+5 分")
