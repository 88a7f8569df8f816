"""Reviewing findings: approve, reject, defer — one by one or in bulk, with optimistic locking.

Approving writes the push intents of the finding's actions in the same transaction as the
approval, before anything is sent (DESIGN.md section 7). An approval quoting a finding
version that is no longer current is refused: the numbers changed since the person looked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.domain.actions import action_from_dict, with_effective_date
from app.models.activity import PushIntent
from app.models.audit import record_audit
from app.models.connections import Connection
from app.models.psa import PsaBillingLine, PsaCompany
from app.models.review import Approval, BillingPeriodRow, Finding
from app.services.connections import connection_view
from app.services.connectors import psa_account
from app.services.push import entity_of
from app.services.workspace import Workspace
from app.sync.push.intents import create_intent

DECISIONS = {"approve": "approved", "reject": "rejected", "defer": "deferred"}
FINAL = {"pushed"}
NOT_PUSHABLE = {"unmapped"}


class ReviewError(ValueError):
    """A decision that cannot be taken; the message names the finding and why."""


class StaleFindingError(ReviewError):
    """The finding changed since the person looked at it."""


@dataclass(frozen=True)
class Decision:
    finding_id: int
    status: str
    version: int
    intents: tuple[int, ...] = ()


def _snapshot(f: Finding) -> dict[str, object]:
    return {"status": f.status, "version": f.version, "amount": f.amount,
            "effective_date": f.effective_date, "note": f.note}


def _connection_for(session: Session, finding: Finding) -> Connection:
    if finding.psa_billing_line_id is not None:
        line = session.get(PsaBillingLine, finding.psa_billing_line_id)
        return session.get(Connection, line.connection_id)
    if finding.psa_company_id is not None:
        company = session.get(PsaCompany, finding.psa_company_id)
        return session.get(Connection, company.connection_id)
    raise ReviewError(f"finding {finding.id} has no PSA company: map the customer first")


def _decide_one(session: Session, finding_id: int, decision: str, *, user: str,
                expected_version: int | None, effective: date | None,
                note: str | None) -> Decision:
    finding = session.get(Finding, finding_id)
    if finding is None:
        raise ReviewError(f"finding {finding_id} does not exist")
    if expected_version is not None and finding.version != expected_version:
        raise StaleFindingError(
            f"finding {finding_id} changed since you looked at it (you saw version "
            f"{expected_version}, it is now version {finding.version}; amount now "
            f"{finding.currency} {finding.amount}): review it again before deciding")
    if finding.status in FINAL:
        raise ReviewError(f"finding {finding_id} was already pushed to the PSA")
    status = DECISIONS[decision]
    if status == "approved" and finding.kind in NOT_PUSHABLE:
        raise ReviewError(f"finding {finding_id} is an unmapped item: map it instead of "
                          "approving it")
    before = _snapshot(finding)
    approval = Approval(finding_id=finding.id, finding_version=finding.version, decision=status,
                        effective_date=effective, note=note, decided_by=user)
    session.add(approval)
    session.flush()
    intents: list[int] = []
    if status == "approved":
        if finding.status == "approved":
            # Re-approving (say with another effective date) replaces what is queued, so
            # the old and the new change can never both be pushed.
            _withdraw_pending(session, finding, user)
        intents = _queue_actions(session, finding, approval, effective, user)
    else:
        _withdraw_pending(session, finding, user)
    finding.status = status
    finding.effective_date = effective or finding.effective_date
    if note is not None:
        finding.note = note
    finding.version += 1
    finding.updated_at = datetime.now(UTC)
    record_audit(session, user=user, action=decision, entity="finding", entity_id=finding.id,
                 before=before, after={**_snapshot(finding), "intents": intents})
    return Decision(finding.id, status, finding.version, tuple(intents))


def _queue_actions(session: Session, finding: Finding, approval: Approval,
                   effective: date | None, user: str) -> list[int]:
    actions = [action_from_dict(a) for a in finding.action.get("actions", [])]
    if not actions:
        return []
    view = connection_view(_connection_for(session, finding))
    ids = []
    for n, action in enumerate(actions):
        if effective is not None and n == 0:
            action = with_effective_date(action, effective)  # the primary change moves
        intent, _ = create_intent(session, action=action, connection_id=view.id,
                                  psa_account=psa_account(view),
                                  entity=entity_of(view.kind, action), user=user, finding_id=finding.id, approval_id=approval.id)
        ids.append(intent.id)
    return ids


def _withdraw_pending(session: Session, finding: Finding, user: str) -> None:
    """Rejecting or deferring an approved finding takes back what was not sent yet."""
    for intent in session.scalars(select(PushIntent).where(
            PushIntent.finding_id == finding.id, PushIntent.state == "PENDING")):
        record_audit(session, user=user, action="withdraw_push", entity="push_intent",
                     entity_id=intent.id, before={"state": intent.state, "key": intent.key})
        session.delete(intent)
    sent = session.scalars(select(PushIntent).where(
        PushIntent.finding_id == finding.id, PushIntent.state != "PENDING")).first()
    if sent is not None:
        raise ReviewError(f"finding {finding.id} already has a change sent to the PSA "
                          f"(intent {sent.id}, {sent.state}); settle it in the push queue")


def decide(ws: Workspace, finding_ids: Iterable[int], decision: str, *, user: str,
           expected_versions: dict[int, int] | None = None, effective: date | None = None,
           note: str | None = None) -> list[Decision]:
    """All or nothing: one refused finding refuses the whole batch, and says which and why."""
    if decision not in DECISIONS:
        raise ReviewError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
    ids = list(dict.fromkeys(finding_ids))
    if not ids:
        raise ReviewError("no findings given")
    expected_versions = expected_versions or {}
    with ws.begin() as session:
        return [_decide_one(session, fid, decision, user=user,
                            expected_version=expected_versions.get(fid), effective=effective,
                            note=note) for fid in ids]


@dataclass(frozen=True)
class FindingDecision:
    """One finding's decision with its own effective date and note (a row of a workbook)."""

    finding_id: int
    decision: str  # approve | reject | defer
    expected_version: int | None = None
    effective: date | None = None
    note: str | None = None


