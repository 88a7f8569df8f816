"""Writers shared by auto map and manual mapping: create, re-point and audit mappings.

Both paths go through these functions, so a mapping made by a machine and one made by a
person are validated and audited the same way (who, when, before, after). Overrides live
here too: they are a mapping-step decision with the same audit trail.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.domain.matching import motion_of
from app.models.audit import record_audit
from app.models.connections import Connection
from app.models.mapping import (
    AgreementMapping,
    CustomerMapping,
    PriceOverride,
    ProductMapping,
    SubscriptionMapping,
)
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.vendor import VendorCustomer, VendorProduct, VendorSubscription
from app.services.mapping_queries import ONE_TIME_KINDS, MappingError, OverrideRow, resolve
from app.services.workspace import Workspace


@dataclass(frozen=True)
class MappingChange:
    """What one manual operation did; `warnings` are things a careful person should check."""

    kind: str
    action: str  # mapped | unmapped | unchanged
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    warnings: tuple[str, ...] = ()


# ---------------------------------------------------------------- shared writers

def conn_names(s: Session) -> dict[int, str]:
    return {r.id: r.name for r in s.execute(select(Connection.id, Connection.name))}


def cust_snap(s: Session, names: dict[int, str], m: CustomerMapping) -> dict[str, Any]:
    vc, pc = s.get(VendorCustomer, m.vendor_customer_id), s.get(PsaCompany, m.psa_company_id)
    return {"vendor_connection": names[vc.connection_id], "vendor_customer_id": vc.external_id,
            "vendor_customer": vc.name, "psa_connection": names[pc.connection_id],
            "psa_company_id": pc.external_id, "psa_company": pc.name, "method": m.method,
            "score": m.score}


def prod_snap(s: Session, names: dict[int, str], m: ProductMapping) -> dict[str, Any]:
    vp, pp = s.get(VendorProduct, m.vendor_product_id), s.get(PsaProduct, m.psa_product_id)
    return {"vendor_connection": names[vp.connection_id], "vendor_sku": vp.sku,
            "vendor_product": vp.name, "psa_connection": names[pp.connection_id],
            "psa_product_id": pp.external_id, "psa_product": pp.identifier, "method": m.method}


def pair_snap(s: Session, names: dict[int, str], m: SubscriptionMapping) -> dict[str, Any]:
    sub, line = s.get(VendorSubscription, m.vendor_subscription_id), s.get(
        PsaBillingLine, m.psa_billing_line_id)
    agreement = s.get(PsaAgreement, line.agreement_id)
    return {"vendor_connection": names[sub.connection_id],
            "vendor_subscription_id": sub.external_id, "sku": sub.sku,
            "quantity": sub.quantity, "psa_connection": names[line.connection_id],
            "psa_line_id": line.external_id, "psa_agreement_id": agreement.external_id,
            "psa_quantity": line.quantity, "method": m.method}


def agr_snap(s: Session, names: dict[int, str], m: AgreementMapping) -> dict[str, Any]:
    pc, a = s.get(PsaCompany, m.psa_company_id), s.get(PsaAgreement, m.psa_agreement_id)
    return {"psa_connection": names[pc.connection_id], "psa_company_id": pc.external_id,
            "psa_company": pc.name, "motion": m.motion, "psa_agreement_id": a.external_id,
            "psa_agreement": a.name, "agreement_kind": a.kind}


def audit(s: Session, user: str, action: str, entity: str, key: str,
          before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    record_audit(s, user=user, action=action, entity=entity, entity_id=key[:100],
                 before=before, after=after)


def put_customer(s: Session, names: dict[int, str], user: str, vc: VendorCustomer,
                 company_id: int, method: str, score: Decimal | None,
                 existing: CustomerMapping | None) -> tuple[CustomerMapping, list[str]]:
    """Create or re-point a customer mapping; pairs to the old company's lines go with it."""
    warnings: list[str] = []
    before = cust_snap(s, names, existing) if existing else None
    if existing is None:
        existing = CustomerMapping(vendor_customer_id=vc.id, psa_company_id=company_id,
                                   method=method, score=score, created_by=user)
        s.add(existing)
    else:
        warnings.append(drop_pairs(s, names, user, vc.id))
        existing.psa_company_id, existing.method, existing.score = company_id, method, score
        existing.created_by = user
    audit(s, user, "map" if before is None else "remap", "customer_mapping",
          f"{names[vc.connection_id]}:{vc.external_id}", before,
          cust_snap(s, names, existing))
    return existing, [w for w in warnings if w]


