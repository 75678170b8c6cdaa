"""What makes a template acceptable: every problem is found and reported, with its path.

A template is refused as a whole (nothing is saved) when any problem exists. What is
checked, beyond the shape yaml_format.py reads:

- identifiers: the template id, action keys, evidence kinds, answer, reminder and ticket
  keys are short lowercase words; action keys are unique, and so is each key within its
  action (two requirements of one kind would be indistinguishable to the lock);
- people and places: roles (rep, regional_manager, sales_director), clocks (wall,
  business), calendars an action or the silence reminder names, ticket departments,
  content types the evidence store can recognise;
- time: every duration greater than 0, a warning before the deadline (and only with one),
  escalation levels each later than the one before, valid time zones, working hours and
  dates;
- points: a value for every rule; completion points not negative, overdue ones not
  positive; a weight greater than 0 (at most 100); quality bonuses with a known condition,
  positive points and distinct keys; milestones with a known window (week, month,
  quarter), positive points, each count and window once;
- size: numbers a running pipeline can carry. Events hold points as 32-bit integers, and a
  timer set a century out, a reminder every few seconds or an action needing more files
  than one completion may present would leave a pipeline stuck for good — so points are at
  most 100,000 either way, hours at most a year on the wall clock (8,760) or 2,000 working
  hours on the business clock, reminders at least 15 minutes apart, at most 100 actions,
  counts of files or answers at most 50 (and an action's files at most 100 in all), text
  at most 500 characters, and the file at most 1 MiB;
- reachability. Pipelines are linear: each action opens when the one before completes and
  the last completion wins the deal. So an action can never be reached when it is listed
  after the action marked `terminal: true` (the step that wins the deal), or after an
  action that can never be completed (an answer needing more distinct values than its
  choices offer, or evidence of a content type no upload is ever recognised as).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from salesflow.calendars import resolve_calendar
from salesflow.core.zones import is_iana_zone
from services.templates.problems import Problem
from services.templates.yaml_format import FIELD_ORDER, read_template
from workflows.pipeline.template import (
    CLOCK_BUSINESS,
    CLOCKS,
    DEFAULT_CALENDAR_ID,
    DEPARTMENTS,
    ESCALATION_ROLES,
    MILESTONE_WINDOWS,
    QUALITY_CONDITIONS,
    ActionTemplate,
    CalendarSpec,
    PipelineTemplate,
)

TEMPLATE_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
CLOCK_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
# What the evidence store recognises from a file's bytes (services/evidence/filetypes.py);
# a requirement that accepts none of these could never be met.
RECOGNISED_CONTENT_TYPES = (
    "image/jpeg",
    "image/png",
    "image/heic",
    "image/heic-sequence",
    "image/heif",
    "image/heif-sequence",
    "image/avif",
    "application/pdf",
    "application/octet-stream",
)
MAX_TEXT = 500
# Size bounds (see the module docstring); the pipeline service bounds requests the same way
# (services/pipeline/commands.py): at most 50 answers per key and 100 evidence ids a call.
MAX_TEMPLATE_BYTES = 1024 * 1024
MAX_POINTS = 100_000
MAX_WALL_HOURS = 8760
MAX_BUSINESS_HOURS = 2000
MIN_REMINDER_HOURS = 0.25
MAX_ACTIONS = 100
MAX_REQUIRED_COUNT = 50
MAX_EVIDENCE_PER_COMPLETION = 100
MAX_LISTED = 50
# Escalation levels and reminder rules of one action.
MAX_LEVELS = 20
MAX_RESPONSE_TARGET_MINUTES = MAX_WALL_HOURS * 60


@dataclass
class CheckedTemplate:
    """A template read from a file and everything wrong with it (empty when acceptable)."""

    template: PipelineTemplate | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.template is not None and not self.problems


def check_template_text(text: str) -> CheckedTemplate:
    """Reads and validates a template file's text; never raises for a bad file."""
    size = len(text.encode())
    if size > MAX_TEMPLATE_BYTES:
        return CheckedTemplate(
            None, [Problem("", f"the file is {size} bytes; at most {MAX_TEMPLATE_BYTES} (1 MiB)")]
        )
    template, shape_problems = read_template(text)
    if template is None:
        return CheckedTemplate(None, shape_problems)
    # A broken value was read as its default; whatever validation then says at or below a
    # path the reader already complained about repeats that complaint.
    meaning = [
        problem
        for problem in validate_template(template)
        if not any(
            _within(problem.path, known.path)
            or (problem.follows_from and problem.follows_from == known.path)
            for known in shape_problems
        )
    ]
    return CheckedTemplate(template, _ordered(shape_problems + meaning))


