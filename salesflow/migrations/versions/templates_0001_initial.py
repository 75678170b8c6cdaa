"""templates: immutable action template versions and pipelines moved between them

Revision ID: templates_0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "templates_0001"
down_revision = None
branch_labels = ("templates",)
depends_on = "core_0001"


def upgrade() -> None:
    op.create_table(
        "template_versions",
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("yaml_source", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("action_keys", sa.Text(), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("template_id", "version", name="pk_template_versions"),
    )

    op.create_table(
        "template_moves",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=False),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("moved_at", UtcDateTime(), nullable=False),
        sa.Column("moved_by", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_template_moves"),
    )
    op.create_index("ix_template_moves_opportunity_id", "template_moves", ["opportunity_id"])


def downgrade() -> None:
    op.drop_table("template_moves")
    op.drop_table("template_versions")
