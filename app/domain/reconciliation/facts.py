"""What the engine reconciles: one bundle of facts per vendor subscription and period.

The service loads these from the workspace (snapshots, charge lines, PSA lines, mappings);
the engine only reads them. All money in one bundle is in its `currency`. Unit prices and
costs are per seat for one whole billing period of the customer (a month by default) unless
a field says otherwise; vendor charge lines carry their own amounts.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from app.domain.iso_days import iso_day
from app.domain.lazy import computed_once
from app.domain.money import normalise_currency
from app.domain.periods import BillingPeriod
from app.domain.timeline import QuantityTimeline, SeatLot

_T = TypeVar("_T")


def _decimal(value: object, name: str, *, optional: bool = False) -> Decimal | None:
    if type(value) is Decimal:  # the common case, checked first: facts are built by the 100k
        return value
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__} ({value!r})")
    return Decimal(value)


def _day(value: object, name: str, *, optional: bool = False) -> date | None:
    if type(value) is date:
        return value
    if value is None and optional:
        return None
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a calendar date, not {type(value).__name__}")
    return value


def _sorted(items: Iterable[_T], key: Callable[[_T], Any]) -> tuple[_T, ...]:
    if type(items) is tuple and len(items) < 2:  # type: ignore[arg-type]
        return items  # type: ignore[return-value]
    return tuple(sorted(items, key=key))


def _line_id(line: PsaLineFacts) -> str:
    return line.line_id


class MappingState(StrEnum):
    MAPPED = "mapped"
    CUSTOMER_UNMAPPED = "customer_unmapped"
    SUBSCRIPTION_UNMAPPED = "subscription_unmapped"
    SKU_UNMAPPED = "sku_unmapped"
    AGREEMENT_UNMAPPED = "agreement_unmapped"  # no PSA agreement for the billing motion


class AgreementKind(StrEnum):
    RECURRING = "recurring"
    ONE_TIME = "one_time"
    FIXED_PRICE = "fixed_price"


class ChargeCategory(StrEnum):
    """What a vendor charge line is, from its charge type (Partner Center, Pax8, files)."""

    PURCHASE = "purchase"
    RENEWAL = "renewal"
    ADD = "add"
    REDUCTION = "reduction"
    CANCEL = "cancel"
    CYCLE = "cycle"
    USAGE = "usage"
    OTHER = "other"


_CATEGORY_WORDS: tuple[tuple[str, ChargeCategory], ...] = (
    ("usage", ChargeCategory.USAGE),
    ("addquantity", ChargeCategory.ADD),
    ("removequantity", ChargeCategory.REDUCTION),
    ("renew", ChargeCategory.RENEWAL),
    ("cancel", ChargeCategory.CANCEL),
    ("new", ChargeCategory.PURCHASE),
    ("purchase", ChargeCategory.PURCHASE),
    ("activat", ChargeCategory.PURCHASE),
    ("convert", ChargeCategory.PURCHASE),
    ("cycle", ChargeCategory.CYCLE),
)

_CATEGORIES: dict[str, ChargeCategory] = {}  # a book has a handful of charge types


def charge_category(charge_type: str) -> ChargeCategory:
    """The category a charge type names (not usage: usage is a flag of the line)."""
    known = _CATEGORIES.get(charge_type)
    if known is None:
        text = "".join(ch for ch in charge_type.lower() if ch.isalnum())
        known = next((category for word, category in _CATEGORY_WORDS if word in text),
                     ChargeCategory.OTHER)
        if len(_CATEGORIES) < 4096:
            _CATEGORIES[charge_type] = known
    return known


# Vendor statuses that mean the subscription no longer bills.
ENDED_STATUSES = frozenset(
    {"cancelled", "canceled", "expired", "deleted", "disabled", "terminated", "inactive"}
)


@dataclass(frozen=True)
class CustomerRef:
    """The customer on both sides; the PSA half is None while the customer is unmapped."""

    vendor_id: str
    vendor_name: str
    psa_id: str | None = None
    psa_name: str | None = None
    internal: bool = False

    @property
    def name(self) -> str:
        return self.psa_name or self.vendor_name

    @property
    def policy_refs(self) -> tuple[str, ...]:
        """The references a customer-scope policy may use: PSA company id, then vendor id."""
        return tuple(ref for ref in (self.psa_id, self.vendor_id) if ref)

    def as_json(self) -> dict[str, object]:
        return {
            "vendor_id": self.vendor_id,
            "vendor_name": self.vendor_name,
            "psa_id": self.psa_id,
            "psa_name": self.psa_name,
            "internal": self.internal,
        }


@dataclass(frozen=True)
class VendorCharge:
    """One signed billed line from the vendor's invoice or recon file, for its own span.

    `quantity` is the signed billable quantity over start..end (an NCE addQuantity comes as
    a refund of the old quantity and a charge of the new one); `amount` is what the vendor
    billed for the line in the bundle currency.
    """

    charge_id: str
    charge_type: str
    start: date
    end: date
    quantity: Decimal
    unit_price: Decimal | None
    amount: Decimal
    is_usage: bool = False
    invoice_ref: str | None = None

    def __post_init__(self) -> None:
        _day(self.start, "start")
        _day(self.end, "end")
        if self.end < self.start:
            raise ValueError(f"vendor charge {self.charge_id} ends before it starts")
        object.__setattr__(self, "quantity", _decimal(self.quantity, "quantity"))
        object.__setattr__(
            self, "unit_price", _decimal(self.unit_price, "unit_price", optional=True)
        )
        object.__setattr__(self, "amount", _decimal(self.amount, "amount"))

    @computed_once
    def category(self) -> ChargeCategory:
        if self.is_usage:
            return ChargeCategory.USAGE
        return charge_category(self.charge_type)

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


@dataclass(frozen=True)
class PsaLineFacts:
    """A PSA billing line: a recurring addition/contract service or a one-time charge.

    `cancelled_date` is the last day billed. `quantity_steps`, when given, is the quantity
    the line billed over time, from dated snapshots or scheduled changes: ((first day,
    seats from that day on), …); without it the line bills `quantity` from its effective
    date. A change pushed as "12 effective 1 April" is a step (2024-04-01, 12), so March
    still reads as billed at the old quantity.
    """

    line_id: str
    agreement_id: str
    agreement_kind: AgreementKind = AgreementKind.RECURRING
    product_id: str | None = None
    quantity: Decimal = Decimal(0)
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None
    effective_date: date | None = None
    cancelled_date: date | None = None
    description: str = ""
    quantity_steps: tuple[tuple[date, Decimal], ...] = ()

    def __post_init__(self) -> None:
        if type(self.agreement_kind) is not AgreementKind:
            object.__setattr__(self, "agreement_kind", AgreementKind(self.agreement_kind))
        object.__setattr__(self, "quantity", _decimal(self.quantity, "quantity"))
        for name in ("unit_price", "unit_cost"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name, optional=True))
        _day(self.effective_date, "effective_date", optional=True)
        _day(self.cancelled_date, "cancelled_date", optional=True)
        if self.quantity_steps:
            steps = tuple(
                (_day(day, "quantity step"), _decimal(q, "quantity step"))
                for day, q in self.quantity_steps
            )
            object.__setattr__(self, "quantity_steps", tuple(sorted(steps)))
        if not self.description:
            object.__setattr__(self, "description", "")

    @property
    def is_recurring(self) -> bool:
        return self.agreement_kind is not AgreementKind.ONE_TIME

    def timeline(self) -> QuantityTimeline:
        """Seats the line bills per day, between its effective and cancelled dates.

        Built once per line (the engine asks for it many times): the line is frozen and
        the timeline immutable, and the cache is no field, so it is not compared or hashed.
        """
        cached = self.__dict__.get("_timeline")
        if cached is None:
            cached = self._build_timeline()
            object.__setattr__(self, "_timeline", cached)
        return cached

    def _build_timeline(self) -> QuantityTimeline:
        first = self.effective_date or date.min
        last = self.cancelled_date
        if last is not None and last < first:
            return QuantityTimeline()
        if not self.quantity_steps:
            if last is not None and last < date.max:
                return QuantityTimeline.one_span(self.quantity, first, last)
            return QuantityTimeline.from_changes([(first, self.quantity)])
        lots = []
        days = [day for day, _ in self.quantity_steps]
        for index, (day, quantity) in enumerate(self.quantity_steps):
            start = max(day, first)
            end = last
            if index + 1 < len(days):
                before_next = date.fromordinal(days[index + 1].toordinal() - 1)
                end = before_next if last is None else min(last, before_next)
            if end is None or start <= end:
                lots.append(SeatLot(quantity, start, end))
        return QuantityTimeline.from_lots(lots)

    @computed_once
    def folded_description(self) -> str:
        """The description lower-cased, as finding references are looked for in it: one
        customer's charges are searched for every subscription of the customer."""
        return self.description.lower()

    @property
    def amount(self) -> Decimal:
        """What a one-time charge bills: quantity × unit price."""
        return self.quantity * (self.unit_price or Decimal(0))

    def seen(self, *names: str) -> dict[str, str]:
        """The line's values as text, as the push protocol compares them (`names`, or all)."""
        return {name: _SEEN[name](self) for name in names or _SEEN}


