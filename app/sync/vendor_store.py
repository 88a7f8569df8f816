"""Storing one complete vendor snapshot: customers, products, subscriptions, a dated snapshot
row per subscription, invoices and charge lines, all in the caller's one transaction.

It is called only after every page was read, so a failed or cancelled sync changes nothing
here and the last complete snapshot stays current. A subscription that a complete snapshot no
longer returns keeps its row (mappings, lots and history stay) and becomes status "Missing":
its `updated_at` is when it was first missed, and that sync gets one "Missing" snapshot row
with the last known seats. Reconciliation then raises "billed but cancelled" for it. One that
had already ended (Cancelled...) keeps its status.

Bulk rows go through Core executemany after one dict lookup of the existing rows, never ORM
objects one at a time (PERFORMANCE.md), so tens of thousands of subscriptions store in seconds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from app.domain.seat_history import MISSING, is_ended
from app.models import usage_days
from app.models.types import stored_places
from app.models.vendor import (
    ChargeLine,
    SubscriptionSnapshot,
    VendorCustomer,
    VendorInvoice,
    VendorProduct,
    VendorSubscription,
)
from app.sync.records import (
    ChargeLineRecord,
    SubscriptionChangeRecord,
    VendorCustomerRecord,
    VendorInvoiceRecord,
    VendorProductRecord,
    VendorSubscriptionRecord,
)

CHUNK = 1000  # bound parameters per IN (...) lookup; far below SQLite's and PostgreSQL's limits
KEY_LENGTH = 64  # ChargeLine.line_key

CUSTOMERS: Table = VendorCustomer.__table__  # type: ignore[assignment]
PRODUCTS: Table = VendorProduct.__table__  # type: ignore[assignment]
SUBSCRIPTIONS: Table = VendorSubscription.__table__  # type: ignore[assignment]
SNAPSHOTS: Table = SubscriptionSnapshot.__table__  # type: ignore[assignment]
INVOICES: Table = VendorInvoice.__table__  # type: ignore[assignment]
LINES: Table = ChargeLine.__table__  # type: ignore[assignment]

# The subscription fields a sync refreshes; a difference in any of them is a change.
_SUB_FIELDS = ("customer_id", "sku", "product_name", "quantity", "unit_cost", "unit_price",
               "currency", "term", "billing_frequency", "start_date", "end_date", "status",
               "created_at_vendor")


class VendorDataError(ValueError):
    """The fetched data does not hang together (e.g. a subscription of an unknown company)."""


@dataclass(frozen=True)
class VendorSnapshot:
    """Everything one sync read from a vendor, complete before anything is written."""

    customers: Sequence[VendorCustomerRecord]
    products: Sequence[VendorProductRecord]
    subscriptions: Sequence[VendorSubscriptionRecord]
    history: Mapping[str, Sequence[SubscriptionChangeRecord]] = field(default_factory=dict)
    invoices: Sequence[VendorInvoiceRecord] = ()
    charge_lines: Sequence[ChargeLineRecord] = ()
    complete: bool = True  # False: a filtered read, so absent subscriptions are not "Missing"


@dataclass(frozen=True)
class VendorBaseline:
    """What the last complete snapshot holds, so the next fetch reads only what it must."""

    customers: frozenset[str]
    subscriptions: Mapping[str, tuple[Decimal, str]]  # external id -> (quantity, status)
    last_invoice_date: date | None
    invoices: frozenset[str]
    usage_subscriptions: frozenset[str]

    def needs_history(self, record: VendorSubscriptionRecord) -> bool:
        """New, or its seats or status differ from the stored state: read its history."""
        known = self.subscriptions.get(record.external_id)
        return known is None or known != (record.quantity, record.status)


@dataclass(frozen=True)
class VendorStoreResult:
    customers: int
    products: int
    subscriptions: int
    new_subscriptions: int
    changed_subscriptions: int
    missing_subscriptions: int
    snapshots: int
    invoices: int
    new_invoices: int
    charge_lines: int
    updated_charge_lines: int
    duplicate_charge_lines: int
    subscription_ids: Mapping[str, int] = field(default_factory=dict, repr=False)
    # New, or seats or status changed (which is when the vendor's history is read): their
    # seat lots are derived again. A price or term-date change alone keeps the lots.
    reseated_ids: frozenset[int] = frozenset()
    missing_ids: frozenset[int] = frozenset()

    def counts(self) -> dict[str, int]:
        return {k: v for k, v in self.__dict__.items() if isinstance(v, int)}


def load_baseline(session: Session, connection_id: int) -> VendorBaseline:
    customers = session.scalars(select(CUSTOMERS.c.external_id)
                                .where(CUSTOMERS.c.connection_id == connection_id))
    subs = session.execute(select(SUBSCRIPTIONS.c.external_id, SUBSCRIPTIONS.c.quantity,
                                  SUBSCRIPTIONS.c.status)
                           .where(SUBSCRIPTIONS.c.connection_id == connection_id))
    invoices = session.execute(select(INVOICES.c.external_id, INVOICES.c.invoice_date)
                               .where(INVOICES.c.connection_id == connection_id)).all()
    usage = session.scalars(select(LINES.c.subscription_external_id).distinct()
                            .where(LINES.c.connection_id == connection_id,
                                   LINES.c.is_usage.is_(True),
                                   LINES.c.subscription_external_id.is_not(None)))
    return VendorBaseline(
        customers=frozenset(customers),
        subscriptions={ext: (qty, status) for ext, qty, status in subs},
        last_invoice_date=max((d for _, d in invoices), default=None),
        invoices=frozenset(ext for ext, _ in invoices),
        usage_subscriptions=frozenset(usage))


def store_vendor_snapshot(session: Session, connection_id: int, sync_run_id: int,
                          snap: VendorSnapshot, *, taken_at: datetime) -> VendorStoreResult:
    """Write `snap` as the current state and as the snapshot of run `sync_run_id`."""
    if taken_at.utcoffset() is None:
        raise ValueError("taken_at must be timezone-aware")
    customer_ids = _store_customers(session, connection_id, snap.customers, taken_at)
    _store_products(session, connection_id, snap.products)
    subs = _store_subscriptions(session, connection_id, sync_run_id, snap, customer_ids,
                                taken_at)
    invoices, new_invoices = _store_invoices(session, connection_id, snap.invoices)
    new_lines, updated, duplicates = _store_charge_lines(session, connection_id,
                                                         snap.charge_lines)
    return VendorStoreResult(
        customers=len(snap.customers), products=len(snap.products),
        subscriptions=len(snap.subscriptions), new_subscriptions=len(subs.new),
        changed_subscriptions=len(subs.changed), missing_subscriptions=len(subs.missing),
        snapshots=subs.snapshots, invoices=invoices, new_invoices=new_invoices,
        charge_lines=new_lines, updated_charge_lines=updated, duplicate_charge_lines=duplicates,
        subscription_ids=subs.ids, reseated_ids=frozenset(subs.new | subs.reseated),
        missing_ids=frozenset(subs.missing))


# ---------------------------------------------------------------- entities


def _existing(session: Session, table: Table, key: str, connection_id: int,
              columns: Sequence[str]) -> dict[str, dict[str, Any]]:
    cols = [table.c.id, table.c[key], *(table.c[c] for c in columns)]
    rows = session.execute(select(*cols).where(table.c.connection_id == connection_id))
    return {row._mapping[key]: dict(row._mapping) for row in rows}


def _upsert(session: Session, table: Table, key: str, connection_id: int,
            rows: Mapping[str, dict[str, Any]], insert_only: Mapping[str, Any]) -> dict[str, int]:
    """Insert new keys, update rows whose values differ; returns key -> id for all rows."""
    columns = list(next(iter(rows.values())).keys()) if rows else []
    existing = _existing(session, table, key, connection_id, columns)
    new = [{"connection_id": connection_id, key: k, **insert_only, **v}
           for k, v in rows.items() if k not in existing]
    changed = [{"b_id": existing[k]["id"], **v} for k, v in rows.items()
               if k in existing and any(existing[k][c] != v[c] for c in columns)]
    if new:
        bulk_insert(session, table, new)
    if changed:
        session.execute(update(table).where(table.c.id == bindparam("b_id"))
                        .values({c: bindparam(c) for c in columns}), changed)
    ids = {k: row["id"] for k, row in existing.items()}
    if new:
        ids.update(session.execute(select(table.c[key], table.c.id)
                                   .where(table.c.connection_id == connection_id)).all())
    return ids


def _store_customers(session: Session, connection_id: int,
                     records: Iterable[VendorCustomerRecord], now: datetime) -> dict[str, int]:
    rows = {r.external_id: {"name": _cut(r.name, 200) or "", "domain": _cut(r.domain, 200),
                            "status": _cut(r.status, 40)} for r in records}
    return _upsert(session, CUSTOMERS, "external_id", connection_id, rows,
                   {"first_seen_at": now})


def _store_products(session: Session, connection_id: int,
                    records: Iterable[VendorProductRecord]) -> None:
    rows = {r.sku: {"name": _cut(r.name, 200) or "", "vendor_name": _cut(r.vendor_name, 200)}
            for r in records}
    _upsert(session, PRODUCTS, "sku", connection_id, rows, {})


@dataclass
class _SubsWritten:
    ids: dict[str, int]
    new: set[int]
    changed: set[int]
    missing: set[int]
    reseated: set[int]
    snapshots: int


def _store_subscriptions(session: Session, connection_id: int, sync_run_id: int,
                         snap: VendorSnapshot, customer_ids: Mapping[str, int],
                         now: datetime) -> _SubsWritten:
    unknown = sorted({r.customer_external_id for r in snap.subscriptions}
                     - customer_ids.keys())
    if unknown:
        raise VendorDataError(
            f"{len(unknown)} subscription customer(s) were not among the companies read "
            f"(e.g. {unknown[0]}); the vendor data changed while it was read. Sync again.")
    existing = _existing(session, SUBSCRIPTIONS, "external_id", connection_id, _SUB_FIELDS)
    new_rows, changed_rows, reseated = [], [], set()
    for rec in snap.subscriptions:
        values = _subscription_values(rec, customer_ids[rec.customer_external_id])
        row = existing.get(rec.external_id)
        if row is None:
            new_rows.append({"connection_id": connection_id, "external_id": rec.external_id,
                             "updated_at": now, **values})
        elif any(row[c] != values[c] for c in _SUB_FIELDS):
            changed_rows.append({"b_id": row["id"], "updated_at": now, **values})
            if (row["quantity"], row["status"]) != (values["quantity"], values["status"]):
                reseated.add(row["id"])
    seen = {r.external_id for r in snap.subscriptions}
    missing = [row for ext, row in existing.items()
               if snap.complete and ext not in seen and not is_ended(row["status"])]
    changed_rows += [{"b_id": row["id"], "updated_at": now,
                      **{c: row[c] for c in _SUB_FIELDS if c != "status"}, "status": MISSING}
                     for row in missing]
    if new_rows:
        bulk_insert(session, SUBSCRIPTIONS, new_rows)
    if changed_rows:
        fields = ("updated_at", *_SUB_FIELDS)
        session.execute(update(SUBSCRIPTIONS).where(SUBSCRIPTIONS.c.id == bindparam("b_id"))
                        .values({c: bindparam(c) for c in fields}), changed_rows)
    ids = {ext: row["id"] for ext, row in existing.items()}
    if new_rows:
        ids.update(session.execute(select(SUBSCRIPTIONS.c.external_id, SUBSCRIPTIONS.c.id)
                                   .where(SUBSCRIPTIONS.c.connection_id == connection_id))
                   .all())
    snapshots = [{"sync_run_id": sync_run_id, "subscription_id": ids[rec.external_id],
                  "taken_at": now, "quantity": rec.quantity, "unit_cost": rec.unit_cost,
                  "status": _cut(rec.status, 40), "end_date": rec.end_date}
                 for rec in snap.subscriptions]
    snapshots += [{"sync_run_id": sync_run_id, "subscription_id": row["id"], "taken_at": now,
                   "quantity": row["quantity"], "unit_cost": row["unit_cost"],
                   "status": MISSING, "end_date": None} for row in missing]
    if snapshots:
        bulk_insert(session, SNAPSHOTS, snapshots)
    new_ext = {r["external_id"] for r in new_rows}
    return _SubsWritten(
        ids={ext: ids[ext] for ext in seen}, new={ids[ext] for ext in new_ext},
        changed={r["b_id"] for r in changed_rows} - {row["id"] for row in missing},
        missing={row["id"] for row in missing}, reseated=reseated, snapshots=len(snapshots))


def _subscription_values(rec: VendorSubscriptionRecord, customer_id: int) -> dict[str, Any]:
    return {"customer_id": customer_id, "sku": _cut(rec.sku, 100),
            "product_name": _cut(rec.product_name, 200) or "", "quantity": rec.quantity,
            "unit_cost": rec.unit_cost, "unit_price": rec.unit_price,
            "currency": rec.currency, "term": _cut(rec.term, 10),
            "billing_frequency": _cut(rec.billing_frequency, 20), "start_date": rec.start_date,
            "end_date": rec.end_date, "status": _cut(rec.status, 40),
            "created_at_vendor": rec.created_at}


# ---------------------------------------------------------------- invoices and charge lines


def _store_invoices(session: Session, connection_id: int,
                    records: Sequence[VendorInvoiceRecord]) -> tuple[int, int]:
    before = session.scalar(select(func.count()).select_from(INVOICES)
                            .where(INVOICES.c.connection_id == connection_id)) or 0
    rows = {r.external_id: {"invoice_date": r.invoice_date, "due_date": r.due_date,
                            "total": r.total, "currency": r.currency,
                            "status": _cut(r.status, 40)} for r in records}
    ids = _upsert(session, INVOICES, "external_id", connection_id, rows, {})
    return len(records), len(ids) - before


def line_key(record: ChargeLineRecord) -> str:
    """The source's own key when it fits the column, else a digest of it (stable)."""
    key = record.source_key
    if len(key) <= KEY_LENGTH:
        return key
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()[:KEY_LENGTH - 7]


