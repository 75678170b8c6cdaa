"""Additive figures over a period: whole days from the daily rollup, partial days from the
facts, summed per group.

A period [start, end) is split at midnight in the company's time zone. The whole days in it
are read from `analytics_daily` (a few rows per rep and day, however many instances), the
pieces before the first and after the last whole day from `analytics_action_facts`. Both
give the same sums for the same instances, so the split changes speed, not figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.analytics.config import AnalyticsConfig, QualityWeights
from services.analytics.models import DONE, ActionDay, ActionFact
from services.analytics.sql import score_of

NO_POSITION = 1 << 30


@dataclass
class Totals:
    """Counts and quality sums of a group of instances."""

    instances: int = 0
    due: int = 0
    on_time: int = 0
    done: int = 0
    with_evidence: int = 0
    with_strategies: int = 0
    # Completions before the contract stage, and those that reached it within the
    # configured window (maturity not applied: see queries.conversion).
    convertible: int = 0
    converted: int = 0
    q_evidence: float = 0.0
    q_answers: float = 0.0
    q_timeliness: float = 0.0
    q_feedback: float = 0.0
    # The lowest pipeline position among them (for display order).
    position: int = NO_POSITION

    def add(self, other: Totals) -> None:
        for each in fields(self):
            if each.name != "position":
                setattr(self, each.name, getattr(self, each.name) + getattr(other, each.name))
        self.position = min(self.position, other.position)

    @property
    def completion_rate(self) -> float | None:
        return self.on_time / self.due if self.due else None

    @property
    def means(self) -> tuple[float, float, float, float]:
        """Mean quality components of the completed instances."""
        return (
            self.q_evidence / self.done,
            self.q_answers / self.done,
            self.q_timeliness / self.done,
            self.q_feedback / self.done,
        )

    def quality(self, weights: QualityWeights) -> float | None:
        return score_of(weights, self.means) if self.done else None


_SUMMED = (
    "instances",
    "due",
    "on_time",
    "done",
    "with_evidence",
    "with_strategies",
    "convertible",
    "converted",
)
_QUALITY = ("q_evidence", "q_answers", "q_timeliness", "q_feedback")


def _from_rollup() -> list:
    return [
        *(func.sum(getattr(ActionDay, name)) for name in (*_SUMMED, *_QUALITY)),
        func.min(ActionDay.position),
    ]


def _from_facts(config: AnalyticsConfig) -> list:
    done = ActionFact.status == DONE
    convertible = and_(done, ActionFact.action_key != config.contract_action)
    window = config.conversion_window_days * 86400.0
    return [
        func.count(),
        func.count().filter(ActionFact.due),
        func.count().filter(ActionFact.on_time),
        func.count().filter(done),
        func.count().filter(and_(done, ActionFact.evidence_count > 0)),
        func.count().filter(and_(done, ActionFact.strategy_count > 0)),
        func.count().filter(convertible),
        func.count().filter(and_(convertible, ActionFact.contract_lag_seconds <= window)),
        *(func.coalesce(func.sum(getattr(ActionFact, name)), 0.0) for name in _QUALITY),
        func.min(ActionFact.position),
    ]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass(frozen=True)
class Split:
    """Whole days [first_day, last_day] (None: unbounded or none) and the partial pieces."""

    first_day: date | None
    last_day: date | None
    pieces: list[tuple[datetime | None, datetime]]
    has_days: bool


def split_period(start: datetime | None, end: datetime, zone: ZoneInfo) -> Split:
    """Splits [start, end) (start None: from the beginning) at local midnights."""
    end_local = end.astimezone(zone)
    last_day = end_local.date() - timedelta(days=1)
    if start is None:
        first_day = None
    else:
        start_local = start.astimezone(zone)
        first_day = start_local.date()
        if _midnight(first_day, zone) < start:
            first_day += timedelta(days=1)
    if first_day is not None and first_day > last_day:
        return Split(None, None, [(start, end)], has_days=False)

    pieces: list[tuple[datetime | None, datetime]] = []
    if first_day is not None and start < _midnight(first_day, zone):
        pieces.append((start, _midnight(first_day, zone)))
    after = _midnight(last_day + timedelta(days=1), zone)
    if after < end:
        pieces.append((after, end))
    return Split(first_day, last_day, pieces, has_days=True)


async def totals(
    session: AsyncSession,
    config: AnalyticsConfig,
    *,
    start: datetime | None,
    end: datetime,
    by: Sequence[str] = (),
    conditions: Any = None,
    action_keys: Sequence[str] | None = None,
) -> dict[tuple, Totals]:
    """Totals per group of the instances that started in [start, end).

    `by` names columns both tables have (day, action_key, region, manager_id, rep_id);
    `conditions(table)` gives extra WHERE clauses for a table (e.g. Scope.conditions).
    """
    split = split_period(start, end, config.zone)
    found: dict[tuple, Totals] = {}

    queries = []
    if split.has_days:
        where = _where(ActionDay, conditions, action_keys)
        if split.first_day is not None:
            where.append(ActionDay.day >= split.first_day)
        where.append(ActionDay.day <= split.last_day)
        key = [getattr(ActionDay, name) for name in by]
        queries.append(select(*key, *_from_rollup()).where(*where).group_by(*key))
    if split.pieces:
        where = _where(ActionFact, conditions, action_keys)
        where.append(
            or_(
                *(
                    and_(
                        *([] if low is None else [ActionFact.started_at >= low]),
                        ActionFact.started_at < high,
                    )
                    for low, high in split.pieces
                )
            )
        )
        key = [getattr(ActionFact, name) for name in by]
        queries.append(select(*key, *_from_facts(config)).where(*where).group_by(*key))

    for query in queries:
        for row in (await session.execute(query)).all():
            group, values = tuple(row[: len(by)]), row[len(by) :]
            if values[0] is None or values[0] == 0:
                continue
            part = Totals(
                *(int(value) for value in values[: len(_SUMMED)]),
                *(float(value) for value in values[len(_SUMMED) : -1]),
                position=values[-1],
            )
            found.setdefault(group, Totals()).add(part)
    return found


def _where(table: Any, conditions: Any, action_keys: Sequence[str] | None) -> list:
    where = list(conditions(table)) if conditions is not None else []
    if action_keys is not None:
        where.append(table.action_key.in_(list(action_keys)))
    return where
