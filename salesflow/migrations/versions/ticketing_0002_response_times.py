"""ticketing: response targets in business hours, escalations, comments, departments

Revision ID: ticketing_0002
Revises: ticketing_0001
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "ticketing_0002"
down_revision = "ticketing_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Batch mode: SQLite (the demo's database) rebuilds the table, PostgreSQL alters it.
    with op.batch_alter_table("tickets") as batch:
        batch.alter_column("response_due_at", new_column_name="respond_by")
        # "changes_requested" is longer than the 16 characters statuses had.
        batch.alter_column("status", type_=sa.String(32), existing_nullable=False)
        batch.add_column(
            sa.Column("first_responder_id", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("status_changed_at", UtcDateTime()))
        batch.add_column(sa.Column("occurrence", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(
            sa.Column("previous_ticket_key", sa.String(300), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("resubmissions", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column("escalation_level", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(sa.Column("escalated_at", UtcDateTime()))
        # Tickets opened before calendars were kept count on the default calendar ("").
        batch.add_column(sa.Column("calendar", sa.Text(), nullable=False, server_default=""))
        batch.add_column(
            sa.Column("clock_shift_seconds", sa.Float(), nullable=False, server_default="0")
        )
        batch.create_index("ix_tickets_assignee_id", ["assignee_id"])
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("status", type_=sa.String(32), existing_nullable=False)

    op.create_table(
        "ticket_comments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ticket_key", sa.String(300), nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("author_role", sa.String(32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_ticket_comments"),
    )
    op.create_index("ix_ticket_comments_ticket_key", "ticket_comments", ["ticket_key"])

    op.create_table(
        "ticket_departments",
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("head_id", sa.String(200), nullable=False),
        sa.Column("calendar", sa.Text(), nullable=False),
        sa.Column("escalate_after", sa.JSON(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("department", name="pk_ticket_departments"),
    )
    op.create_table(
        "department_members",
        sa.Column("department", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("department", "person_id", name="pk_department_members"),
    )


def downgrade() -> None:
    op.drop_table("department_members")
    op.drop_table("ticket_departments")
    op.drop_table("ticket_comments")
    with op.batch_alter_table("ticket_events") as batch:
        batch.alter_column("status", type_=sa.String(16), existing_nullable=False)
    with op.batch_alter_table("tickets") as batch:
        batch.drop_index("ix_tickets_assignee_id")
        for column in (
            "clock_shift_seconds",
            "calendar",
            "escalated_at",
            "escalation_level",
            "resubmissions",
            "previous_ticket_key",
            "occurrence",
            "status_changed_at",
            "first_responder_id",
        ):
            batch.drop_column(column)
        batch.alter_column("status", type_=sa.String(16), existing_nullable=False)
        batch.alter_column("respond_by", new_column_name="response_due_at")
