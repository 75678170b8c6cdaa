"""`salesflow tickets ...`: tickets to legal and logistics on a running stack, over gRPC.

    salesflow tickets list [--department legal] [--status open] [--escalated] ...
    salesflow tickets show KEY                      # times, comments and history
    salesflow tickets ack|resolve KEY [--note ...]
    salesflow tickets comment KEY "text"
    salesflow tickets request-changes|reject KEY --reason "..."
    salesflow tickets assign KEY PERSON
    salesflow tickets report legal [--from 2026-12-01] [--to 2027-01-01]
    salesflow tickets departments FILE              # heads, members, calendars (database)

Every command but `departments` speaks as a caller (--as/--role/--regions or
SALESFLOW_CALLER_*), so the ticketing service applies its checks as for any client. Times
are shown in the department calendar's zone, named.
"""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from google.protobuf import timestamp_pb2

from salesflow.cli.pipelines import add_identity_options, call_as
from salesflow.core.settings import Settings
from salesflow.ticketing.v1 import ticketing_pb2, ticketing_pb2_grpc

RPC_TIMEOUT_SECONDS = 30
DEFAULT_REPORT_DAYS = 30


def register(commands) -> None:
    """Adds the `tickets` command group to the top-level parser."""
    tickets = commands.add_parser("tickets", help="tickets to legal and logistics (running stack)")
    verbs = tickets.add_subparsers(dest="verb", required=True)

    listing = verbs.add_parser("list", help="tickets the caller may see, oldest first")
    listing.add_argument("--department", default="")
    listing.add_argument("--status", default="", help="open, acknowledged, changes_requested, ...")
    listing.add_argument("--opportunity", default="")
    listing.add_argument("--assignee", default="")
    listing.add_argument("--escalated", action="store_true", help="only escalated tickets")
    listing.add_argument("--limit", type=int, default=0)
    listing.set_defaults(handler=_list)

    show = verbs.add_parser("show", help="one ticket with its times, comments and history")
    show.add_argument("ticket_key")
    show.set_defaults(handler=_show)

    for verb, method, text in (
        ("ack", "AcknowledgeTicket", "take the ticket (the first response)"),
        ("resolve", "ResolveTicket", "approve; the waiting pipeline may complete its action"),
    ):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("ticket_key")
        parser.add_argument("--note", default="")
        parser.set_defaults(handler=_action, method=method, reason=None)

    for verb, method, text in (
        ("request-changes", "RequestChanges", "send the action back to the rep for changes"),
        ("reject", "RejectTicket", "reject; the action goes back to the rep with the reason"),
    ):
        parser = verbs.add_parser(verb, help=text)
        parser.add_argument("ticket_key")
        parser.add_argument("--reason", required=True, help="what the rep must change (required)")
        parser.set_defaults(handler=_action, method=method, note=None)

    comment = verbs.add_parser("comment", help="add a comment (append-only)")
    comment.add_argument("ticket_key")
    comment.add_argument("body")
    comment.set_defaults(handler=_comment)

    assign = verbs.add_parser("assign", help="assign the ticket to a department member")
    assign.add_argument("ticket_key")
    assign.add_argument("assignee")
    assign.set_defaults(handler=_assign)

    report = verbs.add_parser("report", help="a department's first-response figures")
    report.add_argument("department")
    report.add_argument(
        "--from",
        dest="period_start",
        default="",
        help="start: YYYY-MM-DD (midnight in SALESFLOW_TIMEZONE) or an ISO time with offset "
        f"(default: {DEFAULT_REPORT_DAYS} days before the end)",
    )
    report.add_argument("--to", dest="period_end", default="", help="end, excluded (default: now)")
    report.set_defaults(handler=_report)

    for sub in verbs.choices.values():
        add_identity_options(sub)

    departments = verbs.add_parser(
        "departments", help="load department heads, members and calendars from a YAML file"
    )
    departments.add_argument("file", type=Path)
    departments.set_defaults(handler=_departments)


# ---- calls ---------------------------------------------------------------------------------


