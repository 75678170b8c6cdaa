"""Tables the analytics service owns: the events it has read, and the facts folded from them.

`analytics_events` keeps every event the projection received (the serialised envelope),
keyed by event id: a redelivery is recognised by its id, and a pipeline's facts can be
folded again from its own events whatever order they arrived in. The fact tables are
derived: each pipeline's rows are replaced whole whenever one of its events arrives.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from salesflow.core.db import Base, UtcDateTime

# Instance statuses.
OPEN = "open"
DONE = "done"
# The pipeline closed while the instance was open.
SKIPPED = "skipped"

# What the customer did after a completed instance (see fold.result_of).
ACCEPTED = "accepted"
REJECTED = "rejected"
PENDING = "pending"


# Columns the covering indexes carry, so the raw-table queries read no table rows.
CONVERSION_COLUMNS = (
    "started_at",
    "action_key",
    "position",
    "region",
    "manager_id",
    "rep_id",
    "completed_at",
    "contract_lag_seconds",
)
BOTTLENECK_COLUMNS = (
    "started_at",
    "action_key",
    "position",
    "duration_seconds",
    "paused_seconds",
    "overdue",
    "region",
    "manager_id",
    "rep_id",
)


def _id_column():
    return mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )


class AnalyticsEvent(Base):
    """One event as the projection received it; the source every fact is folded from."""

    __tablename__ = "analytics_events"

    event_id: Mapped[str] = mapped_column(String(300), primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # The serialised salesflow.events.v1.Event.
    body: Mapped[bytes] = mapped_column(LargeBinary, nullable=False)


class PipelineFact(Base):
    """One pipeline: who owns it, when it started, reached the contract stage and closed."""

    __tablename__ = "analytics_pipelines"
    # A rep's first pipeline, and the ones they won soon after it (the self-check).
    __table_args__ = (Index("ix_analytics_pipelines_rep_started", "rep_id", "started_at"),)

    opportunity_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    template_id: Mapped[str] = mapped_column(String(100), nullable=False)
    template_version: Mapped[int] = mapped_column(Integer, nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    contract_reached_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # "open", "won" or "lost".
    outcome: Mapped[str] = mapped_column(String(8), nullable=False)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    actions_completed: Mapped[int] = mapped_column(Integer, nullable=False)


class ActionFact(Base):
    """One action instance: one pipeline × action × occurrence, with its quality inputs."""

    __tablename__ = "analytics_action_facts"
    __table_args__ = (
        UniqueConstraint(
            "opportunity_id", "action_key", "occurrence", name="uq_analytics_action_facts_instance"
        ),
        # Period scans, alone or narrowed by region, rep or team (partial days, conversion).
        Index("ix_analytics_action_facts_started", "started_at"),
        Index("ix_analytics_action_facts_region_started", "region", "started_at"),
        Index("ix_analytics_action_facts_rep_started", "rep_id", "started_at"),
        Index("ix_analytics_action_facts_team_started", "manager_id", "started_at"),
        # Refreshing the daily rollup of one rep's day; the growth path's conversion.
        Index("ix_analytics_action_facts_rep_day", "rep_id", "day"),
        # Conversion: the most recent completions (whose window has not passed), read from
        # the index.
        Index(
            "ix_analytics_action_facts_done_completed",
            "completed_at",
            postgresql_include=CONVERSION_COLUMNS,
            postgresql_where=text("status = 'done'"),
        ),
        # Bottlenecks: instances that finished inside the period, and those still open
        # (NULL), read from the index.
        Index(
            "ix_analytics_action_facts_ended",
            "ended_at",
            postgresql_include=BOTTLENECK_COLUMNS,
        ),
        # Last outcomes: a rep's newest completions of one action type.
        Index("ix_analytics_action_facts_rep_action_done", "rep_id", "action_key", "completed_at"),
    )

    id: Mapped[int] = _id_column()
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    occurrence: Mapped[int] = mapped_column(Integer, nullable=False)
    # Place in the pipeline's template; -1 while unknown.
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # The start's date in the company's time zone (the daily rollup's key).
    day: Mapped[date] = mapped_column(Date, nullable=False)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    # Completion, or the pipeline's close for a skipped instance; None while open.
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    # Completed, or past its deadline uncompleted: counts in the completion rate.
    due: Mapped[bool] = mapped_column(Boolean, nullable=False)
    # Completed before its deadline (or without one).
    on_time: Mapped[bool] = mapped_column(Boolean, nullable=False)
    overdue: Mapped[bool] = mapped_column(Boolean, nullable=False)
    escalations: Mapped[int] = mapped_column(Integer, nullable=False)
    evidence_count: Mapped[int] = mapped_column(Integer, nullable=False)
    evidence_required: Mapped[int] = mapped_column(Integer, nullable=False)
    answers_given: Mapped[int] = mapped_column(Integer, nullable=False)
    answers_required: Mapped[int] = mapped_column(Integer, nullable=False)
    paused_seconds: Mapped[float] = mapped_column(Float, nullable=False)
    # ended_at − started_at − paused_seconds; None while open.
    duration_seconds: Mapped[float | None] = mapped_column(Float)
    # Quality components in [0, 1], completed instances only.
    q_evidence: Mapped[float | None] = mapped_column(Float)
    q_answers: Mapped[float | None] = mapped_column(Float)
    q_timeliness: Mapped[float | None] = mapped_column(Float)
    q_feedback: Mapped[float | None] = mapped_column(Float)
    # accepted / rejected / pending, completed instances only.
    result: Mapped[str | None] = mapped_column(String(8))
    # Seconds from completion to the pipeline's contract stage (negative: reached before).
    contract_lag_seconds: Mapped[float | None] = mapped_column(Float)
    pipeline_outcome: Mapped[str] = mapped_column(String(8), nullable=False)
    strategies: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    strategy_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # The other answers given with the action (e.g. the customer's objections), joined.
    topic: Mapped[str] = mapped_column(Text, nullable=False)


class StrategyUse(Base):
    """One response strategy used in one completed action instance, with its outcome."""

    __tablename__ = "analytics_strategy_uses"
    __table_args__ = (
        UniqueConstraint(
            "opportunity_id",
            "action_key",
            "occurrence",
            "strategy",
            name="uq_analytics_strategy_uses_use",
        ),
        Index("ix_analytics_strategy_uses_team", "manager_id", "action_key", "completed_at"),
        Index("ix_analytics_strategy_uses_rep", "rep_id", "action_key", "completed_at"),
    )

    id: Mapped[int] = _id_column()
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    occurrence: Mapped[int] = mapped_column(Integer, nullable=False)
    strategy: Mapped[str] = mapped_column(String(200), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    completed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    result: Mapped[str] = mapped_column(String(8), nullable=False)
    topic: Mapped[str] = mapped_column(Text, nullable=False)


class TicketFact(Base):
    """A ticket to another department: when it was requested and first answered."""

    __tablename__ = "analytics_tickets"

    ticket_key: Mapped[str] = mapped_column(String(300), primary_key=True)
    opportunity_id: Mapped[str] = mapped_column(String(100), nullable=False, index=True)
    department: Mapped[str] = mapped_column(String(32), nullable=False)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    response_target_minutes: Mapped[int] = mapped_column(Integer, nullable=False)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16), nullable=False)


class ActionDay(Base):
    """The daily rollup: additive figures of the instances that started on one day (in the
    company's time zone), per action type, region, team and rep.

    Rebuilt from ActionFact for every (rep, day) a batch touches, so it always equals the
    sums over the facts; queries read whole days here and partial days from the facts.
    Changing the contract action or the conversion window needs
    `salesflow analytics rebuild --from-store`.
    """

    __tablename__ = "analytics_daily"
    __table_args__ = (
        PrimaryKeyConstraint("day", "action_key", "region", "manager_id", "rep_id"),
        Index("ix_analytics_daily_rep_day", "rep_id", "day"),
        Index("ix_analytics_daily_team_day", "manager_id", "day"),
    )

    day: Mapped[date] = mapped_column(Date, nullable=False)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    # The lowest pipeline position seen for the action type (display order).
    position: Mapped[int] = mapped_column(Integer, nullable=False)
    instances: Mapped[int] = mapped_column(Integer, nullable=False)
    due: Mapped[int] = mapped_column(Integer, nullable=False)
    on_time: Mapped[int] = mapped_column(Integer, nullable=False)
    done: Mapped[int] = mapped_column(Integer, nullable=False)
    # Completed with at least one file, and completed with strategies recorded.
    with_evidence: Mapped[int] = mapped_column(Integer, nullable=False)
    with_strategies: Mapped[int] = mapped_column(Integer, nullable=False)
    # Completed instances of actions before the contract stage, and those of them whose
    # pipeline reached it within the configured window (SALESFLOW_ANALYTICS_CONVERSION_*).
    convertible: Mapped[int] = mapped_column(Integer, nullable=False)
    converted: Mapped[int] = mapped_column(Integer, nullable=False)
    # Sums of the completed instances' quality components.
    q_evidence: Mapped[float] = mapped_column(Float, nullable=False)
    q_answers: Mapped[float] = mapped_column(Float, nullable=False)
    q_timeliness: Mapped[float] = mapped_column(Float, nullable=False)
    q_feedback: Mapped[float] = mapped_column(Float, nullable=False)


# Tables derived from the stored events, in the order they are cleared.
FACT_TABLES = (StrategyUse, ActionFact, TicketFact, PipelineFact)
DERIVED_TABLES = (ActionDay, *FACT_TABLES)


# ---- coaching ---------------------------------------------------------------------------------
#
# Records, not derived rows: written by the coaching RPCs, never cleared by a rebuild.

# Training task kinds and statuses.
WATCH_BENCHMARK_CASES = "watch_benchmark_cases"
REWRITE_TALK_TRACK = "rewrite_talk_track"
TASK_OPEN = "open"
TASK_DONE = "done"


class TrainingTask(Base):
    """A task given to a rep for one weak metric of one action type."""

    __tablename__ = "analytics_training_tasks"
    __table_args__ = (
        # One open task per weakness and kind: creating it again finds this one.
        Index(
            "uq_analytics_training_tasks_open",
            "rep_id",
            "action_key",
            "metric",
            "kind",
            unique=True,
            postgresql_where=text("status = 'open'"),
            sqlite_where=text("status = 'open'"),
        ),
        Index("ix_analytics_training_tasks_rep_created", "rep_id", "created_at"),
        Index("ix_analytics_training_tasks_region_created", "region", "created_at"),
    )

    task_id: Mapped[int] = _id_column()
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    manager_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    action_key: Mapped[str] = mapped_column(String(100), nullable=False)
    # completion / quality / conversion / strategy_mix.
    metric: Mapped[str] = mapped_column(String(16), nullable=False)
    kind: Mapped[str] = mapped_column(String(32), nullable=False)
    status: Mapped[str] = mapped_column(String(8), nullable=False)
    instructions: Mapped[str] = mapped_column(Text, nullable=False)
    # The weakness as found: the rep's value, the top performers' and who they were.
    value_at_creation: Mapped[float] = mapped_column(Float, nullable=False)
    benchmark: Mapped[float] = mapped_column(Float, nullable=False)
    top_performers: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    # strategy_mix: {strategy: top performers' share}, what progress is measured against.
    benchmark_mix: Mapped[dict[str, float]] = mapped_column(JSON, nullable=False)
    # watch_benchmark_cases: the instances to watch, as dicts (see coaching.BenchmarkCase).
    cases: Mapped[list[dict]] = mapped_column(JSON, nullable=False)
    # Length of the before and after windows of its progress, in days.
    window_days: Mapped[int] = mapped_column(Integer, nullable=False)
    created_by: Mapped[str] = mapped_column(String(200), nullable=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    completed_by: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    submission: Mapped[str] = mapped_column(Text, nullable=False)


class CoachingReview(Base):
    """A rep's weaknesses gone through with them: which actions they improve first."""

    __tablename__ = "analytics_coaching_reviews"
    __table_args__ = (Index("ix_analytics_coaching_reviews_rep_reviewed", "rep_id", "reviewed_at"),)

    review_id: Mapped[int] = _id_column()
    rep_id: Mapped[str] = mapped_column(String(200), nullable=False)
    region: Mapped[str] = mapped_column(String(100), nullable=False)
    reviewed_by: Mapped[str] = mapped_column(String(200), nullable=False)
    reviewed_at: Mapped[datetime] = mapped_column(UtcDateTime, nullable=False)
    # The rep's first weak actions (at most 3), in order; empty: none against the top.
    top_actions: Mapped[list[str]] = mapped_column(JSON, nullable=False)
    weaknesses: Mapped[int] = mapped_column(Integer, nullable=False)
    tasks_created: Mapped[int] = mapped_column(Integer, nullable=False)


COACHING_TABLES = (TrainingTask, CoachingReview)
