"""Reading the mapping state: ids resolved, rows for the Mapping screen, the unmapped queue.

The whole vendor/PSA picture of a workspace is loaded once into `MappingState` (a few
thousand rows) so auto map and the queue share one definition of "candidate line",
"active" and "why is this unmapped" — and nothing unmapped can slip out of the queue.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.matching import motion_of
from app.models.connections import Connection
from app.models.mapping import (
    AgreementMapping,
    CustomerMapping,
    MappingSuggestion,
    PriceOverride,
    ProductMapping,
    SubscriptionMapping,
)
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.vendor import VendorCustomer, VendorProduct, VendorSubscription
from app.services.workspace import Workspace

# Ended subscriptions leave the queue; anything else (Suspended, PendingCancel...) may bill.
# "Missing" is the vendor store's status for a subscription a complete sync no longer returns.
INACTIVE_SUBSCRIPTION = frozenset({"cancelled", "canceled", "deleted", "expired", "disabled",
                                   "inactive", "ended", "terminated", "missing", "converted"})
ONE_TIME_KINDS = frozenset({"one_time", "fixed_price"})


class MappingError(ValueError):
    """A mapping request that cannot be honoured; the message names the id and the reason."""


@dataclass(frozen=True)
class CustomerRow:
    vendor_connection: str
    vendor_customer_id: str
    vendor_customer_name: str
    vendor_domain: str | None
    psa_connection: str
    psa_company_id: str
    psa_company_name: str
    method: str
    score: Decimal | None


@dataclass(frozen=True)
class ProductRow:
    vendor_connection: str
    vendor_sku: str
    vendor_product_name: str
    psa_connection: str
    psa_product_id: str
    psa_product_identifier: str
    psa_product_description: str | None
    method: str


@dataclass(frozen=True)
class SubscriptionRow:
    vendor_connection: str
    vendor_subscription_id: str
    vendor_customer_id: str
    sku: str
    product_name: str
    quantity: Decimal
    motion: str
    psa_connection: str
    psa_line_id: str
    psa_agreement_id: str
    psa_company_id: str
    psa_line_description: str | None
    psa_quantity: Decimal
    method: str


@dataclass(frozen=True)
class AgreementRow:
    psa_connection: str
    psa_company_id: str
    psa_company_name: str
    motion: str
    psa_agreement_id: str
    psa_agreement_name: str
    agreement_kind: str


@dataclass(frozen=True)
class OverrideRow:
    sku: str
    psa_company_id: str | None  # None: the global override
    psa_company_name: str | None
    unit_price: Decimal | None
    description: str | None


@dataclass(frozen=True)
class UnmappedItem:
    """One entry of the mapping queue: what is unmapped, and why."""

    kind: str  # customer | product | subscription | agreement
    connection: str
    id: str  # the vendor's own id (for agreement: the PSA company id)
    name: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MappingOverview:
    customers: list[CustomerRow]
    products: list[ProductRow]
    subscriptions: list[SubscriptionRow]
    agreements: list[AgreementRow]
    overrides: list[OverrideRow]
    unmapped: list[UnmappedItem]



class MappingState:
    """Every row the mapping rules look at, indexed, inside one session."""

    def __init__(self, s: Session, today: date | None = None) -> None:
        self.session = s
        self.today = today or date.today()
        self.conn = {c.id: c.name for c in s.scalars(select(Connection))}
        self.vcustomers = {r.id: r for r in s.scalars(select(VendorCustomer))}
        self.vproducts = {r.id: r for r in s.scalars(select(VendorProduct))}
        self.vproduct_by_sku = {(r.connection_id, r.sku): r.id for r in self.vproducts.values()}
        self.subs = {r.id: r for r in s.scalars(select(VendorSubscription))}
        self.companies = {r.id: r for r in s.scalars(select(PsaCompany))}
        self.agreements = {r.id: r for r in s.scalars(select(PsaAgreement))}
        self.lines = {r.id: r for r in s.scalars(select(PsaBillingLine))}
        self.pproducts = {r.id: r for r in s.scalars(select(PsaProduct))}
        self.pproduct_by_ext = {(r.connection_id, r.external_id): r.id
                                for r in self.pproducts.values()}
        self.cust_map = {r.vendor_customer_id: r for r in s.scalars(select(CustomerMapping))}
        self.prod_map = {r.vendor_product_id: r for r in s.scalars(select(ProductMapping))}
        self.sub_pairs: dict[int, list[SubscriptionMapping]] = defaultdict(list)
        self.line_pairs: dict[int, list[SubscriptionMapping]] = defaultdict(list)
        for r in s.scalars(select(SubscriptionMapping).order_by(SubscriptionMapping.id)):
            self.add_pair(r)
        self.agr_map = {(r.psa_company_id, r.motion): r
                        for r in s.scalars(select(AgreementMapping))}
        self.suggestions = {(r.kind, r.vendor_ref, r.psa_ref): r
                            for r in s.scalars(select(MappingSuggestion))}
        self.lines_by_product: dict[tuple[int, int, str], list[int]] = defaultdict(list)
        for line in sorted(self.lines.values(), key=lambda r: r.id):
            agreement = self.agreements[line.agreement_id]
            if line.product_external_id and self.line_usable(line):
                key = (agreement.company_id, line.connection_id, line.product_external_id)
                self.lines_by_product[key].append(line.id)

    def add_pair(self, pair: SubscriptionMapping) -> None:
        self.sub_pairs[pair.vendor_subscription_id].append(pair)
        self.line_pairs[pair.psa_billing_line_id].append(pair)

    # ------------------------------------------------------------ what counts as live
    @staticmethod
    def agreement_active(a: PsaAgreement) -> bool:
        return a.active and a.missing_since is None

    def line_usable(self, line: PsaBillingLine) -> bool:
        """A line that can bill a subscription: present in the PSA, on a live agreement, not
        cancelled — except one-time charges, which end by design and stay pairable."""
        agreement = self.agreements[line.agreement_id]
        if line.missing_since is not None or not self.agreement_active(agreement):
            return False
        one_time = line.is_one_time or agreement.kind in ONE_TIME_KINDS
        return one_time or line.cancelled_date is None or line.cancelled_date >= self.today

    @staticmethod
    def sub_active(sub: VendorSubscription) -> bool:
        return (sub.status or "").strip().lower() not in INACTIVE_SUBSCRIPTION

    @staticmethod
    def motion(sub: VendorSubscription) -> str:
        return motion_of(sub.term, sub.billing_frequency)

    # ------------------------------------------------------------ subscription candidates
    def company_of(self, sub: VendorSubscription) -> int | None:
        mapping = self.cust_map.get(sub.customer_id)
        return mapping.psa_company_id if mapping else None

    def psa_product_of(self, sub: VendorSubscription) -> int | None:
        vp = self.vproduct_by_sku.get((sub.connection_id, sub.sku))
        mapping = self.prod_map.get(vp) if vp is not None else None
        return mapping.psa_product_id if mapping else None

    def group_of(self, sub: VendorSubscription) -> tuple[Any, ...] | None:
        """(company, PSA product, agreement or agreement kind): subscriptions in one group
        compete for the same lines. None until customer and product are mapped."""
        company, product = self.company_of(sub), self.psa_product_of(sub)
        if company is None or product is None:
            return None
        motion = self.motion(sub)
        chosen = self.agr_map.get((company, motion))
        if chosen is not None:
            return (company, product, chosen.psa_agreement_id)
        fit = {"annual-annual": "one_time", "usage": "any"}.get(motion, "recurring")
        return (company, product, fit)

    def candidate_lines(self, group: tuple[Any, ...]) -> list[int]:
        company, product_id, target = group
        product = self.pproducts[product_id]
        found = []
        for line_id in self.lines_by_product.get(
                (company, product.connection_id, product.external_id), ()):
            line = self.lines[line_id]
            agreement = self.agreements[line.agreement_id]
            one_time = line.is_one_time or agreement.kind in ONE_TIME_KINDS
            if (isinstance(target, int) and agreement.id == target) or target == "any" or (
                    target == "one_time" and one_time) or (
                    target == "recurring" and not one_time):
                found.append(line_id)
        return found

    # ------------------------------------------------------------ naming helpers
    def vendor_ref(self, kind: str, ref: int) -> tuple[str, str, str]:
        """(connection, own id, name) of a suggestion's vendor side."""
        if kind == "customer":
            r = self.vcustomers.get(ref)
            return (self.conn[r.connection_id], r.external_id, r.name) if r else ("", "", "?")
        if kind == "product":
            p = self.vproducts.get(ref)
            return (self.conn[p.connection_id], p.sku, p.name) if p else ("", "", "?")
        sub = self.subs.get(ref)
        return ((self.conn[sub.connection_id], sub.external_id,
                 f"{sub.product_name} ×{sub.quantity}") if sub else ("", "", "?"))

    def psa_ref(self, kind: str, ref: int) -> tuple[str, str, str]:
        if kind == "customer":
            c = self.companies.get(ref)
            return (self.conn[c.connection_id], c.external_id, c.name) if c else ("", "", "?")
        if kind == "product":
            p = self.pproducts.get(ref)
            return ((self.conn[p.connection_id], p.external_id,
                     p.description or p.identifier) if p else ("", "", "?"))
        line = self.lines.get(ref)
        return ((self.conn[line.connection_id], line.external_id,
                 f"{line.description or line.product_external_id} ×{line.quantity}")
                if line else ("", "", "?"))

    def index_suggestions(self) -> None:
        """Suggestions by vendor item, for the queue's reasons (call after they change)."""
        self.by_vendor: dict[tuple[str, int], list[MappingSuggestion]] = defaultdict(list)
        for (kind, ref, _), row in self.suggestions.items():
            self.by_vendor[(kind, ref)].append(row)

    def pending_for(self, kind: str, ref: int) -> list[MappingSuggestion]:
        return sorted((r for r in self.by_vendor.get((kind, ref), ()) if r.status == "pending"),
                      key=lambda r: (-r.score, r.id or 0))

    def rejected(self, kind: str, ref: int, psa: int) -> bool:
        row = self.suggestions.get((kind, ref, psa))
        return row is not None and row.status == "rejected"

    def vendor_skus(self) -> dict[tuple[int, str], str]:
        """Every SKU the vendor side knows, from its catalogue and its subscriptions."""
        skus = {(p.connection_id, p.sku): p.name for p in self.vproducts.values()}
        for sub in self.subs.values():
            skus.setdefault((sub.connection_id, sub.sku), sub.product_name)
        return skus


