"""The periods the page offers, counted in whole days of the company's time zone.

Presets end with the week (Monday to Sunday) of the latest instance the viewer can see, so
a replayed export from years ago opens on its own last weeks rather than on an empty today:

    week      that week
    4w        the four weeks ending with it
    quarter   thirteen weeks (91 days: within the bottlenecks' 92-day limit)
    year      fifty-two weeks
    all       from the first instance's day, at most 732 days (the analytics limit)

A request names its period as ?from=YYYY-MM-DD&to=YYYY-MM-DD, both days included.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from salesflow.core.errors import InvalidArgument

MAX_DAYS = 732
PRESET_WEEKS = {"week": 1, "4w": 4, "quarter": 13, "year": 52}
DEFAULT_PERIOD = "all"
DEFAULT_BOTTLENECK_PERIOD = "week"


@dataclass(frozen=True)
class Period:
    """Days first..last inclusive in a time zone."""

    first: date
    last: date
    zone: ZoneInfo

    @property
    def start(self) -> datetime:
        return _midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The instant the day after `last` begins: the period is [start, end)."""
        return _midnight(self.last + timedelta(days=1), self.zone)

    def json(self) -> dict:
        return {"from": self.first.isoformat(), "to": self.last.isoformat()}


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def presets(
    first_started: datetime | None, last_started: datetime | None, zone: ZoneInfo, now: datetime
) -> dict[str, Period]:
    """Each preset's days, ending with the week of the latest instance (or of now)."""
    anchor = local_day(last_started or now, zone)
    sunday = anchor + timedelta(days=6 - anchor.weekday())
    found = {
        name: Period(sunday - timedelta(weeks=weeks) + timedelta(days=1), sunday, zone)
        for name, weeks in PRESET_WEEKS.items()
    }
    first = local_day(first_started, zone) if first_started else found["week"].first
    found["all"] = Period(max(first, sunday - timedelta(days=MAX_DAYS - 1)), sunday, zone)
    return found


def period_from_query(raw_from: str, raw_to: str, zone: ZoneInfo) -> Period:
    """The period a request names; both days are required."""
    first = _day(raw_from, "from")
    last = _day(raw_to, "to")
    if last < first:
        raise InvalidArgument("to", "must not be before from")
    if (last - first).days + 1 > MAX_DAYS:
        raise InvalidArgument("to", f"a period spans at most {MAX_DAYS} days")
    return Period(first, last, zone)


def _day(raw: str, field: str) -> date:
    if not raw:
        raise InvalidArgument(field, "is required (YYYY-MM-DD)")
    try:
        return date.fromisoformat(raw)
    except ValueError as error:
        raise InvalidArgument(field, f"is not a date (YYYY-MM-DD): {raw!r}") from error
