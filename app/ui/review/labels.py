"""Finding kinds and proposed PSA changes in a bookkeeper's words (no Qt: workers use it too)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.services.findings import FindingRow
from app.ui.formatting import money, quantity

KIND_LABELS = {
    "quantity_drift": "Quantity drift",
    "unbilled_subscription": "Unbilled subscription",
    "billed_but_cancelled": "Billed but cancelled",
    "cost_change": "Cost change",
    "negative_margin": "Negative margin",
    "annual_charge_missing": "Annual charge missing",
    "usage_charge": "Usage charge",
    "vendor_invoice_mismatch": "Vendor invoice mismatch",
    "unmapped": "Unmapped",
}
SHORT_KIND_LABELS = {  # for the grid column; the filter and the detail pane use the long ones
    "quantity_drift": "Qty drift",
    "unbilled_subscription": "Unbilled",
    "billed_but_cancelled": "Still billed",
    "cost_change": "Cost change",
    "negative_margin": "Neg. margin",
    "annual_charge_missing": "Annual charge",
    "usage_charge": "Usage",
    "vendor_invoice_mismatch": "Invoice mismatch",
    "unmapped": "Unmapped",
}
STATUS_LABELS = {"open": "Open", "approved": "Approved", "rejected": "Rejected",
                 "deferred": "Deferred", "pushed": "Pushed", "failed": "Push failed"}


VENDOR_NAMES = {"pax8": "Pax8", "partner_center": "Partner Center",
                "generic_file": "File import", "ingram": "Ingram Micro", "td_synnex": "TD SYNNEX"}


def vendor_name(vendor: str) -> str:
    return VENDOR_NAMES.get(vendor, vendor)


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


def _num(value: Any) -> str:
    return quantity(Decimal(str(value))) if value not in (None, "") else "?"


def describe_action(action: dict[str, Any]) -> str:
    """One proposed PSA change in a few words: `Set qty 10 → 12`, `Charge USD 24.13`."""
    kind, desired, seen = action.get("type"), action.get("desired", {}), action.get("seen", {})
    currency = action.get("currency") or ""
    if kind == "set_quantity":
        return f"Set qty {_num(seen.get('quantity'))} → {_num(desired.get('quantity'))}"
    if kind == "set_price":
        parts = [f"{label} {seen.get(key, '?')} → {desired[key]}"
                 for key, label in (("unit_price", "price"), ("unit_cost", "cost"))
                 if key in desired]
        return "Set " + ", ".join(parts) if parts else "Set price"
    if kind == "add_line":
        return f"Add line × {_num(desired.get('quantity'))}"
    if kind == "cancel_line":
        return f"Cancel line from {desired.get('cancelled_date', '?')}"
    if kind == "one_time_charge":
        effect = Decimal(str(action.get("money_effect") or "0"))
        word = "Credit" if effect < 0 else "Charge"
        return f"{word} {money(abs(effect), currency)}"
    return str(kind or "").replace("_", " ").capitalize()


def action_text(row: FindingRow) -> str:
    if not row.actions:
        return "Map it first" if row.kind == "unmapped" else "Review only"
    return " + ".join(describe_action(a) for a in row.actions)


def proposed_effective(row: FindingRow) -> date | None:
    """The date the reviewer set, else the date the primary action proposes."""
    if row.effective_date is not None:
        return row.effective_date
    if row.actions and row.actions[0].get("effective_date"):
        return date.fromisoformat(str(row.actions[0]["effective_date"]))
    return None


def search_text(row: FindingRow) -> str:
    """Everything the find box matches, lower-cased once per load rather than per keystroke
    (the status has its own filter and changes with every decision, so it is not in here)."""
    parts = (row.customer_name, row.vendor_customer_name, row.product_name, row.sku,
             row.note, vendor_name(row.vendor), kind_label(row.kind), row.psa_line_id,
             row.subscription_id, str(row.id))
    return " ".join(p for p in parts if p).casefold()
