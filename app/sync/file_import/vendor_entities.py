"""Vendor customers, products and subscriptions inferred from charge lines, so mapping can
start from a recon file alone, with no API connection.

A subscription's quantity is its seats on the last day any of its lines covers: the sum of
the signed seat lines that cover that day (an addQuantity refund and recharge net out to
the new quantity), each distinct line once. It is computed while streaming in O(1) per line:
a line ending later than the current last day starts a fresh sum, because no earlier line
can cover that new day.
An older file imported after a newer one updates names but never rolls quantities back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Table, func, select

from app.models.types import utcnow
from app.models.vendor import ChargeLine, VendorCustomer, VendorProduct, VendorSubscription
from app.sync.file_import.charge_store import placeholder
from app.sync.file_import.lines import ParsedLine

CUSTOMERS: Table = VendorCustomer.__table__  # type: ignore[assignment]
PRODUCTS: Table = VendorProduct.__table__  # type: ignore[assignment]
SUBSCRIPTIONS: Table = VendorSubscription.__table__  # type: ignore[assignment]
LINES: Table = ChargeLine.__table__  # type: ignore[assignment]
ZERO = Decimal(0)


@dataclass(slots=True)
class _Subscription:
    """Dates are ISO text, as in ParsedLine (ISO text sorts like the dates)."""

    customer_id: str
    sku: str
    product_name: str
    currency: str
    last_day: str | None = None  # the latest ChargeEndDate among its seat lines
    quantity: Decimal = ZERO  # seats on last_day
    day_keys: set[str] = field(default_factory=set)  # lines summed into quantity
    newest_start: str | None = None
    latest_end: str | None = None  # of any line: which line describes it best
    term: str | None = None
    billing_frequency: str | None = None
    start: str | None = None
    end: str | None = None
    first_charge: str | None = None
    last_charge: str | None = None
    cancelled: bool = False
    has_seats: bool = False


@dataclass
class VendorEntities:
    """Accumulates what the lines say about customers, products and subscriptions."""

    customers: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    products: dict[str, str | None] = field(default_factory=dict)
    subscriptions: dict[str, _Subscription] = field(default_factory=dict)
    previous_newest: dict[str, str] = field(default_factory=dict)

    def load_previous(self, conn: Connection, connection_id: int) -> None:
        """The newest charge start already stored per subscription (an index-only scan),
        read before this file's lines go in."""
        rows = conn.execute(
            select(LINES.c.subscription_external_id, func.max(LINES.c.charge_start))
            .where(LINES.c.connection_id == connection_id)
            .group_by(LINES.c.subscription_external_id))
        self.previous_newest = {sub: str(day) for sub, day in rows if sub and day}

    def add(self, line: ParsedLine) -> None:
        (key, customer, customer_name, subscription, sku, product, _type, start, end, _text,
         _price, _rate, _subtotal, _total, currency, _invoice, term, frequency, _order,
         is_usage, _extra, _row, domain, quantity, seats, cancels, sub_start, sub_end) = line
        known = self.customers.get(customer)
        if known is None or known[0] != customer_name or known[1] != domain:
            self.customers[customer] = (customer_name, domain)
        if sku and self.products.get(sku) != product:
            self.products[sku] = product
        if not subscription:
            return
        sub = self.subscriptions.get(subscription)
        if sub is None:
            sub = _Subscription(customer, sku or "", product or sku or subscription, currency)
            self.subscriptions[subscription] = sub
        if start is not None:
            if sub.newest_start is None or start > sub.newest_start:
                sub.newest_start = start
            if sub.first_charge is None or start < sub.first_charge:
                sub.first_charge = start
        if end is not None and (sub.last_charge is None or end > sub.last_charge):
            sub.last_charge = end
        if seats and end is not None:
            sub.has_seats = True
            if sub.last_day is None or end > sub.last_day:
                sub.last_day, sub.quantity, sub.day_keys = end, quantity, {key}
            elif end == sub.last_day and key not in sub.day_keys:  # a duplicate counts once
                sub.quantity += quantity
                sub.day_keys.add(key)
        if cancels:
            sub.cancelled = True
        if sub.latest_end is None or end is None or end >= sub.latest_end:
            # the line that ends last describes the subscription best
            sub.latest_end = end or sub.latest_end
            sub.customer_id = customer
            sub.currency = currency
            if sku:
                sub.sku = sku
            if product:
                sub.product_name = product
            sub.term = term or sub.term
            sub.billing_frequency = frequency or sub.billing_frequency
            sub.start = sub_start or sub.start
            sub.end = sub_end or sub.end
            if is_usage and not sub.has_seats:
                sub.billing_frequency = sub.billing_frequency or "Usage"

    # --- writing -----------------------------------------------------------------------------

    def write(self, conn: Connection, connection_id: int) -> dict[str, int]:
        """Insert new customers, products and subscriptions; refresh the ones we know."""
        counts = {"customers": self._write_customers(conn, connection_id),
                  "products": self._write_products(conn, connection_id)}
        counts["subscriptions"] = self._write_subscriptions(conn, connection_id)
        return counts

    def _write_customers(self, conn: Connection, connection_id: int) -> int:
        known = {row.external_id: row for row in conn.execute(
            select(CUSTOMERS.c.id, CUSTOMERS.c.external_id, CUSTOMERS.c.name,
                   CUSTOMERS.c.domain).where(CUSTOMERS.c.connection_id == connection_id))}
        new, changed = [], []
        now = utcnow()
        for external_id, (name, domain) in self.customers.items():
            old = known.get(external_id)
            if old is None:
                new.append({"connection_id": connection_id, "external_id": external_id,
                            "name": name or domain or external_id, "domain": domain,
                            "first_seen_at": now})
            elif (name and name != old.name) or (domain and domain != old.domain):
                changed.append({"id": old.id, "name": name or old.name,
                                "domain": domain or old.domain})
        _insert(conn, CUSTOMERS, new)
        _update(conn, CUSTOMERS, changed)
        return len(new)

    def _write_products(self, conn: Connection, connection_id: int) -> int:
        known = {row.sku: row for row in conn.execute(
            select(PRODUCTS.c.id, PRODUCTS.c.sku, PRODUCTS.c.name)
            .where(PRODUCTS.c.connection_id == connection_id))}
        new, changed = [], []
        for sku, name in self.products.items():
            old = known.get(sku)
            if old is None:
                new.append({"connection_id": connection_id, "sku": sku, "name": name or sku})
            elif name and name != old.name:
                changed.append({"id": old.id, "name": name})
        _insert(conn, PRODUCTS, new)
        _update(conn, PRODUCTS, changed)
        return len(new)

    def _write_subscriptions(self, conn: Connection, connection_id: int) -> int:
        customer_ids = {external: id_ for external, id_ in conn.execute(
            select(CUSTOMERS.c.external_id, CUSTOMERS.c.id)
            .where(CUSTOMERS.c.connection_id == connection_id))}
        known = {external: id_ for external, id_ in conn.execute(
            select(SUBSCRIPTIONS.c.external_id, SUBSCRIPTIONS.c.id)
            .where(SUBSCRIPTIONS.c.connection_id == connection_id))}
        now = utcnow()
        new, refreshed, renamed = [], [], []
        for external_id, sub in self.subscriptions.items():
            values = {
                "customer_id": customer_ids[sub.customer_id], "sku": sub.sku,
                "product_name": sub.product_name, "currency": sub.currency,
                "quantity": sub.quantity if sub.has_seats else ZERO,
                "term": sub.term, "billing_frequency": sub.billing_frequency,
                "start_date": _day(sub.start or sub.first_charge),
                "end_date": _day(sub.end or sub.last_charge),
                "status": "Cancelled" if sub.cancelled and sub.quantity <= 0 else "Active",
                "updated_at": now,
            }
            old_id = known.get(external_id)
            if old_id is None:
                new.append({"connection_id": connection_id, "external_id": external_id,
                            "unit_cost": None, "unit_price": None,
                            "created_at_vendor": None, **values})
                continue
            previous = self.previous_newest.get(external_id)
            newest = sub.newest_start
            if previous is None or (newest is not None and newest >= previous):
                refreshed.append({"id": old_id, **values})
            else:  # an older file: keep the newer state, refresh only the names
                renamed.append({"id": old_id, "product_name": sub.product_name})
        _insert(conn, SUBSCRIPTIONS, new)
        _update(conn, SUBSCRIPTIONS, refreshed)
        _update(conn, SUBSCRIPTIONS, renamed)
        return len(new)


