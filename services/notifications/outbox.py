"""The notification outbox: notices are written here first and delivered from here.

Writing: a batch of events becomes outbox rows in one transaction with INSERT ... ON
CONFLICT DO NOTHING on (event_id, recipient, channel), so a redelivered event adds nothing.

Delivering: a dispatcher claims due rows (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so
dispatchers never claim the same row; SQLite has one writer and needs no lock), marks
them `sending` with a lease, and reports each outcome back through the functions here.
Every update checks that the row is still the caller's claim. A row whose lease ran out
while `sending` belonged to a dispatcher that stopped mid-send; it is claimed again.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from salesflow.core.caller import Caller
from salesflow.core.db import insert_ignoring_duplicates, utcnow
from salesflow.core.errors import FailedPrecondition, NotFound
from salesflow.core.oplog import append_operation
from salesflow.events.v1 import events_pb2
from services.notifications.models import (
    STATUS_DEAD,
    STATUS_DELIVERED,
    STATUS_FAILED,
    STATUS_PENDING,
    STATUS_SENDING,
    Notification,
)
from services.notifications.notices import Notice, notices_for
from services.notifications.routes import load_route_book

logger = logging.getLogger(__name__)

SERVICE = "notifications"
# Longest error kept on a row; the log has the rest.
MAX_ERROR_CHARS = 2000


async def enqueue_events(
    sessions: async_sessionmaker[AsyncSession],
    events: Sequence[events_pb2.Event],
    *,
    zone: ZoneInfo,
    now: datetime | None = None,
) -> int:
    """Writes the notices of a batch of events into the outbox; returns how many were new."""
    notices = [notice for event in events for notice in notices_for(event, zone=zone)]
    if not notices:
        return 0
    now = now or utcnow()

    async with sessions.begin() as session:
        routes = await load_route_book(session, (notice.recipient for notice in notices))
        rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        for notice in notices:
            for destination in routes.destinations(notice.recipient, notice.region):
                row = _row(notice, destination.channel, destination.target, now)
                # A batch may carry an event twice (a redelivery beside the original).
                rows.setdefault((notice.event_id, notice.recipient, destination.channel), row)
        result = await session.execute(
            insert_ignoring_duplicates(session, Notification, list(rows.values())).returning(
                Notification.id
            )
        )
        inserted = len(result.all())

    logger.info(
        "outbox batch events=%d notices=%d rows=%d new=%d",
        len(events),
        len(notices),
        len(rows),
        inserted,
    )
    return inserted


def _row(notice: Notice, channel: str, target: str, now: datetime) -> dict[str, Any]:
    return {
        "event_id": notice.event_id,
        "recipient": notice.recipient,
        "channel": channel,
        "target": target,
        "kind": notice.kind,
        "subject": notice.subject[:500],
        "body": notice.body,
        "opportunity_id": notice.opportunity_id,
        "region": notice.region,
        "occurred_at": notice.occurred_at,
        "created_at": now,
        "status": STATUS_PENDING,
        "attempts": 0,
        "parts_sent": 0,
        "next_attempt_at": now,
        "last_error": "",
    }


# ---- the dispatcher's side ---------------------------------------------------------------


async def claim_due(
    sessions: async_sessionmaker[AsyncSession],
    *,
    owner: str,
    now: datetime,
    lease: timedelta,
    limit: int,
) -> list[Notification]:
    """Claims up to `limit` rows that are due, oldest due first, for `owner` until the lease
    ends. Rows left `sending` by a dispatcher whose lease ran out are due again."""
    due = or_(
        and_(
            Notification.status.in_((STATUS_PENDING, STATUS_FAILED)),
            Notification.next_attempt_at <= now,
        ),
        and_(Notification.status == STATUS_SENDING, Notification.claimed_until < now),
    )
    async with sessions.begin() as session:
        rows = list(
            await session.scalars(
                select(Notification)
                .where(due)
                .order_by(Notification.next_attempt_at, Notification.id)
                .limit(limit)
                .with_for_update(skip_locked=True)
            )
        )
        for row in rows:
            if row.status == STATUS_SENDING:
                # The at-least-once boundary: this one may have gone out before its
                # dispatcher stopped, and now goes out again.
                logger.warning(
                    "notification id=%s was being sent by %s when it stopped; sending again",
                    row.id,
                    row.claimed_by,
                )
            row.status = STATUS_SENDING
            row.claimed_by = owner
            row.claimed_until = now + lease
    return rows


def _claimed(row: Notification, owner: str) -> Any:
    return and_(
        Notification.id == row.id,
        Notification.claimed_by == owner,
        Notification.status == STATUS_SENDING,
    )


async def mark_delivered(
    sessions: async_sessionmaker[AsyncSession],
    rows: Sequence[Notification],
    *,
    owner: str,
    now: datetime,
) -> None:
    """Records that the rows went out."""
    async with sessions.begin() as session:
        result = await session.execute(
            update(Notification)
            .where(
                Notification.id.in_([row.id for row in rows]),
                Notification.claimed_by == owner,
                Notification.status == STATUS_SENDING,
            )
            .values(
                status=STATUS_DELIVERED,
                delivered_at=now,
                claimed_by=None,
                claimed_until=None,
                next_attempt_at=now,
            )
        )
    if result.rowcount != len(rows):
        # Another dispatcher took them over after the lease ran out: they go out twice.
        logger.warning(
            "%d of notifications %s were delivered after their claim ran out",
            len(rows) - result.rowcount,
            [row.id for row in rows],
        )


async def record_parts_sent(
    sessions: async_sessionmaker[AsyncSession], row: Notification, *, owner: str, parts: int
) -> None:
    """Records how many parts of a long notice went out, so a retry sends only the rest."""
    async with sessions.begin() as session:
        await session.execute(
            update(Notification).where(_claimed(row, owner)).values(parts_sent=parts)
        )
    row.parts_sent = parts


async def mark_failed(
    sessions: async_sessionmaker[AsyncSession],
    row: Notification,
    *,
    owner: str,
    error: str,
    retry_at: datetime | None,
) -> str:
    """Counts a failed attempt: retried at `retry_at`, or dead when that is None.

    Returns the row's new status.
    """
    status = STATUS_FAILED if retry_at is not None else STATUS_DEAD
    async with sessions.begin() as session:
        await session.execute(
            update(Notification)
            .where(_claimed(row, owner))
            .values(
                status=status,
                attempts=Notification.attempts + 1,
                last_error=error[:MAX_ERROR_CHARS],
                next_attempt_at=retry_at or row.next_attempt_at,
                claimed_by=None,
                claimed_until=None,
            )
        )
    return status


async def release(
    sessions: async_sessionmaker[AsyncSession],
    rows: Sequence[Notification],
    *,
    owner: str,
    at: datetime,
    note: str = "",
) -> None:
    """Gives rows back unsent, due again at `at`; no attempt is counted (rate limits, stop).

    `note` replaces the last error of rows that never failed, so a waiting row says why.
    """
    if not rows:
        return
    never_failed = Notification.attempts == 0
    values: dict[str, Any] = {
        "status": case((never_failed, STATUS_PENDING), else_=STATUS_FAILED),
        "next_attempt_at": at,
        "claimed_by": None,
        "claimed_until": None,
    }
    if note:
        values["last_error"] = case(
            (never_failed, note[:MAX_ERROR_CHARS]), else_=Notification.last_error
        )
    async with sessions.begin() as session:
        await session.execute(
            update(Notification)
            .where(
                Notification.id.in_([row.id for row in rows]),
                Notification.claimed_by == owner,
                Notification.status == STATUS_SENDING,
            )
            .values(**values)
        )


# ---- reading and the admin's retry ---------------------------------------------------------


async def list_notifications(
    sessions: async_sessionmaker[AsyncSession],
    *,
    conditions: list[Any],
    page_size: int,
    after_id: int | None,
) -> tuple[list[Notification], int | None]:
    """Rows matching the conditions, newest first; returns the page and the last id when
    another page follows."""
    query = select(Notification).where(*conditions).order_by(Notification.id.desc())
    if after_id is not None:
        query = query.where(Notification.id < after_id)
    async with sessions() as session:
        rows = list(await session.scalars(query.limit(page_size + 1)))
    more = len(rows) > page_size
    rows = rows[:page_size]
    return rows, (rows[-1].id if more else None)


async def retry(
    sessions: async_sessionmaker[AsyncSession],
    caller: Caller,
    notification_id: int,
    *,
    now: datetime | None = None,
) -> Notification:
    """Makes a dead or failed notice due now with its attempts reset; logged as an operation."""
    now = now or utcnow()
    async with sessions.begin() as session:
        row = await session.get(Notification, notification_id, with_for_update=True)
        if row is None:
            raise NotFound(f"notification {notification_id} does not exist")
        if row.status not in (STATUS_DEAD, STATUS_FAILED):
            raise FailedPrecondition(
                f"notification {notification_id} is {row.status}; only dead or failed "
                "notices are retried (a delivered one would arrive twice)"
            )
        previous = row.status
        row.status = STATUS_PENDING
        row.attempts = 0
        row.next_attempt_at = now
        await append_operation(
            session,
            caller=caller,
            service=SERVICE,
            operation="notification.retried",
            subject=f"notification:{notification_id}",
            payload={"was": previous, "last_error": row.last_error, "channel": row.channel},
        )
    logger.info("notification id=%s retried by %s (was %s)", notification_id, caller.id, previous)
    return row
