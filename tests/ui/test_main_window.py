"""The main window: sidebar order with plugged-in pages, first run, workspace switching,
status bar, layout memory, and quitting while work runs."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from app.models import entities as m
from app.models.workspace import Workspace
from app.ui.main_window import MainWindow
from app.ui.tasks import TaskRunner
from tests.ui.conftest import TODAY


class FakePage(QWidget):
    """Stands for the other screens: built with (workspace, runner), refreshed when shown."""

    made: list[FakePage] = []

    def __init__(self, workspace, runner, parent=None) -> None:
        super().__init__(parent)
        self.workspace, self.runner, self.refreshed = workspace, runner, 0
        FakePage.made.append(self)

    def refresh(self) -> None:
        self.refreshed += 1


def window_for(qtbot, ws, settings, **kw) -> MainWindow:
    kw.setdefault("runner", TaskRunner(inline=True))
    window = MainWindow(ws, settings, watch_network=False, today=TODAY, **kw)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_main_window_shows_workspace_and_closes(qtbot, db_path, settings):
    ws = Workspace.open(db_path)
    try:
        window = window_for(qtbot, ws, settings)
        assert window.page_titles == ["Dashboard", "Reconciliation"]
        assert str(db_path) in window.workspace_label.toolTip()
        assert db_path.name in window.workspace_label.text()
        assert "empty" in window.dashboard.hint.text()
        assert window.close()
        assert settings.value("main_window/geometry") is not None
    finally:
        ws.close()


def test_window_remembers_its_size_and_page(qtbot, db_path, settings):
    ws = Workspace.open(db_path)
    try:
        first = window_for(qtbot, ws, settings)
        first.resize(1111, 701)
        qtbot.waitUntil(lambda: first.width() == 1111)
        first.go_to("Reconciliation")
        first.close()
        second = window_for(qtbot, ws, settings)
        # The offscreen screen is 800 px wide, so Qt clamps the width; the height is kept.
        assert second.height() == 701
        assert second.nav.currentItem().text() == "Reconciliation"
    finally:
        ws.close()


def test_extra_pages_take_their_place_in_the_sidebar(qtbot, db_path, settings):
    ws = Workspace.open(db_path)
    FakePage.made.clear()
    try:
        pages = [("Settings", FakePage), ("Mapping", FakePage), ("Push queue", FakePage),
                 ("Import", FakePage)]
        window = window_for(qtbot, ws, settings, extra_pages=pages)
        assert window.page_titles == ["Dashboard", "Mapping", "Reconciliation", "Push queue",
                                      "Settings", "Import"]
        assert all(p.workspace is ws and p.runner is window.runner for p in FakePage.made)
        window.go_to("Mapping")
        assert window.pages.currentWidget() is window.page("Mapping")
        assert window.page("Mapping").refreshed == 1
    finally:
        ws.close()


def test_first_run_offers_three_ways_to_start(qtbot, db_path, settings):
    ws = Workspace.open(db_path)
    try:
        window = window_for(qtbot, ws, settings, extra_pages=[("Settings", FakePage)])
        assert window.home.currentWidget() is window.first_run
        with qtbot.waitSignal(window.demo_requested):
            window.first_run.buttons["demo"].click()
        with qtbot.waitSignal(window.import_requested):
            window.first_run.buttons["import"].click()
        with qtbot.waitSignal(window.connect_requested):
            window.first_run.buttons["connect"].click()
        assert window.pages.currentWidget() is window.page("Settings")
        with ws.begin() as s:  # once a connection exists, the dashboard takes over
            s.add(m.Connection(name="Pax8", kind="pax8", side="vendor"))
        window.go_to("Dashboard")
        assert window.home.currentWidget() is window.dashboard
    finally:
        ws.close()


def test_switching_workspace_rebuilds_every_page(qtbot, db_path, tmp_path, settings):
    ws = Workspace.open(db_path)
    FakePage.made.clear()
    try:
        window = window_for(qtbot, ws, settings, extra_pages=[("Mapping", FakePage)])
        other = tmp_path / "other.sqlite"
        changed = []
        window.workspace_changed.connect(changed.append)
        assert window.switch_workspace(other)
        assert other.exists() and window.workspace.path == other
        assert changed == [window.workspace]
        assert window.review.workspace is window.workspace
        assert FakePage.made[-1].workspace is window.workspace
        assert other.name in window.workspace_label.text()
        assert str(other) in window.recent()
        assert window.switch_workspace(db_path)  # and back: the one it opened is closed
        assert window.recent()[:2] == [str(db_path), str(other)]
    finally:
        ws.close()


def test_status_bar_shows_last_sync_and_network(qtbot, db_path, settings):
    ws = Workspace.open(db_path)
    try:
        window = window_for(qtbot, ws, settings)
        assert window.status.sync.text.text() == "Never synced"
        with ws.begin() as s:
            s.add(m.Connection(name="Pax8", kind="pax8", side="vendor",
                               last_sync_at=datetime.now(UTC)))
        window.status.refresh_sync()
        assert window.status.sync.text.text() == "Last sync just now"
        assert window.status.network.text.text() in {"Online", "Offline", "Network unknown"}
        watched = MainWindow(ws, settings, runner=TaskRunner(inline=True), today=TODAY)
        qtbot.addWidget(watched)
        online = watched.status.online()
        expected = {None: "Network unknown", True: "Online", False: "Offline"}[online]
        assert watched.status.network.text.text() == expected
        assert isinstance(watched.status.network.text, QLabel)
    finally:
        ws.close()


def test_quitting_cancels_running_work_and_waits(qtbot, db_path, settings):
    ws = Workspace.open(db_path)
    started, stopped = threading.Event(), threading.Event()

    def job(report, cancel):
        started.set()
        while not cancel.wait(0.01):
            pass
        stopped.set()

    try:
        runner = TaskRunner()
        window = window_for(qtbot, ws, settings, runner=runner)
        runner.submit("long sync", job)
        assert started.wait(5)
        qtbot.waitUntil(lambda: "long sync" in window.status.task.text())
        assert window.close()
        assert stopped.is_set() and not runner.busy()
    finally:
        ws.close()


def test_run_gui_opens_and_quits(qtbot, tmp_path, monkeypatch):
    """The same path `python main.py` takes: open the workspace, show, run the event loop."""
    from app.main import main

    monkeypatch.setenv("TRUEUP_DATA_DIR", str(tmp_path))
    QTimer.singleShot(300, lambda: [w.close() for w in QApplication.topLevelWidgets()])
    assert main(["--db", str(tmp_path / "gui.sqlite")]) == 0
    assert (tmp_path / "gui.sqlite").exists()
