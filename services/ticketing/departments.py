"""Departments that answer tickets: who heads them, who may be assigned, their calendar.

A YAML file (`salesflow tickets departments FILE`) is loaded into the ticket_departments
and department_members tables:

    legal:
      head: Helen Head                     # escalations of missed targets go to the head
      members: [Lee Legal, Lena Legal]     # tickets are assigned to them
      calendar:                            # when the department's business hours run
        time_zone: Asia/Shanghai
        working_hours: ['09:00-12:00', '13:00-18:00']
        weekend: [saturday, sunday]
        holiday_country: CN                # public holidays and make-up workdays (调休)
        extra_days_off: []
        extra_workdays: []
      escalate_after: [1, 2]               # levels, as multiples of the response target

A department without a record has no head and no members, the company calendar above
(the defaults of every calendar field) and one escalation level at the target. A ticket
keeps the calendar it was opened with, resolved from the holiday package at that moment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.calendars import resolve_calendar
from salesflow.core.caller import SYSTEM_CALLER, Caller
from salesflow.core.db import utcnow
from salesflow.core.oplog import append_operation
from services.ticketing.models import Department, DepartmentMember
from workflows.pipeline.template import DEPARTMENTS, CalendarSpec

FIELDS = ("head", "members", "calendar", "escalate_after")
CALENDAR_FIELDS = (
    "time_zone",
    "working_hours",
    "weekend",
    "holiday_country",
    "extra_days_off",
    "extra_workdays",
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PERIOD = re.compile(r"^(\d{2}):(\d{2})-(\d{2}):(\d{2})$")
MAX_LEVELS = 5


@dataclass(frozen=True)
class DepartmentConfig:
    department: str
    head_id: str = ""
    members: tuple[str, ...] = ()
    calendar: CalendarSpec = field(default_factory=CalendarSpec)
    # Escalation levels as multiples of the ticket's response target, ascending.
    escalate_after: tuple[float, ...] = (1.0,)


class DepartmentFileError(ValueError):
    """The departments file is refused as a whole; every problem is listed."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


# ---- the file ------------------------------------------------------------------------------


