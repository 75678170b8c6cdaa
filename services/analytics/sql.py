"""SQL pieces the analytics queries share, written once for PostgreSQL and SQLite."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import Float, literal, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from salesflow.core.db import UtcDateTime
from services.analytics.config import QualityWeights

# Sorts and hashes over a year of instances need more than PostgreSQL's default 4 MB.
READ_WORK_MEM = "64MB"


@asynccontextmanager
async def reading(sessions: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    """A session for the analytics queries (one transaction, more memory for sorting)."""
    async with sessions() as session:
        if session.bind.dialect.name == "postgresql":
            await session.execute(text(f"SET LOCAL work_mem = '{READ_WORK_MEM}'"))
        yield session


class seconds_between(FunctionElement):  # noqa: N801 - reads as the SQL function it renders
    """seconds_between(a, b): b − a in seconds, as a float."""

    type = Float()
    name = "seconds_between"
    inherit_cache = True


@compiles(seconds_between, "postgresql")
def _seconds_between_postgresql(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"CAST(EXTRACT(EPOCH FROM ({end} - {start})) AS DOUBLE PRECISION)"


@compiles(seconds_between, "sqlite")
def _seconds_between_sqlite(element, compiler, **kw) -> str:
    start, end = (compiler.process(clause, **kw) for clause in element.clauses)
    return f"((julianday({end}) - julianday({start})) * 86400.0)"


def moment(value: datetime) -> Any:
    """A timestamp parameter stored the way the fact tables store theirs."""
    return literal(value, UtcDateTime())


def score_of(weights: QualityWeights, components: tuple[float, float, float, float]) -> float:
    """The same score from component values (means of components give the mean score)."""
    evidence, answers, timeliness, feedback = components
    total = (
        weights.evidence * evidence
        + weights.answers * answers
        + weights.timeliness * timeliness
        + weights.feedback * feedback
    )
    return 100.0 * total / weights.total


def percentile(values: list[float], share: float) -> float:
    """Linear-interpolated percentile, as PostgreSQL's percentile_cont computes it."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    position = share * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
