"""Sync use case: read a connection completely, then store it as one snapshot.

Everything is fetched before anything is written, and the snapshot is written in one
transaction, so a failed or cancelled sync leaves the previous state current and says what
failed; it can never read as "the vendor has fewer seats".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from app.models.activity import Alert
from app.models.connections import Connection, SyncRun
from app.services.connections import ConnectionView, get_connection, list_connections
from app.services.connectors import open_connectwise
from app.services.workspace import Workspace
from app.sync.http import CancelledError
from app.sync.psa_store import PsaSnapshot, store_psa_snapshot

Progress = Callable[[int, int | None, str], None]


@dataclass(frozen=True)
class SyncResult:
    connection: str
    run_id: int
    status: str  # complete | failed | cancelled
    counts: dict[str, Any]
    error: str | None = None


def _fetch_connectwise(view: ConnectionView, progress: Progress, cancel: threading.Event,
                       transport: httpx.BaseTransport | None) -> PsaSnapshot:
    with open_connectwise(view, transport=transport, cancel=cancel) as cw:
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
                    transport: httpx.BaseTransport | None = None) -> SyncResult:
    view = get_connection(ws, name)
    progress = progress or (lambda done, total, message: None)
    cancel = cancel or threading.Event()
    with ws.begin() as s:
        run = SyncRun(connection_id=view.id, status="running")
        s.add(run)
        s.flush()
        run_id = run.id
    try:
        if view.kind != "connectwise":
            raise NotImplementedError(f"syncing {view.kind} connections is not available yet")
        snapshot = _fetch_connectwise(view, progress, cancel, transport)
        with ws.begin() as s:
            counts = store_psa_snapshot(s, view.id, snapshot)
            run = s.get(SyncRun, run_id)
            run.status, run.finished_at = "complete", datetime.now(UTC)
            run.counts = {k: v for k, v in counts.__dict__.items()}
            s.get(Connection, view.id).last_sync_at = run.finished_at
            for alert in s.query(Alert).filter_by(key=f"sync_failed:{view.name}"):
                alert.resolved_at = run.finished_at
        return SyncResult(name, run_id, "complete", dict(run.counts))
    except CancelledError:
        _finish_failed(ws, run_id, view, "cancelled", "cancelled by the user")
        return SyncResult(name, run_id, "cancelled", {}, "cancelled by the user")
    except Exception as exc:  # noqa: BLE001 - every failure is recorded and reported
        message = f"{type(exc).__name__}: {exc}"
        _finish_failed(ws, run_id, view, "failed", message)
        return SyncResult(name, run_id, "failed", {}, message)


def _finish_failed(ws: Workspace, run_id: int, view: ConnectionView, status: str,
                   message: str) -> None:
    with ws.begin() as s:
        run = s.get(SyncRun, run_id)
        run.status, run.finished_at, run.error = status, datetime.now(UTC), message
        if status == "failed":
            _raise_alert(s, f"sync_failed:{view.name}",
                         f"Sync of {view.name} failed; the previous data is kept. {message}",
                         {"connection": view.name, "run": run_id})


def sync_all(ws: Workspace, *, progress: Progress | None = None,
             cancel: threading.Event | None = None) -> list[SyncResult]:
    return [sync_connection(ws, view.name, progress=progress, cancel=cancel)
            for view in list_connections(ws) if view.kind in ("connectwise",)]