def drop_pairs(s: Session, names: dict[int, str], user: str, vendor_customer_id: int) -> str:
    pairs = s.scalars(select(SubscriptionMapping).join(
        VendorSubscription, SubscriptionMapping.vendor_subscription_id == VendorSubscription.id)
        .where(VendorSubscription.customer_id == vendor_customer_id)).all()
    for pair in pairs:
        sub = s.get(VendorSubscription, pair.vendor_subscription_id)
        audit(s, user, "unmap", "subscription_mapping",
              f"{names[sub.connection_id]}:{sub.external_id}", pair_snap(s, names, pair), None)
        s.delete(pair)
    return (f"removed {len(pairs)} subscription mapping(s) to the previous company's lines"
            if pairs else "")


def put_product(s: Session, names: dict[int, str], user: str, vp: VendorProduct,
                psa_product_id: int, method: str, existing: ProductMapping | None
                ) -> ProductMapping:
    before = prod_snap(s, names, existing) if existing else None
    if existing is None:
        existing = ProductMapping(vendor_product_id=vp.id, psa_product_id=psa_product_id,
                                  method=method, created_by=user)
        s.add(existing)
    else:
        existing.psa_product_id, existing.method, existing.created_by = (psa_product_id,
                                                                         method, user)
    audit(s, user, "map" if before is None else "remap", "product_mapping",
          f"{names[vp.connection_id]}:{vp.sku}", before, prod_snap(s, names, existing))
    return existing


def put_pair(s: Session, names: dict[int, str], user: str, sub: VendorSubscription,
             line: PsaBillingLine, method: str) -> tuple[SubscriptionMapping | None, list[str]]:
    """Pair a subscription with a line of the company its customer is mapped to — never
    with another customer's line. Returns (None, []) when the pair already exists."""
    vc = s.get(VendorCustomer, sub.customer_id)
    cm = s.scalar(select(CustomerMapping).where(CustomerMapping.vendor_customer_id == vc.id))
    if cm is None:
        raise MappingError(f"vendor customer {vc.external_id!r} ({vc.name}) of subscription "
                           f"{sub.external_id!r} is not mapped to a PSA company; map the "
                           "customer first")
    agreement = s.get(PsaAgreement, line.agreement_id)
    if agreement.company_id != cm.psa_company_id:
        owner, mapped = s.get(PsaCompany, agreement.company_id), s.get(PsaCompany,
                                                                       cm.psa_company_id)
        raise MappingError(
            f"refused: PSA line {line.external_id!r} is on agreement {agreement.external_id!r} "
            f"of {owner.name!r} ({owner.external_id}), but vendor customer {vc.name!r} is "
            f"mapped to {mapped.name!r} ({mapped.external_id})")
    if s.scalar(select(SubscriptionMapping).where(
            SubscriptionMapping.vendor_subscription_id == sub.id,
            SubscriptionMapping.psa_billing_line_id == line.id)) is not None:
        return None, []
    warnings = pair_warnings(s, sub, line, agreement)
    pair = SubscriptionMapping(vendor_subscription_id=sub.id, psa_billing_line_id=line.id,
                               method=method, created_by=user)
    s.add(pair)
    audit(s, user, "map", "subscription_mapping",
          f"{names[sub.connection_id]}:{sub.external_id}", None, pair_snap(s, names, pair))
    return pair, warnings


def pair_warnings(s: Session, sub: VendorSubscription, line: PsaBillingLine,
                  agreement: PsaAgreement) -> list[str]:
    warnings = []
    vp = s.scalar(select(VendorProduct).where(VendorProduct.connection_id == sub.connection_id,
                                              VendorProduct.sku == sub.sku))
    pm = vp and s.scalar(select(ProductMapping).where(ProductMapping.vendor_product_id == vp.id))
    if pm is not None:
        pp = s.get(PsaProduct, pm.psa_product_id)
        if line.product_external_id != pp.external_id:
            warnings.append(f"line {line.external_id} bills product "
                            f"{line.product_external_id!r}, SKU {sub.sku!r} maps to "
                            f"{pp.external_id!r} ({pp.identifier})")
    motion = motion_of(sub.term, sub.billing_frequency)
    one_time = line.is_one_time or agreement.kind in ONE_TIME_KINDS
    if (motion == "annual-annual") != one_time and motion != "usage":
        warnings.append(f"a {motion} subscription on a {'one-time' if one_time else 'recurring'}"
                        " line")
    if line.missing_since is not None or not agreement.active:
        warnings.append(f"line {line.external_id} or its agreement is no longer active in the PSA")
    return warnings