def _store_charge_lines(session: Session, connection_id: int,
                        records: Sequence[ChargeLineRecord]) -> tuple[int, int, int]:
    """Insert lines not stored yet. A stored usage line whose amounts moved (the day is not
    settled yet) is updated; a stored invoice line is final and left alone."""
    batch: dict[str, ChargeLineRecord] = {}
    for rec in records:
        batch.setdefault(line_key(rec), rec)
    duplicates = len(records) - len(batch)
    stored: dict[str, tuple[int, Decimal, Decimal | None]] = {}
    for chunk in _chunks(list(batch), CHUNK):
        stored.update((key, (row_id, qty, total)) for key, row_id, qty, total in session.execute(
            select(LINES.c.line_key, LINES.c.id, LINES.c.quantity, LINES.c.total)
            .where(LINES.c.connection_id == connection_id, LINES.c.line_key.in_(chunk))))
    new, moved = [], []
    for key, rec in batch.items():
        known = stored.get(key)
        if known is None:
            new.append(_line_values(connection_id, key, rec))
        elif rec.is_usage and (known[1], known[2]) != (rec.quantity, rec.total):
            values = _line_values(connection_id, key, rec)
            moved.append({"b_id": known[0], **{name: values[name] for name in MOVING}})
        else:
            duplicates += 1
    if new:
        bulk_insert(session, LINES, new)
    if moved:
        session.execute(update(LINES).where(LINES.c.id == bindparam("b_id")).values(
            {name: bindparam(name) for name in MOVING}), moved)
    if new or moved:
        usage_days.fold(session.connection())  # before the statistics: they count the days
    if new:
        refresh_statistics_if_stale(session)
    return len(new), len(moved), duplicates


