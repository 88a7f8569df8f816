"""Columns of the Mapping screen's tables: the queue, suggestions, and each kind of mapping.

Each table is a RowTableModel over the service's frozen rows; sort values are real values
(scores and seat counts as numbers), so sorting never compares "9" with "10" as text.
"""

from __future__ import annotations

from decimal import Decimal

from app.services.mapping import OverrideRow, SuggestionView, UnmappedItem
from app.services.mapping_queries import (
    AgreementRow,
    CustomerRow,
    ProductRow,
    SubscriptionRow,
)
from app.ui.formatting import money, quantity
from app.ui.pages.widgets import tone_color, tone_text
from app.ui.table import RIGHT, Column, RowTableModel

KIND_LABELS = {"customer": "Customer", "product": "Product", "subscription": "Subscription",
               "agreement": "Agreement"}
MOTION_LABELS = {"monthly": "Monthly (M/M)", "annual-monthly": "Annual, billed monthly (A/M)",
                 "annual-annual": "Annual, billed upfront (A/A)", "usage": "Usage (arrears)"}
METHOD_LABELS = {"exact": "Exact match", "manual": "By hand", "suggestion": "Accepted suggestion",
                 "auto": "Automatic"}
# A suggestion this close is almost certainly right; below it a person should look twice.
STRONG_SCORE = Decimal(95)


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind.title())


def motion_label(motion: str) -> str:
    return MOTION_LABELS.get(motion, motion)


def method_label(method: str, score: Decimal | None = None) -> str:
    text = METHOD_LABELS.get(method, method.replace("_", " ").capitalize())
    return f"{text} ({score.normalize():f})" if score is not None else text


def score_text(score: Decimal) -> str:
    word = "strong" if score >= STRONG_SCORE else "check"
    return f"{score.normalize():f}  {tone_text('ok' if score >= STRONG_SCORE else 'warning', word)}"


def _with_id(name: str, ident: str) -> str:
    return f"{name}  ({ident})" if ident and ident != name else name


QUEUE_COLUMNS: list[Column[UnmappedItem]] = [
    Column("Kind", lambda r: kind_label(r.kind), lambda r: r.kind),
    Column("Item", lambda r: r.name, lambda r: r.name.lower(),
           tooltip=lambda r: f"{r.connection} id {r.id}"),
    Column("Id", lambda r: r.id),
    Column("Source", lambda r: r.connection),
    Column("Why it is unmapped", lambda r: r.reason[:1].upper() + r.reason[1:],
           tooltip=lambda r: r.reason,
           foreground=lambda r: tone_color("warning") if r.reason.startswith("awaiting")
           else None),
]

SUGGESTION_COLUMNS: list[Column[SuggestionView]] = [
    Column("Score", lambda r: score_text(r.score), lambda r: r.score, RIGHT,
           tooltip=lambda r: "Similarity of the two names, 0–100",
           foreground=lambda r: tone_color("ok" if r.score >= STRONG_SCORE else "warning")),
    Column("Kind", lambda r: kind_label(r.kind), lambda r: r.kind),
    Column("Vendor item", lambda r: _with_id(r.vendor_name, r.vendor_id),
           lambda r: r.vendor_name.lower(), tooltip=lambda r: r.vendor_connection),
    Column("Proposed PSA match", lambda r: _with_id(r.psa_name, r.psa_id),
           lambda r: r.psa_name.lower(), tooltip=lambda r: r.psa_connection),
    Column("Why", lambda r: r.reason, tooltip=lambda r: r.reason),
]

CUSTOMER_COLUMNS: list[Column[CustomerRow]] = [
    Column("Vendor customer", lambda r: r.vendor_customer_name,
           lambda r: r.vendor_customer_name.lower()),
    Column("Vendor id", lambda r: r.vendor_customer_id),
    Column("Domain", lambda r: r.vendor_domain or ""),
    Column("PSA company", lambda r: r.psa_company_name, lambda r: r.psa_company_name.lower()),
    Column("PSA id", lambda r: r.psa_company_id),
    Column("How", lambda r: method_label(r.method, r.score), lambda r: r.method),
]


