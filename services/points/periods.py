"""Calendar windows of the points service, in the company's time zone: the quarter an
entry counts in, the week, month or quarter of a milestone or a leaderboard.

Weeks are ISO weeks (Monday to Sunday). A window is [start, end) as UTC instants; its
label names it ("2026-W10", "2026-03", "2026Q1").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from salesflow.core.errors import InvalidArgument

WEEK, MONTH, QUARTER = "week", "month", "quarter"
WINDOWS = (WEEK, MONTH, QUARTER)
QUARTER_LABEL = re.compile(r"^(\d{4})Q([1-4])$")


@dataclass(frozen=True)
class Window:
    label: str
    start: datetime
    end: datetime

    def __contains__(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def _instant(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(UTC)


def _quarter_start(year: int, quarter: int) -> date:
    return date(year, 3 * (quarter - 1) + 1, 1)


def window(kind: str, moment: datetime, zone: ZoneInfo) -> Window:
    """The week, month or quarter containing the moment."""
    local = moment.astimezone(zone).date()
    if kind == WEEK:
        start = local - timedelta(days=local.weekday())
        iso_year, iso_week, _ = start.isocalendar()
        return Window(
            f"{iso_year}-W{iso_week:02d}",
            _instant(start, zone),
            _instant(start + timedelta(days=7), zone),
        )
    if kind == MONTH:
        start = local.replace(day=1)
        following = (start + timedelta(days=32)).replace(day=1)
        return Window(f"{start:%Y-%m}", _instant(start, zone), _instant(following, zone))
    if kind == QUARTER:
        quarter = (local.month - 1) // 3 + 1
        return quarter_window(f"{local.year}Q{quarter}", zone)
    raise ValueError(f"unknown window {kind!r}")


def quarter_of(moment: datetime, zone: ZoneInfo) -> str:
    """The quarter label of a moment, e.g. "2026Q1"."""
    local = moment.astimezone(zone)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def quarter_window(label: str, zone: ZoneInfo, *, field: str = "quarter") -> Window:
    """The window of a quarter label; InvalidArgument naming the field when malformed."""
    match = QUARTER_LABEL.match(label.strip().upper())
    if match is None:
        raise InvalidArgument(field, f"{label!r} is not a quarter like 2026Q4")
    year, quarter = int(match.group(1)), int(match.group(2))
    start = _quarter_start(year, quarter)
    end = _quarter_start(year + 1, 1) if quarter == 4 else _quarter_start(year, quarter + 1)
    return Window(f"{year}Q{quarter}", _instant(start, zone), _instant(end, zone))