def resolve(s: Session, model: Any, column: Any, value: str, connection: str | None,
            what: str, side: str) -> Any:
    """The one row whose own id is `value`; a clear error when none or several match."""
    query = (select(model, Connection.name).join(Connection, model.connection_id == Connection.id)
             .where(column == value).order_by(Connection.name))
    if connection is not None:
        query = query.where(Connection.name == connection)
    rows = s.execute(query).all()
    where = f" in connection {connection!r}" if connection else ""
    if not rows:
        raise MappingError(f"no {what} with id {value!r}{where}")
    if len(rows) > 1:
        names = ", ".join(name for _, name in rows)
        flag = "--connection" if side == "vendor" else "--psa-connection"
        raise MappingError(f"{what} {value!r} exists in several {side} connections ({names}); "
                           f"pass {flag} NAME to choose one")
    return rows[0][0]


def list_mappings(ws: Workspace, unmapped_only: bool = False, *,
                  today: date | None = None) -> MappingOverview:
    """Everything mapped, with both sides' own ids and names, and the unmapped queue."""
    with ws.begin() as s:
        st = MappingState(s, today)
        queue = unmapped_queue(st)
        if unmapped_only:
            return MappingOverview([], [], [], [], [], queue)
        return MappingOverview(_customer_rows(st), _product_rows(st), _subscription_rows(st),
                               _agreement_rows(st), _override_rows(s, st), queue)


