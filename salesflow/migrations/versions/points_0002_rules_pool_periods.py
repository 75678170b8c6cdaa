"""points: entries name their rule version, kind and quarter; priced events, pipelines'
template versions, closed quarters, the redemption pool; the ledger refuses change

Revision ID: points_0002
Revises: points_0001
"""

import os
from datetime import UTC
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

from salesflow.core.db import UtcDateTime

revision = "points_0002"
down_revision = "points_0001"
branch_labels = None
depends_on = None

_REFUSAL = "points ledger entries are never changed; write an adjustment entry"
_CLOSED = "points period is closed"
_RULES = {"action.completed": ("completion", "earned"), "action.overdue": ("overdue", "penalty")}


def _quarter(moment, zone: ZoneInfo) -> str:
    local = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(zone)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def _extend_ledger() -> None:
    with op.batch_alter_table("points_ledger") as batch:
        for name, length in (
            ("kind", 16),
            ("rule_version", 120),
            ("label", 300),
            ("period", 8),
            ("team", 200),
            ("entry_key", 1000),
            ("item_key", 1000),
        ):
            batch.add_column(sa.Column(name, sa.String(length), nullable=False, server_default=""))

    # Entries written before this revision: named by the rules' new keys, dated in their
    # quarter of the company's time zone (no trigger guards the table yet).
    zone = ZoneInfo(os.environ.get("SALESFLOW_TIMEZONE") or "Asia/Shanghai")
    ledger = sa.table(
        "points_ledger",
        sa.column("entry_id", sa.Integer),
        sa.column("rule", sa.String),
        sa.column("event_id", sa.String),
        sa.column("occurred_at", UtcDateTime()),
        sa.column("kind", sa.String),
        sa.column("rule_version", sa.String),
        sa.column("period", sa.String),
        sa.column("entry_key", sa.String),
        sa.column("item_key", sa.String),
        sa.column("label", sa.String),
    )
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(ledger.c.entry_id, ledger.c.rule, ledger.c.event_id, ledger.c.occurred_at)
    ).all()
    for entry_id, rule, event_id, occurred_at in rows:
        new_rule, kind = _RULES.get(rule, (rule, "earned"))
        key = f"{event_id}|{new_rule}"
        connection.execute(
            ledger.update()
            .where(ledger.c.entry_id == entry_id)
            .values(
                rule=new_rule,
                kind=kind,
                rule_version="event",
                period=_quarter(occurred_at, zone),
                entry_key=key,
                item_key=key,
                label=f"{new_rule} (priced before rule versions were recorded)",
            )
        )

    with op.batch_alter_table("points_ledger") as batch:
        batch.drop_constraint("uq_points_ledger_event_id_rule", type_="unique")
        batch.create_unique_constraint("uq_points_ledger_entry_key", ["entry_key"])
        batch.create_index("ix_points_ledger_item_key", ["item_key"])
        batch.create_index("ix_points_ledger_event_id", ["event_id"])
        batch.create_index("ix_points_ledger_period", ["period"])


