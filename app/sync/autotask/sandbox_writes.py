"""How the Autotask sandbox applies writes: adjustments to units, contract services, charges.

A fake that accepted anything would let a connector bug (a float, a wrong field, a unit
change that drives seats negative) pass every test and fail on the MSP's tenant. Refusals
come back as HTTP 500 with an `errors` list, which is how Autotask refuses a request.
An adjustment splits the unit row it falls into at its effective date and changes the
units of every row from there on, as ContractServiceUnits documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import httpx

from app.sync.autotask import sandbox_data as data
from app.sync.autotask.sandbox_reads import at_response, errors
from app.sync.autotask.wire import format_date, loads, to_date
from app.sync.sandbox.base import SandboxRequest

if TYPE_CHECKING:
    from app.sync.autotask.sandbox import AutotaskSandbox

ADJUSTMENT_FIELDS = {"id", "adjustedUnitCost", "adjustedUnitPrice", "allowRepeatService",
                     "contractID", "contractServiceID", "effectiveDate", "quoteItemID",
                     "serviceID", "unitChange", "userDefinedFields"}
SERVICE_FIELDS = {"id", "contractID", "internalDescription", "invoiceDescription",
                  "quoteItemID", "serviceID", "unitCost", "unitPrice", "userDefinedFields"}
CHARGE_FIELDS = {"id", "billingCodeID", "chargeType", "contractID", "contractServiceID",
                 "datePurchased", "description", "internalPurchaseOrderNumber",
                 "isBillableToCompany", "name", "notes", "organizationalLevelAssociationID",
                 "productID", "purchaseOrderNumber", "status", "unitCost", "unitPrice",
                 "unitQuantity", "userDefinedFields"}
TEXT_LIMITS = {"name": 100, "description": 2000, "invoiceDescription": 1000,
               "internalDescription": 100, "notes": 2000, "purchaseOrderNumber": 50,
               "internalPurchaseOrderNumber": 50}


@dataclass(frozen=True)
class WriteRecord:
    """One committed write as the server received it (body parsed, Decimals exact)."""

    method: str
    path: str
    body: Any


class InvalidWrite(Exception):
    """The write is refused as a whole; nothing changes."""

    def response(self) -> httpx.Response:
        return errors(500, str(self))


def _body(req: SandboxRequest, allowed: set[str], entity: str) -> dict[str, Any]:
    """The body with canonical field names; unknown fields are refused like Autotask does."""
    try:
        raw = loads(req.request.content or b"null")
    except ValueError:
        raise InvalidWrite("The request body is not valid JSON.") from None
    if not isinstance(raw, dict):
        raise InvalidWrite(f"The request body must be a {entity} object.")
    canonical = {name.lower(): name for name in allowed}
    body = {}
    for key, value in raw.items():
        if key.lower() not in canonical:
            raise InvalidWrite(f"Unable to find {key} in the {entity} entity.")
        body[canonical[key.lower()]] = value
    return body


def _int(body: dict[str, Any], name: str, *, required: bool = False) -> int | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidWrite(f"{name} is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidWrite(f"{name} must be an integer; {value!r} is not.")
    return value


def _money(body: dict[str, Any], name: str, *, required: bool = False) -> Decimal | None:
    value = body.get(name)
    if value is None:
        if required:
            raise InvalidWrite(f"{name} is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise InvalidWrite(f"{name} must be a number; {value!r} is not.")
    return Decimal(value)


def _date(body: dict[str, Any], name: str) -> date:
    value = body.get(name)
    try:
        parsed = to_date(value) if isinstance(value, str) else None
        if parsed is not None and len(value) > 10:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None:
        raise InvalidWrite(f"{name} is required as a date-time such as 2024-03-01T00:00:00.")
    return parsed


def _text(body: dict[str, Any], name: str, *, required: bool = False) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise InvalidWrite(f"{name} is required.")
        return value
    if not isinstance(value, str) or len(value) > TEXT_LIMITS.get(name, 8000):
        raise InvalidWrite(f"{name} must be text of at most {TEXT_LIMITS.get(name, 8000)} "
                           "characters.")
    return value


def _flag(body: dict[str, Any], name: str) -> bool | None:
    value = body.get(name)
    if value is not None and not isinstance(value, bool):
        raise InvalidWrite(f"{name} must be true or false.")
    return value


def _contract(sb: AutotaskSandbox, req: SandboxRequest, body: dict[str, Any],
              *, recurring: bool) -> dict[str, Any]:
    parent = req.path_args.get("parentId")
    given = _int(body, "contractID", required=parent is None)
    if parent is not None:
        if not parent.isdigit() or (given is not None and given != int(parent)):
            raise InvalidWrite("contractID does not match the contract in the URL.")
        given = int(parent)
    contract = sb.contracts.get(given)
    if contract is None or not sb.visible("Contracts", contract):
        raise InvalidWrite(f"Contract {given} was not found or is not accessible.")
    if recurring and contract["contractType"] != data.RECURRING_SERVICE:
        raise InvalidWrite("Services and service adjustments can only be added to Recurring "
                           "Service contracts.")
    return contract


def adjust_units(sb: AutotaskSandbox, contract_service_id: int, change: int, effective: date,
                 *, price: Decimal | None = None, cost: Decimal | None = None) -> None:
    """Add `change` units from `effective` on, splitting the row that contains it."""
    rows = sb.unit_rows(contract_service_id)
    if not rows or effective > to_date(rows[-1]["endDate"]):
        raise InvalidWrite("The effective date is outside the contract's service periods.")
    if any(row["units"] + change < 0 for row in rows if to_date(row["endDate"]) >= effective):
        raise InvalidWrite("The adjustment would leave fewer than zero units.")
    line = sb.contract_services[contract_service_id]
    if price is not None:
        line["unitPrice"] = line["internalCurrencyUnitPrice"] = price
        line["internalCurrencyAdjustedPrice"] = price
    if cost is not None:
        line["unitCost"] = cost
    for row in rows:
        start, end = to_date(row["startDate"]), to_date(row["endDate"])
        if end < effective:
            continue
        if start < effective:  # split: the old units until the day before, new from here
            row["endDate"] = format_date(effective - timedelta(days=1))
            tail = data.unit_row(sb.take_id(), line, effective, end, row["units"])
            tail["price"], tail["cost"] = row["price"], row["cost"]
            sb.units[tail["id"]] = row = tail
        row["units"] += change
        if price is not None:
            row["price"] = row["internalCurrencyPrice"] = price
        if cost is not None:
            row["cost"] = cost


def post_adjustment(sb: AutotaskSandbox, req: SandboxRequest) -> httpx.Response:
    try:
        body = _body(req, ADJUSTMENT_FIELDS, "ContractServiceAdjustment")
        if body.get("id"):
            raise InvalidWrite("id cannot be set on a new ContractServiceAdjustment.")
        contract = _contract(sb, req, body, recurring=True)
        change = _int(body, "unitChange", required=True)
        effective = _date(body, "effectiveDate")
        price, cost = _money(body, "adjustedUnitPrice"), _money(body, "adjustedUnitCost")
        line_id, service_id = _int(body, "contractServiceID"), _int(body, "serviceID")
        _int(body, "quoteItemID")
        _flag(body, "allowRepeatService")
        line = _find_line(sb, contract, line_id, service_id, price, cost)
        adjust_units(sb, line["id"], change, effective, price=price, cost=cost)
    except InvalidWrite as exc:
        return exc.response()
    item_id = sb.take_id()
    sb.adjustments.append({**body, "id": item_id})
    sb.log_write("POST", req.path, body)
    return at_response(200, {"itemId": item_id})


def _find_line(sb: AutotaskSandbox, contract: dict[str, Any], line_id: int | None,
               service_id: int | None, price: Decimal | None,
               cost: Decimal | None) -> dict[str, Any]:
    """The adjusted contract service; without its id, the contract's line for the service,
    created when missing (Autotask documents that an adjustment adds the service)."""
    if line_id is not None:
        line = sb.contract_services.get(line_id)
        if line is None or line["contractID"] != contract["id"]:
            raise InvalidWrite(f"ContractService {line_id} is not on contract {contract['id']}.")
        if service_id is not None and service_id != line["serviceID"]:
            raise InvalidWrite("serviceID does not match the contract service.")
        return line
    if service_id is None:
        raise InvalidWrite("contractServiceID or serviceID is required.")
    for line in sb.contract_services.values():
        if line["contractID"] == contract["id"] and line["serviceID"] == service_id:
            return line
    if service_id not in sb.services:
        raise InvalidWrite(f"Service {service_id} was not found.")
    return sb.add_contract_service(contract["id"], service_id, units=0, price=price, cost=cost)


def post_contract_service(sb: AutotaskSandbox, req: SandboxRequest) -> httpx.Response:
    try:
        body = _body(req, SERVICE_FIELDS, "ContractService")
        if body.get("id"):
            raise InvalidWrite("id cannot be set on a new ContractService.")
        contract = _contract(sb, req, body, recurring=True)
        service_id = _int(body, "serviceID", required=True)
        price = _money(body, "unitPrice", required=True)
        cost = _money(body, "unitCost")
        texts = {n: _text(body, n) for n in ("invoiceDescription", "internalDescription")}
        if service_id not in sb.services:
            raise InvalidWrite(f"Service {service_id} was not found.")
        if any(c["contractID"] == contract["id"] and c["serviceID"] == service_id
               for c in sb.contract_services.values()):
            raise InvalidWrite(f"Service {service_id} is already on contract {contract['id']}.")
    except InvalidWrite as exc:
        return exc.response()
    line = sb.add_contract_service(contract["id"], service_id, units=0, price=price, cost=cost,
                                   invoice_description=texts["invoiceDescription"],
                                   internal_description=texts["internalDescription"])
    sb.log_write("POST", req.path, body)
    return at_response(200, {"itemId": line["id"]})


def patch_contract_service(sb: AutotaskSandbox, req: SandboxRequest) -> httpx.Response:
    try:
        body = _body(req, SERVICE_FIELDS, "ContractService")
        contract = _contract(sb, req, body, recurring=False)
        line = sb.contract_services.get(_int(body, "id", required=True) or 0)
        if line is None or line["contractID"] != contract["id"]:
            raise InvalidWrite(f"ContractService {body['id']} is not on contract "
                               f"{contract['id']}.")
        if "serviceID" in body and body["serviceID"] != line["serviceID"]:
            raise InvalidWrite("serviceID cannot be changed.")
        changes: dict[str, Any] = {}
        for name in ("unitPrice", "unitCost"):
            if name in body:
                changes[name] = _money(body, name, required=name == "unitPrice")
        for name in ("invoiceDescription", "internalDescription"):
            if name in body:
                changes[name] = _text(body, name)
    except InvalidWrite as exc:
        return exc.response()
    line.update(changes)
    if "unitPrice" in changes:
        line["internalCurrencyUnitPrice"] = line["internalCurrencyAdjustedPrice"] = line[
            "unitPrice"]
    sb.log_write("PATCH", req.path, body)
    return at_response(200, {"itemId": line["id"]})


def post_charge(sb: AutotaskSandbox, req: SandboxRequest) -> httpx.Response:
    try:
        body = _body(req, CHARGE_FIELDS, "ContractCharge")
        if body.get("id"):
            raise InvalidWrite("id cannot be set on a new ContractCharge.")
        contract = _contract(sb, req, body, recurring=False)
        name = _text(body, "name", required=True) or ""
        quantity = _money(body, "unitQuantity", required=True) or Decimal(0)
        price = _money(body, "unitPrice") or Decimal(0)
        cost = _money(body, "unitCost")
        purchased = _date(body, "datePurchased")
        description = _text(body, "description")
        for text in ("notes", "purchaseOrderNumber", "internalPurchaseOrderNumber"):
            _text(body, text)
        ints = {n: _int(body, n) for n in ("productID", "billingCodeID", "chargeType",
                                           "status", "contractServiceID",
                                           "organizationalLevelAssociationID")}
        billable = _flag(body, "isBillableToCompany")
    except InvalidWrite as exc:
        return exc.response()
    record = sb.add_charge(contract["id"], name, quantity=quantity, price=price, cost=cost,
                           purchased=purchased, description=description,
                           product_id=ints["productID"],
                           billable=True if billable is None else billable)
    for key in ("billingCodeID", "chargeType", "status", "contractServiceID"):
        if ints[key] is not None:
            record[key] = ints[key]
    for key in ("notes", "purchaseOrderNumber", "internalPurchaseOrderNumber"):
        if body.get(key) is not None:
            record[key] = body[key]
    sb.log_write("POST", req.path, body)
    return at_response(200, {"itemId": record["id"]})


__all__ = ["InvalidWrite", "WriteRecord", "adjust_units"]
