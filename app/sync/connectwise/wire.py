"""ConnectWise wire format: exact-decimal JSON, CW date strings, and JSON -> frozen records.

Shared by the connector and the sandbox so both sides agree on one encoding. Money never
passes through float: bodies are parsed with `parse_float=Decimal` and Decimals are written
back as JSON numbers with their exact digits.
"""

from __future__ import annotations

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


def dumps(value: Any) -> bytes:
    """JSON with Decimals as exact numbers and dates in CW's `YYYY-MM-DDT00:00:00Z` form."""
    return exact_dumps(value, format_date=format_cw_date, format_timestamp=format_timestamp,
                       api="ConnectWise")


def format_cw_date(value: date) -> str:
    """CW models calendar dates as date-times at midnight UTC."""
    return f"{value.isoformat()}T00:00:00Z"


def format_timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("timestamps must be timezone-aware")
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def to_date(value: str | None) -> date | None:
    """A CW date-time that stands for a calendar date: its date part, never shifted by zone."""
    if not value:
        return None
    return date.fromisoformat(value[:10])


def to_timestamp(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:  # CW writes UTC; a bare value is taken as UTC
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def _ref_id(ref: Any) -> str | None:
    if isinstance(ref, dict) and ref.get("id") is not None:
        return str(ref["id"])
    return None


def _ref_name(ref: Any) -> str | None:
    return ref.get("name") if isinstance(ref, dict) else None


def company_record(raw: dict[str, Any]) -> PsaCompanyRecord:
    return PsaCompanyRecord(
        external_id=str(raw["id"]),
        name=raw.get("name") or "",
        identifier=raw.get("identifier"),
        domain=raw.get("website"),
        status=_ref_name(raw.get("status")),
        raw=raw,
    )


ONE_TIME_CYCLES = {"one time", "onetime", "one-time", "notrecurring", "not recurring"}


def agreement_kind(raw: dict[str, Any]) -> str:
    """'one_time' when CW bills the agreement once (flag, type or cycle says so), else recurring.

    billOneTimeFlag and oneTimeFlag are the authoritative flags; the type and cycle names are
    checked too because many MSPs model "One-Time" purely as an agreement type.
    """
    if raw.get("billOneTimeFlag") or raw.get("oneTimeFlag"):
        return "one_time"
    cycle = (_ref_name(raw.get("billingCycle")) or "").strip().lower()
    type_name = (_ref_name(raw.get("type")) or "").lower().replace("-", " ")
    if cycle in ONE_TIME_CYCLES or "one time" in type_name or "onetime" in type_name:
        return "one_time"
    return "recurring"


def agreement_record(raw: dict[str, Any]) -> PsaAgreementRecord:
    status = raw.get("agreementStatus")
    active = not raw.get("cancelledFlag") and (status is None or status == "Active")
    return PsaAgreementRecord(
        external_id=str(raw["id"]),
        company_external_id=_ref_id(raw.get("company")) or "",
        name=raw.get("name") or "",
        kind=agreement_kind(raw),
        type_name=_ref_name(raw.get("type")),
        billing_cycle=_ref_name(raw.get("billingCycle")),
        prorate=bool(raw.get("prorateFlag")),
        bill_one_time=bool(raw.get("billOneTimeFlag")),
        start_date=to_date(raw.get("startDate")),
        end_date=to_date(raw.get("endDate")),
        active=active,
        raw=raw,
    )


def addition_record(
    raw: dict[str, Any], agreement_id: int | str | None = None, *, one_time: bool = False
) -> PsaBillingLineRecord:
    """An addition as a billing line.

    is_one_time is true on a one-time agreement (the caller knows, `one_time`) or when the
    line starts and is cancelled inside one calendar month (CW's other one-time idiom).
    """
    effective = to_date(raw.get("effectiveDate"))
    cancelled = to_date(raw.get("cancelledDate"))
    same_month = bool(effective and cancelled
                      and (effective.year, effective.month) == (cancelled.year, cancelled.month))
    info = raw.get("_info") or {}
    parent = raw.get("agreementId") if raw.get("agreementId") is not None else agreement_id
    return PsaBillingLineRecord(
        external_id=str(raw["id"]),
        agreement_external_id=str(parent) if parent is not None else "",
        product_external_id=_ref_id(raw.get("product")),
        description=raw.get("description"),
        quantity=to_decimal(raw.get("quantity")) or Decimal(0),
        unit_price=to_decimal(raw.get("unitPrice")),
        unit_cost=to_decimal(raw.get("unitCost")),
        effective_date=effective,
        cancelled_date=cancelled,
        bill_customer=raw.get("billCustomer"),
        invoice_description=raw.get("invoiceDescription"),
        is_one_time=one_time or same_month,
        last_updated=to_timestamp(info.get("lastUpdated")),
        raw=raw,
    )


def product_record(raw: dict[str, Any]) -> PsaProductRecord:
    return PsaProductRecord(
        external_id=str(raw["id"]),
        identifier=raw.get("identifier") or "",
        description=raw.get("description"),
        price=to_decimal(raw.get("price")),
        cost=to_decimal(raw.get("cost")),
        raw=raw,
    )
