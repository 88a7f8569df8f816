"""keep each day's usage of a subscription added up, for reconciliations (SQLite)

A month of Azure daily usage is a line per meter per day: 950,000 lines in a big book,
which every reconciliation of the month grouped again. `usage_days` holds them added up per
subscription, day and billed-or-not (see app.models.usage_days): a month is then 30 rows per
subscription. It is derived data, rebuilt from the lines:

* lines added after `usage_days_mark.through` (the highest line id folded in) are folded in
  by the importers at the end of their transaction, or by the next reconciliation;
* a usage line updated or deleted, however it is done, puts its day (before and after) in
  `usage_days_pending` through the triggers below, and that day is added up again; a
  deleted line also takes the mark below its id, which SQLite may give the next line;
* a reconciliation reads the days only in a snapshot where both say nothing is left to fold,
  and the lines themselves otherwise.

The days of existing workspaces are folded in by the first reconciliation after this
upgrade (`through` starts at 0). PostgreSQL sums the lines' NUMERIC exactly and in parallel
and never reads these tables, so they exist on SQLite only.

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TRIGGERS = ("usage_days_on_line_update", "usage_days_on_line_delete")
# What a usage day is added up from (see app.models.usage_days).
WATCHED = ("connection_id", "subscription_external_id", "charge_start", "charge_end",
           "charge_type", "quantity", "subtotal", "total", "currency", "invoice_number",
           "is_usage", "line_key", "quantity_places", "amount_places")


def _pending(line: str) -> str:
    return (f"INSERT OR IGNORE INTO usage_days_pending SELECT {line}.connection_id, "
            f"{line}.subscription_external_id, {line}.charge_start WHERE {line}.is_usage "
            f"AND {line}.subscription_external_id IS NOT NULL "
            f"AND {line}.charge_start IS NOT NULL;")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("""
        CREATE TABLE usage_days (
            connection_id INTEGER NOT NULL,
            subscription_external_id VARCHAR(100) NOT NULL,
            day DATE NOT NULL,
            billed BOOLEAN NOT NULL,
            lines INTEGER NOT NULL,
            quantity NUMERIC,
            quantity_places INTEGER NOT NULL,
            amount NUMERIC,
            amount_places INTEGER NOT NULL,
            currency VARCHAR(3) NOT NULL,
            last_currency VARCHAR(3) NOT NULL,
            charge_type VARCHAR(40) NOT NULL,
            invoice_number VARCHAR(100),
            last_invoice_number VARCHAR(100),
            last_day DATE NOT NULL,
            first_line_key VARCHAR(64) NOT NULL,
            PRIMARY KEY (connection_id, subscription_external_id, day, billed)
        ) WITHOUT ROWID""")
    op.execute("""
        CREATE TABLE usage_days_pending (
            connection_id INTEGER NOT NULL,
            subscription_external_id VARCHAR(100) NOT NULL,
            day DATE NOT NULL,
            PRIMARY KEY (connection_id, subscription_external_id, day)
        ) WITHOUT ROWID""")
    op.execute("CREATE TABLE usage_days_mark (through INTEGER NOT NULL)")
    op.execute("INSERT INTO usage_days_mark (through) VALUES (0)")
    op.execute(f"CREATE TRIGGER {TRIGGERS[0]} AFTER UPDATE OF {', '.join(WATCHED)} ON "
               f"charge_lines WHEN OLD.is_usage OR NEW.is_usage BEGIN {_pending('OLD')} "
               f"{_pending('NEW')} END")
    # A deleted line's id may be given to the next line: the mark goes below it.
    op.execute(f"CREATE TRIGGER {TRIGGERS[1]} AFTER DELETE ON charge_lines BEGIN "
               f"{_pending('OLD')} UPDATE usage_days_mark SET through = "
               f"min(through, OLD.id - 1); END")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    for name in ("usage_days_mark", "usage_days_pending", "usage_days"):
        op.execute(f"DROP TABLE IF EXISTS {name}")
