"""Record shapes, picklists and deterministic seed data for the Autotask sandbox.

Builders emit camelCase records whose properties are those of the swagger models
(CompanyModel, ContractModel, ...; the contract tests check it case-insensitively), with
nulls where a tenant has nothing, as the real samples show. The seed is a pure function of
(seed, today, companies) so tests and the demo see the same tenant every run.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.sync.autotask.wire import format_date, format_timestamp
from app.sync.sandbox.seed import company_name

if TYPE_CHECKING:
    from app.sync.autotask.sandbox import AutotaskSandbox

ORIGIN = "https://webservices14.autotask.invalid"
BASE_PATH = "/ATServicesRest"


@dataclass(frozen=True)
class SandboxCredentials:
    username: str = "trueup.api@example-msp.invalid"
    secret: str = "AtDemo$ecret-7Qx2"
    integration_code: str = "TRUEUPDEMOTRACKINGID0001"

    def __repr__(self) -> str:  # the sandbox's secret is still a secret: keep it out of logs
        return f"SandboxCredentials(username={self.username!r})"


# Picklists as a tenant returns them (value, label); see entityinformation-fields sample.
COMPANY_TYPES = {1: "Customer", 2: "Lead", 3: "Prospect", 4: "Dead", 6: "Cancellation",
                 7: "Vendor", 8: "Partner"}
CONTRACT_TYPES = {1: "Time and Materials", 3: "Fixed Price", 4: "Block Hours", 6: "Retainer",
                  7: "Recurring Service", 8: "Per Ticket"}
CONTRACT_STATUSES = {0: "Inactive", 1: "Active"}
PERIOD_TYPES = {1: "Monthly", 2: "Quarterly", 3: "Semi-Annual", 4: "Yearly"}
PERIOD_MONTHS = {1: 1, 2: 3, 3: 6, 4: 12}
CUSTOMER, PROSPECT, VENDOR = 1, 3, 7
FIXED_PRICE, RECURRING_SERVICE = 3, 7
INACTIVE, ACTIVE = 0, 1

# name, description, unit price, unit cost (monthly per seat, as an MSP sells them)
SERVICES = [
    ("M365 Business Basic", "Microsoft 365 Business Basic (NCE, monthly)", "7.20", "6.00"),
    ("M365 Business Standard", "Microsoft 365 Business Standard", "15.00", "12.50"),
    ("M365 Business Premium", "Microsoft 365 Business Premium", "26.40", "22.00"),
    ("Office 365 E3", "Office 365 E3", "27.60", "23.00"),
    ("Exchange Online Plan 1", "Exchange Online (Plan 1)", "4.80", "4.00"),
    ("Teams Essentials", "Microsoft Teams Essentials", "4.80", "4.00"),
    ("Backup for M365", "Cloud backup for Microsoft 365", "3.5000", "2.1250"),
    ("Managed Endpoint", "Managed endpoint (RMM + AV)", "12.00", "4.75"),
]


def stamp(when: datetime) -> str:
    """Autotask's timestamp style in responses: UTC without a zone (see the samples)."""
    return format_timestamp(when)[:-1]


