"""Reading findings for the grid, the CLI and exports, as frozen rows.

One Core query with the customer names joined in; no ORM objects leave the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import aliased

from app.models.psa import PsaBillingLine, PsaCompany
from app.models.review import BillingPeriodRow, Finding
from app.models.vendor import VendorCustomer, VendorSubscription
from app.services.workspace import Workspace

KINDS = ("quantity_drift", "unbilled_subscription", "billed_but_cancelled", "cost_change",
         "negative_margin", "annual_charge_missing", "usage_charge", "vendor_invoice_mismatch",
         "unmapped")
STATUSES = ("open", "approved", "rejected", "deferred", "pushed", "failed")


@dataclass(frozen=True)
class FindingRow:
    id: int
    period: str
    kind: str
    status: str
    version: int
    vendor: str
    vendor_customer_id: str | None
    vendor_customer_name: str | None
    psa_company_id: str | None
    psa_company_name: str | None
    subscription_id: str | None
    psa_line_id: str | None
    sku: str | None
    product_name: str
    currency: str
    vendor_quantity: Decimal | None
    psa_quantity: Decimal | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    amount: Decimal
    actions: tuple[dict[str, Any], ...]
    effective_date: date | None
    note: str | None
    summary: str
    explanation: dict[str, Any]

    @property
    def customer_name(self) -> str:
        return self.psa_company_name or self.vendor_customer_name or ""

    def as_json(self) -> dict[str, Any]:
        """The CLI contract: one finding as `findings --json` prints it."""
        primary = self.actions[0] if self.actions else None
        return {
            "id": self.id, "period": self.period, "kind": self.kind,
            "customer": {"vendor_id": self.vendor_customer_id,
                         "vendor_name": self.vendor_customer_name,
                         "psa_id": self.psa_company_id, "psa_name": self.psa_company_name},
            "subscription_id": self.subscription_id, "psa_line_id": self.psa_line_id,
            "sku": self.sku, "product": self.product_name, "currency": self.currency,
            "vendor_quantity": self.vendor_quantity, "psa_quantity": self.psa_quantity,
            "unit_price": self.unit_price, "unit_cost": self.unit_cost, "amount": self.amount,
            "action": ({"type": primary["type"], **primary["desired"],
                        "effective_date": primary["effective_date"]} if primary else None),
            "actions": list(self.actions), "status": self.status, "version": self.version,
            "effective_date": self.effective_date, "note": self.note,
            "explanation": self.explanation,
        }


def list_findings(ws: Workspace, period: str | None = None, *, status: str | None = None,
                  kind: str | None = None, ids: list[int] | None = None,
                  with_explanation: bool = True) -> list[FindingRow]:
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown status {status!r}; one of {', '.join(STATUSES)}")
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(KINDS)}")
    company = aliased(PsaCompany)
    f = Finding.__table__.c
    # Core columns, not ORM entities: the grid lists 100,000 findings, and decoding each
    # stored explanation only to show its summary cost most of the time. The summary is
    # read from the JSON in SQL; the whole explanation only when asked for.
    explanation = f.explanation if with_explanation else \
        Finding.explanation["summary"].as_string()
    query = (select(f.id, BillingPeriodRow.label, f.kind, f.status, f.version, f.action,
                    VendorCustomer.external_id, VendorCustomer.name, company.external_id,
                    company.name, VendorSubscription.external_id, PsaBillingLine.external_id,
                    f.sku, f.currency, f.vendor_quantity, f.psa_quantity, f.unit_price,
                    f.unit_cost, f.amount, f.effective_date, f.note, explanation)
             .join(BillingPeriodRow, BillingPeriodRow.id == f.period_id)
             .outerjoin(VendorCustomer, VendorCustomer.id == f.vendor_customer_id)
             .outerjoin(company, company.id == f.psa_company_id)
             .outerjoin(VendorSubscription, VendorSubscription.id == f.vendor_subscription_id)
             .outerjoin(PsaBillingLine, PsaBillingLine.id == f.psa_billing_line_id)
             .order_by(f.id))
    if period is not None:
        query = query.where(BillingPeriodRow.label == period)
    if status is not None:
        query = query.where(f.status == status)
    if kind is not None:
        query = query.where(f.kind == kind)
    if ids is not None:
        query = query.where(f.id.in_(ids))
    rows = []
    with ws.begin() as s:
        for (finding_id, label, finding_kind, finding_status, version, action, vc_id, vc_name,
             pc_id, pc_name, sub_id, line_id, sku, currency, vendor_quantity, psa_quantity,
             unit_price, unit_cost, amount, effective_date, note, text) in s.execute(query):
            action = action or {}
            if with_explanation:
                details = dict(text or {})
                summary = str(details.get("summary", ""))
            else:
                details, summary = {}, text or ""
            rows.append(FindingRow(
                finding_id, label, finding_kind, finding_status, version,
                action.get("vendor", ""), vc_id, vc_name, pc_id, pc_name,
                sub_id or action.get("vendor_subscription"), line_id, sku,
                action.get("product_name", ""), currency, vendor_quantity, psa_quantity,
                unit_price, unit_cost, amount, tuple(action.get("actions", [])),
                effective_date, note, summary, details))
    return rows
