"""An uncaught exception shows where the log is; About lists the bundled licences."""

from __future__ import annotations

import sys
import threading

from PySide6.QtWidgets import QLabel, QMessageBox

from app.services.workspace import open_workspace
from app.ui import crash
from app.ui.about import AboutDialog
from app.ui.crash import CrashReporter


def test_uncaught_exception_shows_the_log_location_and_is_logged(qtbot, monkeypatch, tmp_path,
                                                                   caplog):
    shown = []
    monkeypatch.setattr(QMessageBox, "exec", lambda box: shown.append(box) or 0)
    monkeypatch.setenv("TRUEUP_LOG_DIR", str(tmp_path / "logs"))
    reporter = CrashReporter()
    before = sys.excepthook, threading.excepthook
    reporter.install()
    try:
        try:
            raise ValueError("boom with password=hunter2hunter2")
        except ValueError:
            sys.excepthook(*sys.exc_info())
        qtbot.waitUntil(lambda: len(shown) == 1)
    finally:
        reporter.uninstall()
    assert (sys.excepthook, threading.excepthook) == before
    box = shown[0]
    assert str(tmp_path / "logs" / "trueup.log") in box.informativeText()
    assert "ValueError" in box.informativeText()
    assert "hunter2hunter2" not in box.informativeText()
    assert "workspace was not changed" in box.text()
    assert any("uncaught exception" in r.message for r in caplog.records)


def test_worker_thread_exception_reaches_the_gui_thread(qtbot, monkeypatch):
    summaries = []
    monkeypatch.setattr(crash, "show_crash_dialog", lambda s, _p: summaries.append(s))
    reporter = CrashReporter()
    reporter.install()
    try:
        worker = threading.Thread(target=lambda: 1 / 0)
        worker.start()
        worker.join()
        qtbot.waitUntil(lambda: len(summaries) == 1)
    finally:
        reporter.uninstall()
    assert summaries == ["ZeroDivisionError: division by zero"]


def test_about_lists_version_workspace_and_component_licences(qtbot, db_path):
    from app import __version__

    dialog = AboutDialog(str(db_path))
    qtbot.addWidget(dialog)
    table = dialog.components
    rows = {table.item(r, 0).text(): table.item(r, 2).text() for r in range(table.rowCount())}
    assert "LGPL-3.0" in rows["PySide6 (Qt for Python)"]
    for name, licence in (("SQLAlchemy", "MIT"), ("Alembic", "MIT"), ("HTTPX", "BSD"),
                          ("openpyxl", "MIT"), ("keyring", "MIT"), ("platformdirs", "MIT")):
        assert licence in rows[name]
    labels = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert __version__ in labels and str(db_path) in labels and "Log folder" in labels


def test_help_menu_offers_the_log_folder_and_about(qtbot, db_path, settings, monkeypatch):
    from app.ui.main_window import MainWindow
    from app.ui.tasks import TaskRunner

    opened = []
    monkeypatch.setattr(crash.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    ws = open_workspace(db_path)
    try:
        window = MainWindow(ws, settings, runner=TaskRunner(inline=True), watch_network=False)
        qtbot.addWidget(window)
        help_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Help")
        actions = {a.text(): a for a in help_menu.actions()}
        actions["Open &log folder"].trigger()
        assert opened and opened[0].isLocalFile()
        assert "&About TrueUp" in actions
    finally:
        ws.close()
