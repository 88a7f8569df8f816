"""Autotask wire format: exact-decimal JSON, Autotask date-times, and JSON -> frozen records.

Shared by the connector and the sandbox so both sides agree on one encoding. Live Autotask
JSON is camelCase (`companyName`, `contractID`; see reference/autotask/samples) although the
swagger spells the same properties in PascalCase. Money never passes through float: bodies
are parsed with `parse_float=Decimal` and Decimals are written back with their exact digits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from app.sync.json_wire import exact_dumps, loads, to_decimal  # noqa: F401 (re-exported)
from app.sync.records import (
    PsaAgreementRecord,
    PsaBillingLineRecord,
    PsaCompanyRecord,
    PsaProductRecord,
)

# A one-time charge's line id is prefixed: charges and contract services are separate
# id spaces, and both become billing lines of one connection.
CHARGE_PREFIX = "charge:"


def dumps(value: Any) -> bytes:
    """JSON with Decimals as exact numbers and dates as Autotask date-times at midnight."""
    return exact_dumps(value, format_date=format_date, format_timestamp=format_timestamp,
                       api="Autotask")


def format_date(value: date) -> str:
    """A calendar date as Autotask writes date fields: midnight, no zone (see the samples)."""
    return f"{value.isoformat()}T00:00:00"


def format_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def to_date(value: str | None) -> date | None:
    """The calendar date of an Autotask date-time: its date part, never shifted by a zone."""
    if not value:
        return None
    return date.fromisoformat(str(value)[:10])


def to_timestamp(value: str | None) -> datetime | None:
    """Autotask writes UTC date-times, often without a zone (`2016-03-30T13:10:35.563`)."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def get(raw: dict[str, Any], name: str) -> Any:
    """A property by name, case-insensitively (Autotask field names are case-insensitive)."""
    if name in raw:
        return raw[name]
    lowered = name.lower()
    for key, value in raw.items():
        if key.lower() == lowered:
            return value
    return None


def _text_id(value: Any) -> str | None:
    return None if value is None else str(value)


# ------------------------------------------------------------------ picklists

@dataclass(frozen=True)
class Picklists:
    """The tenant's picklist values TrueUp needs, label <-> value (tenant data, not the spec).

    Defaults are Autotask's system values; the connector replaces them with what the
    tenant's `entityInformation/fields` says, so a renumbered tenant still reads correctly.
    """

    customer_types: frozenset[int] = frozenset({1})  # companyType "Customer"
    recurring_types: frozenset[int] = frozenset({7})  # contractType "Recurring Service"
    fixed_price_types: frozenset[int] = frozenset({3})  # contractType "Fixed Price"
    active_statuses: frozenset[int] = frozenset({1})  # contract status "Active"
    contract_types: dict[int, str] = field(default_factory=lambda: {
        1: "Time and Materials", 3: "Fixed Price", 4: "Block Hours", 6: "Retainer",
        7: "Recurring Service", 8: "Per Ticket"})
    period_types: dict[int, str] = field(default_factory=lambda: {
        1: "Monthly", 2: "Quarterly", 3: "Semi-Annual", 4: "Yearly"})


# ------------------------------------------------------------------ records

@dataclass(frozen=True)
class ContractServiceUnitRecord:
    """Units of one contract service for one date range: how Autotask shows seat counts.

    A billing period has one row unless an adjustment split it; the row starting on an
    adjustment's effective date carries the new units.
    """

    external_id: str
    contract_id: str
    contract_service_id: str
    service_id: str | None
    start_date: date | None
    end_date: date | None
    units: Decimal
    price: Decimal | None
    cost: Decimal | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def covers(self, day: date) -> bool:
        return (self.start_date is None or self.start_date <= day) and (
            self.end_date is None or day <= self.end_date)


def company_record(raw: dict[str, Any]) -> PsaCompanyRecord:
    active = get(raw, "isActive")
    return PsaCompanyRecord(
        external_id=str(get(raw, "id")),
        name=get(raw, "companyName") or "",
        identifier=get(raw, "companyNumber") or None,
        domain=get(raw, "webAddress") or None,
        status=None if active is None else ("Active" if active else "Inactive"),
        raw=raw,
    )


