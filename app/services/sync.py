"""Sync use case: read a connection completely, then store it as one snapshot.

Everything is fetched before anything is written, and the snapshot is written in one
transaction, so a failed or cancelled sync leaves the previous state current and says what
failed; it can never read as "the vendor has fewer seats". Each connection kind is one row of
`SYNCERS`: a fetch that reads everything and a store that writes it in the one transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

import httpx
from sqlalchemy.orm import Session

from app.domain.seat_history import is_ended
from app.models.activity import Alert
from app.models.connections import Connection, SyncRun
from app.services.connections import ConnectionView, get_connection, list_connections
from app.services.connectors import open_autotask, open_connectwise, open_pax8
from app.services.sandboxes import sandbox_transport
from app.services.seat_history import refresh_seat_lots
from app.services.settings import time_zone
from app.services.workspace import Workspace
from app.sync.http import CancelledError
from app.sync.psa_store import PsaSnapshot, store_psa_snapshot
from app.sync.vendor_store import VendorSnapshot, load_baseline, store_vendor_snapshot

Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class SyncResult:
    connection: str
    run_id: int
    status: str  # complete | failed | cancelled
    counts: dict[str, Any]
    error: str | None = None


@dataclass(frozen=True)
class SyncJob:
    """One run of one connection: what a fetch and a store need to know."""

    ws: Workspace
    view: ConnectionView
    run_id: int
    progress: Progress
    cancel: threading.Event
    transport: httpx.BaseTransport | None
    zone: tzinfo  # the MSP's zone: effective dates of seat changes are its calendar dates


# ---------------------------------------------------------------- ConnectWise PSA


def _fetch_connectwise(job: SyncJob) -> PsaSnapshot:
    progress, cancel = job.progress, job.cancel
    with open_connectwise(job.view, transport=job.transport, cancel=cancel) as cw:
        progress(0, None, "companies")
        companies = cw.list_companies()
        progress(0, None, "agreements")
        agreements = cw.list_agreements(active_only=True)
        lines = []
        for n, agreement in enumerate(agreements, 1):
            if cancel.is_set():
                raise CancelledError("cancelled")
            lines += cw.list_additions(int(agreement.external_id),
                                       one_time=agreement.kind == "one_time")
            progress(n, len(agreements), f"additions of agreement {agreement.external_id}")
        progress(0, None, "catalogue")
        products = cw.list_products()
    return PsaSnapshot(companies, agreements, lines, products, complete=True)


def _store_psa(session: Session, job: SyncJob, snapshot: PsaSnapshot,
               taken_at: datetime) -> dict[str, Any]:
    return dict(store_psa_snapshot(session, job.view.id, snapshot).__dict__)


def _fetch_autotask(job: SyncJob) -> PsaSnapshot:
    """Seat counts are the units of today's unit row, today in the MSP's zone."""
    with open_autotask(job.view, transport=job.transport, progress=job.progress,
                       cancel=job.cancel) as at:
        return at.snapshot(as_of=datetime.now(job.zone).date())


# ---------------------------------------------------------------- Pax8


def _fetch_pax8(job: SyncJob) -> VendorSnapshot:
    """History only for subscriptions that are new or whose seats or status changed since
    the last complete snapshot (no request per unchanged subscription); invoices from the
    last stored invoice date on, items only for invoices not stored yet; usage for live
    subscriptions the vendor bills in arrears."""
    with job.ws.begin() as s:
        base = load_baseline(s, job.view.id)
    progress = job.progress
    with open_pax8(job.view, transport=job.transport, progress=progress,
                   cancel=job.cancel) as px:
        companies = list(px.companies())
        products = list(px.products())
        subscriptions = list(px.subscriptions())
        known = base.customers | {c.external_id for c in companies}
        if any(sub.customer_external_id not in known for sub in subscriptions):
            companies = list(px.companies())  # one appeared while we read: read them again
        wanted = [sub.external_id for sub in subscriptions if base.needs_history(sub)]
        history = {}
        for n, sub_id in enumerate(wanted, 1):
            history[sub_id] = px.subscription_history(sub_id)
            progress(n, len(wanted), "Pax8 subscription history")
        invoices = list(px.invoices(start=base.last_invoice_date))
        lines = []
        for invoice in invoices:
            if invoice.external_id not in base.invoices:
                lines += px.invoice_items(invoice)
        usage = base.usage_subscriptions | {line.subscription_external_id for line in lines
                                            if line.is_usage}
        for sub in subscriptions:
            if sub.external_id in usage and not is_ended(sub.status):
                for summary in px.usage_summaries(sub.external_id):
                    lines += px.usage_lines(summary)
    return VendorSnapshot(companies, products, subscriptions, history, invoices, lines)


def _store_vendor(session: Session, job: SyncJob, snapshot: VendorSnapshot,
                  taken_at: datetime) -> dict[str, Any]:
    stored = store_vendor_snapshot(session, job.view.id, job.run_id, snapshot,
                                   taken_at=taken_at)
    lots = refresh_seat_lots(session, job.view.id, stored, snapshot.history,
                             taken_at=taken_at, zone=job.zone)
    return {**stored.counts(), "histories": len(snapshot.history), **lots}


# Connection kind -> (read everything, store it in the one transaction).
SYNCERS: dict[str, tuple[Callable[[SyncJob], Any],
                         Callable[[Session, SyncJob, Any, datetime], dict[str, Any]]]] = {
    "connectwise": (_fetch_connectwise, _store_psa),
    "pax8": (_fetch_pax8, _store_vendor),
    "autotask": (_fetch_autotask, _store_psa),
}


# ---------------------------------------------------------------- the use case


def _raise_alert(session, key: str, message: str, ref: dict[str, Any]) -> None:  # noqa: ANN001
    alert = session.query(Alert).filter_by(key=key).one_or_none()
    if alert is None:
        session.add(Alert(key=key, kind="sync_failed", severity="error", message=message,
                          ref=ref))
    else:
        alert.message, alert.resolved_at = message, None
        alert.occurrences += 1


def sync_connection(ws: Workspace, name: str, *, progress: Progress | None = None,
                    cancel: threading.Event | None = None,
                    transport: httpx.BaseTransport | None = None, zone: tzinfo | None = None,
                    clock: Callable[[], datetime] | None = None) -> SyncResult:
    """Sync one connection. `zone` defaults to the workspace's time zone setting; `clock`
    (aware UTC) dates the run and its snapshot."""
    view = get_connection(ws, name)
    progress = progress or (lambda done, total, message: None)
    cancel = cancel or threading.Event()
    clock = clock or (lambda: datetime.now(UTC))
    with ws.begin() as s:
        run = SyncRun(connection_id=view.id, status="running", started_at=clock())
        s.add(run)
        s.flush()
        run_id = run.id
    try:
        if view.kind not in SYNCERS:
            raise NotImplementedError(f"syncing {view.kind} connections is not available yet")
        fetch, store = SYNCERS[view.kind]
        with sandbox_transport(ws, view, transport) as lent:
            job = SyncJob(ws, view, run_id, progress, cancel, lent, zone or time_zone(ws))
            snapshot = fetch(job)
        if cancel.is_set():
            raise CancelledError("cancelled")
        taken_at = clock()
        with ws.begin() as s:
            counts = store(s, job, snapshot, taken_at)
            run = s.get(SyncRun, run_id)
            run.status, run.finished_at, run.counts = "complete", clock(), counts
            s.get(Connection, view.id).last_sync_at = taken_at
            for alert in s.query(Alert).filter_by(key=f"sync_failed:{view.name}"):
                alert.resolved_at = run.finished_at
        return SyncResult(name, run_id, "complete", dict(counts))
    except CancelledError:
        _finish_failed(ws, run_id, view, "cancelled", "cancelled by the user", clock)
        return SyncResult(name, run_id, "cancelled", {}, "cancelled by the user")
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and reported
        message = f"{type(exc).__name__}: {exc}"
        _finish_failed(ws, run_id, view, "failed", message, clock)
        return SyncResult(name, run_id, "failed", {}, message)


def _finish_failed(ws: Workspace, run_id: int, view: ConnectionView, status: str,
                   message: str, clock: Callable[[], datetime]) -> None:
    with ws.begin() as s:
        run = s.get(SyncRun, run_id)
        run.status, run.finished_at, run.error = status, clock(), message
        if status == "failed":
            _raise_alert(s, f"sync_failed:{view.name}",
                         f"Sync of {view.name} failed; the previous data is kept. {message}",
                         {"connection": view.name, "run": run_id})


def sync_all(ws: Workspace, *, progress: Progress | None = None,
             cancel: threading.Event | None = None) -> list[SyncResult]:
    return [sync_connection(ws, view.name, progress=progress, cancel=cancel)
            for view in list_connections(ws) if view.kind in SYNCERS]
