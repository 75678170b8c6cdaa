"""Resolving a template's calendars from a maintained holiday package.

Runs when a template version is saved (never inside a workflow): the package's public
holidays and make-up working days (调休) for the given years, plus the company's own
extra days, become explicit date lists in the saved version.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date

import holidays

from workflows.pipeline.template import CalendarSpec

logger = logging.getLogger(__name__)


def resolve_calendar(spec: CalendarSpec, years: Iterable[int]) -> CalendarSpec:
    """A copy of `spec` with days_off, workdays and resolved_years filled for `years`.

    days_off: the country's public holidays (substituted days off included) and the
    company's extra days off, minus its extra workdays. workdays: the country's weekend
    days worked in exchange (调休) within the years, and the extra workdays, minus the extra
    days off. A company's own day wins over the package.
    """
    wanted = sorted({int(year) for year in years})
    extra_off = _dates(spec.extra_days_off, "extra_days_off", spec.calendar_id)
    extra_work = _dates(spec.extra_workdays, "extra_workdays", spec.calendar_id)
    both = extra_off & extra_work
    if both:
        raise ValueError(
            f"calendar {spec.calendar_id!r}: {', '.join(sorted(map(str, both)))} "
            "listed both as an extra day off and an extra workday"
        )

    public: set[date] = set()
    swapped: set[date] = set()
    country = spec.holiday_country.strip().upper()
    if country and wanted:
        table = _country_holidays(country, wanted, spec.calendar_id)
        public = set(table)
        # Only some countries shift weekends (China's 调休); the others have no such set.
        swapped = {day for day in getattr(table, "weekend_workdays", ()) if day.year in wanted}

    days_off = (public | extra_off) - extra_work
    workdays = (swapped | extra_work) - extra_off
    logger.debug(
        "calendar resolved id=%s country=%s years=%s days_off=%s workdays=%s",
        spec.calendar_id,
        country or "-",
        wanted,
        len(days_off),
        len(workdays),
    )
    return replace(
        spec,
        days_off=tuple(day.isoformat() for day in sorted(days_off)),
        workdays=tuple(day.isoformat() for day in sorted(workdays)),
        resolved_years=tuple(wanted),
    )


@dataclass(frozen=True)
class CalendarCoverage:
    """What a saved calendar knows of its country's days, for the person importing it."""

    calendar_id: str
    country: str
    # The years holidays and make-up working days were resolved for; after the last one a
    # running pipeline counts weekends only.
    years: tuple[int, ...]
    # Resolved years the package knows no make-up working day (调休) for, in a country that
    # has them: their schedule is usually published late in the year before.
    years_without_workdays: tuple[int, ...]
    holidays_version: str = holidays.__version__


def calendar_coverage(spec: CalendarSpec) -> CalendarCoverage | None:
    """The coverage of a resolved calendar; None when it names no holiday country."""
    country = spec.holiday_country.strip().upper()
    if not country or not spec.resolved_years:
        return None
    years = tuple(spec.resolved_years)
    table = _country_holidays(country, list(years), spec.calendar_id)
    known = {day.year for day in getattr(table, "weekend_workdays", ())}
    # A country whose package lists no make-up day at all simply has none (most do not).
    missing = tuple(year for year in years if year not in known) if known else ()
    return CalendarCoverage(spec.calendar_id, country, years, missing)


def _country_holidays(country: str, years: list[int], calendar_id: str):
    try:
        return holidays.country_holidays(country, years=years)
    except NotImplementedError as error:
        raise ValueError(
            f"calendar {calendar_id!r}: holiday_country {country!r} is not a country the "
            f"holiday package knows (holidays {holidays.__version__}); use an ISO 3166 "
            "alpha-2 code such as CN, or leave it empty for the company's own days only"
        ) from error


def _dates(values: Iterable[str], field: str, calendar_id: str) -> set[date]:
    dates: set[date] = set()
    for value in values:
        try:
            dates.add(date.fromisoformat(value.strip()))
        except ValueError as error:
            raise ValueError(
                f"calendar {calendar_id!r}: {field} entry {value!r} is not a YYYY-MM-DD date"
            ) from error
    return dates
