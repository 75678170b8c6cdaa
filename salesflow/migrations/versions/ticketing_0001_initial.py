"""ticketing: tickets to legal and logistics and their history

Revision ID: ticketing_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "ticketing_0001"
down_revision = None
branch_labels = ("ticketing",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("ticket_key", sa.String(300), nullable=False),
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("opened_at", UtcDateTime(), nullable=False),
        sa.Column("response_due_at", UtcDateTime(), nullable=False),
        sa.Column("response_target_minutes", sa.Integer(), nullable=False),
        sa.Column("first_response_at", UtcDateTime()),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("assignee_id", sa.String(200), nullable=False),
        sa.Column("resolution_note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("ticket_key", name="pk_tickets"),
    )
    for column in ("department", "opportunity_id", "rep_id", "region", "status"):
        op.create_index(f"ix_tickets_{column}", "tickets", [column])

    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_key", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("actor_id", sa.String(200), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_events"),
    )
    op.create_index("ix_ticket_events_ticket_key", "ticket_events", ["ticket_key"])


def downgrade() -> None:
    op.drop_table("ticket_events")
    op.drop_table("tickets")
