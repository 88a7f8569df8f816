"""Record shapes and deterministic seed data for the ConnectWise sandbox.

Builders emit the same keys as CW's Company / Agreement / Addition / CatalogItem models (the
contract tests validate them against the official subset), and the seed is a pure function
of (seed, today, companies) so tests and the demo see the same tenant every run.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from app.sync.connectwise.wire import format_cw_date, format_timestamp
from app.sync.sandbox.seed import company_name

if TYPE_CHECKING:
    from app.sync.connectwise.sandbox import ConnectWiseSandbox

ORIGIN = "https://sandbox.connectwise.invalid"
BASE_PATH = "/v4_6_release/apis/3.0"


@dataclass(frozen=True)
class SandboxCredentials:
    company_id: str = "trueup_demo"
    public_key: str = "PubKeyDemo0001"
    private_key: str = "PrivKeyDemoS3cret"
    client_id: str = "8d4f0b5e-6c3a-4e39-9a6f-0f7c2b1d9e11"

    def __repr__(self) -> str:  # the sandbox's private key is still a key: keep it out of logs
        return f"SandboxCredentials(company_id={self.company_id!r}, public_key={self.public_key!r})"


AGREEMENT_TYPES = {1: "Managed Services", 2: "One-Time", 3: "Cloud Subscriptions"}
BILLING_CYCLES = {1: "Monthly", 2: "Quarterly", 3: "Annual", 4: "One Time"}
BILL_CUSTOMER = ("Billable", "DoNotBill", "NoCharge")

# identifier, description, price, cost (monthly per seat, as an MSP would sell them)
CATALOG = [
    ("M365-BB", "Microsoft 365 Business Basic", "7.20", "6.00"),
    ("M365-BS", "Microsoft 365 Business Standard", "15.00", "12.50"),
    ("M365-BP", "Microsoft 365 Business Premium", "26.40", "22.00"),
    ("O365-E3", "Office 365 E3", "27.60", "23.00"),
    ("EXO-P1", "Exchange Online (Plan 1)", "4.80", "4.00"),
    ("TEAMS-ESS", "Microsoft Teams Essentials", "4.80", "4.00"),
    ("AZURE-USAGE", "Azure consumption (billed in arrears)", "1.00", "0.85"),
    ("BACKUP-365", "Cloud backup for Microsoft 365", "3.5000", "2.1250"),
]


def info(when: datetime, by: str = "trueup_demo") -> dict[str, str]:
    return {"lastUpdated": format_timestamp(when), "updatedBy": by}


def ref(id_: int, **extra: Any) -> dict[str, Any]:
    return {"id": id_, **extra}


def company(id_: int, name: str, identifier: str, when: datetime, *, status: str = "Active",
            website: str | None = None) -> dict[str, Any]:
    return {
        "id": id_, "identifier": identifier, "name": name,
        "status": ref(1 if status == "Active" else 2, name=status),
        "addressLine1": f"{100 + id_ % 800} Main Street", "city": "Tampa", "state": "FL",
        "zip": "33602", "phoneNumber": "8135550100", "website": website,
        "types": [ref(1, name="Client")], "deletedFlag": False, "_info": info(when),
        "customFields": [],
    }


def agreement(id_: int, comp: dict[str, Any], name: str, when: datetime, *, one_time: bool,
              billing_cycle: str, start: date, end: date | None, prorate: bool,
              cancelled: bool, status: str) -> dict[str, Any]:
    type_id = 2 if one_time else 1
    cycle = "One Time" if one_time else billing_cycle
    cycle_id = next((k for k, v in BILLING_CYCLES.items() if v == cycle), 1)
    return {
        "id": id_, "name": name,
        "type": ref(type_id, name=AGREEMENT_TYPES[type_id]),
        "company": ref(comp["id"], identifier=comp["identifier"], name=comp["name"]),
        "contact": ref(comp["id"] * 10 + 1, name="Office Manager"),
        "startDate": format_cw_date(start),
        "endDate": format_cw_date(end) if end else None,
        "noEndingDateFlag": end is None,
        "cancelledFlag": cancelled,
        "dateCancelled": format_timestamp(when) if cancelled else None,
        "reasonCancelled": "Customer left" if cancelled else None,
        "employeeCompRate": "Actual", "employeeCompNotExceed": "Billing",
        "billingCycle": ref(cycle_id, name=cycle),
        "billOneTimeFlag": one_time,
        "invoicingCycle": "CalendarYear",
        "billAmount": Decimal("0.00"),
        "taxable": False,
        "prorateFlag": prorate,
        "invoiceProratedAdditionsFlag": prorate,
        "billTime": "Billable", "billExpenses": "Billable", "billProducts": "Billable",
        "currency": {"id": 1, "currencyCode": "USD", "symbol": "$", "name": "US Dollars"},
        "periodType": "Current",
        "agreementStatus": "Cancelled" if cancelled else status,
        "_info": info(when),
        "customFields": [],
    }


def catalog_item(id_: int, identifier: str, description: str, price: Decimal, cost: Decimal,
                 when: datetime, *, recurring: bool = True) -> dict[str, Any]:
    return {
        "id": id_, "identifier": identifier, "description": description, "inactiveFlag": False,
        "subcategory": ref(11, name="Cloud Licensing"), "type": ref(3, name="Subscription"),
        "productClass": "Agreement" if recurring else "NonInventory",
        "serializedFlag": False, "serializedCostFlag": False, "phaseProductFlag": False,
        "unitOfMeasure": ref(1, name="Each"), "price": price, "cost": cost,
        "taxableFlag": False, "dropShipFlag": False, "specialOrderFlag": False,
        "customerDescription": description, "manufacturer": ref(5, name="Microsoft"),
        "vendorSku": identifier, "recurringFlag": recurring,
        "recurringRevenue": price if recurring else None,
        "recurringCost": cost if recurring else None, "recurringOneTimeFlag": not recurring,
        "recurringBillCycle": ref(1, name="Monthly"), "category": ref(2, name="Software"),
        "_info": info(when), "customFields": [],
    }


def addition(id_: int, agreement_: dict[str, Any], item: dict[str, Any], when: datetime, *,
             quantity: Decimal, unit_price: Decimal, unit_cost: Decimal, effective: date,
             cancelled: date | None, description: str, invoice_description: str | None,
             bill_customer: str) -> dict[str, Any]:
    line = {
        "id": id_, "product": ref(item["id"], identifier=item["identifier"]),
        "quantity": quantity, "lessIncluded": Decimal(0), "unitPrice": unit_price,
        "unitCost": unit_cost, "billCustomer": bill_customer,
        "effectiveDate": format_cw_date(effective),
        "cancelledDate": format_cw_date(cancelled) if cancelled else None,
        "taxableFlag": False, "invoiceDescription": invoice_description,
        "purchaseItemFlag": False, "specialOrderFlag": False, "agreementId": agreement_["id"],
        "description": description, "billedQuantity": quantity, "uom": "Each",
        "sequenceNumber": Decimal(id_ % 1000), "prorateCurrentPeriodFlag": True,
        "agreementStatus": agreement_["agreementStatus"], "_info": info(when),
        "customFields": [],
    }
    recompute(line)
    return line


def recompute(line: dict[str, Any]) -> None:
    """CW derives extended price/cost and margin from quantity and unit values."""
    qty = line.get("quantity") or Decimal(0)
    price, cost = line.get("unitPrice"), line.get("unitCost")
    line["extPrice"] = qty * price if price is not None else None
    line["extCost"] = qty * cost if cost is not None else None
    if line["extPrice"] is not None and line["extCost"] is not None:
        line["margin"] = line["extPrice"] - line["extCost"]
    line["billedQuantity"] = qty


@functools.cache
def field_names(kind: str) -> frozenset[str]:
    """Root fields a `conditions` string may name, per collection (CW rejects unknown ones)."""
    when = datetime(2000, 1, 1, tzinfo=UTC)
    comp = company(1, "x", "x", when)
    agr = agreement(1, comp, "x", when, one_time=False, billing_cycle="Monthly",
                    start=when.date(), end=None, prorate=True, cancelled=False, status="Active")
    item = catalog_item(1, "x", "x", Decimal(1), Decimal(1), when)
    line = addition(1, agr, item, when, quantity=Decimal(1), unit_price=Decimal(1),
                    unit_cost=Decimal(1), effective=when.date(), cancelled=when.date(),
                    description="x", invoice_description="x", bill_customer="Billable")
    sample = {"companies": comp, "agreements": agr, "catalog": item, "additions": line}[kind]
    return frozenset(sample) | {"lastUpdated"}


def seed(sandbox: ConnectWiseSandbox, *, companies: int, seed: int, today: date) -> None:
    """A small MSP: a catalogue, and per customer a monthly agreement plus a one-time one."""
    rng = random.Random(seed)
    base = datetime.combine(today, time(9, 0), UTC)
    items = [sandbox.add_catalog_item(ident, desc, price=Decimal(p), cost=Decimal(c),
                                      recurring=ident != "AZURE-USAGE",
                                      last_updated=base - timedelta(days=200))
             for ident, desc, p, c in CATALOG]
    month_start = today.replace(day=1)
    for n in range(companies):
        name = company_name(n)
        comp = sandbox.add_company(name, last_updated=base - timedelta(days=rng.randint(30, 400)))
        start = month_start - timedelta(days=rng.choice([90, 200, 400, 800]))
        cancelled = n % 7 == 6  # every seventh customer has left: its agreement is cancelled
        recurring = sandbox.add_agreement(
            comp["id"], f"{name} - Managed Cloud", start_date=start.replace(day=1),
            cancelled=cancelled, last_updated=base - timedelta(days=rng.randint(0, 60)))
        sandbox.add_agreement(comp["id"], f"{name} - One-Time Charges", kind="one_time",
                              start_date=start.replace(day=1),
                              last_updated=base - timedelta(days=rng.randint(60, 300)))
        for item in rng.sample(items[:6], k=rng.randint(2, 4)):
            effective = recurring_start = start.replace(day=1)
            if rng.random() < 0.3:  # a seat lot added mid-month, as NCE adds often are
                effective = month_start - timedelta(days=rng.randint(10, 80))
            sandbox.add_addition(
                recurring["id"], item["id"], quantity=Decimal(rng.randint(1, 40)),
                effective_date=max(effective, recurring_start),
                last_updated=base - timedelta(days=rng.randint(0, 90)))
