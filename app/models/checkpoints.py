"""Checkpoints of a big write run after its commit, on a thread of their own.

An SQLite workspace writes through a write-ahead log (WAL), and SQLite folds the log back
into the workspace file, a checkpoint, on the commit that grows it past 1,000 pages: inside
that commit. A month-end reconciliation writes thousands of findings at once (some 30 MB
of pages), and the checkpoint after it would hold the bookkeeper's result back for a
further tenth of a second or more, though nothing of it is needed: the commit is durable as
soon as the log is synced (synchronous=FULL), and every reader finds the new pages in the
log until they are folded in.

`Checkpoints.defer(session)` has the session's transaction commit without that
checkpoint: its connection skips checkpoints until it is given back to the pool, which
restores SQLite's default and has the checkpoint run by a background thread (PASSIVE, as
SQLite's own: it never waits for readers or writers, nor makes them wait). `wait` lets
a closing workspace finish it first; a process that ends meanwhile loses nothing, as a
checkpoint can stop at any point and the next connection folds in what is left.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

AUTOCHECKPOINT_PAGES = 1000  # SQLite's default
DEFERRED = "trueup_checkpoint_deferred"  # the connection record's flag

log = logging.getLogger(__name__)


class Checkpoints:
    """The deferred checkpoints of one SQLite engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.runs = 0  # checkpoints run so far
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._again = False
        event.listen(engine, "checkin", self._checked_in)

    def defer(self, session: Session) -> None:
        """Commit the session's transaction without a checkpoint; one runs once its
        connection is given back."""
        connection = session.connection()
        connection.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
        connection.connection.info[DEFERRED] = True  # the DBAPI connection's, kept by the pool

    def _checked_in(self, dbapi_connection: Any, record: Any) -> None:
        if not record.info.pop(DEFERRED, False):
            return
        if dbapi_connection is not None:  # None: it was closed, its setting with it
            try:
                dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")
            except sqlite3.Error:  # the background one and other connections' still run
                log.warning("could not restore a connection's checkpoints", exc_info=True)
        with self._lock:
            if self._thread is not None:  # running: it goes round once more
                self._again = True
                return
            self._thread = threading.Thread(target=self._run, name="trueup-checkpoint",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                self._fold()
            except Exception:  # noqa: BLE001 - SQLite's own next checkpoint folds it in
                log.warning("a background checkpoint of the workspace failed", exc_info=True)
            with self._lock:
                self.runs += 1
                if not self._again:
                    self._thread = None
                    return
                self._again = False

    def _fold(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def wait(self) -> None:
        """Until no checkpoint runs."""
        while True:
            with self._lock:
                thread = self._thread
            if thread is None:
                return
            thread.join()
