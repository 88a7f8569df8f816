"""remember PSA agreements and lines that a complete sync no longer returns

A line deleted in the PSA must stop counting as billed, but its mappings, findings and
push history must stay: so it is marked, not deleted.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("psa_agreements", "psa_billing_lines"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("missing_since", app.models.types.UTCDateTime(), nullable=True)
            )


def downgrade() -> None:
    for table in ("psa_agreements", "psa_billing_lines"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("missing_since")
