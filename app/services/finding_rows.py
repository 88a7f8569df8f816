"""A finding as the findings table stores it, built wherever the finding was found.

A month-end run finds thousands of findings, and turning each into its row (the workspace
ids it points at, its action as JSON, its numbers as text) is work this process does for
the part it reconciled itself while a worker finishes its own: the one insert then mostly
binds rows that are ready. This module imports nothing but the domain and the book (the
worker module uses it); the rows it writes are the very values the ORM would store on
SQLite (tests compare the two, column by column).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.actions import action_to_dict
from app.domain.money import format_decimal
from app.domain.reconciliation import FindingDraft
from app.services.reconcile_book import (
    SUB_CONNECTION,
    SUB_CUSTOMER_EXTERNAL,
    SUB_CUSTOMER_ID,
    SUB_EXTERNAL,
    SUB_ID,
    Book,
)


@dataclass
class Loaded:
    """The workspace ids the service stores a book's findings against."""

    vendor_sub_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    vendor_customer_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    psa_company_ids: dict[str, int] = field(default_factory=dict)
    psa_line_ids: dict[str, int] = field(default_factory=dict)


def id_maps(book: Book) -> Loaded:
    """The workspace ids the findings of the book's subscriptions are stored against."""
    kinds, loaded = book.kinds, Loaded()
    for sub in book.subs:
        vendor = kinds[sub[SUB_CONNECTION]]
        loaded.vendor_sub_ids[(vendor, sub[SUB_EXTERNAL])] = sub[SUB_ID]
        loaded.vendor_customer_ids[(vendor, sub[SUB_CUSTOMER_EXTERNAL])] = sub[SUB_CUSTOMER_ID]
    loaded.psa_company_ids = {c.external_id: c.id for c in book.companies.values()}
    loaded.psa_line_ids = {line.external_id: line.id for line in book.lines.values()}
    return loaded


# The columns a finding's numbers fill, in the order `finding_values` gives them.
FINDING_COLUMNS = ("kind", "vendor_customer_id", "psa_company_id", "vendor_subscription_id",
                   "psa_billing_line_id", "sku", "currency", "vendor_quantity",
                   "psa_quantity", "unit_price", "unit_cost", "amount", "action",
                   "explanation", "inputs_hash")
ACTION = FINDING_COLUMNS.index("action")


def finding_values(draft: FindingDraft, loaded: Loaded) -> tuple:
    """The finding's values for FINDING_COLUMNS: Decimals, the action as data, and the
    explanation as the JSON text the engine encoded."""
    return (
        str(draft.kind),
        loaded.vendor_customer_ids.get((draft.vendor, draft.customer.vendor_id)),
        loaded.psa_company_ids.get(draft.customer.psa_id or ""),
        loaded.vendor_sub_ids.get((draft.vendor, draft.vendor_subscription_id or "")),
        loaded.psa_line_ids.get(draft.psa_line_id or ""),
        draft.sku,
        draft.currency,
        draft.vendor_quantity,
        draft.psa_quantity,
        draft.unit_price,
        draft.unit_cost,
        draft.amount,
        {"actions": [action_to_dict(a) for a in draft.actions],
         "reference": draft.reference, "suggestion": str(draft.status),
         "product_name": draft.product_name, "vendor": draft.vendor,
         "vendor_subscription": draft.vendor_subscription_id,
         "psa_lines": list(draft.psa_line_ids)},
        draft.explanation_json,
        draft.inputs_hash,
    )


def stored_values(draft: FindingDraft, loaded: Loaded) -> tuple:
    """`finding_values` as SQLite stores them: exact decimal text (app.models.types'
    DecimalText) and the action as JSON text (SQLAlchemy's JSON type: `json.dumps`)."""
    values = list(finding_values(draft, loaded))
    for index, value in enumerate(values):
        if isinstance(value, Decimal):
            values[index] = format_decimal(value)
    values[ACTION] = json.dumps(values[ACTION])
    return tuple(values)


def stored_rows(drafts: tuple[FindingDraft, ...], book: Book) -> dict[str, tuple]:
    """`stored_values` of a part's findings, by finding key."""
    loaded = id_maps(book)
    return {draft.key: stored_values(draft, loaded) for draft in drafts}
