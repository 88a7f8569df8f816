"""The subscriptions of a book plainly in step, told apart in SQL before any row is read.

Most subscriptions of a month-end book need nothing (app.domain.reconciliation.quiet): one
seat charge line covers the period, one recurring PSA line bills the same seats at the
vendor's cost. Reading their rows only for the fact builder to count them costs most of a
big book's read. A share of the book (app.services.book_shares) is therefore read after one
statement has listed its subscriptions with a flag, `quiet`, that a narrower form of
`quiet.in_step` computes in SQL from the rows themselves; the quiet ones are counted per
customer and their rows, and the PSA lines only they are mapped to, are never fetched.

The SQL rule only ever says "quiet" where `in_step` would, for the same rows: anything it
cannot settle exactly in SQL is left loud, and the facts are built and checked as usual.

* Texts are compared as stored: equal texts are equal decimals and equal dates (ISO, so
  they order as dates too); differently written equal numbers are loud.
* Numbers are compared through REAL only with a margin no conversion error can cross:
  a cost is nonzero, a quantity positive, a price above cost.
* Statuses, frequencies and terms are read with SQLite's ASCII-only case folding, which
  matches Python's wherever the rule can say quiet.
* The charge line's type must be one of `quiet.PLAIN_SEAT_CHARGE_TYPES`, spelled as stored.
* The policy is what the rules say for a subscription whose vendor, customer and products
  no rule on a key `in_step` reads names (`loud_refs` makes the rest loud); a PSA whose
  default policy leaves subscriptions out as internal or excluded keeps all its
  subscriptions loud.
* A line whose quantity TrueUp pushed has a billed history (loud), and a company with a
  one-time charge in the window that could carry a finding reference (the prefix, or any
  text beyond ASCII, whose folding SQLite does not do) keeps its subscriptions loud.

SQLite only: the rule is part of reading a book in shares, which only a SQLite workspace
does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import (
    REAL,
    LargeBinary,
    String,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    literal,
    not_,
    or_,
    select,
)
from sqlalchemy.orm import aliased
from sqlalchemy.sql import ColumnElement, Select

from app.domain.periods import BillingPeriod
from app.domain.policy import resolve_policy
from app.domain.reconciliation.findings import REFERENCE_PREFIX
from app.domain.reconciliation.quiet import IN_STEP_POLICY_KEYS, PLAIN_SEAT_CHARGE_TYPES
from app.models import entities as m
from app.services.reconcile_book import ONE_TIME_WINDOW, Book
from app.services.reconcile_charges import LINES

# A price is surely above a cost when their REAL forms differ by more than this part of
# their sizes: each conversion from decimal text is off by at most 2**-53 of its value.
MARGIN = 1e-12
# The index of each subscription's lines of more than a day by last day (migration 0008),
# and the names of the charge lines the statement searches through it (see `indexed`).
SUBSCRIPTION_ENDS = "ix_charge_lines_subscription_ends"
SEARCHED = ("plain_line", "other_line", "open_line")


@dataclass(frozen=True)
class LoudRefs:
    """What keeps a subscription loud whatever its rows say, from the book's small tables:
    the vendors, customers and products rules name on a key `in_step` reads, the lines with
    a pushed quantity history, and the PSA connections whose default policy is not plainly
    billing."""

    vendor_connections: tuple[int, ...]  # vendor connections whose vendor a rule names
    customers: tuple[str, ...]  # customer references (vendor or PSA ids) a rule names
    skus: tuple[str, ...]  # SKUs a rule names, or whose PSA product a rule names
    stepped_lines: tuple[str, ...]  # PSA line external ids with a pushed quantity history
    psa_connections: tuple[int, ...]  # PSA connections whose default policy bills plainly


def loud_refs(base: Book) -> LoudRefs:
    """The LoudRefs of a book's small tables (rules, connections, products, steps)."""
    named: dict[str, set[str]] = {"vendor": set(), "customer": set(), "product": set()}
    for rule in base.rules:
        if rule.key in IN_STEP_POLICY_KEYS:
            named.get(str(rule.scope), set()).add(rule.scope_ref)
    skus = set(named["product"])
    for (_, sku), vendor_product in base.products.items():
        product = base.product_map.get(vendor_product)
        if product is not None and product.external_id in named["product"]:
            skus.add(sku)
    plain_kinds = {}
    for kind in set(base.kinds.values()):
        policy = resolve_policy(base.rules, vendor=None, customer=(), product=(),
                                psa_kind=kind)
        plain_kinds[kind] = not (policy.internal or policy.exclude)
    return LoudRefs(
        vendor_connections=tuple(sorted(c for c, kind in base.kinds.items()
                                        if kind in named["vendor"])),
        customers=tuple(sorted(named["customer"])),
        skus=tuple(sorted(skus)),
        stepped_lines=tuple(sorted(line for line, history in base.steps.items() if history)),
        psa_connections=tuple(sorted(c for c, kind in base.kinds.items()
                                     if plain_kinds[kind])))


