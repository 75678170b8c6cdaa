"""The analytics read model kept up to date from the event stream, and rebuilt from it.

A batch of events is applied in one transaction: the new events are stored by id (a
redelivered event is recognised and changes nothing), then every pipeline they touch is
folded again from all of its stored events and its rows replaced. The rows are therefore a
function of the set of events received, whatever their order, and a rebuild that replays the
stream gives the rows the incremental projection gave.

Batches are applied one at a time (an advisory lock on PostgreSQL, the single writer on
SQLite), so two consumers never fold the same pipeline from different event sets.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC

from sqlalchemy import and_, delete, func, insert, select, text, tuple_
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.db import insert_ignoring_duplicates
from salesflow.events.v1 import events_pb2
from services.analytics.config import AnalyticsConfig
from services.analytics.fold import fold_pipeline
from services.analytics.models import (
    DERIVED_TABLES,
    DONE,
    FACT_TABLES,
    ActionDay,
    ActionFact,
    AnalyticsEvent,
    PipelineFact,
    StrategyUse,
    TicketFact,
)

logger = logging.getLogger(__name__)

# Any constant works; it only has to be the same in every process.
PROJECTION_LOCK_KEY = 0x5A1E5A11
# Pipelines folded per statement when many are touched at once.
CHUNK = 500


async def _lock(session: AsyncSession) -> None:
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"SELECT pg_advisory_xact_lock({PROJECTION_LOCK_KEY})"))


async def apply_events(
    sessions: async_sessionmaker[AsyncSession],
    events: Sequence[events_pb2.Event],
    config: AnalyticsConfig,
) -> int:
    """Stores the batch's new events and re-folds their pipelines; returns how many were new."""
    rows: dict[str, dict] = {}
    for event in events:
        rows.setdefault(
            event.id,
            {
                "event_id": event.id,
                "opportunity_id": event.opportunity_id,
                "event_type": event.type,
                "occurred_at": event.time.ToDatetime(tzinfo=UTC),
                "body": event.SerializeToString(),
            },
        )
    if not rows:
        return 0

    async with sessions.begin() as session:
        await _lock(session)
        statement = insert_ignoring_duplicates(session, AnalyticsEvent, list(rows.values()))
        inserted = (
            await session.execute(
                statement.returning(AnalyticsEvent.event_id, AnalyticsEvent.opportunity_id)
            )
        ).all()
        touched = {opportunity_id for _event_id, opportunity_id in inserted}
        if touched:
            await refold(session, touched, config)

    logger.debug(
        "analytics batch events=%d new=%d pipelines=%d", len(events), len(inserted), len(touched)
    )
    return len(inserted)


async def refold(
    session: AsyncSession, opportunity_ids: Iterable[str], config: AnalyticsConfig
) -> int:
    """Replaces the rows of these pipelines with a fresh fold of their stored events."""
    ids = sorted(set(opportunity_ids))
    for start in range(0, len(ids), CHUNK):
        await _refold_chunk(session, ids[start : start + CHUNK], config)
    return len(ids)


async def _refold_chunk(session: AsyncSession, ids: list[str], config: AnalyticsConfig) -> None:
    by_pipeline: dict[str, list[events_pb2.Event]] = defaultdict(list)
    bodies = await session.execute(
        select(AnalyticsEvent.opportunity_id, AnalyticsEvent.body).where(
            AnalyticsEvent.opportunity_id.in_(ids)
        )
    )
    for opportunity_id, body in bodies:
        event = events_pb2.Event()
        event.ParseFromString(body)
        by_pipeline[opportunity_id].append(event)

    pipelines, actions, strategies, tickets = [], [], [], []
    for opportunity_id in ids:
        folded = fold_pipeline(by_pipeline.get(opportunity_id, ()), config)
        if folded is None:
            continue
        pipelines.append(folded.pipeline)
        actions += folded.actions
        strategies += folded.strategies
        tickets += folded.tickets

    # The rollup days these pipelines' instances fall on, before and after the fold.
    days = set(
        (
            await session.execute(
                select(ActionFact.rep_id, ActionFact.day)
                .where(ActionFact.opportunity_id.in_(ids))
                .distinct()
            )
        ).all()
    )
    days |= {(row["rep_id"], row["day"]) for row in actions}

    for table in FACT_TABLES:
        await session.execute(delete(table).where(table.opportunity_id.in_(ids)))
    for table, rows in (
        (PipelineFact, pipelines),
        (ActionFact, actions),
        (StrategyUse, strategies),
        (TicketFact, tickets),
    ):
        if rows:
            await session.execute(insert(table), rows)
    await refresh_daily(session, days, config)


