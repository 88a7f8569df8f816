"""Bulk writing of charge lines: tuples through the DBAPI in batches, in the caller's
transaction (PERFORMANCE.md: ORM objects are 20× slower, Core dicts 3×).

Duplicates are left to the unique (connection_id, line_key) constraint with ON CONFLICT DO
NOTHING, so a line seen twice in a file, or already stored from an overlapping file, is
written once whatever the file size, without holding every key in memory.

Measured on a 1,000,000-line recon file (bench/import_recon.py), the random sha256 keys make
index maintenance the largest cost of the insert, so on SQLite:
* each batch is sorted by line_key, so consecutive inserts land on neighbouring index pages;
* the page cache is raised to 64 MB for the import (restored afterwards);
* a bulk load (a file bigger than what the table already holds) drops the subscription
  index of charge_lines and rebuilds it at the end, inside the same transaction: SQLite
  builds an index from sorted rows several times faster than it maintains it row by row
  in random order, and a rollback restores it like everything else. The unique index and
  the import_file_id index (append-only during one import) always stay.
"""

from __future__ import annotations

import contextlib
from operator import itemgetter

from sqlalchemy import Connection, func, select

from app.models import usage_days
from app.models.types import text_places
from app.models.vendor import ChargeLine
from app.sync.file_import.lines import STORED, ParsedLine

BATCH = 50_000  # pending rows: ≈ 50-80 MB at most, and sorted runs long enough to matter
COLUMNS = ("connection_id", "import_file_id", "line_key", "customer_external_id",
           "customer_name", "subscription_external_id", "sku", "product_name", "charge_type",
           "charge_start", "charge_end", "quantity", "unit_price", "exchange_rate", "subtotal",
           "total", "currency", "invoice_number", "term", "billing_frequency", "order_date",
           "is_usage", "extra", "quantity_places", "amount_places")
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
IMPORT_CACHE_KIB = 65_536
BYTES_PER_LINE = 400  # a conservative recon line size, to estimate a file's line count
_BY_KEY = itemgetter(0)  # line_key
NO_PLACES = (None, None)  # a seat line's: never summed


class ChargeStore:
    """Buffers parsed lines and writes them in batches; `finish()` says how many landed.

    ParsedLine values are already in the models' storage form (see lines.py)."""

    def __init__(self, conn: Connection, connection_id: int, import_file_id: int,
                 batch: int = BATCH, expected_lines: int = 0) -> None:
        self.conn = conn
        self.connection_id = connection_id
        self.import_file_id = import_file_id
        self.batch = batch
        self.pending: list[tuple[object, ...]] = []
        self.inserted: int | None = 0  # None once a driver cannot count executemany rows
        mark = placeholder(conn)
        # The two ids are the same for every line: written into the statement (integers
        # from our own rows), so each row binds only its own values.
        self.sql = (f"INSERT INTO charge_lines ({', '.join(COLUMNS)}) "
                    f"VALUES ({int(connection_id)}, {int(import_file_id)}, "
                    f"{', '.join([mark] * (len(COLUMNS) - 2))}) "
                    "ON CONFLICT (connection_id, line_key) DO NOTHING")
        self._cache_before: int | None = None
        self._dropped: list[str] = []  # CREATE INDEX statements to run again
        if conn.dialect.name == "sqlite":
            self._cache_before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
            conn.exec_driver_sql(f"PRAGMA cache_size=-{IMPORT_CACHE_KIB}")
            if expected_lines >= max(_stored_lines(conn), 10_000):
                self._drop_secondary_indexes()

    def add(self, line: ParsedLine) -> None:
        if line.is_usage:  # summed in SQL: with how its numbers are written (ChargeLine)
            amount = line.total if line.total is not None else line.subtotal
            places = (text_places(line.quantity_text), text_places(amount))
        else:
            places = NO_PLACES
        self.pending.append(line[:STORED] + places)
        if len(self.pending) >= self.batch:
            self.flush()

    def discard(self) -> None:
        """Forget the pending lines (the import will roll back anyway)."""
        self.pending = []

    def flush(self) -> None:
        if not self.pending:
            return
        self.pending.sort(key=_BY_KEY)
        result = self.conn.exec_driver_sql(self.sql, self.pending)
        count = result.rowcount
        if self.inserted is not None:
            self.inserted = self.inserted + count if count is not None and count >= 0 else None
        self.pending = []

    def finish(self) -> int:
        """Write what is pending, rebuild dropped indexes; the lines of this file stored
        (offered minus duplicates)."""
        self.flush()
        for statement in self._dropped:
            self.conn.exec_driver_sql(statement)
        self._dropped = []
        usage_days.fold(self.conn)  # the usage days of the new lines, in this transaction
        if self.inserted is not None:
            return self.inserted
        table = ChargeLine.__table__
        query = select(func.count()).select_from(table).where(
            table.c.import_file_id == self.import_file_id)
        return int(self.conn.execute(query).scalar_one())

    def close(self) -> None:
        """Give the pooled connection its usual page cache back (best effort: after a
        database error the original error matters, not this)."""
        if self._cache_before is not None:
            before, self._cache_before = int(self._cache_before), None
            with contextlib.suppress(Exception):
                self.conn.exec_driver_sql(f"PRAGMA cache_size={before}")

    def _drop_secondary_indexes(self) -> None:
        rows = self.conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
            "tbl_name = 'charge_lines' AND sql IS NOT NULL").all()
        for name, statement in rows:
            compact = statement.replace(" ", "").lower()
            if compact.startswith("createunique") or compact.endswith("(import_file_id)"):
                continue  # the unique key stays; this file's id only appends: cheap to keep
            self.conn.exec_driver_sql(f'DROP INDEX "{name}"')
            self._dropped.append(statement)


def placeholder(conn: Connection) -> str:
    """The DBAPI's positional parameter marker (? for sqlite3, %s for psycopg)."""
    mark = _PLACEHOLDERS.get(conn.dialect.paramstyle)
    if mark is None:  # pragma: no cover - every supported driver uses one of these
        raise RuntimeError(f"unsupported DBAPI paramstyle {conn.dialect.paramstyle}")
    return mark


def _stored_lines(conn: Connection) -> int:
    """About how many charge lines the table holds (the highest rowid: O(log n))."""
    return int(conn.exec_driver_sql("SELECT coalesce(max(id), 0) FROM charge_lines").scalar()
               or 0)
