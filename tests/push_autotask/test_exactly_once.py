"""Exactly once on Autotask, where a seat change is a delta that can never be read back.

Every test drives app.sync.push.engine with a real workspace, durable intents and the
Autotask adapter over a real connector; the sandbox counts what was written.
"""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import httpx

from app.domain.actions import ActionType, PsaAction
from app.sync.push import engine
from app.sync.push.autotask_adapter import AutotaskPushAdapter
from app.sync.push.intents import IntentState
from app.sync.sandbox.base import (
    DROP,
    DROP_AFTER_COMMIT,
    SERVER_ERROR,
    TIMEOUT_AFTER_COMMIT,
)
from tests.push_autotask.conftest import (
    EFFECTIVE,
    PERIOD,
    adjustments,
    fixed_contract,
    seat_line,
    seats,
)

ADJUST = "/ContractServiceAdjustments$"


def test_a_seat_change_is_one_adjustment_of_the_difference(sandbox, desk, adapter):
    contract, line = seat_line(sandbox)
    before = sandbox.units_on(line, EFFECTIVE)
    intent = desk.queue(seats(sandbox, add=3))
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE and outcome.record_id == str(line)
    [write] = adjustments(sandbox)
    assert write.body["unitChange"] == 3 and write.body["contractServiceID"] == line
    assert write.body["effectiveDate"] == "2024-05-01T00:00:00"
    assert sandbox.units_on(line, date(2024, 5, 20)) == before + 3
    assert desk.intents()[0].state == IntentState.DONE and intent.marker.startswith("TU-")


def test_pushing_again_and_approving_twice_write_nothing_more(sandbox, desk, adapter):
    action = seats(sandbox)
    first = desk.queue(action)
    assert desk.queue(action).id == first.id  # a double click is one intent
    desk.push(adapter)
    assert desk.push(adapter) == []
    assert len(adjustments(sandbox)) == 1


def test_two_threads_pushing_at_once_send_one_adjustment(sandbox, desk, adapter):
    desk.queue(seats(sandbox))
    barrier = threading.Barrier(2)
    results: list[list[engine.PushOutcome]] = []

    def run() -> None:
        barrier.wait()
        results.append(desk.push(adapter))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(len(r) for r in results) == 1  # the claim is atomic: one thread pushed
    assert len(adjustments(sandbox)) == 1


def test_two_workspaces_billing_one_tenant_send_one_adjustment(sandbox, tmp_path, adapter,
                                                                open_desk):
    action = seats(sandbox, add=5)
    alice = open_desk(tmp_path / "alice.sqlite", sandbox)
    bob = open_desk(tmp_path / "bob.sqlite", sandbox)
    a, b = alice.queue(action), bob.queue(action)
    assert a.key == b.key and a.marker == b.marker
    [done_a] = alice.push(adapter)
    [done_b] = bob.push(adapter)
    assert done_a.state == done_b.state == IntentState.DONE
    assert len(adjustments(sandbox)) == 1  # Bob's read-before-write saw the units in place


def test_units_changed_after_approval_is_a_conflict_and_nothing_is_sent(sandbox, desk, adapter):
    _, line = seat_line(sandbox)
    action = seats(sandbox, add=2)
    desk.queue(action)
    sandbox.set_units_externally(line, sandbox.units_on(line, EFFECTIVE) + 1, effective=EFFECTIVE)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.CONFLICT
    assert "quantity was" in outcome.message
    assert adjustments(sandbox) == []


def test_timeout_after_commit_is_settled_done_by_re_reading_the_units(sandbox, desk, adapter):
    _, line = seat_line(sandbox)
    before = sandbox.units_on(line, EFFECTIVE)
    desk.queue(seats(sandbox, add=4))
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="POST", path=ADJUST)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE
    [intent] = desk.intents()
    assert intent.attempts == 2  # sent once, then claimed again only to re-read
    assert len(adjustments(sandbox)) == 1
    assert sandbox.units_on(line, EFFECTIVE) == before + 4
    assert desk.push(adapter) == [] and len(adjustments(sandbox)) == 1


def test_dropped_connection_after_commit_is_settled_done(sandbox, desk, adapter):
    desk.queue(seats(sandbox))
    sandbox.inject(DROP_AFTER_COMMIT, method="POST", path=ADJUST)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE and len(adjustments(sandbox)) == 1


def test_dropped_connection_before_commit_is_failed_and_safe_to_retry(sandbox, desk, adapter):
    _, line = seat_line(sandbox)
    before = sandbox.units_on(line, EFFECTIVE)
    desk.queue(seats(sandbox))
    sandbox.inject(DROP, method="POST", path=ADJUST)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.FAILED
    assert "did not happen, so it is safe to retry" in outcome.message
    assert adjustments(sandbox) == [] and sandbox.units_on(line, EFFECTIVE) == before


def test_500_with_errors_is_failed_with_the_message_and_nothing_applied(sandbox, desk, adapter):
    _, line = seat_line(sandbox)
    before = sandbox.units_on(line, EFFECTIVE)
    desk.queue(seats(sandbox))
    sandbox.inject(SERVER_ERROR, {"errors": ["Contract period is already posted."]},
                   method="POST", path=ADJUST)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.FAILED
    assert "Contract period is already posted." in outcome.message
    assert adjustments(sandbox) == [] and sandbox.units_on(line, EFFECTIVE) == before
    assert sum(1 for m, p in sandbox.log if m == "POST" and "Adjustments" in p) == 1


