"""notifications: the notification outbox and notification routes

Revision ID: notifications_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "notifications_0001"
down_revision = None
branch_labels = ("notifications",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "notification_outbox",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("parts_sent", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", UtcDateTime(), nullable=False),
        sa.Column("claimed_by", sa.String(100)),
        sa.Column("claimed_until", UtcDateTime()),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("delivered_at", UtcDateTime()),
        sa.PrimaryKeyConstraint("id", name="pk_notification_outbox"),
        sa.UniqueConstraint(
            "event_id",
            "recipient",
            "channel",
            name="uq_notification_outbox_event_id_recipient_channel",
        ),
    )
    op.create_index(
        "ix_notification_outbox_due", "notification_outbox", ["status", "next_attempt_at"]
    )
    for column in ("recipient", "region"):
        op.create_index(f"ix_notification_outbox_{column}", "notification_outbox", [column])

    op.create_table(
        "notification_routes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(300), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_routes"),
        sa.UniqueConstraint(
            "recipient",
            "region",
            "channel",
            name="uq_notification_routes_recipient_region_channel",
        ),
    )


def downgrade() -> None:
    op.drop_table("notification_routes")
    op.drop_table("notification_outbox")
