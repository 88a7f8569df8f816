"""Reconciling a billing period: load facts, run the engine, store findings keeping reviews.

A finding is identified by its key within the period, so a re-run updates the numbers of the
same finding and keeps its review state. When the numbers behind an approved finding change
before anything was sent, the approval no longer holds: its unsent changes are withdrawn
and the finding is open again. Pushed findings are never reopened.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from app.domain.periods import BillingPeriod
from app.models import usage_days
from app.models.activity import PushIntent
from app.models.audit import record_audit
from app.models.entities import VendorSubscription
from app.models.review import BillingPeriodRow, Finding
from app.services import book_shares
from app.services.collection import paused_collection
from app.services.finding_rows import FINDING_COLUMNS, Found, merge_found, stored_form
from app.services.reconcile_book import Book
from app.services.reconcile_charges import UsageRead
from app.services.reconcile_facts import plan_shares, read_book
from app.services.reconcile_worker import (
    PartedRun,
    parts_for,
    reconcile_part,
    workers,
)
from app.services.workspace import Workspace

Progress = Callable[[int, int | None, str], None]
KEEP_WHEN_GONE = {"approved", "rejected", "deferred", "pushed", "failed"}


SNAPSHOT_ATTEMPTS = 2
SQLITE_BUSY_SNAPSHOT = 517


class PeriodError(ValueError):
    """A period label that is not YYYY-MM."""


class SnapshotConflictError(RuntimeError):
    """The workspace changed under every attempt to reconcile a period."""


@dataclass(frozen=True)
class ReconcileReport:
    period: str
    findings: int
    new: int
    changed: int
    unchanged: int
    reopened: int
    resolved: int
    subscriptions: int
    rounding_residuals: int
    skipped_non_billable: int
    settled: int
    waived: int
    skipped: tuple[tuple[str, str], ...]


def parse_period(label: str) -> BillingPeriod:
    try:
        year, month = (int(part) for part in label.split("-"))
        return BillingPeriod.month(year, month)
    except (ValueError, TypeError) as exc:
        raise PeriodError(f"not a billing period (YYYY-MM): {label!r}") from exc


def _period_row(session: Session, period: BillingPeriod) -> BillingPeriodRow:
    row = session.scalar(select(BillingPeriodRow).where(BillingPeriodRow.label == period.label))
    if row is None:
        row = BillingPeriodRow(label=period.label, start_date=period.start, end_date=period.end)
        session.add(row)
        session.flush()
    return row


def _values(found: Found, key: str) -> dict[str, object]:
    """The column values of a finding that came whole."""
    return dict(zip(FINDING_COLUMNS, found.values[key], strict=True))


def _withdraw(session: Session, finding: Finding, user: str) -> bool:
    """Take back an approval whose numbers changed, if nothing of it was sent yet."""
    intents = session.scalars(select(PushIntent).where(PushIntent.finding_id == finding.id)).all()
    if any(i.state != "PENDING" for i in intents):
        return False
    for intent in intents:
        record_audit(session, user=user, action="withdraw_push", entity="push_intent",
                     entity_id=intent.id, before={"state": intent.state, "key": intent.key},
                     after={"reason": "the finding's numbers changed after approval"})
        session.delete(intent)
    return True


def stored_findings(session: Session, label: str) -> dict[str, tuple[int, str, str]]:
    """The key, hash and status of each finding the period has stored (none before its
    first run): all a run needs to tell new findings from changed ones."""
    f, p = Finding.__table__.c, BillingPeriodRow.__table__.c
    return {key: (finding_id, inputs_hash, status) for finding_id, key, inputs_hash, status
            in session.execute(select(f.id, f.key, f.inputs_hash, f.status)
                               .join_from(Finding.__table__, BillingPeriodRow.__table__,
                                          f.period_id == p.id)
                               .where(p.label == label))}


def store_findings(session: Session, period_row: BillingPeriodRow, found: Found,
                   user: str,
                   stored: dict[str, tuple[int, str, str]] | None = None) -> dict[str, int]:
    """Insert new findings, update the changed ones, drop open ones that are gone.

    `stored` is `stored_findings` as read in this transaction (read here when not given).
    New findings may come as rows made where they were found (app.services.finding_rows);
    the few that changed or disappeared are loaded whole, so a month-end run with
    thousands of findings never decodes thousands of stored explanations.
    """
    counts = {"new": 0, "changed": 0, "unchanged": 0, "reopened": 0, "resolved": 0}
    stored = dict(stored_findings(session, period_row.label) if stored is None else stored)
    now = datetime.now(UTC)
    new: list[str] = []
    changed: dict[int, str] = {}
    for key, inputs_hash in found.entries:
        known = stored.pop(key, None)
        if known is None:
            new.append(key)
        elif known[1] == inputs_hash or known[2] == "pushed":
            counts["unchanged"] += 1  # what was pushed stands; its settlement shows next run
        else:
            changed[known[0]] = key
    for finding in _whole(session, list(changed)):
        key = changed[finding.id]
        before = {"amount": finding.amount, "status": finding.status, "version": finding.version}
        # An approval whose numbers moved before anything was sent no longer holds; a
        # failed push (refused, or a conflict a person dismissed) is reviewed afresh.
        reopened = (finding.status == "approved" and _withdraw(session, finding, user)) or \
            finding.status == "failed"
        for name, value in _values(found, key).items():
            setattr(finding, name, value)
        finding.explanation = found.drafts[key].explanation
        if reopened:
            finding.status = "open"
            counts["reopened"] += 1
        finding.version += 1
        finding.updated_at = now
        counts["changed"] += 1
        record_audit(session, user=user, action="recompute", entity="finding",
                     entity_id=finding.id, before=before,
                     after={"amount": finding.amount, "status": finding.status,
                            "version": finding.version})
    gone = [finding_id for finding_id, _, status in stored.values()
            if status not in KEEP_WHEN_GONE]
    for finding in _whole(session, gone):
        session.delete(finding)  # an open discrepancy that no longer exists
        counts["resolved"] += 1
    if new:
        _insert_new(session, period_row.id, new, found, now)
        counts["new"] = len(new)
    return counts


def _insert_new(session: Session, period_id: int, keys: list[str], found: Found,
                now: datetime) -> None:
    """One bulk insert: a month-end run creates thousands of findings at once.

    On SQLite the rows go straight to the driver, as ready (or made here) by
    app.services.finding_rows: the ORM's per-value processing would cost more than the
    insert itself."""
    conn = session.connection()
    if conn.dialect.name != "sqlite":  # a JSON column of its own type: it encodes the data
        rows = [{"period_id": period_id, "key": key, "status": "open", "version": 1,
                 "created_at": now, "updated_at": now, **_values(found, key)}
                for key in keys]
        for values in rows:
            values["explanation"] = json.loads(str(values["explanation"]))
        session.execute(insert(Finding.__table__), rows)
        return
    stamp = _stored_timestamp(conn, now)
    head = (period_id, "open", 1, stamp, stamp)
    names = ("period_id", "status", "version", "created_at", "updated_at", "key",
             *FINDING_COLUMNS)
    sql = (f"INSERT INTO findings ({', '.join(names)}) "
           f"VALUES ({', '.join('?' * len(names))})")
    ready = found.rows
    conn.connection.cursor().executemany(sql, [
        (*head, key, *(ready.get(key) or stored_form(found.values[key])))
        for key in keys])


def _stored_timestamp(conn: Connection, now: datetime) -> object:
    """A timestamp as the findings' column type, adapted to the dialect, stores it (SQLite:
    text with microseconds)."""
    column_type = Finding.__table__.c.created_at.type.dialect_impl(conn.dialect)
    return column_type.bind_processor(conn.dialect)(now)


def _whole(session: Session, ids: list[int]) -> list[Finding]:
    out: list[Finding] = []
    for start in range(0, len(ids), 500):
        out += session.scalars(select(Finding).where(Finding.id.in_(ids[start:start + 500])))
    return out


def reconcile_period(ws: Workspace, label: str, *, user: str, progress: Progress | None = None,
                     cancel: threading.Event | None = None) -> ReconcileReport:
    """Reconcile one month; re-running with the same inputs changes nothing.

    Every read sees one snapshot of the workspace, so a sync committing meanwhile cannot
    pair PSA lines from before it with vendor seats from after it. When such a sync did
    commit, storing the findings would overwrite newer data with conclusions drawn from
    older: the run starts again on the new snapshot (once; a second conflict is reported).
    """
    period = parse_period(label)
    progress = progress or (lambda done, total, message: None)
    for attempt in range(1, SNAPSHOT_ATTEMPTS + 1):
        try:
            # The run's objects die when it returns, before collection resumes: resumed
            # with them alive, its first collection would walk them all (a month-end
            # book: a quarter of a second) only to see them freed.
            with paused_collection():
                return _reconcile_once(ws, period, user, progress, cancel)
        except OperationalError as exc:
            if not _snapshot_conflict(exc):
                raise
            if attempt == SNAPSHOT_ATTEMPTS:
                raise SnapshotConflictError(
                    f"the workspace kept changing while {period.label} was reconciled "
                    f"(a sync or another reconcile committed {attempt} times); run it again"
                ) from exc
            progress(0, None, "the workspace changed meanwhile; reconciling again")
    raise AssertionError("unreachable")


def _reconcile_once(ws: Workspace, period: BillingPeriod, user: str, progress: Progress,
                    cancel: threading.Event | None) -> ReconcileReport:
    # Usage lines the importers have not added up by day yet (lines written any other way,
    # or a workspace just upgraded): in their own transaction, before the snapshot.
    with ws.begin() as session:
        if usage_days.behind(session.connection()):
            progress(0, None, "adding up usage by day")
            usage_days.fold(session.connection())
    with ws.begin() as session:
        one_snapshot(session)  # taken by read_book's first read (see UsageRead)
        # Workers start while the book is read, and are reaped once the findings are stored:
        # their exits, after answering, overlap the store.
        size = _book_size(ws)
        with workers(parts_for(size) - 1) as helpers:
            progress(0, None, "loading")
            run = PartedRun(period, helpers, rows=session.get_bind().dialect.name == "sqlite")
            path = _workspace_file(session) if helpers else None
            if path is not None:
                # Each process reads its own share of the book (see book_shares): this
                # one once the workers have their usage (see PartedRun.result).
                usage = UsageRead(session, period)  # the snapshot begins with its handshake
                run.share_out(plan_shares(session, period, run.count), path,
                              session.connection().connection.driver_connection)
                book = Book(usage=dict(usage.groups(session)))
            else:
                book = read_book(session, period, meanwhile=run.hand_out)
                size = len(book.subs)
            # Read in the snapshot read_book began (see UsageRead), before the parts are
            # told which findings are new.
            stored = stored_findings(session, period.label)
            run.stored = {key: known[1] for key, known in stored.items()}
            if cancel is not None and cancel.is_set():
                raise InterruptedError("cancelled")
            progress(0, size, "reconciling")
            found = run.result(book)
            if cancel is not None and cancel.is_set():
                raise InterruptedError("cancelled")
            progress(size, size, "storing findings")
            period_row = _period_row(session, period)
            counts = store_findings(session, period_row, found, user, stored)
            period_row.reconciled_at = datetime.now(UTC)
            # A month-end run writes megabytes of findings: folding them into the
            # workspace file need not hold its result back. Its write is also what makes
            # a run whose snapshot another connection overtook start again (SQLite's
            # BUSY_SNAPSHOT), the workers' reads included (see book_shares).
            ws.defer_checkpoint(session)
    summary = found.summary
    return ReconcileReport(period.label, len(found.entries), subscriptions=summary.subscriptions,
                           rounding_residuals=summary.rounding_residuals,
                           skipped_non_billable=summary.skipped_non_billable,
                           settled=summary.settled, waived=summary.waived,
                           skipped=summary.skipped, **counts)


def check_worker(ws: Workspace, label: str) -> str:
    """Reconcile the period's whole book in a worker process, and here, and compare: the
    program can start itself as a worker (a packaged app included) and gets the same answer.
    Nothing is stored."""
    period = parse_period(label)
    with ws.begin() as session:
        one_snapshot(session)
        book = read_book(session, period)
        session.rollback()
    with workers(1) as [worker]:
        worker.send(period, book)
        worker.send_usage(book.usage)
        answer = worker.result()
        if answer is None:
            raise RuntimeError(worker.failure)
    there = merge_found([answer]).result()
    here = reconcile_part(period, book)
    if [(d.key, d.inputs_hash, d.explanation_json) for d in there.findings] != \
            [(d.key, d.inputs_hash, d.explanation_json) for d in here.findings] or \
            there.summary != here.summary:
        raise RuntimeError("a worker process reconciled the book differently")
    return f"a worker process reconciled {len(book.subs)} subscriptions alike"


def _workspace_file(session: Session) -> str | None:
    """The SQLite workspace file the workers can read their shares of the book from (see
    app.services.book_shares), if it is one."""
    bind = session.get_bind()
    if bind.dialect.name != "sqlite" or bind.url.database in (None, "", ":memory:") or \
            str(bind.url.database).startswith("file:") or not book_shares.supported():
        return None
    return str(bind.url.database)


def _book_size(ws: Workspace) -> int:
    """How many subscriptions the workspace holds, read on a connection of its own: it only
    sizes the run, and the run's snapshot must begin with the usage read's handshake."""
    with ws.engine.connect() as conn:
        return conn.scalar(select(func.count()).select_from(VendorSubscription)) or 0


def one_snapshot(session: Session) -> None:
    """Make every later read of the session's transaction see the same data: SQLite reads
    outside an explicit transaction each see the latest commit, PostgreSQL's default
    isolation each statement's."""
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
    elif conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def _snapshot_conflict(exc: OperationalError) -> bool:
    """SQLite's SQLITE_BUSY_SNAPSHOT (a write after another connection committed since our
    snapshot began) or PostgreSQL's serialization failure."""
    orig = exc.orig
    return getattr(orig, "sqlite_errorcode", None) == SQLITE_BUSY_SNAPSHOT or \
        getattr(orig, "sqlstate", None) == "40001"
