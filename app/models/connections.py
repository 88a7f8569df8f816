"""Connections to vendors and PSAs, their sync runs, imported files and import profiles.

Only non-secret settings live here; secrets are in the OS keyring under the connection name.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import Str40, Str200, Timestamp, TimestampOrNone


class Connection(Base):
    __tablename__ = "connections"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[Str40]  # pax8, partner_center, generic_file, connectwise, autotask
    side: Mapped[Str40]  # vendor | psa
    base_url: Mapped[str | None] = mapped_column(String(500))
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[Timestamp]
    last_sync_at: Mapped[TimestampOrNone]


class SyncRun(Base):
    """One sync of one connection; its snapshot is current only if it completed."""

    __tablename__ = "sync_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    started_at: Mapped[Timestamp]
    finished_at: Mapped[TimestampOrNone]
    status: Mapped[Str40] = mapped_column(default="running")  # running, complete, failed, cancelled
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class ImportFile(Base):
    """A file imported once; the fingerprint makes a second import of it a no-op."""

    __tablename__ = "import_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    connection_id: Mapped[int | None] = mapped_column(ForeignKey("connections.id"), index=True)
    kind: Mapped[Str40]  # partner_center_recon, partner_center_usage, generic
    file_name: Mapped[Str200]
    fingerprint: Mapped[str] = mapped_column(String(64), unique=True)
    imported_at: Mapped[Timestamp]
    rows: Mapped[int] = mapped_column(Integer, default=0)
    duplicates: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    rejects: Mapped[list[Any]] = mapped_column(default=list)  # [{row, column, reason}]


class ImportProfile(Base):
    """A saved column mapping for a generic CSV/XLSX vendor file."""

    __tablename__ = "import_profiles"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    vendor_name: Mapped[Str200]
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[Timestamp]


class Setting(Base):
    """Workspace settings as typed values (user name, time zone, deadlines...)."""

    __tablename__ = "settings"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100))
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
