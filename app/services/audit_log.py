"""Reading what happened: the audit log with filters, and each connection's sync runs.

The Sync & activity screen and any report read these; the audit log is append-only and is
only ever written by the use cases themselves (app.models.audit.record_audit).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, func, or_, select

from app.models.activity import AuditEntry
from app.models.connections import Connection, SyncRun
from app.services.workspace import Workspace

DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    user: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class AuditFacets:
    """The values the filters can take, so a person picks instead of guessing spellings."""

    entities: tuple[str, ...]
    users: tuple[str, ...]


def list_audit(ws: Workspace, entity: str | None = None, user: str | None = None,
               since: datetime | None = None, text: str | None = None,
               limit: int = DEFAULT_LIMIT) -> list[AuditRow]:
    """Newest first. `text` matches the action, the entity id, or anything in before/after."""
    query = select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if entity:
        query = query.where(AuditEntry.entity == entity)
    if user:
        query = query.where(AuditEntry.user == user)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if text and text.strip():
        needle = f"%{text.strip()}%"
        query = query.where(or_(AuditEntry.action.ilike(needle),
                                AuditEntry.entity_id.ilike(needle),
                                cast(AuditEntry.before, String).ilike(needle),
                                cast(AuditEntry.after, String).ilike(needle)))
    with ws.begin() as s:
        return [AuditRow(e.id, e.at, e.user, e.action, e.entity, e.entity_id,
                         dict(e.before) if e.before is not None else None,
                         dict(e.after) if e.after is not None else None)
                for e in s.scalars(query.limit(max(1, limit)))]


def audit_facets(ws: Workspace) -> AuditFacets:
    with ws.begin() as s:
        entities = s.scalars(select(AuditEntry.entity).distinct().order_by(AuditEntry.entity))
        users = s.scalars(select(AuditEntry.user).distinct().order_by(AuditEntry.user))
        return AuditFacets(tuple(entities), tuple(users))


@dataclass(frozen=True)
class SyncRunView:
    id: int
    connection: str
    kind: str
    status: str  # running | complete | failed | cancelled
    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, Any]
    error: str | None


def latest_sync_runs(ws: Workspace) -> dict[str, SyncRunView]:
    """The last run of each connection, by connection name (absent: never synced)."""
    with ws.begin() as s:
        last = (select(SyncRun.connection_id, func.max(SyncRun.id).label("run_id"))
                .group_by(SyncRun.connection_id).subquery())
        rows = s.execute(select(SyncRun, Connection.name, Connection.kind)
                         .join(last, last.c.run_id == SyncRun.id)
                         .join(Connection, Connection.id == SyncRun.connection_id))
        return {name: _run_view(run, name, kind) for run, name, kind in rows}


def list_sync_runs(ws: Workspace, connection: str | None = None,
                   limit: int = 100) -> list[SyncRunView]:
    """Newest first, for one connection or all."""
    query = (select(SyncRun, Connection.name, Connection.kind)
             .join(Connection, Connection.id == SyncRun.connection_id)
             .order_by(SyncRun.id.desc()).limit(max(1, limit)))
    if connection:
        query = query.where(Connection.name == connection)
    with ws.begin() as s:
        return [_run_view(run, name, kind) for run, name, kind in s.execute(query)]


def _run_view(run: SyncRun, name: str, kind: str) -> SyncRunView:
    return SyncRunView(run.id, name, kind, run.status, run.started_at, run.finished_at,
                       dict(run.counts or {}), run.error)
