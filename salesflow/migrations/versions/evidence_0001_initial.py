"""evidence: the evidence records table

Revision ID: evidence_0001
Revises:
Depends on: core_0001
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "evidence_0001"
down_revision = None
branch_labels = ("evidence",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "evidence",
        sa.Column("evidence_id", sa.String(36), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(100), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("captured_at", UtcDateTime()),
        sa.Column("capture_time_source", sa.String(32), nullable=False),
        sa.Column("uploaded_at", UtcDateTime(), nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("evidence_id", name="pk_evidence"),
        sa.CheckConstraint(
            "capture_time_source IN ('exif', 'exif_assumed_offset', 'client', 'none')",
            name="ck_evidence_capture_time_source",
        ),
    )
    op.create_index("ix_evidence_opportunity_id", "evidence", ["opportunity_id"])
    op.create_index("ix_evidence_sha256", "evidence", ["sha256"])


def downgrade() -> None:
    op.drop_table("evidence")
