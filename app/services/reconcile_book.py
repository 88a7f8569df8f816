"""A period's book as read from the workspace, and the engine's facts built from it.

`Book` holds the raw rows a reconciliation needs (subscriptions, their seat charge lines and
usage groups, PSA lines, seat lots, mappings, rules) as plain tuples and dictionaries: no
database, no ORM, nothing that cannot be pickled. Reading it is the service's part
(app.services.reconcile_facts); turning it into `SubscriptionFacts` is this module's, and it
imports nothing but the domain, so a worker process can build and reconcile a part of a book
without loading the database layer.

A book splits into parts by customer: every subscription billed to one PSA company (or, when
unmapped, of one vendor customer) lands in the same part, so what one customer's
subscriptions share in a reconciliation (its one-time charges, each settling one difference
only; the usage of one product billed by several subscriptions) never spans two parts.
"""

from __future__ import annotations

import marshal
import zlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from app.domain.matching import motion_of
from app.domain.periods import BillingPeriod
from app.domain.policy import PolicyRule
from app.domain.reconciliation import (
    AgreementKind,
    CustomerRef,
    MappingState,
    PolicyFor,
    PsaLineFacts,
    SubscriptionFacts,
    VendorCharge,
)
from app.domain.reconciliation.quiet import PlainSeats, in_step
from app.domain.seat_history import (
    BilledLine,
    Lot,
    Source,
    charge_twin,
    is_ended,
    states_seats,
    without_unbilled_twins,
)
from app.domain.timeline import QuantityTimeline
from app.domain.vendor_quantity import vendor_seats

ONE_TIME_WINDOW = timedelta(days=31)  # one-time charges dated up to the next invoice count
EMPTY = QuantityTimeline()
ZERO = Decimal(0)
SEPARATOR = ";"  # between the decimal texts of a usage group's lines
Key = tuple[int, str]  # (connection id, vendor subscription id)


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def decimal_sum(texts: str | None) -> Decimal:
    """The exact sum of decimal texts joined by SEPARATOR (SQL's SUM goes through float)."""
    return sum(map(Decimal, texts.split(SEPARATOR)), ZERO) if texts else ZERO


class Company(NamedTuple):
    id: int
    external_id: str
    name: str
    connection_id: int


class PsaProduct(NamedTuple):
    id: int
    external_id: str
    price: Any


class Line(NamedTuple):
    """A live PSA line with its agreement, its values as the database stores them (decimal
    text, ISO dates): parsed only when the line's facts are built."""

    id: int
    external_id: str
    quantity: Any
    unit_price: Any
    unit_cost: Any
    effective_date: Any
    cancelled_date: Any
    description: str | None
    product_external_id: str | None
    is_one_time: bool
    agreement: str
    kind: str
    company_id: int


# The book's tables of raw rows, and the name of their marshal blob in a pickled book.
BULK = ("subs", "seat_rows", "lines", "usage", "sub_lines")
BULK_STATE = "_bulk"

# A vendor subscription row with its customer, as the subscription query returns it.
SUB_ID, SUB_CONNECTION, SUB_EXTERNAL, SUB_CUSTOMER_EXTERNAL, SUB_CUSTOMER_ID = 0, 1, 2, 14, 16


