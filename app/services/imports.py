"""Importing vendor files into a workspace: Partner Center recon and usage CSVs, and any
vendor's CSV/XLSX through a saved profile. One use case for the UI and the CLI alike.

Every import is one transaction: the file's fingerprint is checked first (the same bytes
import once), then lines stream into the database in batches; bad rows, a cancel or any
error roll everything back. With `accept_good_rows` the bad rows are skipped instead, and
listed in the result and in ImportFile.rejects, never dropped silently.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models.connections import Connection, ImportFile, ImportProfile
from app.models.types import utcnow
from app.models.workspace import Workspace
from app.sync.file_import.charge_store import BYTES_PER_LINE
from app.sync.file_import.encoding import FileScan, peek_file, scan_file
from app.sync.file_import.loader import load_lines
from app.sync.file_import.problems import (
    MAX_LISTED_REJECTS,
    FileProblem,
    ImportCancelled,
    Progress,
    Reject,
    RowsRejected,
)
from app.sync.generic_import import FIELDS as PROFILE_FIELDS
from app.sync.generic_import import ImportPreview, PreviewCell, PreviewRow, open_generic, preview
from app.sync.generic_profile import ProfileSettings
from app.sync.partner_center.source import open_partner_center
from app.sync.vendor_store import refresh_statistics_if_stale

__all__ = [
    "MAX_LISTED_REJECTS", "PROFILE_FIELDS", "FileImportError", "ImportCancelled",
    "ImportPreview", "ImportProfileInfo", "ImportResult", "PreviewCell", "PreviewRow",
    "ProfileError", "ProfileSettings", "Reject", "create_profile", "delete_profile",
    "get_profile", "import_partner_center_file", "import_with_profile", "list_profiles",
    "preview_with_profile",
]

PARTNER_CENTER = "Partner Center"


@dataclass(frozen=True)
class ImportResult:
    """What one import did. `rejected` lists bad cells (capped, see MAX_LISTED_REJECTS)."""

    file: str
    kind: str
    imported: int = 0  # new charge lines written
    duplicates: int = 0  # good lines already known (twice in the file, or stored before)
    already_imported: bool = False  # the same bytes were imported before: nothing done
    rejected: tuple[Reject, ...] = ()
    rejected_rows: int = 0
    connection: str | None = None
    new_customers: int = 0
    new_subscriptions: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "imported": self.imported, "duplicates": self.duplicates,
                "already_imported": self.already_imported,
                "rejected": [reject.as_json() for reject in self.rejected]}


class FileImportError(Exception):
    """Nothing was imported; `result.rejected` names the rows and columns at fault."""

    def __init__(self, message: str, result: ImportResult) -> None:
        super().__init__(message)
        self.result = result


class ProfileError(ValueError):
    """An import profile is unknown, already exists, or its settings are unusable."""


# --- importing --------------------------------------------------------------------------------


def import_partner_center_file(
    ws: Workspace, path: str | Path, *, usage: bool = False, accept_good_rows: bool = False,
    connection: str | None = None, progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ImportResult:
    """Import a new-commerce invoice reconciliation CSV (or, with `usage`, a daily rated
    usage CSV) into the named Partner Center connection (created on first use)."""
    path = Path(path)
    kind = "partner_center_usage" if usage else "partner_center_recon"

    def run(s: Session, scan: FileScan) -> ImportResult:
        source = open_partner_center(path, scan, usage=usage)
        target = _partner_center_connection(s, connection)
        return _load(s, path, scan, target, source.kind, source.lines,
                     lambda: source.records.position, lambda: scan.size, "lines",
                     accept_good_rows, progress, cancel)

    return _import(ws, path, kind, None, run, progress, cancel)


def import_with_profile(
    ws: Workspace, path: str | Path, profile: str, *, accept_good_rows: bool = False,
    progress: Progress | None = None, cancel: threading.Event | None = None,
) -> ImportResult:
    """Import any vendor's CSV or XLSX through the saved profile `profile`."""
    path = Path(path)
    info = get_profile(ws, profile)
    encoding = None if info.settings.encoding == "auto" else info.settings.encoding

    def run(s: Session, scan: FileScan) -> ImportResult:
        source = open_generic(path, scan, info.settings, info.vendor_name)
        target = _generic_connection(s, info.vendor_name)
        return _load(s, path, scan, target, source.kind, source.lines, source.position,
                     lambda: source.total(scan.size),
                     "lines" if source.unit == "bytes" else "rows", accept_good_rows,
                     progress, cancel)

    return _import(ws, path, "generic", encoding, run, progress, cancel)


def _import(ws: Workspace, path: Path, kind: str, encoding: str | None,
            run: Callable[[Session, FileScan], ImportResult], progress: Progress | None,
            cancel: threading.Event | None) -> ImportResult:
    name = path.name
    try:
        scan = scan_file(path, encoding=encoding, progress=progress, cancel=cancel)
        try:
            with ws.begin() as s:
                done = _already_imported(s, name, scan)
                return done if done is not None else run(s, scan)
        except IntegrityError:
            with ws.begin() as s:  # the same file committed meanwhile by another import
                done = _already_imported(s, name, scan)
            if done is None:
                raise
            return done
    except FileProblem as exc:
        raise FileImportError(str(exc), ImportResult(name, kind, rejected=exc.rejects)) from exc
    except RowsRejected as exc:
        result = ImportResult(name, kind, rejected=exc.log.entries(),
                              rejected_rows=exc.log.rows)
        raise FileImportError(str(exc), result) from exc


def _already_imported(s: Session, name: str, scan: FileScan) -> ImportResult | None:
    done = s.scalar(select(ImportFile).where(ImportFile.fingerprint == scan.fingerprint))
    if done is None:
        return None
    return ImportResult(name, done.kind, already_imported=True,
                        connection=_connection_name(s, done.connection_id))