def unmapped_queue(st: MappingState) -> list[UnmappedItem]:
    """Every unmapped vendor customer, SKU and active subscription, and every billing motion
    a mapped company needs but has no agreement for — each with the reason."""
    items = []
    st.index_suggestions()
    for vc in sorted(st.vcustomers.values(), key=lambda r: (r.name.lower(), r.id)):
        if vc.id not in st.cust_map:
            items.append(UnmappedItem("customer", st.conn[vc.connection_id], vc.external_id,
                                      vc.name, _why(st, "customer", vc.id),
                                      {"domain": vc.domain, "status": vc.status}))
    for (conn_id, sku), name in sorted(st.vendor_skus().items(), key=lambda kv: kv[0]):
        vp = st.vproduct_by_sku.get((conn_id, sku))
        if vp is None:
            items.append(UnmappedItem("product", st.conn[conn_id], sku, name,
                                      "seen only in subscriptions; run `map auto` or map by "
                                      "hand"))
        elif vp not in st.prod_map:
            items.append(UnmappedItem("product", st.conn[conn_id], sku, name,
                                      _why(st, "product", vp)))
    needed: dict[int, set[str]] = defaultdict(set)
    for sub in sorted(st.subs.values(), key=lambda r: (r.customer_id, r.external_id)):
        if not st.sub_active(sub):
            continue
        company = st.company_of(sub)
        if company is not None:
            needed[company].add(st.motion(sub))
        if sub.id not in st.sub_pairs:
            vc = st.vcustomers[sub.customer_id]
            items.append(UnmappedItem(
                "subscription", st.conn[sub.connection_id], sub.external_id,
                f"{vc.name}: {sub.product_name} ×{sub.quantity}", _why_sub(st, sub),
                {"customer_id": vc.external_id, "sku": sub.sku, "quantity": sub.quantity,
                 "motion": st.motion(sub), "status": sub.status}))
    for company_id in sorted(needed, key=lambda c: st.companies[c].name.lower()):
        pc = st.companies[company_id]
        for motion in sorted(needed[company_id]):
            reason = _why_agreement(st, company_id, motion)
            if reason:
                items.append(UnmappedItem("agreement", st.conn[pc.connection_id],
                                          pc.external_id, f"{pc.name}: {motion}", reason,
                                          {"motion": motion}))
    return items


