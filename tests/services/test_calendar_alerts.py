"""Calendar data and alerts from a real workspace."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from app.models.activity import PushIntent
from app.models.connections import Connection, SyncRun
from app.models.mapping import CustomerMapping
from app.models.psa import PsaAgreement, PsaCompany
from app.models.vendor import (
    SeatLot,
    SubscriptionSnapshot,
    VendorCustomer,
    VendorInvoice,
    VendorSubscription,
)
from app.models.workspace import Workspace
from app.services.alerts import list_alerts, refresh_alerts
from app.services.calendar import calendar_events

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    with workspace.begin() as s:
        pax8 = Connection(name="Pax8", kind="pax8", side="vendor")
        cw = Connection(name="CW", kind="connectwise", side="psa")
        s.add_all([pax8, cw])
        s.flush()
        s.add_all([VendorInvoice(connection_id=pax8.id, external_id=f"I{m}",
                                 invoice_date=date(2025, m, 7), total=Decimal(1), currency="USD")
                   for m in (10, 11, 12)])
        contoso = VendorCustomer(connection_id=pax8.id, external_id="c1", name="Contoso")
        fabrikam = VendorCustomer(connection_id=pax8.id, external_id="c2", name="Fabrikam")
        company = PsaCompany(connection_id=cw.id, external_id="19", name="Contoso Ltd")
        s.add_all([contoso, fabrikam, company])
        s.flush()
        s.add(CustomerMapping(vendor_customer_id=contoso.id, psa_company_id=company.id,
                              method="manual", created_by="ann"))
        s.add(PsaAgreement(connection_id=cw.id, company_id=company.id, external_id="701",
                           name="Managed", kind="recurring", billing_cycle="Monthly"))
        sub = VendorSubscription(connection_id=pax8.id, customer_id=contoso.id, external_id="s1",
                                 sku="E3", product_name="Microsoft 365 E3", quantity=Decimal(12),
                                 currency="USD", term="P1Y", billing_frequency="Monthly",
                                 end_date=date(2026, 3, 20), status="Active")
        s.add(sub)
        s.flush()
        s.add(SeatLot(subscription_id=sub.id, quantity=Decimal(2), start_date=date(2026, 3, 9),
                      source="history", cancel_window_ends_at=NOW + timedelta(hours=20)))
        for qty in (Decimal(4), Decimal(12)):
            run = SyncRun(connection_id=pax8.id, status="complete")
            s.add(run)
            s.flush()
            s.add(SubscriptionSnapshot(sync_run_id=run.id, subscription_id=sub.id,
                                       quantity=qty, status="Active"))
    yield workspace
    workspace.close()


def test_calendar_lists_every_kind_of_event(ws):
    events = calendar_events(ws, date(2026, 3, 1), date(2026, 3, 31))
    kinds = {e.kind.value for e in events}
    assert kinds == {"vendor_invoice", "data_settled", "customer_invoice_run", "renewal",
                     "nce_window_closes", "reconciliation_deadline"}
    invoice = next(e for e in events if e.kind == "vendor_invoice")
    assert invoice.day == date(2026, 3, 7)  # learned from three invoices on the 7th
    assert [e.day for e in events] == sorted(e.day for e in events)
    only = calendar_events(ws, date(2026, 3, 1), date(2026, 3, 31), customer="contoso",
                           kinds={"renewal"})
    assert [(e.kind.value, e.day) for e in only] == [("renewal", date(2026, 3, 20))]
    with pytest.raises(ValueError, match="unknown event kind"):
        calendar_events(ws, date(2026, 3, 1), date(2026, 3, 31), kinds={"party"})


def test_alerts_are_raised_refreshed_and_resolved(ws):
    alerts = refresh_alerts(ws, NOW)
    kinds = sorted(a.kind for a in alerts)
    assert kinds == ["nce_window", "seat_change", "unmapped_customer", "unmapped_subscription"]
    assert any("Fabrikam" in a.message for a in alerts)
    assert len(refresh_alerts(ws, NOW)) == len(alerts)  # no duplicates
    with ws.begin() as s:
        s.add(PushIntent(key="k", marker="TU-k", connection_id=2, action_type="set_quantity",
                         entity="addition", state="CONFLICT", last_error="quantity changed"))
    later = refresh_alerts(ws, NOW + timedelta(days=2))
    assert "push_conflict" in {a.kind for a in later}
    assert "nce_window" not in {a.kind for a in later}  # the window has closed
    assert later[0].severity == "error"
    assert len(list_alerts(ws, include_resolved=True)) == len(later) + 1


def test_calendar_cli_json(ws, db_path):
    result = subprocess.run([sys.executable, "main.py", "--db", str(db_path), "calendar",
                             "--from", "2026-03-01", "--to", "2026-03-31", "--json"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    events = json.loads(result.stdout)
    assert {"date", "kind", "label", "title", "customer", "ref"} <= set(events[0])
    bad = subprocess.run([sys.executable, "main.py", "--db", str(db_path), "calendar",
                          "--from", "2026-03-31", "--to", "2026-03-01"],
                         cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "before it starts" in bad.stderr
