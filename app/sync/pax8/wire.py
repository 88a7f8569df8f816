"""Pax8 wire format: exact-decimal JSON, Pax8 date strings, and Pax8 JSON -> frozen records.

Shared by the connector and the sandbox so both sides agree on one encoding. The mappers are
pure functions, so the spec's own example payloads can be fed through them in tests. Money
never passes through float: bodies are parsed with `parse_float=Decimal`, and Decimals are
written back as JSON numbers with their exact digits.

Field names follow `pax8-partner-endpoints-openapi.json` (components.schemas). Where the spec
has no field for something a record wants, the record gets None and the mapper says so.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.sync.json_wire import exact_dumps, loads  # noqa: F401 (loads re-exported)
from app.sync.records import (
    ChargeLineRecord,
    SubscriptionChangeRecord,
    UsageSummaryRecord,
    VendorCustomerRecord,
    VendorInvoiceRecord,
    VendorProductRecord,
    VendorSubscriptionRecord,
)


class Pax8DataError(ValueError):
    """A Pax8 record has a field we cannot read; the connector adds endpoint and page."""


# ---------------------------------------------------------------- JSON


def dumps(value: Any) -> bytes:
    """JSON with Decimals written as exact JSON numbers, dates and times in ISO 8601."""
    return exact_dumps(value, format_date=date.isoformat, format_timestamp=datetime.isoformat,
                       api="Pax8")


# ---------------------------------------------------------------- scalars


def to_decimal(value: Any, field: str = "value") -> Decimal | None:
    """Exact Decimal from a JSON number parsed as Decimal/int, or from text; floats refused."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Pax8DataError(f"{field} is a boolean, not a number")
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, str):
        try:
            return Decimal(value.strip())
        except ArithmeticError:
            raise Pax8DataError(f"{field} is not a number: {value!r}") from None
    raise Pax8DataError(f"{field} has unexpected type {type(value).__name__}")


