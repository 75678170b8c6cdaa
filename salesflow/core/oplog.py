"""The tamper-evident operation log: every state change, hash-chained.

Each entry's hash covers the previous entry's hash and the entry's own canonical content,
so editing, removing or reordering any entry breaks every hash after it. Appends are
serialised (an advisory lock on PostgreSQL, the single writer on SQLite) so the chain has
exactly one order.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Integer, String, Text, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.caller import Caller
from salesflow.core.db import Base, UtcDateTime, utcnow

GENESIS_HASH = "0" * 64
# Any constant key works; it only has to be the same in every process.
OPLOG_LOCK_KEY = 0x5A1E5F10


class OperationLogEntry(Base):
    __tablename__ = "operation_log"

    seq: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    actor_id: Mapped[str] = mapped_column(String(200), nullable=False)
    actor_role: Mapped[str] = mapped_column(String(32), nullable=False)
    service: Mapped[str] = mapped_column(String(64), nullable=False)
    operation: Mapped[str] = mapped_column(String(128), nullable=False)
    subject: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    prev_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)


def entry_hash(
    prev_hash: str,
    *,
    recorded_at: datetime,
    actor_id: str,
    actor_role: str,
    service: str,
    operation: str,
    subject: str,
    payload: str,
) -> str:
    canonical = json.dumps(
        [
            prev_hash,
            recorded_at.isoformat(),
            actor_id,
            actor_role,
            service,
            operation,
            subject,
            payload,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass(frozen=True)
class Operation:
    """One state change to record: who did what to which subject."""

    caller: Caller
    service: str
    operation: str
    subject: str
    payload: dict[str, Any]


async def append_operations(
    session: AsyncSession, operations: list[Operation]
) -> list[OperationLogEntry]:
    """Appends entries inside the caller's transaction (they commit with the change).

    The chain's tail is read once under the lock and extended in memory, so a batch costs
    one lock and one flush however many entries it holds.
    """
    if not operations:
        return []
    if session.bind is not None and session.bind.dialect.name == "postgresql":
        await session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OPLOG_LOCK_KEY})
    prev_hash = await session.scalar(
        select(OperationLogEntry.hash).order_by(OperationLogEntry.seq.desc()).limit(1)
    )
    prev_hash = prev_hash or GENESIS_HASH

    entries = []
    for operation in operations:
        recorded_at = utcnow()
        body = json.dumps(operation.payload, ensure_ascii=False, sort_keys=True, default=str)
        fields = {
            "recorded_at": recorded_at,
            "actor_id": operation.caller.id,
            "actor_role": operation.caller.role.value,
            "service": operation.service,
            "operation": operation.operation,
            "subject": operation.subject,
            "payload": body,
        }
        entry = OperationLogEntry(
            **fields, prev_hash=prev_hash, hash=entry_hash(prev_hash, **fields)
        )
        entries.append(entry)
        prev_hash = entry.hash
    session.add_all(entries)
    await session.flush()
    return entries


async def append_operation(
    session: AsyncSession,
    *,
    caller: Caller,
    service: str,
    operation: str,
    subject: str,
    payload: dict[str, Any],
) -> OperationLogEntry:
    """Appends one entry inside the caller's transaction (it commits with the change)."""
    [entry] = await append_operations(
        session, [Operation(caller, service, operation, subject, payload)]
    )
    return entry


@dataclass
class ChainVerdict:
    entries: int
    intact: bool
    first_broken_seq: int | None = None
    reason: str = ""


async def verify_chain(session: AsyncSession) -> ChainVerdict:
    """Recomputes every hash in order; reports the first entry that does not fit."""
    expected_prev = GENESIS_HASH
    count = 0
    result = await session.stream_scalars(select(OperationLogEntry).order_by(OperationLogEntry.seq))
    async for entry in result:
        count += 1
        if entry.prev_hash != expected_prev:
            return ChainVerdict(count, False, entry.seq, "previous hash does not match")
        recomputed = entry_hash(
            entry.prev_hash,
            recorded_at=entry.recorded_at,
            actor_id=entry.actor_id,
            actor_role=entry.actor_role,
            service=entry.service,
            operation=entry.operation,
            subject=entry.subject,
            payload=entry.payload,
        )
        if recomputed != entry.hash:
            return ChainVerdict(count, False, entry.seq, "content does not match its hash")
        expected_prev = entry.hash
    return ChainVerdict(count, True)
