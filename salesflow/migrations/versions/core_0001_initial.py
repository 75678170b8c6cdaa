"""core: operation log, team directory and the pipeline read model

Revision ID: core_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "core_0001"
down_revision = None
branch_labels = ("core",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "operation_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("service", sa.String(64), nullable=False),
        sa.Column("operation", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_operation_log"),
        sa.UniqueConstraint("hash", name="uq_operation_log_hash"),
    )
    op.create_index("ix_operation_log_subject", "operation_log", ["subject"])

    op.create_table(
        "people",
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("manager_id", sa.String(200)),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_people"),
    )
    op.create_index("ix_people_region", "people", ["region"])

    op.create_table(
        "pipelines",
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("account", sa.String(200), nullable=False),
        sa.Column("product", sa.String(200), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("current_action", sa.String(100), nullable=False),
        sa.Column("current_position", sa.Integer(), nullable=False),
        sa.Column("current_since", UtcDateTime()),
        sa.Column("started_at", UtcDateTime(), nullable=False),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("actions_completed", sa.Integer(), nullable=False),
        sa.Column("overdue_actions", sa.Integer(), nullable=False),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.Column("reminders", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("opportunity_id", name="pk_pipelines"),
    )
    for column in ("rep_id", "region", "outcome", "current_action"):
        op.create_index(f"ix_pipelines_{column}", "pipelines", [column])

    op.create_table(
        "pipeline_projected_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_pipeline_projected_events"),
        sa.UniqueConstraint("event_id", name="uq_pipeline_projected_events_event_id"),
    )
    op.create_index(
        "ix_pipeline_projected_events_opportunity_id",
        "pipeline_projected_events",
        ["opportunity_id"],
    )
    op.create_index(
        "ix_pipeline_projected_events_event_type", "pipeline_projected_events", ["event_type"]
    )


def downgrade() -> None:
    op.drop_table("pipeline_projected_events")
    op.drop_table("pipelines")
    op.drop_table("people")
    op.drop_table("operation_log")
