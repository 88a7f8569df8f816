"""Mapping use cases (DESIGN.md §1 step 3): the one API the Mapping screen and `trueup map` use.

Exact evidence maps automatically (`auto_map`), fuzzy evidence only suggests — guessing wrong
costs money — and a person confirms, rejects or maps by hand. Ids in and out are each
system's own ids, as `map list --json` shows them; a mapping made by hand is never replaced by
auto map, and every change is audited with before and after.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.matching import MOTIONS, motion_of
from app.models.mapping import (
    AgreementMapping,
    CustomerMapping,
    MappingSuggestion,
    ProductMapping,
    SubscriptionMapping,
)
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.vendor import VendorCustomer, VendorProduct, VendorSubscription
from app.services.mapping_auto import AutoMapReport, auto_map
from app.services.mapping_queries import (
    ONE_TIME_KINDS,
    MappingError,
    MappingOverview,
    MappingState,
    OverrideRow,
    UnmappedItem,
    list_mappings,
    resolve,
)
from app.services.mapping_writes import (
    MappingChange,
    agr_snap,
    audit,
    conn_names,
    cust_snap,
    drop_pairs,
    ensure_vendor_products,
    pair_snap,
    prod_snap,
    psa_company,
    put_customer,
    put_pair,
    put_product,
    remove_override,
    set_override,
    vendor_customer,
)
from app.services.workspace import Workspace

__all__ = [
    "MOTIONS", "AutoMapReport", "MappingChange", "MappingError", "MappingOverview",
    "OverrideRow", "SuggestionView", "UnmappedItem", "accept_suggestion", "auto_map",
    "list_mappings", "list_suggestions", "map_agreement", "map_customer", "map_product",
    "map_subscription", "motion_of", "reject_suggestion", "remove_override", "set_override",
    "unmap_agreement", "unmap_customer", "unmap_product", "unmap_subscription",
]


@dataclass(frozen=True)
class SuggestionView:
    id: int
    kind: str
    status: str
    score: Decimal
    reason: str
    vendor_connection: str
    vendor_id: str
    vendor_name: str
    psa_connection: str
    psa_id: str
    psa_name: str


def list_suggestions(ws: Workspace, status: str = "pending") -> list[SuggestionView]:
    """Suggestions in `status` (pending by default; "all" for every one), best score first."""
    if status not in ("pending", "accepted", "rejected", "all"):
        raise MappingError(f"unknown suggestion status {status!r}")
    with ws.begin() as s:
        st = MappingState(s)
        rows = [r for r in st.suggestions.values() if status == "all" or r.status == status]
        rows.sort(key=lambda r: (r.kind, -r.score, r.id))
        return [suggestion_view(st, r) for r in rows]


def suggestion_view(st: MappingState, r: MappingSuggestion) -> SuggestionView:
    vconn, vid, vname = st.vendor_ref(r.kind, r.vendor_ref)
    pconn, pid, pname = st.psa_ref(r.kind, r.psa_ref)
    return SuggestionView(r.id, r.kind, r.status, r.score, r.reason, vconn, vid, vname, pconn,
                          pid, pname)


def map_customer(ws: Workspace, user: str, vendor_customer_id: str, psa_company_id: str, *,
                 connection: str | None = None, psa_connection: str | None = None
                 ) -> MappingChange:
    """Map (or re-map) a vendor customer by hand; a manual mapping is never auto-replaced."""
    with ws.begin() as s:
        names = conn_names(s)
        vc = vendor_customer(s, vendor_customer_id, connection)
        pc = psa_company(s, psa_company_id, psa_connection)
        existing = s.scalar(select(CustomerMapping).where(
            CustomerMapping.vendor_customer_id == vc.id))
        if existing is not None and existing.psa_company_id == pc.id:
            snap = cust_snap(s, names, existing)
            return MappingChange("customer", "unchanged", snap, snap)
        before = cust_snap(s, names, existing) if existing else None
        m, warnings = put_customer(s, names, user, vc, pc.id, "manual", None, existing)
        return MappingChange("customer", "mapped", before, cust_snap(s, names, m),
                             tuple(warnings))


def unmap_customer(ws: Workspace, user: str, vendor_customer_id: str, *,
                   connection: str | None = None) -> MappingChange:
    """Remove a customer mapping and the subscription pairs that depended on it."""
    with ws.begin() as s:
        names = conn_names(s)
        vc = vendor_customer(s, vendor_customer_id, connection)
        m = s.scalar(select(CustomerMapping).where(CustomerMapping.vendor_customer_id == vc.id))
        if m is None:
            raise MappingError(f"vendor customer {vendor_customer_id!r} is not mapped")
        before = cust_snap(s, names, m)
        dropped = drop_pairs(s, names, user, vc.id)
        audit(s, user, "unmap", "customer_mapping", f"{names[vc.connection_id]}:"
              f"{vc.external_id}", before, None)
        s.delete(m)
        return MappingChange("customer", "unmapped", before, None,
                             (dropped,) if dropped else ())


def _vendor_product(s: Session, sku: str, connection: str | None) -> VendorProduct:
    ensure_vendor_products(s)
    return resolve(s, VendorProduct, VendorProduct.sku, sku, connection, "vendor SKU", "vendor")


def map_product(ws: Workspace, user: str, vendor_sku: str, psa_product_id: str, *,
                connection: str | None = None, psa_connection: str | None = None
                ) -> MappingChange:
    """Map a vendor SKU (Partner Center: "PRODUCTID:SKUID") to a PSA catalogue item id."""
    with ws.begin() as s:
        names = conn_names(s)
        vp = _vendor_product(s, vendor_sku, connection)
        pp = resolve(s, PsaProduct, PsaProduct.external_id, psa_product_id, psa_connection,
                     "PSA product", "psa")
        existing = s.scalar(select(ProductMapping).where(
            ProductMapping.vendor_product_id == vp.id))
        before = prod_snap(s, names, existing) if existing else None
        if existing is not None and existing.psa_product_id == pp.id:
            return MappingChange("product", "unchanged", before, before)
        m = put_product(s, names, user, vp, pp.id, "manual", existing)
        return MappingChange("product", "mapped", before, prod_snap(s, names, m))


def unmap_product(ws: Workspace, user: str, vendor_sku: str, *,
                  connection: str | None = None) -> MappingChange:
    with ws.begin() as s:
        names = conn_names(s)
        vp = _vendor_product(s, vendor_sku, connection)
        m = s.scalar(select(ProductMapping).where(ProductMapping.vendor_product_id == vp.id))
        if m is None:
            raise MappingError(f"vendor SKU {vendor_sku!r} is not mapped")
        before = prod_snap(s, names, m)
        audit(s, user, "unmap", "product_mapping", f"{names[vp.connection_id]}:{vp.sku}",
              before, None)
        s.delete(m)
        return MappingChange("product", "unmapped", before, None)


def _subscription(s: Session, ext: str, connection: str | None) -> VendorSubscription:
    return resolve(s, VendorSubscription, VendorSubscription.external_id, ext, connection,
                   "vendor subscription", "vendor")


def _line(s: Session, ext: str, connection: str | None) -> PsaBillingLine:
    return resolve(s, PsaBillingLine, PsaBillingLine.external_id, ext, connection,
                   "PSA billing line", "psa")


def map_subscription(ws: Workspace, user: str, vendor_subscription_id: str, psa_line_id: str,
                     *, connection: str | None = None, psa_connection: str | None = None
                     ) -> MappingChange:
    """Add one subscription–line pair. Call it again with another line (one-to-many) or
    another subscription (many-to-one); the line must be on the mapped company's agreement."""
    with ws.begin() as s:
        names = conn_names(s)
        sub = _subscription(s, vendor_subscription_id, connection)
        line = _line(s, psa_line_id, psa_connection)
        pair, warnings = put_pair(s, names, user, sub, line, "manual")
        if pair is None:
            return MappingChange("subscription", "unchanged", None, None)
        return MappingChange("subscription", "mapped", None, pair_snap(s, names, pair),
                             tuple(warnings))


