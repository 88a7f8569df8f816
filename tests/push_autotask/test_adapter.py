"""The Autotask adapter's own rules: which day's units it reads, and when it refuses to send."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.actions import ActionType, PsaAction
from app.sync.push.engine import PushRejected
from app.sync.push.intents import IntentState
from tests.push_autotask.conftest import EFFECTIVE, PERIOD, adjustments, seat_line, seats


def test_read_gives_the_units_of_the_effective_date_else_the_period_start(sandbox, desk,
                                                                          adapter):
    contract, line = seat_line(sandbox)
    sandbox.set_units_externally(line, 30, effective=date(2024, 5, 20))
    mid = desk.queue(PsaAction(ActionType.SET_QUANTITY, "autotask", PERIOD, str(contract),
                               str(line), desired={"quantity": "31"},
                               seen={"quantity": "30"}, effective_date=date(2024, 5, 20)))
    start = desk.queue(PsaAction(ActionType.SET_QUANTITY, "autotask", "2024-05", str(contract),
                                 str(line), desired={"quantity": "1"}, seen={"quantity": "2"}))
    assert adapter.read(mid).values == {"quantity": "30"}
    first = adapter.read(start)
    assert first.values == {"quantity": str(sandbox.units_on(line, date(2024, 5, 1)))}
    assert first.exists and first.record_id == str(line) and first.marker is None


def test_send_refuses_when_the_re_read_differs_from_approval(sandbox, desk, adapter):
    _, line = seat_line(sandbox)
    intent = desk.queue(seats(sandbox, add=2))
    sandbox.set_units_externally(line, 1, effective=EFFECTIVE)
    with pytest.raises(PushRejected, match="the units changed since approval"):
        adapter.send(intent)
    assert adjustments(sandbox) == []


def test_fractional_seats_are_refused_before_anything_is_sent(sandbox, desk, adapter):
    contract, line = seat_line(sandbox)
    now = sandbox.units_on(line, EFFECTIVE)
    desk.queue(PsaAction(ActionType.SET_QUANTITY, "autotask", PERIOD, str(contract), str(line),
                         desired={"quantity": str(now + Decimal("0.5"))},
                         seen={"quantity": str(now)}, effective_date=EFFECTIVE))
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.FAILED and "whole units" in outcome.message
    assert adjustments(sandbox) == []


def test_a_line_the_api_user_cannot_see_fails_as_a_permission_problem(sandbox, desk, adapter):
    contract, _ = seat_line(sandbox)
    desk.queue(seats(sandbox))
    sandbox.hide("Contracts", contract)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.FAILED
    assert "permission or zone problem, not a missing record" in outcome.message
    assert adjustments(sandbox) == []


def test_a_charge_without_a_price_is_refused(sandbox, desk, adapter):
    contract, _ = seat_line(sandbox)
    desk.queue(PsaAction(ActionType.ONE_TIME_CHARGE, "autotask", PERIOD, str(contract),
                         desired={"quantity": "1"}))
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.FAILED and "needs a unit price" in outcome.message
