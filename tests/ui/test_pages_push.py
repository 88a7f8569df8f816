"""The push queue against the ConnectWise sandbox on a real socket: the dry run, one click
that pushes in the background with progress and per-item results, and settling what did not
go cleanly — a conflict dismissed, an unknown verified, a failure retried."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from app.models import entities as m
from app.models.workspace import Workspace
from app.services.push import queue
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import LoopbackServer
from app.ui.pages import push_models as pm
from app.ui.pages.push_queue import PushQueuePage, load_rows
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner
from tests.ui.pages_data import build

TODAY = date.today()


@pytest.fixture()
def cw():
    sandbox = ConnectWiseSandbox.seeded(companies=8, seed=1, today=TODAY)
    with LoopbackServer(sandbox) as server:
        yield sandbox, server


def _workspace(db_path, cw, *, push: bool) -> Workspace:
    sandbox, server = cw
    ws = Workspace.open(db_path)
    build(ws, sandbox, server.url, TODAY, push=push)
    return ws


@pytest.fixture()
def approved(db_path, cw):
    """Approved corrections, nothing pushed yet."""
    ws = _workspace(db_path, cw, push=False)
    yield ws
    ws.close()


@pytest.fixture()
def settled(db_path, cw):
    """After a push that left a DONE, a CONFLICT, an UNKNOWN and a FAILED intent."""
    ws = _workspace(db_path, cw, push=True)
    yield ws
    ws.close()


def _page(qtbot, ws, runner=None) -> PushQueuePage:
    page = PushQueuePage(ws, runner or TaskRunner(inline=True))
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    return page


def _select_state(page: PushQueuePage, state: str) -> pm.QueueRow:
    for n, row in enumerate(page.model.rows):
        if row.state == state:
            page.view.selectRow(n)
            return row
    raise AssertionError(f"no {state} row")


def test_push_from_the_queue_in_the_background(qtbot, approved, cw):
    sandbox, _ = cw
    runner = TaskRunner()  # a real thread pool: the page must not block or touch widgets
    page = _page(qtbot, approved, runner)
    qtbot.waitUntil(lambda: page.model.rowCount() > 0, timeout=10_000)
    ready = [r for r in page.model.rows if r.state == "PENDING"]
    assert ready and all(pm.message(r) == "Will be written to the PSA" for r in ready)
    assert page.push_button.text() == f"Push approved ({len(ready)})"
    set_qty = next(r for r in ready if r.intent.action_type == "set_quantity")
    before = sandbox.additions[int(set_qty.intent.target_ref["line"])]["quantity"]
    assert pm.change_text(set_qty) == (f"Set seats {pm._value('quantity', str(before), 'USD')} "
                                       f"→ {set_qty.intent.desired_state['quantity']}")

    progress = []
    page.task.progress = lambda done, total, message: progress.append((done, total, message))
    with qtbot.waitSignal(runner.task_ended, timeout=30_000,
                          check_params_cb=lambda h: h.name == "push: approved"):
        qtbot.mouseClick(page.push_button, Qt.MouseButton.LeftButton)
        assert not page.push_button.isEnabled() and page.task.isVisibleTo(page)
    qtbot.waitUntil(lambda: not page._loading and page.model.rowCount() == len(ready),
                    timeout=10_000)
    assert {r.state for r in page.model.rows} == {"DONE"}
    assert all(r.result.startswith("✓ Done") for r in page.model.rows)
    assert progress[-1][:2] == (len(ready), len(ready))
    assert page.message.text().startswith(f"Pushed {len(ready)} change(s): {len(ready)} done")
    assert not page.task.isVisibleTo(page)
    writes = len(sandbox.write_log)
    assert writes >= len(ready)
    assert not page.push_button.isEnabled()  # nothing left: a second click cannot resend
    assert runner.cancel_all_and_wait(5_000)


def test_a_conflict_shows_the_psa_as_re_read_and_can_be_dismissed(qtbot, settled):
    page = _page(qtbot, settled)
    row = _select_state(page, "CONFLICT")
    assert page.model.rows[0].state == "CONFLICT"  # what needs a person comes first
    assert page.dismiss_button.isVisibleTo(page) and not page.retry_button.isVisibleTo(page)
    detail = page.detail.text()
    assert "PSA now" in detail and "At approval" in detail
    seen = row.intent.seen_state["quantity"]
    assert int(seen) + 5 == int(page.rereads[row.intent.id].before["quantity"])
    page.dismiss_selected(note="Customer changed it by phone")
    with settled.begin() as s:
        intent = s.get(m.PushIntent, row.intent.id)
        assert intent.state == "FAILED" and "by phone" in intent.last_error
        entry = s.scalars(select(m.AuditEntry).where(m.AuditEntry.entity == "push_intent",
                                                     m.AuditEntry.action == "push_failed")
                          .order_by(m.AuditEntry.id.desc())).first()
        assert entry.entity_id == str(row.intent.id)
    assert "dismissed" in page.message.text()


def test_an_unknown_is_verified_then_retried(qtbot, settled):
    page = _page(qtbot, settled)
    row = _select_state(page, "UNKNOWN")
    assert page.verify_button.isVisibleTo(page)
    page.verify_button.click()
    state = {i.id: i.state for i in queue(settled)}[row.intent.id]
    assert state == "FAILED"  # the PSA shows it never landed: safe to retry, never resent
    assert page.results[row.intent.id].startswith("Verified")
    _select_state(page, "FAILED")
    page.view.selectRow(next(n for n, r in enumerate(page.model.rows)
                             if r.intent.id == row.intent.id))
    assert page.retry_button.isVisibleTo(page)
    page.retry_button.click()
    assert {i.id: i.state for i in queue(settled)}[row.intent.id] == "PENDING"


def test_filters_and_the_empty_queue(qtbot, settled, db_path, tmp_path):
    page = _page(qtbot, settled)
    page.filter.setCurrentText("Needs attention")
    assert {r.state for r in page.model.rows} == {"CONFLICT", "UNKNOWN", "FAILED"}
    page.filter.setCurrentText("Done")
    assert {r.state for r in page.model.rows} == {"DONE"}
    empty_ws = Workspace.open(tmp_path / "empty.sqlite")
    try:
        empty = _page(qtbot, empty_ws)
        assert empty.empty.is_empty and "Approve findings" in empty.empty.message.text()
        assert not empty.push_button.isEnabled()
    finally:
        empty_ws.close()


def test_the_queue_model_passes_qtmodeltester(qtmodeltester, settled):
    rows = load_rows(settled)
    assert {r.state for r in rows} >= {"DONE", "CONFLICT", "UNKNOWN", "FAILED", "PENDING"}
    model = RowTableModel(pm.COLUMNS, rows)
    qtmodeltester.check(model)
    for column in range(model.columnCount()):
        model.sort(column, Qt.SortOrder.AscendingOrder)
    qtmodeltester.check(model)
