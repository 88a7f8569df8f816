"""The dry run: before → after, verdict and money effect; nothing sent, online or not."""

from __future__ import annotations

from decimal import Decimal

from app.services.connections import add_connection
from app.services.push import preview, push_approved, queue, queue_action, retry
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import SERVER_ERROR, LoopbackServer
from tests.push.conftest import TODAY, add_line, quantity_of, recurring_line, set_quantity


def test_dry_run_shows_before_after_verdict_and_money_sending_nothing(ws, cw):
    sandbox = cw.sandbox
    change = set_quantity(sandbox, 0)
    create = add_line(sandbox)
    conflict = set_quantity(sandbox, 1)
    done_by_hand = set_quantity(sandbox, 2, delta=-1)
    failed = set_quantity(sandbox, 3)
    for action in (change, create, conflict, done_by_hand, failed):
        queue_action(ws, "CW", action, user="ann")
    sandbox.edit_addition_externally(int(conflict.line_ref), quantity=Decimal(99))
    sandbox.edit_addition_externally(int(done_by_hand.line_ref),
                                     quantity=Decimal(done_by_hand.desired["quantity"]))
    sandbox.inject(SERVER_ERROR, method="PATCH")
    [failed_id] = [i.id for i in queue(ws) if i.target_ref["line"] == failed.line_ref]
    push_approved(ws, user="ann", only={failed_id})
    assert queue(ws)[-1].state == "FAILED"
    reads_before = len(sandbox.log)

    lines = {line.intent.target_ref["line"]: line for line in preview(ws)}

    assert sandbox.writes() == []
    assert {m for m, _ in sandbox.log[reads_before:]} == {"GET"}
    assert [i.state for i in queue(ws)] == ["PENDING"] * 4 + ["FAILED"]
    assert all(line.online for line in lines.values())

    dry = lines[change.line_ref]
    assert dry.before["quantity"] == change.seen["quantity"]
    assert dry.after == change.desired and dry.verdict == "send"
    assert dry.intent.money_effect == change.money_effect and dry.intent.currency == "USD"

    new = lines[None]
    assert new.before == {} and new.after == create.desired and new.verdict == "send"
    assert new.intent.money_effect == Decimal("24.00")

    clash = lines[conflict.line_ref]
    assert clash.verdict == "conflict"
    assert clash.reason == f"quantity was {conflict.seen['quantity']} at approval, is 99 now"
    assert lines[done_by_hand.line_ref].verdict == "done"
    assert lines[failed.line_ref].verdict == "send"  # a FAILED intent is shown for its retry


def test_dry_run_offline_shows_the_approval_state_quickly(new_workspace, cw, sleeps):
    sandbox = ConnectWiseSandbox.seeded(companies=3, seed=1, today=TODAY)
    ws = new_workspace(connect=False)
    first, second = set_quantity(sandbox, 0), set_quantity(sandbox, 1)
    with LoopbackServer(sandbox) as server:
        add_connection(ws, name="CW", kind="connectwise", base_url=server.url + sandbox.base_path,
                       settings=cw.settings(), secret=cw.private_key, user="ann")
        queue_action(ws, "CW", first, user="ann")
        queue_action(ws, "CW", second, user="ann")
        assert all(line.online for line in preview(ws))
    # the PSA is gone now (server stopped: connections are refused)

    lines = preview(ws)

    assert [line.online for line in lines] == [False, False]
    assert lines[0].before == first.seen and lines[0].after == first.desired
    assert lines[1].before == second.seen
    assert "PSA not reachable" in lines[0].reason and "could not connect" in lines[0].reason
    assert lines[0].intent.money_effect == first.money_effect
    # one round of connection attempts for the connection, not one per queued change
    assert len(sleeps) == 3
    assert sandbox.writes() == [] and [i.state for i in queue(ws)] == ["PENDING", "PENDING"]


def test_retry_after_a_failed_dry_run_line_then_push_writes_once(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    intent = queue_action(ws, "CW", action, user="ann")
    sandbox.inject(SERVER_ERROR, method="PATCH")
    assert [o.state for o in push_approved(ws, user="ann").outcomes] == ["FAILED"]
    [dry] = preview(ws)
    assert dry.intent.state == "FAILED" and dry.verdict == "send"
    retry(ws, intent.id, user="ann")
    assert push_approved(ws, user="ann").ok
    assert len(sandbox.writes("PATCH")) == 1
    _, line = recurring_line(sandbox)
    assert quantity_of(sandbox, line["id"]) == Decimal(action.desired["quantity"])