def _within(path: str, parent: str) -> bool:
    if not parent:
        return False
    return path == parent or path.startswith((parent + ".", parent + "["))


def _ordered(problems: list[Problem]) -> list[Problem]:
    """In the order a file is written: fields in their usual order, list items by position;
    duplicates dropped."""

    def sort_key(problem: Problem):
        parts = [part for part in re.split(r"[.\[\]]+", problem.path) if part]
        return [
            (int(part), "") if part.isdigit() else (FIELD_ORDER.get(part, len(FIELD_ORDER)), part)
            for part in parts
        ]

    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=sort_key)


def validate_template(template: PipelineTemplate) -> list[Problem]:
    """Every problem of meaning in a template (empty when it may be saved)."""
    problems: list[Problem] = []

    def add(path: str, message: str | Problem) -> None:
        problems.append(message if isinstance(message, Problem) else Problem(path, message))

    if not TEMPLATE_ID.match(template.template_id):
        add("id", _template_id_rule(template.template_id))
    if not template.name.strip():
        add("name", "is required")
    _check_length(add, "name", template.name)
    _check_length(add, "name_zh", template.name_zh)

    calendar_ids = _check_calendars(add, template.calendars)
    _check_silence(add, template, calendar_ids)

    if not template.actions:
        add("actions", "a template needs at least one action")
    elif len(template.actions) > MAX_ACTIONS:
        add("actions", f"{len(template.actions)} actions; at most {MAX_ACTIONS}")
    seen_keys: dict[str, int] = {}
    blocked_by: str | None = None
    for index, action in enumerate(template.actions):
        path = f"actions[{index}]"
        if blocked_by is not None:
            add(path, f"action {action.key!r} can never be reached: {blocked_by}")
        if action.key in seen_keys:
            add(
                f"{path}.key",
                f"duplicate action key {action.key!r} (also actions[{seen_keys[action.key]}])",
            )
        else:
            seen_keys[action.key] = index
        never_completes = _check_action(add, path, action, calendar_ids)
        if blocked_by is None and never_completes:
            blocked_by = f"actions[{index}] ({action.key}) can never be completed"
        if blocked_by is None and action.terminal and index + 1 < len(template.actions):
            blocked_by = f"actions[{index}] ({action.key}) is terminal: completing it wins the deal"
    return problems


def _template_id_rule(value: str) -> str:
    if not value:
        return "is required"
    return (
        f"{value!r} is not a valid template id (lowercase letters, digits, - and _, "
        "starting with a letter or digit, at most 100)"
    )


def _check_key(add, path: str, value: str) -> None:
    if not KEY.match(value):
        if not value:
            add(path, "is required")
        else:
            add(
                path,
                f"{value!r} is not a valid key (lowercase letters, digits and _, "
                "starting with a letter, at most 64)",
            )


def _check_length(add, path: str, value: str) -> None:
    if len(value) > MAX_TEXT:
        add(path, f"is {len(value)} characters long; at most {MAX_TEXT}")


def _check_role(add, path: str, role: str) -> None:
    if role not in ESCALATION_ROLES:
        add(path, f"unknown role {role!r} (known: {', '.join(ESCALATION_ROLES)})")


