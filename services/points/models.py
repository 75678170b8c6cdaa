"""Tables the points service owns: the append-only ledger, the events it priced, the
template version each pipeline runs, closed quarters and the redemption pool.

A balance is never stored; it is the sum of a rep's entries. Every entry has an
`entry_key` that says why it exists exactly once (an event and a rule, a milestone's rep,
action and window, a redemption's hold or refund, a recalculation's adjustment), and the
key is unique, so no redelivery, retry or race can add it twice. The database refuses to
change or remove an entry, or to add one to a closed quarter (migration points_0002).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime

# Entry kinds, in the order the quarterly export lists them.
EARNED = "earned"
PENALTY = "penalty"
BONUS = "bonus"
ADJUSTMENT = "adjustment"
REDEMPTION = "redemption"
REFUND = "refund"
KINDS = (EARNED, PENALTY, BONUS, ADJUSTMENT, REDEMPTION, REFUND)

# What became of an event the ledger received.
PRICED = "priced"
# Its pipeline's template is not known yet (pipeline.started not seen): priced as soon
# as it is.
WAITING = "waiting"
# It happened in a closed quarter: kept, listed with the reason, never entered.
PARKED = "parked"


class LedgerEntry(Base):
    """One change to a rep's points; rows are only ever inserted."""

    __tablename__ = "points_ledger"

    entry_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    # The rep's manager when it happened (the leaderboard's team).
    team: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    points: Mapped[int] = mapped_column(Integer, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    # The rule that priced it ("completion", "quality:<key>", ...) and which version of the
    # rules: the template id and version ("b2b-default@2").
    rule: Mapped[str] = mapped_column(String(64), nullable=False)
    rule_version: Mapped[str] = mapped_column(String(120), nullable=False)
    # The event that caused it; "redemption:<id>" for the pool's entries.
    event_id: Mapped[str] = mapped_column(String(300), nullable=False, index=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    label: Mapped[str] = mapped_column(String(300), nullable=False)
    # When the action happened (workflow time), which is what periods and boards count.
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    # The quarter of occurred_at in the company's time zone, e.g. "2026Q1".
    period: Mapped[str] = mapped_column(String(8), nullable=False, index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # Why this entry exists, once; unique.
    entry_key: Mapped[str] = mapped_column(String(1000), nullable=False, unique=True)
    # What it prices: an adjustment shares the item of the entry it corrects, so an item's
    # value is the sum of its entries.
    item_key: Mapped[str] = mapped_column(String(1000), nullable=False, index=True)


class PricedEvent(Base):
    """An action event the ledger received, with what it needs to be priced again."""

    __tablename__ = "points_facts"
    __table_args__ = (
        # Milestones count a rep's completions of one action in a window.
        Index("ix_points_facts_rep_action_time", "rep_id", "action_key", "occurred_at"),
    )

    event_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    on_time: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Evidence files presented with the completion.
    attachments: Mapped[int] = mapped_column(Integer, nullable=False)
    answers_given: Mapped[int] = mapped_column(Integer, nullable=False)
    # The points the event itself carried (the workflow's copy of the template).
    event_points: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    reason: Mapped[str] = mapped_column(Text, nullable=False, default="")
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class PipelineRules(Base):
    """From when a pipeline ran on which template version (pipeline.started and every
    pipeline.template_changed)."""

    __tablename__ = "points_pipelines"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    event_id: Mapped[str] = mapped_column(String(300), nullable=False, unique=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    effective_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    template_id: Mapped[str] = mapped_column(String(100), nullable=False)
    template_version: Mapped[int] = mapped_column(Integer, nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)


class Period(Base):
    """A quarter; closed once exported for the bonus calculation, with what was exported."""

    __tablename__ = "points_periods"

    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_by: Mapped[str] = mapped_column(String(200), nullable=False, default="")
    csv: Mapped[bytes | None] = mapped_column(LargeBinary)
    xlsx: Mapped[bytes | None] = mapped_column(LargeBinary)
    reps: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    total: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


class Account(Base):
    """One row per rep, locked (SELECT ... FOR UPDATE) by every write that must see the
    rep's balance unchanged until it commits. It holds no balance: that is the sum."""

    __tablename__ = "points_accounts"

    rep_id: Mapped[str] = mapped_column(String(200), primary_key=True)


class Reward(Base):
    """Something points buy: paid leave, a training seat, priority in lead allocation."""

    __tablename__ = "points_rewards"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    stock: Mapped[int] = mapped_column(Integer, nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)


class Redemption(Base):
    __tablename__ = "points_redemptions"
    __table_args__ = (UniqueConstraint("rep_id", "idempotency_key"),)

    redemption_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    reward_key: Mapped[str] = mapped_column(String(64), nullable=False)
    price: Mapped[int] = mapped_column(Integer, nullable=False)
    # pending, approved, rejected or cancelled.
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    note: Mapped[str] = mapped_column(Text, nullable=False, default="")
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    decided_by: Mapped[str] = mapped_column(String(200), nullable=False, default="")
