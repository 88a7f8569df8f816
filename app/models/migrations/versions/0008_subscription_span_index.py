"""index each subscription's seat lines and usage spans by their last day (SQLite)

Before reading a share of a book, a reconciliation tells the subscriptions plainly in step
from the rest in SQL (app.services.quiet_subscriptions): one seat line covers the period
and no other line touches it. This index answers that for one subscription with a search
or two: it holds only the lines of more than a day (seat lines, usage spans), keyed by
subscription and last day, so a subscription's earlier months are never read. Only SQLite
workspaces read books in shares.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

NAME = "ix_charge_lines_subscription_ends"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_index(
        NAME, "charge_lines", ["connection_id", "subscription_external_id", "charge_end"],
        sqlite_where=sa.text("is_usage IS 0 OR (is_usage IS 1 AND "
                             "(charge_end IS NULL OR charge_end > charge_start))"))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.drop_index(NAME, table_name="charge_lines")
