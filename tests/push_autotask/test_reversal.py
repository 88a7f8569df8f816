"""Undoing a wrong push on Autotask: an opposite action pushed as a new intent, never a delete."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.actions import ActionType, PsaAction, intent_key
from app.sync.push.autotask_adapter import entity_for, reversal_action
from app.sync.push.intents import IntentState
from tests.push_autotask.conftest import (
    EFFECTIVE,
    PERIOD,
    adjustments,
    fixed_contract,
    seat_line,
    seats,
)

ACCOUNT = "autotask:api@example.invalid"


def test_seat_reversal_swaps_seen_and_desired_and_is_a_new_intent():
    action = PsaAction(ActionType.SET_QUANTITY, "autotask", PERIOD, "10", "20",
                       desired={"quantity": "12"}, seen={"quantity": "9"},
                       effective_date=date(2024, 5, 1), description="seats",
                       money_effect=Decimal("43.20"))
    undo = reversal_action(action)
    assert undo.type == ActionType.SET_QUANTITY
    assert (undo.seen, undo.desired) == ({"quantity": "12"}, {"quantity": "9"})
    assert undo.effective_date == date(2024, 5, 1) and undo.money_effect == Decimal("-43.20")
    assert undo.description == "Reversal of: seats"
    assert intent_key(undo, ACCOUNT) != intent_key(action, ACCOUNT)
    later = reversal_action(action, effective_date=date(2024, 5, 20))
    assert later.effective_date == date(2024, 5, 20)


def test_charge_reversal_is_a_credit_of_the_same_amount():
    charge = PsaAction(ActionType.ONE_TIME_CHARGE, "autotask", PERIOD, "10",
                       desired={"quantity": "10", "unit_price": "316.80",
                                "effective_date": "2024-05-01", "description": "annual"},
                       money_effect=Decimal("3168.00"))
    credit = reversal_action(charge)
    assert credit.type == ActionType.ONE_TIME_CHARGE and credit.desired["unit_price"] == "-316.80"
    assert credit.desired["quantity"] == "10" and credit.money_effect == Decimal("-3168.00")
    assert intent_key(credit, ACCOUNT) != intent_key(charge, ACCOUNT)
    assert entity_for(credit.type) == "contract_charge"


def test_added_line_and_cancellation_reversals():
    added = PsaAction(ActionType.ADD_LINE, "autotask", PERIOD, "10",
                      desired={"quantity": "7", "unit_price": "4.80"}, product_ref="5",
                      effective_date=date(2024, 5, 10))
    with pytest.raises(ValueError, match="created contract service id"):
        reversal_action(added)
    back = reversal_action(added, line_ref="99")
    assert (back.type, back.line_ref, back.seen, back.desired) == (
        ActionType.SET_QUANTITY, "99", {"quantity": "7"}, {"quantity": "0"})
    cancel = PsaAction(ActionType.CANCEL_LINE, "autotask", PERIOD, "10", "20",
                       desired={"cancelled_date": "2024-05-31"},
                       seen={"cancelled_date": "", "quantity": "8"})
    restore = reversal_action(cancel)
    assert (restore.seen, restore.desired) == ({"quantity": "0"}, {"quantity": "8"})
    assert restore.effective_date == date(2024, 6, 1)
    with pytest.raises(ValueError, match="units seen at approval"):
        reversal_action(PsaAction(ActionType.CANCEL_LINE, "autotask", PERIOD, "10", "20",
                                  desired={"cancelled_date": "2024-05-31"}))
    with pytest.raises(ValueError, match="for Autotask actions"):
        reversal_action(PsaAction(ActionType.SET_QUANTITY, "connectwise", PERIOD, "1", "2"))


def test_a_wrong_push_is_undone_by_an_opposite_adjustment(sandbox, desk, adapter):
    _, line = seat_line(sandbox)
    before = sandbox.units_on(line, EFFECTIVE)
    wrong = seats(sandbox, add=3)
    desk.queue(wrong)
    desk.push(adapter)
    desk.queue(reversal_action(wrong))
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE
    assert [w.body["unitChange"] for w in adjustments(sandbox)] == [3, -3]
    assert sandbox.units_on(line, EFFECTIVE) == before
    assert [i.state for i in desk.intents()] == [IntentState.DONE, IntentState.DONE]
    assert sandbox.writes("DELETE") == []


def test_a_reversal_of_a_push_that_never_landed_writes_nothing(sandbox, desk, adapter):
    wrong = seats(sandbox, add=3)
    desk.queue(reversal_action(wrong))
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE and adjustments(sandbox) == []


def test_a_wrong_charge_is_answered_by_a_credit(sandbox, desk, adapter):
    contract = fixed_contract(sandbox)
    charge = PsaAction(ActionType.ONE_TIME_CHARGE, "autotask", PERIOD, str(contract),
                       desired={"quantity": "2", "unit_price": "26.40",
                                "effective_date": "2024-05-01", "description": "true-up"})
    desk.queue(charge)
    desk.queue(reversal_action(charge))
    outcomes = desk.push(adapter)
    assert [o.state for o in outcomes] == [IntentState.DONE, IntentState.DONE]
    bodies = [w.body for w in sandbox.writes("POST", "ContractCharges")]
    assert [b["unitPrice"] for b in bodies] == [Decimal("26.40"), Decimal("-26.40")]
    assert sum(b["unitQuantity"] * b["unitPrice"] for b in bodies) == 0
