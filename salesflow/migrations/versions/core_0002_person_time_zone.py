"""core: the zone each person in the team directory works in

Revision ID: core_0002
Revises: core_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "core_0002"
down_revision = "core_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # "" means the company calendar's zone; existing people keep that meaning.
    op.add_column(
        "people",
        sa.Column("time_zone", sa.String(64), nullable=False, server_default=""),
    )


def downgrade() -> None:
    op.drop_column("people", "time_zone")