def _why(st: MappingState, kind: str, ref: int) -> str:
    pending = st.pending_for(kind, ref)
    if pending:
        best = pending[0]
        return (f"awaiting confirmation: {len(pending)} suggestion(s), best "
                f"{st.psa_ref(kind, best.psa_ref)[2]!r} (score {best.score}, #{best.id})")
    if any(r.status == "rejected" for r in st.by_vendor.get((kind, ref), ())):
        return "every suggestion was rejected; map by hand"
    evidence = "domain or name" if kind == "customer" else "SKU or name"
    what = "PSA company" if kind == "customer" else "PSA product"
    return f"no {what} with the same {evidence} and no close match; map by hand"


def _why_sub(st: MappingState, sub: VendorSubscription) -> str:
    vc = st.vcustomers[sub.customer_id]
    if st.company_of(sub) is None:
        return f"customer {vc.name!r} ({vc.external_id}) is not mapped to a PSA company"
    if st.psa_product_of(sub) is None:
        return f"product {sub.sku!r} is not mapped to a PSA product"
    pending = st.pending_for("subscription", sub.id)
    if pending:
        return (f"awaiting confirmation: {len(pending)} suggestion(s), best line "
                f"{st.psa_ref('subscription', pending[0].psa_ref)[1]} (#{pending[0].id})")
    group = st.group_of(sub)
    assert group is not None
    if not st.candidate_lines(group):
        company, product = st.companies[group[0]], st.pproducts[group[1]]
        return (f"no active {st.motion(sub)} billing line for {product.identifier!r} on "
                f"{company.name!r}'s agreements (unbilled: reconciliation proposes adding one)")
    return "several subscriptions or lines compete, or suggestions were rejected; map by hand"


