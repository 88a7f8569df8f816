"""What a vendor item can be mapped to by hand: PSA companies, products, lines, agreements.

The Mapping screen offers these as a searchable list so a person picks a target by name
instead of typing a PSA id; the map_* use cases still validate every choice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from app.models.connections import Connection
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.services.workspace import Workspace


@dataclass(frozen=True)
class MappingTarget:
    connection: str
    id: str  # the PSA's own id, as the map_* use cases take it
    name: str
    detail: str = ""  # a second line: domain, identifier, agreement, quantity


def psa_companies(ws: Workspace) -> list[MappingTarget]:
    with ws.begin() as s:
        rows = s.execute(select(PsaCompany, Connection.name)
                         .join(Connection, Connection.id == PsaCompany.connection_id)
                         .order_by(PsaCompany.name))
        return [MappingTarget(conn, c.external_id, c.name,
                              " · ".join(x for x in (c.identifier, c.domain) if x))
                for c, conn in rows]


def psa_products(ws: Workspace) -> list[MappingTarget]:
    with ws.begin() as s:
        rows = s.execute(select(PsaProduct, Connection.name)
                         .join(Connection, Connection.id == PsaProduct.connection_id)
                         .order_by(PsaProduct.identifier))
        return [MappingTarget(conn, p.external_id, p.description or p.identifier, p.identifier)
                for p, conn in rows]


def psa_lines(ws: Workspace, psa_company_id: str | None = None) -> list[MappingTarget]:
    """Live billing lines (optionally of one company), each with its agreement and seats."""
    query = (select(PsaBillingLine, PsaAgreement, PsaCompany, Connection.name)
             .join(PsaAgreement, PsaAgreement.id == PsaBillingLine.agreement_id)
             .join(PsaCompany, PsaCompany.id == PsaAgreement.company_id)
             .join(Connection, Connection.id == PsaBillingLine.connection_id)
             .where(PsaBillingLine.missing_since.is_(None))
             .order_by(PsaCompany.name, PsaAgreement.name, PsaBillingLine.external_id))
    if psa_company_id is not None:
        query = query.where(PsaCompany.external_id == psa_company_id)
    with ws.begin() as s:
        return [MappingTarget(conn, line.external_id,
                              line.description or line.product_external_id or line.external_id,
                              f"{company.name} · {agreement.name} · ×{_qty(line.quantity)}")
                for line, agreement, company, conn in s.execute(query)]


def psa_agreements(ws: Workspace, psa_company_id: str) -> list[MappingTarget]:
    with ws.begin() as s:
        rows = s.execute(select(PsaAgreement, Connection.name)
                         .join(PsaCompany, PsaCompany.id == PsaAgreement.company_id)
                         .join(Connection, Connection.id == PsaAgreement.connection_id)
                         .where(PsaCompany.external_id == psa_company_id)
                         .order_by(PsaAgreement.name))
        return [MappingTarget(conn, a.external_id, a.name,
                              f"{a.kind.replace('_', ' ')}" + ("" if a.active else " · inactive"))
                for a, conn in rows]


def _qty(value: Decimal) -> str:
    normal = value.normalize()
    return f"{normal:f}"