# What a usage line not settled yet may change (see _store_charge_lines).
MOVING = ("quantity", "subtotal", "total", "unit_price", "quantity_places", "amount_places")


def _line_values(connection_id: int, key: str, rec: ChargeLineRecord) -> dict[str, Any]:
    """The line's row; no import file, no extra (both stay SQL NULL). Only usage lines are
    summed, so only they are given their places (see ChargeLine)."""
    usage = rec.is_usage
    return {"connection_id": connection_id, "line_key": key,
            "customer_external_id": _cut(rec.customer_external_id, 100) or "",
            "customer_name": _cut(rec.customer_name, 200),
            "subscription_external_id": _cut(rec.subscription_external_id, 100),
            "sku": _cut(rec.sku, 100), "product_name": _cut(rec.product_name, 200),
            "charge_type": _cut(rec.charge_type, 40) or "", "charge_start": rec.charge_start,
            "charge_end": rec.charge_end, "quantity": rec.quantity,
            "unit_price": rec.unit_price, "exchange_rate": rec.exchange_rate,
            "subtotal": rec.subtotal, "total": rec.total, "currency": rec.currency,
            "invoice_number": _cut(rec.invoice_number, 100), "term": _cut(rec.term, 10),
            "billing_frequency": _cut(rec.billing_frequency, 20), "order_date": rec.order_date,
            "is_usage": usage, "quantity_places": stored_places(rec.quantity) if usage else None,
            "amount_places": stored_places(rec.total if rec.total is not None else rec.subtotal)
            if usage else None}


