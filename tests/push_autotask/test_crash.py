"""A crash between Autotask accepting an adjustment and TrueUp recording it.

The child process pushes through the real engine and SIGKILLs itself right after the
adjustment was accepted; the intent is left SENDING. Recovery must settle it DONE by
re-reading the units, and must never send a second adjustment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.sync.autotask import AutotaskConnector
from app.sync.push import engine
from app.sync.push.autotask_adapter import AutotaskPushAdapter
from app.sync.push.intents import IntentState
from app.sync.sandbox.base import LoopbackServer
from tests.push_autotask.child_push import SECRET_ENV
from tests.push_autotask.conftest import EFFECTIVE, adjustments, seat_line, seats

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_after_the_adjustment_is_settled_done_without_a_second_one(
        sandbox, tmp_path, open_desk):
    _, line = seat_line(sandbox)
    before = sandbox.units_on(line, EFFECTIVE)
    with LoopbackServer(sandbox) as server:
        zone = server.url + sandbox.base_path
        desk = open_desk(tmp_path / "ws.sqlite", sandbox)
        intent = desk.queue(seats(sandbox, add=6))
        creds = sandbox.credentials
        child = subprocess.run(
            [sys.executable, "-m", "tests.push_autotask.child_push", str(tmp_path / "ws.sqlite"),
             zone, creds.username, creds.integration_code],
            cwd=REPO, env={**os.environ, SECRET_ENV: creds.secret}, capture_output=True,
            text=True, timeout=120)
        assert child.returncode == -signal.SIGKILL, child.stderr
        assert creds.secret not in child.stderr + child.stdout
        [left] = desk.intents()
        assert left.state == IntentState.SENDING and left.id == intent.id
        assert len(adjustments(sandbox)) == 1  # Autotask had accepted it

        connector = AutotaskConnector(creds.username, creds.secret, creds.integration_code,
                                      zone_url=zone)
        adapter = AutotaskPushAdapter(connector)
        [settled] = engine.recover(desk.ws.sessions, lambda i: adapter, user="ann")
        assert settled.state == IntentState.DONE
        assert engine.push_pending(desk.ws.sessions, lambda i: adapter, user="ann") == []
        connector.close()
    assert len(adjustments(sandbox)) == 1
    assert sandbox.units_on(line, EFFECTIVE) == before + 6
    [done] = desk.intents()
    assert done.state == IntentState.DONE and done.psa_record_id == str(line)
