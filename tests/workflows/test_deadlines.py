"""Where an action's deadlines fall: clocks, held pause time, reminders, silence."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from salesflow.calendars import resolve_calendar
from workflows.pipeline import deadlines
from workflows.pipeline.deadlines import Clock, Pause
from workflows.pipeline.template import (
    CLOCK_BUSINESS,
    CLOCK_WALL,
    ROLE_REGIONAL_MANAGER,
    ActionTemplate,
    CalendarSpec,
    EscalationLevel,
    PipelineTemplate,
    ReminderRule,
)

SHANGHAI = ZoneInfo("Asia/Shanghai")
HOUR = timedelta(hours=1)
CN_2026 = resolve_calendar(CalendarSpec(), [2026])
WALL = Clock(CLOCK_WALL, CN_2026)
BUSINESS = Clock(CLOCK_BUSINESS, CN_2026)


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def action(**changes) -> ActionTemplate:
    return ActionTemplate(key="negotiation", name="Negotiation", name_zh="商务谈判", **changes)


def test_a_wall_clock_pause_holds_its_full_length():
    pause = Pause(shanghai(2026, 11, 13, 17, 0), shanghai(2026, 11, 16, 10, 0))
    assert deadlines.held(WALL, [pause], since=shanghai(2026, 11, 12, 9, 0)) == 65 * HOUR


def test_a_business_hours_pause_holds_only_the_working_hours_it_covered():
    """Thursday 09:00, due after 24 business hours: Monday 18:00. Paused Friday 17:00 to
    Monday 10:00 (65 h on the wall): 1 h Friday and 1 h Monday were working time, so the
    deadline moves 2 working hours out, to Tuesday 11:00."""
    started = shanghai(2026, 11, 12, 9, 0)
    negotiation = action(clock=CLOCK_BUSINESS, due_hours=24)
    (due,) = deadlines.action_deadlines(
        negotiation, BUSINESS, started_at=started, held_time=timedelta(0)
    )
    assert due.at == shanghai(2026, 11, 16, 18, 0)

    pause = Pause(shanghai(2026, 11, 13, 17, 0), shanghai(2026, 11, 16, 10, 0))
    held = deadlines.held(BUSINESS, [pause], since=started)
    assert held == 2 * HOUR
    (moved,) = deadlines.action_deadlines(negotiation, BUSINESS, started_at=started, held_time=held)
    assert moved.at == shanghai(2026, 11, 17, 11, 0)


def test_pause_time_before_the_clock_started_is_not_held():
    pause = Pause(shanghai(2026, 11, 16, 9, 0), shanghai(2026, 11, 16, 15, 0))
    assert deadlines.held(WALL, [pause], since=shanghai(2026, 11, 16, 12, 0)) == 3 * HOUR
    assert deadlines.held(WALL, [pause], since=shanghai(2026, 11, 16, 16, 0)) == timedelta(0)


def test_the_deadlines_of_an_action_in_the_order_they_are_shown():
    started = shanghai(2026, 11, 16, 9, 0)
    negotiation = action(
        warning_hours=36,
        due_hours=48,
        escalations=(EscalationLevel(24, "rep"), EscalationLevel(48, ROLE_REGIONAL_MANAGER)),
    )
    found = deadlines.action_deadlines(negotiation, WALL, started_at=started, held_time=HOUR)
    assert [(item.key, item.at - started, item.level) for item in found] == [
        ("warning", 37 * HOUR, 0),
        ("due", 49 * HOUR, 0),
        ("escalation:1", 25 * HOUR, 1),
        ("escalation:2", 49 * HOUR, 2),
    ]


def test_next_reminders_continue_from_the_last_sent_and_stop_at_max_times():
    started = shanghai(2026, 11, 16, 9, 0)
    negotiation = action(
        reminders=(
            ReminderRule("follow_up", 24, max_times=2),
            ReminderRule("nudge", 8),
        )
    )

    def upcoming(sent):
        found = deadlines.next_reminders(
            negotiation, WALL, started_at=started, held_time=timedelta(0), sent=sent
        )
        return [(item.key, item.number, item.at - started) for item in found]

    assert upcoming({}) == [("reminder:follow_up", 1, 24 * HOUR), ("reminder:nudge", 1, 8 * HOUR)]
    assert upcoming({"follow_up": 2, "nudge": 5}) == [("reminder:nudge", 6, 48 * HOUR)]


def test_only_the_latest_missed_reminder_is_due():
    started = shanghai(2026, 11, 16, 9, 0)
    rule = ReminderRule("nudge", 8)

    def latest(now, sent, max_times=0):
        return deadlines.latest_reminder_due(
            ReminderRule(rule.key, rule.every_hours, max_times=max_times),
            WALL,
            started_at=started,
            held_time=timedelta(0),
            now=now,
            sent=sent,
        )

    assert latest(started + 7 * HOUR, 0) == 0
    assert latest(started + 8 * HOUR, 0) == 1
    assert latest(started + 8 * HOUR - timedelta(microseconds=1), 0) == 0
    assert latest(started + 41 * HOUR, 1) == 5
    assert latest(started + 41 * HOUR, 5) == 0
    assert latest(started + 41 * HOUR, 1, max_times=3) == 3


def test_reminders_on_the_business_clock_skip_the_weekend():
    started = shanghai(2026, 11, 13, 17, 0)  # Friday
    rule = ReminderRule("nudge", 4)
    at = deadlines.reminder_at(rule, BUSINESS, started_at=started, held_time=timedelta(0), number=1)
    assert at == shanghai(2026, 11, 16, 12, 0)
    assert (
        deadlines.latest_reminder_due(
            rule,
            BUSINESS,
            started_at=started,
            held_time=timedelta(0),
            now=shanghai(2026, 11, 16, 11, 0),
            sent=0,
        )
        == 0
    )


def test_the_silence_clock_and_a_template_without_one():
    template = PipelineTemplate("t", 1, "t", (action(),), calendars=(CN_2026,))
    touched = shanghai(2026, 11, 13, 17, 0)
    clock = deadlines.silence_clock(template, "")
    assert deadlines.silence_at(template, clock, last_touch=touched, held_time=HOUR) == (
        touched + 73 * HOUR
    )
    silent_off = PipelineTemplate("t", 1, "t", (action(),), silence_reminder_hours=0)
    assert deadlines.silence_at(silent_off, clock, last_touch=touched, held_time=HOUR) is None


def test_the_rep_s_zone_judges_the_action_s_calendar():
    negotiation = action(clock=CLOCK_BUSINESS, due_hours=4)
    template = PipelineTemplate("t", 1, "t", (negotiation,), calendars=(CN_2026,))
    opened = shanghai(2026, 11, 13, 23, 30)

    def due(zone):
        clock = deadlines.action_clock(template, negotiation, zone)
        (found,) = deadlines.action_deadlines(
            negotiation, clock, started_at=opened, held_time=timedelta(0)
        )
        return found.at

    assert due("") == shanghai(2026, 11, 16, 14, 0)
    assert due("Europe/Berlin") == datetime(2026, 11, 16, 11, 30, tzinfo=ZoneInfo("Europe/Berlin"))


def test_valid_zones():
    assert deadlines.valid_zone("Europe/Berlin")
    assert not deadlines.valid_zone("")
    assert not deadlines.valid_zone("Mars/Olympus_Mons")
    assert not deadlines.valid_zone("../etc/passwd")