def contract_kind(raw: dict[str, Any], picklists: Picklists) -> str:
    """'fixed_price' for Fixed Price contracts (where one-time charges go), else 'recurring'."""
    return "fixed_price" if get(raw, "contractType") in picklists.fixed_price_types else "recurring"


def contract_record(raw: dict[str, Any], picklists: Picklists) -> PsaAgreementRecord:
    contract_type = get(raw, "contractType")
    period = get(raw, "contractPeriodType")
    return PsaAgreementRecord(
        external_id=str(get(raw, "id")),
        company_external_id=_text_id(get(raw, "companyID")) or "",
        name=get(raw, "contractName") or "",
        kind=contract_kind(raw, picklists),
        type_name=picklists.contract_types.get(contract_type),
        billing_cycle=picklists.period_types.get(period),
        # Autotask prorates a mid-period adjustment itself (the unit row is split).
        prorate=contract_type in picklists.recurring_types,
        bill_one_time=False,
        start_date=to_date(get(raw, "startDate")),
        end_date=to_date(get(raw, "endDate")),
        active=get(raw, "status") in picklists.active_statuses,
        raw=raw,
    )


def unit_record(raw: dict[str, Any]) -> ContractServiceUnitRecord:
    return ContractServiceUnitRecord(
        external_id=str(get(raw, "id")),
        contract_id=str(get(raw, "contractID")),
        contract_service_id=str(get(raw, "contractServiceID")),
        service_id=_text_id(get(raw, "serviceID")),
        start_date=to_date(get(raw, "startDate")),
        end_date=to_date(get(raw, "endDate")),
        units=to_decimal(get(raw, "units")) or Decimal(0),
        price=to_decimal(get(raw, "price")),
        cost=to_decimal(get(raw, "cost")),
        raw=raw,
    )


def contract_service_record(raw: dict[str, Any], unit: ContractServiceUnitRecord | None,
                            service_name: str | None = None) -> PsaBillingLineRecord:
    """A contract service as a billing line; its quantity comes from the unit row of the day.

    ContractServices carry no quantity at all: the units live in ContractServiceUnits.
    Without a unit row for the day the service bills nothing then, so the quantity is 0.
    """
    description = (get(raw, "invoiceDescription") or get(raw, "internalDescription")
                   or service_name)
    return PsaBillingLineRecord(
        external_id=str(get(raw, "id")),
        agreement_external_id=str(get(raw, "contractID")),
        product_external_id=_text_id(get(raw, "serviceID")),
        description=description,
        quantity=unit.units if unit is not None else Decimal(0),
        unit_price=to_decimal(get(raw, "unitPrice")),
        unit_cost=to_decimal(get(raw, "unitCost")),
        effective_date=unit.start_date if unit is not None else None,
        cancelled_date=None,
        bill_customer="Billable",
        invoice_description=get(raw, "invoiceDescription"),
        is_one_time=False,
        raw=raw,
    )


def charge_record(raw: dict[str, Any]) -> PsaBillingLineRecord:
    """A ContractCharge (one-time charge or credit) as a one-time billing line."""
    billable = get(raw, "isBillableToCompany")
    return PsaBillingLineRecord(
        external_id=f"{CHARGE_PREFIX}{get(raw, 'id')}",
        agreement_external_id=str(get(raw, "contractID")),
        product_external_id=_text_id(get(raw, "productID")),
        description=get(raw, "description") or get(raw, "name"),
        quantity=to_decimal(get(raw, "unitQuantity")) or Decimal(0),
        unit_price=to_decimal(get(raw, "unitPrice")),
        unit_cost=to_decimal(get(raw, "unitCost")),
        effective_date=to_date(get(raw, "datePurchased")),
        cancelled_date=None,
        bill_customer=None if billable is None else ("Billable" if billable else "DoNotBill"),
        invoice_description=get(raw, "name"),
        is_one_time=True,
        last_updated=to_timestamp(get(raw, "statusLastModifiedDate")),
        raw=raw,
    )


def service_record(raw: dict[str, Any]) -> PsaProductRecord:
    """A Service (Autotask's catalogue of recurring items) as a PSA product."""
    return PsaProductRecord(
        external_id=str(get(raw, "id")),
        identifier=get(raw, "name") or "",
        description=get(raw, "description") or get(raw, "invoiceDescription"),
        price=to_decimal(get(raw, "unitPrice")),
        cost=to_decimal(get(raw, "unitCost")),
        raw=raw,
    )
