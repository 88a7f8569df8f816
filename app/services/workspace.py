"""Opening, describing and backing up a workspace — the first thing every use case does."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from app.models import entities as m
from app.models.workspace import (
    Workspace,
    WorkspaceError,
    current_revision,
    demo_workspace_path,
    display_url,
)

__all__ = [
    "Workspace",
    "WorkspaceError",
    "WorkspaceInfo",
    "backup_workspace",
    "demo_workspace_path",
    "describe_workspace",
    "open_workspace",
]

COUNTED = {
    "connections": m.Connection,
    "vendor_customers": m.VendorCustomer,
    "vendor_subscriptions": m.VendorSubscription,
    "charge_lines": m.ChargeLine,
    "psa_companies": m.PsaCompany,
    "psa_billing_lines": m.PsaBillingLine,
    "findings": m.Finding,
    "push_intents": m.PushIntent,
}


@dataclass(frozen=True)
class WorkspaceInfo:
    location: str
    schema_revision: str | None
    counts: dict[str, int]


def open_workspace(target: str | Path | None = None) -> Workspace:
    """Open (creating and migrating if needed) the workspace at a path or URL."""
    return Workspace.open(target)


def describe_workspace(ws: Workspace) -> WorkspaceInfo:
    with ws.begin() as s:
        counts = {
            name: s.scalar(select(func.count()).select_from(model)) or 0
            for name, model in COUNTED.items()
        }
    location = str(ws.path) if ws.path else display_url(ws.url)
    return WorkspaceInfo(location, current_revision(ws.engine), counts)


def backup_workspace(ws: Workspace, destination: Path) -> Path:
    return ws.backup(destination)
