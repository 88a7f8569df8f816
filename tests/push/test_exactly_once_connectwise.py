"""Exactly once on ConnectWise, through the services and real httpx against the sandbox.

After every injected fault the sandbox shows each approved change exactly once (counted with
its write log) and the local intent says what really happened: DONE only when the PSA shows
the change, FAILED only when it certainly did not land.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import format_datetime

import pytest
from sqlalchemy import select

from app.models.activity import AuditEntry, PushIntent
from app.services.push import push_approved, queue, queue_action, retry
from app.sync.sandbox.base import (
    DROP,
    DROP_AFTER_COMMIT,
    MALFORMED,
    RATE_LIMIT,
    SERVER_ERROR,
    SLOW,
    TIMEOUT_AFTER_COMMIT,
)
from tests.push.conftest import (
    Gate,
    add_line,
    lines_with_marker,
    one_time_charge,
    quantity_of,
    recurring_line,
    set_quantity,
)

LINE = r"/additions/\d+$"
LINES = r"/additions$"
ERROR_BODY = {"code": "InternalError", "message": "Database deadlock on AgreementAddition",
              "errors": [{"code": "Deadlock", "message": "transaction was chosen as victim"}]}


def _states(ws) -> list[str]:
    return [i.state for i in queue(ws)]


def _audit_states(ws, intent_id: int) -> list[str]:
    with ws.begin() as s:
        rows = s.scalars(select(AuditEntry).where(AuditEntry.entity == "push_intent",
                                                  AuditEntry.entity_id == str(intent_id))
                         .order_by(AuditEntry.id))
        return [row.action for row in rows]


def _response(ws, intent_id: int) -> dict:
    with ws.begin() as s:
        return dict(s.get(PushIntent, intent_id).response or {})


# ------------------------------------------------------------- updates (PATCH, absolute)


@pytest.mark.parametrize(("kind", "value"), [
    (RATE_LIMIT, "0"),
    (RATE_LIMIT, "Wed, 21 Oct 2015 07:28:00 GMT"),  # an HTTP date already past: retry now
    (SLOW, 0.05),
])
def test_transient_faults_on_the_write_still_write_once(ws, cw, sleeps, kind, value):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    line_id = int(action.line_ref)
    intent = queue_action(ws, "CW", action, user="ann")
    sandbox.inject(kind, value, method="PATCH", path=LINE, times=2)

    report = push_approved(ws, user="ann")

    assert [o.state for o in report.outcomes] == ["DONE"]
    assert len(sandbox.writes("PATCH")) == 1
    assert quantity_of(sandbox, line_id) == Decimal(action.desired["quantity"])
    assert sandbox.additions[line_id]["serialNumber"] == intent.marker
    assert report.outcomes[0].record_id == str(line_id)
    if kind == RATE_LIMIT:  # the PSA did nothing on a 429: waited and retried twice
        assert len(sleeps) == 2 and all(s < 0.1 for s in sleeps)
    assert push_approved(ws, user="ann").outcomes == []
    assert len(sandbox.writes("PATCH")) == 1


def test_429_with_a_future_http_date_waits_that_long_then_writes_once(ws, cw, sleeps):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    queue_action(ws, "CW", action, user="ann")
    when = datetime.now(UTC) + timedelta(seconds=40)
    sandbox.inject(RATE_LIMIT, format_datetime(when, usegmt=True), method="PATCH")

    assert push_approved(ws, user="ann").ok
    assert len(sleeps) == 1 and 37 <= sleeps[0] <= 40.1
    assert len(sandbox.writes("PATCH")) == 1


@pytest.mark.parametrize("kind", [TIMEOUT_AFTER_COMMIT, DROP_AFTER_COMMIT])
def test_write_committed_but_answer_lost_is_settled_done_by_re_reading(ws, cw, kind):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    line_id = int(action.line_ref)
    intent = queue_action(ws, "CW", action, user="ann")
    sandbox.inject(kind, method="PATCH", path=LINE)

    [outcome] = push_approved(ws, user="ann").outcomes

    assert outcome.state == "DONE" and outcome.record_id == str(line_id)
    assert len(sandbox.writes("PATCH")) == 1
    assert quantity_of(sandbox, line_id) == Decimal(action.desired["quantity"])
    [done] = queue(ws)
    assert done.state == "DONE" and done.last_error is None
    assert done.attempts == 2  # the send, then the settling claim: never a second send
    assert _audit_states(ws, intent.id) == ["queue_push", "push_unknown", "push_done"]
    assert _response(ws, intent.id)["settled_by"] == "re-read"
    assert push_approved(ws, user="ann").outcomes == []
    assert len(sandbox.writes("PATCH")) == 1


@pytest.mark.parametrize(("kind", "value", "says"), [
    (SERVER_ERROR, ERROR_BODY, "Database deadlock on AgreementAddition"),
    (DROP, None, "no answer after sending"),
])
def test_write_that_did_not_land_fails_with_a_reason_and_retry_writes_once(ws, cw, kind, value,
                                                                           says):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    line_id = int(action.line_ref)
    before = quantity_of(sandbox, line_id)
    intent = queue_action(ws, "CW", action, user="ann")
    sandbox.inject(kind, value, method="PATCH", path=LINE)

    [outcome] = push_approved(ws, user="ann").outcomes

    assert outcome.state == "FAILED"
    assert sandbox.writes("PATCH") == []
    assert quantity_of(sandbox, line_id) == before  # the intent tells the truth
    [failed] = queue(ws)
    assert says in failed.last_error
    assert "did not happen" in failed.last_error and "safe to retry" in failed.last_error
    assert push_approved(ws, user="ann").outcomes == []  # FAILED waits for a person

    retry(ws, intent.id, user="ann")
    [again] = push_approved(ws, user="ann").outcomes
    assert again.state == "DONE"
    assert len(sandbox.writes("PATCH")) == 1
    assert quantity_of(sandbox, line_id) == Decimal(action.desired["quantity"])
    assert queue(ws)[0].last_error is None


@pytest.mark.parametrize(("kind", "value", "says"), [
    (SERVER_ERROR, ERROR_BODY, "HTTP 500"),
    (MALFORMED, None, "not valid JSON"),
    (DROP, None, "no answer"),
])
def test_a_failed_read_before_write_writes_nothing(ws, cw, kind, value, says):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    intent = queue_action(ws, "CW", action, user="ann")
    sandbox.inject(kind, value, method="GET", path=LINE)

    [outcome] = push_approved(ws, user="ann").outcomes

    assert outcome.state == "FAILED"
    assert "could not read the PSA line before writing" in outcome.message
    assert says in outcome.message
    assert sandbox.writes() == []
    assert quantity_of(sandbox, int(action.line_ref)) == Decimal(action.seen["quantity"])
    retry(ws, intent.id, user="ann")
    assert push_approved(ws, user="ann").ok
    assert len(sandbox.writes("PATCH")) == 1


def test_429_on_the_read_before_write_is_waited_out(ws, cw, sleeps):
    sandbox = cw.sandbox
    queue_action(ws, "CW", set_quantity(sandbox), user="ann")
    sandbox.inject(RATE_LIMIT, "3", method="GET", path=LINE)
    assert push_approved(ws, user="ann").ok
    assert len(sleeps) == 1 and 3 <= sleeps[0] < 3.1
    assert len(sandbox.writes("PATCH")) == 1


def test_answer_lost_and_the_settling_read_fails_too_stays_unknown_until_recovered(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="PATCH", path=LINE)

    def settling_read_fails(request):
        if request.method == "PATCH":  # the read after the lost answer will get a 500
            sandbox.inject(SERVER_ERROR, method="GET", path=LINE)
        return sandbox(request)

    cw.wrap(settling_read_fails)
    queue_action(ws, "CW", action, user="ann")

    [outcome] = push_approved(ws, user="ann").outcomes

    assert outcome.state == "UNKNOWN"
    assert "could not re-read the PSA" in outcome.message
    assert len(sandbox.writes("PATCH")) == 1
    [done] = push_approved(ws, user="ann").outcomes  # the next run settles it first
    assert done.state == "DONE"
    assert len(sandbox.writes("PATCH")) == 1
    assert _states(ws) == ["DONE"]


def test_two_changes_one_fault_each_lands_once(ws, cw):
    sandbox = cw.sandbox
    first, second = set_quantity(sandbox, 0), set_quantity(sandbox, 1, delta=-1)
    queue_action(ws, "CW", first, user="ann")
    queue_action(ws, "CW", second, user="ann")
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="PATCH", path=LINE)

    report = push_approved(ws, user="ann")

    assert [o.state for o in report.outcomes] == ["DONE", "DONE"]
    assert len(sandbox.writes("PATCH")) == 2
    for action in (first, second):
        assert quantity_of(sandbox, int(action.line_ref)) == Decimal(action.desired["quantity"])


# ------------------------------------------------------------- creates (POST, found by marker)


@pytest.mark.parametrize(("make", "kind"), [
    (add_line, TIMEOUT_AFTER_COMMIT),
    (add_line, DROP_AFTER_COMMIT),
    (one_time_charge, TIMEOUT_AFTER_COMMIT),
    (one_time_charge, DROP_AFTER_COMMIT),
])
def test_create_committed_but_answer_lost_never_creates_a_second_line(ws, cw, make, kind):
    sandbox = cw.sandbox
    action = make(sandbox)
    count = len(sandbox.additions)
    intent = queue_action(ws, "CW", action, user="ann")
    sandbox.inject(kind, method="POST", path=LINES)

    [outcome] = push_approved(ws, user="ann").outcomes

    [line] = lines_with_marker(sandbox, intent.marker)
    assert outcome.state == "DONE" and outcome.record_id == str(line["id"])
    assert len(sandbox.writes("POST")) == 1 and len(sandbox.additions) == count + 1
    assert Decimal(str(line["unitPrice"])) == Decimal(action.desired["unit_price"])
    assert line["agreementId"] == int(action.agreement_ref)

    queue_action(ws, "CW", action, user="ann")  # approved again later: the same intent
    assert push_approved(ws, user="ann").outcomes == []
    assert len(sandbox.writes("POST")) == 1 and len(lines_with_marker(sandbox, intent.marker)) == 1
    assert queue(ws)[0].psa_record_id == str(line["id"])


@pytest.mark.parametrize(("kind", "value"), [(SERVER_ERROR, ERROR_BODY), (DROP, None)])
def test_create_that_did_not_land_fails_and_retry_creates_one_line(ws, cw, kind, value):
    sandbox = cw.sandbox
    intent = queue_action(ws, "CW", add_line(sandbox), user="ann")
    sandbox.inject(kind, value, method="POST", path=LINES)

    assert [o.state for o in push_approved(ws, user="ann").outcomes] == ["FAILED"]
    assert lines_with_marker(sandbox, intent.marker) == [] and sandbox.writes() == []

    retry(ws, intent.id, user="ann")
    [outcome] = push_approved(ws, user="ann").outcomes
    [line] = lines_with_marker(sandbox, intent.marker)
    assert outcome.state == "DONE" and outcome.record_id == str(line["id"])
    assert len(sandbox.writes("POST")) == 1


def test_create_refused_by_the_psa_fails_with_its_reason(ws, cw):
    sandbox = cw.sandbox
    action = add_line(sandbox)
    unknown_product = action.__class__(**{**action.__dict__, "product_ref": "999999"})
    queue_action(ws, "CW", unknown_product, user="ann")

    [outcome] = push_approved(ws, user="ann").outcomes

    assert outcome.state == "FAILED"
    assert "HTTP 400" in outcome.message and "not found in the catalog" in outcome.message
    assert sandbox.writes() == []


def test_create_without_a_mapped_product_is_refused_before_sending(ws, cw):
    sandbox = cw.sandbox
    action = add_line(sandbox)
    queue_action(ws, "CW", action.__class__(**{**action.__dict__, "product_ref": None}),
                 user="ann")
    [outcome] = push_approved(ws, user="ann").outcomes
    assert outcome.state == "FAILED" and "map the vendor SKU" in outcome.message
    assert sandbox.writes() == []


# ------------------------------------------------------------- the PSA changed meanwhile


def test_line_changed_in_the_psa_after_approval_is_a_conflict_and_nothing_is_written(ws, cw):
    sandbox = cw.sandbox
    agreement, line = recurring_line(sandbox)
    sandbox.edit_addition_externally(line["id"], quantity=Decimal(10))
    action = set_quantity(sandbox)  # approved while the PSA showed 10
    assert action.seen == {"quantity": "10"}
    queue_action(ws, "CW", action, user="ann")
    sandbox.edit_addition_externally(line["id"], quantity=Decimal(11))

    [outcome] = push_approved(ws, user="ann").outcomes

    assert outcome.state == "CONFLICT"
    assert outcome.message == "quantity was 10 at approval, is 11 now"
    assert sandbox.writes() == []
    assert quantity_of(sandbox, line["id"]) == 11
    assert push_approved(ws, user="ann").outcomes == []  # a person decides; never resent
    assert _states(ws) == ["CONFLICT"] and sandbox.writes() == []
    with pytest.raises(ValueError, match="only FAILED can be retried"):
        retry(ws, queue(ws)[0].id, user="ann")


def test_change_already_made_by_hand_is_done_without_writing(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    queue_action(ws, "CW", action, user="ann")
    sandbox.edit_addition_externally(int(action.line_ref),
                                     quantity=Decimal(action.desired["quantity"] + ".00"))
    [outcome] = push_approved(ws, user="ann").outcomes
    assert outcome.state == "DONE" and outcome.record_id == action.line_ref
    assert sandbox.writes() == []


def test_line_gone_from_the_psa_is_a_conflict(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    gone = action.__class__(**{**action.__dict__, "line_ref": "99999"})
    queue_action(ws, "CW", gone, user="ann")
    [outcome] = push_approved(ws, user="ann").outcomes
    assert outcome.state == "CONFLICT" and "no longer exists" in outcome.message
    assert sandbox.writes() == []


# ------------------------------------------------------------- the same approval twice


def test_double_click_queues_one_intent_and_writes_once(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    first = queue_action(ws, "CW", action, user="ann")
    second = queue_action(ws, "CW", action, user="bob")
    assert first.id == second.id and len(queue(ws)) == 1
    assert push_approved(ws, user="ann").ok
    assert push_approved(ws, user="bob").outcomes == []
    assert len(sandbox.writes("PATCH")) == 1


def test_two_pushes_overlapping_on_one_workspace_file_write_once(new_workspace, cw):
    """The second push starts while the first is between its claim and its write."""
    sandbox = cw.sandbox
    ws_a, ws_b = new_workspace(), new_workspace()  # two Workspace objects, one file
    action = set_quantity(sandbox)
    queue_action(ws_a, "CW", action, user="ann")
    gate = Gate(sandbox, lambda r: r.method == "GET" and r.url.path.endswith(action.line_ref))
    cw.wrap(gate)
    results: dict[str, list] = {}

    def push(name, ws):
        results[name] = push_approved(ws, user=name).outcomes

    first = threading.Thread(target=push, args=("a", ws_a))
    first.start()
    assert gate.arrived.wait(10)  # A has claimed the intent and is reading the line
    second = threading.Thread(target=push, args=("b", ws_b))
    second.start()
    second.join(10)
    gate.release.set()
    first.join(10)

    assert results["b"] == []  # B saw A's claim and left it alone
    assert [o.state for o in results["a"]] == ["DONE"]
    assert len(sandbox.writes("PATCH")) == 1
    assert _states(ws_b) == ["DONE"]


def test_many_concurrent_pushes_of_one_approval_write_once(new_workspace, cw):
    sandbox = cw.sandbox
    workspaces = [new_workspace() for _ in range(4)]
    for ws in workspaces:  # every window queues the same approval (double, triple click)
        queue_action(ws, "CW", add_line(sandbox), user="ann")
    start = threading.Barrier(len(workspaces))
    outcomes: list = []

    def push(ws):
        start.wait(10)
        outcomes.extend(push_approved(ws, user="ann").outcomes)

    threads = [threading.Thread(target=push, args=(ws,)) for ws in workspaces]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)

    assert [o.state for o in outcomes] == ["DONE"]
    assert len(sandbox.writes("POST")) == 1
    assert len(lines_with_marker(sandbox, queue(workspaces[0])[0].marker)) == 1


def test_two_workspaces_pushing_the_same_correction_write_once(new_workspace, cw):
    sandbox = cw.sandbox
    office, laptop = new_workspace("office.sqlite"), new_workspace("laptop.sqlite")
    action = set_quantity(sandbox)
    here = queue_action(office, "CW", action, user="ann")
    there = queue_action(laptop, "CW", action, user="bob")
    assert here.key == there.key and here.marker == there.marker

    assert push_approved(office, user="ann").ok
    [outcome] = push_approved(laptop, user="bob").outcomes

    assert outcome.state == "DONE" and outcome.record_id == action.line_ref
    assert len(sandbox.writes("PATCH")) == 1
    settled = _response(laptop, there.id)
    assert settled["settled_by"] == "read-before-write" and "marker" in settled["reason"]