@dataclass
class Book:
    """Everything one period's reconciliation reads, raw.

    `seat_rows` are the period's non-usage charge lines per subscription key (line key,
    type, start, end, quantity, unit price, subtotal, total, invoice, currency); `usage` the
    usage groups per key (see app.services.reconcile_charges); `lots` the seat lots per
    subscription id as (quantity, start, end, unit cost, source, cancellation window end).
    `quiet` counts, per vendor customer (id, external id), the subscriptions found plainly
    in step before their rows were read (app.services.quiet_subscriptions): they are not
    in `subs`, nor their rows anywhere.
    """

    rules: list[PolicyRule] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)
    companies: dict[int, Company] = field(default_factory=dict)
    customer_map: dict[int, int] = field(default_factory=dict)
    sub_lines: dict[int, list[int]] = field(default_factory=dict)
    pending: set[int] = field(default_factory=set)
    products: dict[tuple[int, str], int] = field(default_factory=dict)
    product_map: dict[int, PsaProduct] = field(default_factory=dict)
    motion_map: dict[tuple[int, str], str] = field(default_factory=dict)
    overrides: dict[tuple[int | None, str], Any] = field(default_factory=dict)
    lines: dict[int, Line] = field(default_factory=dict)
    steps: dict[str, list[tuple[date, Decimal]]] = field(default_factory=dict)
    lots: dict[int, list[tuple]] = field(default_factory=dict)
    seat_rows: dict[Key, list[tuple]] = field(default_factory=dict)
    usage: dict[Key, list[tuple]] = field(default_factory=dict)
    subs: list[tuple] = field(default_factory=list)
    quiet: dict[tuple[int, str], int] = field(default_factory=dict)

    def __getstate__(self) -> dict[str, Any]:
        """The big tables of raw rows travel as one `marshal` blob when they hold only the
        database's plain values (SQLite's do): several times faster to write than pickle.
        A worker is this same interpreter, so the format always matches."""
        state = dict(self.__dict__)
        state["lines"] = [tuple(line) for line in self.lines.values()]  # plain tuples
        try:
            state[BULK_STATE] = marshal.dumps(tuple(state[name] for name in BULK))
        except ValueError:  # a date or Decimal in a row (PostgreSQL's): pickled as it is
            return state
        for name in BULK:
            del state[name]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        bulk = state.pop(BULK_STATE, None)
        if bulk is not None:
            state.update(zip(BULK, marshal.loads(bulk), strict=True))
        state["lines"] = {row[0]: Line._make(row) for row in state["lines"]}
        self.__dict__.update(state)

    def keys(self) -> set[Key]:
        """The (connection, vendor subscription) keys of the book's subscriptions."""
        return {(row[SUB_CONNECTION], row[SUB_EXTERNAL]) for row in self.subs}

    def part_of(self, sub: tuple, parts: int) -> int:
        """The part a subscription row belongs to: its PSA company's, else its customer's."""
        return owner_part(self, sub[SUB_CUSTOMER_ID], sub[SUB_CUSTOMER_EXTERNAL], parts)

    def split(self, parts: int) -> list[Book]:
        """The book in `parts` parts by customer; each part holds only its subscriptions'
        rows, their PSA lines and their companies' one-time charges (and the small shared
        tables whole). Each table is gone through once, however many parts: the rows of a
        part are looked up by its subscriptions' keys."""
        if parts < 2:
            return [self]
        owned: dict[int, int] = {}  # a vendor customer's part, worked out once
        subs: list[list[tuple]] = [[] for _ in range(parts)]
        for sub in self.subs:
            part = owned.get(sub[SUB_CUSTOMER_ID])
            if part is None:
                part = owned[sub[SUB_CUSTOMER_ID]] = self.part_of(sub, parts)
            subs[part].append(sub)
        # A PSA line goes with its company (one-time charges included), and with every
        # subscription mapped to it.
        by_company = {self.customer_map.get(customer): part for customer, part in owned.items()}
        lines: list[dict[int, Line]] = [{} for _ in range(parts)]
        for line_id, line in self.lines.items():
            owner = by_company.get(line.company_id)
            if owner is not None:
                lines[owner][line_id] = line
        every, sub_lines = self.lines, self.sub_lines
        for mine, group in zip(lines, subs, strict=True):
            for sub in group:
                for line_id in sub_lines.get(sub[SUB_ID], ()):
                    if line_id not in mine and line_id in every:
                        mine[line_id] = every[line_id]
        keys = [[(sub[SUB_CONNECTION], sub[SUB_EXTERNAL]) for sub in group] for group in subs]
        ids = [[sub[SUB_ID] for sub in group] for group in subs]
        quiet: list[dict[tuple[int, str], int]] = [{} for _ in range(parts)]
        for customer, count in self.quiet.items():
            part = owned.get(customer[0])
            if part is None:
                part = owner_part(self, *customer, parts)
            quiet[part][customer] = count
        return [replace(self, subs=subs[n], seat_rows=_rows_of(self.seat_rows, keys[n]),
                        usage=_rows_of(self.usage, keys[n]), lots=_rows_of(self.lots, ids[n]),
                        sub_lines=_rows_of(sub_lines, ids[n]), lines=lines[n],
                        quiet=quiet[n])
                for n in range(parts)]


def lines_by_subscription(rows: Iterable[tuple[int, int]]) -> dict[int, list[int]]:
    """`Book.sub_lines` from (subscription id, PSA line id) rows."""
    sub_lines: dict[int, list[int]] = defaultdict(list)
    for sub_id, line_id in rows:
        sub_lines[sub_id].append(line_id)
    return dict(sub_lines)


def owner_part(book: Book, customer_id: int, customer_external_id: str, parts: int) -> int:
    """The part of `parts` a vendor customer's subscriptions fall in: its PSA company's
    (every customer mapped to one company together), else its own."""
    company = book.companies.get(book.customer_map.get(customer_id))
    owner = f"psa:{company.external_id}" if company else f"vendor:{customer_external_id}"
    return zlib.crc32(owner.encode()) % parts