def _load(s: Session, path: Path, scan: FileScan, target: Connection, kind: str,
          lines: Any, position: Callable[[], int], total: Callable[[], int], unit: str,
          accept_good_rows: bool, progress: Progress | None,
          cancel: threading.Event | None) -> ImportResult:
    """Record the file, stream its lines in, and fill in the counts and rejects."""
    record = ImportFile(connection_id=target.id, kind=kind, file_name=path.name[:200],
                        fingerprint=scan.fingerprint, rows=0, duplicates=0, rejected=0,
                        rejects=[])
    s.add(record)
    s.flush()
    outcome = load_lines(
        s.connection(), connection_id=target.id, import_file_id=record.id,
        file_name=path.name, items=lines, accept_good_rows=accept_good_rows,
        position=position, total=total, unit=unit,
        expected_lines=scan.size // BYTES_PER_LINE, progress=progress, cancel=cancel)
    if outcome.imported:
        refresh_statistics_if_stale(s)
    entries = outcome.rejects.entries()
    record.rows = outcome.imported
    record.duplicates = outcome.duplicates
    record.rejected = outcome.rejects.rows
    record.rejects = [reject.as_json() for reject in entries]
    target.last_sync_at = utcnow()
    return ImportResult(path.name, kind, outcome.imported, outcome.duplicates, False, entries,
                        outcome.rejects.rows, target.name,
                        outcome.new_entities.get("customers", 0),
                        outcome.new_entities.get("subscriptions", 0))


def _connection_name(s: Session, connection_id: int | None) -> str | None:
    if connection_id is None:
        return None
    return s.scalar(select(Connection.name).where(Connection.id == connection_id))


def _partner_center_connection(s: Session, name: str | None) -> Connection:
    """The named connection, the only Partner Center one, or a new "Partner Center"."""
    if name is None:
        found = s.scalars(select(Connection).where(Connection.kind == "partner_center")).all()
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            names = ", ".join(sorted(c.name for c in found))
            raise FileProblem("", f"several Partner Center connections ({names}): name one")
        name = PARTNER_CENTER
    existing = s.scalar(select(Connection).where(Connection.name == name))
    if existing is not None:
        if existing.kind != "partner_center":
            raise FileProblem("", f"connection {name!r} is a {existing.kind} connection, "
                              "not Partner Center")
        return existing
    created = Connection(name=name, kind="partner_center", side="vendor", settings={})
    s.add(created)
    s.flush()
    return created


def _generic_connection(s: Session, vendor: str) -> Connection:
    """One "generic_file" connection per vendor name, created on first import."""
    for candidate in (vendor, f"{vendor} (file import)"):
        existing = s.scalar(select(Connection).where(Connection.name == candidate))
        if existing is None:
            created = Connection(name=candidate, kind="generic_file", side="vendor",
                                 settings={"vendor_name": vendor})
            s.add(created)
            s.flush()
            return created
        if existing.kind == "generic_file":
            return existing
    raise FileProblem("", f"no free connection name for vendor {vendor!r}")


# --- profiles ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportProfileInfo:
    name: str
    vendor_name: str
    settings: ProfileSettings
    created_at: datetime


def _info(row: ImportProfile) -> ImportProfileInfo:
    return ImportProfileInfo(row.name, row.vendor_name, ProfileSettings.from_json(row.settings),
                             row.created_at)


def create_profile(ws: Workspace, name: str, vendor_name: str,
                   settings: ProfileSettings) -> ImportProfileInfo:
    """Save a new profile; unusable settings are refused with every problem named."""
    name, vendor_name = name.strip(), vendor_name.strip()
    if not name or not vendor_name:
        raise ProfileError("a profile needs a name and a vendor name")
    problems = settings.problems()
    if problems:
        raise ProfileError(f"profile {name!r} is not usable: " + "; ".join(problems))
    with ws.begin() as s:
        if s.scalar(select(ImportProfile.id).where(ImportProfile.name == name)) is not None:
            raise ProfileError(f"a profile named {name!r} already exists")
        row = ImportProfile(name=name, vendor_name=vendor_name, settings=settings.as_json())
        s.add(row)
        s.flush()
        return _info(row)


def list_profiles(ws: Workspace) -> list[ImportProfileInfo]:
    with ws.begin() as s:
        return [_info(row) for row in s.scalars(select(ImportProfile)
                                                .order_by(ImportProfile.name))]


def get_profile(ws: Workspace, name: str) -> ImportProfileInfo:
    with ws.begin() as s:
        row = s.scalar(select(ImportProfile).where(ImportProfile.name == name))
        if row is None:
            known = ", ".join(s.scalars(select(ImportProfile.name).order_by(
                ImportProfile.name))) or "none yet"
            raise ProfileError(f"no import profile named {name!r} (profiles: {known})")
        return _info(row)


def delete_profile(ws: Workspace, name: str) -> None:
    with ws.begin() as s:
        row = s.scalar(select(ImportProfile).where(ImportProfile.name == name))
        if row is None:
            raise ProfileError(f"no import profile named {name!r}")
        s.delete(row)


def preview_with_profile(ws: Workspace, profile: str, path: str | Path,
                         rows: int = 20) -> ImportPreview:
    """The first `rows` rows of `path` as the profile would import them, with cell errors."""
    path = Path(path)
    info = get_profile(ws, profile)
    encoding = None if info.settings.encoding == "auto" else info.settings.encoding
    try:
        return preview(path, peek_file(path, encoding=encoding), info.settings, rows)
    except FileProblem as exc:
        raise FileImportError(str(exc), ImportResult(path.name, "generic",
                                                     rejected=exc.rejects)) from exc
