"""The one shape every importer produces per good row, before it becomes a ChargeLine."""

from __future__ import annotations

from decimal import Decimal
from typing import NamedTuple


class ParsedLine(NamedTuple):
    """A validated, signed charge line, its values already in storage form.

    Dates are ISO text ("2024-05-01", SQLAlchemy's SQLite Date form, which also sorts
    correctly) and money is DecimalText's exact text (format(value, "f")), because the parser
    has both at hand from its caches and a million lines stream through here: converting
    again per row would cost more than the insert. The first STORED fields are the
    charge_lines columns in insert order, so the writer takes `line[:STORED]` as is.
    """

    key: str  # sha256 hex of the line identity → ChargeLine.line_key
    customer_id: str
    customer_name: str | None
    subscription_id: str | None
    sku: str | None
    product_name: str | None
    charge_type: str
    charge_start: str | None  # ISO date
    charge_end: str | None  # ISO date
    quantity_text: str  # the signed quantity, as stored
    unit_price: str | None
    exchange_rate: str | None
    subtotal: str | None
    total: str | None
    currency: str
    invoice_number: str | None
    term: str | None
    billing_frequency: str | None
    order_date: str | None  # ISO date
    is_usage: bool
    extra: str | None  # JSON text for ChargeLine.extra
    # --- not stored on the line itself:
    row: int  # the line (or sheet row) where the record starts
    customer_domain: str | None
    quantity: Decimal  # signed: refunds negative; summed into subscription seats
    seats: bool  # counts toward the subscription's seat quantity
    cancels: bool  # a cancellation line (the subscription may have ended)
    subscription_start: str | None  # ISO date
    subscription_end: str | None  # ISO date


STORED = 21  # ParsedLine[:STORED] lines up with charge_store.COLUMNS[2:23]
