"""Storing one complete PSA sync: companies, agreements, billing lines and products.

The whole snapshot is written in one transaction, after every page was read, so a failed or
cancelled sync leaves the previous state untouched. Rows the PSA no longer returns are marked
`missing_since`, never deleted: their mappings and history stay.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.sync.records import (
    PsaAgreementRecord,
    PsaBillingLineRecord,
    PsaCompanyRecord,
    PsaProductRecord,
)


@dataclass(frozen=True)
class PsaSnapshot:
    companies: list[PsaCompanyRecord]
    agreements: list[PsaAgreementRecord]
    lines: list[PsaBillingLineRecord]
    products: list[PsaProductRecord] = field(default_factory=list)
    complete: bool = True  # False for an incremental (changed-since) sync


@dataclass(frozen=True)
class StoreCounts:
    companies: int
    agreements: int
    lines: int
    products: int
    new_lines: int
    missing_lines: int
    skipped: list[str]


def _by_external(session: Session, model, connection_id: int) -> dict[str, object]:  # noqa: ANN001
    rows = session.scalars(select(model).where(model.connection_id == connection_id))
    return {row.external_id: row for row in rows}


def _assign(row: object, values: dict[str, object]) -> None:
    for key, value in values.items():
        if getattr(row, key) != value:
            setattr(row, key, value)


def store_psa_snapshot(session: Session, connection_id: int, snap: PsaSnapshot) -> StoreCounts:
    now = datetime.now(UTC)
    skipped: list[str] = []

    companies = _by_external(session, PsaCompany, connection_id)
    for rec in snap.companies:
        values = {"name": rec.name, "identifier": rec.identifier, "domain": rec.domain,
                  "status": rec.status}
        row = companies.get(rec.external_id)
        if row is None:
            row = PsaCompany(connection_id=connection_id, external_id=rec.external_id, **values)
            session.add(row)
            companies[rec.external_id] = row
        else:
            _assign(row, values)
    session.flush()

    agreements = _by_external(session, PsaAgreement, connection_id)
    seen_agreements: set[str] = set()
    for rec in snap.agreements:
        company = companies.get(rec.company_external_id)
        if company is None:
            skipped.append(f"agreement {rec.external_id}: company {rec.company_external_id} "
                           "was not returned by the PSA")
            continue
        seen_agreements.add(rec.external_id)
        values = {"company_id": company.id, "name": rec.name, "kind": rec.kind,
                  "type_name": rec.type_name, "billing_cycle": rec.billing_cycle,
                  "prorate": rec.prorate, "bill_one_time": rec.bill_one_time,
                  "start_date": rec.start_date, "end_date": rec.end_date, "active": rec.active,
                  "missing_since": None}
        row = agreements.get(rec.external_id)
        if row is None:
            row = PsaAgreement(connection_id=connection_id, external_id=rec.external_id, **values)
            session.add(row)
            agreements[rec.external_id] = row
        else:
            _assign(row, values)
    session.flush()

    lines = _by_external(session, PsaBillingLine, connection_id)
    seen_lines: set[str] = set()
    new_lines = 0
    for rec in snap.lines:
        agreement = agreements.get(rec.agreement_external_id)
        if agreement is None:
            skipped.append(f"line {rec.external_id}: agreement {rec.agreement_external_id} "
                           "is not active or was not returned")
            continue
        seen_lines.add(rec.external_id)
        values = {"agreement_id": agreement.id, "product_external_id": rec.product_external_id,
                  "description": rec.description, "invoice_description": rec.invoice_description,
                  "quantity": rec.quantity, "unit_price": rec.unit_price,
                  "unit_cost": rec.unit_cost, "effective_date": rec.effective_date,
                  "cancelled_date": rec.cancelled_date, "bill_customer": rec.bill_customer,
                  "is_one_time": rec.is_one_time, "last_updated": rec.last_updated,
                  "missing_since": None}
        row = lines.get(rec.external_id)
        if row is None:
            session.add(PsaBillingLine(connection_id=connection_id, external_id=rec.external_id,
                                       synced_at=now, **values))
            new_lines += 1
        else:
            _assign(row, values)
            row.synced_at = now

    missing = 0
    if snap.complete:
        for external_id, row in agreements.items():
            if external_id not in seen_agreements and row.missing_since is None:
                row.missing_since = now
        for external_id, row in lines.items():
            if external_id not in seen_lines and row.missing_since is None:
                row.missing_since = now
                missing += 1

    products = _by_external(session, PsaProduct, connection_id)
    for rec in snap.products:
        values = {"identifier": rec.identifier, "description": rec.description,
                  "price": rec.price, "cost": rec.cost}
        row = products.get(rec.external_id)
        if row is None:
            session.add(PsaProduct(connection_id=connection_id, external_id=rec.external_id,
                                   **values))
        else:
            _assign(row, values)
    session.flush()
    return StoreCounts(len(snap.companies), len(seen_agreements), len(seen_lines),
                       len(snap.products), new_lines, missing, skipped)


