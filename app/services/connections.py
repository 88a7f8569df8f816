"""Adding, listing and removing connections; the secret goes to the keyring, never the database."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.models.audit import record_audit
from app.models.connections import Connection
from app.services.workspace import Workspace
from app.sync import credentials
from app.sync.credentials import KeyringUnavailableError

__all__ = ["ConnectionSetupError", "ConnectionView", "KeyringUnavailableError", "add_connection",
           "connection_view",
           "get_connection", "get_connection_by_id", "list_connections", "remove_connection",
           "update_connection"]

SIDES = {
    "pax8": "vendor",
    "partner_center": "vendor",
    "generic_file": "vendor",
    "connectwise": "psa",
    "autotask": "psa",
}


class ConnectionSetupError(ValueError):
    """A connection request that cannot be honoured; the message says why."""


@dataclass(frozen=True)
class ConnectionView:
    id: int
    name: str
    kind: str
    side: str
    base_url: str | None
    settings: dict[str, Any]
    last_sync_at: datetime | None


def connection_view(row: Connection) -> ConnectionView:
    return ConnectionView(row.id, row.name, row.kind, row.side, row.base_url, dict(row.settings),
                          row.last_sync_at)


def add_connection(ws: Workspace, *, name: str, kind: str, base_url: str | None,
                   settings: dict[str, Any], secret: str | None, user: str) -> ConnectionView:
    """Store the secret in the keyring first: if that fails, nothing is written."""
    if kind not in SIDES:
        raise ConnectionSetupError(f"unknown connection kind {kind!r}; one of {', '.join(SIDES)}")
    if not name.strip():
        raise ConnectionSetupError("a connection needs a name")
    with ws.begin() as s:
        if s.scalar(select(Connection).where(Connection.name == name)) is not None:
            raise ConnectionSetupError(f"a connection named {name!r} already exists")
    if secret is not None:
        credentials.store_secret(name, secret)
    with ws.begin() as s:
        row = Connection(name=name, kind=kind, side=SIDES[kind], base_url=base_url,
                         settings=dict(settings))
        s.add(row)
        s.flush()
        record_audit(s, user=user, action="add_connection", entity="connection",
                     entity_id=row.id, after={"name": name, "kind": kind, "base_url": base_url,
                                              "settings": settings})
        return connection_view(row)


def update_connection(ws: Workspace, name: str, *, base_url: str | None,
                      settings: dict[str, Any], secret: str | None = None,
                      user: str) -> ConnectionView:
    """Change a connection's URL and settings (its name keys the keyring, so it stays); a new
    secret, when given, replaces the stored one first: if the keyring fails, nothing changes."""
    view = get_connection(ws, name)
    if secret is not None:
        credentials.store_secret(name, secret)
    with ws.begin() as s:
        row = s.get(Connection, view.id)
        before = {"base_url": row.base_url, "settings": dict(row.settings)}
        row.base_url, row.settings = base_url, dict(settings)
        record_audit(s, user=user, action="edit_connection", entity="connection",
                     entity_id=row.id, before=before,
                     after={"base_url": base_url, "settings": settings,
                            "secret": "replaced" if secret is not None else "kept"})
        return connection_view(row)


def list_connections(ws: Workspace, side: str | None = None) -> list[ConnectionView]:
    with ws.begin() as s:
        query = select(Connection).order_by(Connection.name)
        if side:
            query = query.where(Connection.side == side)
        return [connection_view(row) for row in s.scalars(query)]


def get_connection(ws: Workspace, name: str) -> ConnectionView:
    with ws.begin() as s:
        row = s.scalar(select(Connection).where(Connection.name == name))
        if row is None:
            known = ", ".join(s.scalars(select(Connection.name))) or "none yet"
            raise ConnectionSetupError(f"no connection named {name!r} (known: {known})")
        return connection_view(row)


def get_connection_by_id(ws: Workspace, connection_id: int) -> ConnectionView:
    with ws.begin() as s:
        row = s.get(Connection, connection_id)
        if row is None:
            raise ConnectionSetupError(f"connection {connection_id} no longer exists")
        return connection_view(row)


def remove_connection(ws: Workspace, name: str, *, user: str) -> None:
    """Only a connection that never synced can go: synced data keeps its history."""
    view = get_connection(ws, name)
    try:
        with ws.begin() as s:
            s.delete(s.get(Connection, view.id))
            s.flush()
            record_audit(s, user=user, action="remove_connection", entity="connection",
                         entity_id=view.id, before={"name": name, "kind": view.kind})
    except IntegrityError as exc:
        raise ConnectionSetupError(
            f"connection {name!r} has synced or imported data and cannot be removed"
        ) from exc
    credentials.delete_secret(name)
