"""A realistic workspace for the page tests and screenshots: a ConnectWise sandbox synced for
real over loopback, Pax8-like vendor data whose names almost match, auto map, a reconciled
period, approvals queued as push intents and a push that leaves each kind of outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from app.models import entities as m
from app.models.workspace import Workspace
from app.services.connections import add_connection
from app.services.findings import list_findings
from app.services.mapping import auto_map, set_override
from app.services.reconcile import reconcile_period
from app.services.review import decide
from app.services.sync import sync_connection
from app.sync.connectwise.sandbox import ConnectWiseSandbox

# PSA company name → the vendor's spelling of it (some exact, some only close).
VENDOR_NAMES = {
    "Acme Dental": "Acme Dental",
    "Birch & Vale Law": "Birch and Vale Law LLP",
    "Cobalt Logistics": "Cobalt Logistics Inc.",
    "Delta Orthopedics": "Delta Orthopaedics",
    "Evergreen Realty": "Evergreen Realty",
    "Fjord Architects": "Fjord Architects",
    "Granite Credit Union": "Granite Credit Union",
    "Harbor Veterinary": "Harbor Veterinary Clinic",
}
# PSA product identifier → the vendor's own SKU and name, where they differ.
VENDOR_SKUS = {"EXO-P1": ("CFQ7TTC0LH16", "Exchange Online Plan 1 (NCE)"),
               "TEAMS-ESS": ("CFQ7TTC0RHPD", "Teams Essentials (NCE)")}
SEAT_DRIFT = {0: 3, 4: 1, 6: 4, 11: -1, 13: 2, 17: 3, 18: -2}  # line index → vendor minus PSA seats


@dataclass
class Built:
    ws: Workspace
    sandbox: ConnectWiseSandbox
    period: str


def connect_cw(ws: Workspace, sandbox: ConnectWiseSandbox, url: str, name: str = "ConnectWise"
               ) -> None:
    kw = sandbox.connector_kwargs()
    add_connection(ws, name=name, kind="connectwise", base_url=url + sandbox.base_path,
                   settings={"company_id": kw["company_id"], "public_key": kw["public_key"],
                             "client_id": kw["client_id"]},
                   secret=kw["private_key"], user="ann")


def build(ws: Workspace, sandbox: ConnectWiseSandbox, url: str, today: date,
          *, push: bool = True) -> Built:
    connect_cw(ws, sandbox, url)
    assert sync_connection(ws, "ConnectWise").status == "complete"
    add_connection(ws, name="Pax8", kind="pax8", base_url="https://api.pax8.com/v1",
                   settings={"client_id": "pax8-client"}, secret="s3cret", user="ann")
    _vendor_side(ws, today)
    auto_map(ws, "ann", today=today)
    set_override(ws, "ann", "M365-BP", Decimal("24.75"), "Microsoft 365 Business Premium")
    period = f"{today:%Y-%m}"
    reconcile_period(ws, period, user="ann")
    findings = [f for f in list_findings(ws, period) if f.kind == "quantity_drift"]
    decide(ws, [f.id for f in findings], "approve", user="ann")
    if push:
        _push_with_every_outcome(ws, sandbox)
    return Built(ws, sandbox, period)


def _vendor_side(ws: Workspace, today: date) -> None:
    now = datetime.now(UTC)
    with ws.begin() as s:
        pax8 = s.scalar(select(m.Connection).where(m.Connection.name == "Pax8"))
        cw = s.scalar(select(m.Connection).where(m.Connection.name == "ConnectWise"))
        for n, day in enumerate((5, 5, 6)):
            month = (today.replace(day=1) - timedelta(days=28 * (n + 1))).replace(day=day)
            s.add(m.VendorInvoice(connection_id=pax8.id, external_id=f"INV-{n}",
                                  invoice_date=month, total=Decimal("4210.55"), currency="USD"))
        products = {p.external_id: p for p in s.scalars(
            select(m.PsaProduct).where(m.PsaProduct.connection_id == cw.id))}
        skus = {}
        for p in products.values():
            sku, name = VENDOR_SKUS.get(p.identifier, (p.identifier, p.description or p.identifier))
            skus[p.external_id] = (sku, name)
            s.add(m.VendorProduct(connection_id=pax8.id, sku=sku, name=name,
                                  vendor_name="Microsoft"))
        customers = {}
        for i, company in enumerate(s.scalars(select(m.PsaCompany).order_by(m.PsaCompany.id))):
            vc = m.VendorCustomer(connection_id=pax8.id, external_id=f"px-{1000 + i}",
                                  name=VENDOR_NAMES.get(company.name, company.name),
                                  status="Active")
            s.add(vc)
            customers[company.id] = vc
        s.add(m.VendorCustomer(connection_id=pax8.id, external_id="px-2001",
                               name="Northwind Traders", status="Active"))
        s.flush()
        lines = s.execute(select(m.PsaBillingLine, m.PsaAgreement)
                          .join(m.PsaAgreement, m.PsaAgreement.id == m.PsaBillingLine.agreement_id)
                          .order_by(m.PsaBillingLine.id)).all()
        for i, (line, agreement) in enumerate(lines):
            product = products.get(line.product_external_id or "")
            if product is None or agreement.kind != "recurring":
                continue
            qty = line.quantity + SEAT_DRIFT.get(i, 0)
            annual = i % 4 == 1
            end = (today + timedelta(days=9 + 3 * i)) if annual else None
            sub = m.VendorSubscription(
                connection_id=pax8.id, customer_id=customers[agreement.company_id].id,
                external_id=f"sub-{5000 + i}", sku=skus[product.external_id][0],
                product_name=skus[product.external_id][1], quantity=qty,
                unit_cost=line.unit_cost, currency="USD", term="P1Y" if annual else "P1M",
                billing_frequency="Monthly", start_date=date(2025, 1, 1), end_date=end,
                status="Active")
            s.add(sub)
            s.flush()
            s.add(m.SeatLot(subscription_id=sub.id, quantity=line.quantity,
                            start_date=date(2025, 1, 1), source="history",
                            unit_cost=line.unit_cost))
            change = SEAT_DRIFT.get(i, 0)
            if change:
                start = today.replace(day=min(today.day, 3))
                window = now + timedelta(days=2 + i % 5) if change > 0 else None
                s.add(m.SeatLot(subscription_id=sub.id, quantity=Decimal(change),
                                start_date=start, source="history", unit_cost=line.unit_cost,
                                cancel_window_ends_at=window))
        s.add(m.VendorSubscription(
            connection_id=pax8.id, customer_id=customers[next(iter(customers))].id,
            external_id="sub-9001", sku="AZURE-PLAN", product_name="Azure plan",
            quantity=Decimal(1), currency="USD", term="P1M", billing_frequency="Usage",
            start_date=date(2025, 6, 1), status="Active"))


def _push_with_every_outcome(ws: Workspace, sandbox: ConnectWiseSandbox) -> None:
    from app.services.push import push_approved, queue

    intents = [i for i in queue(ws) if i.action_type == "set_quantity"]
    if len(intents) >= 3:
        # Someone edits one line in the PSA after approval: that push must stop as a conflict.
        line_id = int(intents[1].target_ref["line"])
        sandbox.additions[line_id]["quantity"] = Decimal(intents[1].seen_state["quantity"]) + 5
        push_approved(ws, user="ann", only={intents[0].id, intents[1].id})
    with ws.begin() as s:
        if len(intents) >= 4:  # a push that timed out and has not been verified yet
            row = s.get(m.PushIntent, intents[2].id)
            row.state, row.last_error = "UNKNOWN", "ReadTimeout: the PSA did not answer in 30 s"
        if len(intents) >= 5:  # the PSA refused one: known not to have landed
            row = s.get(m.PushIntent, intents[3].id)
            row.state = "FAILED"
            row.last_error = ("PSA refused: HTTP 400 — effectiveDate must fall within the "
                              "agreement's start and end dates")
        runs = s.scalars(select(m.SyncRun)).all()
        for run in runs:
            run.started_at = run.started_at - timedelta(hours=3)
            run.finished_at = (run.finished_at or run.started_at) - timedelta(hours=3)
        pax8 = s.scalar(select(m.Connection).where(m.Connection.name == "Pax8"))
        started = datetime.now(UTC) - timedelta(hours=20)
        s.add(m.SyncRun(connection_id=pax8.id, status="failed", started_at=started,
                        finished_at=started + timedelta(seconds=41), counts={},
                        error="ConnectorError: Pax8 GET /subscriptions?page=3 answered HTTP "
                              "503 Service Unavailable after 4 attempts"))


INGRAM = dict(columns={"customer_id": "Kunde", "customer_name": "Name", "sku": "Artikel",
                       "quantity": "Menge", "unit_cost": "Preis", "charge_start": "Von",
                       "charge_end": "Bis"},
              constants={"currency": "EUR"}, delimiter=";", decimal_comma=True,
              date_formats=("%d/%m/%Y",))


def ingram_profile(ws: Workspace) -> None:
    from app.services.imports import ProfileSettings, create_profile

    create_profile(ws, "Ingram EU", "Ingram Micro", ProfileSettings(**INGRAM))


def ingram_file(folder, *, bad: bool = True):  # noqa: ANN001, ANN201
    """A semicolon file in the profile's layout; with `bad`, two rows have unreadable cells."""
    rows = ["K-1;Acme Dental;BKP-1TB;3;12,50;01/11/2026;30/11/2026",
            "K-2;Fjord Architects;MAIL-PRO;10;1,2345;01/11/2026;30/11/2026",
            "K-3;Granite Credit Union;BKP-1TB;25;12,50;01/11/2026;30/11/2026"]
    if bad:
        rows += ["K-4;Lumen Media;BKP-1TB;drei;12,50;01/11/2026;30/11/2026",
                 "K-5;Keystone Schools;MAIL-PRO;8;1,2345;2026-11-01;30/11/2026"]
    rows.append("K-6;Juniper Accounting;MAIL-PRO;4;1,2345;01/11/2026;30/11/2026")
    path = folder / ("ingram-november.csv" if bad else "ingram-clean.csv")
    path.write_text("\r\n".join(["Kunde;Name;Artikel;Menge;Preis;Von;Bis", *rows]) + "\r\n",
                    encoding="utf-8")
    return path
