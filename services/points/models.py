"""Tables the points service owns: the append-only points ledger.

A balance is never stored; it is the sum of a rep's entries. Each entry names the event
and the rule that priced it, and (event_id, rule) is unique, so a redelivered event can
never add a second entry.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime


class LedgerEntry(Base):
    """One change to a rep's points; rows are only ever inserted."""

    __tablename__ = "points_ledger"
    __table_args__ = (UniqueConstraint("event_id", "rule"),)

    entry_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    # The rule that priced the entry, e.g. "action.completed" or "action.overdue".
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    event_id: Mapped[str] = mapped_column(String(300), nullable=False)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    # When the action happened (workflow time), which is what leaderboard windows count.
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