def _day(iso: str | None) -> date | None:
    return None if iso is None else date.fromisoformat(iso)


def _insert(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = list(rows[0])
        marks = ", ".join([placeholder(conn)] * len(columns))
        _execute_many(conn, f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({marks})",
                      table, columns, rows)


def _update(conn: Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        columns = [name for name in rows[0] if name != "id"]
        mark = placeholder(conn)
        sets = ", ".join(f"{name} = {mark}" for name in columns)
        _execute_many(conn, f"UPDATE {table.name} SET {sets} WHERE id = {mark}", table,
                      [*columns, "id"], rows)


def _execute_many(conn: Connection, sql: str, table: Table, columns: list[str],
                  rows: list[dict[str, Any]]) -> None:
    """executemany with tuples, each value converted by its column type's own bind
    processor (exact decimal text, dates, UTC timestamps), column by column and memoised:
    Core would do the same per row with dicts, several times slower for 40,000
    subscriptions."""
    dialect = conn.dialect  # the dialect's own type (SQLite DATE...), as Core would use
    processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect)
                  for name in columns]
    for start in range(0, len(rows), 5_000):
        chunk = rows[start:start + 5_000]
        values = []
        for name, process in zip(columns, processors, strict=True):
            column = [row[name] for row in chunk]
            if process is not None:
                memo: dict[Any, Any] = {None: None}
                column = [memo[v] if v in memo else memo.setdefault(v, process(v))
                          for v in column]
            values.append(column)
        conn.exec_driver_sql(sql, list(zip(*values, strict=True)))
