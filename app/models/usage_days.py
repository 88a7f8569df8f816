"""Each day's usage of a subscription, added up from its charge lines (SQLite workspaces).

A month of Azure daily usage is a line per meter per day, and a reconciliation only ever
adds a month's usage up per subscription (app.services.reconcile_charges). `usage_days`
keeps the lines added up per (connection, subscription, first day, billed or not): a row
says how many lines, their quantities' and amounts' sums as SQLite's SUM gives them, the
most decimals any of them has (app.models.types.stored_places: what proves a float sum
exact), their currencies, charge type, invoices, last day and first line key. Billed and
unbilled lines of a day stay apart: a day's unbilled lines are dropped when its billed ones
are in (see `_not_superseded` there).

The rows are derived data, always rebuilt from the lines, never adjusted:

* `fold` adds up again every day that has a usage line newer than the mark (the highest
  line id folded in), or that a trigger put in `usage_days_pending` because one of its
  usage lines was updated or deleted (migration 0007), then moves the mark to the newest
  line. The importers fold at the end of their transaction; a reconciliation folds first
  what is left (lines written any other way).
* `current` says, in the caller's snapshot, whether nothing is left to fold: only then are
  the days read instead of the lines.

A new line's id is the largest stored one plus one (SQLite's rowid without AUTOINCREMENT),
so it is above the mark unless lines were deleted: the delete trigger then takes the mark
below the deleted id, so nothing slips under it unseen.

PostgreSQL sums NUMERIC exactly and never has these tables.
"""

from __future__ import annotations

from sqlalchemy import Connection, column, table

from app.models.types import NEGATIVE_PLACES

DAYS = table("usage_days", *(column(name) for name in (
    "connection_id", "subscription_external_id", "day", "billed", "lines", "quantity",
    "quantity_places", "amount", "amount_places", "currency", "last_currency", "charge_type",
    "invoice_number", "last_invoice_number", "last_day", "first_line_key")))
TABLES = ("usage_days", "usage_days_pending", "usage_days_mark")

# A line counts as billed once it has an invoice number.
_BILLED = "(coalesce(l.invoice_number, '') != '')"
# One row of usage_days from the lines `l` of a day (NULL places: unproven, see
# app.services.reconcile_charges.exact_sum).
_ADDED_UP = f"""
    SELECT l.connection_id, l.subscription_external_id, l.charge_start, {_BILLED}, count(*),
           sum(l.quantity), max(coalesce(l.quantity_places, {NEGATIVE_PLACES})),
           sum(coalesce(l.total, l.subtotal)),
           max(coalesce(l.amount_places, {NEGATIVE_PLACES})),
           min(l.currency), max(l.currency), min(l.charge_type), min(l.invoice_number),
           max(l.invoice_number), max(coalesce(l.charge_end, l.charge_start)), min(l.line_key)
    FROM usage_days_pending AS p
    JOIN charge_lines AS l ON l.connection_id = p.connection_id
         AND l.subscription_external_id = p.subscription_external_id
         AND l.charge_start = p.day
    WHERE l.is_usage
    GROUP BY p.connection_id, p.subscription_external_id, p.day, {_BILLED}"""


KEPT = "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'usage_days_mark'"


def kept(conn: Connection) -> bool:
    """Whether the workspace keeps usage days (a SQLite workspace at migration 0007+)."""
    return conn.dialect.name == "sqlite" and conn.exec_driver_sql(KEPT).scalar() == 1


def _newest_line(conn: Connection) -> int:
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM charge_lines").scalar())


def behind(conn: Connection) -> bool:
    """Whether the workspace keeps usage days and some lines are not in them yet."""
    return kept(conn) and not current(conn)


def current(conn: Connection) -> bool:
    """Whether, in the caller's snapshot, the days hold every usage line as it is."""
    if not kept(conn):
        return False
    through = conn.exec_driver_sql("SELECT through FROM usage_days_mark").scalar()
    pending = conn.exec_driver_sql("SELECT 1 FROM usage_days_pending LIMIT 1").first()
    return pending is None and through is not None and through >= _newest_line(conn)


def fold(conn: Connection) -> int:
    """Add up again every day with a usage line newer than the mark or pending, in the
    caller's transaction; how many days that was (0 when the days were current)."""
    if not kept(conn):
        return 0
    through = int(conn.exec_driver_sql("SELECT through FROM usage_days_mark").scalar() or 0)
    newest = _newest_line(conn)
    if newest > through:  # the new lines by id (by the subscription index SQLite would
        # rather read them in its order, looking each line up: ten times slower)
        conn.exec_driver_sql(
            "INSERT OR IGNORE INTO usage_days_pending SELECT DISTINCT connection_id, "
            "subscription_external_id, charge_start FROM charge_lines NOT INDEXED "
            "WHERE id > ? AND is_usage AND subscription_external_id IS NOT NULL "
            "AND charge_start IS NOT NULL", (through,))
    pending = [tuple(row) for row in conn.exec_driver_sql(
        "SELECT connection_id, subscription_external_id, day FROM usage_days_pending")]
    if pending:
        # Row by row, by the whole key: "(key) IN (pending)" would read every day kept.
        conn.exec_driver_sql("DELETE FROM usage_days WHERE connection_id = ? AND "
                             "subscription_external_id = ? AND day = ?", pending)
        conn.exec_driver_sql(f"INSERT INTO usage_days {_ADDED_UP}")
        conn.exec_driver_sql("DELETE FROM usage_days_pending")
    if newest != through:
        conn.exec_driver_sql("UPDATE usage_days_mark SET through = ?", (newest,))
    return len(pending)
