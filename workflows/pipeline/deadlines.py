"""When an action's clocks and the customer-silence clock fall due.

Pure: the workflow hands in what happened (when the action started, its finished pauses,
which reminders went out) and gets instants back, so the same answers come on every replay
and the preview of a template change uses exactly the code that will run.

Hours are counted on a clock: every hour of the day (wall) or the working hours of a
calendar judged in the rep's zone (business). A pause holds a clock: the time a clock ran
during a pause is added to every deadline still ahead, so a 30 h pause of a wall-clock
action moves its deadlines 30 h out, and a pause of a business-hours action moves them by
the working hours the pause covered.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workflows.pipeline.calendar import add_business_time, business_time_between
from workflows.pipeline.template import (
    CLOCK_BUSINESS,
    DEFAULT_CALENDAR_ID,
    ActionTemplate,
    CalendarSpec,
    PipelineTemplate,
    ReminderRule,
)

# Keys of an action's clocks, as the snapshot and the template-change preview show them.
WARNING = "warning"
DUE = "due"
SILENCE = "silence"


def escalation_key(level: int) -> str:
    return f"escalation:{level}"


def reminder_key(rule: ReminderRule) -> str:
    return f"reminder:{rule.key}"


@dataclass(frozen=True)
class Clock:
    """How one clock counts: every hour, or the working hours of a calendar in a zone."""

    kind: str
    calendar: CalendarSpec
    zone: str = ""

    def advance(self, start: datetime, span: timedelta) -> datetime:
        """The instant this clock has run `span` after `start`."""
        if self.kind == CLOCK_BUSINESS:
            return add_business_time(self.calendar, start, span, zone=self.zone)
        return start + span

    def between(self, start: datetime, end: datetime) -> timedelta:
        """How long this clock ran from start to end (zero when end <= start)."""
        if self.kind == CLOCK_BUSINESS:
            return business_time_between(self.calendar, start, end, zone=self.zone)
        return max(end - start, timedelta(0))


@dataclass(frozen=True)
class Pause:
    """A finished pause of an action."""

    start: datetime
    end: datetime


@dataclass(frozen=True)
class ClockDeadline:
    key: str  # WARNING, DUE, escalation_key(level) or reminder_key(rule)
    at: datetime
    level: int = 0  # escalations: the level (1 = first)
    number: int = 0  # reminders: which reminder of the rule (1 = first)
    rule: str = ""  # reminders: the rule's key


def valid_zone(name: str) -> bool:
    """Whether `name` is an IANA zone this machine knows ("" is not)."""
    if not name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def action_clock(template: PipelineTemplate, action: ActionTemplate, rep_zone: str) -> Clock:
    """The action's clock; dates are judged in the rep's zone when known."""
    return Clock(action.clock, template.calendar(action.calendar), rep_zone)


def silence_clock(template: PipelineTemplate, rep_zone: str) -> Clock:
    return Clock(template.silence_clock, template.calendar(DEFAULT_CALENDAR_ID), rep_zone)


def held(clock: Clock, pauses: Iterable[Pause], *, since: datetime) -> timedelta:
    """How long the clock ran during finished pauses after `since`: time that does not count."""
    return sum(
        (clock.between(max(pause.start, since), pause.end) for pause in pauses),
        timedelta(0),
    )


def action_deadlines(
    action: ActionTemplate, clock: Clock, *, started_at: datetime, held_time: timedelta
) -> list[ClockDeadline]:
    """The warning, the due time and each escalation level, counted from the start."""

    def after(hours: float) -> datetime:
        return clock.advance(started_at, timedelta(hours=hours) + held_time)

    deadlines: list[ClockDeadline] = []
    if action.warning_hours > 0:
        deadlines.append(ClockDeadline(WARNING, after(action.warning_hours)))
    if action.due_hours > 0:
        deadlines.append(ClockDeadline(DUE, after(action.due_hours)))
    for level, escalation in enumerate(action.escalations, start=1):
        deadlines.append(
            ClockDeadline(escalation_key(level), after(escalation.after_hours), level=level)
        )
    return deadlines


def reminder_at(
    rule: ReminderRule, clock: Clock, *, started_at: datetime, held_time: timedelta, number: int
) -> datetime:
    """When the rule's `number`-th reminder falls due (every_hours × number on the clock)."""
    return clock.advance(started_at, timedelta(hours=rule.every_hours) * number + held_time)


def next_reminders(
    action: ActionTemplate,
    clock: Clock,
    *,
    started_at: datetime,
    held_time: timedelta,
    sent: Mapping[str, int],
) -> list[ClockDeadline]:
    """The next reminder of every rule that has one left (`sent`: last number per rule)."""
    deadlines: list[ClockDeadline] = []
    for rule in action.reminders:
        if rule.every_hours <= 0:
            continue
        number = sent.get(rule.key, 0) + 1
        if rule.max_times and number > rule.max_times:
            continue
        at = reminder_at(rule, clock, started_at=started_at, held_time=held_time, number=number)
        deadlines.append(ClockDeadline(reminder_key(rule), at, number=number, rule=rule.key))
    return deadlines


def latest_reminder(
    rule: ReminderRule,
    clock: Clock,
    *,
    started_at: datetime,
    held_time: timedelta,
    now: datetime,
    sent: int,
) -> ClockDeadline | None:
    """The latest reminder of the rule due by `now` and not sent yet, if any."""
    number = latest_reminder_due(
        rule, clock, started_at=started_at, held_time=held_time, now=now, sent=sent
    )
    if not number:
        return None
    at = reminder_at(rule, clock, started_at=started_at, held_time=held_time, number=number)
    return ClockDeadline(reminder_key(rule), at, number=number, rule=rule.key)


def latest_reminder_due(
    rule: ReminderRule,
    clock: Clock,
    *,
    started_at: datetime,
    held_time: timedelta,
    now: datetime,
    sent: int,
) -> int:
    """The highest reminder number due by `now` and not sent yet; 0 when none is.

    Reminders missed while no worker ran, or made due at once by a template change, are
    not sent one after another at the same moment: only the latest goes out.
    """
    every = timedelta(hours=rule.every_hours)
    if every <= timedelta(0):
        return 0
    ran = clock.between(started_at, now) - held_time
    number = max(ran // every, 0)
    if rule.max_times:
        number = min(number, rule.max_times)

    def due(n: int) -> bool:
        return reminder_at(rule, clock, started_at=started_at, held_time=held_time, number=n) <= now

    # The estimate may be one off at a period boundary; the instants decide.
    while number > sent and not due(number):
        number -= 1
    while (not rule.max_times or number < rule.max_times) and due(number + 1):
        number += 1
    return number if number > sent else 0


def silence_at(
    template: PipelineTemplate, clock: Clock, *, last_touch: datetime, held_time: timedelta
) -> datetime | None:
    """When the customer-silence reminder falls due; None when the template has none."""
    if template.silence_reminder_hours <= 0:
        return None
    return clock.advance(last_touch, timedelta(hours=template.silence_reminder_hours) + held_time)
