"""Which Addition fields the sandbox lets a POST or PATCH set, and how it validates them.

A fake that accepted anything would let a connector bug (a float, a wrong path, a misspelt
field) pass every test and fail on the customer's tenant; these rules follow the official
Addition model (types, enums, max lengths, read-only derived fields).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx

from app.sync.connectwise import sandbox_data as data
from app.sync.connectwise.sandbox_listing import error
from app.sync.connectwise.wire import format_cw_date, to_timestamp

NUMBER_FIELDS = {"quantity", "lessIncluded", "unitPrice", "unitCost", "sequenceNumber"}
DATE_FIELDS = {"effectiveDate", "cancelledDate"}
TEXT_FIELDS = {"description": None, "invoiceDescription": 6000, "serialNumber": 50, "uom": None}
FLAG_FIELDS = {"taxableFlag", "purchaseItemFlag", "specialOrderFlag", "prorateCurrentPeriodFlag"}
REF_FIELDS = {"product", "opportunity", "invoiceGrouping"}
WRITABLE_FIELDS = (NUMBER_FIELDS | DATE_FIELDS | FLAG_FIELDS | set(TEXT_FIELDS) | REF_FIELDS
                   | {"billCustomer"})

CatalogLookup = Callable[[dict[str, Any]], dict[str, Any]]


class InvalidField(Exception):
    """One field of a write is not acceptable; the whole write is refused (400)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field, self.message = field, message

    def response(self) -> httpx.Response:
        return error(400, "InvalidObject", "addition object is invalid", [
            {"code": "InvalidField", "message": self.message, "resource": "addition",
             "field": self.field}])


def missing_required(body: dict[str, Any]) -> httpx.Response | None:
    missing = [f for f in ("product", "billCustomer") if body.get(f) is None]
    if not missing:
        return None
    return error(400, "InvalidObject", "addition object is invalid", [
        {"code": "NullValue", "message": f"The {f} field is required.",
         "resource": "addition", "field": f} for f in missing])


def apply_field(line: dict[str, Any], parts: list[str], value: Any, lookup: CatalogLookup, *,
                patch: bool = False) -> None:
    """Validate and set one field (or ref/sub-field) the way CW's Addition model accepts it."""
    name = parts[0]
    if name in REF_FIELDS:
        ref_value = value if len(parts) == 1 else {parts[1]: value}
        if not isinstance(ref_value, dict):
            raise InvalidField(name, f"{name} must be a reference object")
        current = dict(line.get(name) or {}) if len(parts) > 1 else {}
        current.update(ref_value)
        if name == "product":
            item = lookup(current)
            current = {"id": item["id"], "identifier": item["identifier"]}
        line[name] = current
    elif len(parts) != 1:
        raise InvalidField(name, f"Cannot patch path {'/'.join(parts)}")
    elif name in NUMBER_FIELDS:
        if value is None and name == "quantity" or isinstance(value, bool | str | float):
            raise InvalidField(name, f"{name} must be a number")
        line[name] = None if value is None else Decimal(value)
    elif name in DATE_FIELDS:
        line[name] = _date_value(name, value)
    elif name in TEXT_FIELDS:
        limit = TEXT_FIELDS[name]
        if value is not None and (not isinstance(value, str) or limit and len(value) > limit):
            raise InvalidField(name, f"{name} must be text of at most {limit} characters")
        line[name] = value
    elif name in FLAG_FIELDS:
        if not isinstance(value, bool):
            raise InvalidField(name, f"{name} must be true or false")
        line[name] = value
    elif name == "billCustomer":
        if value not in data.BILL_CUSTOMER:
            raise InvalidField(name, f"billCustomer must be one of {', '.join(data.BILL_CUSTOMER)}")
        line[name] = value
    else:
        raise InvalidField(name, f"{name} cannot be changed" if patch else f"Unknown field {name}")
    if name in ("quantity", "unitPrice", "unitCost"):
        data.recompute(line)


def _date_value(name: str, value: Any) -> str | None:
    if value is None:
        if name == "effectiveDate":
            raise InvalidField(name, "effectiveDate is required")
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return format_cw_date(value)  # a Python date, from edit_addition_externally
    try:
        stamp = to_timestamp(value) if isinstance(value, str) else None
    except ValueError:
        stamp = None
    if stamp is None:
        raise InvalidField(name, f"{name} must be a date-time such as 2024-05-01T00:00:00Z")
    return format_cw_date(date.fromisoformat(value[:10]))