async def _call(options, settings: Settings, method: str, request):
    """One call as the caller; prints the failure and answers None when it fails."""
    return await call_as(
        options,
        settings,
        "ticketing",
        ticketing_pb2_grpc.TicketingServiceStub,
        method,
        request,
        timeout=RPC_TIMEOUT_SECONDS,
    )


async def _list(options, settings: Settings) -> int:
    request = ticketing_pb2.ListTicketsRequest(
        department=options.department,
        status=options.status,
        opportunity_id=options.opportunity,
        assignee_id=options.assignee,
        escalated_only=options.escalated,
        limit=options.limit,
    )
    reply = await _call(options, settings, "ListTickets", request)
    if reply is None:
        return 1
    for ticket in reply.tickets:
        print(summary_line(ticket))
    if not reply.tickets:
        print("no tickets")
    return 0


async def _show(options, settings: Settings) -> int:
    request = ticketing_pb2.GetTicketRequest(ticket_key=options.ticket_key)
    ticket = await _call(options, settings, "GetTicket", request)
    if ticket is None:
        return 1
    print_ticket(ticket)
    return 0


async def _action(options, settings: Settings) -> int:
    note = options.reason if options.reason is not None else options.note
    request = ticketing_pb2.TicketActionRequest(ticket_key=options.ticket_key, note=note)
    ticket = await _call(options, settings, options.method, request)
    if ticket is None:
        return 1
    print_ticket(ticket)
    return 0


async def _comment(options, settings: Settings) -> int:
    request = ticketing_pb2.CommentTicketRequest(ticket_key=options.ticket_key, body=options.body)
    ticket = await _call(options, settings, "CommentTicket", request)
    if ticket is None:
        return 1
    print(f"comment added to {ticket.ticket_key}")
    print_ticket(ticket)
    return 0


async def _assign(options, settings: Settings) -> int:
    request = ticketing_pb2.AssignTicketRequest(
        ticket_key=options.ticket_key, assignee_id=options.assignee
    )
    ticket = await _call(options, settings, "AssignTicket", request)
    if ticket is None:
        return 1
    print_ticket(ticket)
    return 0


async def _report(options, settings: Settings) -> int:
    zone = ZoneInfo(settings.timezone)
    try:
        end = _moment(options.period_end, zone) if options.period_end else datetime.now(UTC)
        start = (
            _moment(options.period_start, zone)
            if options.period_start
            else end - timedelta(days=DEFAULT_REPORT_DAYS)
        )
    except ValueError as error:
        print(f"salesflow: {error}", file=sys.stderr)
        return 2
    request = ticketing_pb2.DepartmentReportRequest(
        department=options.department, period_start=_stamp(start), period_end=_stamp(end)
    )
    report = await _call(options, settings, "GetDepartmentReport", request)
    if report is None:
        return 1
    print_report(report, zone)
    return 0


async def _departments(options, settings: Settings) -> int:
    from salesflow.core.db import create_engine, session_factory
    from salesflow.core.migrate import upgrade
    from services.ticketing.departments import (
        DepartmentFileError,
        read_departments,
        upsert_departments,
    )

    try:
        configs = read_departments(options.file.read_text(encoding="utf-8"))
    except OSError as error:
        print(f"salesflow: cannot read {options.file}: {error}", file=sys.stderr)
        return 2
    except DepartmentFileError as error:
        print(f"{options.file}: refused; nothing saved:", file=sys.stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=sys.stderr)
        return 1
    await asyncio.to_thread(upgrade, settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        await upsert_departments(session_factory(engine), configs)
    finally:
        await engine.dispose()
    for config in configs:
        members = ", ".join(config.members) or "none"
        levels = ", ".join(f"{level:g}x" for level in config.escalate_after)
        print(
            f"{config.department}: head {config.head_id or 'none'}; members {members}; "
            f"calendar {config.calendar.time_zone} {config.calendar.holiday_country or '-'}; "
            f"escalations at {levels} the target"
        )
    return 0


# ---- output --------------------------------------------------------------------------------


def _moment(text: str, zone: ZoneInfo) -> datetime:
    """A date (midnight in `zone`) or an ISO time; a time without offset is read in `zone`."""
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=zone)
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise ValueError(f"{text!r} is not YYYY-MM-DD or an ISO time") from error
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=zone)


