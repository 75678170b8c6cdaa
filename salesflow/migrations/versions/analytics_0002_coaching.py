"""analytics: coaching — training tasks and the reviews that gave them

Revision ID: analytics_0002
Revises: analytics_0001
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "analytics_0002"
down_revision = "analytics_0001"
branch_labels = None
depends_on = None


def _id(name: str) -> sa.Column:
    return sa.Column(
        name,
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        primary_key=True,
        autoincrement=True,
    )


def upgrade() -> None:
    tasks = "analytics_training_tasks"
    op.create_table(
        tasks,
        _id("task_id"),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("metric", sa.String(16), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("instructions", sa.Text(), nullable=False),
        sa.Column("value_at_creation", sa.Float(), nullable=False),
        sa.Column("benchmark", sa.Float(), nullable=False),
        sa.Column("top_performers", sa.JSON(), nullable=False),
        sa.Column("benchmark_mix", sa.JSON(), nullable=False),
        sa.Column("cases", sa.JSON(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("completed_by", sa.String(200)),
        sa.Column("completed_at", UtcDateTime()),
        sa.Column("submission", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("task_id", name=f"pk_{tasks}"),
    )
    op.create_index(
        f"uq_{tasks}_open",
        tasks,
        ["rep_id", "action_key", "metric", "kind"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
        sqlite_where=sa.text("status = 'open'"),
    )
    op.create_index(f"ix_{tasks}_rep_created", tasks, ["rep_id", "created_at"])
    op.create_index(f"ix_{tasks}_region_created", tasks, ["region", "created_at"])

    reviews = "analytics_coaching_reviews"
    op.create_table(
        reviews,
        _id("review_id"),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("reviewed_by", sa.String(200), nullable=False),
        sa.Column("reviewed_at", UtcDateTime(), nullable=False),
        sa.Column("top_actions", sa.JSON(), nullable=False),
        sa.Column("weaknesses", sa.Integer(), nullable=False),
        sa.Column("tasks_created", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("review_id", name=f"pk_{reviews}"),
    )
    op.create_index(f"ix_{reviews}_rep_reviewed", reviews, ["rep_id", "reviewed_at"])


def downgrade() -> None:
    op.drop_table("analytics_coaching_reviews")
    op.drop_table("analytics_training_tasks")