def test_500_without_errors_is_re_read_then_failed_when_nothing_landed(sandbox, desk, adapter):
    desk.queue(seats(sandbox))
    sandbox.inject(SERVER_ERROR, {"message": "Gateway hiccup"}, method="POST", path=ADJUST)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.FAILED and adjustments(sandbox) == []


def test_an_unreadable_psa_leaves_an_uncertain_intent_unknown(sandbox, desk):
    """Never resend blindly: when the re-read fails too, the intent stays UNKNOWN until a
    later re-read settles it."""
    desk.queue(seats(sandbox))
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="POST", path=ADJUST)

    def outage_after_the_write(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path.endswith("Adjustments"):
            sandbox.inject(SERVER_ERROR, {"message": "down"}, path="/ContractServiceUnits/",
                           times=1)
        return sandbox(request)

    flaky = AutotaskPushAdapter(sandbox.connector(
        transport=httpx.MockTransport(outage_after_the_write), sleep=lambda s: None))
    [outcome] = desk.push(flaky)
    assert outcome.state == IntentState.UNKNOWN
    assert "could not re-read the PSA to settle this change" in outcome.message
    assert len(adjustments(sandbox)) == 1
    [settled] = engine.recover(desk.ws.sessions, lambda i: flaky, user="ann")
    assert settled.state == IntentState.DONE and len(adjustments(sandbox)) == 1


def test_one_time_charge_is_found_again_by_its_marker(sandbox, desk, adapter):
    contract = fixed_contract(sandbox)
    action = PsaAction(ActionType.ONE_TIME_CHARGE, "autotask", PERIOD, str(contract),
                       desired={"quantity": "10", "unit_price": "316.80",
                                "unit_cost": "264.00", "effective_date": "2024-05-01",
                                "description": "M365 Business Premium annual (A/A)"},
                       money_effect=Decimal("3168.00"))
    intent = desk.queue(action)
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="POST", path="/Charges$")
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE
    [write] = sandbox.writes("POST", "ContractCharges")
    assert write.body["name"].endswith(f"[{intent.marker}]")
    assert write.body["unitPrice"] == Decimal("316.80")
    charge = next(c for c in sandbox.charges.values() if intent.marker in c["name"])
    assert outcome.record_id == f"charge:{charge['id']}"
    assert desk.push(adapter) == [] and len(sandbox.writes("POST", "ContractCharges")) == 1


def test_price_change_is_an_absolute_patch(sandbox, desk, adapter):
    contract, line = seat_line(sandbox)
    current = sandbox.contract_services[line]
    action = PsaAction(ActionType.SET_PRICE, "autotask", PERIOD, str(contract), str(line),
                       desired={"unit_price": "7.9900", "unit_cost": "6.0450"},
                       seen={"unit_price": str(current["unitPrice"]),
                             "unit_cost": str(current["unitCost"])})
    desk.queue(action)
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="PATCH")
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE
    [write] = sandbox.writes("PATCH")
    assert write.body == {"id": line, "unitPrice": Decimal("7.9900"),
                          "unitCost": Decimal("6.0450")}


def test_added_line_is_one_adjustment_found_again_by_its_service(sandbox, desk, adapter):
    contract, _ = seat_line(sandbox)
    used = {s["serviceID"] for s in sandbox.contract_services.values()
            if s["contractID"] == contract}
    service = next(s for s in sandbox.services if s not in used)
    action = PsaAction(ActionType.ADD_LINE, "autotask", PERIOD, str(contract),
                       desired={"quantity": "7", "unit_price": "4.80", "unit_cost": "4.00"},
                       effective_date=date(2024, 5, 10), product_ref=str(service))
    desk.queue(action)
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="POST", path=ADJUST)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE
    [line] = [s for s in sandbox.contract_services.values()
              if s["contractID"] == contract and s["serviceID"] == service]
    assert sandbox.units_on(line["id"], date(2024, 5, 10)) == 7
    assert sandbox.units_on(line["id"], date(2024, 5, 9)) == 0
    assert len(adjustments(sandbox)) == 1


def test_cancel_line_takes_the_units_to_zero_from_the_day_after(sandbox, desk, adapter):
    contract, line = seat_line(sandbox)
    now = sandbox.units_on(line, date(2024, 6, 1))
    action = PsaAction(ActionType.CANCEL_LINE, "autotask", PERIOD, str(contract), str(line),
                       desired={"cancelled_date": "2024-05-31"},
                       seen={"cancelled_date": "", "quantity": str(now)})
    desk.queue(action)
    [outcome] = desk.push(adapter)
    assert outcome.state == IntentState.DONE
    assert sandbox.units_on(line, date(2024, 5, 31)) == sandbox.units_on(line, date(2024, 5, 1))
    assert sandbox.units_on(line, date(2024, 6, 1)) == 0
    assert adjustments(sandbox)[0].body["unitChange"] == -now
