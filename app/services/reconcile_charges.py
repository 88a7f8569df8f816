"""A period's vendor charge lines, read fast, as the engine's BilledLines and VendorCharges.

A big book has a million charge lines in a month, most of them Azure daily usage (a line per
meter per day). Loading them costs what the engine needs and no more:

* seat lines (a few per subscription) are read through the DBAPI cursor as raw values (no
  per-row ORM or type-decorator work) and parsed here: ISO dates, exact decimal text;
* usage lines are grouped in SQL per subscription (and currency). The engine only ever adds
  usage amounts up (usage charge, unmapped estimate), so one charge per group changes no
  amount; its amount is summed exactly here from the group's decimal texts (SQL SUM would
  go through float). The finding then explains "N usage lines" (their first line, dates
  and invoices) rather than carrying every daily line, which charge_lines still holds.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, column, func, or_, select, table
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from app.domain.periods import BillingPeriod
from app.domain.reconciliation import VendorCharge
from app.domain.seat_history import BilledLine, states_seats

# Untyped columns: values arrive as the database stores them (text dates, decimal text).
LINES = table("charge_lines", *(column(name) for name in (
    "connection_id", "subscription_external_id", "line_key", "charge_type", "charge_start",
    "charge_end", "quantity", "unit_price", "subtotal", "total", "is_usage", "invoice_number",
    "currency")))
ZERO = Decimal(0)
SEPARATOR = ";"


def day(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(value)


def number(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _sum(texts: str | None) -> Decimal:
    return sum(map(Decimal, texts.split(SEPARATOR)), ZERO) if texts else ZERO


@dataclass
class PeriodCharges:
    """Seat lines as raw rows, and usage groups, per (connection, subscription)."""

    seats: dict[tuple[int, str], list[tuple]] = field(default_factory=lambda: defaultdict(list))
    usage: dict[tuple[int, str], list[tuple]] = field(default_factory=lambda: defaultdict(list))

    def of(self, connection_id: int, subscription: str, currency: str
           ) -> tuple[list[BilledLine], tuple[VendorCharge, ...]]:
        """The subscription's billed seat lines (every currency: seats are seats) and its
        charges in the subscription's currency."""
        key = (connection_id, subscription)
        billed, charges = [], []
        for (line_key, charge_type, start, end, quantity, unit_price, subtotal, total,
             invoice, line_currency) in self.seats.get(key, ()):
            start, end = day(start), day(end)
            quantity, unit_price = Decimal(quantity), number(unit_price)
            if end is not None and states_seats(charge_type):
                billed.append(BilledLine(line_key, start, end, quantity, unit_price))
            if line_currency == currency:
                amount = number(total if total is not None else subtotal) or ZERO
                charges.append(VendorCharge(line_key, charge_type, start, end or start, quantity,
                                            unit_price, amount, False, invoice))
        for (charge_type, invoice, line_currency, start, end, first_key, lines, quantities,
             amounts) in self.usage.get(key, ()):
            if line_currency == currency:
                label = f"{first_key} (+{lines - 1} usage lines)" if lines > 1 else first_key
                charges.append(VendorCharge(label, charge_type, day(start), day(end),
                                            _sum(quantities), None, _sum(amounts), True,
                                            invoice))
        return billed, tuple(charges)


def _in_period(period: BillingPeriod):  # noqa: ANN202
    return and_(LINES.c.subscription_external_id.is_not(None),
                LINES.c.charge_start <= period.end.isoformat(),
                or_(LINES.c.charge_end >= period.start.isoformat(),
                    LINES.c.charge_end.is_(None)))


def raw_rows(conn: Connection, query: Select) -> Any:
    """Rows straight from the DBAPI cursor: a million rows through SQLAlchemy's result
    objects would cost several seconds of per-row Python."""
    compiled = query.compile(conn)
    params: Any = compiled.params
    if compiled.positional:
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
    cursor = conn.connection.cursor()
    cursor.execute(str(compiled), params)
    return cursor


def _concat(conn: Connection, value: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return func.string_agg(value, SEPARATOR)
    return func.group_concat(value, SEPARATOR)


def load_period_charges(session: Session, period: BillingPeriod) -> PeriodCharges:
    """Charge lines that touch the period (ix_charge_lines_subscription serves the range)."""
    conn, c, out = session.connection(), LINES.c, PeriodCharges()
    seats = select(c.connection_id, c.subscription_external_id, c.line_key, c.charge_type,
                   c.charge_start, c.charge_end, c.quantity, c.unit_price, c.subtotal, c.total,
                   c.invoice_number, c.currency).where(_in_period(period), c.is_usage.is_(False))
    for row in raw_rows(conn, seats):
        out.seats[(row[0], row[1])].append(row[2:])
    # Grouped by the index's own order (connection, subscription): no sort. A subscription
    # whose usage comes in several currencies (never seen in practice) is grouped again by
    # currency, because amounts in two currencies are never added.
    usage = (select(c.connection_id, c.subscription_external_id, func.min(c.currency),
                    func.max(c.currency), func.min(c.charge_type), func.min(c.invoice_number),
                    func.max(c.invoice_number), func.min(c.charge_start),
                    func.max(func.coalesce(c.charge_end, c.charge_start)),
                    func.min(c.line_key), func.count(), _concat(conn, c.quantity),
                    _concat(conn, func.coalesce(c.total, c.subtotal)))
             .where(_in_period(period), c.is_usage.is_(True))
             .group_by(c.connection_id, c.subscription_external_id))
    mixed = []
    for (connection_id, subscription, currency, other_currency, charge_type, invoice,
         last_invoice, start, end, first_key, lines, quantities, amounts) in raw_rows(conn,
                                                                                    usage):
        if currency != other_currency:
            mixed.append((connection_id, subscription))
            continue
        if invoice != last_invoice:
            invoice = f"{invoice}..{last_invoice}"
        out.usage[(connection_id, subscription)].append(
            (charge_type, invoice, currency, start, end, first_key, lines, quantities, amounts))
    for connection_id, subscription in mixed:
        by_currency = (select(c.charge_type, c.invoice_number, c.currency,
                              func.min(c.charge_start),
                              func.max(func.coalesce(c.charge_end, c.charge_start)),
                              func.min(c.line_key), func.count(), _concat(conn, c.quantity),
                              _concat(conn, func.coalesce(c.total, c.subtotal)))
                       .where(_in_period(period), c.is_usage.is_(True),
                              c.connection_id == connection_id,
                              c.subscription_external_id == subscription)
                       .group_by(c.charge_type, c.invoice_number, c.currency))
        out.usage[(connection_id, subscription)] += list(raw_rows(conn, by_currency))
    return out
