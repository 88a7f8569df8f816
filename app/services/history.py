"""What happened to a finding and to its period: the review grid's "history" and period marks.

A finding's story is spread over audit entries of the finding itself (approve, reject,
defer, recompute) and of the push intents its approvals queued (queued, sent, done,
withdrawn). Withdrawn intents are deleted, so their ids are also taken from the approvals'
own audit entries; nothing of the story is lost when an approval is taken back.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select

from app.models.activity import AuditEntry, PushIntent
from app.models.review import BillingPeriodRow, Finding
from app.services.workspace import Workspace


@dataclass(frozen=True)
class HistoryEntry:
    id: int
    at: datetime
    user: str
    action: str  # approve | reject | defer | recompute | queue_push | push_done | ...
    entity: str  # finding | push_intent
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


@dataclass(frozen=True)
class PeriodRun:
    label: str
    reconciled_at: datetime | None
    findings: int


def _intent_ids(entries: list[AuditEntry]) -> set[str]:
    ids: set[str] = set()
    for entry in entries:
        for intent in (entry.after or {}).get("intents", []) or []:
            ids.add(str(intent))
    return ids


def finding_history(ws: Workspace, finding_id: int) -> list[HistoryEntry]:
    """Oldest first: the finding's decisions and recomputations, and its pushes."""
    with ws.begin() as s:
        own = list(s.scalars(select(AuditEntry).where(
            AuditEntry.entity == "finding", AuditEntry.entity_id == str(finding_id))))
        intents = _intent_ids(own) | {str(i) for i in s.scalars(
            select(PushIntent.id).where(PushIntent.finding_id == finding_id))}
        pushes = list(s.scalars(select(AuditEntry).where(
            AuditEntry.entity == "push_intent", AuditEntry.entity_id.in_(intents)))
        ) if intents else []
        entries = sorted(own + pushes, key=lambda e: (e.at, e.id))
        return [HistoryEntry(e.id, e.at, e.user, e.action, e.entity, e.entity_id,
                             dict(e.before) if e.before is not None else None,
                             dict(e.after) if e.after is not None else None)
                for e in entries]


def reconciled_periods(ws: Workspace) -> dict[str, PeriodRun]:
    """Each period that has been reconciled (or holds findings), by label."""
    query = (select(BillingPeriodRow.label, BillingPeriodRow.reconciled_at,
                    func.count(Finding.id))
             .outerjoin(Finding, Finding.period_id == BillingPeriodRow.id)
             .where(or_(BillingPeriodRow.reconciled_at.is_not(None), Finding.id.is_not(None)))
             .group_by(BillingPeriodRow.id))
    with ws.begin() as s:
        return {label: PeriodRun(label, at, count) for label, at, count in s.execute(query)}


@dataclass(frozen=True)
class PeriodOverview:
    """One period at a glance: findings per status and the money still awaiting a decision,
    per currency (summed here in Decimal, never in SQL, where money would pass through float)."""

    label: str
    reconciled_at: datetime | None
    by_status: tuple[tuple[str, int], ...]
    undecided_under: tuple[tuple[str, Decimal], ...]
    undecided_over: tuple[tuple[str, Decimal], ...]

    @property
    def findings(self) -> int:
        return sum(n for _, n in self.by_status)

    def count(self, status: str) -> int:
        return dict(self.by_status).get(status, 0)


def period_overview(ws: Workspace, label: str) -> PeriodOverview | None:
    with ws.begin() as s:
        period = s.scalar(select(BillingPeriodRow).where(BillingPeriodRow.label == label))
        if period is None:
            return None
        statuses: dict[str, int] = {}
        under: dict[str, Decimal] = {}
        over: dict[str, Decimal] = {}
        for status, currency, amount in s.execute(
                select(Finding.status, Finding.currency, Finding.amount)
                .where(Finding.period_id == period.id)):
            statuses[status] = statuses.get(status, 0) + 1
            if status in ("open", "deferred") and amount:
                side = under if amount > 0 else over
                side[currency] = side.get(currency, Decimal(0)) + amount
        return PeriodOverview(label, period.reconciled_at, tuple(sorted(statuses.items())),
                              tuple(sorted(under.items())), tuple(sorted(over.items())))