def ensure_vendor_products(s: Session) -> int:
    """A catalogue row for every SKU seen only in subscriptions, so it can be mapped (and
    is listed) like any other: an SKU is never dropped because the vendor has no catalogue."""
    known = {tuple(r) for r in s.execute(select(VendorProduct.connection_id, VendorProduct.sku))}
    added = 0
    for conn_id, sku, name in s.execute(
            select(VendorSubscription.connection_id, VendorSubscription.sku,
                   func.min(VendorSubscription.product_name))
            .group_by(VendorSubscription.connection_id, VendorSubscription.sku)):
        if (conn_id, sku) not in known:
            s.add(VendorProduct(connection_id=conn_id, sku=sku, name=name or sku))
            added += 1
    s.flush()
    return added


def vendor_customer(s: Session, ext: str, connection: str | None) -> VendorCustomer:
    return resolve(s, VendorCustomer, VendorCustomer.external_id, ext, connection,
                   "vendor customer", "vendor")


def psa_company(s: Session, ext: str, connection: str | None) -> PsaCompany:
    return resolve(s, PsaCompany, PsaCompany.external_id, ext, connection, "PSA company", "psa")


# ---------------------------------------------------------------- overrides

def override_target(s: Session, sku: str, psa_company_id: str | None,
                    psa_connection: str | None
                    ) -> tuple[PsaCompany | None, PriceOverride | None]:
    """The company (None: global) and its current override row; the SKU must be known."""
    known = select(VendorProduct.id).where(VendorProduct.sku == sku).union(
        select(VendorSubscription.id).where(VendorSubscription.sku == sku))
    if s.execute(known.limit(1)).first() is None:
        raise MappingError(f"no vendor SKU {sku!r}")
    company = psa_company(s, psa_company_id, psa_connection) if psa_company_id else None
    query = select(PriceOverride).where(PriceOverride.sku == sku)
    query = query.where(PriceOverride.psa_company_id == company.id if company else
                        PriceOverride.psa_company_id.is_(None))
    return company, s.scalar(query)


def override_row(o: PriceOverride, company: PsaCompany | None) -> OverrideRow:
    return OverrideRow(o.sku, company.external_id if company else None,
                       company.name if company else None, o.unit_price, o.description)


def set_override(ws: Workspace, user: str, sku: str, unit_price: Decimal | None = None,
                 description: str | None = None, psa_company_id: str | None = None, *,
                 psa_connection: str | None = None) -> OverrideRow:
    """Set the customer price and/or invoice description billed for a vendor SKU, for every
    customer (no company) or for one PSA company. A customer override wins field by field
    over the global one; a field not given keeps its current value."""
    if unit_price is None and description is None:
        raise MappingError("an override needs a price, a description or both")
    if unit_price is not None and (not isinstance(unit_price, Decimal)
                                   or not unit_price.is_finite() or unit_price < 0):
        raise MappingError(f"the price must be a non-negative decimal, not {unit_price!r}")
    with ws.begin() as s:
        company, row = override_target(s, sku, psa_company_id, psa_connection)
        before = None if row is None or not row.active else asdict_override(row, company)
        if row is None:
            row = PriceOverride(sku=sku, psa_company_id=company.id if company else None)
            s.add(row)
        elif not row.active:
            row.unit_price = row.description = None
        row.active = True
        if unit_price is not None:
            row.unit_price = unit_price
        if description is not None:
            row.description = description
        audit(s, user, "set", "price_override",
              f"{sku}@{company.external_id if company else '*'}", before,
              asdict_override(row, company))
        return override_row(row, company)


def remove_override(ws: Workspace, user: str, sku: str, psa_company_id: str | None = None, *,
                    psa_connection: str | None = None) -> None:
    with ws.begin() as s:
        company, row = override_target(s, sku, psa_company_id, psa_connection)
        if row is None or not row.active:
            where = f" for PSA company {psa_company_id!r}" if psa_company_id else " (global)"
            raise MappingError(f"no override for SKU {sku!r}{where}")
        before = asdict_override(row, company)
        row.active = False
        audit(s, user, "remove", "price_override",
              f"{sku}@{company.external_id if company else '*'}", before, None)


def asdict_override(o: PriceOverride, company: PsaCompany | None) -> dict[str, Any]:
    return {"sku": o.sku, "psa_company_id": company.external_id if company else None,
            "unit_price": o.unit_price, "description": o.description}
