"""Streaming parsed rows into the database: batches, rejects, progress and cancellation.

Runs inside the caller's transaction, so any exception (bad rows without permission to skip
them, a cancel, a database error) leaves the workspace exactly as it was.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection

from app.sync.file_import.charge_store import ChargeStore
from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import (
    Progress,
    Reject,
    RejectLog,
    RowsRejected,
    check_cancel,
)
from app.sync.file_import.vendor_entities import VendorEntities

REPORT_EVERY = 5_000
BULK_GC_THRESHOLD = (100_000, 50, 100)
_gc_lock = threading.Lock()
_gc_users = 0
_gc_before: tuple[int, int, int] | None = None


@contextlib.contextmanager
def fewer_gc_passes() -> Iterator[None]:
    """Run the cyclic GC rarely while lines stream through.

    Every row allocates a few short-lived tuples, so with the default threshold (700) the
    collector runs every few hundred rows and re-walks the pending batch and the
    subscription summaries each time: measured at ~40% of the per-row cost on a recon file.
    The loop creates no reference cycles. The threshold is process-wide, so concurrent
    imports share one setting and the last to finish restores the original.
    """
    global _gc_users, _gc_before
    with _gc_lock:
        if _gc_users == 0:
            _gc_before = gc.get_threshold()
            gc.set_threshold(*BULK_GC_THRESHOLD)
        _gc_users += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_users -= 1
            if _gc_users == 0 and _gc_before is not None:
                gc.set_threshold(*_gc_before)


@dataclass(frozen=True)
class LoadOutcome:
    good_lines: int
    imported: int
    duplicates: int
    rejects: RejectLog
    new_entities: dict[str, int]


def load_lines(conn: Connection, *, connection_id: int, import_file_id: int, file_name: str,
               items: Iterable[ParsedLine | tuple[Reject, ...]], accept_good_rows: bool,
               position: Callable[[], int], total: Callable[[], int], unit: str = "lines",
               expected_lines: int = 0,
               progress: Progress | None = None,
               cancel: threading.Event | None = None) -> LoadOutcome:
    """Write every good line; raise RowsRejected (after reading the whole file, so every bad
    row is named) when there are bad rows and `accept_good_rows` is false.

    `position()` and `total()` are what progress reports as done and total (bytes of a CSV,
    rows of a sheet), asked for at each report."""
    store = ChargeStore(conn, connection_id, import_file_id, expected_lines=expected_lines)
    try:
        with fewer_gc_passes():
            return _load(store, conn, connection_id, file_name, items, accept_good_rows,
                         position, total, unit, progress, cancel)
    finally:
        store.close()


def _load(store: ChargeStore, conn: Connection, connection_id: int, file_name: str,
          items: Iterable[ParsedLine | tuple[Reject, ...]], accept_good_rows: bool,
          position: Callable[[], int], total: Callable[[], int], unit: str,
          progress: Progress | None, cancel: threading.Event | None) -> LoadOutcome:
    entities = VendorEntities()
    entities.load_previous(conn, connection_id)
    log = RejectLog()
    good = 0
    seen = 0
    writing = True
    add_line, add_entity = store.add, entities.add
    for item in items:
        seen += 1
        if type(item) is ParsedLine:
            good += 1
            if writing:
                add_line(item)
                add_entity(item)
        else:
            log.add_row(item)  # type: ignore[arg-type]
            if writing and not accept_good_rows:
                writing = False  # keep reading to name every bad row; write nothing more
                store.discard()
        if seen % REPORT_EVERY == 0:
            check_cancel(cancel)
            if progress:
                progress(position(), total(), f"{seen:,} {unit} read")
    check_cancel(cancel)
    if log.rows and not accept_good_rows:
        raise RowsRejected(file_name, log)
    if progress:
        progress(total(), total(), f"{seen:,} {unit} read; updating customers and "
                 "subscriptions")
    imported = store.finish()
    counts = entities.write(conn, connection_id)
    check_cancel(cancel)
    return LoadOutcome(good, imported, good - imported, log, counts)
