"""points: the append-only points ledger

Revision ID: points_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "points_0001"
down_revision = None
branch_labels = ("points",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "points_ledger",
        sa.Column(
            "entry_id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("points", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(64), nullable=False),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_points_ledger"),
        sa.UniqueConstraint("event_id", "rule", name="uq_points_ledger_event_id_rule"),
    )
    for column in ("rep_id", "region", "opportunity_id", "occurred_at"):
        op.create_index(f"ix_points_ledger_{column}", "points_ledger", [column])


def downgrade() -> None:
    op.drop_table("points_ledger")