def _check_hours(
    add, path: str, hours: float, *, clock: str, optional: bool = True, minimum: float = 0
) -> None:
    if hours < 0 or (hours == 0 and not optional):
        add(path, f"duration must be greater than 0 hours, got {hours:g}")
    elif 0 < hours < minimum:
        add(path, f"{hours:g} h is too often; at least {minimum:g} h")
    elif clock == CLOCK_BUSINESS and hours > MAX_BUSINESS_HOURS:
        add(
            path,
            f"{hours:g} working hours is more than {MAX_BUSINESS_HOURS} (about a working "
            "year) on the business clock",
        )
    elif hours > MAX_WALL_HOURS:
        add(path, f"{hours:g} h is more than {MAX_WALL_HOURS} (a year) on the wall clock")


def _check_points(add, path: str, points: int) -> None:
    if abs(points) > MAX_POINTS:
        add(path, f"{points} points is beyond {MAX_POINTS} either way")


def _check_count(add, path: str, count: int, *, maximum: int = MAX_REQUIRED_COUNT) -> None:
    if count < 1:
        add(path, f"must be at least 1, got {count}")
    elif count > maximum:
        add(path, f"{count} is more than {maximum}")


def _check_listed(add, path: str, items: tuple, what: str) -> None:
    if len(items) > MAX_LISTED:
        add(path, f"{len(items)} {what}; at most {MAX_LISTED}")


def _check_calendars(add, calendars: tuple[CalendarSpec, ...]) -> set[str]:
    ids: dict[str, int] = {}
    for index, calendar in enumerate(calendars):
        path = f"calendars[{index}]"
        _check_key(add, f"{path}.id", calendar.calendar_id)
        if calendar.calendar_id in ids:
            add(
                f"{path}.id",
                f"duplicate calendar id {calendar.calendar_id!r} "
                f"(also calendars[{ids[calendar.calendar_id]}])",
            )
        ids.setdefault(calendar.calendar_id, index)
        _check_calendar(add, path, calendar)
    return set(ids)


def _check_calendar(add, path: str, calendar: CalendarSpec) -> None:
    if not is_iana_zone(calendar.time_zone):
        add(
            f"{path}.time_zone",
            f"unknown time zone {calendar.time_zone!r} (an IANA zone, e.g. Asia/Shanghai)",
        )

    if not calendar.working_hours:
        add(f"{path}.working_hours", "a calendar needs at least one working period")
    previous_end = ""
    for index, (start, end) in enumerate(calendar.working_hours):
        period_path = f"{path}.working_hours[{index}]"
        if not CLOCK_TIME.match(start) or not CLOCK_TIME.match(end):
            add(period_path, f"'{start}-{end}' is not HH:MM-HH:MM, e.g. 09:00-12:00")
            continue
        if start >= end:
            add(period_path, f"'{start}-{end}' ends before it starts")
        elif previous_end and start < previous_end:
            add(period_path, f"'{start}-{end}' starts before the previous period ends")
        previous_end = max(previous_end, end)

    if any(day not in range(7) for day in calendar.weekend):
        add(f"{path}.weekend", "weekdays are numbered 0 (Monday) to 6 (Sunday)")
    elif len(set(calendar.weekend)) == 7:
        add(f"{path}.weekend", "every day is a weekend day: business hours would never run")
    if calendar.holiday_country and not COUNTRY.match(calendar.holiday_country):
        add(
            f"{path}.holiday_country",
            f"{calendar.holiday_country!r} is not a two-letter country code (e.g. CN), "
            "or leave it empty for none",
        )
    elif calendar.holiday_country:
        _check_holiday_country(add, f"{path}.holiday_country", calendar.holiday_country)

    days_off = _check_dates(add, f"{path}.extra_days_off", calendar.extra_days_off)
    workdays = _check_dates(add, f"{path}.extra_workdays", calendar.extra_workdays)
    for both in sorted(days_off & workdays):
        add(f"{path}.extra_workdays", f"{both} is also listed in extra_days_off")


