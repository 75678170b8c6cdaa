"""templates: saved versions that cannot change

Revision ID: templates_0002
Revises: templates_0001
"""

from alembic import op

revision = "templates_0002"
down_revision = "templates_0001"
branch_labels = None
depends_on = None

_REFUSAL = "template versions are immutable; import the file again to save a new version"


def upgrade() -> None:
    # Running pipelines carry a copy of their version and the points ledger prices by it:
    # the database refuses to edit or remove a saved version, whichever program asks.
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION template_versions_refuse_change() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION '{_REFUSAL}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER template_versions_append_only BEFORE UPDATE OR DELETE "
            "ON template_versions FOR EACH ROW EXECUTE FUNCTION template_versions_refuse_change()"
        )
    else:
        for change in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER template_versions_no_{change.lower()} BEFORE {change} "
                f"ON template_versions BEGIN SELECT RAISE(ABORT, '{_REFUSAL}'); END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER template_versions_append_only ON template_versions")
        op.execute("DROP FUNCTION template_versions_refuse_change()")
    else:
        op.execute("DROP TRIGGER template_versions_no_update")
        op.execute("DROP TRIGGER template_versions_no_delete")
