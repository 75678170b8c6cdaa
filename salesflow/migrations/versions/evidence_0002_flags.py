"""evidence: upload flags, the camera's local time, and records that cannot change

Revision ID: evidence_0002
Revises: evidence_0001
"""

import sqlalchemy as sa
from alembic import op

revision = "evidence_0002"
down_revision = "evidence_0001"
branch_labels = None
depends_on = None

_REFUSAL = "evidence records are immutable; upload a correction as a new file"


def upgrade() -> None:
    op.add_column("evidence", sa.Column("captured_local", sa.DateTime(timezone=False)))
    op.add_column(
        "evidence",
        sa.Column("flags", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )
    op.add_column(
        "evidence",
        sa.Column("reused_from", sa.JSON(), nullable=False, server_default=sa.text("'[]'")),
    )

    # The history of uploads is evidence itself: the database refuses to edit or remove it,
    # whichever program asks.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION evidence_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER evidence_immutable BEFORE UPDATE OR DELETE ON evidence "
            "FOR EACH ROW EXECUTE FUNCTION evidence_refuse_change()"
        )
    else:
        for change in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER evidence_no_{change.lower()} BEFORE {change} ON evidence "
                f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER evidence_immutable ON evidence")
        op.execute("DROP FUNCTION evidence_refuse_change()")
    else:
        op.execute("DROP TRIGGER evidence_no_update")
        op.execute("DROP TRIGGER evidence_no_delete")
    with op.batch_alter_table("evidence") as batch:
        batch.drop_column("reused_from")
        batch.drop_column("flags")
        batch.drop_column("captured_local")
