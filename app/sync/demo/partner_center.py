"""The demo's Partner Center files: two NCE invoice reconciliation CSVs and a daily rated
usage CSV, in Microsoft's column sets, for the plan's Partner Center customers.

One recon file per invoice, as Partner Center issues them: the period's invoice (its cycle
charges, billed in advance) and this month's (this month's cycle charges plus the period's
one-time charges: an addQuantity as a refund of the old seats and a charge of the new ones,
a new annual purchase). The usage file holds the period's Azure usage per day and meter.
Ids are stable for a plan key. Product ids are Microsoft's for these products; SKU ids and
every customer, subscription and order id are invented.
"""

from __future__ import annotations

import csv
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from pathlib import Path

from app.domain.periods import BillingPeriod, add_months
from app.sync.demo.plan import AZURE, DemoCustomer, DemoPlan, DemoSub
from app.sync.demo.tenants import unit_prices
from app.sync.partner_center.recon_file import RECON_COLUMNS
from app.sync.pax8.sandbox_data import money

USAGE_COLUMNS = (
    "PartnerId", "PartnerName", "CustomerId", "CustomerName", "CustomerDomainName",
    "CustomerCountry", "MpnId", "Tier2MpnId", "InvoiceNumber", "ProductId", "SkuId",
    "AvailabilityId", "SkuName", "ProductName", "PublisherName", "PublisherId",
    "SubscriptionDescription", "SubscriptionId", "ChargeStartDate", "ChargeEndDate",
    "UsageDate", "MeterType", "MeterCategory", "MeterId", "MeterSubCategory", "MeterName",
    "MeterRegion", "Unit", "ResourceLocation", "ConsumedService", "ResourceGroup",
    "ResourceURI", "ChargeType", "UnitPrice", "Quantity", "UnitType", "BillingPreTaxTotal",
    "BillingCurrency", "PricingPreTaxTotal", "PricingCurrency", "ServiceInfo1", "ServiceInfo2",
    "Tags", "AdditionalInfo", "EffectiveUnitPrice", "PCToBCExchangeRate",
    "PCToBCExchangeRateDate", "EntitlementId", "EntitlementDescription",
    "PartnerEarnedCreditPercentage", "CreditPercentage", "CreditType",
)
PRODUCT_IDS = {  # product name -> (ProductId, SkuId)
    "Microsoft 365 Business Basic": ("CFQ7TTC0LH18", "0001"),
    "Microsoft 365 Business Standard": ("CFQ7TTC0LDPB", "0001"),
    "Microsoft 365 Business Premium": ("CFQ7TTC0LCHC", "0002"),
    "Exchange Online (Plan 1)": ("CFQ7TTC0LH16", "0001"),
    AZURE: ("DZH318Z0BCZ4", "0001"),
}
AZURE_SKU_NAME = "Azure plan"
PARTNER_ID = "3f8a2c71-5d0e-4b8a-9c61-2e7d4a90b5c3"
TERMS = {"M/M": "One-Month commitment for monthly billing",
         "A/M": "One-Year commitment for monthly billing",
         "A/A": "One-Year commitment for yearly billing"}
_METERS = (("Virtual Machines", "D2s v5", "1 Hour", "Microsoft.Compute", Decimal("0.096")),
           ("Storage", "P10 LRS Disk", "1/Month", "Microsoft.Compute", Decimal("0.0219")),
           ("Bandwidth", "Standard Data Transfer Out", "1 GB", "Microsoft.Network",
            Decimal("0.087")))


def stable_id(*parts: str) -> str:
    return str(uuid.UUID(int=random.Random(":".join(parts)).getrandbits(128), version=4))


def azure_sku() -> str:
    """The vendor SKU TrueUp stores for the Azure plan: "ProductId:SkuId"."""
    return ":".join(PRODUCT_IDS[AZURE])


def _mdy(day: date) -> str:
    return f"{day.month}/{day.day}/{day.year}"


def _term_end(start: date, months: int, today: date) -> date:
    end = add_months(start, months)
    while end <= today:
        end = add_months(end, months)
    return end - timedelta(days=1)


@dataclass(frozen=True)
class _Invoice:
    number: str
    day: date


def _invoice(day: date) -> _Invoice:
    return _Invoice(f"G0{day.year % 100:02d}{day.month:02d}{day.toordinal() % 10_000:04d}", day)