def parse_timestamp(value: Any, field: str = "timestamp") -> datetime | None:
    """Aware UTC datetime. Pax8 writes `2021-01-01T08:30:00Z`, `2023-08-11T11:33:12.314-0600`
    and, in its own examples, bare dates (`2020-12-03`) in date-time fields; a value without
    an offset is taken as UTC because the spec names no other zone."""
    if value in (None, ""):
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        raise Pax8DataError(f"{field} is not a timestamp: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def parse_date(value: Any, field: str = "date") -> date | None:
    """Calendar date as Pax8 wrote it. For date-time fields the local date of the written
    offset is kept: converting `2021-01-01T00:30-05:00` to UTC first would move a start or
    end date across midnight."""
    if value in (None, ""):
        return None
    text = str(value)
    try:
        if len(text) == 10:
            return date.fromisoformat(text)
        return datetime.fromisoformat(text).date()
    except ValueError:
        raise Pax8DataError(f"{field} is not a date: {value!r}") from None


def domain_from_website(website: str | None) -> str | None:
    """`https://www.pax8.com/` -> `pax8.com`; the Company schema has no domain, only website."""
    if not website:
        return None
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", website.strip().lower())
    host = host.split("/")[0].split("?")[0].split(":")[0]
    host = host.removeprefix("www.")
    return host or None


# Subscription/Pricing `billingTerm` enum -> records' billing_frequency.
_FREQUENCY = {
    "monthly": "Monthly",
    "annual": "Annual",
    "2-year": "Biennial",
    "3-year": "Triennial",
    "one-time": "OneTime",
    "trial": "Trial",
    "activation": "Activation",
    "arrears": "Usage",  # InvoiceItem.term only: billed after use (Azure and other usage)
    "rebate": "Rebate",  # InvoiceItem.term only
}
_TERM_FROM_BILLING = {"Monthly": "P1M", "Annual": "P1Y", "Biennial": "P2Y", "Triennial": "P3Y"}
_TERM_RE = re.compile(r"^\s*(\d+)\s*[- ]?\s*(year|yr|month|mo)s?\s*$", re.IGNORECASE)


def billing_frequency(value: str | None) -> str | None:
    """Subscription `billingTerm` ("2-Year") and InvoiceItem `term` ("2 Year") alike."""
    if not value:
        return None
    return _FREQUENCY.get(value.strip().lower().replace(" ", "-"), value)


def commitment_term(commitment: str | None, frequency: str | None) -> str | None:
    """ISO 8601 duration of the commitment. `commitmentTerm.term` ("1-Year", "3-Year",
    "Monthly") wins; without one, the billing term is the only commitment Pax8 states
    (monthly billing without a commitment is month-to-month); one-time/trial -> None."""
    if commitment:
        text = commitment.strip()
        match = _TERM_RE.match(text)
        if match:
            unit = "Y" if match.group(2).lower().startswith("y") else "M"
            return f"P{int(match.group(1))}{unit}"
        mapped = _TERM_FROM_BILLING.get(billing_frequency(text) or "")
        if mapped:
            return mapped
    return _TERM_FROM_BILLING.get(frequency or "")


def _require(item: dict[str, Any], key: str, kind: str) -> Any:
    value = item.get(key)
    if value in (None, ""):
        raise Pax8DataError(f"{kind} has no {key}")
    return value


def _currency(item: dict[str, Any], default: str | None, kind: str) -> str:
    code = item.get("currencyCode") or default
    if not code:
        # Amounts in different currencies must never be added, so we refuse to guess one.
        raise Pax8DataError(f"{kind} {item.get('id') or ''} has no currencyCode and the "
                            "connection has no default currency")
    return str(code).upper()


# ---------------------------------------------------------------- records


def company_record(item: dict[str, Any]) -> VendorCustomerRecord:
    return VendorCustomerRecord(
        external_id=str(_require(item, "id", "company")),
        name=str(item.get("name") or ""),
        domain=domain_from_website(item.get("website")),
        status=item.get("status"),
        raw=item,
    )


def product_record(item: dict[str, Any]) -> VendorProductRecord:
    # `sku` is the Pax8 product id: subscriptions, invoice items and usage summaries all carry
    # productId, so it is the one key that joins them. The SKU codes stay in raw
    # (raw["sku"] is Pax8's code, raw["vendorSku"] the vendor's).
    return VendorProductRecord(
        sku=str(_require(item, "id", "product")),
        name=str(item.get("name") or ""),
        vendor_name=item.get("vendorName"),
        raw=item,
    )


def subscription_record(item: dict[str, Any], default_currency: str | None = None
                        ) -> VendorSubscriptionRecord:
    """`partnerCost` is the partner's unit cost and `price` the customer's unit price (spec
    descriptions); both are passed on as Pax8 states them, per unit per billing term."""
    sub_id = str(_require(item, "id", "subscription"))
    frequency = billing_frequency(item.get("billingTerm"))
    commitment = item.get("commitmentTerm") or {}
    # endDate is set when the subscription ends (cancelled / pending cancel); otherwise the
    # commitment's endDate is the renewal date. Both stay in raw.
    end = parse_date(item.get("endDate"), "endDate") or parse_date(
        commitment.get("endDate"), "commitmentTerm.endDate")
    return VendorSubscriptionRecord(
        external_id=sub_id,
        customer_external_id=str(_require(item, "companyId", f"subscription {sub_id}")),
        sku=str(_require(item, "productId", f"subscription {sub_id}")),
        product_name=str(item.get("productName") or ""),
        quantity=to_decimal(_require(item, "quantity", f"subscription {sub_id}"), "quantity"),
        unit_cost=to_decimal(item.get("partnerCost"), "partnerCost"),
        unit_price=to_decimal(item.get("price"), "price"),
        currency=_currency(item, default_currency, "subscription"),
        term=commitment_term(commitment.get("term"), frequency),
        billing_frequency=frequency,
        start_date=parse_date(item.get("startDate"), "startDate"),
        end_date=end,
        status=str(item.get("status") or "Unknown"),
        created_at=parse_timestamp(item.get("createdDate"), "createdDate"),
        updated_at=parse_timestamp(item.get("updatedDate"), "updatedDate"),
        raw=item,
    )


def history_records(subscription_id: str, items: list[dict[str, Any]]
                    ) -> list[SubscriptionChangeRecord]:
    """History entries are full Subscription snapshots with no action field (spec example
    `subscription-history`), so each change is derived from the snapshot before it. They are
    ordered by updatedDate (createdDate for the first snapshot, which has none)."""
    dated = []
    for item in items:
        when = (parse_timestamp(item.get("updatedDate"), "updatedDate")
                or parse_timestamp(item.get("createdDate"), "createdDate")
                or parse_timestamp(item.get("startDate"), "startDate"))
        if when is None:
            raise Pax8DataError(f"a history entry of subscription {subscription_id} has no date")
        dated.append((when, item))
    dated.sort(key=lambda pair: pair[0])
    records: list[SubscriptionChangeRecord] = []
    previous: dict[str, Any] | None = None
    for when, item in dated:
        quantity = to_decimal(item.get("quantity"), "quantity")
        before = to_decimal(previous.get("quantity"), "quantity") if previous else None
        if previous is None:
            action = "created"
        elif item.get("status") != previous.get("status"):
            action = "status_change"
        elif quantity is not None and before is not None and quantity != before:
            action = "quantity_increase" if quantity > before else "quantity_decrease"
        else:
            action = "update"
        records.append(SubscriptionChangeRecord(
            subscription_external_id=subscription_id, changed_at=when, quantity=quantity,
            previous_quantity=before, action=action, raw=item))
        previous = item
    return records


def invoice_record(item: dict[str, Any], default_currency: str | None = None
                   ) -> VendorInvoiceRecord:
    inv_id = str(_require(item, "id", "invoice"))
    return VendorInvoiceRecord(
        external_id=inv_id,
        invoice_date=parse_date(_require(item, "invoiceDate", f"invoice {inv_id}"), "invoiceDate"),
        due_date=parse_date(item.get("dueDate"), "dueDate"),
        total=to_decimal(_require(item, "total", f"invoice {inv_id}"), "total"),
        currency=_currency(item, default_currency, "invoice"),
        # `status` is not in the Invoice schema but is in every example and a query filter.
        status=item.get("status"),
        raw=item,
    )


def invoice_item_key(invoice_id: str, item: dict[str, Any]) -> str:
    """InvoiceItem.id when present; the spec's own example omits it, so fall back to the
    fields that identify a line (subscription/sku, period, type, quantity, amount)."""
    if item.get("id"):
        return str(item["id"])
    parts = [item.get("subscriptionId") or item.get("sku"), item.get("startPeriod"),
             item.get("endPeriod"), item.get("type"), item.get("quantity"), item.get("amountDue")]
    return f"{invoice_id}:" + "|".join("" if p is None else str(p) for p in parts)


def invoice_item_record(invoice_id: str, item: dict[str, Any], default_currency: str | None = None
                        ) -> ChargeLineRecord:
    """What Pax8 bills the partner: unit `cost`, `costTotal` and `amountDue` ("the final
    total due for the item for this invoice"). The customer-side `price`, `subTotal` and
    `total` stay in raw. The spec has no exchange rate, commitment term or order date."""
    frequency = billing_frequency(item.get("term"))
    return ChargeLineRecord(
        source_key=invoice_item_key(invoice_id, item),
        customer_external_id=str(item.get("companyId") or ""),
        customer_name=item.get("companyName"),
        subscription_external_id=item.get("subscriptionId"),
        sku=item.get("productId") or item.get("sku"),
        product_name=item.get("productName") or item.get("description"),
        charge_type=str(item.get("type") or "unknown"),
        charge_start=parse_date(item.get("startPeriod"), "startPeriod"),
        charge_end=parse_date(item.get("endPeriod"), "endPeriod"),
        quantity=to_decimal(item.get("quantity"), "quantity") or Decimal(0),
        unit_price=to_decimal(item.get("cost"), "cost"),
        exchange_rate=None,
        subtotal=to_decimal(item.get("costTotal"), "costTotal"),
        total=to_decimal(item.get("amountDue"), "amountDue"),
        currency=_currency(item, default_currency, "invoice item"),
        invoice_number=invoice_id,  # the Invoice schema has no separate number
        term=None,
        billing_frequency=frequency,
        order_date=None,
        is_usage=frequency == "Usage",
        raw=item,
    )


def usage_summary_record(item: dict[str, Any], subscription_id: str | None = None,
                         default_currency: str | None = None) -> UsageSummaryRecord:
    """`amount` is `partnerTotal` (the partner's cost); `currentCharges` (the customer-side
    charges) stays in raw. Both are "for the current month", and the schema gives no period
    dates, so period_start/period_end are None."""
    summary_id = str(_require(item, "id", "usage summary"))
    return UsageSummaryRecord(
        external_id=summary_id,
        # subscriptionId is in the spec's examples, not in the schema: fall back to the path.
        subscription_external_id=item.get("subscriptionId") or subscription_id,
        customer_external_id=str(_require(item, "companyId", f"usage summary {summary_id}")),
        period_start=None,
        period_end=None,
        amount=to_decimal(item.get("partnerTotal"), "partnerTotal") or Decimal(0),
        currency=_currency(item, default_currency, "usage summary"),
        raw=item,
    )


def usage_line_key(summary_id: str, item: dict[str, Any]) -> str:
    """Usage lines have no id; one line per summary, day, product and unit."""
    keys = ("usageDate", "productId", "unitOfMeasure")
    return f"{summary_id}:" + "|".join(str(item.get(k) or "") for k in keys)


def usage_line_record(summary: UsageSummaryRecord, item: dict[str, Any]) -> ChargeLineRecord:
    """A usage line as a one-day usage charge at partner cost (`partnerTotal`)."""
    day = parse_date(item.get("usageDate"), "usageDate")
    quantity = to_decimal(item.get("quantity"), "quantity") or Decimal(0)
    partner_total = to_decimal(item.get("partnerTotal"), "partnerTotal")
    return ChargeLineRecord(
        source_key=usage_line_key(summary.external_id, item),
        customer_external_id=summary.customer_external_id,
        customer_name=None,  # UsageLine has no company fields
        subscription_external_id=summary.subscription_external_id,
        sku=item.get("productId"),
        product_name=item.get("productName"),
        charge_type="usage",
        charge_start=day,
        charge_end=day,
        quantity=quantity,
        # The spec's unitPrice is not said to be partner or customer side; partner unit cost
        # is not given, so the line keeps unitPrice and uses partnerTotal as its amounts.
        unit_price=to_decimal(item.get("unitPrice"), "unitPrice"),
        exchange_rate=None,
        subtotal=partner_total,
        total=partner_total,
        currency=_currency(item, summary.currency, "usage line"),
        billing_frequency="Usage",
        is_usage=True,
        raw=item,
    )
