"""A big write's checkpoint runs after its commit, on a thread of its own, and leaves the
workspace as SQLite's own checkpoint would."""

from __future__ import annotations

import threading

import pytest

from app.models.checkpoints import AUTOCHECKPOINT_PAGES, Checkpoints
from app.models.workspace import Workspace

BIG = 2_000  # settings of 4 KB: some 8 MB of pages, past SQLite's 1,000-page checkpoint


def _write_big(ws: Workspace, *, defer: bool, tag: str) -> None:
    with ws.begin() as session:
        if defer:
            ws.defer_checkpoint(session)
        session.connection().exec_driver_sql(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [(f"{tag}-{n}", '"' + "x" * 4_000 + '"') for n in range(BIG)])


@pytest.fixture
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


@pytest.fixture
def held(monkeypatch):
    """Background checkpoints wait for the test to let them go."""
    gate = threading.Event()
    fold = Checkpoints._fold

    def held_fold(self: Checkpoints) -> None:
        assert gate.wait(30)
        fold(self)

    monkeypatch.setattr(Checkpoints, "_fold", held_fold)
    yield gate
    gate.set()


def test_a_big_commit_checkpoints_inside_it_by_default(ws, db_path):
    before = db_path.stat().st_size
    _write_big(ws, defer=False, tag="plain")
    assert db_path.stat().st_size > before + BIG * 4_000  # folded in by the commit


def test_a_deferred_commit_leaves_its_pages_to_a_background_checkpoint(ws, db_path, held):
    before = db_path.stat().st_size
    _write_big(ws, defer=True, tag="deferred")
    assert db_path.stat().st_size == before  # committed: the pages are in the log
    with ws.begin() as session:  # and every reader sees them there
        assert session.connection().exec_driver_sql(
            "SELECT count(*) FROM settings WHERE key LIKE 'deferred-%'").scalar() == BIG
    held.set()
    ws.checkpoints.wait()
    assert ws.checkpoints.runs == 1
    assert db_path.stat().st_size > before + BIG * 4_000


def test_the_connection_checkpoints_again_once_given_back(ws):
    with ws.begin() as session:
        ws.defer_checkpoint(session)
        deferred = session.connection().connection.dbapi_connection
        assert session.connection().exec_driver_sql(
            "PRAGMA wal_autocheckpoint").scalar() == 0
    with ws.begin() as session:
        assert session.connection().connection.dbapi_connection is deferred  # the pool's one
        assert session.connection().exec_driver_sql(
            "PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES


def test_a_rolled_back_write_gives_its_connection_back_as_it_was(ws):
    with pytest.raises(RuntimeError), ws.begin() as session:
        ws.defer_checkpoint(session)
        raise RuntimeError("a failed unit of work")
    with ws.begin() as session:
        assert session.connection().exec_driver_sql(
            "PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES
    ws.checkpoints.wait()


def test_closing_the_workspace_waits_for_the_checkpoint(db_path, held):
    ws = Workspace.open(db_path)
    _write_big(ws, defer=True, tag="closing")
    threading.Timer(0.2, held.set).start()
    ws.close()
    assert ws.checkpoints.runs == 1
    assert not db_path.with_name(db_path.name + "-wal").exists()  # the last one out folds
    reopened = Workspace.open(db_path)
    try:
        with reopened.begin() as session:
            assert session.connection().exec_driver_sql(
                "SELECT count(*) FROM settings WHERE key LIKE 'closing-%'").scalar() == BIG
    finally:
        reopened.close()


def test_writes_deferred_while_a_checkpoint_runs_have_one_more(ws, held):
    _write_big(ws, defer=True, tag="first")
    _write_big(ws, defer=True, tag="second")
    held.set()
    ws.checkpoints.wait()
    assert ws.checkpoints.runs == 2


def test_a_failed_background_checkpoint_is_logged_and_closing_still_returns(
        db_path, monkeypatch, caplog):
    def failing(self: Checkpoints) -> None:
        raise RuntimeError("disk I/O error")

    monkeypatch.setattr(Checkpoints, "_fold", failing)
    ws = Workspace.open(db_path)
    _write_big(ws, defer=True, tag="failed")
    closing = threading.Thread(target=ws.close, daemon=True)
    closing.start()
    closing.join(30)
    assert not closing.is_alive(), "closing waits for ever on a checkpoint thread that died"
    assert ws.checkpoints.runs == 1
    assert "a background checkpoint of the workspace failed" in caplog.text
    reopened = Workspace.open(db_path)  # the commit stands: SQLite folds the log in itself
    try:
        with reopened.begin() as session:
            assert session.connection().exec_driver_sql(
                "SELECT count(*) FROM settings WHERE key LIKE 'failed-%'").scalar() == BIG
    finally:
        reopened.close()