def _rows_of(table: dict[Any, Any], keys: list[Any]) -> dict[Any, Any]:
    """The entries of a table (of lists of rows, never None) that `keys` name."""
    return {key: rows for key in keys if (rows := table.get(key)) is not None}


def _agreement_kind(row: Line) -> AgreementKind:
    if row.is_one_time or row.kind == "one_time":
        return AgreementKind.ONE_TIME
    return AgreementKind.FIXED_PRICE if row.kind == "fixed_price" else AgreementKind.RECURRING


def _history(row: Line, quantity: Decimal, steps: dict[str, list[tuple[date, Decimal]]]
             ) -> tuple[tuple[date, Decimal], ...]:
    history = steps.get(row.external_id, ())
    if history and history[-1][1] != quantity:
        return ()  # changed by someone else since: the current quantity is all we know
    return tuple(history)


def _line_facts(row: Line, steps: dict[str, list[tuple[date, Decimal]]]) -> PsaLineFacts:
    quantity = Decimal(row.quantity)
    return PsaLineFacts(row.external_id, row.agreement, _agreement_kind(row),
                        row.product_external_id, quantity, number(row.unit_price),
                        number(row.unit_cost), day(row.effective_date),
                        day(row.cancelled_date), row.description or "",
                        _history(row, quantity, steps))


def _seat_twin(row: tuple) -> tuple[tuple, bool]:
    _, charge_type, start, end, quantity, _, _, _, invoice, currency = row
    return charge_twin(charge_type, start, end, quantity, currency, invoice)


def seat_charges(rows: list[tuple], currency: str) -> tuple[list[BilledLine], list[VendorCharge]]:
    """A subscription's billed seat lines (every currency: seats are seats) and its seat
    charges in the subscription's currency, from its raw seat rows."""
    billed, charges = [], []
    if len(rows) > 1:
        rows = without_unbilled_twins(rows, _seat_twin)
    for (line_key, charge_type, start, end, quantity, unit_price, subtotal, total,
         invoice, line_currency) in rows:
        start, end = day(start), day(end)
        quantity, unit_price = Decimal(quantity), number(unit_price)
        if end is not None and states_seats(charge_type):
            billed.append(BilledLine(line_key, start, end, quantity, unit_price))
        if line_currency == currency:
            amount = number(total if total is not None else subtotal) or ZERO
            charges.append(VendorCharge(line_key, charge_type, start, end or start, quantity,
                                        unit_price, amount, False, invoice))
    return billed, charges


def usage_charges(groups: list[tuple], currency: str) -> list[VendorCharge]:
    """One subscription's usage groups in its currency, as one charge each, its quantity
    and amount the exact sums of its lines'."""
    return [VendorCharge(f"{first_key} (+{lines - 1} usage lines)" if lines > 1 else first_key,
                         charge_type, day(start), day(end), decimal_sum(quantities), None,
                         decimal_sum(amounts), True, invoice)
            for (charge_type, invoice, line_currency, start, end, first_key, lines, quantities,
                 amounts) in groups if line_currency == currency]


@dataclass
class Built:
    """The facts of a book's subscriptions, less those found in step without them."""

    facts: list[SubscriptionFacts]
    in_step: int = 0


def _plain(row: tuple, line: Line, steps: dict[str, list[tuple[date, Decimal]]],
           vendor: str, external_id: str, customer: CustomerRef, sku: str,
           product: PsaProduct | None, psa_kind: str, status: str, term: str | None,
           frequency: str | None, end_date: Any, unit_cost: Any, currency: str
           ) -> PlainSeats | None:
    """A subscription's one seat row and one PSA line as PlainSeats, before any facts."""
    (_, charge_type, start, end, quantity, _, _, _, _, line_currency) = row
    if end is None or line_currency != currency:
        return None
    line_quantity = Decimal(line.quantity)
    return PlainSeats(
        vendor, external_id, customer, sku, product.external_id if product else None,
        psa_kind, status, term, frequency, day(end_date), number(unit_cost), charge_type,
        day(start), day(end), Decimal(quantity), _agreement_kind(line), line_quantity,
        number(line.unit_cost), number(line.unit_price), day(line.effective_date),
        day(line.cancelled_date), bool(_history(line, line_quantity, steps)))