def _why_agreement(st: MappingState, company_id: int, motion: str) -> str | None:
    chosen = st.agr_map.get((company_id, motion))
    if chosen is not None:
        agreement = st.agreements[chosen.psa_agreement_id]
        if st.agreement_active(agreement):
            return None
        return f"mapped agreement {agreement.external_id} ({agreement.name}) is no longer active"
    live = [a for a in st.agreements.values()
            if a.company_id == company_id and st.agreement_active(a)]
    recurring = sum(1 for a in live if a.kind not in ONE_TIME_KINDS)
    one_time = len(live) - recurring
    return (f"no agreement chosen for {motion}: the company has {recurring} active recurring "
            f"and {one_time} one-time/fixed-price agreement(s)")


def _customer_rows(st: MappingState) -> list[CustomerRow]:
    rows = []
    for m in st.cust_map.values():
        vc, pc = st.vcustomers[m.vendor_customer_id], st.companies[m.psa_company_id]
        rows.append(CustomerRow(st.conn[vc.connection_id], vc.external_id, vc.name, vc.domain,
                                st.conn[pc.connection_id], pc.external_id, pc.name, m.method,
                                m.score))
    return sorted(rows, key=lambda r: (r.vendor_customer_name.lower(), r.vendor_customer_id))


def _product_rows(st: MappingState) -> list[ProductRow]:
    rows = []
    for m in st.prod_map.values():
        vp, pp = st.vproducts[m.vendor_product_id], st.pproducts[m.psa_product_id]
        rows.append(ProductRow(st.conn[vp.connection_id], vp.sku, vp.name,
                               st.conn[pp.connection_id], pp.external_id, pp.identifier,
                               pp.description, m.method))
    return sorted(rows, key=lambda r: (r.vendor_product_name.lower(), r.vendor_sku))


def _subscription_rows(st: MappingState) -> list[SubscriptionRow]:
    rows = []
    for pairs in st.sub_pairs.values():
        for m in pairs:
            sub, line = st.subs[m.vendor_subscription_id], st.lines[m.psa_billing_line_id]
            agreement = st.agreements[line.agreement_id]
            rows.append(SubscriptionRow(
                st.conn[sub.connection_id], sub.external_id,
                st.vcustomers[sub.customer_id].external_id, sub.sku, sub.product_name,
                sub.quantity, st.motion(sub), st.conn[line.connection_id], line.external_id,
                agreement.external_id, st.companies[agreement.company_id].external_id,
                line.description, line.quantity, m.method))
    return sorted(rows, key=lambda r: (r.vendor_customer_id, r.vendor_subscription_id,
                                       r.psa_line_id))


def _agreement_rows(st: MappingState) -> list[AgreementRow]:
    rows = []
    for (company_id, motion), m in st.agr_map.items():
        pc, agreement = st.companies[company_id], st.agreements[m.psa_agreement_id]
        rows.append(AgreementRow(st.conn[pc.connection_id], pc.external_id, pc.name, motion,
                                 agreement.external_id, agreement.name, agreement.kind))
    return sorted(rows, key=lambda r: (r.psa_company_name.lower(), r.motion))


def _override_rows(s: Session, st: MappingState) -> list[OverrideRow]:
    rows = []
    for o in s.scalars(select(PriceOverride).where(PriceOverride.active.is_(True))):
        company = st.companies.get(o.psa_company_id) if o.psa_company_id else None
        rows.append(OverrideRow(o.sku, company.external_id if company else None,
                                company.name if company else None, o.unit_price,
                                o.description))
    return sorted(rows, key=lambda r: (r.sku, r.psa_company_id or ""))

