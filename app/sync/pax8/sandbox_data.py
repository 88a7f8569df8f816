"""The Pax8 sandbox's data: a store of companies, products, subscriptions (with history),
invoices and usage, seeded deterministically, with the mutations tests and the demo need.

Records are kept as Pax8 JSON dicts (schema field names) with Decimal money, so the server
serves them as they are. Prices are per unit per billing term: an Annual-billed subscription
carries a yearly price, a Monthly-billed one a monthly price (the spec does not say; this is
how a partner reads an annual invoice line). Catalogue prices are Microsoft's US list prices
for NCE (monthly-term = annual-term + 20%); partner cost is list less 10%. Product ids, SKU
codes and company names are invented; no Microsoft product id (vendorSku) is made up.
"""

from __future__ import annotations

import calendar
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

CENT = Decimal("0.01")
PARTNER_SHARE = Decimal("0.90")
USAGE_COST_SHARE = Decimal("0.85")
PARTNER_NAME = "Sandbox MSP LLC"


@dataclass(frozen=True)
class CatalogItem:
    name: str
    code: str  # Pax8-style SKU code (invented)
    monthly: Decimal | None  # per user per month on a monthly term; None: annual only
    annual: Decimal | None  # per user per month on an annual term; None for usage products
    weight: int
    usage: bool = False


def _d(text: str) -> Decimal:
    return Decimal(text)


CATALOG = [
    CatalogItem("Microsoft 365 Business Basic", "MST-NCE-M365-BB", _d("7.20"), _d("6.00"), 14),
    CatalogItem("Microsoft 365 Business Standard", "MST-NCE-M365-BS", _d("15.00"), _d("12.50"), 18),
    CatalogItem("Microsoft 365 Business Premium", "MST-NCE-M365-BP", _d("26.40"), _d("22.00"), 18),
    CatalogItem("Microsoft 365 Apps for business", "MST-NCE-APPS-BIZ", _d("9.90"), _d("8.25"), 5),
    CatalogItem("Office 365 E3", "MST-NCE-O365-E3", _d("27.60"), _d("23.00"), 5),
    CatalogItem("Microsoft 365 E3", "MST-NCE-M365-E3", _d("43.20"), _d("36.00"), 6),
    CatalogItem("Microsoft 365 E5", "MST-NCE-M365-E5", _d("68.40"), _d("57.00"), 3),
    CatalogItem("Exchange Online (Plan 1)", "MST-NCE-EXO-P1", _d("4.80"), _d("4.00"), 8),
    CatalogItem("Exchange Online (Plan 2)", "MST-NCE-EXO-P2", _d("9.60"), _d("8.00"), 2),
    CatalogItem("Exchange Online Archiving", "MST-NCE-EXO-ARC", _d("3.60"), _d("3.00"), 2),
    CatalogItem("Microsoft Defender for Business", "MST-NCE-MDB", _d("3.60"), _d("3.00"), 6),
    CatalogItem("Microsoft Defender for Office 365 (Plan 1)", "MST-NCE-MDO-P1", _d("2.40"),
                _d("2.00"), 3),
    CatalogItem("Microsoft Entra ID P1", "MST-NCE-ENTRA-P1", _d("7.20"), _d("6.00"), 2),
    CatalogItem("Microsoft Teams Phone Standard", "MST-NCE-TEAMS-PHONE", _d("12.00"), _d("10.00"),
                3),
    CatalogItem("Microsoft Teams Essentials", "MST-NCE-TEAMS-ESS", _d("4.80"), _d("4.00"), 2),
    CatalogItem("Power BI Pro", "MST-NCE-PBI-PRO", _d("16.80"), _d("14.00"), 3),
    CatalogItem("Visio Plan 2", "MST-NCE-VISIO-P2", _d("18.00"), _d("15.00"), 1),
    CatalogItem("Microsoft 365 Copilot", "MST-NCE-COPILOT", None, _d("30.00"), 2),
    CatalogItem("Microsoft Azure Plan", "MST-AZR-PLAN", None, None, 3, usage=True),
]

# (billingTerm, commitment term, weight): M/M, A/M, A/A and a 3-year term billed annually.
MOTIONS = [("Monthly", None, 40), ("Monthly", "1-Year", 35), ("Annual", "1-Year", 20),
           ("Annual", "3-Year", 5)]

