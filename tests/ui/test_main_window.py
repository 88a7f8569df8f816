"""The main window opens on a workspace and closes cleanly."""

from __future__ import annotations

from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication

from app.models.workspace import Workspace
from app.ui.main_window import MainWindow


def test_main_window_shows_workspace_and_closes(qtbot, db_path, tmp_path):
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    ws = Workspace.open(db_path)
    try:
        window = MainWindow(ws, settings)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        assert window.nav.count() >= 1
        assert str(db_path) in window.workspace_label.text()
        assert "empty" in window.dashboard.hint.text()
        assert window.close()
        assert settings.value("main_window/geometry") is not None
    finally:
        ws.close()


def test_window_remembers_its_size(qtbot, db_path, tmp_path):
    settings = QSettings(str(tmp_path / "ui.ini"), QSettings.Format.IniFormat)
    ws = Workspace.open(db_path)
    try:
        first = MainWindow(ws, settings)
        qtbot.addWidget(first)
        first.show()
        first.resize(1111, 701)
        qtbot.waitUntil(lambda: first.width() == 1111)
        first.close()
        second = MainWindow(ws, settings)
        qtbot.addWidget(second)
        # The offscreen screen is 800 px wide, so Qt clamps the width; the height is kept.
        assert second.height() == 701
    finally:
        ws.close()


def test_run_gui_opens_and_quits(qtbot, tmp_path, monkeypatch):
    """The same path `python main.py` takes: open the workspace, show, run the event loop."""
    from app.main import main

    monkeypatch.setenv("TRUEUP_DATA_DIR", str(tmp_path))
    QTimer.singleShot(300, lambda: [w.close() for w in QApplication.topLevelWidgets()])
    assert main(["--db", str(tmp_path / "gui.sqlite")]) == 0
    assert (tmp_path / "gui.sqlite").exists()