def read_departments(text: str) -> list[DepartmentConfig]:
    """Every department of the file, or DepartmentFileError listing every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise DepartmentFileError([f"not YAML: {error}"]) from error
    if not isinstance(data, dict) or not data:
        raise DepartmentFileError(["expected a mapping of department names to their settings"])

    problems: list[str] = []
    configs = [_read_one(str(name), value, problems) for name, value in data.items()]
    if problems:
        raise DepartmentFileError(problems)
    return configs


def _read_one(name: str, value: Any, problems: list[str]) -> DepartmentConfig:
    if name not in DEPARTMENTS:
        problems.append(f"{name}: unknown department (known: {', '.join(DEPARTMENTS)})")
    value = value or {}
    if not isinstance(value, dict):
        problems.append(f"{name}: expected a mapping")
        return DepartmentConfig(name)
    for unknown in sorted(set(value) - set(FIELDS)):
        problems.append(f"{name}.{unknown}: unknown field (known: {', '.join(FIELDS)})")

    head = value.get("head") or ""
    if not isinstance(head, str):
        problems.append(f"{name}.head: expected a person's id")
        head = ""
    members = _strings(value.get("members") or [], f"{name}.members", problems)
    calendar = _read_calendar(name, value.get("calendar") or {}, problems)
    levels = _read_levels(name, value.get("escalate_after", [1]), problems)
    return DepartmentConfig(name, head.strip(), tuple(members), calendar, levels)


def _read_calendar(name: str, value: Any, problems: list[str]) -> CalendarSpec:
    path = f"{name}.calendar"
    if not isinstance(value, dict):
        problems.append(f"{path}: expected a mapping")
        return CalendarSpec(calendar_id=name)
    for unknown in sorted(set(value) - set(CALENDAR_FIELDS)):
        problems.append(f"{path}.{unknown}: unknown field (known: {', '.join(CALENDAR_FIELDS)})")
    default = CalendarSpec()

    zone = str(value.get("time_zone", default.time_zone))
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"{path}.time_zone: unknown time zone {zone!r} (e.g. Asia/Shanghai)")

    periods = default.working_hours
    if "working_hours" in value:
        raw = _strings(value["working_hours"], f"{path}.working_hours", problems)
        periods = _periods(raw, f"{path}.working_hours", problems)

    weekend = default.weekend
    if "weekend" in value:
        names = _strings(value["weekend"], f"{path}.weekend", problems)
        unknown = [day for day in names if day.lower() not in WEEKDAYS]
        if unknown:
            problems.append(f"{path}.weekend: unknown days {', '.join(unknown)}")
        weekend = tuple(sorted({WEEKDAYS.index(d.lower()) for d in names if d not in unknown}))

    spec = CalendarSpec(
        calendar_id=name,
        time_zone=zone,
        working_hours=periods,
        weekend=weekend,
        holiday_country=str(value.get("holiday_country", default.holiday_country) or ""),
        extra_days_off=tuple(_strings(value.get("extra_days_off") or [], path, problems)),
        extra_workdays=tuple(_strings(value.get("extra_workdays") or [], path, problems)),
    )
    try:
        resolve_calendar(spec, [date.today().year])
    except ValueError as error:
        problems.append(f"{path}: {error}")
    return spec


def _periods(raw: list[str], path: str, problems: list[str]) -> tuple[tuple[str, str], ...]:
    periods: list[tuple[str, str]] = []
    previous_end = -1
    for text in raw:
        match = _PERIOD.match(text.strip())
        if match is None:
            problems.append(f"{path}: {text!r} is not HH:MM-HH:MM")
            continue
        begin = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        if not previous_end <= begin < end <= 24 * 60:
            problems.append(f"{path}: {text!r} must be ordered, not overlapping, within a day")
        previous_end = end
        periods.append((f"{match[1]}:{match[2]}", f"{match[3]}:{match[4]}"))
    if not periods:
        problems.append(f"{path}: a calendar needs at least one working period")
    return tuple(periods)


def _read_levels(name: str, value: Any, problems: list[str]) -> tuple[float, ...]:
    path = f"{name}.escalate_after"
    values = value if isinstance(value, list) else [value]
    levels: list[float] = []
    for item in values:
        if isinstance(item, bool) or not isinstance(item, int | float) or item <= 0:
            problems.append(f"{path}: {item!r} is not a positive multiple of the target")
            continue
        levels.append(float(item))
    if levels != sorted(set(levels)):
        problems.append(f"{path}: levels must each come later than the one before")
    if len(levels) > MAX_LEVELS:
        problems.append(f"{path}: at most {MAX_LEVELS} levels")
    return tuple(levels)


def _strings(value: Any, path: str, problems: list[str]) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        problems.append(f"{path}: expected a list of strings")
        return []
    return [item.strip() for item in value if item.strip()]


# ---- calendars -----------------------------------------------------------------------------


def calendar_json(spec: CalendarSpec) -> str:
    return json.dumps(asdict(spec), ensure_ascii=False, sort_keys=True)


def calendar_from_json(text: str) -> CalendarSpec:
    """The calendar stored with a ticket or department; "" is the default calendar."""
    if not text:
        return CalendarSpec()
    data = json.loads(text)
    return CalendarSpec(
        calendar_id=data["calendar_id"],
        time_zone=data["time_zone"],
        working_hours=tuple((begin, end) for begin, end in data["working_hours"]),
        weekend=tuple(data["weekend"]),
        holiday_country=data["holiday_country"],
        extra_days_off=tuple(data["extra_days_off"]),
        extra_workdays=tuple(data["extra_workdays"]),
        days_off=tuple(data["days_off"]),
        workdays=tuple(data["workdays"]),
        resolved_years=tuple(data["resolved_years"]),
    )


@lru_cache(maxsize=64)
def resolved_for(spec: CalendarSpec, year: int) -> CalendarSpec:
    """The department's calendar with its holidays resolved for `year` and the next one (a
    target may cross the new year). Cached: the holiday package is slow to ask per ticket."""
    return resolve_calendar(spec, (year, year + 1))


# ---- the tables ----------------------------------------------------------------------------


async def upsert_departments(
    sessions: async_sessionmaker[AsyncSession],
    configs: Iterable[DepartmentConfig],
    *,
    caller: Caller = SYSTEM_CALLER,
) -> int:
    """Stores the departments; members not listed any more become inactive. Returns how
    many departments were written."""
    configs = list(configs)
    async with sessions.begin() as session:
        for config in configs:
            await session.merge(
                Department(
                    department=config.department,
                    head_id=config.head_id,
                    calendar=calendar_json(config.calendar),
                    escalate_after=list(config.escalate_after),
                    updated_at=utcnow(),
                )
            )
            known = {
                member.person_id: member
                for member in await session.scalars(
                    select(DepartmentMember).where(DepartmentMember.department == config.department)
                )
            }
            for person_id, member in known.items():
                member.active = person_id in config.members
            for person_id in config.members:
                if person_id not in known:
                    session.add(DepartmentMember(department=config.department, person_id=person_id))
            await append_operation(
                session,
                caller=caller,
                service="ticketing",
                operation="department.configured",
                subject=f"department:{config.department}",
                payload={
                    "head": config.head_id,
                    "members": list(config.members),
                    "escalate_after": list(config.escalate_after),
                    "calendar": asdict(config.calendar),
                },
            )
    return len(configs)


async def load_departments(
    session: AsyncSession, names: Sequence[str]
) -> dict[str, DepartmentConfig]:
    """The configuration of each named department (the defaults for one without a record)."""
    wanted = sorted(set(names))
    rows = {
        row.department: row
        for row in await session.scalars(
            select(Department).where(Department.department.in_(wanted))
        )
    }
    members: dict[str, list[str]] = {}
    for member in await session.scalars(
        select(DepartmentMember)
        .where(DepartmentMember.department.in_(wanted), DepartmentMember.active.is_(True))
        .order_by(DepartmentMember.person_id)
    ):
        members.setdefault(member.department, []).append(member.person_id)

    configs = {}
    for name in wanted:
        row = rows.get(name)
        if row is None:
            configs[name] = DepartmentConfig(name, members=tuple(members.get(name, ())))
            continue
        configs[name] = DepartmentConfig(
            department=name,
            head_id=row.head_id,
            members=tuple(members.get(name, ())),
            calendar=calendar_from_json(row.calendar),
            escalate_after=tuple(float(level) for level in row.escalate_after),
        )
    return configs