def _text(value: Decimal | date | None) -> str:
    return "" if value is None else iso_day(value) if isinstance(value, date) else str(value)


# How `PsaLineFacts.seen` writes each value, in its order.
_SEEN: dict[str, Callable[[PsaLineFacts], str]] = {
    "quantity": lambda line: str(line.quantity),
    "unit_price": lambda line: _text(line.unit_price),
    "unit_cost": lambda line: _text(line.unit_cost),
    "effective_date": lambda line: _text(line.effective_date),
    "cancelled_date": lambda line: _text(line.cancelled_date),
    "description": lambda line: line.description,
}


@dataclass(frozen=True)
class SubscriptionFacts:
    """One vendor subscription, its customer, its PSA lines and the period's charges.

    `vendor_timeline` is the billable seats per day (built by seat history from charge lines
    and snapshots). `psa_lines` are the lines mapped to this subscription; one-time lines
    among them, and `psa_one_time_charges` (the customer's one-time charges dated from the
    period start to the next invoice), are what true-ups and annual or usage charges are
    matched against. `agreement_id` receives new recurring lines for the subscription's
    billing motion and `one_time_agreement_id` one-time charges (else the motion agreement).
    `vendor_unit_cost` and `vendor_list_price` are the vendor's per seat for its billing
    frequency (per year for A/A); `customer_price` and `psa_product_price` are per seat per
    month, so comparing the two for an upfront subscription scales by `term_months`.
    """

    vendor: str
    vendor_subscription_id: str
    customer: CustomerRef
    sku: str
    product_name: str
    currency: str
    vendor_timeline: QuantityTimeline
    term: str | None = "P1M"
    billing_frequency: str | None = "Monthly"
    status: str = "Active"
    start_date: date | None = None
    end_date: date | None = None
    vendor_unit_cost: Decimal | None = None
    vendor_list_price: Decimal | None = None
    vendor_charges: tuple[VendorCharge, ...] = ()
    psa_lines: tuple[PsaLineFacts, ...] = ()
    psa_one_time_charges: tuple[PsaLineFacts, ...] = ()
    customer_price: Decimal | None = None
    mapping: MappingState = MappingState.MAPPED
    psa_kind: str = "connectwise"
    agreement_id: str | None = None
    one_time_agreement_id: str | None = None
    psa_product_id: str | None = None
    psa_product_price: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", normalise_currency(self.currency))
        if type(self.mapping) is not MappingState:
            object.__setattr__(self, "mapping", MappingState(self.mapping))
        for name in ("vendor_unit_cost", "vendor_list_price", "customer_price",
                     "psa_product_price"):
            object.__setattr__(self, name, _decimal(getattr(self, name), name, optional=True))
        if not isinstance(self.vendor_timeline, QuantityTimeline):
            raise TypeError("vendor_timeline must be a QuantityTimeline")
        object.__setattr__(self, "vendor_charges", _sorted(
            self.vendor_charges, lambda c: (c.start, c.end, c.charge_id)))
        object.__setattr__(self, "psa_lines", _sorted(self.psa_lines, _line_id))
        object.__setattr__(self, "psa_one_time_charges",
                           _sorted(self.psa_one_time_charges, _line_id))

    @computed_once
    def frequency(self) -> str:
        return (self.billing_frequency or "").strip().lower()

    @computed_once
    def is_usage(self) -> bool:
        return self.frequency == "usage"

    @computed_once
    def has_usage(self) -> bool:
        """A usage subscription, or one the vendor billed usage charges."""
        return self.is_usage or any(c.category is ChargeCategory.USAGE
                                    for c in self.vendor_charges)

    @property
    def is_upfront(self) -> bool:
        """Billed by the vendor for the whole term at once (A/A, 3Y/3Y, one-time)."""
        return self.frequency in ("annual", "triennial", "onetime", "one-time")

    @property
    def motion(self) -> str:
        if self.is_usage:
            return "usage"
        term = {"P1M": "M", "P1Y": "A", "P3Y": "3Y"}.get((self.term or "").upper(), "?")
        billed = {"monthly": "M", "annual": "A", "triennial": "3Y"}.get(self.frequency, "?")
        return f"{term}/{billed}"

    @property
    def term_months(self) -> int | None:
        """The term's length in months (P1M → 1, P1Y → 12, P3Y → 36), None when unknown."""
        match = re.fullmatch(r"P(\d+)([MY])", (self.term or "").strip().upper())
        if match is None or int(match.group(1)) == 0:
            return None
        return int(match.group(1)) * (12 if match.group(2) == "Y" else 1)

    @property
    def is_trial(self) -> bool:
        return "trial" in self.status.lower() or "trial" in (self.term or "").lower()

    @property
    def is_free(self) -> bool:
        """Costs nothing and is priced at nothing everywhere a price is known.

        A usage subscription (an Azure plan) is never free by its zero unit price: its money
        is in its usage charges, and so is that of any subscription the vendor billed usage.
        """
        if self.vendor_unit_cost is None or not self.vendor_unit_cost.is_zero():
            return False
        if self.has_usage:
            return False
        prices = [self.vendor_list_price, self.customer_price]
        prices += [line.unit_price for line in self.psa_lines]
        return all(price is None or price.is_zero() for price in prices)

    @property
    def is_ended(self) -> bool:
        return self.status.strip().lower() in ENDED_STATUSES

    def recurring_lines(self) -> tuple[PsaLineFacts, ...]:
        return tuple(line for line in self.psa_lines if line.is_recurring)

    def one_time_charges(self) -> tuple[PsaLineFacts, ...]:
        """Every one-time PSA charge a true-up, annual or usage charge may be matched to,
        once each: a charge mapped to the subscription may also be among the customer's
        one-time charges, and listed twice it would settle the same amount twice."""
        return self._one_time_charges

    @computed_once
    def _one_time_charges(self) -> tuple[PsaLineFacts, ...]:
        mapped = tuple(line for line in self.psa_lines if not line.is_recurring)
        charges = self.psa_one_time_charges
        if not mapped and len({line.line_id for line in charges}) == len(charges):
            return charges
        seen: set[str] = set()
        unique = []
        for line in mapped + self.psa_one_time_charges:
            if line.line_id not in seen:
                seen.add(line.line_id)
                unique.append(line)
        return tuple(unique)

    def policy_products(self) -> tuple[str, ...]:
        return tuple(ref for ref in (self.sku, self.psa_product_id) if ref)


