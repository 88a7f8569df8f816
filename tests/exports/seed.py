"""A small workspace for export tests: PSA companies and lines, one period, a few findings.

Customer names include the formula-injection cases; prices include a 3-decimal unit price.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from app.domain.actions import ActionType, PsaAction, action_to_dict
from app.models.connections import Connection
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.review import BillingPeriodRow, Finding
from app.models.vendor import VendorCustomer, VendorSubscription
from app.models.workspace import Workspace

PERIOD = "2026-03"
EVIL_NAMES = ('=HYPERLINK("http://x","y")', "+1", "@SUM(1)")


@dataclass
class Seeded:
    companies: dict[str, int] = field(default_factory=dict)
    findings: dict[str, int] = field(default_factory=dict)
    period_id: int = 0


def _charge(agreement: str, amount: str, qty: str, price: str, what: str) -> dict:
    return action_to_dict(PsaAction(
        ActionType.ONE_TIME_CHARGE, "connectwise", PERIOD, agreement,
        desired={"quantity": qty, "unit_price": price, "effective_date": "2026-03-01",
                 "description": what},
        effective_date=date(2026, 3, 1), description=what, money_effect=Decimal(amount),
        currency="USD"))


def _set_qty(agreement: str, line: str, before: str, after: str) -> dict:
    return action_to_dict(PsaAction(
        ActionType.SET_QUANTITY, "connectwise", PERIOD, agreement, line,
        desired={"quantity": after}, seen={"quantity": before},
        effective_date=date(2026, 4, 1), currency="USD"))


def seed(ws: Workspace, *, evil: bool = True) -> Seeded:
    out = Seeded()
    with ws.begin() as s:
        cw = Connection(name="CW", kind="connectwise", side="psa", base_url="https://cw.test",
                        settings={"company_id": "acme"})
        pax8 = Connection(name="Pax8", kind="pax8", side="vendor")
        s.add_all([cw, pax8])
        s.flush()
        products = {sku: PsaProduct(connection_id=cw.id, external_id=sku, identifier=ident)
                    for sku, ident in (("p1", "M365-E3"), ("p2", "DEFENDER"))}
        s.add_all(products.values())
        names = ["Contoso", "Fabrikam, Inc.", *(EVIL_NAMES if evil else ())]
        agreements = {}
        for n, name in enumerate(names, 1):
            company = PsaCompany(connection_id=cw.id, external_id=str(n), name=name,
                                 identifier=f"C{n}")
            s.add(company)
            s.flush()
            out.companies[name] = company.id
            agreement = PsaAgreement(connection_id=cw.id, company_id=company.id,
                                     external_id=f"A{n}", name=f"Managed {n}", kind="recurring")
            s.add(agreement)
            s.flush()
            agreements[name] = agreement
        line = 0

        def add_line(company: str, qty: str, price: str | None, product: str | None = "p1",
                     **extra: object) -> PsaBillingLine:
            nonlocal line
            line += 1
            row = PsaBillingLine(connection_id=cw.id, agreement_id=agreements[company].id,
                                 external_id=f"L{line}", product_external_id=product,
                                 description=f"Line {line}", quantity=Decimal(qty),
                                 unit_price=None if price is None else Decimal(price), **extra)
            s.add(row)
            return row

        add_line("Contoso", "10", "22", invoice_description="Microsoft 365 E3")
        add_line("Contoso", "5", "3.5", product="p2", invoice_description="Defender")
        add_line("Contoso", "1", "99", bill_customer="DoNotBill")  # not billed
        add_line("Contoso", "1", "99", cancelled_date=date(2026, 2, 10))  # ended before
        add_line("Fabrikam, Inc.", "3", "12.065", invoice_description="Exchange Online")
        add_line("Fabrikam, Inc.", "2", "7", product=None,
                 effective_date=date(2026, 3, 15), invoice_description="Teams Phone")
        for name in EVIL_NAMES if evil else ():
            add_line(name, "1", "1.5", invoice_description=name)

        vendor_customer = VendorCustomer(connection_id=pax8.id, external_id="v9",
                                         name="Unmapped Ltd")
        s.add(vendor_customer)
        s.flush()
        sub = VendorSubscription(connection_id=pax8.id, customer_id=vendor_customer.id,
                                 external_id="s1", sku="CFQ7TTC0LF8Q",
                                 product_name="Microsoft 365 E3", quantity=Decimal(12),
                                 currency="USD", status="active")
        period = BillingPeriodRow(label=PERIOD, start_date=date(2026, 3, 1),
                                  end_date=date(2026, 3, 31))
        s.add_all([sub, period])
        s.flush()
        out.period_id = period.id

        def finding(name: str, kind: str, company: str | None, amount: str, actions: list,
                    status: str = "open", **extra: object) -> None:
            f = Finding(period_id=period.id, key=f"{kind}|pax8|{name}", kind=kind,
                        psa_company_id=out.companies.get(company) if company else None,
                        vendor_customer_id=vendor_customer.id, vendor_subscription_id=sub.id,
                        sku="CFQ7TTC0LF8Q", currency="USD", amount=Decimal(amount),
                        inputs_hash=f"hash-{name}", status=status,
                        action={"actions": actions},
                        explanation={"summary": f"{company or 'Unmapped Ltd'}: {name} explained",
                                     "lines": [1, 2]}, **extra)
            s.add(f)
            s.flush()
            out.findings[name] = f.id

        finding("drift", "quantity_drift", "Contoso", "24.13",
                [_set_qty("A1", "L1", "10", "12"),
                 _charge("A1", "24.13", "2", "12.065", "E3 true-up [TrueUp R-1]")],
                vendor_quantity=Decimal(12), psa_quantity=Decimal(10),
                unit_price=Decimal("12.065"), unit_cost=Decimal("10"))
        finding("approved", "annual_charge_missing", "Fabrikam, Inc.", "150.00",
                [_charge("A2", "150.00", "1", "150.00", "Annual E3 [TrueUp R-2]")],
                status="approved", effective_date=date(2026, 3, 1), note="ok by Ann")
        finding("credit", "billed_but_cancelled", "Contoso", "-7.50",
                [_charge("A1", "-7.50", "-1", "7.50", "Credit Defender [TrueUp R-3]")],
                status="approved")
        finding("rejected", "cost_change", "Fabrikam, Inc.", "0", [], status="rejected",
                note="=not a formula")
        finding("unmapped", "unmapped", None, "33.00", [])
        if evil:
            finding("evil", "quantity_drift", EVIL_NAMES[0], "1.50",
                    [_set_qty("A3", "L7", "1", "2")])
    return out
