"""Resolving a calendar from the holidays package plus the company's own days."""

from __future__ import annotations

from dataclasses import replace

import pytest

from salesflow.calendars import resolve_calendar
from workflows.pipeline.template import CalendarSpec


def test_china_2026_public_holidays_and_make_up_working_days():
    calendar = resolve_calendar(CalendarSpec(), [2026])

    for day in ("2026-10-01", "2026-10-02", "2026-10-03", "2026-10-05", "2026-10-06"):
        assert day in calendar.days_off
    # Substituted days off (for the make-up Sunday 20 Sep and Saturday 10 Oct) count too.
    assert "2026-10-07" in calendar.days_off
    assert "2026-09-25" in calendar.days_off  # Mid-Autumn Festival
    assert calendar.workdays == (
        "2026-01-04",
        "2026-02-14",
        "2026-02-28",
        "2026-05-09",
        "2026-09-20",
        "2026-10-10",
    )
    assert calendar.resolved_years == (2026,)
    assert list(calendar.days_off) == sorted(calendar.days_off)


def test_only_the_requested_years_are_resolved():
    calendar = resolve_calendar(CalendarSpec(), [2026, 2026])
    assert all(day.startswith("2026-") for day in calendar.days_off + calendar.workdays)
    both = resolve_calendar(CalendarSpec(), [2027, 2026])
    assert both.resolved_years == (2026, 2027)
    assert "2027-10-01" in both.days_off


def test_the_company_s_own_days_win_over_the_package():
    spec = replace(
        CalendarSpec(),
        extra_days_off=("2026-11-16", "2026-10-10"),
        extra_workdays=("2026-10-07", "2026-11-21"),
    )
    calendar = resolve_calendar(spec, [2026])

    assert "2026-11-16" in calendar.days_off
    assert "2026-10-10" not in calendar.workdays  # a make-up Saturday the company gives off
    assert "2026-10-07" not in calendar.days_off  # a holiday the company works
    assert {"2026-10-07", "2026-11-21"} <= set(calendar.workdays)
    # The template's own fields are kept as they were written.
    assert calendar.extra_days_off == spec.extra_days_off
    assert calendar.holiday_country == "CN"


def test_no_holiday_country_means_only_the_company_s_days():
    spec = replace(
        CalendarSpec(), holiday_country="", extra_days_off=("2026-12-24",), extra_workdays=()
    )
    calendar = resolve_calendar(spec, [2026])
    assert calendar.days_off == ("2026-12-24",)
    assert calendar.workdays == ()
    assert calendar.resolved_years == (2026,)


def test_another_country_without_make_up_days():
    calendar = resolve_calendar(replace(CalendarSpec(), holiday_country="de"), [2026])
    assert "2026-12-25" in calendar.days_off
    assert calendar.workdays == ()


def test_an_unknown_country_is_refused_clearly():
    with pytest.raises(ValueError, match="holiday_country 'XX' is not a country"):
        resolve_calendar(replace(CalendarSpec(), holiday_country="XX"), [2026])


def test_malformed_or_contradictory_extra_days_are_refused():
    with pytest.raises(ValueError, match="extra_days_off entry '2026-13-01'"):
        resolve_calendar(replace(CalendarSpec(), extra_days_off=("2026-13-01",)), [2026])
    with pytest.raises(ValueError, match="both"):
        resolve_calendar(
            replace(CalendarSpec(), extra_days_off=("2026-11-16",), extra_workdays=("2026-11-16",)),
            [2026],
        )


def test_coverage_names_the_resolved_years_and_those_without_make_up_working_days():
    from salesflow.calendars import calendar_coverage

    # Past years: the State Council's schedules are all in the package.
    past = calendar_coverage(resolve_calendar(CalendarSpec(), [2023, 2024, 2025, 2026]))
    assert (past.calendar_id, past.country) == ("default", "CN")
    assert past.years == (2023, 2024, 2025, 2026)
    assert past.years_without_workdays == ()
    assert past.holidays_version

    # Years no schedule is published for yet: public holidays only, no 调休.
    future = calendar_coverage(resolve_calendar(CalendarSpec(), [2040, 2041]))
    assert future.years_without_workdays == (2040, 2041)

    # A country without make-up working days is never warned about; none, no coverage.
    german = calendar_coverage(resolve_calendar(CalendarSpec(holiday_country="DE"), [2040]))
    assert german.years == (2040,) and german.years_without_workdays == ()
    assert calendar_coverage(resolve_calendar(CalendarSpec(holiday_country=""), [2040])) is None


async def test_import_reports_each_calendar_s_coverage(db_sessions):
    from datetime import UTC, datetime

    from salesflow.cli.templates import coverage_lines
    from salesflow.core.caller import ADMIN_CALLER
    from services.templates.service import coverage_message
    from services.templates.store import TemplateStore
    from workflows.pipeline.template import default_template

    store = TemplateStore(db_sessions, clock=lambda: datetime(2039, 12, 1, tzinfo=UTC))
    template = replace(default_template(), template_id="far-future")
    saved = await store.save(ADMIN_CALLER, template)
    again = await store.save(ADMIN_CALLER, template)

    [coverage] = saved.coverage
    assert again.coverage == saved.coverage and not again.created
    assert (coverage.calendar_id, coverage.country) == ("default", "CN")
    assert coverage.years == (2038, 2039, 2040, 2041)
    assert coverage.years_without_workdays == (2038, 2039, 2040, 2041)
    assert coverage_lines([coverage_message(coverage)]) == [
        "calendar default (CN): holidays and make-up working days resolved for 2038-2041; "
        "after 2041 only weekends count",
        f"warning: 2038, 2039, 2040, 2041: no make-up working days known yet (holidays "
        f"{coverage.holidays_version}) — re-import when the State Council publishes the "
        "schedule",
    ]
