"""Template files: a PipelineTemplate as YAML a sales-ops person can read and edit.

Writing gives only what a person edits (resolved holiday dates and the version number are
the store's business). Reading builds a template and collects every problem of shape on
the way (bad YAML, wrong types, unknown or missing fields, durations that are not
positive) instead of stopping at the first; validation.py then checks the meaning.
Anything a file leaves out takes the default named in the header comment.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import yaml

from services.templates.problems import Problem
from workflows.pipeline.template import (
    CLOCK_WALL,
    DEFAULT_CALENDAR_ID,
    ROLE_REP,
    ActionTemplate,
    AnswerRequirement,
    CalendarSpec,
    EscalationLevel,
    EvidenceRequirement,
    Milestone,
    PipelineTemplate,
    QualityBonus,
    ReminderRule,
    TicketRule,
)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DEFAULT_ACTION = ActionTemplate(key="", name="", name_zh="")
DEFAULT_SILENCE = PipelineTemplate(template_id="", version=0, name="", actions=())

HEADER = """\
# salesflow action template — edit, then check and load it with
#   salesflow template validate FILE      (works offline; lists every problem)
#   salesflow template import FILE        (saves a new version; running pipelines keep theirs)
#
# id, name, name_zh        the template; `id` is what StartPipeline's template_id names
# calendars                when business hours run: time_zone, working_hours ("HH:MM-HH:MM"),
#                          weekend (day names), holiday_country (ISO code, "" for none),
#                          extra_days_off / extra_workdays (YYYY-MM-DD). Public holidays and
#                          make-up working days are looked up when the version is saved.
#                          Left out: one calendar `default` (Asia/Shanghai, 09:00-12:00 and
#                          13:00-18:00, Saturday and Sunday off, holidays of CN).
# silence_reminder         after_hours without a customer touch, to (roles), clock;
#                          `false` switches it off; left out: 72 h to rep and regional_manager.
# actions                  the steps, in order. Per action:
#   key, name, name_zh, description
#   evidence               files that must be uploaded: kind, count, description,
#                          captured_during_action (photo taken while the action was open),
#                          content_types (e.g. image/, application/pdf; left out: any file)
#   answers                answers that must be given: key, count, description,
#                          choices (when set, every answer must be one of them)
#   time                   clock (wall: every hour; business: working hours of `calendar`),
#                          warning_hours, due_hours, escalations [{after_hours, to}],
#                          reminders [{key, every_hours, to, max_times}]; left out: no clocks
#   points                 completion (given once on completion), overdue (zero or negative,
#                          once when due_hours pass); left out: completion 5, overdue -2.
#                          Optional: weight (multiplies completion and quality bonuses, e.g.
#                          1.5), quality_bonus [{key, points, when, at_least}] with `when`
#                          on_time, complete_answers (at_least answers beyond those required)
#                          or evidence_at_least; milestones [{count, per, points}]: the
#                          count-th completion in a week, month or quarter earns points once
#   tickets                opened when the action starts, must be resolved before it
#                          completes: department (legal, logistics, finance, hr), kind,
#                          response_target_minutes
#   terminal               true on the step whose completion wins the deal; nothing may follow
# Roles: rep, regional_manager, sales_director. Hours may be fractions (1.5). Every duration
# written must be greater than 0; leave a clock out instead of writing 0.
"""


# ---- writing ----------------------------------------------------------------------------


class _FlowList(list):
    """A short list written on one line: [rep, regional_manager]."""


class _FlowMap(dict):
    """A small mapping written on one line: {completion: 5, overdue: -2}."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        # Items of a block list are indented under their key, as people write them.
        return super().increase_indent(flow, False)


_Dumper.add_representer(
    _FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)
