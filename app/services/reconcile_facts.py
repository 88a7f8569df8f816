"""Reading one billing period's book from the workspace.

Bulk reads go through Core selects of the needed columns into tuples and dictionaries (never
ORM objects per row), charge lines through app.services.reconcile_charges, so 40,000
subscriptions and a million charge lines read in seconds. What is read is a `Book` of raw
rows (app.services.reconcile_book), which builds the plain frozen facts for the pure engine.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, column, func, or_, select, table
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement, Select

from app.domain.periods import BillingPeriod
from app.domain.policy import PolicyRule
from app.models import entities as m
from app.services import quiet_subscriptions
from app.services.book_shares import (
    COMPANIES,
    CUSTOMERS,
    SHARE_TABLE,
    BookShares,
    ShareStatements,
    Statement,
)
from app.services.reconcile_book import (
    Book,
    Company,
    Line,
    PsaProduct,
    lines_by_subscription,
)
from app.services.reconcile_charges import (
    LINES,
    UsageRead,
    indexed_by,
    raw_rows,
    seat_queries,
    seat_rows,
)


def _rows(session: Session, query) -> list[Any]:  # noqa: ANN001
    """Rows with their columns' types applied (Decimals from decimal text, say)."""
    return list(session.execute(query))


def _raw(session: Session, query) -> Iterator[tuple]:  # noqa: ANN001
    """Rows of ids and text, as the database gives them: no per-row ORM work (a mapping per
    subscription is tens of thousands of rows)."""
    return raw_rows(session.connection(), query)


def psa_lines_query() -> Select:
    """Live PSA lines, with their agreement's external id, kind and company."""
    bl, ag = m.PsaBillingLine, m.PsaAgreement
    return (select(bl.id, bl.external_id, bl.quantity, bl.unit_price, bl.unit_cost,
                   bl.effective_date, bl.cancelled_date, bl.description,
                   bl.product_external_id, bl.is_one_time, ag.external_id, ag.kind,
                   ag.company_id)
            .join(ag, ag.id == bl.agreement_id)
            .where(bl.missing_since.is_(None))
            .order_by(ag.id, bl.id))


def _psa_lines(session: Session) -> dict[int, Line]:
    """Live PSA lines by id."""
    return {row[0]: Line._make(row) for row in raw_rows(session.connection(),
                                                       psa_lines_query())}


def subscription_lines() -> Select:
    """The PSA lines each vendor subscription is mapped to: (subscription id, line id), in
    the order they were mapped (every read, the whole book's or a share's, in one order)."""
    sm = m.SubscriptionMapping
    return select(sm.vendor_subscription_id, sm.psa_billing_line_id).order_by(sm.id)


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


def _lots(session: Session) -> dict[int, list[tuple]]:
    out: dict[int, list[tuple]] = defaultdict(list)
    q = select(m.SeatLot.subscription_id, m.SeatLot.quantity, m.SeatLot.start_date,
               m.SeatLot.end_date, m.SeatLot.unit_cost, m.SeatLot.source,
               m.SeatLot.cancel_window_ends_at)
    for sub_id, *lot in session.execute(q):
        out[sub_id].append(tuple(lot))
    return dict(out)


def read_base(session: Session) -> Book:
    """The book's small tables: rules, customer, product and agreement mappings, companies,
    products, seat lots, the quantities TrueUp pushed; no subscription (nor the PSA lines
    it is mapped to), charge line, PSA line or usage yet."""
    book = Book()
    book.rules = [PolicyRule(r.scope, r.scope_ref, r.key, r.value)
                  for r in session.scalars(select(m.PolicyRule))]
    book.kinds = {c.id: c.kind for c in session.scalars(select(m.Connection))}
    book.companies = {row[0]: Company(*row) for row in _raw(session, select(
        m.PsaCompany.id, m.PsaCompany.external_id, m.PsaCompany.name,
        m.PsaCompany.connection_id))}
    book.customer_map = dict(_raw(session, select(m.CustomerMapping.vendor_customer_id,
                                                  m.CustomerMapping.psa_company_id)))
    book.pending = set(session.scalars(select(m.MappingSuggestion.vendor_ref).where(
        m.MappingSuggestion.kind == "subscription", m.MappingSuggestion.status == "pending")))
    book.products = {(connection_id, sku): product_id for product_id, connection_id, sku in
                     _raw(session, select(m.VendorProduct.id, m.VendorProduct.connection_id,
                                          m.VendorProduct.sku))}
    psa_products = {row[0]: PsaProduct(*row) for row in _rows(session, select(
        m.PsaProduct.id, m.PsaProduct.external_id, m.PsaProduct.price))}
    book.product_map = {vp: psa_products[pp] for vp, pp in _raw(session, select(
        m.ProductMapping.vendor_product_id, m.ProductMapping.psa_product_id))}
    agreements = dict(_raw(session, select(m.PsaAgreement.id, m.PsaAgreement.external_id)))
    book.motion_map = {(c, motion): agreements[a] for c, motion, a in _raw(session, select(
        m.AgreementMapping.psa_company_id, m.AgreementMapping.motion,
        m.AgreementMapping.psa_agreement_id))}
    book.overrides = {(c, sku): price for c, sku, price in _rows(session, select(
        m.PriceOverride.psa_company_id, m.PriceOverride.sku, m.PriceOverride.unit_price).where(
        m.PriceOverride.active.is_(True), m.PriceOverride.unit_price.is_not(None)))}
    book.steps = _quantity_steps(session)
    book.lots = _lots(session)
    return book


