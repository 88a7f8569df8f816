"""The demo plan as sandbox tenants: Pax8 sells, ConnectWise bills, with the same customers.

Pax8 gets the Pax8 customers' subscriptions, their seat history and three monthly invoices;
ConnectWise gets a company per customer (named as the MSP typed it, which is not always how
the vendor spells it), a recurring "Managed Cloud" and a "One-Time Charges" agreement each,
a catalogue of the products the MSP resells, and a line for every subscription the MSP
bills (Partner Center customers included). `DemoIds` remembers which sandbox id each plan
item became, so the bookkeeper steps of the demo can name them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from app.domain.periods import add_months
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.demo.plan import AZURE, NOT_IN_PSA_CATALOG, DemoCustomer, DemoPlan, DemoSub
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.pax8.sandbox_data import CATALOG, PARTNER_SHARE, money
from app.sync.sandbox.seed import TickingClock

MOTION_TERMS = {"M/M": ("Monthly", None), "A/M": ("Monthly", "1-Year"),
                "A/A": ("Annual", "1-Year"), "3Y/A": ("Annual", "3-Year")}
INVOICE_MONTHS = 3  # the month before the period, the period, and this month
AZURE_ITEM = ("AZURE-USAGE", "Azure consumption (billed in arrears)", "1.00", "0.85")


@dataclass
class DemoIds:
    """Plan keys → sandbox ids: Pax8 subscription ids, ConnectWise line/company/agreement ids."""

    vendor_subscriptions: dict[str, str] = field(default_factory=dict)
    psa_lines: dict[str, int] = field(default_factory=dict)
    psa_companies: dict[str, int] = field(default_factory=dict)  # by PSA company name
    licensing_agreements: dict[str, int] = field(default_factory=dict)  # by customer key
    psa_products: dict[str, int] = field(default_factory=dict)  # by product name


def unit_prices(sub: DemoSub) -> tuple[Decimal, Decimal]:
    """(list price, partner cost) per seat per billing term, as Pax8 prices the motion."""
    item = next(i for i in CATALOG if i.name == sub.product)
    billing, commitment = MOTION_TERMS.get(sub.motion, ("Monthly", None))
    monthly = item.annual if commitment or item.monthly is None else item.monthly
    price = sub.vendor_price or (Decimal(0) if monthly is None else
                                 monthly * 12 if billing == "Annual" else monthly)
    return price, sub.vendor_cost or money(price * PARTNER_SHARE)


def noon(day: date, hour: int = 15) -> datetime:
    return datetime.combine(day, time(hour, 0), tzinfo=UTC)


def build_pax8(plan: DemoPlan, ids: DemoIds) -> Pax8Sandbox:
    sandbox = Pax8Sandbox(seed=7, today=plan.today)
    sandbox.product_id(CATALOG[0].name)  # loads the catalogue
    for customer in plan.of("pax8"):
        company = sandbox.add_company(customer.name, website=customer.website)
        for sub in customer.subs:
            billing, commitment = MOTION_TERMS[sub.motion]
            price, cost = unit_prices(sub)
            record = sandbox.add_subscription(company["id"], sub.product, sub.quantity,
                                              billing_term=billing, commitment=commitment,
                                              start=sub.start, price=price, partner_cost=cost)
            ids.vendor_subscriptions[sub.key] = record["id"]
            for day, seats in sub.changes:
                sandbox.set_quantity(record["id"], seats, noon(day))
            if sub.cancelled is not None:
                sandbox.cancel_subscription(record["id"], noon(sub.cancelled, 16))
    sandbox.issue_invoices(INVOICE_MONTHS)
    _lose_end_dates(sandbox, plan, ids)
    return sandbox


def _lose_end_dates(sandbox: Pax8Sandbox, plan: DemoPlan, ids: DemoIds) -> None:
    """The vendor-invoice-mismatch scenario: this month's invoice carries a prorated line for
    the period that lost its endPeriod (a vendor data error), for seats no history shows."""
    store = sandbox.store
    by_date = sorted(store.invoices.values(), key=lambda i: i["invoiceDate"])
    latest, period_invoice = by_date[-1]["id"], by_date[-2]["id"]
    for customer in plan.of("pax8"):
        for sub in customer.subs:
            if not sub.unbilled_extra:
                continue
            sub_id = ids.vendor_subscriptions[sub.key]
            line = dict(next(item for item in store.invoice_items[period_invoice]
                             if item["subscriptionId"] == sub_id))
            day = plan.period.start + timedelta(days=15)
            seats = Decimal(sub.unbilled_extra)
            share = Decimal((plan.period.end - day).days + 1) / plan.period.days
            line.update(id=store.new_id(), type="prorate", startPeriod=day.isoformat(),
                        quantity=seats, subTotal=money(line["price"] * seats * share),
                        costTotal=money(line["cost"] * seats * share))
            line.update(total=line["subTotal"], amountDue=line["costTotal"])
            del line["endPeriod"]
            store.invoice_items[latest].append(line)
            store.invoices[latest]["total"] += line["amountDue"]


def build_connectwise(plan: DemoPlan, ids: DemoIds) -> ConnectWiseSandbox:
    sandbox = ConnectWiseSandbox(clock=TickingClock(noon(plan.today, 9)))
    old = noon(add_months(plan.period.start, -30), 9)
    for item in CATALOG:
        if item.usage or item.name in NOT_IN_PSA_CATALOG:
            continue
        price = item.annual or Decimal(0)
        rec = sandbox.add_catalog_item(item.code.removeprefix("MST-NCE-"), item.name,
                                       price=price, cost=money(price * PARTNER_SHARE),
                                       last_updated=old)
        ids.psa_products[item.name] = rec["id"]
    ident, description, price, cost = AZURE_ITEM
    ids.psa_products[AZURE] = sandbox.add_catalog_item(
        ident, description, price=Decimal(price), cost=Decimal(cost), recurring=False,
        last_updated=old)["id"]
    agreements: dict[str, dict[str, int]] = {}
    for customer in plan.customers:
        if customer.psa_name is None:
            continue
        if customer.psa_name not in ids.psa_companies:
            company = sandbox.add_company(customer.psa_name, website=customer.psa_website,
                                          last_updated=old)
            ids.psa_companies[customer.psa_name] = company["id"]
            agreements[customer.psa_name] = _agreements(sandbox, plan, customer, company["id"],
                                                        old)
        chosen = agreements[customer.psa_name]
        if "licensing" in chosen:
            ids.licensing_agreements[customer.key] = chosen["licensing"]
        for sub in customer.subs:
            if sub.psa is not None:
                ids.psa_lines[sub.key] = _line(sandbox, plan, sub, chosen, ids)
    return sandbox


def _agreements(sandbox: ConnectWiseSandbox, plan: DemoPlan, customer: DemoCustomer,
                company_id: int, when: datetime) -> dict[str, int]:
    name = customer.psa_name
    start = add_months(plan.period.start, -36)
    out = {"one_time": sandbox.add_agreement(company_id, f"{name} - One-Time Charges",
                                             kind="one_time", start_date=start,
                                             last_updated=when)["id"]}
    if customer.agreements == "two_recurring":
        out["cloud"] = sandbox.add_agreement(company_id, f"{name} - Managed Services",
                                             start_date=start, last_updated=when)["id"]
        out["licensing"] = sandbox.add_agreement(
            company_id, f"{name} - Microsoft 365 Licensing", start_date=start,
            last_updated=when)["id"]
    else:
        out["cloud"] = sandbox.add_agreement(company_id, f"{name} - Managed Cloud",
                                             start_date=start, last_updated=when)["id"]
    return out


def _line(sandbox: ConnectWiseSandbox, plan: DemoPlan, sub: DemoSub,
          agreements: dict[str, int], ids: DemoIds) -> int:
    assert sub.psa is not None
    price, cost = unit_prices(sub)
    product = ids.psa_products[sub.product]
    if sub.psa.one_time:  # the annual charge the MSP already billed for a renewal
        renewal = add_months(sub.start, 12 * (plan.period.start.year - sub.start.year))
        return sandbox.add_addition(
            agreements["one_time"], product, quantity=Decimal(sub.psa.quantity),
            effective_date=renewal, unit_price=price, unit_cost=cost,
            description=f"{sub.product} annual renewal {renewal.isoformat()}")["id"]
    return sandbox.add_addition(
        agreements[sub.psa.agreement], product, quantity=Decimal(sub.psa.quantity),
        effective_date=sub.start,
        unit_price=sub.psa.unit_price if sub.psa.unit_price is not None else price,
        unit_cost=sub.psa.unit_cost if sub.psa.unit_cost is not None else cost,
        last_updated=noon(sub.start, 10))["id"]


__all__ = ["DemoIds", "build_connectwise", "build_pax8", "unit_prices"]