def _cut(text: str | None, length: int) -> str | None:
    """Fit a column (PostgreSQL enforces VARCHAR lengths; SQLite does not)."""
    return None if text is None else str(text)[:length]


# Once this many charge lines came in since the query planner's statistics were gathered
# (in one import or in many small syncs), they are gathered again.
STATISTICS_AFTER = 5_000
STATISTICS_SAMPLE = 1000  # rows sampled per index


def refresh_statistics(session: Session) -> None:
    """Let SQLite's planner know how charge lines cluster by subscription and day (sampled:
    milliseconds): without statistics it reads every line ever imported to reconcile one
    month, instead of searching each subscription's days in the period. PostgreSQL
    gathers its own."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql(f"PRAGMA analysis_limit={STATISTICS_SAMPLE}")
        conn.exec_driver_sql("ANALYZE charge_lines")
        if usage_days.kept(conn):  # the same for the days of usage (app.models.usage_days)
            conn.exec_driver_sql("ANALYZE usage_days")


def refresh_statistics_if_stale(session: Session) -> bool:
    """`refresh_statistics` when STATISTICS_AFTER lines or more came in since it last ran
    (SQLite notes the lines it counted then): a workspace fed by daily syncs of a few
    thousand lines each is kept as well known to the planner as one fed by big imports.
    True when it ran."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":
        return False
    counted = 0
    if conn.exec_driver_sql("SELECT 1 FROM sqlite_master WHERE type = 'table' AND "
                            "name = 'sqlite_stat1'").first() is not None:
        stat = conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'charge_lines' "
                                    "AND idx = 'ix_charge_lines_subscription'").scalar()
        counted = int(str(stat).split()[0]) if stat else 0
    lines = conn.exec_driver_sql("SELECT count(*) FROM charge_lines").scalar() or 0
    if lines - counted < STATISTICS_AFTER:
        return False
    refresh_statistics(session)
    return True


def bulk_insert(session: Session, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """One DBAPI executemany with each column's own bind processor (exact money, aware UTC
    timestamps), skipping Core's per-row parameter machinery, which costs about three times
    the insert itself (PERFORMANCE.md). Every row must give every column the insert needs:
    Python-side defaults are not applied here."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    keys = list(rows[0])
    compiled = table.insert().compile(dialect=dialect, column_keys=keys)
    names = list(compiled.positiontup or []) if compiled.positional else list(compiled.params)
    unknown = set(names) - set(keys)
    if unknown:
        raise ValueError(f"bulk insert into {table.name} lacks {sorted(unknown)}")
    procs = [(name, table.c[name].type.dialect_impl(dialect).bind_processor(dialect))
             for name in names]
    if compiled.positional:
        params: list[Any] = [tuple(row[n] if p is None else p(row[n]) for n, p in procs)
                             for row in rows]
    else:
        params = [{n: row[n] if p is None else p(row[n]) for n, p in procs} for row in rows]
    connection.exec_driver_sql(compiled.string, params)


def _chunks(items: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]