def unmap_subscription(ws: Workspace, user: str, vendor_subscription_id: str,
                       psa_line_id: str | None = None, *, connection: str | None = None,
                       psa_connection: str | None = None) -> MappingChange:
    """Remove one pair, or every pair of the subscription when no line is given."""
    with ws.begin() as s:
        names = conn_names(s)
        sub = _subscription(s, vendor_subscription_id, connection)
        query = select(SubscriptionMapping).where(
            SubscriptionMapping.vendor_subscription_id == sub.id)
        if psa_line_id is not None:
            query = query.where(SubscriptionMapping.psa_billing_line_id
                                == _line(s, psa_line_id, psa_connection).id)
        pairs = s.scalars(query).all()
        if not pairs:
            raise MappingError(f"vendor subscription {vendor_subscription_id!r} is not mapped"
                               + (f" to line {psa_line_id!r}" if psa_line_id else ""))
        before = [pair_snap(s, names, p) for p in pairs]
        for pair, snap in zip(pairs, before, strict=True):
            audit(s, user, "unmap", "subscription_mapping",
                  f"{names[sub.connection_id]}:{sub.external_id}", snap, None)
            s.delete(pair)
        return MappingChange("subscription", "unmapped", {"pairs": before}, None)


def map_agreement(ws: Workspace, user: str, psa_company_id: str, motion: str,
                  psa_agreement_id: str, *, psa_connection: str | None = None,
                  force: bool = False) -> MappingChange:
    """Choose the agreement that bills one motion for a company.

    A/A belongs on a one-time or fixed-price agreement, M/M and A/M on a recurring one. A
    misfit is refused when the company has a fitting live agreement (pass `force` to insist),
    and accepted with a warning when it has none. Inactive agreements need `force` too.
    """
    if motion not in MOTIONS:
        raise MappingError(f"unknown billing motion {motion!r}; one of {', '.join(MOTIONS)}")
    with ws.begin() as s:
        names = conn_names(s)
        pc = psa_company(s, psa_company_id, psa_connection)
        agreement = resolve(s, PsaAgreement, PsaAgreement.external_id, psa_agreement_id,
                            psa_connection, "PSA agreement", "psa")
        if agreement.company_id != pc.id:
            owner = s.get(PsaCompany, agreement.company_id)
            raise MappingError(f"refused: agreement {psa_agreement_id!r} belongs to "
                               f"{owner.name!r} ({owner.external_id}), not {pc.name!r} "
                               f"({pc.external_id})")
        warnings = _agreement_fit(s, pc, agreement, motion, force)
        existing = s.scalar(select(AgreementMapping).where(
            AgreementMapping.psa_company_id == pc.id, AgreementMapping.motion == motion))
        before = agr_snap(s, names, existing) if existing else None
        if existing is not None and existing.psa_agreement_id == agreement.id:
            return MappingChange("agreement", "unchanged", before, before, tuple(warnings))
        if existing is None:
            existing = AgreementMapping(psa_company_id=pc.id, motion=motion,
                                        psa_agreement_id=agreement.id)
            s.add(existing)
        else:
            existing.psa_agreement_id = agreement.id
        s.flush()
        after = agr_snap(s, names, existing)
        audit(s, user, "map" if before is None else "remap", "agreement_mapping",
              f"{names[pc.connection_id]}:{pc.external_id}:{motion}", before,
              after | {"method": "manual"})
        return MappingChange("agreement", "mapped", before, after, tuple(warnings))


