"""Loading one billing period's reconciliation facts from the workspace.

Bulk reads go through Core selects of the needed columns into dictionaries (never ORM
objects per row), charge lines through app.services.reconcile_charges, and each PSA line's
facts are built once however many subscriptions see it, so 40,000 subscriptions and a
million charge lines load in seconds. The result is plain frozen facts for the pure engine.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.domain.matching import motion_of
from app.domain.periods import BillingPeriod
from app.domain.policy import PolicyRule
from app.domain.reconciliation import (
    AgreementKind,
    CustomerRef,
    MappingState,
    PsaLineFacts,
    SubscriptionFacts,
)
from app.domain.seat_history import Lot, Source, is_ended
from app.domain.timeline import QuantityTimeline
from app.domain.vendor_quantity import vendor_seats
from app.models import entities as m
from app.services.reconcile_charges import (
    SeatCharges,
    UsageRead,
    day,
    number,
    raw_rows,
    usage_charges,
)

ONE_TIME_WINDOW = timedelta(days=31)  # one-time charges dated up to the next invoice count
EMPTY = QuantityTimeline()


@dataclass
class Loaded:
    """The facts plus the id maps the service needs to store findings."""

    facts: list[SubscriptionFacts] = field(default_factory=list)
    rules: list[PolicyRule] = field(default_factory=list)
    vendor_sub_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    vendor_customer_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    psa_company_ids: dict[str, int] = field(default_factory=dict)
    psa_line_ids: dict[str, int] = field(default_factory=dict)


def _rows(session: Session, query) -> list[Any]:  # noqa: ANN001
    return list(session.execute(query))


class _Line(NamedTuple):
    """A live PSA line with its agreement, values parsed (built for every line once)."""

    id: int
    external_id: str
    quantity: Decimal
    unit_price: Decimal | None
    unit_cost: Decimal | None
    effective_date: date | None
    cancelled_date: date | None
    description: str | None
    product_external_id: str | None
    is_one_time: bool
    agreement: str
    kind: str
    company_id: int


def _psa_lines(session: Session, period: BillingPeriod) -> tuple[dict[int, _Line],
                                                                 dict[int, list[_Line]]]:
    """Live PSA lines by id, with their agreement's external id, kind and company."""
    bl, ag = m.PsaBillingLine, m.PsaAgreement
    q = (select(bl.id, bl.external_id, bl.quantity, bl.unit_price, bl.unit_cost,
                bl.effective_date, bl.cancelled_date, bl.description, bl.product_external_id,
                bl.is_one_time, ag.external_id, ag.kind, ag.company_id)
         .join(ag, ag.id == bl.agreement_id)
         .where(bl.missing_since.is_(None)))
    lines = {}
    for (line_id, external_id, quantity, price, cost, effective, cancelled, description,
         product, is_one_time, agreement, kind, company) in raw_rows(session.connection(), q):
        lines[line_id] = _Line(line_id, external_id, Decimal(quantity), number(price),
                               number(cost), day(effective), day(cancelled), description,
                               product, bool(is_one_time), agreement, kind, company)
    one_time: dict[int, list[_Line]] = defaultdict(list)
    window_end = period.end + ONE_TIME_WINDOW
    for row in lines.values():
        if (row.is_one_time or row.kind == "one_time") and row.effective_date and \
                period.start <= row.effective_date <= window_end:
            one_time[row.company_id].append(row)
    return lines, one_time


def _quantity_steps(session: Session) -> dict[str, list[tuple[date, Decimal]]]:
    """A line's billed quantity over time, from the quantity changes TrueUp pushed."""
    steps: dict[str, list[tuple[date, Decimal, Decimal]]] = defaultdict(list)
    q = select(m.PushIntent.target_ref, m.PushIntent.seen_state, m.PushIntent.desired_state,
               m.PushIntent.payload).where(m.PushIntent.state == "DONE",
                                            m.PushIntent.action_type == "set_quantity")
    for target, seen, desired, payload in session.execute(q):
        line, effective = target.get("line"), payload.get("effective_date")
        if line and effective and "quantity" in desired and "quantity" in seen:
            steps[str(line)].append((date.fromisoformat(effective), Decimal(seen["quantity"]),
                                     Decimal(desired["quantity"])))
    out = {}
    for line, changes in steps.items():
        changes.sort()
        out[line] = [(date.min, changes[0][1])] + [(day, after) for day, _, after in changes]
    return out