def _line(plan: DemoPlan, customer: DemoCustomer, sub: DemoSub, invoice: _Invoice,
          charge_type: str, start: date, end: date, seats: int, share: Decimal = Decimal(1),
          ) -> dict[str, str]:
    product_id, sku_id = PRODUCT_IDS[sub.product]
    _list_price, cost = unit_prices(sub)
    months = 12 if sub.motion != "M/M" else 1
    subtotal = money(cost.quantize(Decimal("0.01"), ROUND_DOWN) * seats * share)
    order = stable_id(sub.key, "order", start.isoformat())[-12:]
    return {
        "PartnerId": PARTNER_ID, "CustomerId": stable_id(customer.key, "customer"),
        "CustomerName": customer.name, "CustomerDomainName": customer.website,
        "CustomerCountry": "US", "InvoiceNumber": invoice.number, "MpnId": "6157311",
        "ResellerMpnId": "0", "OrderId": order, "OrderDate": _mdy(start),
        "ProductId": product_id, "SkuId": sku_id, "AvailabilityId": f"CFQ7TTC0{sku_id}XY",
        "SkuName": sub.product, "ProductName": sub.product, "ChargeType": charge_type,
        "UnitPrice": str(cost), "Quantity": str(abs(seats)), "Subtotal": str(subtotal),
        "TaxTotal": "0", "Total": str(subtotal), "Currency": "USD",
        "PriceAdjustmentDescription": "[]", "PublisherName": "Microsoft Corporation",
        "PublisherId": "", "SubscriptionDescription": sub.product,
        "SubscriptionId": stable_id(sub.key, "subscription"),
        "ChargeStartDate": _mdy(start), "ChargeEndDate": _mdy(end),
        "TermAndBillingCycle": TERMS[sub.motion], "EffectiveUnitPrice": str(cost),
        "UnitType": "", "AlternateId": order, "BillableQuantity": str(seats),
        "BillingFrequency": "Annual" if sub.motion == "A/A" else "Monthly",
        "PricingCurrency": "USD", "PCToBCExchangeRate": "1",
        "PCToBCExchangeRateDate": _mdy(invoice.day.replace(day=1)), "MeterDescription": "",
        "ReservationOrderId": "", "CreditReasonCode": "",
        "SubscriptionStartDate": _mdy(sub.start),
        "SubscriptionEndDate": _mdy(_term_end(sub.start, months, plan.today)),
        "ReferenceID": stable_id(sub.key, charge_type, start.isoformat(), str(seats)),
        "ProductQualifiers": "[]", "PromotionID": "",
    }


def _cycle(plan: DemoPlan, invoice: _Invoice, month: BillingPeriod) -> Iterator[dict[str, str]]:
    for customer in plan.of("partner_center"):
        for sub in customer.subs:
            if sub.motion in ("M/M", "A/M") and sub.start <= month.start:
                yield _line(plan, customer, sub, invoice, "cycleCharge", month.start, month.end,
                            sub.quantity_on(month.start))


def _period_one_time(plan: DemoPlan, invoice: _Invoice) -> Iterator[dict[str, str]]:
    period = plan.period
    for customer in plan.of("partner_center"):
        for sub in customer.subs:
            for day, seats in sub.changes:
                if period.contains(day):
                    share = Decimal((period.end - day).days + 1) / period.days
                    before = sub.quantity_on(day - timedelta(days=1))
                    yield _line(plan, customer, sub, invoice, "addQuantity", day, period.end,
                                -before, share)
                    yield _line(plan, customer, sub, invoice, "addQuantity", day, period.end,
                                seats, share)
            if sub.motion == "A/A" and period.contains(sub.start):
                yield _line(plan, customer, sub, invoice, "new", sub.start,
                            add_months(sub.start, 12) - timedelta(days=1), sub.quantity)


def recon_invoices(plan: DemoPlan) -> list[tuple[str, list[dict[str, str]]]]:
    """(file name, rows) per invoice: the period's, then this month's."""
    this_month = plan.today.replace(day=1)
    current = BillingPeriod.month(this_month.year, this_month.month)
    first, second = _invoice(plan.period.start), _invoice(this_month)
    return [(f"recon-{plan.period.label}.csv", list(_cycle(plan, first, plan.period))),
            (f"recon-{current.label}.csv", list(_cycle(plan, second, current))
             + list(_period_one_time(plan, second)))]


