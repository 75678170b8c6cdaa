"""What each pipeline event tells whom: the notices, in Chinese first and English after.

    escalation.raised  the person escalated to (the regional manager)
    reminder.raised    every person reminded (the rep and the manager)
    action.overdue     the rep, with the penalty
    action.completed   the rep, with the points earned
    ticket.requested   the department ("role:legal"), with the response target
    ticket.changed     the rep, when the department acknowledges, resolves, rejects or asks
                       for changes (the step comes back to the rep with the reason)
    ticket.escalated   the department's head (or "role:<department>" when it has none),
                       when a ticket missed its response target

Pure functions of the event: the same event always gives the same notices.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from salesflow.events.v1 import events_pb2
from services.notifications.models import ROLE_PREFIX
from workflows.pipeline.template import default_template

logger = logging.getLogger(__name__)

KIND_ESCALATION = "escalation"
KIND_REMINDER = "reminder"
KIND_OVERDUE = "overdue"
KIND_POINTS = "points"
KIND_TICKET = "ticket"

# (中文, English) names of the default actions; other keys are shown as they are.
ACTION_NAMES = {action.key: (action.name_zh, action.name) for action in default_template().actions}
DEPARTMENT_NAMES = {
    "legal": ("法务", "legal"),
    "logistics": ("物流", "logistics"),
    "finance": ("财务", "finance"),
    "hr": ("人事", "HR"),
}
# Escalation roles of the template, as the team directory names them.
DIRECTORY_ROLES = {"rep": "rep", "regional_manager": "manager", "sales_director": "director"}
TICKET_KIND_NAMES = {
    "contract_review": ("合同审核", "contract review"),
    "delivery_plan": ("交付计划", "delivery plan"),
}
TICKET_STATUS_NAMES = {
    "acknowledged": ("已受理", "acknowledged"),
    "resolved": ("已通过", "resolved"),
    "rejected": ("已驳回", "rejected"),
    "changes_requested": ("要求修改", "asked for changes"),
}


@dataclass(frozen=True)
class Notice:
    """One message for one recipient, before a channel is chosen."""

    event_id: str
    recipient: str
    kind: str
    subject: str
    body: str
    opportunity_id: str
    region: str
    occurred_at: datetime


@dataclass(frozen=True)
class _Draft:
    recipients: list[str]
    kind: str
    # The Chinese headline, and the English line: "<summary> — <context>".
    headline: str
    english: str
    details: list[tuple[str, str]]


def notices_for(event: events_pb2.Event, *, zone: ZoneInfo) -> list[Notice]:
    """The notices an event causes; none for events nobody needs to hear about."""
    builder = _BUILDERS.get(event.type)
    if builder is None or not event.HasField(event.type.replace(".", "_")):
        return []
    draft = builder(event, zone)
    if draft is None:
        return []

    recipients = [person for person in dict.fromkeys(draft.recipients) if person]
    if not recipients:
        logger.warning("event id=%s type=%s names nobody to tell", event.id, event.type)
        return []
    lines = [f"**{draft.headline}**", draft.english, ""]
    lines += [f"> {label}: {value}" for label, value in draft.details if value]
    summary = draft.english.split(" — ")[0]
    return [
        Notice(
            event_id=event.id,
            recipient=person,
            kind=draft.kind,
            subject=f"{draft.headline} / {summary}",
            body="\n".join(lines),
            opportunity_id=event.opportunity_id,
            region=event.region,
            occurred_at=event.time.ToDatetime(tzinfo=UTC),
        )
        for person in recipients
    ]


def _names(table: dict[str, tuple[str, str]], key: str) -> tuple[str, str]:
    return table.get(key, (key, key.replace("_", " ")))


def _hours_between(start: datetime, end: datetime) -> int:
    return round((end - start).total_seconds() / 3600)


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M} ({zone.key})"


def _when(stamp) -> datetime | None:
    """A protobuf timestamp as a datetime; None when unset."""
    if not stamp.seconds and not stamp.nanos:
        return None
    return stamp.ToDatetime(tzinfo=UTC)


def _pipeline_details(event: events_pb2.Event) -> list[tuple[str, str]]:
    return [
        ("商机 Opportunity", event.opportunity_id),
        ("销售 Rep", event.rep_id),
        ("区域 Region", event.region),
    ]


def _escalation(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    raised = event.escalation_raised
    zh, en = _names(ACTION_NAMES, raised.action_key)
    at = event.time.ToDatetime(tzinfo=UTC)
    since = _when(raised.open_since)
    hours = _hours_between(since, at) if since is not None else 0
    headline = f"【升级】{zh} 已超时 {hours} 小时"
    english = (
        f"Escalation: {en.lower()} open {hours} h"
        f" — opportunity {event.opportunity_id}, rep {event.rep_id}"
    )
    details = [
        *_pipeline_details(event),
        ("开始 Open since", _local(since, zone) if since else ""),
        ("级别 Level", str(raised.level)),
    ]
    recipients = [raised.to_person]
    if not raised.to_person and raised.to_role:
        # A pipeline with nobody in that role (no director named): the role's routes.
        recipients = [f"{ROLE_PREFIX}{DIRECTORY_ROLES.get(raised.to_role, raised.to_role)}"]
    return _Draft(recipients, KIND_ESCALATION, headline, english, details)


def _reminder(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    reminder = event.reminder_raised
    at = event.time.ToDatetime(tzinfo=UTC)
    since = _when(reminder.silent_since)
    zh_action, en_action = _names(ACTION_NAMES, reminder.action_key)
    if reminder.kind == "customer_silence":
        hours = _hours_between(since, at) if since is not None else 0
        headline = f"【提醒】客户已 {hours} 小时无回应"
        english = f"Reminder: customer silent for {hours} h"
    else:
        headline = f"【提醒】{zh_action}"
        english = f"Reminder: {en_action.lower()} ({reminder.kind})"
    english += f" — opportunity {event.opportunity_id}, rep {event.rep_id}"
    details = [
        *_pipeline_details(event),
        ("当前动作 Current action", f"{zh_action} {en_action}" if reminder.action_key else ""),
        ("最后联系 Last touch", _local(since, zone) if since else ""),
    ]
    return _Draft(list(reminder.to_people), KIND_REMINDER, headline, english, details)


def _overdue(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    overdue = event.action_overdue
    zh, en = _names(ACTION_NAMES, overdue.action_key)
    penalty = abs(overdue.points)
    headline = f"【超时】{zh} 已超过期限，扣 {penalty} 分"
    english = (
        f"Overdue: {en.lower()} missed its deadline, -{penalty} points"
        f" — opportunity {event.opportunity_id}"
    )
    due = _when(overdue.due_at)
    details = [*_pipeline_details(event), ("期限 Due", _local(due, zone) if due else "")]
    return _Draft([event.rep_id], KIND_OVERDUE, headline, english, details)


def _points(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    completed = event.action_completed
    if completed.points == 0:
        return None
    zh, en = _names(ACTION_NAMES, completed.action_key)
    late_zh, late_en = ("", "") if completed.on_time else ("（逾期完成）", " (late)")
    headline = f"【积分】{zh} 已完成{late_zh}，{completed.points:+d} 分"
    english = (
        f"Points: {en.lower()} completed{late_en}, {completed.points:+d}"
        f" — opportunity {event.opportunity_id}"
    )
    return _Draft([event.rep_id], KIND_POINTS, headline, english, _pipeline_details(event))


def _ticket_requested(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    request = event.ticket_requested
    department_zh, department_en = _names(DEPARTMENT_NAMES, request.department)
    kind_zh, kind_en = _names(TICKET_KIND_NAMES, request.kind)
    minutes = request.response_target_minutes
    headline = f"【工单】{department_zh}：{kind_zh}待处理，{minutes} 分钟内响应"
    english = (
        f"Ticket: {kind_en} for {department_en}, respond within {minutes} min"
        f" — opportunity {event.opportunity_id}"
    )
    details = [*_pipeline_details(event), ("工单 Ticket", request.ticket_key)]
    return _Draft([f"{ROLE_PREFIX}{request.department}"], KIND_TICKET, headline, english, details)


def _ticket_changed(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    change = event.ticket_changed
    if change.status not in TICKET_STATUS_NAMES:
        return None
    department_zh, department_en = _names(DEPARTMENT_NAMES, change.department)
    status_zh, status_en = TICKET_STATUS_NAMES[change.status]
    headline = f"【工单】{department_zh}{status_zh}：{event.opportunity_id}"
    english = f"Ticket: {department_en} {status_en} — opportunity {event.opportunity_id}"
    details = [
        *_pipeline_details(event),
        ("工单 Ticket", change.ticket_key),
        ("处理人 By", change.actor_id),
        ("说明 Note", change.note),
    ]
    return _Draft([event.rep_id], KIND_TICKET, headline, english, details)


def _ticket_escalated(event: events_pb2.Event, zone: ZoneInfo) -> _Draft | None:
    escalated = event.ticket_escalated
    department_zh, department_en = _names(DEPARTMENT_NAMES, escalated.department)
    respond_by = _when(escalated.respond_by)
    due = _local(respond_by, zone) if respond_by else ""
    headline = (
        f"【升级】{department_zh}工单超过 {escalated.response_target_minutes} 分钟未响应"
        f"（第 {escalated.level} 级）"
    )
    english = (
        f"Escalation: a {department_en} ticket was not answered within "
        f"{escalated.response_target_minutes} min (level {escalated.level})"
        f" — opportunity {event.opportunity_id}"
    )
    details = [
        *_pipeline_details(event),
        ("工单 Ticket", escalated.ticket_key),
        ("负责人 Assignee", escalated.assignee_id),
        ("应响应 Respond by", due),
    ]
    recipient = escalated.to_person or f"{ROLE_PREFIX}{escalated.department}"
    return _Draft([recipient], KIND_ESCALATION, headline, english, details)


_BUILDERS = {
    "escalation.raised": _escalation,
    "reminder.raised": _reminder,
    "action.overdue": _overdue,
    "action.completed": _points,
    "ticket.requested": _ticket_requested,
    "ticket.changed": _ticket_changed,
    "ticket.escalated": _ticket_escalated,
}
