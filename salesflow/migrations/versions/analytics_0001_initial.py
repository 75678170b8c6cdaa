"""analytics: received events, pipeline and action facts, strategy uses, tickets

Revision ID: analytics_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

# The covering indexes' extra columns, as the model declares them (fixed here: a later
# change to the model needs a migration of its own).
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

revision = "analytics_0001"
down_revision = None
branch_labels = ("analytics",)
depends_on = "core_0001"


def _id() -> sa.Column:
    return sa.Column(
        "id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    op.create_table(
        "analytics_events",
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_analytics_events"),
    )
    op.create_index("ix_analytics_events_opportunity_id", "analytics_events", ["opportunity_id"])

    op.create_table(
        "analytics_pipelines",
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("contract_reached_at", UtcDateTime()),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("actions_completed", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("opportunity_id", name="pk_analytics_pipelines"),
    )
    op.create_index(
        "ix_analytics_pipelines_rep_started", "analytics_pipelines", ["rep_id", "started_at"]
    )

    op.create_table(
        "analytics_action_facts",
        _id(),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("due_at", UtcDateTime()),
        sa.Column("completed_at", UtcDateTime()),
        sa.Column("ended_at", UtcDateTime()),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("due", sa.Boolean(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("overdue", sa.Boolean(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("evidence_count", sa.Integer(), nullable=False),
        sa.Column("evidence_required", sa.Integer(), nullable=False),
        sa.Column("answers_given", sa.Integer(), nullable=False),
        sa.Column("answers_required", sa.Integer(), nullable=False),
        sa.Column("paused_seconds", sa.Float(), nullable=False),
        sa.Column("duration_seconds", sa.Float()),
        sa.Column("q_evidence", sa.Float()),
        sa.Column("q_answers", sa.Float()),
        sa.Column("q_timeliness", sa.Float()),
        sa.Column("q_feedback", sa.Float()),
        sa.Column("result", sa.String(8)),
        sa.Column("contract_lag_seconds", sa.Float()),
        sa.Column("pipeline_outcome", sa.String(8), nullable=False),
        sa.Column("strategies", sa.JSON(), nullable=False),
        sa.Column("strategy_count", sa.Integer(), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_action_facts"),
        sa.UniqueConstraint(
            "opportunity_id",
            "action_key",
            "occurrence",
            name="uq_analytics_action_facts_instance",
        ),
    )
    facts = "analytics_action_facts"
    for name, columns in (
        ("started", ["started_at"]),
        ("region_started", ["region", "started_at"]),
        ("rep_started", ["rep_id", "started_at"]),
        ("team_started", ["manager_id", "started_at"]),
        ("rep_day", ["rep_id", "day"]),
        ("rep_action_done", ["rep_id", "action_key", "completed_at"]),
    ):
        op.create_index(f"ix_{facts}_{name}", facts, columns)
    op.create_index(
        f"ix_{facts}_done_completed",
        facts,
        ["completed_at"],
        postgresql_include=list(CONVERSION_COLUMNS),
        postgresql_where=sa.text("status = 'done'"),
    )
    op.create_index(
        f"ix_{facts}_ended", facts, ["ended_at"], postgresql_include=list(BOTTLENECK_COLUMNS)
    )

    op.create_table(
        "analytics_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        *(
            sa.Column(name, sa.Integer(), nullable=False)
            for name in (
                "instances",
                "due",
                "on_time",
                "done",
                "with_evidence",
                "with_strategies",
                "convertible",
                "converted",
            )
        ),
        *(
            sa.Column(name, sa.Float(), nullable=False)
            for name in ("q_evidence", "q_answers", "q_timeliness", "q_feedback")
        ),
        sa.PrimaryKeyConstraint(
            "day", "action_key", "region", "manager_id", "rep_id", name="pk_analytics_daily"
        ),
    )
    op.create_index("ix_analytics_daily_rep_day", "analytics_daily", ["rep_id", "day"])
    op.create_index("ix_analytics_daily_team_day", "analytics_daily", ["manager_id", "day"])

    op.create_table(
        "analytics_strategy_uses",
        _id(),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("occurrence", sa.Integer(), nullable=False),
        sa.Column("strategy", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("completed_at", UtcDateTime(), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("topic", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_analytics_strategy_uses"),
        sa.UniqueConstraint(
            "opportunity_id",
            "action_key",
            "occurrence",
            "strategy",
            name="uq_analytics_strategy_uses_use",
        ),
    )
    op.create_index(
        "ix_analytics_strategy_uses_team",
        "analytics_strategy_uses",
        ["manager_id", "action_key", "completed_at"],
    )
    op.create_index(
        "ix_analytics_strategy_uses_rep",
        "analytics_strategy_uses",
        ["rep_id", "action_key", "completed_at"],
    )

    op.create_table(
        "analytics_tickets",
        sa.Column("ticket_key", sa.String(300), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("response_target_minutes", sa.Integer(), nullable=False),
        sa.Column("first_response_at", UtcDateTime()),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("ticket_key", name="pk_analytics_tickets"),
    )
    op.create_index("ix_analytics_tickets_opportunity_id", "analytics_tickets", ["opportunity_id"])
    op.create_index("ix_analytics_tickets_requested_at", "analytics_tickets", ["requested_at"])


def downgrade() -> None:
    for table in (
        "analytics_daily",
        "analytics_tickets",
        "analytics_strategy_uses",
        "analytics_action_facts",
        "analytics_pipelines",
        "analytics_events",
    ):
        op.drop_table(table)