def _seats_differ(r: SubscriptionRow) -> bool:
    return r.quantity != r.psa_quantity


def subscription_columns(names: dict[tuple[str, str], str] | None = None
                         ) -> list[Column[SubscriptionRow]]:
    """`names`: (vendor connection, vendor customer id) → the customer's name."""
    names = names or {}

    def customer(r: SubscriptionRow) -> str:
        return names.get((r.vendor_connection, r.vendor_customer_id), r.vendor_customer_id)

    return [Column("Customer", customer, lambda r: customer(r).lower(),
                   tooltip=lambda r: f"{r.vendor_connection} customer {r.vendor_customer_id}"),
            *_SUBSCRIPTION_COLUMNS]


_SUBSCRIPTION_COLUMNS: list[Column[SubscriptionRow]] = [
    Column("Product", lambda r: r.product_name, lambda r: r.product_name.lower(),
           tooltip=lambda r: f"SKU {r.sku} · subscription {r.vendor_subscription_id}"),
    Column("Vendor seats", lambda r: quantity(r.quantity), lambda r: r.quantity, RIGHT),
    Column("Billing motion", lambda r: motion_label(r.motion), lambda r: r.motion),
    Column("PSA line", lambda r: _with_id(r.psa_line_description or "", r.psa_line_id),
           tooltip=lambda r: f"Agreement {r.psa_agreement_id} · {r.psa_connection}"),
    Column("PSA seats", lambda r: (quantity(r.psa_quantity) + ("  ≠" if _seats_differ(r) else "")),
           lambda r: r.psa_quantity, RIGHT,
           tooltip=lambda r: ("Vendor and PSA seats differ: reconcile the period to see the "
                              "money at stake") if _seats_differ(r) else "",
           foreground=lambda r: tone_color("warning") if _seats_differ(r) else None),
    Column("Agreement", lambda r: r.psa_agreement_id),
    Column("How", lambda r: method_label(r.method), lambda r: r.method),
]

PRODUCT_COLUMNS: list[Column[ProductRow]] = [
    Column("Vendor product", lambda r: r.vendor_product_name,
           lambda r: r.vendor_product_name.lower()),
    Column("Vendor SKU", lambda r: r.vendor_sku),
    Column("PSA product", lambda r: r.psa_product_identifier),
    Column("PSA description", lambda r: r.psa_product_description or ""),
    Column("How", lambda r: method_label(r.method), lambda r: r.method),
]

AGREEMENT_COLUMNS: list[Column[AgreementRow]] = [
    Column("PSA company", lambda r: r.psa_company_name, lambda r: r.psa_company_name.lower()),
    Column("Billing motion", lambda r: motion_label(r.motion), lambda r: r.motion),
    Column("Agreement", lambda r: _with_id(r.psa_agreement_name, r.psa_agreement_id)),
    Column("Agreement kind", lambda r: r.agreement_kind.replace("_", " ").capitalize()),
]


def override_columns(currency: str) -> list[Column[OverrideRow]]:
    return [
        Column("SKU", lambda r: r.sku),
        Column("Applies to", lambda r: r.psa_company_name or "All customers",
               lambda r: (r.psa_company_name or "").lower()),
        Column("Customer price", lambda r: money(r.unit_price, currency) if r.unit_price
               is not None else "—", lambda r: r.unit_price, RIGHT),
        Column("Invoice description", lambda r: r.description or "—"),
    ]


def search_text(row: object) -> str:
    """Everything a person might type to find a row, lower-cased once."""
    values = getattr(row, "__dict__", None) or {
        name: getattr(row, name) for name in getattr(row, "__dataclass_fields__", {})}
    return " ".join(str(v) for v in values.values() if v is not None).lower()


def model_for(columns: list[Column]) -> RowTableModel:
    return RowTableModel(columns)