def listed(name: str, values: tuple | None = None) -> Select:
    """The values of a JSON array parameter, as rows (SQLite's json_each): `values`, or
    the array bound when the statement runs."""
    value = None if values is None else json.dumps(list(values))
    return select(column("value")).select_from(
        func.json_each(bindparam(name, value, type_=String)))


def _real(value: ColumnElement) -> ColumnElement:
    return cast(value, REAL)


def _folded(value: ColumnElement, word: str) -> ColumnElement:
    """The text, spaces trimmed and ASCII letters folded, is `word`."""
    return func.lower(func.trim(value)) == word


def subscriptions(period: BillingPeriod, refs: LoudRefs, customers: Select,
                  companies: Select, in_period: ColumnElement) -> Select:
    """Every subscription of the `customers` (a select of vendor customer ids) that the
    period's book holds (`in_period`, a condition on vendor_subscriptions): id, connection,
    external id, customer id, and `quiet` (1 or 0). `companies` are the PSA companies of
    those customers, whose one-time charges are looked at."""
    vs, vc = m.VendorSubscription, m.VendorCustomer
    sm, bl, ag = m.SubscriptionMapping, m.PsaBillingLine, m.PsaAgreement
    cm, co = m.CustomerMapping, m.PsaCompany
    start, end = period.start.isoformat(), period.end.isoformat()
    window_end = (period.end + ONE_TIME_WINDOW).isoformat()
    named_customers = listed("named_customers", refs.customers)
    mappings = select(func.count()).where(sm.vendor_subscription_id == vs.id) \
        .scalar_subquery()
    # The one line of the subscription touching the period: a plain seat line covering it,
    # no other line of more than a day that started by its first day and touches it, and no
    # line starting in it (on its first day too: a day's usage line is not in the index the
    # searches for other lines read).
    plain, other, open_ended, later = (LINES.alias(name) for name in (*SEARCHED, "later_line"))
    p = plain.c

    def started_by(line: Any) -> ColumnElement:  # the subscription's, by the first day
        return and_(line.c.connection_id == vs.connection_id,
                    line.c.subscription_external_id == vs.external_id,
                    _spans_days(line), line.c.charge_start <= start)

    seat_line = (
        select(literal(1))
        .select_from(plain)
        .correlate_except(plain)
        .where(p.connection_id == vs.connection_id,
               p.subscription_external_id == vs.external_id,
               p.is_usage.is_(False), p.charge_start <= start, p.charge_end >= end,
               p.charge_end < date.max.isoformat(),
               p.charge_type.in_(listed("seat_charge_types", PLAIN_SEAT_CHARGE_TYPES)),
               p.currency == vs.currency, p.quantity == bl.quantity, _real(p.quantity) > 0,
               _none(other, started_by(other), other.c.charge_end >= start, other.c.id != p.id),
               _none(open_ended, started_by(open_ended), open_ended.c.charge_end.is_(None)),
               _none(later, later.c.connection_id == vs.connection_id,
                     later.c.subscription_external_id == vs.external_id,
                     later.c.charge_start >= start, later.c.charge_start <= end,
                     later.c.id != p.id))
        .exists())
    price, cost = _real(bl.unit_price), _real(vs.unit_cost)
    mapped_line = (
        select(literal(1))
        .select_from(sm)
        .join(bl, bl.id == sm.psa_billing_line_id)
        .join(ag, ag.id == bl.agreement_id)
        .where(sm.vendor_subscription_id == vs.id, bl.missing_since.is_(None),
               bl.is_one_time.is_(False), ag.kind != "one_time", bl.cancelled_date.is_(None),
               or_(bl.effective_date.is_(None), bl.effective_date <= start),
               bl.external_id.not_in(listed("stepped_lines", refs.stepped_lines)),
               co.id.is_not(None),  # the customer's company (none when it is unmapped)
               co.connection_id.in_(listed("psa_connections", refs.psa_connections)),
               co.external_id.not_in(named_customers),
               or_(vs.unit_cost.is_(None), bl.unit_cost == vs.unit_cost),
               or_(vs.unit_cost.is_(None), bl.unit_price.is_(None),
                   bl.unit_price == vs.unit_cost,
                   price - cost > (func.abs(price) + func.abs(cost)) * MARGIN),
               not_(co.id.in_(_marked(companies, start, window_end))),
               seat_line)
        .exists())
    quiet = and_(
        _folded(vs.status, "active"), _folded(vs.billing_frequency, "monthly"),
        or_(vs.term.is_(None), not_(vs.term.like("%trial%"))),
        or_(vs.end_date.is_(None), vs.end_date > end),
        or_(vs.unit_cost.is_(None), _real(vs.unit_cost) != 0),
        vs.sku.not_in(listed("named_skus", refs.skus)),
        vs.connection_id.not_in(listed("named_vendors", refs.vendor_connections)),
        vc.external_id.not_in(named_customers),
        not_(select(literal(1)).where(m.SeatLot.subscription_id == vs.id).exists()),
        mappings == 1, mapped_line)
    # The customer's company is joined once per customer, not searched per subscription.
    return (select(vs.id, vs.connection_id, vs.external_id, vs.customer_id,
                   case((quiet, 1), else_=0).label("quiet"))
            .select_from(vc)
            .outerjoin(cm, cm.vendor_customer_id == vc.id)
            .outerjoin(co, co.id == cm.psa_company_id)
            .join(vs, vs.customer_id == vc.id)
            .where(vs.customer_id.in_(customers), in_period))