def _create_tables() -> None:
    op.create_table(
        "points_pipelines",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer, "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("effective_at", UtcDateTime(), nullable=False),
        sa.Column("template_id", sa.String(100), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("manager_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_points_pipelines"),
        sa.UniqueConstraint("event_id", name="uq_points_pipelines_event_id"),
    )
    op.create_index("ix_points_pipelines_opportunity_id", "points_pipelines", ["opportunity_id"])

    op.create_table(
        "points_facts",
        sa.Column("event_id", sa.String(300), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("opportunity_id", sa.String(100), nullable=False),
        sa.Column("action_key", sa.String(100), nullable=False),
        sa.Column("occurred_at", UtcDateTime(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.Column("attachments", sa.Integer(), nullable=False),
        sa.Column("answers_given", sa.Integer(), nullable=False),
        sa.Column("event_points", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=""),
        sa.Column("recorded_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_points_facts"),
    )
    op.create_index("ix_points_facts_status", "points_facts", ["status"])
    op.create_index("ix_points_facts_opportunity_id", "points_facts", ["opportunity_id"])
    op.create_index(
        "ix_points_facts_rep_action_time", "points_facts", ["rep_id", "action_key", "occurred_at"]
    )
    op.create_index("ix_points_facts_occurred_at", "points_facts", ["occurred_at"])

    op.create_table(
        "points_periods",
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("closed_at", UtcDateTime()),
        sa.Column("closed_by", sa.String(200), nullable=False, server_default=""),
        sa.Column("csv", sa.LargeBinary()),
        sa.Column("xlsx", sa.LargeBinary()),
        sa.Column("reps", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("total", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("period", name="pk_points_periods"),
    )
    op.create_table(
        "points_accounts",
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.PrimaryKeyConstraint("rep_id", name="pk_points_accounts"),
    )
    op.create_table(
        "points_rewards",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_points_rewards"),
        sa.CheckConstraint("stock >= 0", name="stock_not_negative"),
    )
    op.create_table(
        "points_redemptions",
        sa.Column("redemption_id", sa.String(36), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("rep_id", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("reward_key", sa.String(64), nullable=False),
        sa.Column("price", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
        sa.Column("requested_at", UtcDateTime(), nullable=False),
        sa.Column("decided_at", UtcDateTime()),
        sa.Column("decided_by", sa.String(200), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("redemption_id", name="pk_points_redemptions"),
        sa.UniqueConstraint(
            "rep_id", "idempotency_key", name="uq_points_redemptions_rep_id_idempotency_key"
        ),
    )
    op.create_index("ix_points_redemptions_rep_id", "points_redemptions", ["rep_id"])


def _guard_ledger() -> None:
    """The database itself refuses to edit or remove an entry, or to add one to a closed
    quarter, whichever program asks."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION points_ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER points_ledger_append_only BEFORE UPDATE OR DELETE ON points_ledger "
            "FOR EACH ROW EXECUTE FUNCTION points_ledger_refuse_change()"
        )
        op.execute(
            "CREATE FUNCTION points_ledger_refuse_closed() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN IF EXISTS (SELECT 1 FROM points_periods p WHERE p.period = NEW.period "
            "AND p.closed_at IS NOT NULL) THEN "
            f"RAISE EXCEPTION '{_CLOSED}: %', NEW.period; END IF; RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER points_ledger_open_period BEFORE INSERT ON points_ledger "
            "FOR EACH ROW EXECUTE FUNCTION points_ledger_refuse_closed()"
        )
        return
    for change in ("UPDATE", "DELETE"):
        op.execute(
            f"CREATE TRIGGER points_ledger_no_{change.lower()} BEFORE {change} ON points_ledger "
            f"BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
        )
    op.execute(
        "CREATE TRIGGER points_ledger_open_period BEFORE INSERT ON points_ledger "
        "WHEN EXISTS (SELECT 1 FROM points_periods p WHERE p.period = NEW.period "
        "AND p.closed_at IS NOT NULL) "
        f"BEGIN SELECT RAISE(ABORT, '{_CLOSED}'); END"
    )


def upgrade() -> None:
    _extend_ledger()
    _create_tables()
    _guard_ledger()


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER points_ledger_append_only ON points_ledger")
        op.execute("DROP TRIGGER points_ledger_open_period ON points_ledger")
        op.execute("DROP FUNCTION points_ledger_refuse_change()")
        op.execute("DROP FUNCTION points_ledger_refuse_closed()")
    else:
        op.execute("DROP TRIGGER points_ledger_no_update")
        op.execute("DROP TRIGGER points_ledger_no_delete")
        op.execute("DROP TRIGGER points_ledger_open_period")
    for table in (
        "points_redemptions",
        "points_rewards",
        "points_accounts",
        "points_periods",
        "points_facts",
        "points_pipelines",
    ):
        op.drop_table(table)
    with op.batch_alter_table("points_ledger") as batch:
        batch.drop_index("ix_points_ledger_period")
        batch.drop_index("ix_points_ledger_event_id")
        batch.drop_index("ix_points_ledger_item_key")
        batch.drop_constraint("uq_points_ledger_entry_key", type_="unique")
        batch.create_unique_constraint("uq_points_ledger_event_id_rule", ["event_id", "rule"])
        for name in ("item_key", "entry_key", "team", "period", "label", "rule_version", "kind"):
            batch.drop_column(name)
