"""A push process killed mid-protocol, and the recovery that settles what it left.

The sandbox runs here on loopback; the push runs in a child process (crash_child.py) that
SIGKILLs itself right before or right after the PSA accepted the write. The intent is then
SENDING with a dead owner, and recovery must settle it by re-reading: never a second write.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from sqlalchemy import update

from app.models.activity import PushIntent
from app.services.connections import KeyringUnavailableError
from app.services.push import push_approved, queue, queue_action, recover_unsettled
from app.sync.push import engine
from app.sync.push.connectwise_adapter import ConnectWisePushAdapter
from app.sync.push.intents import IntentState
from app.sync.sandbox.base import SERVER_ERROR, TIMEOUT_AFTER_COMMIT
from tests.push.conftest import add_line, lines_with_marker, quantity_of, set_quantity

CHILD = Path(__file__).with_name("crash_child.py")


def _run_child(ws, cw, moment: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "TRUEUP_TEST_CHILD_SECRET": cw.private_key}
    return subprocess.run([sys.executable, str(CHILD), str(ws.path), moment], env=env,
                          capture_output=True, text=True, timeout=60)


def _dead_pid() -> int:
    child = subprocess.Popen(["true"])
    child.wait()
    return child.pid


def test_killed_after_the_psa_accepted_the_write_is_settled_done_without_resending(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    intent = queue_action(ws, "CW", action, user="ann")

    child = _run_child(ws, cw, "after_send")

    assert child.returncode == -9, child.stderr
    assert len(sandbox.writes("PATCH")) == 1  # the PSA has it ...
    [left] = queue(ws)
    assert left.state == "SENDING" and left.attempts == 1  # ... the workspace does not know
    owner = left.payload["claimed_by"]
    assert owner.startswith(socket.gethostname() + ":") and owner != engine.OWNER

    [outcome] = recover_unsettled(ws, user="ann").outcomes

    assert outcome.state == "DONE" and outcome.record_id == action.line_ref
    assert len(sandbox.writes("PATCH")) == 1
    assert quantity_of(sandbox, int(action.line_ref)) == Decimal(action.desired["quantity"])
    assert push_approved(ws, user="ann").outcomes == []
    assert len(sandbox.writes("PATCH")) == 1
    assert queue(ws)[0].id == intent.id and queue(ws)[0].state == "DONE"


def test_killed_after_a_create_was_accepted_finds_the_line_by_its_marker(ws, cw):
    sandbox = cw.sandbox
    intent = queue_action(ws, "CW", add_line(sandbox), user="ann")

    child = _run_child(ws, cw, "after_send")

    assert child.returncode == -9, child.stderr
    assert queue(ws)[0].state == "SENDING"
    [line] = lines_with_marker(sandbox, intent.marker)
    [outcome] = push_approved(ws, user="ann").outcomes  # push recovers first
    assert outcome.state == "DONE" and outcome.record_id == str(line["id"])
    assert len(sandbox.writes("POST")) == 1
    assert len(lines_with_marker(sandbox, intent.marker)) == 1


def test_killed_after_the_claim_before_sending_is_requeued_and_pushed_once(ws, cw):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    queue_action(ws, "CW", action, user="ann")

    child = _run_child(ws, cw, "before_send")

    assert child.returncode == -9, child.stderr
    assert sandbox.writes() == []
    assert queue(ws)[0].state == "SENDING"

    report = push_approved(ws, user="ann")

    # recovery re-read the line, saw it unchanged, put it back in the queue, then pushed it
    assert [o.state for o in report.outcomes] == ["PENDING", "DONE"]
    assert report.ok and report.count("DONE") == 1 and report.count("PENDING") == 0
    assert len(sandbox.writes("PATCH")) == 1
    assert quantity_of(sandbox, int(action.line_ref)) == Decimal(action.desired["quantity"])


def test_a_live_owner_is_left_alone_until_its_lease_runs_out(ws, cw):
    sandbox = cw.sandbox
    intent = queue_action(ws, "CW", set_quantity(sandbox), user="ann")
    live = f"{socket.gethostname()}:{os.getppid()}"  # alive, and not this process
    with ws.begin() as s:
        s.execute(update(PushIntent).where(PushIntent.id == intent.id).values(
            state=IntentState.SENDING, payload={**intent.payload, "claimed_by": live}))

    assert recover_unsettled(ws, user="ann").outcomes == []
    assert sandbox.log == [] and queue(ws)[0].state == "SENDING"

    with ws.begin() as s:  # the owner has not moved for longer than the lease
        s.execute(update(PushIntent).where(PushIntent.id == intent.id).values(
            updated_at=datetime.now(UTC) - engine.LEASE * 2))
    report = push_approved(ws, user="ann")
    assert [o.state for o in report.outcomes] == ["PENDING", "DONE"]
    assert len(sandbox.writes("PATCH")) == 1


def test_two_recoveries_of_one_crashed_push_create_one_line(new_workspace, cw):
    """Two windows start up at once after a crash; both find the same stale SENDING intent.

    The slower one must not settle (and then push) an intent the faster one has already
    taken over: for a create that would be a second line, i.e. a double bill.
    """
    sandbox = cw.sandbox
    ws_a, ws_b = new_workspace(), new_workspace()
    intent = queue_action(ws_a, "CW", add_line(sandbox), user="ann")
    with ws_a.begin() as s:
        s.execute(update(PushIntent).where(PushIntent.id == intent.id).values(
            state=IntentState.SENDING, attempts=1,
            payload={**intent.payload, "claimed_by": f"{socket.gethostname()}:{_dead_pid()}"}))

    a_moved, b_moved, b_read = threading.Event(), threading.Event(), threading.Event()
    connector = cw.connector(sleep=lambda s: None)

    class SlowReader(ConnectWisePushAdapter):
        """B: its first re-read answers, then B stalls until A has had its chance."""

        def read(self, i):  # noqa: ANN001, ANN202
            snapshot = super().read(i)
            if not b_read.is_set():
                b_read.set()
                assert a_moved.wait(10)
            return snapshot

    class SlowSender(ConnectWisePushAdapter):
        """A: stalls just before its write until B has finished."""

        def send(self, i):  # noqa: ANN001, ANN202
            a_moved.set()
            assert b_moved.wait(10)
            return super().send(i)

    results: dict[str, list] = {}

    def run(name, ws, adapter, done):
        try:
            results[name] = engine.push_pending(ws.sessions, lambda i: adapter, user=name)
        finally:
            done.set()

    b = threading.Thread(target=run, args=("b", ws_b, SlowReader(connector), b_moved))
    b.start()
    assert b_read.wait(10)  # B re-read the line of an intent that looked abandoned
    a = threading.Thread(target=run, args=("a", ws_a, SlowSender(connector), a_moved))
    a.start()
    a.join(20)
    b.join(20)
    connector.close()

    assert len(sandbox.writes("POST")) == 1
    assert len(lines_with_marker(sandbox, intent.marker)) == 1
    assert queue(ws_a)[0].state == "DONE"


def test_a_push_whose_read_outlasts_its_lease_never_writes_after_a_takeover(ws, cw):
    """A's read waits so long on 429 that its lease runs out; another process (B) takes
    the intent over, finds nothing written and creates the line. When A's read finally
    returns, A must not write: that would be a second line, a double bill."""
    sandbox = cw.sandbox
    intent = queue_action(ws, "CW", add_line(sandbox), user="ann")
    connector = cw.connector(sleep=lambda s: None)
    other = f"{socket.gethostname()}:{os.getppid()}"  # alive, and not this process

    class ReadOutlastingTheLease(ConnectWisePushAdapter):
        def read(self, i):  # noqa: ANN001, ANN202
            snapshot = super().read(i)
            if i.id == intent.id and not taken_over:
                taken_over.append(True)
                with ws.begin() as s:  # as B sees it: a live owner silent past the lease
                    s.execute(update(PushIntent).where(PushIntent.id == i.id).values(
                        updated_at=datetime.now(UTC) - engine.LEASE * 2,
                        payload={**i.payload, "claimed_by": other}))
                b = engine.push_pending(ws.sessions, lambda _: ConnectWisePushAdapter(
                    connector), user="b")
                assert [o.state for o in b] == ["PENDING", "DONE"]
            return snapshot

    taken_over: list[bool] = []
    a = engine.push_pending(ws.sessions, lambda _: ReadOutlastingTheLease(connector), user="a")
    connector.close()
    assert taken_over and a == []  # A stood down at the fence before its write
    assert len(sandbox.writes("POST")) == 1
    assert len(lines_with_marker(sandbox, intent.marker)) == 1
    assert queue(ws)[0].state == "DONE"


def test_recovery_that_cannot_open_the_keyring_leaves_the_intent_for_the_next_try(
        ws, cw, memory_keyring):
    """Settling needs the PSA; with the keyring locked, nothing may be claimed and stranded."""
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    queue_action(ws, "CW", action, user="ann")
    sandbox.inject(TIMEOUT_AFTER_COMMIT, method="PATCH")

    def settling_read_fails(request):
        if request.method == "PATCH":
            sandbox.inject(SERVER_ERROR, method="GET")
        return sandbox(request)

    cw.wrap(settling_read_fails)
    assert [o.state for o in push_approved(ws, user="ann").outcomes] == ["UNKNOWN"]

    keyring.set_keyring(fail.Keyring())  # the user's keyring is locked
    with pytest.raises(KeyringUnavailableError):
        push_approved(ws, user="ann")
    assert queue(ws)[0].state == "UNKNOWN"

    keyring.set_keyring(memory_keyring)  # unlocked: the same process tries again
    [outcome] = push_approved(ws, user="ann").outcomes
    assert outcome.state == "DONE"
    assert len(sandbox.writes("PATCH")) == 1
