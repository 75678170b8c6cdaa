"""Business-hours arithmetic: weekends, China's 2026 holidays and 调休, zones, DST."""

from __future__ import annotations

import random
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from salesflow.calendars import resolve_calendar
from workflows.pipeline.calendar import add_business_hours, business_hours_between
from workflows.pipeline.template import CalendarSpec

SHANGHAI = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")

# Resolved from the holidays package, as saving a template version does.
CN_2026 = resolve_calendar(CalendarSpec(), [2026])
# Weekends only: no public holidays, for the DST and arithmetic cases.
PLAIN = CalendarSpec(calendar_id="plain", holiday_country="")


def shanghai(*args) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def local(moment: datetime, zone: ZoneInfo = SHANGHAI) -> datetime:
    return moment.astimezone(zone)


def test_friday_evening_continues_on_monday_morning():
    due = add_business_hours(CN_2026, shanghai(2026, 11, 13, 17, 0), 3)
    assert local(due) == shanghai(2026, 11, 16, 11, 0)
    assert due.tzinfo is UTC


def test_national_day_2026_is_skipped_and_the_make_up_saturday_is_worked():
    # Wed 30 Sep 15:30: 2.5 h that day; 1-7 Oct off; Thu 8 and Fri 9 Oct (16 h);
    # Sat 10 Oct is a make-up working day (8 h); Sun 11 Oct off; Mon 12 Oct 5.5 h.
    start = shanghai(2026, 9, 30, 15, 30)
    due = add_business_hours(CN_2026, start, 32)
    assert local(due) == shanghai(2026, 10, 12, 15, 30)
    assert business_hours_between(CN_2026, start, due) == 32


def test_the_make_up_sunday_before_national_day_is_worked():
    # Sat 19 Sep is a weekend day; Sun 20 Sep is worked in exchange for 6 Oct.
    due = add_business_hours(CN_2026, shanghai(2026, 9, 18, 17, 0), 2)
    assert local(due) == shanghai(2026, 9, 20, 10, 0)


def test_the_mid_autumn_friday_is_a_day_off():
    due = add_business_hours(CN_2026, shanghai(2026, 9, 24, 17, 0), 2)
    assert local(due) == shanghai(2026, 9, 28, 10, 0)


def test_a_company_extra_day_off_and_extra_workday():
    calendar = resolve_calendar(
        replace(CalendarSpec(), extra_days_off=("2026-11-16",), extra_workdays=("2026-11-21",)),
        [2026],
    )
    friday_evening = shanghai(2026, 11, 13, 17, 0)
    # Monday 16 Nov is the company's own day off.
    assert local(add_business_hours(calendar, friday_evening, 3)) == shanghai(2026, 11, 17, 11, 0)
    # Saturday 21 Nov is worked.
    assert local(add_business_hours(calendar, shanghai(2026, 11, 20, 17, 0), 2)) == shanghai(
        2026, 11, 21, 10, 0
    )


def test_a_start_just_before_midnight_is_judged_in_shanghai_not_utc():
    # 23:30 on Friday in Shanghai is 15:30 UTC, still Friday afternoon on a UTC server.
    start = shanghai(2026, 11, 13, 23, 30)
    assert start.astimezone(UTC) == datetime(2026, 11, 13, 15, 30, tzinfo=UTC)

    due = add_business_hours(CN_2026, start, 4)
    assert local(due) == shanghai(2026, 11, 16, 14, 0)
    assert due == datetime(2026, 11, 16, 6, 0, tzinfo=UTC)

    # A rep in Berlin lives the same instant as Friday 16:30 and still works 1.5 h of it.
    in_berlin = add_business_hours(CN_2026, start, 4, zone="Europe/Berlin")
    assert local(in_berlin, BERLIN) == datetime(2026, 11, 16, 11, 30, tzinfo=BERLIN)


def test_the_eve_of_national_day_at_23_30_in_shanghai_waits_for_8_october():
    # 30 Sep 23:30 in Shanghai: the next working hour is 8 Oct 09:00. Judged in UTC the same
    # instant would be 30 Sep 15:30, a working afternoon.
    start = shanghai(2026, 9, 30, 23, 30)
    assert local(add_business_hours(CN_2026, start, 1)) == shanghai(2026, 10, 8, 10, 0)
    assert add_business_hours(CN_2026, start, 1, zone="UTC") == datetime(
        2026, 9, 30, 16, 30, tzinfo=UTC
    )