def build_facts(book: Book, period: BillingPeriod, policy_for: PolicyFor | None = None
                ) -> Built:
    """One bundle of facts per subscription row of the book, in the book's row order.

    Given the engine's `policy_for`, a subscription that is plainly in step (see
    app.domain.reconciliation.quiet) is counted instead: building its facts only for the
    engine to find nothing costs most of a month-end run. So are those found in step
    before they were read (`Book.quiet`).
    """
    lines, steps = book.lines, book.steps
    one_time: dict[int, list[Line]] = defaultdict(list)
    window_end = period.end + ONE_TIME_WINDOW
    for row in lines.values():
        if (row.is_one_time or row.kind == "one_time") and row.effective_date and \
                period.start <= day(row.effective_date) <= window_end:
            one_time[row.company_id].append(row)
    line_facts: dict[int, PsaLineFacts] = {}  # built once per line, shared (they are frozen)

    def facts_of(row: Line) -> PsaLineFacts:
        facts = line_facts.get(row.id)
        if facts is None:
            facts = line_facts[row.id] = _line_facts(row, steps)
        return facts

    company_charges = {company_id: tuple(facts_of(r) for r in rows)
                       for company_id, rows in one_time.items()}
    kinds, companies, overrides = book.kinds, book.companies, book.overrides
    customer_map, sub_lines, pending = book.customer_map, book.sub_lines, book.pending
    products, product_map, motion_map = book.products, book.product_map, book.motion_map
    lots, seat_rows, usage = book.lots, book.seat_rows, book.usage
    # What every subscription of one customer (or with one term) shares, worked out once.
    customers: dict[tuple[int, int | None], tuple] = {}
    motions: dict[tuple[str | None, str | None], str] = {}
    out: list[SubscriptionFacts] = []
    quiet = 0
    for (sub_id, connection_id, external_id, sku, product_name, quantity, unit_cost,
         list_price, currency, term, frequency, start_date, end_date, status, customer_ext,
         customer_name, customer_id) in book.subs:
        vendor = kinds[connection_id]
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
        mapped_lines = [lines[i] for i in sub_lines.get(sub_id, ()) if i in lines]
        product = product_map.get(products.get((connection_id, sku)))
        if company is None:
            state = MappingState.CUSTOMER_UNMAPPED
        elif not mapped_lines and sub_id in pending:
            state = MappingState.SUBSCRIPTION_UNMAPPED
        elif not mapped_lines and product is None:
            state = MappingState.SKU_UNMAPPED
        else:
            state = MappingState.MAPPED
        if mapped_lines and others:
            # A one-time charge mapped to this subscription is already among its lines:
            # listed twice it would settle the same difference twice.
            mapped_refs = {line.external_id for line in mapped_lines}
            others = tuple(c for c in others if c.line_id not in mapped_refs)
        key = (connection_id, external_id)
        rows, groups, sub_lots = seat_rows.get(key, ()), usage.get(key), lots.get(sub_id)
        if policy_for is not None and len(rows) == 1 and len(mapped_lines) == 1 and \
                state is MappingState.MAPPED and not groups and not sub_lots:
            plain = _plain(rows[0], mapped_lines[0], steps, vendor, external_id, customer,
                           sku, product, psa_kind, status, term, frequency, end_date,
                           unit_cost, currency)
            if plain is not None and in_step(period, plain, policy_for(plain), others):
                quiet += 1
                continue
        motion = motions.get((term, frequency))
        if motion is None:
            motion = motions[(term, frequency)] = motion_of(term, frequency)
        # Every billed seat line (monthly or a whole annual term) states seats per day.
        billed, vendor_charges = seat_charges(rows, currency)
        if groups:
            vendor_charges += usage_charges(groups, currency)
        quantity = Decimal(quantity)
        if sub_lots or billed:
            live = not is_ended(status) and quantity > 0
            timeline = vendor_seats([Lot(q, start, end, cost, Source(source), window)
                                     for q, start, end, cost, source, window in sub_lots or ()],
                                    billed, live=live)
        else:
            timeline = EMPTY
        price = None
        if company is not None and overrides:
            price = overrides.get((company.id, sku), overrides.get((None, sku)))
        out.append(SubscriptionFacts(
            vendor, external_id, customer, sku, product_name, currency, timeline, term,
            frequency, status, day(start_date), day(end_date), number(unit_cost),
            number(list_price), vendor_charges, tuple(facts_of(r) for r in mapped_lines),
            others, price, state, psa_kind,
            motion_map.get((company.id, motion)) if company else None, one_time_agreement,
            product.external_id if product else None, product.price if product else None))
    return Built(out, quiet + sum(book.quiet.values()))