def _stamp(moment: datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def _local(stamp: timestamp_pb2.Timestamp, zone_name: str, *, present: bool = True) -> str:
    if not present:
        return "-"
    zone = ZoneInfo(zone_name or "UTC")
    moment = stamp.ToDatetime(tzinfo=UTC).astimezone(zone)
    return f"{moment:%Y-%m-%d %H:%M} {zone.key}"


def summary_line(ticket: ticketing_pb2.Ticket) -> str:
    escalated = f"  escalated L{ticket.escalation_level}" if ticket.escalation_level else ""
    return (
        f"{ticket.ticket_key}  {ticket.department}  {ticket.status:<17} "
        f"respond by {_local(ticket.respond_by, ticket.time_zone)}  "
        f"assignee {ticket.assignee_id or '-'}{escalated}"
    )


def print_ticket(ticket: ticketing_pb2.Ticket) -> None:
    zone = ticket.time_zone
    print(
        f"{ticket.ticket_key}  ({ticket.department} {ticket.kind}, occurrence {ticket.occurrence})"
    )
    print(f"  opportunity {ticket.opportunity_id}  action {ticket.action_key}  rep {ticket.rep_id}")
    print(f"  status      {ticket.status}  assignee {ticket.assignee_id or '-'}")
    print(f"  opened      {_local(ticket.opened_at, zone)}")
    print(
        f"  respond by  {_local(ticket.respond_by, zone)} "
        f"({ticket.response_target_minutes} business minutes)"
    )
    first = _local(ticket.first_response_at, zone, present=ticket.HasField("first_response_at"))
    if ticket.HasField("first_response_business_minutes"):
        on_time = ticket.first_response_at.ToDatetime() <= ticket.respond_by.ToDatetime()
        first += (
            f" by {ticket.first_responder_id} "
            f"({ticket.first_response_business_minutes:.0f} business minutes, "
            f"{'within' if on_time else 'past'} the target)"
        )
    print(f"  first resp. {first}")
    print(f"  closed      {_local(ticket.closed_at, zone, present=ticket.HasField('closed_at'))}")
    if ticket.escalation_level:
        print(
            f"  escalated   level {ticket.escalation_level} since "
            f"{_local(ticket.escalated_at, zone)}"
        )
    if ticket.previous_ticket_key:
        print(f"  follows     {ticket.previous_ticket_key}")
    if ticket.resolution_note:
        print(f"  note        {ticket.resolution_note}")
    for comment in ticket.comments:
        print(
            f"  comment     {_local(comment.created_at, zone)} {comment.author_id} "
            f"({comment.author_role}): {comment.body}"
        )
    for step in ticket.history:
        note = f": {step.note}" if step.note else ""
        print(
            f"  history     {_local(step.occurred_at, zone)} {step.status} by {step.actor_id}{note}"
        )


def print_report(report: ticketing_pb2.DepartmentReport, zone: ZoneInfo) -> None:
    start = _local(report.period_start, zone.key)
    end = _local(report.period_end, zone.key)
    print(f"{report.department} tickets opened {start} .. {end}")
    print(f"  opened               {report.tickets_opened}")
    print(f"  answered             {report.responded}")
    print(
        "  first response       median "
        f"{report.median_first_response_business_minutes:.1f} business min "
        f"({report.median_first_response_wall_minutes:.1f} wall), p90 "
        f"{report.p90_first_response_business_minutes:.1f} business min "
        f"({report.p90_first_response_wall_minutes:.1f} wall)"
    )
    print(
        f"  within target        {report.within_target}/{report.target_decided} "
        f"({report.share_within_target:.0%})"
    )
    print(f"  open now             {report.open_now}")
    print(f"  escalated            {report.escalated}")