_PLACES = ["Cedar Ridge", "Harbor Point", "Blue Mesa", "Summit", "Riverbend", "Ironwood",
           "Lakeside", "Granite Peak", "Maple Grove", "Silver Creek", "Redstone", "Pinecrest",
           "Oakview", "Brightwater", "Stonegate", "Willow Bay", "Falcon Ridge", "Evergreen",
           "Copper Canyon", "Sunrise", "Northgate", "Bayview", "Aspen", "Front Range"]
_TRADES = ["Dental", "Family Law", "Accounting", "Logistics", "Veterinary Clinic", "Realty",
           "Engineering", "Insurance Agency", "Medical Group", "Construction", "Credit Union",
           "Architects", "Auto Group", "Marketing", "Physical Therapy", "Title & Escrow"]
_SUFFIXES = ["", " LLC", ", Inc.", " PC", " Ltd", " Group"]
_CITIES = [("Denver", "CO", "80202"), ("Boulder", "CO", "80302"), ("Austin", "TX", "78701"),
           ("Tampa", "FL", "33602"), ("Columbus", "OH", "43215"), ("Boise", "ID", "83702"),
           ("Raleigh", "NC", "27601"), ("Phoenix", "AZ", "85004"), ("Omaha", "NE", "68102")]
_METERS = [("Virtual Machines Dv5 Series", "1 Hour", "0.096"), ("Managed Disks P10", "1/Month",
           "0.6571"), ("Bandwidth Data Transfer Out", "1 GB", "0.087"), ("Blob Storage Hot LRS",
           "1 GB/Month", "0.0208"), ("SQL Database General Purpose vCore", "1 Hour", "0.2522"),
           ("Azure Backup Protected Instance", "1/Month", "0.3333")]


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def stamp(moment: datetime) -> str:
    """RFC 3339 with milliseconds and Z, e.g. `2024-05-01T08:30:00.000Z`."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


def month_end(day: date) -> date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


class Pax8Store:
    """State of one sandbox tenant. Not thread-safe by itself: the server holds its lock."""

    def __init__(self, *, seed: int = 0, today: date | None = None, currency: str = "USD"):
        self.rng = random.Random(seed)
        self.today = today or date.today()
        self.currency = currency
        self.companies: dict[str, dict[str, Any]] = {}
        self.products: dict[str, dict[str, Any]] = {}
        self.subscriptions: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}
        self.invoices: dict[str, dict[str, Any]] = {}
        self.invoice_items: dict[str, list[dict[str, Any]]] = {}
        self.usage_summaries: dict[str, dict[str, Any]] = {}
        self.usage_lines: dict[str, list[dict[str, Any]]] = {}
        self.catalog: dict[str, CatalogItem] = {}  # product id -> catalogue entry

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def now(self) -> datetime:
        return datetime.combine(self.today, time(12, 0), tzinfo=UTC)

    # ------------------------------------------------------------ mutations

    def add_company(self, name: str, *, website: str | None = None, status: str = "Active",
                    external_id: str | None = None, company_id: str | None = None,
                    ) -> dict[str, Any]:
        city, state, postal = self.rng.choice(_CITIES)
        slug = "".join(ch for ch in name.lower().replace("&", "and") if ch.isalnum() or ch == " ")
        company = {
            "id": company_id or self.new_id(), "name": name,
            "address": {"street": f"{self.rng.randint(100, 9999)} Main St", "city": city,
                        "stateOrProvince": state, "postalCode": postal, "country": "US"},
            "phone": f"303-555-{self.rng.randint(100, 199):04d}",
            "website": website or "-".join(slug.split()[:3]) + ".com",
            "billOnBehalfOfEnabled": False, "selfServiceAllowed": False,
            "orderApprovalRequired": False, "status": status,
            "updatedDate": stamp(self.now()),
        }
        if external_id:
            company["externalId"] = external_id
        self.companies[company["id"]] = company
        return company

    def add_product(self, item: CatalogItem, *, product_id: str | None = None) -> dict[str, Any]:
        product = {"id": product_id or self.new_id(), "name": item.name, "vendorName": "Microsoft",
                   "shortDescription": item.name, "sku": item.code,
                   "requiresCommitment": item.monthly is None and not item.usage}
        self.products[product["id"]] = product
        self.catalog[product["id"]] = item
        return product

    def add_subscription(self, company_id: str, product_id: str, quantity: int | Decimal, *,
                         billing_term: str = "Monthly", commitment: str | None = "1-Year",
                         start: date | None = None, price: Decimal | None = None,
                         partner_cost: Decimal | None = None, status: str = "Active",
                         subscription_id: str | None = None) -> dict[str, Any]:
        if company_id not in self.companies:
            raise KeyError(f"no company {company_id}")
        product = self.products[product_id]
        item = self.catalog.get(product_id)
        start = start or self.today
        if price is None:
            price = _list_price(item, billing_term, commitment)
        if partner_cost is None:
            partner_cost = money(price * PARTNER_SHARE)
        created = datetime.combine(start - timedelta(days=1), time(15, self.rng.randint(0, 59)),
                                   tzinfo=UTC)
        sub = {
            "id": subscription_id or self.new_id(), "companyId": company_id,
            "productId": product_id, "quantity": Decimal(quantity),
            "startDate": stamp(datetime.combine(start, time(8, 30), tzinfo=UTC)),
            "createdDate": stamp(created), "billingStart": start.isoformat(),
            "status": status, "price": price, "currencyCode": self.currency,
            "partnerCost": partner_cost, "productName": product["name"],
            "billingTerm": billing_term,
        }
        if commitment:
            sub["commitmentTerm"] = {"id": self.new_id(), "term": commitment,
                                     "endDate": stamp(datetime.combine(
                                         _term_end(start, commitment, self.today), time(8, 30),
                                         tzinfo=UTC))}
        self.subscriptions[sub["id"]] = sub
        self.history[sub["id"]] = [dict(sub)]
        return sub

    def set_quantity(self, subscription_id: str, quantity: int | Decimal,
                     at: datetime | None = None) -> dict[str, Any]:
        """Change seats and record a history snapshot dated `at`."""
        return self._change(subscription_id, at, quantity=Decimal(quantity))

    def cancel(self, subscription_id: str, at: datetime | None = None) -> dict[str, Any]:
        when = at or self.now()
        return self._change(subscription_id, when, status="Cancelled", endDate=stamp(when))

    def _change(self, subscription_id: str, at: datetime | None, **fields: Any) -> dict[str, Any]:
        sub = self.subscriptions[subscription_id]
        sub.update(fields, updatedDate=stamp(at or self.now()))
        self.history[subscription_id].append(dict(sub))
        return sub

    def quantity_on(self, subscription_id: str, day: date) -> Decimal:
        """Seats at the end of `day`, from the history snapshots."""
        quantity = Decimal(0)
        for snap in self.history[subscription_id]:
            when = snap.get("updatedDate") or snap["startDate"]
            if date.fromisoformat(when[:10]) <= day:
                quantity = snap["quantity"]
        return quantity

    # ------------------------------------------------------------ seeding

    def seed(self, customers: int, subscriptions: int, invoice_months: int = 6) -> None:
        for item in CATALOG:
            self.add_product(item)
        names: set[str] = set()
        while len(names) < customers:
            names.add(self.rng.choice(_PLACES) + " " + self.rng.choice(_TRADES)
                      + self.rng.choice(_SUFFIXES))
        for index, name in enumerate(sorted(names)):
            status = "Inactive" if index % 11 == 10 else "Active"
            self.add_company(name, status=status,
                             external_id=f"C{1000 + index}" if index % 3 else None)
        active = [c["id"] for c in self.companies.values() if c["status"] == "Active"]
        products = list(self.products)
        weights = [self.catalog[p].weight for p in products]
        for _ in range(subscriptions):
            self._seed_subscription(self.rng.choice(active),
                                    self.rng.choices(products, weights)[0])
        self._seed_invoices(invoice_months)
        self._seed_usage()

    def _seed_subscription(self, company_id: str, product_id: str) -> None:
        rng, item = self.rng, self.catalog[product_id]
        start = self.today - timedelta(days=rng.randint(20, 3 * 365))
        if item.usage:
            billing, commitment, quantity = "Monthly", None, 1
        else:
            motions = [m for m in MOTIONS if item.monthly is not None or m[1]]
            billing, commitment, _w = rng.choices(motions, [m[2] for m in motions])[0]
            quantity = rng.choice([1, 1, 2, 3, 4, 5, 5, 8, 10, 12, 15, 20, 25, 30, 40, 60])
        sub = self.add_subscription(company_id, product_id, quantity, billing_term=billing,
                                    commitment=commitment, start=start)
        last = self.today - timedelta(days=1)
        cancel_at = None
        if rng.random() < 0.1 and (last - start).days > 40:
            cancel_at = start + timedelta(days=rng.randint(30, (last - start).days))
            last = cancel_at - timedelta(days=1)
        if not item.usage and rng.random() < 0.35 and (last - start).days > 10:
            days = sorted(rng.sample(range(5, (last - start).days), k=rng.randint(1, 3)))
            for offset in days:
                moment = datetime.combine(start + timedelta(days=offset),
                                          time(rng.randint(9, 17), rng.randint(0, 59)), tzinfo=UTC)
                new = max(1, int(sub["quantity"]) + rng.choice([-3, -2, -1, 1, 1, 2, 3, 5]))
                self.set_quantity(sub["id"], new, moment)
        if cancel_at is not None:
            self.cancel(sub["id"], datetime.combine(cancel_at, time(16, 0), tzinfo=UTC))

    def _active_on(self, sub: dict[str, Any], day: date) -> bool:
        start = date.fromisoformat(sub["billingStart"])
        end = sub.get("endDate")
        return start <= day and (end is None or date.fromisoformat(end[:10]) > day)

    def _seed_invoices(self, months: int) -> None:
        first = self.today.replace(day=1)
        for back in range(months - 1, -1, -1):
            invoice_date = add_months(first, -back)
            previous = add_months(invoice_date, -1)
            items: list[dict[str, Any]] = []
            for sub in self.subscriptions.values():
                items += self._invoice_lines(sub, invoice_date, previous)
            total = sum((i["amountDue"] for i in items), Decimal(0))
            invoice = {"id": self.new_id(), "invoiceDate": invoice_date.isoformat(),
                       "dueDate": (invoice_date + timedelta(days=14)).isoformat(),
                       "total": total, "balance": total if back == 0 else Decimal("0.00"),
                       "carriedBalance": Decimal("0.00"), "currencyCode": self.currency,
                       "partnerName": PARTNER_NAME, "status": "Unpaid" if back == 0 else "Paid"}
            self.invoices[invoice["id"]] = invoice
            self.invoice_items[invoice["id"]] = items

    def _invoice_lines(self, sub: dict[str, Any], invoice_date: date, previous: date
                       ) -> list[dict[str, Any]]:
        """Monthly-billed seats in advance, prorated seat changes of the previous month,
        annual charges in the anniversary month, and Azure usage in arrears."""
        item = self.catalog[sub["productId"]]
        lines = []
        if item.usage:
            if self._active_on(sub, previous):
                cost = money(Decimal(self.rng.randint(4000, 90000)) / 100)
                lines.append(self._line(sub, "subscription", "Arrears", previous,
                                        month_end(previous), Decimal(1), cost, cost))
            return lines
        unit_cost, unit_price = sub["partnerCost"], sub["price"]
        if sub["billingTerm"] == "Monthly":
            if self._active_on(sub, invoice_date):
                qty = self.quantity_on(sub["id"], invoice_date)
                lines.append(self._line(sub, "subscription", "Monthly", invoice_date,
                                        month_end(invoice_date), qty, unit_cost, unit_price))
            days_in = Decimal(calendar.monthrange(previous.year, previous.month)[1])
            snaps = self.history[sub["id"]]
            for before, after in zip(snaps, snaps[1:], strict=False):
                changed = date.fromisoformat(after["updatedDate"][:10])
                delta = after["quantity"] - before["quantity"]
                if delta and previous <= changed < invoice_date:
                    share = Decimal((month_end(previous) - changed).days + 1) / days_in
                    lines.append(self._line(sub, "prorate", "Monthly", changed,
                                            month_end(previous), delta, unit_cost, unit_price,
                                            share))
        else:
            start = date.fromisoformat(sub["billingStart"])
            years = invoice_date.year - start.year
            anniversary = add_months(start, 12 * years)
            if (years >= 0 and invoice_date <= anniversary <= month_end(invoice_date)
                    and self._active_on(sub, anniversary)):
                lines.append(self._line(sub, "subscription", "Annual", anniversary,
                                        add_months(anniversary, 12) - timedelta(days=1),
                                        self.quantity_on(sub["id"], anniversary), unit_cost,
                                        unit_price))
        return lines

    def _line(self, sub: dict[str, Any], kind: str, term: str, start: date, end: date,
              quantity: Decimal, cost: Decimal, price: Decimal, share: Decimal = Decimal(1),
              ) -> dict[str, Any]:
        company = self.companies[sub["companyId"]]
        cost_total = money(cost * quantity * share)
        sub_total = money(price * quantity * share)
        line = {"id": self.new_id(), "type": kind, "companyId": company["id"],
                "companyName": company["name"], "startPeriod": start.isoformat(),
                "endPeriod": end.isoformat(), "quantity": quantity, "unitOfMeasure": "User",
                "term": term, "sku": self.catalog[sub["productId"]].code,
                "description": sub["productName"], "chargeType": "per", "price": price,
                "subTotal": sub_total, "cost": cost, "costTotal": cost_total,
                "offeredBy": "Pax8", "billedByPax8": False, "total": sub_total,
                "productId": sub["productId"], "productName": sub["productName"],
                "billingFee": Decimal("0.00"), "billingFeeRate": Decimal("0.00"),
                "amountDue": cost_total, "currencyCode": self.currency,
                "salesTax": Decimal("0.00"), "subscriptionId": sub["id"],
                "vendorName": "Microsoft"}
        if company.get("externalId"):
            line["externalId"] = company["externalId"]
        return line

    def _seed_usage(self) -> None:
        meter_ids = {name: self.new_id() for name, _u, _p in _METERS}
        first = self.today.replace(day=1)
        for sub in self.subscriptions.values():
            if not self.catalog[sub["productId"]].usage or not self._active_on(sub, self.today):
                continue
            company = self.companies[sub["companyId"]]
            for group in self.rng.sample(["prod", "dev", "backup"], k=self.rng.randint(1, 3)):
                summary_id = self.new_id()
                lines = []
                for name, unit, rate in self.rng.sample(_METERS, k=3):
                    day = first
                    while day < self.today:
                        qty = Decimal(self.rng.randint(100, 4800)) / 100
                        charges = money(qty * Decimal(rate))
                        partner = money(charges * USAGE_COST_SHARE)
                        lines.append({"usageSummaryId": summary_id, "usageDate": day.isoformat(),
                                      "productName": name, "productId": meter_ids[name],
                                      "unitOfMeasure": unit, "quantity": qty,
                                      "currentCharges": charges, "currentProfit": charges - partner,
                                      "partnerTotal": partner, "unitPrice": Decimal(rate),
                                      "currencyCode": self.currency, "isTrial": False})
                        day += timedelta(days=1)
                self.usage_lines[summary_id] = lines
                self.usage_summaries[summary_id] = {
                    "id": summary_id, "companyId": company["id"], "subscriptionId": sub["id"],
                    "productId": sub["productId"],
                    "resourceGroup": f"rg-{company['website'].split('.')[0][:20]}-{group}",
                    "vendorName": "Microsoft",
                    "currentCharges": sum((x["currentCharges"] for x in lines), Decimal("0.00")),
                    "currencyCode": self.currency,
                    "partnerTotal": sum((x["partnerTotal"] for x in lines), Decimal("0.00")),
                    "isTrial": False}


def _list_price(item: CatalogItem | None, billing_term: str, commitment: str | None) -> Decimal:
    if item is None or item.usage:
        return Decimal("0.00")
    monthly = item.annual if commitment or item.monthly is None else item.monthly
    assert monthly is not None
    return monthly * 12 if billing_term == "Annual" else monthly


def _term_end(start: date, commitment: str, today: date) -> date:
    """Last day of the current commitment term (terms renew until they pass `today`)."""
    months = 36 if commitment.startswith("3") else 12
    end = add_months(start, months)
    while end <= today:
        end = add_months(end, months)
    return end - timedelta(days=1)
