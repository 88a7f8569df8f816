"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

import app.models.types

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("severity", sa.String(length=40), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("ref", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("resolved_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("key", name=op.f("uq_alerts_key")),
    )
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("user", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("entity_id", sa.String(length=100), nullable=False),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_table(
        "billing_periods",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("reconciled_at", app.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_billing_periods")),
        sa.UniqueConstraint("label", name=op.f("uq_billing_periods_label")),
        sa.UniqueConstraint(
            "start_date", "end_date", name=op.f("uq_billing_periods_start_date_end_date")
        ),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("side", sa.String(length=40), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("last_sync_at", app.models.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_connections_name")),
    )
    op.create_table(
        "import_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("vendor_name", sa.String(length=200), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_profiles")),
        sa.UniqueConstraint("name", name=op.f("uq_import_profiles_name")),
    )
    op.create_table(
        "mapping_suggestions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("vendor_ref", sa.Integer(), nullable=False),
        sa.Column("psa_ref", sa.Integer(), nullable=False),
        sa.Column("score", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mapping_suggestions")),
        sa.UniqueConstraint(
            "kind",
            "vendor_ref",
            "psa_ref",
            name=op.f("uq_mapping_suggestions_kind_vendor_ref_psa_ref"),
        ),
    )
    op.create_table(
        "policy_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("scope_ref", sa.String(length=100), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.String(length=500), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policy_rules")),
        sa.UniqueConstraint(
            "scope", "scope_ref", "key", name=op.f("uq_policy_rules_scope_scope_ref_key")
        ),
    )
    op.create_table(
        "settings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("value", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_settings")),
        sa.UniqueConstraint("key", name=op.f("uq_settings_key")),
    )
    op.create_table(
        "import_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("file_name", sa.String(length=200), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("imported_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("duplicates", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("rejects", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_import_files_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_files")),
        sa.UniqueConstraint("fingerprint", name=op.f("uq_import_files_fingerprint")),
    )
    with op.batch_alter_table("import_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_import_files_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "psa_companies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("identifier", sa.String(length=100), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_psa_companies_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psa_companies")),
        sa.UniqueConstraint(
            "connection_id", "external_id", name=op.f("uq_psa_companies_connection_id_external_id")
        ),
    )
    with op.batch_alter_table("psa_companies", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_psa_companies_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "psa_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("price", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("cost", app.models.types.DecimalText(length=48), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_psa_products_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psa_products")),
        sa.UniqueConstraint(
            "connection_id", "external_id", name=op.f("uq_psa_products_connection_id_external_id")
        ),
    )
    with op.batch_alter_table("psa_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_psa_products_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("started_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_sync_runs_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sync_runs_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "vendor_customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("domain", sa.String(length=200), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.Column("first_seen_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_vendor_customers_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_customers")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_vendor_customers_connection_id_external_id"),
        ),
    )
    with op.batch_alter_table("vendor_customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_customers_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "vendor_invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("invoice_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("total", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_vendor_invoices_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_invoices")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_vendor_invoices_connection_id_external_id"),
        ),
    )
    with op.batch_alter_table("vendor_invoices", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_invoices_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "vendor_products",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("vendor_name", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_vendor_products_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_products")),
        sa.UniqueConstraint(
            "connection_id", "sku", name=op.f("uq_vendor_products_connection_id_sku")
        ),
    )
    with op.batch_alter_table("vendor_products", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_products_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "charge_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("import_file_id", sa.Integer(), nullable=True),
        sa.Column("line_key", sa.String(length=64), nullable=False),
        sa.Column("customer_external_id", sa.String(length=100), nullable=False),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("subscription_external_id", sa.String(length=100), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("product_name", sa.String(length=200), nullable=True),
        sa.Column("charge_type", sa.String(length=40), nullable=False),
        sa.Column("charge_start", sa.Date(), nullable=True),
        sa.Column("charge_end", sa.Date(), nullable=True),
        sa.Column("quantity", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("unit_price", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("exchange_rate", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("subtotal", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("total", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("invoice_number", sa.String(length=100), nullable=True),
        sa.Column("term", sa.String(length=10), nullable=True),
        sa.Column("billing_frequency", sa.String(length=20), nullable=True),
        sa.Column("order_date", sa.Date(), nullable=True),
        sa.Column("is_usage", sa.Boolean(), nullable=False),
        sa.Column("extra", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_charge_lines_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["import_file_id"],
            ["import_files.id"],
            name=op.f("fk_charge_lines_import_file_id_import_files"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_charge_lines")),
        sa.UniqueConstraint(
            "connection_id", "line_key", name=op.f("uq_charge_lines_connection_id_line_key")
        ),
    )
    with op.batch_alter_table("charge_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_charge_lines_import_file_id"), ["import_file_id"], unique=False
        )
        batch_op.create_index(
            "ix_charge_lines_subscription",
            ["connection_id", "subscription_external_id", "charge_start"],
            unique=False,
        )

    op.create_table(
        "customer_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_customer_id", sa.Integer(), nullable=False),
        sa.Column("psa_company_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("score", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["psa_company_id"],
            ["psa_companies.id"],
            name=op.f("fk_customer_mappings_psa_company_id_psa_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_customer_id"],
            ["vendor_customers.id"],
            name=op.f("fk_customer_mappings_vendor_customer_id_vendor_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customer_mappings")),
        sa.UniqueConstraint(
            "vendor_customer_id", name=op.f("uq_customer_mappings_vendor_customer_id")
        ),
    )
    with op.batch_alter_table("customer_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customer_mappings_psa_company_id"), ["psa_company_id"], unique=False
        )

    op.create_table(
        "price_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("psa_company_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("unit_price", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["psa_company_id"],
            ["psa_companies.id"],
            name=op.f("fk_price_overrides_psa_company_id_psa_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_overrides")),
        sa.UniqueConstraint(
            "psa_company_id", "sku", name=op.f("uq_price_overrides_psa_company_id_sku")
        ),
    )
    op.create_table(
        "product_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_product_id", sa.Integer(), nullable=False),
        sa.Column("psa_product_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["psa_product_id"],
            ["psa_products.id"],
            name=op.f("fk_product_mappings_psa_product_id_psa_products"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_product_id"],
            ["vendor_products.id"],
            name=op.f("fk_product_mappings_vendor_product_id_vendor_products"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_mappings")),
        sa.UniqueConstraint(
            "vendor_product_id", name=op.f("uq_product_mappings_vendor_product_id")
        ),
    )
    with op.batch_alter_table("product_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_mappings_psa_product_id"), ["psa_product_id"], unique=False
        )

    op.create_table(
        "psa_agreements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("company_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("type_name", sa.String(length=100), nullable=True),
        sa.Column("billing_cycle", sa.String(length=40), nullable=True),
        sa.Column("prorate", sa.Boolean(), nullable=False),
        sa.Column("bill_one_time", sa.Boolean(), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["company_id"],
            ["psa_companies.id"],
            name=op.f("fk_psa_agreements_company_id_psa_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_psa_agreements_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psa_agreements")),
        sa.UniqueConstraint(
            "connection_id", "external_id", name=op.f("uq_psa_agreements_connection_id_external_id")
        ),
    )
    with op.batch_alter_table("psa_agreements", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_psa_agreements_company_id"), ["company_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_psa_agreements_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "vendor_subscriptions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("sku", sa.String(length=100), nullable=False),
        sa.Column("product_name", sa.String(length=200), nullable=False),
        sa.Column("quantity", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("unit_cost", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("unit_price", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("term", sa.String(length=10), nullable=True),
        sa.Column("billing_frequency", sa.String(length=20), nullable=True),
        sa.Column("start_date", sa.Date(), nullable=True),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("created_at_vendor", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_vendor_subscriptions_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["vendor_customers.id"],
            name=op.f("fk_vendor_subscriptions_customer_id_vendor_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vendor_subscriptions")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_vendor_subscriptions_connection_id_external_id"),
        ),
    )
    with op.batch_alter_table("vendor_subscriptions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vendor_subscriptions_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_vendor_subscriptions_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "agreement_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("psa_company_id", sa.Integer(), nullable=False),
        sa.Column("motion", sa.String(length=40), nullable=False),
        sa.Column("psa_agreement_id", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["psa_agreement_id"],
            ["psa_agreements.id"],
            name=op.f("fk_agreement_mappings_psa_agreement_id_psa_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["psa_company_id"],
            ["psa_companies.id"],
            name=op.f("fk_agreement_mappings_psa_company_id_psa_companies"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_mappings")),
        sa.UniqueConstraint(
            "psa_company_id", "motion", name=op.f("uq_agreement_mappings_psa_company_id_motion")
        ),
    )
    op.create_table(
        "psa_billing_lines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=False),
        sa.Column("product_external_id", sa.String(length=100), nullable=True),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("invoice_description", sa.String(length=1000), nullable=True),
        sa.Column("quantity", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("unit_price", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("unit_cost", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("cancelled_date", sa.Date(), nullable=True),
        sa.Column("bill_customer", sa.String(length=20), nullable=True),
        sa.Column("is_one_time", sa.Boolean(), nullable=False),
        sa.Column("last_updated", app.models.types.UTCDateTime(), nullable=True),
        sa.Column("synced_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["psa_agreements.id"],
            name=op.f("fk_psa_billing_lines_agreement_id_psa_agreements"),
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_psa_billing_lines_connection_id_connections"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_psa_billing_lines")),
        sa.UniqueConstraint(
            "connection_id",
            "external_id",
            name=op.f("uq_psa_billing_lines_connection_id_external_id"),
        ),
    )
    with op.batch_alter_table("psa_billing_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_psa_billing_lines_agreement_id"), ["agreement_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_psa_billing_lines_connection_id"), ["connection_id"], unique=False
        )

    op.create_table(
        "seat_lots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("quantity", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.Column("unit_cost", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("source", sa.String(length=40), nullable=False),
        sa.Column("cancel_window_ends_at", app.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["vendor_subscriptions.id"],
            name=op.f("fk_seat_lots_subscription_id_vendor_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_seat_lots")),
    )
    with op.batch_alter_table("seat_lots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_seat_lots_subscription_id"), ["subscription_id"], unique=False
        )

    op.create_table(
        "subscription_snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("taken_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("quantity", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("unit_cost", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["vendor_subscriptions.id"],
            name=op.f("fk_subscription_snapshots_subscription_id_vendor_subscriptions"),
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"],
            ["sync_runs.id"],
            name=op.f("fk_subscription_snapshots_sync_run_id_sync_runs"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_snapshots")),
        sa.UniqueConstraint(
            "sync_run_id",
            "subscription_id",
            name=op.f("uq_subscription_snapshots_sync_run_id_subscription_id"),
        ),
    )
    with op.batch_alter_table("subscription_snapshots", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_snapshots_subscription_id"),
            ["subscription_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_subscription_snapshots_sync_run_id"), ["sync_run_id"], unique=False
        )

    op.create_table(
        "findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("period_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("vendor_customer_id", sa.Integer(), nullable=True),
        sa.Column("psa_company_id", sa.Integer(), nullable=True),
        sa.Column("vendor_subscription_id", sa.Integer(), nullable=True),
        sa.Column("psa_billing_line_id", sa.Integer(), nullable=True),
        sa.Column("sku", sa.String(length=100), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("vendor_quantity", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("psa_quantity", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("unit_price", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("unit_cost", app.models.types.DecimalText(length=48), nullable=True),
        sa.Column("amount", app.models.types.DecimalText(length=48), nullable=False),
        sa.Column("action", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.JSON(), nullable=False),
        sa.Column("inputs_hash", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=40), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["period_id"],
            ["billing_periods.id"],
            name=op.f("fk_findings_period_id_billing_periods"),
        ),
        sa.ForeignKeyConstraint(
            ["psa_billing_line_id"],
            ["psa_billing_lines.id"],
            name=op.f("fk_findings_psa_billing_line_id_psa_billing_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["psa_company_id"],
            ["psa_companies.id"],
            name=op.f("fk_findings_psa_company_id_psa_companies"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_customer_id"],
            ["vendor_customers.id"],
            name=op.f("fk_findings_vendor_customer_id_vendor_customers"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_subscription_id"],
            ["vendor_subscriptions.id"],
            name=op.f("fk_findings_vendor_subscription_id_vendor_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_findings")),
        sa.UniqueConstraint("period_id", "key", name=op.f("uq_findings_period_id_key")),
    )
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_findings_period_id"), ["period_id"], unique=False)

    op.create_table(
        "subscription_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vendor_subscription_id", sa.Integer(), nullable=False),
        sa.Column("psa_billing_line_id", sa.Integer(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(
            ["psa_billing_line_id"],
            ["psa_billing_lines.id"],
            name=op.f("fk_subscription_mappings_psa_billing_line_id_psa_billing_lines"),
        ),
        sa.ForeignKeyConstraint(
            ["vendor_subscription_id"],
            ["vendor_subscriptions.id"],
            name=op.f("fk_subscription_mappings_vendor_subscription_id_vendor_subscriptions"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subscription_mappings")),
        sa.UniqueConstraint(
            "vendor_subscription_id",
            "psa_billing_line_id",
            name=op.f("uq_subscription_mappings_vendor_subscription_id_psa_billing_line_id"),
        ),
    )
    with op.batch_alter_table("subscription_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subscription_mappings_psa_billing_line_id"),
            ["psa_billing_line_id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_subscription_mappings_vendor_subscription_id"),
            ["vendor_subscription_id"],
            unique=False,
        )

    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=False),
        sa.Column("finding_version", sa.Integer(), nullable=False),
        sa.Column("decision", sa.String(length=40), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=100), nullable=False),
        sa.Column("decided_at", app.models.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_approvals_finding_id_findings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_approvals")),
    )
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_approvals_finding_id"), ["finding_id"], unique=False)

    op.create_table(
        "push_intents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("marker", sa.String(length=40), nullable=False),
        sa.Column("finding_id", sa.Integer(), nullable=True),
        sa.Column("approval_id", sa.Integer(), nullable=True),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("action_type", sa.String(length=40), nullable=False),
        sa.Column("entity", sa.String(length=40), nullable=False),
        sa.Column("target_ref", sa.JSON(), nullable=False),
        sa.Column("seen_state", sa.JSON(), nullable=False),
        sa.Column("desired_state", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=40), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("psa_record_id", sa.String(length=100), nullable=True),
        sa.Column("response", sa.JSON(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", app.models.types.UTCDateTime(), nullable=False),
        sa.Column("sent_at", app.models.types.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approval_id"], ["approvals.id"], name=op.f("fk_push_intents_approval_id_approvals")
        ),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_push_intents_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["finding_id"], ["findings.id"], name=op.f("fk_push_intents_finding_id_findings")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_intents")),
        sa.UniqueConstraint("key", name=op.f("uq_push_intents_key")),
    )
    with op.batch_alter_table("push_intents", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_intents_connection_id"), ["connection_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_push_intents_finding_id"), ["finding_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_push_intents_state"), ["state"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("push_intents", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_intents_state"))
        batch_op.drop_index(batch_op.f("ix_push_intents_finding_id"))
        batch_op.drop_index(batch_op.f("ix_push_intents_connection_id"))

    op.drop_table("push_intents")
    with op.batch_alter_table("approvals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_approvals_finding_id"))

    op.drop_table("approvals")
    with op.batch_alter_table("subscription_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_mappings_vendor_subscription_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_mappings_psa_billing_line_id"))

    op.drop_table("subscription_mappings")
    with op.batch_alter_table("findings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_findings_period_id"))

    op.drop_table("findings")
    with op.batch_alter_table("subscription_snapshots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subscription_snapshots_sync_run_id"))
        batch_op.drop_index(batch_op.f("ix_subscription_snapshots_subscription_id"))

    op.drop_table("subscription_snapshots")
    with op.batch_alter_table("seat_lots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seat_lots_subscription_id"))

    op.drop_table("seat_lots")
    with op.batch_alter_table("psa_billing_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_psa_billing_lines_connection_id"))
        batch_op.drop_index(batch_op.f("ix_psa_billing_lines_agreement_id"))

    op.drop_table("psa_billing_lines")
    op.drop_table("agreement_mappings")
    with op.batch_alter_table("vendor_subscriptions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_subscriptions_customer_id"))
        batch_op.drop_index(batch_op.f("ix_vendor_subscriptions_connection_id"))

    op.drop_table("vendor_subscriptions")
    with op.batch_alter_table("psa_agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_psa_agreements_connection_id"))
        batch_op.drop_index(batch_op.f("ix_psa_agreements_company_id"))

    op.drop_table("psa_agreements")
    with op.batch_alter_table("product_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_mappings_psa_product_id"))

    op.drop_table("product_mappings")
    op.drop_table("price_overrides")
    with op.batch_alter_table("customer_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customer_mappings_psa_company_id"))

    op.drop_table("customer_mappings")
    with op.batch_alter_table("charge_lines", schema=None) as batch_op:
        batch_op.drop_index("ix_charge_lines_subscription")
        batch_op.drop_index(batch_op.f("ix_charge_lines_import_file_id"))

    op.drop_table("charge_lines")
    with op.batch_alter_table("vendor_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_products_connection_id"))

    op.drop_table("vendor_products")
    with op.batch_alter_table("vendor_invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_invoices_connection_id"))

    op.drop_table("vendor_invoices")
    with op.batch_alter_table("vendor_customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_vendor_customers_connection_id"))

    op.drop_table("vendor_customers")
    with op.batch_alter_table("sync_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sync_runs_connection_id"))

    op.drop_table("sync_runs")
    with op.batch_alter_table("psa_products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_psa_products_connection_id"))

    op.drop_table("psa_products")
    with op.batch_alter_table("psa_companies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_psa_companies_connection_id"))

    op.drop_table("psa_companies")
    with op.batch_alter_table("import_files", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_import_files_connection_id"))

    op.drop_table("import_files")
    op.drop_table("settings")
    op.drop_table("policy_rules")
    op.drop_table("mapping_suggestions")
    op.drop_table("import_profiles")
    op.drop_table("connections")
    op.drop_table("billing_periods")
    op.drop_table("audit_log")
    op.drop_table("alerts")
