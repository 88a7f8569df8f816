"""The CLI end to end: connect → sync → push --dry-run → push, in child processes.

A child process cannot see the test's in-memory keyring, so the happy path selects the
test-only file keyring (tests/push/keyring_backend.py) through PYTHON_KEYRING_BACKEND; the
no-keyring path selects keyring's `fail` backend and must fail clearly, never in plain text.
Error paths that need no separate process run in-process through app.main.main.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from app.main import main
from app.models.workspace import Workspace
from app.services.connections import list_connections
from app.services.push import queue, queue_action
from tests.push.conftest import set_quantity
from tests.push.keyring_backend import FILE_ENV

ROOT = Path(__file__).resolve().parents[2]
FILE_KEYRING = "tests.push.keyring_backend.TestOnlyFileKeyring"


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "TRUEUP_SECRET"}
    full.update({"PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen", **env})
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, env=full,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)


def _connect_args(db: Path, cw) -> list[str]:
    s = cw.settings()
    return ["--db", str(db), "connect", "connectwise", "--url", cw.url, "--company",
            s["company_id"], "--public-key", s["public_key"], "--client-id", s["client_id"]]


def test_connect_sync_dry_run_push_through_the_cli(tmp_path, cw, template_db):
    sandbox = cw.sandbox
    db = tmp_path / "cli.sqlite"
    shutil.copy(template_db, db)  # an empty, migrated workspace: the CLI skips migrating
    store = tmp_path / "test-only-keyring.json"
    env = {"PYTHON_KEYRING_BACKEND": FILE_KEYRING, FILE_ENV: str(store)}

    connected = _cli(*_connect_args(db, cw), env={**env, "TRUEUP_SECRET": cw.private_key})
    assert connected.returncode == 0, connected.stderr
    assert "keyring" in connected.stderr
    assert cw.private_key not in connected.stdout + connected.stderr
    assert cw.private_key in store.read_text()  # where the test keyring keeps it ...
    assert cw.private_key.encode() not in db.read_bytes()  # ... and never the database

    synced = _cli("--db", str(db), "sync", "--json", env=env)
    assert synced.returncode == 0, synced.stderr
    [result] = json.loads(synced.stdout)
    assert result["connection"] == "ConnectWise" and result["status"] == "complete"
    assert result["error"] is None and result["counts"]["lines"] == len(sandbox.additions)

    action = set_quantity(sandbox)
    ws = Workspace.open(db)
    try:
        intent = queue_action(ws, "ConnectWise", action, user="ann")
    finally:
        ws.close()

    dry = _cli("--db", str(db), "push", "--dry-run", "--json", env=env)
    assert dry.returncode == 0, dry.stderr
    [line] = json.loads(dry.stdout)
    assert line == {
        "intent": intent.id, "action": "set_quantity",
        "target": {"agreement": action.agreement_ref, "line": action.line_ref},
        "before": {**line["before"], "quantity": action.seen["quantity"]},
        "after": action.desired, "money_effect": str(action.money_effect), "currency": "USD",
        "verdict": "send", "reason": "", "online": True}
    assert sandbox.writes() == []

    pushed = _cli("--db", str(db), "push", "--json", env=env)
    assert pushed.returncode == 0, pushed.stderr
    report = json.loads(pushed.stdout)
    assert report == {"outcomes": [{"intent_id": intent.id, "state": "DONE", "message": "",
                                    "record_id": action.line_ref}],
                      "done": 1, "failed": 0, "conflict": 0, "unknown": 0}
    assert len(sandbox.writes("PATCH")) == 1
    line_now = sandbox.additions[int(action.line_ref)]
    assert Decimal(str(line_now["quantity"])) == Decimal(action.desired["quantity"])
    assert line_now["serialNumber"] == intent.marker


def test_connect_without_a_keyring_fails_clearly_and_stores_nothing(tmp_path, cw, template_db):
    db = tmp_path / "cli.sqlite"
    shutil.copy(template_db, db)
    result = _cli(*_connect_args(db, cw), env={
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "TRUEUP_SECRET": cw.private_key})
    assert result.returncode != 0
    assert "keyring" in result.stderr.lower() and "plain text" in result.stderr
    assert "Traceback" not in result.stderr
    assert cw.private_key not in result.stdout + result.stderr
    ws = Workspace.open(db)
    try:
        assert list_connections(ws) == []
    finally:
        ws.close()
    assert cw.private_key.encode() not in db.read_bytes()


def test_connect_without_a_secret_and_no_terminal_says_how(tmp_path, cw, monkeypatch, capsys):
    monkeypatch.delenv("TRUEUP_SECRET", raising=False)
    monkeypatch.setattr(sys, "stdin", open(os.devnull))  # noqa: SIM115 - closed by pytest
    assert main(_connect_args(tmp_path / "x.sqlite", cw)) == 1
    assert "TRUEUP_SECRET" in capsys.readouterr().err


def test_push_with_the_keyring_locked_fails_clearly_and_sends_nothing(ws, cw, capsys):
    sandbox = cw.sandbox
    queue_action(ws, "CW", set_quantity(sandbox), user="ann")
    keyring.set_keyring(fail.Keyring())

    code = main(["--db", str(ws.path), "push", "--json"])

    err = capsys.readouterr().err
    assert code == 1
    assert "keyring" in err and err.startswith("trueup: error:")
    assert sandbox.log == [] and [i.state for i in queue(ws)] == ["PENDING"]


def test_push_and_dry_run_as_text(ws, cw, capsys):
    sandbox = cw.sandbox
    action = set_quantity(sandbox)
    queue_action(ws, "CW", action, user="ann")

    assert main(["--db", str(ws.path), "push", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert f"quantity: {action.seen['quantity']} → {action.desired['quantity']}" in out
    assert f"money effect USD {action.money_effect}" in out and "send" in out
    assert sandbox.writes() == []

    sandbox.edit_addition_externally(int(action.line_ref), quantity=Decimal(77))
    assert main(["--db", str(ws.path), "push"]) == 1  # not everything is DONE
    out = capsys.readouterr().out
    assert "CONFLICT" in out and "is 77 now" in out
    assert sandbox.writes() == []


@pytest.mark.parametrize("args", [["sync", "--connection", "Nope"], ["sync", "--json"]])
def test_sync_errors_are_reported_not_raised(ws, cw, args, capsys):
    cw.sandbox.inject("500", path="/company/companies$")
    code = main(["--db", str(ws.path), *args])
    captured = capsys.readouterr()
    assert code == 1
    if "--json" in args:
        [result] = json.loads(captured.out)
        assert result["status"] == "failed" and "HTTP 500" in result["error"]
    else:
        assert "no connection named 'Nope'" in captured.err