def decide_many(ws: Workspace, decisions: list[FindingDecision], *, user: str,
                dry_run: bool = False) -> list[Decision]:
    """Per-finding decisions in one transaction, all or nothing, each checked and audited
    exactly as `decide` does. `dry_run` runs every check and writes nothing.

    Re-approving an approved finding with a new effective date first withdraws its changes not
    yet sent, so the new date replaces the queued push instead of adding a second one.
    """
    if not decisions:
        raise ReviewError("no decisions given")
    seen: set[int] = set()
    for d in decisions:
        if d.decision not in DECISIONS:
            raise ReviewError(f"finding {d.finding_id}: unknown decision {d.decision!r}; one of "
                              f"{', '.join(DECISIONS)}")
        if d.finding_id in seen:
            raise ReviewError(f"finding {d.finding_id} is decided twice in one batch")
        seen.add(d.finding_id)
    with ws.sessions() as session:
        transaction = session.begin()
        try:
            out = []
            for d in decisions:
                out.append(_decide_one(session, d.finding_id, d.decision, user=user,
                                       expected_version=d.expected_version,
                                       effective=d.effective, note=d.note))
            session.flush()
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
        return out


def open_finding_ids(ws: Workspace, period_label: str, kind: str | None = None) -> list[int]:
    """The findings `approve --all` applies to: open ones of a period, optionally one kind."""
    with ws.begin() as s:
        period = s.scalar(select(BillingPeriodRow).where(BillingPeriodRow.label == period_label))
        if period is None:
            raise ReviewError(f"period {period_label} has not been reconciled yet")
        query = select(Finding.id).where(Finding.period_id == period.id,
                                         Finding.status == "open",
                                         Finding.kind.not_in(NOT_PUSHABLE))
        if kind:
            query = query.where(Finding.kind == kind)
        return list(s.scalars(query.order_by(Finding.id)))
