"""A finding as the findings table stores it, built wherever the finding was found.

A month-end run finds thousands of findings, and turning each into its row (the workspace
ids it points at, its action as JSON, its numbers as text) is work every part of a book
does for its own new findings (see app.services.reconcile_worker): a worker sends rows,
which cost this process next to nothing to read, where the findings themselves would cost
it a rebuild of thousands of objects, and the one insert then binds rows that are ready.
This module imports nothing but the domain and the book (the worker module uses it); the
rows it writes are the very values the ORM would store on SQLite (tests compare the two,
column by column).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain import json_text
from app.domain.actions import action_to_dict
from app.domain.money import format_decimal
from app.domain.reconciliation import (
    FindingDraft,
    ReconcileResult,
    ReconcileSummary,
    finding_order,
    merge_summaries,
)
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
    DecimalText) and the action as JSON text: the data SQLAlchemy's JSON type would
    write, written compact (see app.domain.json_text), as the explanation is."""
    return stored_form(finding_values(draft, loaded))


def stored_form(found_values: tuple) -> tuple:
    """`finding_values` as SQLite stores them (see `stored_values`)."""
    values = list(found_values)
    for index, value in enumerate(values):
        if isinstance(value, Decimal):
            values[index] = format_decimal(value)
    action = values[ACTION]
    values[ACTION] = json_text.compact(action, _not_json) or json.dumps(action)
    return tuple(values)


def _not_json(value: object) -> object:
    """An action holds JSON's own types only: anything else is refused, as json refuses it."""
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- a book's findings as its parts found them -------------------------------------------------


@dataclass(frozen=True)
class PartFound:
    """One part's findings as the part sends them back: each finding's place in the book's
    order, key and hash; then a new finding's stored row (when rows were asked for), and
    every other finding whole unless the period stored it with the same hash (nothing to
    update), with its `finding_values` (the workspace ids it points at are the part's to
    know). Rows and keys are plain values: a worker's answer then costs this process little
    to read, where thousands of findings would cost much."""

    summary: ReconcileSummary
    order: tuple[tuple, ...]
    hashes: tuple[str, ...]
    rows: dict[str, tuple]
    drafts: dict[str, FindingDraft]
    values: dict[str, tuple]


def part_found(result: ReconcileResult, book: Book, *, rows: bool,
               stored: Mapping[str, str] | None = None) -> PartFound:
    """A part's result as it is sent back. `stored` maps the keys of the findings the
    period has stored to their hashes. With `rows`, a finding not stored yet comes as its
    row; a finding stored with the same hash comes as its key alone; every other finding
    comes whole, for the store to insert, compare or update."""
    stored = stored or {}
    loaded = id_maps(book)
    made: dict[str, tuple] = {}
    kept: dict[str, FindingDraft] = {}
    values: dict[str, tuple] = {}
    for draft in result.findings:
        known = stored.get(draft.key)
        if known is None and rows:
            made[draft.key] = stored_values(draft, loaded)
        elif known != draft.inputs_hash:
            kept[draft.key] = draft
            values[draft.key] = finding_values(draft, loaded)
    return PartFound(result.summary, tuple(finding_order(d) for d in result.findings),
                     tuple(d.inputs_hash for d in result.findings), made, kept, values)


@dataclass(frozen=True)
class Found:
    """A whole book's findings from its parts: (key, hash) in the engine's order, the rows
    made for new ones and the findings that came whole (see `part_found`)."""

    summary: ReconcileSummary
    entries: tuple[tuple[str, str], ...]
    rows: dict[str, tuple]
    drafts: dict[str, FindingDraft]
    values: dict[str, tuple]  # the `finding_values` of those that came whole

    def result(self) -> ReconcileResult:
        """The engine's result: only when every finding came whole (no rows, nothing
        stored)."""
        return ReconcileResult(tuple(self.drafts[key] for key, _ in self.entries),
                               self.summary)


def merge_found(parts: list[PartFound]) -> Found:
    """The parts' findings in the order reconciling the whole book gives them."""
    entries = sorted((order, inputs_hash) for part in parts
                     for order, inputs_hash in zip(part.order, part.hashes, strict=True))
    rows: dict[str, tuple] = {}
    drafts: dict[str, FindingDraft] = {}
    values: dict[str, tuple] = {}
    for part in parts:
        rows.update(part.rows)
        drafts.update(part.drafts)
        values.update(part.values)
    return Found(merge_summaries([part.summary for part in parts]),
                 tuple((order[-1], inputs_hash) for order, inputs_hash in entries),
                 rows, drafts, values)
