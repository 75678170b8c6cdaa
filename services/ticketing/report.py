"""The per-department response report: how fast a department answers its tickets.

Pure: the desk hands in the times of the tickets opened in the period and gets the figures
back. First-response times are counted twice: in business minutes of the calendar the
ticket was opened with (what the target measures) and in wall-clock minutes (what the rep
waited).

- median: the middle value, or the mean of the two middle values for an even count;
- p90: the nearest rank, i.e. the smallest value that at least 90% of the values do not
  exceed (the ceil(0.9 × n)-th smallest);
- share within target: tickets answered by their respond_by, out of the tickets whose
  target is decided (answered, or left unanswered past respond_by, either until now or
  until the ticket was withdrawn); tickets still inside their target without an answer, or
  withdrawn before it, count in neither.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from workflows.pipeline.calendar import business_time_between
from workflows.pipeline.template import CalendarSpec

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class TicketTimes:
    opened_at: datetime
    respond_by: datetime
    first_response_at: datetime | None
    # When it was resolved, rejected or withdrawn; None while open.
    closed_at: datetime | None
    escalated: bool
    calendar: CalendarSpec


@dataclass(frozen=True)
class DepartmentFigures:
    tickets_opened: int
    responded: int
    median_business_minutes: float
    p90_business_minutes: float
    median_wall_minutes: float
    p90_wall_minutes: float
    within_target: int
    target_decided: int
    share_within_target: float
    open_now: int
    escalated: int


def median(values: Sequence[float]) -> float:
    """The middle value (mean of the two middle ones); 0 for no values."""
    return float(statistics.median(values)) if values else 0.0


def nearest_rank(values: Sequence[float], percent: float) -> float:
    """The smallest value at least `percent`% of the values do not exceed; 0 for none."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(math.ceil(percent / 100 * len(ordered)), 1)
    return float(ordered[rank - 1])


def business_minutes(ticket: TicketTimes, end: datetime) -> float:
    """Working minutes of the ticket's calendar from its opening to `end`."""
    return business_time_between(ticket.calendar, ticket.opened_at, end) / MINUTE


def department_figures(tickets: Sequence[TicketTimes], *, now: datetime) -> DepartmentFigures:
    """The report's figures over the tickets of one department and period."""
    answered = [ticket for ticket in tickets if ticket.first_response_at is not None]
    business = [business_minutes(t, t.first_response_at) for t in answered]
    wall = [(t.first_response_at - t.opened_at) / MINUTE for t in answered]
    within = sum(1 for t in answered if t.first_response_at <= t.respond_by)
    overdue = sum(
        1 for t in tickets if t.first_response_at is None and t.respond_by <= (t.closed_at or now)
    )
    decided = len(answered) + overdue

    return DepartmentFigures(
        tickets_opened=len(tickets),
        responded=len(answered),
        median_business_minutes=median(business),
        p90_business_minutes=nearest_rank(business, 90),
        median_wall_minutes=median(wall),
        p90_wall_minutes=nearest_rank(wall, 90),
        within_target=within,
        target_decided=decided,
        share_within_target=within / decided if decided else 0.0,
        open_now=sum(1 for t in tickets if t.closed_at is None),
        escalated=sum(1 for t in tickets if t.escalated),
    )