def _agreement_fit(s: Session, pc: PsaCompany, agreement: PsaAgreement, motion: str,
                   force: bool) -> list[str]:
    live = agreement.active and agreement.missing_since is None
    if not live and not force:
        raise MappingError(f"refused: agreement {agreement.external_id!r} ({agreement.name}) "
                           "is not active; pass --force to map it anyway")
    if motion == "usage":
        return []
    wants_one_time = motion == "annual-annual"
    if (agreement.kind in ONE_TIME_KINDS) == wants_one_time:
        return []
    wanted = "one-time or fixed-price" if wants_one_time else "recurring"
    fitting = [a for a in s.scalars(select(PsaAgreement).where(
        PsaAgreement.company_id == pc.id, PsaAgreement.active.is_(True),
        PsaAgreement.missing_since.is_(None)).order_by(PsaAgreement.id))
        if (a.kind in ONE_TIME_KINDS) == wants_one_time]
    if fitting and not force:
        listed = ", ".join(f"{a.external_id} ({a.name})" for a in fitting)
        raise MappingError(f"refused: {motion} belongs on a {wanted} agreement and "
                           f"{pc.name!r} has {listed}; agreement {agreement.external_id!r} is "
                           f"{agreement.kind}. Pass --force to map it anyway")
    return [f"{motion} mapped to {agreement.kind} agreement {agreement.external_id}"
            + ("" if fitting else f": {pc.name!r} has no live {wanted} agreement")]