def _check_holiday_country(add, path: str, country: str) -> None:
    """Asks the holiday package (as saving will) whether it knows the country's holidays."""
    probe = CalendarSpec(holiday_country=country)
    try:
        resolve_calendar(probe, (dt.date.today().year,))
    except ValueError as error:
        add(path, f"no public holidays are known for {country!r}: {error}")


def _check_dates(add, path: str, dates: tuple[str, ...]) -> set[str]:
    valid = set()
    for index, value in enumerate(dates):
        try:
            parsed = dt.date.fromisoformat(value)
        except ValueError:
            add(f"{path}[{index}]", f"{value!r} is not a date (YYYY-MM-DD)")
            continue
        if parsed.isoformat() != value:
            add(f"{path}[{index}]", f"{value!r} is not a date (YYYY-MM-DD)")
            continue
        valid.add(value)
    return valid


def _check_clock(add, path: str, clock: str, calendar: str, calendar_ids: set[str]) -> None:
    if clock not in CLOCKS:
        add(f"{path}.clock", f"unknown clock {clock!r} (known: {', '.join(CLOCKS)})")
    if calendar not in calendar_ids:
        known = ", ".join(sorted(calendar_ids)) or "none"
        add(f"{path}.calendar", f"unknown calendar {calendar!r} (known: {known})")


def _check_silence(add, template: PipelineTemplate, calendar_ids: set[str]) -> None:
    path = "silence_reminder"
    _check_hours(
        add, f"{path}.after_hours", template.silence_reminder_hours, clock=template.silence_clock
    )
    if template.silence_reminder_hours <= 0:
        return
    if not template.silence_reminder_to:
        add(f"{path}.to", "name at least one role to remind")
    for index, role in enumerate(template.silence_reminder_to):
        _check_role(add, f"{path}.to[{index}]", role)
    if template.silence_clock not in CLOCKS:
        add(
            f"{path}.clock",
            f"unknown clock {template.silence_clock!r} (known: {', '.join(CLOCKS)})",
        )
    elif template.silence_clock == CLOCK_BUSINESS and DEFAULT_CALENDAR_ID not in calendar_ids:
        add(
            f"{path}.clock",
            f"the business clock of the silence reminder needs a calendar {DEFAULT_CALENDAR_ID!r}",
        )