def usage_rows(plan: DemoPlan) -> list[dict[str, str]]:
    """The period's Azure usage: every day, three meters per Azure plan subscription."""
    period, invoice = plan.period, _invoice(plan.today.replace(day=1))
    rows = []
    for customer in plan.of("partner_center"):
        for sub in customer.subs:
            if sub.product != AZURE:
                continue
            rng = random.Random(sub.key)
            scale = Decimal(rng.randint(40, 160))
            group = customer.key.replace("-azure", "") + "-prod"
            day = period.start
            while day <= period.end:
                for category, meter, unit, service, price in _METERS:
                    quantity = (scale * Decimal(rng.randint(80, 120)) / 100).quantize(
                        Decimal("0.000001"))
                    if unit == "1/Month":
                        quantity = (quantity / 30).quantize(Decimal("0.000001"))
                    total = (quantity * price).quantize(Decimal("0.000001"))
                    rows.append(_usage_row(customer, sub, invoice, day, category, meter, unit,
                                           service, price, quantity, total, group))
                day += timedelta(days=1)
    return rows


def _usage_row(customer: DemoCustomer, sub: DemoSub, invoice: _Invoice, day: date,
               category: str, meter: str, unit: str, service: str, price: Decimal,
               quantity: Decimal, total: Decimal, group: str) -> dict[str, str]:
    product_id, sku_id = PRODUCT_IDS[AZURE]
    subscription = stable_id(sub.key, "subscription")
    start = day.replace(day=1)
    return {
        "PartnerId": PARTNER_ID, "PartnerName": "Sandbox MSP LLC",
        "CustomerId": stable_id(customer.key, "customer"), "CustomerName": customer.name,
        "CustomerDomainName": customer.website, "CustomerCountry": "US", "MpnId": "6157311",
        "Tier2MpnId": "", "InvoiceNumber": invoice.number, "ProductId": product_id,
        "SkuId": sku_id, "AvailabilityId": "DZH318Z0BCZ40001", "SkuName": AZURE_SKU_NAME,
        "ProductName": AZURE_SKU_NAME, "PublisherName": "Microsoft", "PublisherId": "",
        "SubscriptionDescription": AZURE_SKU_NAME, "SubscriptionId": subscription,
        "ChargeStartDate": f"{start.isoformat()}T00:00:00Z",
        "ChargeEndDate": f"{(add_months(start, 1) - timedelta(days=1)).isoformat()}T00:00:00Z",
        "UsageDate": f"{day.isoformat()}T00:00:00Z", "MeterType": "1 Compute Hour",
        "MeterCategory": category, "MeterId": stable_id(meter, "meter"),
        "MeterSubCategory": meter.split()[0], "MeterName": meter, "MeterRegion": "US East 2",
        "Unit": unit, "ResourceLocation": "EASTUS2", "ConsumedService": service,
        "ResourceGroup": group,
        "ResourceURI": f"/subscriptions/{subscription}/resourceGroups/{group}/providers/"
                       f"{service}/{meter.replace(' ', '-').lower()}",
        "ChargeType": "new", "UnitPrice": str(price), "Quantity": str(quantity),
        "UnitType": unit, "BillingPreTaxTotal": str(total), "BillingCurrency": "USD",
        "PricingPreTaxTotal": str(total), "PricingCurrency": "USD", "ServiceInfo1": "",
        "ServiceInfo2": "", "Tags": "", "AdditionalInfo": "", "EffectiveUnitPrice": str(price),
        "PCToBCExchangeRate": "1", "PCToBCExchangeRateDate": f"{start.isoformat()}T00:00:00Z",
        "EntitlementId": subscription, "EntitlementDescription": AZURE_SKU_NAME,
        "PartnerEarnedCreditPercentage": "0", "CreditPercentage": "0", "CreditType": "",
    }


def write_csv(path: Path, columns: tuple[str, ...], rows: list[dict[str, str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig") as out:
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(columns)
        for row in rows:
            writer.writerow([row.get(column, "") for column in columns])
    return path


def write_files(plan: DemoPlan, folder: Path) -> dict[str, list[Path]]:
    """Write the recon files and the usage file into `folder`; returns them by kind."""
    recon = [write_csv(folder / name, RECON_COLUMNS, rows)
             for name, rows in recon_invoices(plan)]
    usage = [write_csv(folder / f"usage-{plan.period.label}.csv", USAGE_COLUMNS,
                       usage_rows(plan))]
    return {"recon": recon, "usage": usage}