def unmap_agreement(ws: Workspace, user: str, psa_company_id: str, motion: str, *,
                    psa_connection: str | None = None) -> MappingChange:
    with ws.begin() as s:
        names = conn_names(s)
        pc = psa_company(s, psa_company_id, psa_connection)
        m = s.scalar(select(AgreementMapping).where(AgreementMapping.psa_company_id == pc.id,
                                                    AgreementMapping.motion == motion))
        if m is None:
            raise MappingError(f"no agreement is mapped for {motion!r} at PSA company "
                               f"{psa_company_id!r}")
        before = agr_snap(s, names, m)
        audit(s, user, "unmap", "agreement_mapping",
              f"{names[pc.connection_id]}:{pc.external_id}:{motion}", before, None)
        s.delete(m)
        return MappingChange("agreement", "unmapped", before, None)


# ---------------------------------------------------------------- suggestions

def _suggestion(s: Session, suggestion_id: int) -> MappingSuggestion:
    row = s.get(MappingSuggestion, suggestion_id)
    if row is None:
        raise MappingError(f"no mapping suggestion #{suggestion_id}")
    if row.status != "pending":
        raise MappingError(f"suggestion #{suggestion_id} is already {row.status}")
    return row


def accept_suggestion(ws: Workspace, user: str, suggestion_id: int) -> MappingChange:
    """Turn a suggestion into a mapping (method "suggestion"); its rivals become moot."""
    with ws.begin() as s:
        names, row = conn_names(s), _suggestion(s, suggestion_id)
        if row.kind == "customer":
            vc = s.get(VendorCustomer, row.vendor_ref)
            existing = s.scalar(select(CustomerMapping).where(
                CustomerMapping.vendor_customer_id == vc.id))
            if existing is not None:
                raise MappingError(f"vendor customer {vc.external_id!r} is already mapped; "
                                   "unmap it first or map it by hand")
            m, _ = put_customer(s, names, user, vc, row.psa_ref, "suggestion", row.score, None)
            change = MappingChange("customer", "mapped", None, cust_snap(s, names, m))
        elif row.kind == "product":
            vp = s.get(VendorProduct, row.vendor_ref)
            if s.scalar(select(ProductMapping).where(
                    ProductMapping.vendor_product_id == vp.id)) is not None:
                raise MappingError(f"vendor SKU {vp.sku!r} is already mapped; unmap it first "
                                   "or map it by hand")
            pm = put_product(s, names, user, vp, row.psa_ref, "suggestion", None)
            change = MappingChange("product", "mapped", None, prod_snap(s, names, pm))
        else:
            sub, line = s.get(VendorSubscription, row.vendor_ref), s.get(PsaBillingLine,
                                                                         row.psa_ref)
            pair, warnings = put_pair(s, names, user, sub, line, "suggestion")
            change = MappingChange("subscription", "mapped" if pair else "unchanged", None,
                                   pair_snap(s, names, pair) if pair else None,
                                   tuple(warnings))
        if row.kind != "subscription":  # one vendor item, one mapping: rivals are moot
            for rival in s.scalars(select(MappingSuggestion).where(
                    MappingSuggestion.kind == row.kind, MappingSuggestion.status == "pending",
                    MappingSuggestion.vendor_ref == row.vendor_ref,
                    MappingSuggestion.id != row.id)):
                s.delete(rival)
        _decide(s, user, row, "accepted")
        return change


def reject_suggestion(ws: Workspace, user: str, suggestion_id: int) -> None:
    """Reject a pair for good: auto map never suggests nor maps it again."""
    with ws.begin() as s:
        _decide(s, user, _suggestion(s, suggestion_id), "rejected")


def _decide(s: Session, user: str, row: MappingSuggestion, status: str) -> None:
    st_names = conn_names(s)
    vendor_model, psa_model = {"customer": (VendorCustomer, PsaCompany),
                               "product": (VendorProduct, PsaProduct)}.get(
        row.kind, (VendorSubscription, PsaBillingLine))
    vendor, psa = s.get(vendor_model, row.vendor_ref), s.get(psa_model, row.psa_ref)
    before = {"kind": row.kind, "status": row.status, "score": row.score, "reason": row.reason,
              "vendor_connection": st_names[vendor.connection_id],
              "vendor_id": getattr(vendor, "external_id", None) or vendor.sku,
              "psa_connection": st_names[psa.connection_id], "psa_id": psa.external_id}
    row.status = status
    audit(s, user, {"accepted": "accept", "rejected": "reject"}[status], "mapping_suggestion",
          str(row.id), before, before | {"status": status})
