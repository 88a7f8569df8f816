"""Frozen records that connectors and importers hand to the services layer.

Every connector (Pax8, ConnectWise, Autotask, file importers) translates its wire format into
these shapes, so storage, mapping and reconciliation never see vendor JSON. They are frozen
so they can cross from worker threads to the UI safely. Money is Decimal, dates are dates,
timestamps are aware UTC datetimes; `raw` keeps the source record for "explain this number".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

# ---------------------------------------------------------------- vendor side


@dataclass(frozen=True)
class VendorCustomerRecord:
    external_id: str
    name: str
    domain: str | None = None
    status: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class VendorProductRecord:
    sku: str  # the vendor's product/SKU id (Partner Center: PRODUCTID:SKUID)
    name: str
    vendor_name: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class VendorSubscriptionRecord:
    external_id: str
    customer_external_id: str
    sku: str
    product_name: str
    quantity: Decimal
    unit_cost: Decimal | None
    unit_price: Decimal | None  # vendor list/retail price when the vendor gives one
    currency: str
    term: str | None  # "P1M", "P1Y", "P3Y", or None for usage
    billing_frequency: str | None  # "Monthly", "Annual", "Triennial", "OneTime", "Usage"
    start_date: date | None
    end_date: date | None  # commitment end / renewal date
    status: str  # "Active", "Cancelled", "Suspended", "PendingManual", ...
    created_at: datetime | None = None
    updated_at: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class SubscriptionChangeRecord:
    """One entry of a vendor subscription's history (Pax8 /subscriptions/{id}/history)."""

    subscription_external_id: str
    changed_at: datetime
    quantity: Decimal | None
    previous_quantity: Decimal | None
    action: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class VendorInvoiceRecord:
    external_id: str
    invoice_date: date
    due_date: date | None
    total: Decimal
    currency: str
    status: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class ChargeLineRecord:
    """A signed billed (or unbilled) vendor charge over ChargeStartDate..ChargeEndDate."""

    source_key: str  # stable identity of the line within its source (dedupe key)
    customer_external_id: str
    customer_name: str | None
    subscription_external_id: str | None
    sku: str | None
    product_name: str | None
    charge_type: str  # new, addQuantity, removeQuantity, cancel, convert, renew, cycleCharge, ...
    charge_start: date | None
    charge_end: date | None
    quantity: Decimal  # signed billable quantity
    unit_price: Decimal | None  # effective unit price in the pricing currency
    exchange_rate: Decimal | None
    subtotal: Decimal | None
    total: Decimal | None
    currency: str
    invoice_number: str | None = None
    term: str | None = None
    billing_frequency: str | None = None
    order_date: date | None = None
    is_usage: bool = False
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class UsageSummaryRecord:
    external_id: str
    subscription_external_id: str | None
    customer_external_id: str
    period_start: date | None
    period_end: date | None
    amount: Decimal
    currency: str
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


# ---------------------------------------------------------------- PSA side


@dataclass(frozen=True)
class PsaCompanyRecord:
    external_id: str
    name: str
    identifier: str | None = None
    domain: str | None = None
    status: str | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaAgreementRecord:
    external_id: str
    company_external_id: str
    name: str
    kind: str  # "recurring", "one_time", "fixed_price"
    type_name: str | None
    billing_cycle: str | None  # "Monthly", "Quarterly", "Annual", ...
    prorate: bool
    bill_one_time: bool
    start_date: date | None
    end_date: date | None
    active: bool = True
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaBillingLineRecord:
    """A CW agreement addition or an Autotask contract service (or one-time charge)."""

    external_id: str
    agreement_external_id: str
    product_external_id: str | None
    description: str | None
    quantity: Decimal
    unit_price: Decimal | None
    unit_cost: Decimal | None
    effective_date: date | None
    cancelled_date: date | None
    bill_customer: str | None = None  # "Billable", "DoNotBill", "NoCharge"
    invoice_description: str | None = None
    is_one_time: bool = False
    last_updated: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class PsaProductRecord:
    external_id: str
    identifier: str
    description: str | None
    price: Decimal | None
    cost: Decimal | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