def _check_action(add, path: str, action: ActionTemplate, calendar_ids: set[str]) -> bool:
    """Checks one action; True when it can never be completed."""
    never_completes = False
    _check_key(add, f"{path}.key", action.key)
    if not action.name.strip():
        add(f"{path}.name", "is required")
    if not action.name_zh.strip():
        add(f"{path}.name_zh", "is required (the Chinese name)")
    for name in ("name", "name_zh", "description"):
        _check_length(add, f"{path}.{name}", getattr(action, name))

    kinds: set[str] = set()
    _check_listed(add, f"{path}.evidence", action.evidence, "evidence requirements")
    for index, requirement in enumerate(action.evidence):
        item = f"{path}.evidence[{index}]"
        _check_key(add, f"{item}.kind", requirement.kind)
        if requirement.kind in kinds:
            add(f"{item}.kind", f"evidence kind {requirement.kind!r} is required twice")
        kinds.add(requirement.kind)
        _check_count(add, f"{item}.count", requirement.count)
        _check_length(add, f"{item}.description", requirement.description)
        if requirement.content_types and not _check_content_types(
            add, f"{item}.content_types", requirement.content_types
        ):
            never_completes = True
    files = sum(requirement.count for requirement in action.evidence)
    if files > MAX_EVIDENCE_PER_COMPLETION:
        never_completes = True
        add(
            f"{path}.evidence",
            f"needs {files} files in all, but one completion presents at most "
            f"{MAX_EVIDENCE_PER_COMPLETION}: the action could never be completed",
        )

    answer_keys: set[str] = set()
    _check_listed(add, f"{path}.answers", action.answers, "answer requirements")
    for index, requirement in enumerate(action.answers):
        item = f"{path}.answers[{index}]"
        _check_key(add, f"{item}.key", requirement.key)
        if requirement.key in answer_keys:
            add(f"{item}.key", f"answer {requirement.key!r} is required twice")
        answer_keys.add(requirement.key)
        _check_count(add, f"{item}.count", requirement.count)
        _check_length(add, f"{item}.description", requirement.description)
        choices = requirement.choices
        if len(choices) > MAX_LISTED * 2:
            add(f"{item}.choices", f"{len(choices)} choices; at most {MAX_LISTED * 2}")
        if len(set(choices)) != len(choices):
            add(f"{item}.choices", "a choice is listed twice")
        if any(not choice.strip() for choice in choices):
            add(f"{item}.choices", "a choice is empty")
        for choice_index, choice in enumerate(choices):
            _check_length(add, f"{item}.choices[{choice_index}]", choice)
        if choices and requirement.count > len(set(choices)):
            never_completes = True
            add(
                f"{item}.count",
                f"needs {requirement.count} distinct answers but only {len(set(choices))} "
                "choices exist: the action could never be completed",
            )

    time = f"{path}.time"
    clock = action.clock
    _check_clock(add, time, clock, action.calendar, calendar_ids)
    _check_hours(add, f"{time}.warning_hours", action.warning_hours, clock=clock)
    _check_hours(add, f"{time}.due_hours", action.due_hours, clock=clock)
    if action.warning_hours > 0 and action.due_hours <= 0:
        problems_of_due = f"{time}.due_hours"
        add(
            f"{time}.warning_hours",
            Problem(
                f"{time}.warning_hours",
                "a warning needs due_hours (it warns of the deadline)",
                follows_from=problems_of_due,
            ),
        )
    elif 0 < action.due_hours <= action.warning_hours:
        add(
            f"{time}.warning_hours",
            f"the warning ({action.warning_hours:g} h) would never come before the deadline "
            f"({action.due_hours:g} h)",
        )
    previous = 0.0
    if len(action.escalations) > MAX_LEVELS:
        add(f"{time}.escalations", f"{len(action.escalations)} levels; at most {MAX_LEVELS}")
    for index, level in enumerate(action.escalations):
        item = f"{time}.escalations[{index}]"
        _check_hours(add, f"{item}.after_hours", level.after_hours, clock=clock, optional=False)
        if index and 0 < level.after_hours <= previous:
            add(
                f"{item}.after_hours",
                f"{level.after_hours:g} h is not later than the level before ({previous:g} h)",
            )
        previous = max(previous, level.after_hours)
        _check_role(add, f"{item}.to", level.to_role)
    reminder_keys: set[str] = set()
    if len(action.reminders) > MAX_LEVELS:
        add(f"{time}.reminders", f"{len(action.reminders)} reminders; at most {MAX_LEVELS}")
    for index, rule in enumerate(action.reminders):
        item = f"{time}.reminders[{index}]"
        _check_key(add, f"{item}.key", rule.key)
        if rule.key in reminder_keys:
            add(f"{item}.key", f"reminder {rule.key!r} is listed twice")
        reminder_keys.add(rule.key)
        _check_hours(
            add,
            f"{item}.every_hours",
            rule.every_hours,
            clock=clock,
            optional=False,
            minimum=MIN_REMINDER_HOURS,
        )
        if not rule.to_roles:
            add(f"{item}.to", "name at least one role to remind")
        for role_index, role in enumerate(rule.to_roles):
            _check_role(add, f"{item}.to[{role_index}]", role)
        if rule.max_times < 0:
            add(f"{item}.max_times", f"must be at least 1, got {rule.max_times}")

    if action.points_on_completion < 0:
        add(f"{path}.points.completion", "completion points cannot be negative")
    _check_points(add, f"{path}.points.completion", action.points_on_completion)
    if action.points_when_overdue > 0:
        add(f"{path}.points.overdue", "an overdue penalty is zero or negative")
    _check_points(add, f"{path}.points.overdue", action.points_when_overdue)
    _check_points_extras(add, f"{path}.points", action)

    departments: set[str] = set()
    for index, rule in enumerate(action.tickets):
        item = f"{path}.tickets[{index}]"
        if rule.department not in DEPARTMENTS:
            add(
                f"{item}.department",
                f"unknown department {rule.department!r} (known: {', '.join(DEPARTMENTS)})",
            )
        elif rule.department in departments:
            add(f"{item}.department", f"a second {rule.department} ticket for the same action")
        departments.add(rule.department)
        _check_key(add, f"{item}.kind", rule.kind)
        if rule.response_target_minutes < 1:
            add(
                f"{item}.response_target_minutes",
                f"duration must be greater than 0 minutes, got {rule.response_target_minutes}",
            )
        elif rule.response_target_minutes > MAX_RESPONSE_TARGET_MINUTES:
            add(
                f"{item}.response_target_minutes",
                f"{rule.response_target_minutes} minutes is more than a year "
                f"({MAX_RESPONSE_TARGET_MINUTES})",
            )
    return never_completes


