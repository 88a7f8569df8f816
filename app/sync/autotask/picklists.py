"""Reading the tenant's picklists (company type, contract type and status, period type).

Picklist values are tenant data, not part of the swagger (reference/autotask/PROVENANCE.md):
they come from `GET /V1.0/{Entity}/entityInformation/fields`. Values are matched by label;
when a field has no picklist at all, Autotask's system values are kept. A label that is
missing while the picklist exists is an error, because guessing would sync the wrong rows.
"""

from __future__ import annotations

from typing import Any, Protocol

from app.sync.autotask import wire
from app.sync.autotask.errors import AutotaskError

CUSTOMER = "customer"
RECURRING_SERVICE = "recurring service"
FIXED_PRICE = "fixed price"
ACTIVE = "active"


class _Client(Protocol):
    def call(self, method: str, path_or_url: str, **kwargs: Any) -> Any: ...


def _picklist(fields: Any, name: str) -> dict[int, str]:
    """value -> label of one field's active picklist entries ({} when it has none)."""
    for item in fields if isinstance(fields, list) else []:
        if str(wire.get(item, "name") or "").lower() != name.lower():
            continue
        values = wire.get(item, "picklistValues") or []
        found = {}
        for entry in values:
            if wire.get(entry, "isActive") is False:
                continue
            try:
                found[int(wire.get(entry, "value"))] = str(wire.get(entry, "label") or "")
            except (TypeError, ValueError):
                continue
        return found
    return {}


def _by_label(values: dict[int, str], label: str, default: frozenset[int], entity: str,
              field: str) -> frozenset[int]:
    if not values:
        return default
    found = frozenset(v for v, text in values.items() if text.strip().lower() == label)
    if not found:
        raise AutotaskError(f"GET /V1.0/{entity}/entityInformation/fields: the {field} "
                            f"picklist has no {label!r} value; TrueUp cannot tell which "
                            "records to read", method="GET",
                            path=f"/V1.0/{entity}/entityInformation/fields")
    return found


def read_picklists(client: _Client) -> wire.Picklists:
    defaults = wire.Picklists()
    companies = wire.get(client.call("GET", "/V1.0/Companies/entityInformation/fields")
                         or {}, "fields")
    contracts = wire.get(client.call("GET", "/V1.0/Contracts/entityInformation/fields")
                         or {}, "fields")
    company_types = _picklist(companies, "companyType")
    contract_types = _picklist(contracts, "contractType")
    statuses = _picklist(contracts, "status")
    periods = _picklist(contracts, "contractPeriodType")
    return wire.Picklists(
        customer_types=_by_label(company_types, CUSTOMER, defaults.customer_types,
                                 "Companies", "companyType"),
        recurring_types=_by_label(contract_types, RECURRING_SERVICE, defaults.recurring_types,
                                  "Contracts", "contractType"),
        fixed_price_types=_by_label(contract_types, FIXED_PRICE, defaults.fixed_price_types,
                                    "Contracts", "contractType"),
        active_statuses=_by_label(statuses, ACTIVE, defaults.active_statuses, "Contracts",
                                  "status"),
        contract_types=contract_types or defaults.contract_types,
        period_types=periods or defaults.period_types,
    )