def test_fractional_hours_and_the_lunch_break():
    monday = shanghai(2026, 11, 16, 9, 0)
    assert local(add_business_hours(PLAIN, monday, 1.25)) == shanghai(2026, 11, 16, 10, 15)
    assert local(add_business_hours(PLAIN, monday, 3.5)) == shanghai(2026, 11, 16, 13, 30)
    assert business_hours_between(PLAIN, monday, shanghai(2026, 11, 16, 13, 30)) == 3.5


def test_a_start_outside_working_time_counts_from_the_next_period():
    assert local(add_business_hours(PLAIN, shanghai(2026, 11, 16, 7, 0), 1)) == shanghai(
        2026, 11, 16, 10, 0
    )
    assert local(add_business_hours(PLAIN, shanghai(2026, 11, 16, 12, 30), 1)) == shanghai(
        2026, 11, 16, 14, 0
    )
    # Saturday counts from Monday 09:00.
    assert local(add_business_hours(PLAIN, shanghai(2026, 11, 14, 10, 0), 1)) == shanghai(
        2026, 11, 16, 10, 0
    )


def test_a_full_day_ends_at_the_close_of_business_not_the_next_morning():
    due = add_business_hours(PLAIN, shanghai(2026, 11, 16, 9, 0), 8)
    assert local(due) == shanghai(2026, 11, 16, 18, 0)


def test_zero_hours_and_empty_spans():
    start = shanghai(2026, 11, 14, 3, 0)
    assert add_business_hours(PLAIN, start, 0) == start
    assert business_hours_between(PLAIN, start, start) == 0
    assert business_hours_between(PLAIN, start, start - timedelta(hours=5)) == 0


def test_a_rep_in_berlin_across_the_end_of_summer_time():
    # Fri 23 Oct 2026 17:00 CEST; summer time ends on Sun 25 Oct. Monday 10:00 is CET.
    friday = datetime(2026, 10, 23, 17, 0, tzinfo=BERLIN)
    due = add_business_hours(PLAIN, friday, 2, zone="Europe/Berlin")
    assert local(due, BERLIN) == datetime(2026, 10, 26, 10, 0, tzinfo=BERLIN)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)
    assert business_hours_between(PLAIN, friday, due, zone="Europe/Berlin") == 2


def test_days_with_a_dst_change_have_their_real_length():
    always = replace(PLAIN, working_hours=(("00:00", "24:00"),), weekend=())
    autumn = datetime(2026, 10, 25, 0, 0, tzinfo=BERLIN)
    spring = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)
    day = timedelta(days=1)
    assert business_hours_between(always, autumn, autumn + day, zone="Europe/Berlin") == 25
    assert business_hours_between(always, spring, spring + day, zone="Europe/Berlin") == 23
    # Seven Berlin days around the change are 169 real hours, whichever zone judges them.
    assert business_hours_between(always, autumn - 3 * day, autumn + 4 * day) == 169


def test_adding_then_measuring_gives_the_same_hours():
    generator = random.Random(20261001)
    for _ in range(300):
        start = shanghai(2026, 1, 1) + timedelta(minutes=generator.randrange(0, 525_600))
        hours = generator.randrange(1, 400) / 4
        due = add_business_hours(CN_2026, start, hours)
        assert business_hours_between(CN_2026, start, due) == pytest.approx(hours, abs=1e-9)
        assert add_business_hours(CN_2026, start, hours, zone="Europe/Berlin") >= start


def test_thousands_of_deadlines_are_cheap():
    start = shanghai(2026, 9, 1, 10, 0)
    began = time.perf_counter()
    for step in range(5000):
        add_business_hours(CN_2026, start + timedelta(minutes=step * 17), 96)
    elapsed = time.perf_counter() - began
    # About 0.1 ms each on this 2-core machine; the bound leaves room for a busy one.
    assert elapsed < 5.0, elapsed


def test_a_calendar_without_working_time_is_refused():
    never = replace(PLAIN, weekend=(0, 1, 2, 3, 4, 5, 6))
    with pytest.raises(ValueError, match="no working time"):
        add_business_hours(never, shanghai(2026, 11, 16, 9, 0), 1)


def test_naive_datetimes_and_malformed_hours_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_hours(PLAIN, datetime(2026, 11, 16, 9, 0), 1)
    with pytest.raises(ValueError, match="ordered"):
        add_business_hours(
            replace(PLAIN, working_hours=(("13:00", "18:00"), ("09:00", "12:00"))),
            shanghai(2026, 11, 16, 9, 0),
            1,
        )
