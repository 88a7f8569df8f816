"""Durable intents: one per correction, claimed atomically, retried only when known not sent."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from sqlalchemy import event, select

from app.domain.actions import ActionType, PsaAction, intent_key, marker_for
from app.models.activity import AuditEntry, PushIntent
from app.services.push import queue, queue_action
from app.sync.push.intents import (
    IntentState,
    claim,
    create_intent,
    list_intents,
    retry,
    transition,
)

ACCOUNT = "connectwise:https://cw.example/v4_6_release/apis/3.0:acme"
ACTION = PsaAction(ActionType.SET_QUANTITY, "connectwise", "2026-11", "701", "30001",
                   desired={"quantity": "12"}, seen={"quantity": "10"},
                   effective_date=date(2026, 11, 1), money_effect=Decimal("52.80"),
                   currency="EUR")


@pytest.fixture()
def conn_id(ws) -> int:
    from app.services.connections import get_connection

    return get_connection(ws, "CW").id


def _create(ws, conn_id, action=ACTION, account=ACCOUNT):
    with ws.begin() as s:
        return create_intent(s, action=action, connection_id=conn_id, psa_account=account,
                             entity="addition", user="ann")


def test_the_key_is_what_is_billed_and_the_marker_is_short():
    same = PsaAction(**{**ACTION.__dict__, "seen": {"quantity": "9"},
                        "money_effect": Decimal(0)})  # not part of what is billed
    assert intent_key(ACTION, ACCOUNT) == intent_key(same, ACCOUNT)
    other_value = PsaAction(**{**ACTION.__dict__, "desired": {"quantity": "13"}})
    other_period = PsaAction(**{**ACTION.__dict__, "period": "2026-12"})
    keys = {intent_key(a, ACCOUNT) for a in (ACTION, other_value, other_period)}
    keys.add(intent_key(ACTION, ACCOUNT.replace("acme", "globex")))
    assert len(keys) == 4
    key = intent_key(ACTION, ACCOUNT)
    assert len(key) == 64 and marker_for(key) == "TU-" + key[:10]
    assert len(marker_for(key)) <= 50  # fits CW's serialNumber


def test_creating_the_same_correction_twice_is_one_intent(ws, conn_id):
    first, created = _create(ws, conn_id)
    again, created_again = _create(ws, conn_id)
    assert created and not created_again and first.id == again.id
    assert first.state == "PENDING" and first.attempts == 0
    assert first.money_effect == Decimal("52.80") and first.currency == "EUR"
    assert first.payload["effective_date"] == "2026-11-01"
    with ws.begin() as s:
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.entity == "push_intent"))
        assert list(actions) == ["queue_push"]


def test_claim_is_atomic_and_only_from_the_given_states(ws, conn_id):
    intent, _ = _create(ws, conn_id)
    with ws.begin() as s:
        assert claim(s, intent.id, (IntentState.PENDING,))
    with ws.begin() as s:
        assert not claim(s, intent.id, (IntentState.PENDING,))  # already SENDING
        assert not claim(s, intent.id, (IntentState.UNKNOWN, IntentState.FAILED))
        assert not claim(s, 9999, (IntentState.PENDING,))
    [claimed] = queue(ws)
    assert claimed.state == "SENDING" and claimed.attempts == 1


@pytest.mark.parametrize("state", [IntentState.PENDING, IntentState.SENDING, IntentState.DONE,
                                   IntentState.UNKNOWN, IntentState.CONFLICT])
def test_retry_only_from_failed(ws, conn_id, state):
    intent, _ = _create(ws, conn_id)
    with ws.begin() as s:
        transition(s, intent.id, state, user="ann")
    with ws.begin() as s, pytest.raises(ValueError, match="only FAILED can be retried"):
        retry(s, intent.id, user="ann")
    assert queue(ws)[0].state == state


def test_retry_of_a_failed_intent_clears_the_error(ws, conn_id):
    intent, _ = _create(ws, conn_id)
    with ws.begin() as s:
        transition(s, intent.id, IntentState.FAILED, user="ann", error="HTTP 400: invalid")
    with ws.begin() as s:
        again = retry(s, intent.id, user="bob")
    assert again.state == "PENDING" and again.last_error is None
    with ws.begin() as s, pytest.raises(LookupError):
        retry(s, 9999, user="bob")


def test_every_transition_is_audited_with_before_and_after(ws, conn_id):
    intent, _ = _create(ws, conn_id)
    with ws.begin() as s:
        transition(s, intent.id, IntentState.DONE, user="bob", psa_record_id="30001",
                   response={"line": {"quantity": Decimal("12.00")}})
    with ws.begin() as s:
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        stored = s.get(PushIntent, intent.id)
        assert (entry.user, entry.action) == ("bob", "push_done")
        assert entry.before == {"state": "PENDING"}
        assert entry.after == {"state": "DONE", "error": None, "psa_record_id": "30001"}
        assert stored.response == {"line": {"quantity": "12.00"}}  # exact text, no float
    with ws.begin() as s, pytest.raises(LookupError):
        transition(s, 9999, IntentState.DONE, user="bob")


def test_list_intents_filters_by_state(ws, conn_id):
    a, _ = _create(ws, conn_id)
    b, _ = _create(ws, conn_id, PsaAction(**{**ACTION.__dict__, "line_ref": "30002"}))
    with ws.begin() as s:
        transition(s, b.id, IntentState.FAILED, user="ann", error="x")
    with ws.begin() as s:
        assert [i.id for i in list_intents(s)] == [a.id, b.id]
        assert [i.id for i in list_intents(s, (IntentState.FAILED,))] == [b.id]
        assert list_intents(s, (IntentState.DONE,)) == []


def test_queueing_the_same_correction_at_the_same_moment_from_two_windows(new_workspace, cw):
    """Both windows look for the intent, neither finds it, both insert: one must win quietly."""
    ws_a, ws_b = new_workspace(), new_workspace()
    raced = []

    @event.listens_for(ws_a.sessions, "do_orm_execute")
    def _other_window_queues_in_between(state):
        if state.is_select and not raced and "push_intents" in str(state.statement):
            result = state.invoke_statement().freeze()  # A has looked: nothing there yet
            raced.append(queue_action(ws_b, "CW", ACTION, user="bob"))
            return result()
        return None

    intent = queue_action(ws_a, "CW", ACTION, user="ann")

    assert raced and intent.id == raced[0].id
    assert [i.id for i in queue(ws_a)] == [intent.id]
