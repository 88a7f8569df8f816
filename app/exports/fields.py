"""The fields a template column can bind to, per source, with their types.

Types decide how a value is written: money and quantities as number cells (exact Decimals),
dates as date cells with a number format in .xlsx and as formatted text in CSV, text as text.
A template naming a field that is not listed here is rejected before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    MONEY = "money"
    QUANTITY = "quantity"
    DATE = "date"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: FieldType
    meaning: str
    sql_sortable: bool = True  # findings stream sorted by the database


T, N, M, Q, D = (FieldType.TEXT, FieldType.INTEGER, FieldType.MONEY, FieldType.QUANTITY,
                 FieldType.DATE)

_PERIOD = (
    FieldSpec("period", T, "billing period label, e.g. 2026-03"),
    FieldSpec("period_start", D, "first day of the period"),
    FieldSpec("period_end", D, "last day of the period"),
)
_CUSTOMER = (
    FieldSpec("customer", T, "customer name (PSA company, else vendor customer)"),
    FieldSpec("customer_id", N, "the workspace's id of the PSA company (stable per customer)"),
    FieldSpec("customer_number", T, "the PSA's identifier for the company"),
)

FINDING_FIELDS = (
    FieldSpec("finding_id", N, "finding id"),
    FieldSpec("kind", T, "finding kind, e.g. quantity_drift"),
    FieldSpec("status", T, "open, approved, rejected, deferred, pushed or failed"),
    FieldSpec("version", N, "finding version (changes whenever the finding does)"),
    *_CUSTOMER,
    FieldSpec("vendor_customer", T, "the vendor's name for the customer"),
    FieldSpec("sku", T, "vendor SKU"),
    FieldSpec("product", T, "product name of the vendor subscription"),
    FieldSpec("currency", T, "ISO currency code"),
    FieldSpec("vendor_quantity", Q, "seats the vendor bills"),
    FieldSpec("psa_quantity", Q, "seats the PSA bills"),
    FieldSpec("quantity_difference", Q, "vendor minus PSA seats", sql_sortable=False),
    FieldSpec("unit_price", M, "customer unit price"),
    FieldSpec("unit_cost", M, "vendor unit cost"),
    FieldSpec("amount", M, "money at stake for the period (+ = customer under-billed)"),
    FieldSpec("action", T, "the proposed PSA changes, in words", sql_sortable=False),
    FieldSpec("effective_date", D, "effective date chosen for the change"),
    FieldSpec("note", T, "reviewer's note"),
    FieldSpec("explain", T, "the finding's own explanation", sql_sortable=False),
    FieldSpec("key", T, "stable finding key"),
    FieldSpec("inputs_hash", T, "fingerprint of the numbers the finding was computed from"),
    *_PERIOD,
)

ADJUSTMENT_FIELDS = (
    FieldSpec("finding_id", N, "the approved finding"),
    FieldSpec("kind", T, "finding kind"),
    FieldSpec("status", T, "approved, pushed or failed"),
    *_CUSTOMER,
    FieldSpec("sku", T, "vendor SKU"),
    FieldSpec("product", T, "product name"),
    FieldSpec("action", T, "action type: set_quantity, add_line, one_time_charge..."),
    FieldSpec("description", T, "what the change does, in words"),
    FieldSpec("quantity", Q, "target quantity, if the action sets one"),
    FieldSpec("unit_price", M, "target unit price, if the action sets one"),
    FieldSpec("amount", M, "what the change bills for the period (+ = more)"),
    FieldSpec("currency", T, "ISO currency code"),
    FieldSpec("effective_date", D, "when the change takes effect"),
    FieldSpec("agreement_ref", T, "the PSA's agreement/contract id"),
    FieldSpec("line_ref", T, "the PSA's line id (blank for a new line or charge)"),
    FieldSpec("product_ref", T, "the PSA's catalogue product id, if the change names one"),
    *_PERIOD,
)

INVOICE_LINE_FIELDS = (
    *_CUSTOMER,
    FieldSpec("agreement", T, "PSA agreement/contract name"),
    FieldSpec("line_kind", T, "recurring (a PSA line) or one_time (an approved charge)"),
    FieldSpec("item", T, "PSA catalogue product identifier (else the description)"),
    FieldSpec("description", T, "line description"),
    FieldSpec("quantity", Q, "quantity billed"),
    FieldSpec("unit_price", M, "unit price"),
    FieldSpec("amount", M, "quantity × unit price, rounded half-up to the currency's unit"),
    FieldSpec("currency", T, "ISO currency code"),
    FieldSpec("service_date", D, "first day the line covers in the period"),
    FieldSpec("finding_id", N, "the finding behind a one-time charge (blank for recurring)"),
    FieldSpec("line_ref", T, "the PSA's line id (blank for a charge not yet pushed)"),
    *_PERIOD,
)

# Computed by the template engine for every source: grouping and the invoice calendar.
CONTEXT_FIELDS = (
    FieldSpec("invoice_number", T, "one number per customer and currency per period "
              "(prefix and sequence from settings)", sql_sortable=False),
    FieldSpec("invoice_date", D, "invoice date for the period (setting invoice_date)",
              sql_sortable=False),
    FieldSpec("due_date", D, "invoice date + invoice_due_days", sql_sortable=False),
)

SOURCES: dict[str, tuple[FieldSpec, ...]] = {
    "findings": FINDING_FIELDS,
    "adjustments": ADJUSTMENT_FIELDS,
    "invoice_lines": INVOICE_LINE_FIELDS,
}


def fields_for(source: str) -> dict[str, FieldSpec]:
    """Every field a column of a `source` template may name, context fields included."""
    if source not in SOURCES:
        raise KeyError(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    return {f.name: f for f in (*SOURCES[source], *CONTEXT_FIELDS)}
