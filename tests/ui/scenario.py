"""A small, realistic workspace for the UI tests: mapped customers with seat drift, an
unbilled subscription, a cost change and an unmapped customer, reconciled through the
real services (the same fixture shape as tests/services/test_reconcile_service.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.models import entities as m
from app.models.workspace import Workspace
from tests.fixtures.connections import pax8_and_connectwise

CUSTOMERS = ("Contoso", "Fabrikam", "Northwind Traders", "Tailspin Toys", "Woodgrove Bank",
             "Adventure Works", "Litware", "Proseware", "Wide World Importers", "Alpine Ski")
PRODUCTS = (("E3", "Microsoft 365 E3", "22", "19.80"),
            ("BP", "Microsoft 365 Business Premium", "22", "18.70"),
            ("BB", "Microsoft 365 Business Basic", "6", "5.10"),
            ("PBI", "Power BI Pro", "10", "8.50"))


def build(ws: Workspace, customers: int = 4, subscriptions: int = 3) -> None:
    """`customers` mapped customers with `subscriptions` subscriptions each, plus one
    unmapped vendor customer. Seats change mid-March, so March 2026 has drift; the fourth
    customer is billed in EUR and one PSA line carries an outdated unit cost."""
    with ws.begin() as s:
        pax8, cw = pax8_and_connectwise(s)
        products = {}
        for sku, name, price, cost in PRODUCTS:
            vp = m.VendorProduct(connection_id=pax8.id, sku=sku, name=name)
            pp = m.PsaProduct(connection_id=cw.id, external_id=f"p-{sku}", identifier=sku,
                              price=Decimal(price), cost=Decimal(cost))
            s.add_all([vp, pp])
            s.flush()
            s.add(m.ProductMapping(vendor_product_id=vp.id, psa_product_id=pp.id,
                                   method="manual", created_by="ann"))
            products[sku] = (name, Decimal(price), Decimal(cost))
        line_no = 30000
        for c in range(customers):
            base = CUSTOMERS[c % len(CUSTOMERS)]
            name = base if c < len(CUSTOMERS) else f"{base} {c // len(CUSTOMERS) + 1}"
            customer = m.VendorCustomer(connection_id=pax8.id, external_id=f"c{c}", name=name)
            company = m.PsaCompany(connection_id=cw.id, external_id=str(100 + c),
                                   name=f"{name} Ltd")
            s.add_all([customer, company])
            s.flush()
            recurring = m.PsaAgreement(connection_id=cw.id, company_id=company.id,
                                       external_id=f"a{c}", name="Managed", kind="recurring",
                                       billing_cycle="Monthly")
            one_time = m.PsaAgreement(connection_id=cw.id, company_id=company.id,
                                      external_id=f"o{c}", name="One-time", kind="one_time")
            s.add_all([recurring, one_time])
            s.flush()
            s.add_all([
                m.CustomerMapping(vendor_customer_id=customer.id, psa_company_id=company.id,
                                  method="manual", created_by="ann"),
                m.AgreementMapping(psa_company_id=company.id, motion="monthly",
                                   psa_agreement_id=recurring.id),
                m.AgreementMapping(psa_company_id=company.id, motion="annual-annual",
                                   psa_agreement_id=one_time.id)])
            for n in range(subscriptions):
                sku = PRODUCTS[(c + n) % len(PRODUCTS)][0]
                product, price, cost = products[sku]
                billed = Decimal(5 + (c * 7 + n * 3) % 20)
                added = Decimal(1 + (c + n) % 4) * (1 if (c + n) % 3 else -1)
                sub = m.VendorSubscription(
                    connection_id=pax8.id, customer_id=customer.id, external_id=f"s{c}-{n}",
                    sku=sku, product_name=product, quantity=billed + added, unit_cost=cost,
                    currency="EUR" if c == 3 else "USD", term="P1M",
                    billing_frequency="Monthly", start_date=date(2025, 1, 1), status="Active")
                s.add(sub)
                s.flush()
                s.add(m.SeatLot(subscription_id=sub.id, quantity=billed + min(added, 0),
                                start_date=date(2025, 1, 1), source="history",
                                unit_cost=cost))
                if added > 0:
                    s.add(m.SeatLot(subscription_id=sub.id, quantity=added,
                                    start_date=date(2026, 3, 1 + (c * 5 + n * 9) % 27),
                                    source="history", unit_cost=cost))
                if n == subscriptions - 1 and c % 2 == 1:
                    continue  # no PSA line: an unbilled subscription
                line_no += 1
                line = m.PsaBillingLine(
                    connection_id=cw.id, agreement_id=recurring.id, external_id=str(line_no),
                    product_external_id=f"p-{sku}", quantity=billed, unit_price=price,
                    unit_cost=cost - Decimal("1.10") if (c, n) == (0, 1) else cost,
                    effective_date=date(2025, 1, 1))
                s.add(line)
                s.flush()
                s.add(m.SubscriptionMapping(vendor_subscription_id=sub.id,
                                            psa_billing_line_id=line.id, method="manual",
                                            created_by="ann"))
        stray = m.VendorCustomer(connection_id=pax8.id, external_id="x1", name="Unmapped Co")
        s.add(stray)
        s.flush()
        sub = m.VendorSubscription(
            connection_id=pax8.id, customer_id=stray.id, external_id="sx", sku="E3",
            product_name="Microsoft 365 E3", quantity=Decimal(4), unit_cost=Decimal("19.80"),
            currency="USD", term="P1M", billing_frequency="Monthly",
            start_date=date(2025, 1, 1), status="Active")
        s.add(sub)
        s.flush()
        s.add(m.SeatLot(subscription_id=sub.id, quantity=Decimal(4), start_date=date(2025, 1, 1),
                        source="history", unit_cost=Decimal("19.80")))