def _line_facts(row: Any, steps: dict[str, list[tuple[date, Decimal]]]) -> PsaLineFacts:
    kind = AgreementKind.ONE_TIME if row.is_one_time or row.kind == "one_time" else (
        AgreementKind.FIXED_PRICE if row.kind == "fixed_price" else AgreementKind.RECURRING)
    history = steps.get(row.external_id, [])
    if history and history[-1][1] != row.quantity:
        history = []  # changed by someone else since: the current quantity is all we know
    return PsaLineFacts(row.external_id, row.agreement, kind, row.product_external_id,
                        row.quantity, row.unit_price, row.unit_cost, row.effective_date,
                        row.cancelled_date, row.description or "", tuple(history))


def _lots(session: Session) -> dict[int, list[Lot]]:
    out: dict[int, list[Lot]] = defaultdict(list)
    q = select(m.SeatLot.subscription_id, m.SeatLot.quantity, m.SeatLot.start_date,
               m.SeatLot.end_date, m.SeatLot.unit_cost, m.SeatLot.source,
               m.SeatLot.cancel_window_ends_at)
    for sub_id, qty, start, end, cost, source, window in session.execute(q):
        out[sub_id].append(Lot(qty, start, end, cost, Source(source), window))
    return out


def load_facts(session: Session, period: BillingPeriod) -> Loaded:
    out = Loaded()
    usage = UsageRead(session, period)  # the biggest read, on another core meanwhile
    out.rules = [PolicyRule(r.scope, r.scope_ref, r.key, r.value)
                 for r in session.scalars(select(m.PolicyRule))]
    kinds = {c.id: c.kind for c in session.scalars(select(m.Connection))}
    companies = {row.id: row for row in _rows(session, select(
        m.PsaCompany.id, m.PsaCompany.external_id, m.PsaCompany.name,
        m.PsaCompany.connection_id))}
    out.psa_company_ids = {row.external_id: row.id for row in companies.values()}
    customer_map = dict(_rows(session, select(m.CustomerMapping.vendor_customer_id,
                                              m.CustomerMapping.psa_company_id)))
    sub_lines: dict[int, list[int]] = defaultdict(list)
    for sub_id, line_id in _rows(session, select(m.SubscriptionMapping.vendor_subscription_id,
                                                 m.SubscriptionMapping.psa_billing_line_id)):
        sub_lines[sub_id].append(line_id)
    pending = set(session.scalars(select(m.MappingSuggestion.vendor_ref).where(
        m.MappingSuggestion.kind == "subscription", m.MappingSuggestion.status == "pending")))
    products = {(row.connection_id, row.sku): row.id for row in _rows(session, select(
        m.VendorProduct.id, m.VendorProduct.connection_id, m.VendorProduct.sku))}
    psa_products = {row.id: row for row in _rows(session, select(
        m.PsaProduct.id, m.PsaProduct.external_id, m.PsaProduct.price))}
    product_map = {vp: psa_products[pp] for vp, pp in _rows(session, select(
        m.ProductMapping.vendor_product_id, m.ProductMapping.psa_product_id))}
    agreements = {row.id: row.external_id for row in _rows(session, select(
        m.PsaAgreement.id, m.PsaAgreement.external_id))}
    motion_map = {(c, motion): agreements[a] for c, motion, a in _rows(session, select(
        m.AgreementMapping.psa_company_id, m.AgreementMapping.motion,
        m.AgreementMapping.psa_agreement_id))}
    overrides = {(c, sku): price for c, sku, price in _rows(session, select(
        m.PriceOverride.psa_company_id, m.PriceOverride.sku, m.PriceOverride.unit_price).where(
        m.PriceOverride.active.is_(True), m.PriceOverride.unit_price.is_not(None)))}
    lines, one_time = _psa_lines(session, period)
    out.psa_line_ids = {row.external_id: row.id for row in lines.values()}
    steps = _quantity_steps(session)
    lots = _lots(session)
    seats = SeatCharges(session, period)
    line_facts: dict[int, PsaLineFacts] = {}  # built once per line, shared (they are frozen)

    def facts_of(row: _Line) -> PsaLineFacts:
        facts = line_facts.get(row.id)
        if facts is None:
            facts = line_facts[row.id] = _line_facts(row, steps)
        return facts

    company_charges = {company_id: tuple(facts_of(r) for r in rows)
                       for company_id, rows in one_time.items()}
    # What every subscription of one customer (or with one term) shares, worked out once.
    customers: dict[tuple[int, int | None], tuple] = {}
    motions: dict[tuple[str | None, str | None], str] = {}
    pending_facts: list[tuple[tuple[int, str], list[Any]]] = []
    vs, vc = m.VendorSubscription, m.VendorCustomer
    subs = raw_rows(session.connection(), select(
        vs.id, vs.connection_id, vs.external_id, vs.sku, vs.product_name, vs.quantity,
        vs.unit_cost, vs.unit_price, vs.currency, vs.term, vs.billing_frequency, vs.start_date,
        vs.end_date, vs.status, vc.external_id, vc.name, vc.id)
        .join(vc, vc.id == vs.customer_id)
        .where(or_(vs.end_date.is_(None), vs.end_date >= period.start - timedelta(days=1),
                   and_(vs.id.in_(select(m.SubscriptionMapping.vendor_subscription_id))))))
    for (sub_id, connection_id, external_id, sku, product_name, quantity, unit_cost,
         list_price, currency, term, frequency, start_date, end_date, status, customer_ext,
         customer_name, customer_id) in subs:
        vendor = kinds[connection_id]
        out.vendor_sub_ids[(vendor, external_id)] = sub_id
        out.vendor_customer_ids[(vendor, customer_ext)] = customer_id
        company_id = customer_map.get(customer_id)
        shared = customers.get((customer_id, company_id))
        if shared is None:
            company = companies.get(company_id)
            shared = customers[(customer_id, company_id)] = (
                company,
                CustomerRef(customer_ext, customer_name, company.external_id if company else None,
                            company.name if company else None),
                kinds[company.connection_id] if company else "connectwise",
                company_charges.get(company.id, ()) if company else (),
                motion_map.get((company.id, "annual-annual")) if company else None)
        company, customer, psa_kind, others, one_time_agreement = shared
        mapped_ids = sub_lines.get(sub_id, ())
        mapped_lines = [lines[i] for i in mapped_ids if i in lines]
        product = product_map.get(products.get((connection_id, sku)))
        if company is None:
            state = MappingState.CUSTOMER_UNMAPPED
        elif not mapped_lines and sub_id in pending:
            state = MappingState.SUBSCRIPTION_UNMAPPED
        elif not mapped_lines and product is None:
            state = MappingState.SKU_UNMAPPED
        else:
            state = MappingState.MAPPED
        motion = motions.get((term, frequency))
        if motion is None:
            motion = motions[(term, frequency)] = motion_of(term, frequency)
        # Every billed seat line (monthly or a whole annual term) states seats per day.
        billed, vendor_charges = seats.of(connection_id, external_id, currency)
        sub_lots = lots.get(sub_id)
        quantity = Decimal(quantity)
        if sub_lots or billed:
            live = not is_ended(status) and quantity > 0
            timeline = vendor_seats(sub_lots or (), billed, live=live)
        else:
            timeline = EMPTY
        price = None
        if company is not None and overrides:
            price = overrides.get((company.id, sku), overrides.get((None, sku)))
        if mapped_lines and others:
            # A one-time charge mapped to this subscription is already among its lines:
            # listed twice it would settle the same difference twice.
            mapped_refs = {line.external_id for line in mapped_lines}
            others = tuple(c for c in others if c.line_id not in mapped_refs)
        pending_facts.append(((connection_id, external_id), [
            vendor, external_id, customer, sku, product_name, currency, timeline, term,
            frequency, status, day(start_date), day(end_date), number(unit_cost),
            number(list_price), vendor_charges, tuple(facts_of(r) for r in mapped_lines),
            others, price, state, psa_kind,
            motion_map.get((company.id, motion)) if company else None, one_time_agreement,
            product.external_id if product else None, product.price if product else None]))
    # Only now wait for the usage groups, read meanwhile; they join their subscriptions.
    usage_groups = usage.groups(session)
    for key, values in pending_facts:
        groups = usage_groups.get(key)
        if groups:
            values[14] = values[14] + usage_charges(groups, values[5])
        out.facts.append(SubscriptionFacts(*values))
    return out
