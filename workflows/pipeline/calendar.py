"""Business-hours arithmetic over a resolved CalendarSpec.

Pure and deterministic: the workflow calls it to place deadlines, so it may only use the
calendar data it is given (never a holiday package, the clock or the network).
"""

from __future__ import annotations

from datetime import datetime

from workflows.pipeline.template import CalendarSpec


def add_business_hours(
    calendar: CalendarSpec, start: datetime, hours: float, *, zone: str = ""
) -> datetime:
    """The instant `hours` working hours after `start` (aware, returned in UTC).

    `zone` overrides the calendar's time zone: the rep's zone, where the rep's dates are
    judged. A start outside working time counts from the next working period.
    """
    raise NotImplementedError


def business_hours_between(
    calendar: CalendarSpec, start: datetime, end: datetime, *, zone: str = ""
) -> float:
    """Working hours between two instants (0 when end <= start)."""
    raise NotImplementedError
