"""Push intents, the append-only audit log and alerts."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.types import Str40, Timestamp, TimestampOrNone


class PushIntent(Base):
    """A durable record of one action being sent to the PSA (DESIGN.md section 7).

    `key` is derived from what is billed, so the same correction approved twice, or pushed
    from two workspaces, is one intent and one marker in the PSA.
    """

    __tablename__ = "push_intents"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    marker: Mapped[str] = mapped_column(String(40))
    finding_id: Mapped[int | None] = mapped_column(ForeignKey("findings.id"), index=True)
    approval_id: Mapped[int | None] = mapped_column(ForeignKey("approvals.id"))
    connection_id: Mapped[int] = mapped_column(ForeignKey("connections.id"), index=True)
    action_type: Mapped[Str40]
    entity: Mapped[Str40]  # addition | contract_service | contract_charge | adjustment
    target_ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seen_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    desired_state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[Str40] = mapped_column(default="PENDING", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    psa_record_id: Mapped[str | None] = mapped_column(String(100))
    response: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[Timestamp]
    updated_at: Mapped[Timestamp]
    sent_at: Mapped[TimestampOrNone]


class AuditEntry(Base):
    """Append-only: rows are inserted, never updated or deleted (enforced by triggers)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[Timestamp]
    user: Mapped[str] = mapped_column(String(100))
    action: Mapped[Str40]
    entity: Mapped[Str40]
    entity_id: Mapped[str] = mapped_column(String(100))
    before: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    after: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200))
    kind: Mapped[Str40]
    severity: Mapped[Str40]  # info | warning | error
    message: Mapped[str] = mapped_column(Text)
    ref: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[Timestamp]
    resolved_at: Mapped[TimestampOrNone]
    occurrences: Mapped[int] = mapped_column(Integer, default=1)
