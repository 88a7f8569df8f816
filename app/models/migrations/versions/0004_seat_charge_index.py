"""index the seat charge lines by their last day

A reconciliation reads a period's seat (non-usage) charge lines: a few per subscription
among a million daily usage lines. A partial index holding only seat lines lets it read
them without scanning the usage, and costs nothing when usage is imported.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_charge_lines_seats", "charge_lines", ["charge_end"],
                    sqlite_where=sa.text("is_usage IS 0"),
                    postgresql_where=sa.text("is_usage IS false"))


def downgrade() -> None:
    op.drop_index("ix_charge_lines_seats", table_name="charge_lines")