_DAILY_KEY = ("day", "action_key", "region", "manager_id", "rep_id")


def _daily_select(config: AnalyticsConfig):
    """The rollup rows, summed from the facts (one per day, action, region, team and rep)."""
    done = ActionFact.status == DONE
    convertible = and_(done, ActionFact.action_key != config.contract_action)
    window = config.conversion_window_days * 86400.0
    key = [getattr(ActionFact, name) for name in _DAILY_KEY]
    return select(
        *key,
        func.min(ActionFact.position),
        func.count(),
        func.count().filter(ActionFact.due),
        func.count().filter(ActionFact.on_time),
        func.count().filter(done),
        func.count().filter(and_(done, ActionFact.evidence_count > 0)),
        func.count().filter(and_(done, ActionFact.strategy_count > 0)),
        func.count().filter(convertible),
        func.count().filter(and_(convertible, ActionFact.contract_lag_seconds <= window)),
        *(
            func.coalesce(func.sum(getattr(ActionFact, name)), 0.0)
            for name in ("q_evidence", "q_answers", "q_timeliness", "q_feedback")
        ),
    ).group_by(*key)


_DAILY_COLUMNS = [
    *_DAILY_KEY,
    "position",
    "instances",
    "due",
    "on_time",
    "done",
    "with_evidence",
    "with_strategies",
    "convertible",
    "converted",
    "q_evidence",
    "q_answers",
    "q_timeliness",
    "q_feedback",
]


async def refresh_daily(
    session: AsyncSession, days: Iterable[tuple[str, object]], config: AnalyticsConfig
) -> None:
    """Sums the rollup again for these (rep, day) pairs from the facts."""
    pairs = sorted(set(days))
    for start in range(0, len(pairs), CHUNK):
        chunk = pairs[start : start + CHUNK]
        await session.execute(
            delete(ActionDay).where(tuple_(ActionDay.rep_id, ActionDay.day).in_(chunk))
        )
        await session.execute(
            insert(ActionDay).from_select(
                _DAILY_COLUMNS,
                _daily_select(config).where(tuple_(ActionFact.rep_id, ActionFact.day).in_(chunk)),
            )
        )


async def rebuild_daily(session: AsyncSession, config: AnalyticsConfig) -> None:
    """Sums the whole rollup again from the facts (after a bulk load of facts)."""
    await session.execute(delete(ActionDay))
    await session.execute(insert(ActionDay).from_select(_DAILY_COLUMNS, _daily_select(config)))


async def clear(sessions: async_sessionmaker[AsyncSession], *, keep_events: bool) -> None:
    """Empties the read model (and the stored events unless keep_events)."""
    tables = list(DERIVED_TABLES) + ([] if keep_events else [AnalyticsEvent])
    async with sessions.begin() as session:
        await _lock(session)
        if session.bind.dialect.name == "postgresql":
            names = ", ".join(table.__tablename__ for table in tables)
            await session.execute(text(f"TRUNCATE {names}"))
        else:
            for table in tables:
                await session.execute(delete(table))


async def refold_all(sessions: async_sessionmaker[AsyncSession], config: AnalyticsConfig) -> int:
    """Folds every pipeline again from the stored events; returns how many pipelines."""
    await clear(sessions, keep_events=True)
    async with sessions() as session:
        ids = list(
            await session.scalars(
                select(AnalyticsEvent.opportunity_id)
                .distinct()
                .order_by(AnalyticsEvent.opportunity_id)
            )
        )
    for start in range(0, len(ids), CHUNK):
        async with sessions.begin() as session:
            await _lock(session)
            await refold(session, ids[start : start + CHUNK], config)
    return len(ids)


async def count_pipelines(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(PipelineFact))