def _in_book(period: BillingPeriod) -> ColumnElement:
    """The vendor subscriptions of the period's book: those ended before it only when still
    mapped to a PSA line."""
    vs = m.VendorSubscription
    return or_(vs.end_date.is_(None), vs.end_date >= period.start - timedelta(days=1),
               and_(vs.id.in_(select(m.SubscriptionMapping.vendor_subscription_id))))


def _subs_query(period: BillingPeriod) -> Select:
    """The period's vendor subscriptions with their customers. Every read is in one order,
    the whole book's or a share's (see book_shares), as is every other big read."""
    vs, vc = m.VendorSubscription, m.VendorCustomer
    return (select(vs.id, vs.connection_id, vs.external_id, vs.sku, vs.product_name,
                   vs.quantity, vs.unit_cost, vs.unit_price, vs.currency, vs.term,
                   vs.billing_frequency, vs.start_date, vs.end_date, vs.status, vc.external_id,
                   vc.name, vc.id)
            .join(vc, vc.id == vs.customer_id)
            .where(_in_book(period))
            .order_by(vs.id))


def read_book(session: Session, period: BillingPeriod,
              meanwhile: Callable[[Book], None] | None = None) -> Book:
    """The period's book, every read in the session's transaction. `meanwhile` is given
    the book once everything but the usage is in, while the usage read ends."""
    usage = UsageRead(session, period)  # the biggest read, on another core meanwhile
    book = read_base(session)
    book.sub_lines = lines_by_subscription(raw_rows(session.connection(),
                                                    subscription_lines()))
    book.lines = _psa_lines(session)
    book.seat_rows = seat_rows(session, period)
    book.subs = list(raw_rows(session.connection(), _subs_query(period)))
    if meanwhile is not None:
        meanwhile(book)
    # Only now wait for the usage groups, read meanwhile.
    book.usage = dict(usage.groups(session))
    return book


def _share_statement(session: Session, query: Select) -> Statement:
    """SQL text and positional parameters, a share's filters left to bind (Bound)."""
    compiled = query.compile(session.get_bind(), compile_kwargs={"render_postcompile": True})
    names = {bound.name: bound for bound in (CUSTOMERS, COMPANIES)}
    return str(compiled), tuple(names.get(name, compiled.params[name])
                                for name in compiled.positiontup or ())


def share_statements(session: Session, period: BillingPeriod, base: Book) -> ShareStatements:
    """The big tables' reads of `read_book` for a share of the book's customers (SQLite),
    less the subscriptions plainly in step (app.services.quiet_subscriptions), which the
    share's first statement lists in a temporary table and the next one counts."""
    vs, bl, ag, sm = m.VendorSubscription, m.PsaBillingLine, m.PsaAgreement, \
        m.SubscriptionMapping
    # The share's ids, bound when it is read (see book_shares).
    customers = quiet_subscriptions.listed(CUSTOMERS.name)
    companies = quiet_subscriptions.listed(COMPANIES.name)
    listed = quiet_subscriptions.subscriptions(
        period, quiet_subscriptions.loud_refs(base), customers, companies,
        _in_book(period))
    share = table(SHARE_TABLE, *(column(name) for name in (
        "id", "connection_id", "external_id", "customer_id", "quiet")), schema="temp")
    loud = select(share.c.id).where(share.c.quiet == 0)
    vc = m.VendorCustomer
    quiet = (select(share.c.customer_id, vc.external_id, func.count())
             .join(vc, vc.id == share.c.customer_id)
             .where(share.c.quiet == 1)
             .group_by(share.c.customer_id, vc.external_id))
    c = LINES.c
    sql, params = _share_statement(session, listed)
    return ShareStatements(
        prepare=(f"CREATE TEMP TABLE {SHARE_TABLE} AS {quiet_subscriptions.indexed(sql)}",
                 params),
        quiet=_share_statement(session, quiet),
        subs=_share_statement(session, _subs_query(period).where(vs.id.in_(loud))),
        sub_lines=_share_statement(session, subscription_lines().where(
            sm.vendor_subscription_id.in_(loud))),
        seat_rows=tuple(
            _searched_per_subscription(_share_statement(session, query.join(share, and_(
                share.c.connection_id == c.connection_id,
                share.c.external_id == c.subscription_external_id)).where(share.c.quiet == 0)))
            for query in seat_queries(session.connection(), period)),
        # A company's lines, and the lines mapped to its share's subscriptions, less those
        # mapped to quiet subscriptions only.
        lines=_share_statement(session, psa_lines_query().where(or_(
            and_(ag.company_id.in_(companies), bl.id.not_in(
                select(sm.psa_billing_line_id)
                .where(sm.vendor_subscription_id.in_(select(share.c.id)
                                                     .where(share.c.quiet == 1))))),
            bl.id.in_(select(sm.psa_billing_line_id)
                      .where(sm.vendor_subscription_id.in_(loud)))))))


def _searched_per_subscription(statement: Statement) -> Statement:
    """A share's seat-line read, its charge lines searched per loud subscription of the
    share's table through their subscription's index by end day (SUBSCRIPTION_ENDS, which
    holds every seat line). Left to itself, SQLite searches an index by the connection of a
    (connection, subscription) pair and no further, and reads every seat line of the
    connections: half a book's would cost twice what the searches cost."""
    sql, params = statement
    return indexed_by(sql, quiet_subscriptions.SUBSCRIPTION_ENDS), params


def plan_shares(session: Session, period: BillingPeriod, count: int) -> BookShares:
    """The book's small tables, and its vendor customers' parts of `count`."""
    base = read_base(session)
    customers = list(_raw(session, select(m.VendorCustomer.id, m.VendorCustomer.external_id)))
    return BookShares.plan(base, share_statements(session, period, base), count, customers)
