"""Sync & activity: sync a connection with progress (on a real thread) and cancel one, the
daily schedule, the alerts, and the audit log's filters."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from PySide6.QtCore import Qt, QTime

from app.models.workspace import Workspace
from app.services.alerts import list_alerts
from app.services.audit_log import list_audit, list_sync_runs
from app.services.policies import set_policy
from app.services.settings import get_setting
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.sandbox.base import SLOW, LoopbackServer
from app.ui.pages import activity_models as am
from app.ui.pages.activity import ActivityPage
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner
from tests.ui.pages_data import build, connect_cw

TODAY = date.today()


@pytest.fixture()
def cw():
    sandbox = ConnectWiseSandbox.seeded(companies=4, seed=2, today=TODAY)
    with LoopbackServer(sandbox) as server:
        yield sandbox, server


@pytest.fixture()
def ws(db_path, cw):
    sandbox, server = cw
    workspace = Workspace.open(db_path)
    connect_cw(workspace, sandbox, server.url)
    yield workspace
    workspace.close()


def _page(qtbot, ws, runner=None, now=None) -> ActivityPage:
    page = ActivityPage(ws, runner or TaskRunner(inline=True),
                        **({"now": now} if now else {}))
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    return page


def test_sync_now_with_progress_on_a_worker_thread(qtbot, ws):
    runner = TaskRunner()
    page = _page(qtbot, ws, runner)
    qtbot.waitUntil(lambda: page.connection_model.rowCount() == 1, timeout=5_000)
    row = page.connection_model.rows[0]
    assert am.run_status(row) == ("muted", "Never synced")
    messages = []
    page.task.progress = lambda done, total, message: messages.append(message)
    with qtbot.waitSignal(runner.task_ended, timeout=30_000,
                          check_params_cb=lambda h: h.name == "sync"):
        qtbot.mouseClick(page.sync_all_button, Qt.MouseButton.LeftButton)
        assert not page.sync_all_button.isEnabled()
    assert messages[0] == "ConnectWise: connecting…"
    assert any("additions of agreement" in m for m in messages)
    qtbot.waitUntil(lambda: page.connection_model.rows
                    and page.connection_model.rows[0].run is not None, timeout=5_000)
    row = page.connection_model.rows[0]
    assert row.run.status == "complete" and "companies" in am.counts_text(row.run.counts)
    assert page.message.text().startswith("Sync finished — ConnectWise: complete (4 companies")
    qtbot.waitUntil(lambda: page.history_model.rowCount() == 1, timeout=5_000)
    assert page.sync_all_button.isEnabled()
    assert runner.cancel_all_and_wait(5_000)


def test_cancel_a_sync_keeps_the_previous_data(qtbot, ws, cw):
    sandbox, _ = cw
    sandbox.inject(SLOW, 0.3, path="additions", times=50)
    runner = TaskRunner()
    page = _page(qtbot, ws, runner)
    qtbot.waitUntil(lambda: page.connection_model.rowCount() == 1, timeout=5_000)
    page.connection_view.selectRow(0)
    assert page.sync_one_button.text() == "Sync ConnectWise"
    with qtbot.waitSignal(runner.task_ended, timeout=30_000,
                          check_params_cb=lambda h: h.name == "sync"):
        page.sync_one_button.click()
        qtbot.waitUntil(lambda: "additions" in page.task.message.text(), timeout=10_000)
        page.task.cancel_button.click()
        assert page.task.cancel_button.text() == "Cancelling…"
    assert [r.status for r in list_sync_runs(ws)] == ["cancelled"]
    qtbot.waitUntil(lambda: "cancelled" in page.message.text(), timeout=5_000)
    assert runner.cancel_all_and_wait(5_000)


def test_the_daily_schedule_is_a_setting_and_runs_once_a_day(qtbot, ws):
    clock = {"now": datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=5)}
    page = _page(qtbot, ws, now=lambda: clock["now"])
    page.schedule_time.setTime(QTime(6, 30))
    page.schedule_on.setChecked(True)
    assert get_setting(ws, "sync_time") == "06:30"
    assert page.schedule_note.text() == "next today 06:30, while TrueUp is open"
    assert page.check_schedule() is False  # 05:00: not yet
    clock["now"] += timedelta(hours=2)
    assert page.check_schedule() is True
    assert [r.status for r in list_sync_runs(ws)] == ["complete"]
    assert page.check_schedule() is False  # once a day
    page.schedule_on.setChecked(False)
    assert get_setting(ws, "sync_time") == ""


def test_a_restart_after_the_daily_sync_does_not_sync_again(qtbot, ws):
    clock = {"now": datetime.combine(TODAY, datetime.min.time()) + timedelta(hours=7)}
    page = _page(qtbot, ws, now=lambda: clock["now"])
    page.sync(["ConnectWise"])  # a sync today, after the scheduled 00:01
    page.schedule_time.setTime(QTime(0, 1))
    page.schedule_on.setChecked(True)
    restarted = _page(qtbot, ws, now=lambda: clock["now"])
    assert restarted.check_schedule() is False
    assert len(list_sync_runs(ws)) == 1


def test_alerts_and_audit_log_with_filters(qtbot, db_path):
    sandbox = ConnectWiseSandbox.seeded(companies=8, seed=1, today=TODAY)
    with LoopbackServer(sandbox) as server:
        ws = Workspace.open(db_path)
        try:
            build(ws, sandbox, server.url, TODAY, push=True)
            set_policy(ws, "tolerance", "0.05", user="bob")
            page = _page(qtbot, ws)
            page.check_alerts()
            assert page.alert_model.rowCount() == len(list_alerts(ws)) > 0
            assert page.tabs.tabText(1) == f"Alerts ({page.alert_model.rowCount()})"
            first = page.alert_model.rows[0]
            assert first.severity == "error"  # errors first
            page.alert_view.selectRow(0)
            with qtbot.waitSignal(page.open_push_queue):
                page.follow_alert()

            audit = page.audit
            total = audit.model.rowCount()
            assert total == len(list_audit(ws))
            audit.entity.setCurrentText("push_intent")
            assert audit.model.rowCount() and all(r.entity == "push_intent"
                                                  for r in audit.model.rows)
            audit.entity.setCurrentText("Any")
            audit.user.setCurrentText("bob")
            assert [(r.user, r.action) for r in audit.model.rows] == [("bob", "set_policy")]
            audit.user.setCurrentText("Any")
            audit.text.setText("CONFLICT")
            audit.reload()  # what the debounce timer does after a pause in typing
            assert audit.model.rowCount() >= 1
            audit.view.selectRow(0)
            assert "Before:" in audit.detail.toPlainText()
            audit.text.setText("no such words anywhere")
            audit.reload()
            assert audit.empty.is_empty and "No entry matches" in audit.empty.message.text()
        finally:
            ws.close()


def test_activity_models_pass_qtmodeltester(qtmodeltester, qtbot, db_path):
    sandbox = ConnectWiseSandbox.seeded(companies=8, seed=1, today=TODAY)
    with LoopbackServer(sandbox) as server:
        ws = Workspace.open(db_path)
        try:
            build(ws, sandbox, server.url, TODAY, push=True)
            page = _page(qtbot, ws)
            page.check_alerts()
            for columns, rows in ((am.CONNECTION_COLUMNS, page.connection_model.all_rows),
                                  (am.ALERT_COLUMNS, list_alerts(ws)),
                                  (am.AUDIT_COLUMNS, list_audit(ws)),
                                  (am.RUN_COLUMNS, list_sync_runs(ws))):
                assert rows
                model = RowTableModel(columns, rows)
                qtmodeltester.check(model)
                for column in range(model.columnCount()):
                    model.sort(column, Qt.SortOrder.DescendingOrder)
                qtmodeltester.check(model)
        finally:
            ws.close()