def _spans_days(line: Any) -> ColumnElement:
    """The line is one SUBSCRIPTION_ENDS holds: a seat line, or usage of more than a day
    (written as the index's condition, so that SQLite sees the search may read it)."""
    c = line.c
    return or_(c.is_usage.is_(False), and_(c.is_usage.is_(True), or_(
        c.charge_end.is_(None), c.charge_end > c.charge_start)))


def _none(line: Any, *where: ColumnElement) -> ColumnElement:
    """No `line` (an alias of the charge lines) meets `where`."""
    return not_(select(literal(1)).select_from(line).where(*where)
                .correlate_except(line).exists())


def indexed(sql: str) -> str:
    """The compiled `subscriptions` statement with its searches of one subscription's lines
    named to SQLite's planner (INDEXED BY SUBSCRIPTION_ENDS): without statistics for the
    index it may rather read the subscription's every earlier line. SQLite refuses the
    statement, rather than read otherwise, if the index cannot serve a search."""
    for name in SEARCHED:
        written = f"charge_lines AS {name}"
        if sql.count(written) != 1:
            raise ValueError(f"the statement reads {written!r} {sql.count(written)} times")
        sql = sql.replace(written, f"{written} INDEXED BY {SUBSCRIPTION_ENDS}")
    return sql


def _marked(companies: Select, start: str, window_end: str) -> Select:
    """The companies with a one-time charge in the window whose description could carry a
    finding reference."""
    bl, ag = aliased(m.PsaBillingLine), aliased(m.PsaAgreement)  # not the mapped line's
    described = bl.description
    return (select(ag.company_id)
            .join(bl, bl.agreement_id == ag.id)
            .where(ag.company_id.in_(companies), bl.missing_since.is_(None),
                   or_(bl.is_one_time.is_(True), ag.kind == "one_time"),
                   bl.effective_date >= start, bl.effective_date <= window_end,
                   or_(described.like(f"%{REFERENCE_PREFIX}%"),
                       func.length(cast(described, LargeBinary)) != func.length(described))))