@dataclass(frozen=True)
class OrphanPsaLine:
    """A PSA line mapped to a vendor subscription that is gone or cancelled at the vendor.

    `vendor_end_date` is the last day the vendor billed, when known; without it the whole
    period is treated as billed for nothing.
    """

    vendor: str
    vendor_subscription_id: str
    customer: CustomerRef
    sku: str
    product_name: str
    currency: str
    line: PsaLineFacts
    psa_kind: str = "connectwise"
    vendor_status: str = "missing"
    vendor_end_date: date | None = None
    psa_one_time_charges: tuple[PsaLineFacts, ...] = ()
    one_time_agreement_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "currency", normalise_currency(self.currency))
        _day(self.vendor_end_date, "vendor_end_date", optional=True)

    def policy_products(self) -> tuple[str, ...]:
        return tuple(ref for ref in (self.sku, self.line.product_id) if ref)


def active_on(lines: tuple[PsaLineFacts, ...], day: date) -> tuple[PsaLineFacts, ...]:
    return tuple(line for line in lines if not line.timeline().quantity_on(day).is_zero())


def billed_in(lines: tuple[PsaLineFacts, ...], period: BillingPeriod) -> tuple[PsaLineFacts, ...]:
    """Lines with seats on any day of the period, or on the day after it."""
    start, following = period.start, period.following()
    return tuple(line for line in lines if line.timeline().has_seats_within(start, following))
