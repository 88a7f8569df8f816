"""Durable push intents: created before any request, claimed atomically, moved by state.

Every transition is its own short transaction, so a crash at any point leaves the intent in
a state that says exactly what is known: PENDING (nothing sent), SENDING (a request may have
gone out), DONE (the PSA shows it), UNKNOWN (sent, outcome not known), FAILED (definitely not
applied), CONFLICT (someone else changed the line; a person decides).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.domain.actions import PsaAction, intent_key, marker_for
from app.models.activity import PushIntent
from app.models.audit import jsonable, record_audit


class IntentState(StrEnum):
    PENDING = "PENDING"
    SENDING = "SENDING"
    DONE = "DONE"
    FAILED = "FAILED"
    UNKNOWN = "UNKNOWN"
    CONFLICT = "CONFLICT"


UNSETTLED = (IntentState.SENDING, IntentState.UNKNOWN)


@dataclass(frozen=True)
class IntentView:
    """A push intent as a frozen value, safe to hand to a worker thread or the UI."""

    id: int
    key: str
    marker: str
    connection_id: int
    finding_id: int | None
    action_type: str
    entity: str
    target_ref: dict[str, Any]
    seen_state: dict[str, str]
    desired_state: dict[str, str]
    payload: dict[str, Any]
    state: str
    attempts: int
    psa_record_id: str | None
    last_error: str | None
    updated_at: datetime

    @property
    def money_effect(self) -> Decimal:
        return Decimal(self.payload.get("money_effect", "0"))

    @property
    def currency(self) -> str:
        return self.payload.get("currency", "")


def view(row: PushIntent) -> IntentView:
    return IntentView(
        id=row.id, key=row.key, marker=row.marker, connection_id=row.connection_id,
        finding_id=row.finding_id, action_type=row.action_type, entity=row.entity,
        target_ref=dict(row.target_ref), seen_state=dict(row.seen_state),
        desired_state=dict(row.desired_state), payload=dict(row.payload), state=row.state,
        attempts=row.attempts, psa_record_id=row.psa_record_id, last_error=row.last_error,
        updated_at=row.updated_at,
    )


def create_intent(
    session: Session,
    *,
    action: PsaAction,
    connection_id: int,
    psa_account: str,
    entity: str,
    user: str,
    finding_id: int | None = None,
    approval_id: int | None = None,
) -> tuple[IntentView, bool]:
    """Record the intent to make `action`; the same correction twice is one intent.

    Returns the intent and whether it was newly created.
    """
    key = intent_key(action, psa_account)
    payload = {
        "period": action.period,
        "effective_date": action.effective_date.isoformat() if action.effective_date else None,
        "description": action.description,
        "product_ref": action.product_ref,
        "money_effect": str(action.money_effect),
        "currency": action.currency,
    }
    existing = session.scalar(select(PushIntent).where(PushIntent.key == key))
    if existing is not None and existing.state in (IntentState.FAILED, IntentState.CONFLICT):
        # Known not to have landed: a new approval (after a re-sync, say) replaces what it
        # was approved against, and the change goes back to the queue.
        before = {"state": existing.state, "seen": existing.seen_state,
                  "error": existing.last_error}
        existing.seen_state, existing.desired_state = dict(action.seen), dict(action.desired)
        existing.payload = payload
        existing.finding_id, existing.approval_id = finding_id, approval_id
        existing.state, existing.last_error = IntentState.PENDING, None
        existing.updated_at = datetime.now(UTC)
        record_audit(session, user=user, action="requeue_push", entity="push_intent",
                     entity_id=existing.id, before=before,
                     after={"state": existing.state, "seen": existing.seen_state})
        return view(existing), False
    if existing is not None:
        return view(existing), False
    row = PushIntent(
        key=key,
        marker=marker_for(key),
        finding_id=finding_id,
        approval_id=approval_id,
        connection_id=connection_id,
        action_type=str(action.type),
        entity=entity,
        target_ref={"agreement": action.agreement_ref, "line": action.line_ref},
        seen_state=dict(action.seen),
        desired_state=dict(action.desired),
        payload=payload,
        state=IntentState.PENDING,
    )
    session.add(row)
    session.flush()
    record_audit(session, user=user, action="queue_push", entity="push_intent",
                 entity_id=row.id, after={"key": key, "action": jsonable(payload),
                                          "desired": row.desired_state})
    return view(row), True


def claim(session: Session, intent_id: int, from_states: tuple[str, ...]) -> bool:
    """Atomically move an intent to SENDING; False if another worker got there first."""
    result = session.execute(
        update(PushIntent)
        .where(PushIntent.id == intent_id, PushIntent.state.in_(from_states))
        .values(state=IntentState.SENDING, attempts=PushIntent.attempts + 1,
                updated_at=datetime.now(UTC), sent_at=datetime.now(UTC))
    )
    return result.rowcount == 1


def transition(
    session: Session,
    intent_id: int,
    state: IntentState,
    *,
    user: str,
    error: str | None = None,
    psa_record_id: str | None = None,
    response: dict[str, Any] | None = None,
) -> IntentView:
    row = session.get(PushIntent, intent_id)
    if row is None:
        raise LookupError(f"push intent {intent_id} does not exist")
    before = {"state": row.state}
    row.state = state
    row.last_error = error
    row.updated_at = datetime.now(UTC)
    if psa_record_id is not None:
        row.psa_record_id = psa_record_id
    if response is not None:
        row.response = jsonable(response)
    record_audit(session, user=user, action=f"push_{state.lower()}", entity="push_intent",
                 entity_id=intent_id, before=before,
                 after={"state": state, "error": error, "psa_record_id": row.psa_record_id})
    return view(row)


def list_intents(session: Session, states: tuple[str, ...] | None = None) -> list[IntentView]:
    query = select(PushIntent).order_by(PushIntent.id)
    if states:
        query = query.where(PushIntent.state.in_(states))
    return [view(row) for row in session.scalars(query)]


def retry(session: Session, intent_id: int, *, user: str) -> IntentView:
    """A person asks to try a FAILED intent again (it is known not to have landed)."""
    row = session.get(PushIntent, intent_id)
    if row is None:
        raise LookupError(f"push intent {intent_id} does not exist")
    if row.state != IntentState.FAILED:
        raise ValueError(f"push intent {intent_id} is {row.state}, only FAILED can be retried")
    return transition(session, intent_id, IntentState.PENDING, user=user)
