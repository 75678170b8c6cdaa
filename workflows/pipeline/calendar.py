"""Business-hours arithmetic over a resolved CalendarSpec.

Pure and deterministic: the workflow calls it to place deadlines, so it may only use the
calendar data it is given (never a holiday package, the clock or the network).

A day is judged by its local date in the zone given (the rep's) or else the calendar's: it is
worked when it is not in `days_off` and either falls outside the weekend or is listed in
`workdays` (a make-up working day, 调休). Working periods are local wall times; their length
is the real time between their two instants, so a period crossing a DST change is an hour
longer or shorter, as the rep lives it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from workflows.pipeline.template import CalendarSpec

HOUR = timedelta(hours=1)
# A calendar without working time in ten years is a configuration error, not a long wait.
MAX_SEARCH_DAYS = 3660


@dataclass(frozen=True)
class _Rules:
    """A calendar compiled for fast day-by-day walking."""

    # Working periods as minutes after local midnight (an end of 1440 is "24:00").
    periods: tuple[tuple[int, int], ...]
    weekend: frozenset[int]
    days_off: frozenset[date]
    workdays: frozenset[date]

    def works_on(self, day: date) -> bool:
        if day in self.days_off:
            return False
        return day.weekday() not in self.weekend or day in self.workdays

    @property
    def nominal_day(self) -> timedelta:
        return timedelta(minutes=sum(end - begin for begin, end in self.periods))


def add_business_hours(
    calendar: CalendarSpec, start: datetime, hours: float, *, zone: str = ""
) -> datetime:
    """The instant `hours` working hours after `start` (aware, returned in UTC).

    `zone` overrides the calendar's time zone: the rep's zone, where the rep's dates are
    judged. A start outside working time counts from the next working period.
    """
    return add_business_time(calendar, start, timedelta(hours=hours), zone=zone)


def business_hours_between(
    calendar: CalendarSpec, start: datetime, end: datetime, *, zone: str = ""
) -> float:
    """Working hours between two instants (0 when end <= start)."""
    return business_time_between(calendar, start, end, zone=zone) / HOUR


def add_business_time(
    calendar: CalendarSpec, start: datetime, span: timedelta, *, zone: str = ""
) -> datetime:
    """add_business_hours with an exact span (microseconds, no float rounding)."""
    if span < timedelta(0):
        raise ValueError(f"a working-time span must not be negative, got {span}")
    start = _utc(start)
    remaining = span
    if not remaining:
        return start
    rules = _rules(calendar)
    tz = ZoneInfo(zone or calendar.time_zone)

    day = start.astimezone(tz).date()
    for _ in range(MAX_SEARCH_DAYS):
        if rules.works_on(day):
            # A whole working day still to come is skipped without placing its periods.
            whole = _whole_day(rules, day, tz, after=start)
            if whole is not None and remaining > whole:
                remaining -= whole
            else:
                for begin, end in _periods(rules, day, tz):
                    begin = max(begin, start)
                    if end <= begin:
                        continue
                    if remaining <= end - begin:
                        return begin + remaining
                    remaining -= end - begin
        day += timedelta(days=1)
    raise ValueError(
        f"calendar {calendar.calendar_id!r} has no working time within "
        f"{MAX_SEARCH_DAYS} days of {start.isoformat()}"
    )


def business_time_between(
    calendar: CalendarSpec, start: datetime, end: datetime, *, zone: str = ""
) -> timedelta:
    """business_hours_between as an exact span."""
    start, end = _utc(start), _utc(end)
    if end <= start:
        return timedelta(0)
    rules = _rules(calendar)
    tz = ZoneInfo(zone or calendar.time_zone)

    total = timedelta(0)
    day = start.astimezone(tz).date()
    last = end.astimezone(tz).date()
    while day <= last:
        if rules.works_on(day):
            whole = _whole_day(rules, day, tz, after=start, before=end)
            if whole is not None:
                total += whole
            else:
                for begin, finish in _periods(rules, day, tz):
                    overlap = min(finish, end) - max(begin, start)
                    if overlap > timedelta(0):
                        total += overlap
        day += timedelta(days=1)
    return total


# ---- helpers -----------------------------------------------------------------------------


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"an aware datetime is needed, got {moment!r}")
    return moment.astimezone(UTC)


# The cache only memoises a pure function of the (frozen, hashable) calendar, so sharing it
# across workflow runs changes no outcome.
@lru_cache(maxsize=256)
def _rules(calendar: CalendarSpec) -> _Rules:
    periods = tuple((_minutes(begin), _minutes(end)) for begin, end in calendar.working_hours)
    previous_end = 0
    for begin, end in periods:
        if not previous_end <= begin < end:
            raise ValueError(
                f"calendar {calendar.calendar_id!r}: working hours must be ordered, "
                f"non-overlapping HH:MM pairs, got {calendar.working_hours}"
            )
        previous_end = end
    return _Rules(
        periods=periods,
        weekend=frozenset(calendar.weekend),
        days_off=frozenset(date.fromisoformat(day) for day in calendar.days_off),
        workdays=frozenset(date.fromisoformat(day) for day in calendar.workdays),
    )


def _minutes(clock: str) -> int:
    hours, _, minutes = clock.partition(":")
    value = int(hours) * 60 + int(minutes or 0)
    if not 0 <= value <= 24 * 60:
        raise ValueError(f"{clock!r} is not a time of day")
    return value


def _periods(rules: _Rules, day: date, tz: ZoneInfo) -> list[tuple[datetime, datetime]]:
    """The day's working periods as UTC instants."""
    midnight = datetime(day.year, day.month, day.day)
    return [
        (_instant(midnight, begin, tz), _instant(midnight, end, tz)) for begin, end in rules.periods
    ]


def _instant(midnight: datetime, minutes: int, tz: ZoneInfo) -> datetime:
    # Wall-clock arithmetic on the naive local time, then placed in the zone: 09:00 stays
    # 09:00 on a DST day (a time in a DST gap takes the offset from before the change).
    return (midnight + timedelta(minutes=minutes)).replace(tzinfo=tz).astimezone(UTC)


def _whole_day(
    rules: _Rules, day: date, tz: ZoneInfo, *, after: datetime, before: datetime | None = None
) -> timedelta | None:
    """The day's working time when all of it lies inside (after, before) and no UTC offset
    change falls on it; None when the day must be walked period by period."""
    midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
    following = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=tz)
    if midnight.utcoffset() != following.utcoffset():
        return None
    if midnight.astimezone(UTC) < after:
        return None
    if before is not None and following.astimezone(UTC) > before:
        return None
    return rules.nominal_day
