"""note how each charge line's quantity and amount are written, for exact usage sums

SQLite sums decimal text through float. A reconciliation proves each usage sum exact from
the most digits any of its lines has after the point, and from none of them being negative.
Working that out from every line's text at every run costs about a third of the usage read;
each usage line now keeps it, as its writer knows it: `quantity_places` and
`amount_places` (digits after the point, plus 100 when negative; NULL on other lines).
Existing lines are filled in here, and a trigger keeps them right when a line's quantity,
amount or kind is updated, however it is done. PostgreSQL sums NUMERIC exactly and never
reads them.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

NEGATIVE = 100  # app.models.types.NEGATIVE_PLACES when this revision was written
TRIGGER = "charge_lines_places_on_update"


def places(value: str) -> str:
    """SQLite's reading of app.models.types.stored_places from the stored text."""
    return (f"(CASE WHEN {value} LIKE '-%' THEN {NEGATIVE} ELSE 0 END + "
            f"coalesce(length({value}) - nullif(instr({value}, '.'), 0), 0))")


def upgrade() -> None:
    op.add_column("charge_lines", sa.Column("quantity_places", sa.Integer(), nullable=True))
    op.add_column("charge_lines", sa.Column("amount_places", sa.Integer(), nullable=True))
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(f"UPDATE charge_lines SET quantity_places = {places('quantity')}, "
               f"amount_places = {places('coalesce(total, subtotal)')} WHERE is_usage")

    def usage(expression: str) -> str:
        return f"CASE WHEN NEW.is_usage THEN {expression} END"

    op.execute(
        f"CREATE TRIGGER {TRIGGER} AFTER UPDATE OF quantity, subtotal, total, is_usage ON "
        f"charge_lines BEGIN UPDATE charge_lines SET "
        f"quantity_places = {usage(places('NEW.quantity'))}, "
        f"amount_places = {usage(places('coalesce(NEW.total, NEW.subtotal)'))} "
        f"WHERE id = NEW.id; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER}")
    with op.batch_alter_table("charge_lines") as batch_op:
        batch_op.drop_column("amount_places")
        batch_op.drop_column("quantity_places")
