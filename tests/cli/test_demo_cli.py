"""The month-end flow on the full-size demo, through the CLI, one process per command as a
person would type it: demo → reconcile → findings → approve --all → push → sync → reconcile,
and nothing new at the end. No OS keyring exists in these processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from app.services.findings import KINDS

ROOT = Path(__file__).resolve().parents[2]


def _trueup(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def _json(env: dict[str, str], *args: str):  # noqa: ANN202
    done = _trueup(env, *args, "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_the_demo_month_end_through_the_cli(tmp_path):
    env = {**os.environ, "TRUEUP_DATA_DIR": str(tmp_path),
           "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    built = _json(env, "demo")
    period = built["period"]
    last_month = date.today().replace(day=1) - timedelta(days=1)
    assert period == f"{last_month.year}-{last_month.month:02d}"
    assert built["customers"] == 60 and built["subscriptions"] >= 450
    assert built["path"] == str(tmp_path / "demo.sqlite")  # the default demo path
    db = ("--db", built["path"])  # the demo is a workspace of its own

    first = _json(env, *db, "reconcile", "--period", period)
    assert first["findings"] == first["new"] >= 20
    rows = _json(env, *db, "findings", "--period", period)
    assert set(Counter(r["kind"] for r in rows)) == set(KINDS)
    assert {r["status"] for r in rows} == {"open"}

    approved = _trueup(env, *db, "approve", "--all", "--period", period)
    assert approved.returncode == 0, approved.stderr
    pushed = _json(env, *db, "push")
    assert pushed["done"] >= 15
    assert (pushed["failed"], pushed["conflict"], pushed["unknown"]) == (0, 0, 0)

    synced = _trueup(env, *db, "sync")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert synced.stdout.count(": complete") == 2  # ConnectWise and Pax8; files don't sync

    again = _json(env, *db, "reconcile", "--period", period)
    assert (again["new"], again["changed"], again["reopened"]) == (0, 0, 0)
    after = {r["id"]: r for r in _json(env, *db, "findings", "--period", period)}
    for row in rows:
        status = after[row["id"]]["status"]
        if row["kind"] == "unmapped":
            assert status == "open"  # a mapping task, never pushed
        elif row["actions"]:
            assert status == "pushed", row
    assert _json(env, *db, "push")["done"] == 0

    refused = _trueup(env, "demo")
    assert refused.returncode == 1 and "already exists" in refused.stderr