_Dumper.add_representer(
    _FlowMap, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value


def _calendar_document(calendar: CalendarSpec) -> dict[str, Any]:
    return {
        "id": calendar.calendar_id,
        "time_zone": calendar.time_zone,
        "working_hours": _FlowList(f"{start}-{end}" for start, end in calendar.working_hours),
        "weekend": _FlowList(WEEKDAYS[day] for day in calendar.weekend),
        "holiday_country": calendar.holiday_country,
        "extra_days_off": _FlowList(calendar.extra_days_off),
        "extra_workdays": _FlowList(calendar.extra_workdays),
    }


def _time_document(action: ActionTemplate) -> dict[str, Any]:
    time: dict[str, Any] = {}
    if action.clock != CLOCK_WALL or action.calendar != DEFAULT_CALENDAR_ID:
        time["clock"] = action.clock
        time["calendar"] = action.calendar
    if action.warning_hours:
        time["warning_hours"] = _number(action.warning_hours)
    if action.due_hours:
        time["due_hours"] = _number(action.due_hours)
    if action.escalations:
        time["escalations"] = [
            _FlowMap(after_hours=_number(level.after_hours), to=level.to_role)
            for level in action.escalations
        ]
    if action.reminders:
        time["reminders"] = [
            _FlowMap(
                key=rule.key,
                every_hours=_number(rule.every_hours),
                to=_FlowList(rule.to_roles),
                **({"max_times": rule.max_times} if rule.max_times else {}),
            )
            for rule in action.reminders
        ]
    return time


def _points_document(action: ActionTemplate) -> dict[str, Any]:
    basic = {"completion": action.points_on_completion, "overdue": action.points_when_overdue}
    if action.points_weight == 1 and not action.quality_bonuses and not action.milestones:
        return _FlowMap(basic)
    document: dict[str, Any] = dict(basic)
    if action.points_weight != 1:
        document["weight"] = _number(action.points_weight)
    if action.quality_bonuses:
        document["quality_bonus"] = [
            _FlowMap(
                key=bonus.key,
                points=bonus.points,
                when=bonus.when,
                **({"at_least": bonus.at_least} if bonus.when != "on_time" else {}),
            )
            for bonus in action.quality_bonuses
        ]
    if action.milestones:
        document["milestones"] = [
            _FlowMap(count=milestone.count, per=milestone.per, points=milestone.points)
            for milestone in action.milestones
        ]
    return document


def _action_document(action: ActionTemplate) -> dict[str, Any]:
    document: dict[str, Any] = {"key": action.key, "name": action.name, "name_zh": action.name_zh}
    if action.description:
        document["description"] = action.description
    if action.evidence:
        document["evidence"] = [
            {
                "kind": requirement.kind,
                "count": requirement.count,
                **({"description": requirement.description} if requirement.description else {}),
                **({"captured_during_action": True} if requirement.captured_in_window else {}),
                **(
                    {"content_types": _FlowList(requirement.content_types)}
                    if requirement.content_types
                    else {}
                ),
            }
            for requirement in action.evidence
        ]
    if action.answers:
        document["answers"] = [
            {
                "key": requirement.key,
                "count": requirement.count,
                **({"description": requirement.description} if requirement.description else {}),
                **({"choices": list(requirement.choices)} if requirement.choices else {}),
            }
            for requirement in action.answers
        ]
    time = _time_document(action)
    if time:
        document["time"] = time
    document["points"] = _points_document(action)
    if action.tickets:
        document["tickets"] = [
            _FlowMap(
                department=rule.department,
                kind=rule.kind,
                response_target_minutes=rule.response_target_minutes,
            )
            for rule in action.tickets
        ]
    if action.terminal:
        document["terminal"] = True
    return document


def template_document(template: PipelineTemplate) -> dict[str, Any]:
    """The editable content of a template as plain data, in the file's field order."""
    document: dict[str, Any] = {"id": template.template_id, "name": template.name}
    if template.name_zh:
        document["name_zh"] = template.name_zh
    document["calendars"] = [_calendar_document(calendar) for calendar in template.calendars]
    if template.silence_reminder_hours > 0:
        document["silence_reminder"] = {
            "after_hours": _number(template.silence_reminder_hours),
            "to": _FlowList(template.silence_reminder_to),
            "clock": template.silence_clock,
        }
    else:
        document["silence_reminder"] = False
    document["actions"] = [_action_document(action) for action in template.actions]
    return document


def dump_template(template: PipelineTemplate, *, note: str = "") -> str:
    """The template file: the explaining header, an optional note line, then the YAML."""
    body = yaml.dump(
        template_document(template),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
    )
    note_line = f"# {note}\n" if note else ""
    return f"{HEADER}{note_line}\n{body}"


# ---- reading ----------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that notes every key written twice in one mapping (the second would
    silently win) and reads on, so the file's other problems are listed too."""

    def __init__(self, stream) -> None:
        super().__init__(stream)
        self.duplicates: list[Problem] = []

    def construct_mapping(self, node, deep=False):
        seen: set[Any] = set()
        for key_node, _value in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, str) and key in seen:
                mark = key_node.start_mark
                self.duplicates.append(
                    Problem(
                        "",
                        f"line {mark.line + 1}, column {mark.column + 1}: field {key!r} is "
                        "written twice in one mapping; the second would silently win",
                    )
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def _load(text: str) -> tuple[Any, list[Problem]]:
    """The parsed document and the keys written twice in it."""
    loader = _Loader(text)
    try:
        return loader.get_single_data(), loader.duplicates
    finally:
        loader.dispose()


# Dates stay text (validation checks them): YAML's own date reading fails on 2026-02-30.
_Loader.add_constructor(
    "tag:yaml.org,2002:timestamp", lambda loader, node: loader.construct_scalar(node)
)


def _yaml_problem(error: yaml.YAMLError) -> Problem:
    mark = getattr(error, "problem_mark", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    reason = getattr(error, "problem", None) or str(error)
    return Problem("", f"not valid YAML: {where}{reason}")


def _describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a yes/no value; quote it if you meant text)"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"


class _Reader:
    """Walks the parsed document; every problem is kept, a bad value becomes its default."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def problem(self, path: str, message: str) -> None:
        self.problems.append(Problem(path, message))

    def fields(
        self, value: Any, path: str, known: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(path, f"must be a mapping of fields, got {_describe(value)}")
            return None
        for key in value:
            if key not in known:
                self.problem(_join(path, str(key)), f"unknown field (known: {', '.join(known)})")
        for key in required:
            if key not in value:
                self.problem(_join(path, key), "is required")
        return value

    def items(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            self.problem(path, f"must be a list, got {_describe(value)}")
            return []
        return value

    def text(self, data: dict, key: str, path: str, default: str = "") -> str:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            self.problem(_join(path, key), f"must be text, got {_describe(value)}")
            return default
        return value.strip()

    def texts(self, data: dict, key: str, path: str, default: tuple[str, ...]) -> tuple[str, ...]:
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, str):
            value = [value]
        found: list[str] = []
        for index, item in enumerate(self.items(value, _join(path, key))):
            if isinstance(item, dt.date):
                item = item.isoformat()
            if not isinstance(item, str) or not item.strip():
                self.problem(f"{_join(path, key)}[{index}]", f"must be text, got {_describe(item)}")
                continue
            found.append(item.strip())
        return tuple(found)

    def integer(self, data: dict, key: str, path: str, default: int, *, minimum: int) -> int:
        if key not in data:
            return default
        value = data[key]
        if value is None:
            self.problem(_join(path, key), "has no value")
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(_join(path, key), f"must be a whole number, got {_describe(value)}")
            return default
        if value < minimum:
            self.problem(_join(path, key), f"must be at least {minimum}, got {value}")
            return default
        return value

    def hours(self, data: dict, key: str, path: str, default: float = 0) -> float:
        """A duration in hours that, when written, must be greater than 0."""
        if key not in data:
            return default
        value = data[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            self.problem(_join(path, key), f"must be a number of hours, got {_describe(value)}")
            return default
        if not value > 0 or value != value or value == float("inf"):
            self.problem(_join(path, key), f"duration must be greater than 0 hours, got {value}")
            return default
        return float(value)

    def flag(self, data: dict, key: str, path: str, default: bool = False) -> bool:
        if key not in data:
            return default
        if not isinstance(data[key], bool):
            self.problem(_join(path, key), f"must be true or false, got {_describe(data[key])}")
            return default
        return data[key]

    def listed(
        self, data: dict, key: str, path: str, read: Callable[[Any, str], Any]
    ) -> tuple[Any, ...]:
        """Every item read; a broken one stays as a placeholder, so positions (and the
        paths validation reports) match the file."""
        items = self.items(data.get(key), _join(path, key))
        return tuple(read(item, f"{_join(path, key)}[{index}]") for index, item in enumerate(items))


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


CALENDAR_FIELDS = (
    "id",
    "time_zone",
    "working_hours",
    "weekend",
    "holiday_country",
    "extra_days_off",
    "extra_workdays",
)
ACTION_FIELDS = (
    "key",
    "name",
    "name_zh",
    "description",
    "evidence",
    "answers",
    "time",
    "points",
    "tickets",
    "terminal",
)
TIME_FIELDS = ("clock", "calendar", "warning_hours", "due_hours", "escalations", "reminders")
TEMPLATE_FIELDS = ("id", "name", "name_zh", "calendars", "silence_reminder", "actions")
# Every field name in the order files are written, for listing problems in file order.
FIELD_ORDER = {
    name: index
    for index, name in enumerate(
        dict.fromkeys(
            (
                *TEMPLATE_FIELDS,
                *CALENDAR_FIELDS,
                "after_hours",
                "to",
                *ACTION_FIELDS,
                "kind",
                "count",
                "captured_during_action",
                "content_types",
                "choices",
                *TIME_FIELDS,
                "every_hours",
                "max_times",
                "completion",
                "overdue",
                "weight",
                "quality_bonus",
                "points",
                "when",
                "at_least",
                "milestones",
                "per",
                "department",
                "response_target_minutes",
            )
        )
    )
}


def _read_calendar(reader: _Reader, value: Any, path: str) -> CalendarSpec:
    data = reader.fields(value, path, CALENDAR_FIELDS, required=("id",))
    data = {} if data is None else data
    base = CalendarSpec()
    periods = []
    for index, period in enumerate(reader.texts(data, "working_hours", path, ())):
        start, dash, end = period.partition("-")
        if not dash:
            reader.problem(
                f"{path}.working_hours[{index}]", f"{period!r} is not HH:MM-HH:MM, e.g. 09:00-12:00"
            )
            continue
        periods.append((start.strip(), end.strip()))
    weekend = []
    for index, name in enumerate(reader.texts(data, "weekend", path, ())):
        day = _weekday(name)
        if day is None:
            reader.problem(
                f"{path}.weekend[{index}]", f"unknown day {name!r} (e.g. saturday or sat)"
            )
        else:
            weekend.append(day)
    return CalendarSpec(
        calendar_id=reader.text(data, "id", path),
        time_zone=reader.text(data, "time_zone", path, base.time_zone),
        working_hours=tuple(periods) if "working_hours" in data else base.working_hours,
        weekend=tuple(weekend) if "weekend" in data else base.weekend,
        holiday_country=reader.text(data, "holiday_country", path, base.holiday_country),
        extra_days_off=reader.texts(data, "extra_days_off", path, ()),
        extra_workdays=reader.texts(data, "extra_workdays", path, ()),
    )


def _weekday(name: str) -> int | None:
    lowered = name.strip().lower()
    for number, day in enumerate(WEEKDAYS):
        if lowered in (day, day[:3]):
            return number
    return None


def _read_evidence(reader: _Reader, value: Any, path: str) -> EvidenceRequirement:
    known = ("kind", "count", "description", "captured_during_action", "content_types")
    data = reader.fields(value, path, known, required=("kind",))
    data = {} if data is None else data
    return EvidenceRequirement(
        kind=reader.text(data, "kind", path),
        count=reader.integer(data, "count", path, 1, minimum=1),
        description=reader.text(data, "description", path),
        captured_in_window=reader.flag(data, "captured_during_action", path),
        content_types=reader.texts(data, "content_types", path, ()),
    )


def _read_answer(reader: _Reader, value: Any, path: str) -> AnswerRequirement:
    data = reader.fields(value, path, ("key", "count", "description", "choices"), ("key",))
    data = {} if data is None else data
    return AnswerRequirement(
        key=reader.text(data, "key", path),
        count=reader.integer(data, "count", path, 1, minimum=1),
        description=reader.text(data, "description", path),
        choices=reader.texts(data, "choices", path, ()),
    )


def _read_escalation(reader: _Reader, value: Any, path: str) -> EscalationLevel:
    data = reader.fields(value, path, ("after_hours", "to"), required=("after_hours", "to"))
    data = {} if data is None else data
    return EscalationLevel(
        after_hours=reader.hours(data, "after_hours", path),
        to_role=reader.text(data, "to", path, ROLE_REP),
    )


def _read_reminder(reader: _Reader, value: Any, path: str) -> ReminderRule:
    known = ("key", "every_hours", "to", "max_times")
    data = reader.fields(value, path, known, required=("key", "every_hours"))
    data = {} if data is None else data
    return ReminderRule(
        key=reader.text(data, "key", path),
        every_hours=reader.hours(data, "every_hours", path),
        to_roles=reader.texts(data, "to", path, (ROLE_REP,)),
        max_times=reader.integer(data, "max_times", path, 0, minimum=1),
    )


def _read_ticket(reader: _Reader, value: Any, path: str) -> TicketRule:
    known = ("department", "kind", "response_target_minutes")
    data = reader.fields(value, path, known, required=("department", "kind"))
    data = {} if data is None else data
    return TicketRule(
        department=reader.text(data, "department", path),
        kind=reader.text(data, "kind", path),
        response_target_minutes=reader.integer(
            data, "response_target_minutes", path, 120, minimum=1
        ),
    )


POINTS_FIELDS = ("completion", "overdue", "weight", "quality_bonus", "milestones")


def _read_points(reader: _Reader, value: Any, path: str) -> dict[str, Any]:
    """The action's points rules as ActionTemplate fields; defaults where left out."""
    found: dict[str, Any] = {
        "points_on_completion": DEFAULT_ACTION.points_on_completion,
        "points_when_overdue": DEFAULT_ACTION.points_when_overdue,
    }
    if value is None:
        reader.problem(path, "a points rule needs a value, e.g. {completion: 5, overdue: -2}")
        return found
    data = reader.fields(value, path, POINTS_FIELDS)
    if data is None:
        return found
    for key, field_name in (
        ("completion", "points_on_completion"),
        ("overdue", "points_when_overdue"),
    ):
        if key in data and data[key] is None:
            reader.problem(f"{path}.{key}", "a points rule needs a value (a whole number)")
        else:
            found[field_name] = reader.integer(
                data, key, path, found[field_name], minimum=-1_000_000
            )
    if "weight" in data:
        weight = data["weight"]
        if isinstance(weight, bool) or not isinstance(weight, (int, float)):
            reader.problem(f"{path}.weight", f"must be a number, e.g. 1.5, got {_describe(weight)}")
        else:
            found["points_weight"] = float(weight)
    bonuses = data.get("quality_bonus")
    if isinstance(bonuses, dict):
        # One bonus may be written as a single mapping.
        bonuses = [bonuses]
    found["quality_bonuses"] = reader.listed(
        {"quality_bonus": bonuses}, "quality_bonus", path, lambda v, p: _read_bonus(reader, v, p)
    )
    found["milestones"] = reader.listed(
        data, "milestones", path, lambda v, p: _read_milestone(reader, v, p)
    )
    return found


def _read_bonus(reader: _Reader, value: Any, path: str) -> QualityBonus:
    data = reader.fields(value, path, ("key", "points", "when", "at_least"), ("points", "when"))
    data = {} if data is None else data
    when = reader.text(data, "when", path)
    return QualityBonus(
        key=reader.text(data, "key", path, when),
        points=reader.integer(data, "points", path, 0, minimum=-1_000_000),
        when=when,
        at_least=reader.integer(data, "at_least", path, 1, minimum=1),
    )


def _read_milestone(reader: _Reader, value: Any, path: str) -> Milestone:
    data = reader.fields(value, path, ("count", "per", "points"), ("count", "per", "points"))
    data = {} if data is None else data
    return Milestone(
        count=reader.integer(data, "count", path, 1, minimum=1),
        per=reader.text(data, "per", path),
        points=reader.integer(data, "points", path, 0, minimum=-1_000_000),
    )


def _read_action(reader: _Reader, value: Any, path: str) -> ActionTemplate:
    data = reader.fields(value, path, ACTION_FIELDS, required=("key", "name", "name_zh"))
    data = {} if data is None else data
    time: dict[str, Any] = {}
    if "time" in data:
        time = reader.fields(data["time"], f"{path}.time", TIME_FIELDS) or {}
    time_path = f"{path}.time"
    points: dict[str, Any] = {}
    if "points" in data:
        points = _read_points(reader, data["points"], f"{path}.points")
    return ActionTemplate(
        key=reader.text(data, "key", path),
        name=reader.text(data, "name", path),
        name_zh=reader.text(data, "name_zh", path),
        description=reader.text(data, "description", path),
        evidence=reader.listed(data, "evidence", path, lambda v, p: _read_evidence(reader, v, p)),
        answers=reader.listed(data, "answers", path, lambda v, p: _read_answer(reader, v, p)),
        clock=reader.text(time, "clock", time_path, DEFAULT_ACTION.clock),
        calendar=reader.text(time, "calendar", time_path, DEFAULT_ACTION.calendar),
        warning_hours=reader.hours(time, "warning_hours", time_path),
        due_hours=reader.hours(time, "due_hours", time_path),
        escalations=reader.listed(
            time, "escalations", time_path, lambda v, p: _read_escalation(reader, v, p)
        ),
        reminders=reader.listed(
            time, "reminders", time_path, lambda v, p: _read_reminder(reader, v, p)
        ),
        tickets=reader.listed(data, "tickets", path, lambda v, p: _read_ticket(reader, v, p)),
        terminal=reader.flag(data, "terminal", path),
        **points,
    )


def _read_silence(reader: _Reader, data: dict) -> tuple[float, tuple[str, ...], str]:
    default = (
        DEFAULT_SILENCE.silence_reminder_hours,
        DEFAULT_SILENCE.silence_reminder_to,
        DEFAULT_SILENCE.silence_clock,
    )
    if "silence_reminder" not in data:
        return default
    value = data["silence_reminder"]
    if value is False:
        return 0, default[1], default[2]
    path = "silence_reminder"
    silence = reader.fields(value, path, ("after_hours", "to", "clock"), ("after_hours",))
    if silence is None:
        return default
    return (
        reader.hours(silence, "after_hours", path, default[0]),
        reader.texts(silence, "to", path, default[1]),
        reader.text(silence, "clock", path, default[2]),
    )


def read_template(text: str) -> tuple[PipelineTemplate | None, list[Problem]]:
    """Builds a template from a file's text; the problems of shape found on the way.

    The template is None only when the text is not a YAML mapping at all. Its version is 0:
    the store numbers versions when it saves them.
    """
    try:
        document, duplicates = _load(text)
    except yaml.YAMLError as error:
        return None, [_yaml_problem(error)]
    except (ValueError, TypeError, RecursionError) as error:
        return None, [Problem("", f"not a readable template file: {error}")]
    reader = _Reader()
    reader.problems.extend(duplicates)
    data = reader.fields(document, "", TEMPLATE_FIELDS, required=("id", "name", "actions"))
    if data is None:
        return None, reader.problems

    calendars = reader.listed(data, "calendars", "", lambda v, p: _read_calendar(reader, v, p))
    silence_hours, silence_to, silence_clock = _read_silence(reader, data)
    actions = reader.listed(data, "actions", "", lambda v, p: _read_action(reader, v, p))
    template = PipelineTemplate(
        template_id=reader.text(data, "id", ""),
        version=0,
        name=reader.text(data, "name", ""),
        name_zh=reader.text(data, "name_zh", ""),
        actions=actions,
        calendars=calendars if "calendars" in data else DEFAULT_SILENCE.calendars,
        silence_reminder_hours=silence_hours,
        silence_reminder_to=silence_to,
        silence_clock=silence_clock,
    )
    return template, reader.problems
