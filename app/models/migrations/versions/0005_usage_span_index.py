"""index the usage lines that span several days by their last day

A reconciliation reads a period's usage lines by subscription and first day, so lines of
earlier months are never read. A usage line that starts before the period and ends in it
(a billing cycle not aligned to the month) is found through this index instead: it holds
only the usage lines spanning more than one day, a few among the daily ones. The planner's
statistics are gathered too, which that search by first day needs.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_charge_lines_usage_spans", "charge_lines", ["charge_end"],
        sqlite_where=sa.text("is_usage IS 1 AND (charge_end IS NULL OR charge_end > charge_start)"),
        postgresql_where=sa.text(
            "is_usage IS true AND (charge_end IS NULL OR charge_end > charge_start)"))
    if op.get_bind().dialect.name == "sqlite":
        # Statistics for the planner (sampled, so quick on millions of lines): without them
        # SQLite reads a subscription's every day of usage to find a month's. Imports of
        # many lines refresh them from now on.
        op.execute("PRAGMA analysis_limit=1000")
        op.execute("ANALYZE charge_lines")


def downgrade() -> None:
    op.drop_index("ix_charge_lines_usage_spans", table_name="charge_lines")