MAX_WEIGHT = 100


def _check_points_extras(add, path: str, action: ActionTemplate) -> None:
    """Weight, quality bonuses and milestones of one action."""
    if not 0 < action.points_weight <= MAX_WEIGHT or action.points_weight != action.points_weight:
        add(
            f"{path}.weight",
            f"must be greater than 0 and at most {MAX_WEIGHT}, got {action.points_weight:g}",
        )
    bonus_keys: set[str] = set()
    for index, bonus in enumerate(action.quality_bonuses):
        item = f"{path}.quality_bonus[{index}]"
        _check_key(add, f"{item}.key", bonus.key)
        if bonus.key in bonus_keys:
            add(f"{item}.key", f"quality bonus {bonus.key!r} is listed twice")
        bonus_keys.add(bonus.key)
        if bonus.when not in QUALITY_CONDITIONS:
            add(
                f"{item}.when",
                f"unknown condition {bonus.when!r} (known: {', '.join(QUALITY_CONDITIONS)})",
            )
        if bonus.points <= 0:
            add(f"{item}.points", f"a bonus must be greater than 0, got {bonus.points}")
        _check_points(add, f"{item}.points", bonus.points)
        if bonus.at_least < 1:
            add(f"{item}.at_least", f"must be at least 1, got {bonus.at_least}")
    windows: set[tuple[int, str]] = set()
    for index, milestone in enumerate(action.milestones):
        item = f"{path}.milestones[{index}]"
        if milestone.per not in MILESTONE_WINDOWS:
            add(
                f"{item}.per",
                f"unknown window {milestone.per!r} (known: {', '.join(MILESTONE_WINDOWS)})",
            )
        _check_count(add, f"{item}.count", milestone.count, maximum=MAX_POINTS)
        if milestone.points <= 0:
            add(
                f"{item}.points",
                f"a milestone bonus must be greater than 0, got {milestone.points}",
            )
        _check_points(add, f"{item}.points", milestone.points)
        if (milestone.count, milestone.per) in windows:
            add(item, f"the milestone {milestone.count} per {milestone.per} is listed twice")
        windows.add((milestone.count, milestone.per))


def _check_content_types(add, path: str, content_types: tuple[str, ...]) -> bool:
    """Reports content types no upload is recognised as; True when one recognised type fits."""
    accepted = False
    for index, content_type in enumerate(content_types):
        if "/" in content_type and any(
            known.startswith(content_type) for known in RECOGNISED_CONTENT_TYPES
        ):
            accepted = True
            continue
        add(
            f"{path}[{index}]",
            f"{content_type!r} is never recognised in an upload (use image/ or one of "
            f"{', '.join(RECOGNISED_CONTENT_TYPES)})",
        )
    if not accepted:
        add(path, "no upload could ever match: the action could never be completed")
    return accepted
