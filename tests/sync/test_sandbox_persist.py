"""Sandbox state files: exact money, whole tenants round-tripped, atomic saves, one writer."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox import persist

TODAY = date(2026, 3, 18)


def test_money_and_dates_round_trip_exactly():
    state = {"amounts": [Decimal("0.045"), Decimal("-0.01"), Decimal("12345678.901234"),
                         Decimal("1E+3")],
             "day": date(2024, 2, 29), "at": datetime(2024, 3, 31, 23, 59, tzinfo=UTC),
             "nested": {"id": 7, "ok": True, "none": None}, "pair": ("a", 1)}
    back = persist.loads(persist.dumps(state))
    assert back["amounts"] == state["amounts"]
    assert [str(a) for a in back["amounts"]] == ["0.045", "-0.01", "12345678.901234", "1E+3"]
    assert back["day"] == state["day"] and back["at"] == state["at"]
    assert back["nested"] == state["nested"] and back["pair"] == ["a", 1]
    with pytest.raises(TypeError, match="float"):
        persist.dumps({"price": 0.1})


def test_a_connectwise_tenant_round_trips(tmp_path):
    sandbox = ConnectWiseSandbox.seeded(companies=4, today=TODAY)
    path = tmp_path / "cw.json"
    persist.save(sandbox, path)
    back = persist.load(path, "connectwise")
    assert back.state() == sandbox.state()
    with sandbox.connector() as ours, back.connector() as theirs:
        assert ours.list_companies() == theirs.list_companies()
        agreement = int(next(iter(sandbox.agreements)))
        assert ours.list_additions(agreement) == theirs.list_additions(agreement)
    # the clock and the id counters carry on where they were
    assert back.add_company("New") == sandbox.add_company("New")


def test_a_pax8_tenant_round_trips_random_state_included(tmp_path):
    sandbox = Pax8Sandbox.seeded(customers=3, subscriptions=12, today=TODAY)
    path = tmp_path / "pax8.json"
    persist.save(sandbox, path)
    back = persist.load(path, "pax8")
    assert back.state() == sandbox.state()
    assert back.add_company("Next Co")["id"] == sandbox.add_company("Next Co")["id"]
    with pytest.raises(persist.SandboxStateError, match="not 'connectwise'"):
        persist.load(path, "connectwise")


def test_a_failed_save_leaves_the_old_state(tmp_path, monkeypatch):
    path = tmp_path / "cw.json"
    persist.write_text(path, "old")

    def crash(src, dst):  # noqa: ANN001
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        persist.write_text(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["cw.json"]  # no temporary file left


def test_changes_are_saved_even_when_the_caller_fails(tmp_path):
    path = tmp_path / "cw.json"
    persist.save(ConnectWiseSandbox.seeded(companies=1, today=TODAY), path)
    with pytest.raises(RuntimeError), persist.open_sandbox(path, "connectwise") as sandbox:
        sandbox.add_company("Landed Before The Error")
        raise RuntimeError("a later step failed")
    names = [c["name"] for c in persist.load(path, "connectwise").companies.values()]
    assert "Landed Before The Error" in names
    before = path.stat().st_mtime_ns
    with persist.open_sandbox(path, "connectwise") as sandbox:
        sandbox.connector().list_companies()  # reads only
    assert path.stat().st_mtime_ns == before  # not rewritten


def test_one_writer_at_a_time(tmp_path):
    path = tmp_path / "cw.json"
    persist.save(ConnectWiseSandbox.seeded(companies=1, today=TODAY), path)
    inside, order = threading.Event(), []

    def second() -> None:
        inside.wait()
        with persist.open_sandbox(path, "connectwise") as sandbox:
            order.append("second")
            sandbox.add_company("Second")

    thread = threading.Thread(target=second)
    thread.start()
    with persist.open_sandbox(path, "connectwise") as sandbox:
        inside.set()
        time.sleep(0.2)  # the second writer is waiting on the lock meanwhile
        order.append("first")
        sandbox.add_company("First")
    thread.join(5)
    assert order == ["first", "second"]
    names = {c["name"] for c in persist.load(path, "connectwise").companies.values()}
    assert {"First", "Second"} <= names  # the second one saw the first one's change
