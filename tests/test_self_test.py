"""`--self-test`: the real services on a temporary workspace, in-process and as a program."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import keyring
from keyring.backends import fail

from app.services import self_test
from app.services.diagnostics import keyring_status
from app.services.self_test import run_self_test

ROOT = Path(__file__).resolve().parents[1]
FAIL_KEYRING = "keyring.backends.fail.Keyring"


def test_keyring_status_round_trips_and_leaves_nothing_behind(memory_keyring):
    status = keyring_status()
    assert status.working, status.detail
    assert status.backend.endswith("MemoryKeyring")
    assert memory_keyring.store == {}


def test_keyring_status_names_a_backend_that_cannot_store():
    keyring.set_keyring(fail.Keyring())
    status = keyring_status()
    assert not status.working
    assert status.backend == FAIL_KEYRING


def test_every_step_passes_in_process(qapp):
    from PySide6.QtWidgets import QApplication

    from app.ui.main_window import MainWindow
    from app.ui.self_check import build_window_offscreen

    def windows() -> list[MainWindow]:
        return [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow)]

    before = windows()  # other tests' windows may not be collected yet (held here)
    report = run_self_test(window_check=build_window_offscreen)
    assert report.ok, report.summary()
    assert [c.name for c in report.checks] == ["keyring", "workspace", "import", "reconcile",
                                               "reconcile worker", "export", "window"]
    line = report.summary()
    assert "\n" not in line
    assert "5 lines" in line and "findings" in line and "review template" in line
    assert "a worker process reconciled" in line
    # The window it built is gone, timers and all: none lingers on a workspace since closed.
    assert not [w for w in windows() if all(w is not old for old in before)]


def test_a_missing_sample_fails_naming_the_step_and_stops_there(monkeypatch, tmp_path):
    monkeypatch.setattr(self_test, "SAMPLE", tmp_path / "missing.csv")
    report = run_self_test()
    assert report.exit_code == 1
    assert [c.name for c in report.checks if not c.ok] == ["import"]
    assert "reconcile" not in [c.name for c in report.checks]
    assert report.summary().startswith("TrueUp self-test FAILED — import:")


def _run(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": FAIL_KEYRING}
    env.pop("QT_QPA_PLATFORM", None)  # the self-test must choose offscreen itself
    return subprocess.run([sys.executable, "main.py", "--self-test", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=180, env=env)


def test_program_passes_without_a_keyring_when_allowed():
    result = _run("--allow-no-keyring")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("TrueUp self-test passed")
    assert "window: 7 pages (offscreen)" in result.stdout


def test_program_fails_naming_the_keyring_without_the_flag():
    result = _run()
    assert result.returncode == 1
    assert "FAILED — keyring: keyring.backends.fail.Keyring" in result.stderr
    assert "Traceback" not in result.stderr