def add_months(day: date, months: int) -> date:
    month = day.month - 1 + months
    return date(day.year + month // 12, month % 12 + 1, 1)


def periods(start: date, end: date, months: int) -> list[tuple[date, date]]:
    """Billing periods from the first of `start`'s month through `end`, `months` long."""
    spans, first = [], start.replace(day=1)
    while first <= end:
        nxt = add_months(first, months)
        spans.append((max(first, start), min(nxt - timedelta(days=1), end)))
        first = nxt
    return spans


def company(id_: int, name: str, when: datetime, *, company_type: int = CUSTOMER,
            active: bool = True, number: str = "", web: str | None = None) -> dict[str, Any]:
    return {
        "id": id_, "address1": f"{100 + id_ % 800} Main Street", "address2": None,
        "city": "Tampa", "state": "FL", "postalCode": "33602", "countryID": 237,
        "companyName": name, "companyNumber": number, "companyType": company_type,
        "createDate": stamp(when - timedelta(days=400)), "createdByResourceID": 29682885,
        "currencyID": 1, "isActive": active, "lastActivityDate": stamp(when),
        "lastTrackedModifiedDateTime": stamp(when), "ownerResourceID": 29682885,
        "parentCompanyID": None, "phone": "813-555-0100", "taxRegionID": None,
        "webAddress": web, "userDefinedFields": [],
    }


def contract(id_: int, company_id: int, name: str, *, contract_type: int, status: int,
             start: date, end: date, period_type: int = 1) -> dict[str, Any]:
    return {
        "id": id_, "billingPreference": 1, "billToCompanyID": None, "companyID": company_id,
        "contactID": None, "contractCategory": 1, "contractName": name,
        "contractNumber": f"C-{id_}", "contractPeriodType": period_type,
        "contractType": contract_type, "description": None, "endDate": format_date(end),
        "estimatedCost": Decimal("0.00"), "estimatedHours": Decimal("0.00"),
        "estimatedRevenue": Decimal("0.00"), "isDefaultContract": False,
        "purchaseOrderNumber": None, "serviceLevelAgreementID": None, "setupFee": None,
        "startDate": format_date(start), "status": status,
        "timeReportingRequiresStartAndStopTimes": 0, "userDefinedFields": [],
    }


def service(id_: int, name: str, description: str, price: Decimal, cost: Decimal,
            when: datetime) -> dict[str, Any]:
    return {
        "id": id_, "billingCodeID": 29682801, "createDate": stamp(when),
        "creatorResourceID": 29682885, "description": description,
        "invoiceDescription": name, "isActive": True, "lastModifiedDate": stamp(when),
        "markupRate": None, "name": name, "periodType": 1, "serviceLevelAgreementID": None,
        "unitCost": cost, "unitPrice": price, "updateResourceID": None,
        "vendorCompanyID": None, "userDefinedFields": [],
    }


def contract_service(id_: int, contract_id: int, service_id: int, *, price: Decimal,
                     cost: Decimal | None, invoice_description: str | None = None,
                     internal_description: str | None = None) -> dict[str, Any]:
    return {
        "id": id_, "contractID": contract_id, "internalCurrencyAdjustedPrice": price,
        "internalCurrencyUnitPrice": price, "internalDescription": internal_description,
        "invoiceDescription": invoice_description, "quoteItemID": None,
        "serviceID": service_id, "unitCost": cost, "unitPrice": price, "userDefinedFields": [],
    }


def unit_row(id_: int, line: dict[str, Any], start: date, end: date, units: int
             ) -> dict[str, Any]:
    return {
        "id": id_, "approveAndPostDate": None, "contractID": line["contractID"],
        "contractServiceID": line["id"], "cost": line["unitCost"], "endDate": format_date(end),
        "internalCurrencyPrice": line["unitPrice"], "organizationalLevelAssociationID": None,
        "price": line["unitPrice"], "serviceID": line["serviceID"],
        "startDate": format_date(start), "units": units, "vendorCompanyID": None,
    }


def charge(id_: int, contract_id: int, name: str, when: datetime, *, quantity: Decimal,
           price: Decimal, cost: Decimal | None, purchased: date, description: str | None,
           product_id: int | None = None, billable: bool = True) -> dict[str, Any]:
    return {
        "id": id_, "billableAmount": quantity * price, "billingCodeID": None, "chargeType": 1,
        "contractID": contract_id, "contractServiceBundleID": None, "contractServiceID": None,
        "createDate": stamp(when), "creatorResourceID": 29682885,
        "datePurchased": format_date(purchased), "description": description,
        "extendedCost": quantity * cost if cost is not None else None,
        "internalCurrencyBillableAmount": quantity * price, "internalCurrencyUnitPrice": price,
        "internalPurchaseOrderNumber": None, "isBillableToCompany": billable, "isBilled": False,
        "name": name, "notes": None, "organizationalLevelAssociationID": None,
        "productID": product_id, "purchaseOrderNumber": None, "status": 1,
        "statusLastModifiedBy": 29682885, "statusLastModifiedDate": stamp(when),
        "unitCost": cost, "unitPrice": price, "unitQuantity": quantity, "userDefinedFields": [],
    }


def _picklist_field(name: str, values: dict[int, str]) -> dict[str, Any]:
    return {
        "name": name, "dataType": "integer", "length": 0, "isRequired": True,
        "isReadOnly": False, "isQueryable": True, "isReference": False,
        "referenceEntityType": "", "isPickList": True,
        "picklistValues": [{"value": str(v), "label": label, "isDefaultValue": False,
                            "sortOrder": 0, "parentValue": "", "isActive": True,
                            "isSystem": True} for v, label in values.items()],
        "picklistParentValueField": "", "isSupportedWebhookField": False,
    }


ENTITY_FIELDS = {
    "Companies": [_picklist_field("CompanyType", COMPANY_TYPES)],
    "Contracts": [_picklist_field("ContractType", CONTRACT_TYPES),
                  _picklist_field("Status", CONTRACT_STATUSES),
                  _picklist_field("ContractPeriodType", PERIOD_TYPES)],
}


def seed(sandbox: AutotaskSandbox, *, companies: int, seed: int, today: date) -> None:
    """A small MSP: a service catalogue; per customer a recurring-service contract with
    a few services and a fixed-price contract for A/A charges; a prospect and a vendor."""
    rng = random.Random(seed)
    base = datetime.combine(today, time(9, 0), UTC)
    catalogue = [sandbox.add_service(name, desc, price=Decimal(p), cost=Decimal(c))
                 for name, desc, p, c in SERVICES]
    month = today.replace(day=1)
    for n in range(companies):
        name = company_name(n)
        comp = sandbox.add_company(name, number=f"CUST{n + 1:04d}",
                                   when=base - timedelta(days=rng.randint(0, 90)))
        start = add_months(month, -rng.choice([3, 7, 14, 26]))
        inactive = n % 7 == 6  # every seventh customer has left: its contract is inactive
        recurring = sandbox.add_contract(
            comp["id"], f"{name} - Managed Cloud", start=start,
            end=add_months(start, 36) - timedelta(days=1),
            status=INACTIVE if inactive else ACTIVE)
        fixed = sandbox.add_contract(
            comp["id"], f"{name} - Annual & One-Time", contract_type=FIXED_PRICE, start=start,
            end=add_months(start, 36) - timedelta(days=1))
        for item in rng.sample(catalogue[:6], k=rng.randint(2, 4)):
            line = sandbox.add_contract_service(recurring["id"], item["id"],
                                                units=rng.randint(1, 40))
            if rng.random() < 0.4:  # seats added mid-period some months ago
                effective = add_months(month, -rng.randint(1, 2)) + timedelta(days=14)
                if effective > start:
                    sandbox.set_units_externally(line["id"], line_units(sandbox, line["id"],
                                                                        effective) + 3,
                                                 effective=effective, by="seed")
        if n % 2 == 0:
            sandbox.add_charge(fixed["id"], "M365 Business Premium (annual, 12 x 10 seats)",
                               quantity=Decimal(10), price=Decimal("316.80"),
                               cost=Decimal("264.00"), purchased=add_months(month, -2),
                               description="Annual NCE subscription billed upfront")
    sandbox.add_company("Northwind Prospect", company_type=PROSPECT, number="PROS0001",
                        when=base)
    sandbox.add_company("Contoso Distribution (vendor)", company_type=VENDOR,
                        number="VEND0001", when=base)


def line_units(sandbox: AutotaskSandbox, contract_service_id: int, day: date) -> int:
    row = sandbox.unit_row_on(contract_service_id, day)
    return int(row["units"]) if row else 0
