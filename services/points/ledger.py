"""The points ledger: pricing action events into entries, balances and the leaderboard.

Entries are appended exactly once per (event, rule): a batch is written with INSERT ... ON
CONFLICT DO NOTHING in one transaction, so a batch redelivered after a crash between the
commit and the acknowledgement adds nothing. Nothing here knows about gRPC or NATS; the
service and the CLI replay both call these functions.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import SYSTEM_CALLER
from salesflow.core.db import insert_ignoring_duplicates, utcnow
from salesflow.core.oplog import append_operation
from salesflow.events.v1 import events_pb2
from services.pipeline.models import Person
from services.points.models import LedgerEntry

logger = logging.getLogger(__name__)

SERVICE = "points"
RULE_ACTION_COMPLETED = "action.completed"
RULE_ACTION_OVERDUE = "action.overdue"


@dataclass(frozen=True)
class RepBalance:
    rep_id: str
    points: int
    entries: int


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    rep_id: str
    region: str
    points: int


def price_event(event: events_pb2.Event, *, recorded_at: datetime) -> dict[str, Any] | None:
    """The ledger row an event is worth, or None when it earns or costs nothing."""
    if event.type == RULE_ACTION_COMPLETED and event.HasField("action_completed"):
        points = event.action_completed.points
        action_key = event.action_completed.action_key
    elif event.type == RULE_ACTION_OVERDUE and event.HasField("action_overdue"):
        # The template states the penalty as a negative number; a positive one is a typo
        # in someone's template, and an overdue action must never earn points.
        points = -abs(event.action_overdue.points)
        action_key = event.action_overdue.action_key
    else:
        return None

    if points == 0:
        return None
    if not event.rep_id:
        logger.warning("event id=%s type=%s has no rep; no entry", event.id, event.type)
        return None
    return {
        "rep_id": event.rep_id,
        "region": event.region,
        "points": points,
        "rule": event.type,
        "event_id": event.id,
        "opportunity_id": event.opportunity_id,
        "action_key": action_key,
        "occurred_at": event.time.ToDatetime(tzinfo=UTC),
        "recorded_at": recorded_at,
    }


async def record_events(
    sessions: async_sessionmaker[AsyncSession], events: Sequence[events_pb2.Event]
) -> int:
    """Appends one entry per priced event; returns how many were new.

    The whole batch is one transaction with its operation-log entry, so either every new
    entry and its log line are stored or none is.
    """
    recorded_at = utcnow()
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        row = price_event(event, recorded_at=recorded_at)
        if row is not None:
            # A batch may carry the same event twice (a redelivery beside the original).
            rows.setdefault((row["event_id"], row["rule"]), row)
    if not rows:
        return 0

    async with sessions.begin() as session:
        statement = insert_ignoring_duplicates(session, LedgerEntry, list(rows.values()))
        result = await session.execute(
            statement.returning(LedgerEntry.event_id, LedgerEntry.rule, LedgerEntry.points)
        )
        inserted = result.all()
        if inserted:
            await append_operation(
                session,
                caller=SYSTEM_CALLER,
                service=SERVICE,
                operation="ledger.appended",
                subject="points_ledger",
                payload={
                    "count": len(inserted),
                    "event_ids": sorted(event_id for event_id, _rule, _points in inserted),
                    "points": sum(points for _event_id, _rule, points in inserted),
                },
            )

    logger.info(
        "ledger batch events=%d priced=%d inserted=%d", len(events), len(rows), len(inserted)
    )
    return len(inserted)


async def rep_region(sessions: async_sessionmaker[AsyncSession], rep_id: str) -> str | None:
    """Where a rep works: the team directory first, else their latest entry; None if unknown."""
    async with sessions() as session:
        region = await session.scalar(select(Person.region).where(Person.person_id == rep_id))
        if region is not None:
            return region
        return await session.scalar(
            select(LedgerEntry.region)
            .where(LedgerEntry.rep_id == rep_id)
            .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc())
            .limit(1)
        )


async def balance(sessions: async_sessionmaker[AsyncSession], rep_id: str) -> RepBalance:
    """A rep's balance: the sum of their entries (zero for a rep without any)."""
    async with sessions() as session:
        points, entries = (
            await session.execute(
                select(func.coalesce(func.sum(LedgerEntry.points), 0), func.count()).where(
                    LedgerEntry.rep_id == rep_id
                )
            )
        ).one()
    return RepBalance(rep_id=rep_id, points=int(points), entries=int(entries))


async def list_entries(
    sessions: async_sessionmaker[AsyncSession], rep_id: str, *, limit: int
) -> list[LedgerEntry]:
    """A rep's entries, newest first."""
    async with sessions() as session:
        result = await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.rep_id == rep_id)
            .order_by(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc())
            .limit(limit)
        )
        return list(result)


async def leaderboard(
    sessions: async_sessionmaker[AsyncSession],
    *,
    region: str = "",
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int,
) -> list[LeaderboardRow]:
    """Reps ranked by points earned in [since, until), optionally within one region.

    Ties share a rank (1, 1, 3) and are listed by rep id. A rep who changed regions is
    shown with the region of their latest entry in the window.
    """
    conditions = []
    if region:
        conditions.append(LedgerEntry.region == region)
    if since is not None:
        conditions.append(LedgerEntry.occurred_at >= since)
    if until is not None:
        conditions.append(LedgerEntry.occurred_at < until)

    total = func.sum(LedgerEntry.points).label("total")
    totals_query = (
        select(LedgerEntry.rep_id, total)
        .where(*conditions)
        .group_by(LedgerEntry.rep_id)
        .order_by(total.desc(), LedgerEntry.rep_id)
        .limit(limit)
    )
    latest = (
        select(
            LedgerEntry.rep_id,
            LedgerEntry.region,
            func.row_number()
            .over(
                partition_by=LedgerEntry.rep_id,
                order_by=(LedgerEntry.occurred_at.desc(), LedgerEntry.entry_id.desc()),
            )
            .label("recency"),
        )
        .where(*conditions)
        .subquery()
    )
    async with sessions() as session:
        totals = (await session.execute(totals_query)).all()
        reps = [rep_id for rep_id, _total in totals]
        regions = dict(
            (
                await session.execute(
                    select(latest.c.rep_id, latest.c.region).where(
                        latest.c.recency == 1, latest.c.rep_id.in_(reps)
                    )
                )
            ).all()
        )

    rows: list[LeaderboardRow] = []
    for position, (rep_id, points) in enumerate(totals, start=1):
        rank = rows[-1].rank if rows and rows[-1].points == points else position
        rows.append(LeaderboardRow(rank, rep_id, regions.get(rep_id, ""), int(points)))
    return rows
