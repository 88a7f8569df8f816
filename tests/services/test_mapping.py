"""Mapping through the services on a real SQLite workspace built row by row with the ORM."""

from __future__ import annotations

import time
from datetime import date
from decimal import Decimal
from itertools import count

import pytest
from sqlalchemy import func, select

from app.models.activity import AuditEntry
from app.models.connections import Connection
from app.models.mapping import (
    AgreementMapping,
    CustomerMapping,
    MappingSuggestion,
    PriceOverride,
    SubscriptionMapping,
)
from app.models.psa import PsaAgreement, PsaBillingLine, PsaCompany, PsaProduct
from app.models.vendor import VendorCustomer, VendorProduct, VendorSubscription
from app.models.workspace import Workspace
from app.services import mapping as svc
from app.services.mapping import MappingError

TODAY = date(2026, 11, 21)


class Build:
    """Small workspaces through the ORM: ids returned are the rows' own external ids."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.ids = count(1)
        self.conns: dict[str, int] = {}

    def conn(self, name: str, kind: str = "pax8", side: str = "vendor") -> int:
        if name not in self.conns:
            with self.ws.begin() as s:
                row = Connection(name=name, kind=kind, side=side, settings={})
                s.add(row)
                s.flush()
                self.conns[name] = row.id
        return self.conns[name]

    def _add(self, row):  # noqa: ANN001, ANN202
        with self.ws.begin() as s:
            s.add(row)
            s.flush()
            return row.id

    def _id(self, model, external_id: str, conn: str):  # noqa: ANN001, ANN202
        with self.ws.begin() as s:
            return s.scalar(select(model.id).where(model.external_id == external_id,
                                                   model.connection_id == self.conns[conn]))

    def customer(self, ext: str, name: str, domain: str | None = None, conn: str = "Pax8") -> str:
        self._add(VendorCustomer(connection_id=self.conn(conn), external_id=ext, name=name,
                                 domain=domain))
        return ext

    def company(self, ext: str, name: str, domain: str | None = None, conn: str = "CW") -> str:
        self._add(PsaCompany(connection_id=self.conn(conn, "connectwise", "psa"),
                             external_id=ext, name=name, domain=domain))
        return ext

    def agreement(self, ext: str, company: str, kind: str = "recurring", active: bool = True,
                  conn: str = "CW") -> str:
        self._add(PsaAgreement(connection_id=self.conn(conn, "connectwise", "psa"),
                               company_id=self._id(PsaCompany, company, conn), external_id=ext,
                               name=f"{kind} {ext}", kind=kind, active=active))
        return ext

    def product(self, ext: str, identifier: str, description: str | None = None,
                conn: str = "CW") -> str:
        self._add(PsaProduct(connection_id=self.conn(conn, "connectwise", "psa"),
                             external_id=ext, identifier=identifier, description=description))
        return ext

    def vendor_product(self, sku: str, name: str, conn: str = "Pax8") -> str:
        self._add(VendorProduct(connection_id=self.conn(conn), sku=sku, name=name))
        return sku

    def line(self, ext: str, agreement: str, product: str, quantity: int | str,
             one_time: bool = False, conn: str = "CW") -> str:
        self._add(PsaBillingLine(connection_id=self.conn(conn, "connectwise", "psa"),
                                 agreement_id=self._id(PsaAgreement, agreement, conn),
                                 external_id=ext, product_external_id=product,
                                 description=f"line {ext}", quantity=Decimal(quantity),
                                 is_one_time=one_time, effective_date=date(2026, 1, 1)))
        return ext

    def sub(self, ext: str, customer: str, sku: str, quantity: int | str, *,
            term: str | None = "P1M", frequency: str | None = "Monthly", status: str = "Active",
            conn: str = "Pax8") -> str:
        self._add(VendorSubscription(
            connection_id=self.conn(conn), customer_id=self._id(VendorCustomer, customer, conn),
            external_id=ext, sku=sku, product_name=f"Product {sku}", quantity=Decimal(quantity),
            unit_cost=Decimal("10.5"), unit_price=None, currency="USD", term=term,
            billing_frequency=frequency, status=status))
        return ext


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


@pytest.fixture()
def b(ws):
    return Build(ws)


def _customer_map(ws, ext: str) -> tuple[str, str] | None:
    with ws.begin() as s:
        row = s.execute(select(PsaCompany.external_id, CustomerMapping.method)
                        .join(CustomerMapping, CustomerMapping.psa_company_id == PsaCompany.id)
                        .join(VendorCustomer,
                              VendorCustomer.id == CustomerMapping.vendor_customer_id)
                        .where(VendorCustomer.external_id == ext)).first()
        return tuple(row) if row else None


def _pairs(ws) -> set[tuple[str, str]]:
    with ws.begin() as s:
        query = (select(VendorSubscription.external_id, PsaBillingLine.external_id)
                 .join(SubscriptionMapping,
                       SubscriptionMapping.vendor_subscription_id == VendorSubscription.id)
                 .join(PsaBillingLine,
                       PsaBillingLine.id == SubscriptionMapping.psa_billing_line_id))
        return {tuple(r) for r in s.execute(query)}


def _audit(ws, entity: str | None = None) -> list[AuditEntry]:
    with ws.begin() as s:
        query = select(AuditEntry).order_by(AuditEntry.id)
        if entity:
            query = query.where(AuditEntry.entity == entity)
        return list(s.scalars(query))


def _auto(ws):
    return svc.auto_map(ws, "ann", today=TODAY)


# ---------------------------------------------------------------- customers

def test_auto_maps_by_domain_and_by_normalised_name(ws, b):
    b.customer("v1", "Contoso Pharma", domain="https://www.contoso.com")
    b.customer("v2", "Müller GmbH")
    b.customer("v3", "Contoso, Inc.")
    b.company("c1", "Contoso Pharmaceuticals", domain="contoso.com")
    b.company("c2", "Muller")
    b.company("c3", "CONTOSO INC", domain="other.example")
    report = _auto(ws)
    assert _customer_map(ws, "v1") == ("c1", "domain")
    assert _customer_map(ws, "v2") == ("c2", "name")
    assert _customer_map(ws, "v3") == ("c3", "name")
    assert report.customers_mapped == 3 and report.unmapped_customers == 0


def test_fuzzy_is_a_suggestion_not_a_mapping(ws, b):
    b.customer("v1", "Northwnd Traders")
    b.company("c1", "Northwind Traders LLC")
    report = _auto(ws)
    assert _customer_map(ws, "v1") is None
    assert report.suggestions_created == 1 and report.unmapped_customers == 1
    [sug] = svc.list_suggestions(ws)
    assert (sug.kind, sug.vendor_id, sug.psa_id) == ("customer", "v1", "c1")
    assert 85 <= sug.score < 100 and "Northwnd" in sug.reason


def test_a_tie_is_suggested_never_mapped(ws, b):
    b.customer("v1", "Fabrikam Ltd")
    b.company("c1", "Fabrikam")
    b.company("c2", "FABRIKAM LIMITED")
    _auto(ws)
    assert _customer_map(ws, "v1") is None
    assert {s.psa_id for s in svc.list_suggestions(ws)} == {"c1", "c2"}
    [item] = svc.list_mappings(ws, unmapped_only=True).unmapped
    assert item.kind == "customer" and "awaiting confirmation: 2 suggestion(s)" in item.reason


def test_mailbox_domains_never_match(ws, b):
    b.customer("v1", "Alpha Bakery", domain="alpha@gmail.com")
    b.company("c1", "Zeta Shipping", domain="https://gmail.com")
    _auto(ws)
    assert _customer_map(ws, "v1") is None


def test_accept_and_reject_and_rejected_never_suggested_again(ws, b):
    b.customer("v1", "Fabrikam Ltd")
    b.company("c1", "Fabrikam")
    b.company("c2", "FABRIKAM LIMITED")
    _auto(ws)
    first, second = sorted(svc.list_suggestions(ws), key=lambda s: s.psa_id)
    svc.reject_suggestion(ws, "ann", first.id)
    _auto(ws)
    # c1 was rejected: c2 is now the only exact match, but the pair c1 never comes back
    assert _customer_map(ws, "v1") == ("c2", "name")
    assert [s.psa_id for s in svc.list_suggestions(ws, "rejected")] == ["c1"]
    assert svc.list_suggestions(ws) == []
    with pytest.raises(MappingError, match="already rejected"):
        svc.accept_suggestion(ws, "ann", first.id)
    assert second.id not in {s.id for s in svc.list_suggestions(ws, "all")}  # moot, removed


def test_accepting_maps_with_method_suggestion_and_drops_rivals(ws, b):
    b.customer("v1", "Fabrikam Ltd")
    b.company("c1", "Fabrikam")
    b.company("c2", "FABRIKAM LIMITED")
    _auto(ws)
    chosen = next(s for s in svc.list_suggestions(ws) if s.psa_id == "c2")
    change = svc.accept_suggestion(ws, "bob", chosen.id)
    assert change.after["psa_company_id"] == "c2" and change.after["method"] == "suggestion"
    assert _customer_map(ws, "v1") == ("c2", "suggestion")
    assert svc.list_suggestions(ws) == []
    actions = [(e.action, e.entity, e.user) for e in _audit(ws)]
    assert ("map", "customer_mapping", "bob") in actions
    assert ("accept", "mapping_suggestion", "bob") in actions


def test_auto_map_never_overwrites_a_manual_mapping(ws, b):
    b.customer("v1", "Contoso", domain="contoso.com")
    b.company("c1", "Contoso", domain="contoso.com")
    b.company("c2", "Someone Else")
    svc.map_customer(ws, "ann", "v1", "c2")
    report = _auto(ws)
    assert _customer_map(ws, "v1") == ("c2", "manual")
    assert report.customers_mapped == 0 and svc.list_suggestions(ws) == []


def test_manual_customer_mapping_is_audited_with_before_and_after(ws, b):
    b.customer("v1", "Contoso")
    b.company("c1", "Contoso")
    b.company("c2", "Contoso Holdings")
    svc.map_customer(ws, "ann", "v1", "c1")
    change = svc.map_customer(ws, "bob", "v1", "c2")
    assert change.before["psa_company_id"] == "c1" and change.after["psa_company_id"] == "c2"
    assert svc.map_customer(ws, "bob", "v1", "c2").action == "unchanged"
    entries = _audit(ws, "customer_mapping")
    assert [(e.action, e.user) for e in entries] == [("map", "ann"), ("remap", "bob")]
    assert entries[1].before["psa_company_id"] == "c1"
    assert entries[1].after["psa_company_id"] == "c2" and entries[0].entity_id == "Pax8:v1"
    svc.unmap_customer(ws, "cy", "v1")
    assert _customer_map(ws, "v1") is None
    assert _audit(ws, "customer_mapping")[-1].after is None


def test_unknown_and_ambiguous_ids_are_named(ws, b):
    b.customer("42", "Contoso", conn="Pax8")
    b.customer("42", "Contoso", conn="Partner Center")
    b.company("c1", "Contoso")
    with pytest.raises(MappingError, match=r"no vendor customer with id 'nope'"):
        svc.map_customer(ws, "ann", "nope", "c1")
    with pytest.raises(MappingError, match=r"no PSA company with id 'zz'"):
        svc.map_customer(ws, "ann", "42", "zz", connection="Pax8")
    with pytest.raises(MappingError, match=r"several vendor connections \(Partner Center, "
                                           r"Pax8\); pass --connection"):
        svc.map_customer(ws, "ann", "42", "c1")
    assert svc.map_customer(ws, "ann", "42", "c1", connection="Pax8").action == "mapped"
    with pytest.raises(MappingError, match="no mapping suggestion #999"):
        svc.accept_suggestion(ws, "ann", 999)


# ---------------------------------------------------------------- products

def test_products_map_by_sku_and_by_name_and_fuzzy_only_suggests(ws, b):
    b.vendor_product("MST-365-E3", "Microsoft 365 E3")
    b.vendor_product("CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic")
    b.vendor_product("EXO-P1", "Exchange Online (Plan 1)")
    b.product("p1", "MST365E3", "M365 E3 seat")
    b.product("p2", "M365-BB", "Microsoft 365 Business Basic")
    b.product("p3", "EXO1", "Exchange Online Plan1")
    report = _auto(ws)
    rows = {r.vendor_sku: (r.psa_product_id, r.method) for r in svc.list_mappings(ws).products}
    assert rows == {"MST-365-E3": ("p1", "sku"), "CFQ7TTC0LH18:0001": ("p2", "name")}
    assert report.products_mapped == 2
    [sug] = svc.list_suggestions(ws)
    assert (sug.kind, sug.vendor_id, sug.psa_id) == ("product", "EXO-P1", "p3")


def test_skus_seen_only_in_subscriptions_are_queued_and_mappable(ws, b):
    b.customer("v1", "Contoso")
    b.sub("s1", "v1", "ODD-SKU", 3)
    queue = svc.list_mappings(ws, unmapped_only=True).unmapped
    assert ("product", "ODD-SKU") in {(i.kind, i.id) for i in queue}
    b.product("p9", "Something else entirely")
    assert svc.map_product(ws, "ann", "ODD-SKU", "p9").after["psa_product_id"] == "p9"


# ---------------------------------------------------------------- subscriptions

def _billing_world(b: Build) -> None:
    b.customer("v1", "Contoso", domain="contoso.com")
    b.company("c1", "Contoso", domain="contoso.com")
    b.agreement("a1", "c1")
    b.vendor_product("E3", "Microsoft 365 E3")
    b.product("p1", "E3", "Microsoft 365 E3")


def test_one_subscription_one_line_maps_automatically(ws, b):
    _billing_world(b)
    b.line("l1", "a1", "p1", 10)
    b.sub("s1", "v1", "E3", 10)
    report = _auto(ws)
    assert _pairs(ws) == {("s1", "l1")}
    assert report.subscriptions_mapped == 1 and report.unmapped_subscriptions == 0
    assert report.agreements_mapped == 2  # M/M and A/M → the one recurring agreement
    [row] = svc.list_mappings(ws).subscriptions
    assert (row.psa_company_id, row.psa_agreement_id, row.method) == ("c1", "a1", "auto")


def test_several_subscriptions_and_lines_are_paired_by_quantity_as_suggestions(ws, b):
    _billing_world(b)
    b.line("l1", "a1", "p1", 5)
    b.line("l2", "a1", "p1", 20)
    b.sub("s1", "v1", "E3", 19)
    b.sub("s2", "v1", "E3", 5, term="P1Y")  # A/M shares the recurring agreement
    _auto(ws)
    assert _pairs(ws) == set()
    pairs = {(s.vendor_id, s.psa_id) for s in svc.list_suggestions(ws)
             if s.kind == "subscription"}
    assert pairs == {("s1", "l2"), ("s2", "l1")}


def test_mapping_a_line_of_another_company_is_refused(ws, b):
    _billing_world(b)
    b.company("c2", "Fabrikam")
    b.agreement("a2", "c2")
    b.line("l9", "a2", "p1", 10)
    b.sub("s1", "v1", "E3", 10)
    with pytest.raises(MappingError, match="not mapped to a PSA company"):
        svc.map_subscription(ws, "ann", "s1", "l9")
    svc.map_customer(ws, "ann", "v1", "c1")
    with pytest.raises(MappingError, match=r"refused: PSA line 'l9' is on agreement 'a2' of "
                                           r"'Fabrikam'.*mapped to 'Contoso'"):
        svc.map_subscription(ws, "ann", "s1", "l9")
    assert _pairs(ws) == set()


def test_one_to_many_and_many_to_one(ws, b):
    _billing_world(b)
    b.line("l1", "a1", "p1", 10)
    b.line("l2", "a1", "p1", 5)
    b.sub("s1", "v1", "E3", 15)
    b.sub("s2", "v1", "E3", 3)
    svc.map_customer(ws, "ann", "v1", "c1")
    svc.map_subscription(ws, "ann", "s1", "l1")
    svc.map_subscription(ws, "ann", "s1", "l2")  # one subscription, two lines
    svc.map_subscription(ws, "ann", "s2", "l2")  # two subscriptions, one line
    assert svc.map_subscription(ws, "ann", "s2", "l2").action == "unchanged"
    assert _pairs(ws) == {("s1", "l1"), ("s1", "l2"), ("s2", "l2")}
    _auto(ws)  # leaves them alone
    assert _pairs(ws) == {("s1", "l1"), ("s1", "l2"), ("s2", "l2")}
    svc.unmap_subscription(ws, "ann", "s1", "l2")
    assert _pairs(ws) == {("s1", "l1"), ("s2", "l2")}
    assert len(_audit(ws, "subscription_mapping")) == 4


def test_annual_annual_takes_its_one_time_charges(ws, b):
    _billing_world(b)
    b.agreement("a9", "c1", kind="one_time")
    b.line("l1", "a1", "p1", 10)
    b.line("o1", "a9", "p1", 25, one_time=True)
    b.line("o2", "a9", "p1", 5, one_time=True)
    b.sub("s1", "v1", "E3", 10)
    b.sub("s2", "v1", "E3", 30, term="P1Y", frequency="Annual")
    _auto(ws)
    assert _pairs(ws) == {("s1", "l1"), ("s2", "o1"), ("s2", "o2")}
    agreements = {(r.motion, r.psa_agreement_id) for r in svc.list_mappings(ws).agreements}
    assert agreements == {("monthly", "a1"), ("annual-monthly", "a1"),
                          ("annual-annual", "a9")}


def test_cancelled_subscriptions_are_not_queued_but_unmapped_active_ones_are(ws, b):
    _billing_world(b)
    b.sub("s1", "v1", "E3", 10)
    b.sub("s2", "v1", "E3", 4, status="Cancelled")
    _auto(ws)
    subs = [i for i in svc.list_mappings(ws, unmapped_only=True).unmapped
            if i.kind == "subscription"]
    assert [i.id for i in subs] == ["s1"] and "no active monthly billing line" in subs[0].reason


# ---------------------------------------------------------------- agreements

def test_agreement_motion_auto_map_needs_exactly_one_candidate(ws, b):
    b.customer("v1", "Contoso")
    b.company("c1", "Contoso")
    b.agreement("a1", "c1")
    b.agreement("a2", "c1")
    b.agreement("a3", "c1", kind="fixed_price")
    b.agreement("a4", "c1", kind="one_time", active=False)
    b.sub("s1", "v1", "E3", 1)
    report = _auto(ws)
    assert {(r.motion, r.psa_agreement_id) for r in svc.list_mappings(ws).agreements} == {
        ("annual-annual", "a3")}
    assert report.unmapped_agreements == 1  # monthly: two recurring agreements
    entries = _audit(ws, "agreement_mapping")
    assert entries[0].after["method"] == "auto"


def test_map_agreement_refuses_a_misfit_when_a_fitting_one_exists(ws, b):
    b.company("c1", "Contoso")
    b.company("c2", "Fabrikam")
    b.agreement("a1", "c1")
    b.agreement("a2", "c1", kind="one_time")
    b.agreement("a3", "c2")
    with pytest.raises(MappingError, match=r"annual-annual belongs on a one-time or "
                                           r"fixed-price agreement.*a2"):
        svc.map_agreement(ws, "ann", "c1", "annual-annual", "a1")
    forced = svc.map_agreement(ws, "ann", "c1", "annual-annual", "a1", force=True)
    assert forced.warnings and forced.action == "mapped"
    with pytest.raises(MappingError, match="belongs to 'Fabrikam'"):
        svc.map_agreement(ws, "ann", "c1", "monthly", "a3")
    with pytest.raises(MappingError, match="unknown billing motion"):
        svc.map_agreement(ws, "ann", "c1", "weekly", "a1")
    # a misfit at a company with no fitting agreement is allowed, with a warning
    change = svc.map_agreement(ws, "ann", "c2", "annual-annual", "a3")
    assert change.action == "mapped" and "no live one-time" in change.warnings[0]


# ---------------------------------------------------------------- overrides

def test_overrides_global_and_per_customer(ws, b):
    b.customer("v1", "Contoso")
    b.company("c1", "Contoso")
    b.sub("s1", "v1", "E3", 1)
    svc.set_override(ws, "ann", "E3", unit_price=Decimal("36.0000"), description="M365 E3")
    svc.set_override(ws, "ann", "E3", unit_price=Decimal("32.50"), psa_company_id="c1")
    svc.set_override(ws, "ann", "E3", description="Office E3")  # updates only the description
    rows = {(r.psa_company_id, r.unit_price, r.description)
            for r in svc.list_mappings(ws).overrides}
    assert rows == {(None, Decimal("36.0000"), "Office E3"), ("c1", Decimal("32.50"), None)}
    with ws.begin() as s:
        assert s.scalar(select(func.count()).select_from(PriceOverride)) == 2
    svc.remove_override(ws, "ann", "E3", psa_company_id="c1")
    assert [r.psa_company_id for r in svc.list_mappings(ws).overrides] == [None]
    with pytest.raises(MappingError, match="no vendor SKU 'NOPE'"):
        svc.set_override(ws, "ann", "NOPE", unit_price=Decimal(1))
    with pytest.raises(MappingError, match="a price, a description or both"):
        svc.set_override(ws, "ann", "E3")
    with pytest.raises(MappingError, match="non-negative decimal"):
        svc.set_override(ws, "ann", "E3", unit_price=Decimal("-1"))
    assert [e.action for e in _audit(ws, "price_override")] == ["set", "set", "set", "remove"]


# ---------------------------------------------------------------- the queue

def test_unmapped_queue_lists_every_unmapped_item_with_a_reason(ws, b):
    b.customer("v1", "Contoso")  # mapped below
    b.customer("v2", "Lonely Customer")  # no match at all
    b.customer("v3", "Northwnd Traders")  # suggestion
    b.company("c1", "Contoso")
    b.company("c3", "Northwind Traders")
    b.agreement("a1", "c1")
    b.vendor_product("E3", "Microsoft 365 E3")
    b.vendor_product("ZZ", "Obscure Add-on")
    b.product("p1", "E3")
    b.sub("s1", "v1", "E3", 2)  # customer and product mapped, no line
    b.sub("s2", "v2", "E3", 2)  # customer unmapped
    b.sub("s3", "v1", "ZZ", 1)  # product unmapped
    b.sub("s4", "v2", "E3", 9, status="Cancelled")  # not active: not queued
    _auto(ws)
    queue = {(i.kind, i.id): i.reason for i in svc.list_mappings(ws, unmapped_only=True).unmapped}
    assert set(queue) == {("customer", "v2"), ("customer", "v3"), ("product", "ZZ"),
                          ("subscription", "s1"), ("subscription", "s2"),
                          ("subscription", "s3")}
    assert "no PSA company with the same domain or name" in queue[("customer", "v2")]
    assert "awaiting confirmation" in queue[("customer", "v3")]
    assert "no PSA product" in queue[("product", "ZZ")]
    assert "unbilled" in queue[("subscription", "s1")]
    assert "'Lonely Customer' (v2) is not mapped" in queue[("subscription", "s2")]
    assert "product 'ZZ' is not mapped" in queue[("subscription", "s3")]
    assert all(queue.values())


def test_every_automatic_change_is_audited(ws, b):
    _billing_world(b)
    b.line("l1", "a1", "p1", 10)
    b.sub("s1", "v1", "E3", 10)
    _auto(ws)
    kinds = sorted((e.entity, e.user) for e in _audit(ws))
    assert kinds == [("agreement_mapping", "ann"), ("agreement_mapping", "ann"),
                     ("customer_mapping", "ann"), ("product_mapping", "ann"),
                     ("subscription_mapping", "ann")]
    second = _auto(ws)  # idempotent: nothing new, nothing audited
    assert second.customers_mapped == second.subscriptions_mapped == 0
    assert len(_audit(ws)) == 5


def test_motion_of_is_exposed():
    assert svc.motion_of("P3Y", "Monthly") == "annual-monthly"


def test_auto_map_over_two_thousand_customers_and_companies(ws, b, capsys):
    """Not N × M difflib calls: indexes first, a trigram shortlist for the rest."""
    vendor = b.conn("Pax8")
    psa = b.conn("CW", "connectwise", "psa")
    syllables = ["con", "to", "so", "fab", "ri", "kam", "north", "wind", "tail", "spin", "ad",
                 "ven", "ture", "li", "ton", "mar", "vel", "ka", "zen", "or", "bit", "lux"]

    def name(i: int) -> str:
        parts = [syllables[(i * 7 + k * 13 + i // (k + 3)) % len(syllables)] for k in range(3)]
        return "".join(parts).capitalize() + f" {['Dental', 'Law', 'Group', 'IT'][i % 4]} {i}"

    with ws.begin() as s:
        for i in range(2000):
            s.add(PsaCompany(connection_id=psa, external_id=f"c{i}", name=name(i) + " LLC",
                             domain=f"co{i}.example" if i % 2 else None))
            vname = name(i).upper() if i % 3 == 0 else name(i) + "x" if i % 3 == 1 else f"Q {i}"
            s.add(VendorCustomer(connection_id=vendor, external_id=f"v{i}", name=vname,
                                 domain=f"https://www.co{i}.example" if i % 2 else None))
    started = time.perf_counter()
    report = svc.auto_map(ws, "ann", today=TODAY)
    elapsed = time.perf_counter() - started
    with capsys.disabled():
        print(f"\nauto_map 2,000 × 2,000 customers: {elapsed:.2f}s, {report}")
    assert report.customers_mapped >= 1300
    assert elapsed < 60
    with ws.begin() as s:
        assert s.scalar(select(func.count()).select_from(MappingSuggestion)) > 0
        assert s.scalar(select(func.count()).select_from(AgreementMapping)) == 0
