"""The assembled window: every screen in the sidebar, and links between screens work."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication

from app.models.workspace import Workspace
from app.ui.main_window import NAVIGATION
from app.ui.wiring import _dropped_file, build_main_window


def test_every_screen_is_in_the_sidebar_in_order(qtbot, db_path, tmp_path):
    from PySide6.QtCore import QSettings

    ws = Workspace.open(db_path)
    try:
        window = build_main_window(ws, settings=QSettings(str(tmp_path / "ui.ini"),
                                                          QSettings.Format.IniFormat),
                                   watch_network=False)
        qtbot.addWidget(window)
        assert window.page_titles == list(NAVIGATION)
        for title in NAVIGATION:
            window.go_to(title)
            assert window.pages.currentWidget() is window.page(title)
        assert window.acceptDrops()
        window.close()
    finally:
        ws.close()


def test_only_a_single_vendor_file_is_accepted_as_a_drop(qtbot, tmp_path):
    keep = []  # a QDropEvent does not own its mime data: keep it alive

    def drop(*names: str) -> QDropEvent:
        data = QMimeData()
        data.setUrls([QUrl.fromLocalFile(str(tmp_path / n)) for n in names])
        keep.append(data)
        return QDropEvent(QPointF(5, 5), Qt.DropAction.CopyAction, data,
                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)

    assert _dropped_file(drop("recon.csv")) == Path(tmp_path / "recon.csv")
    assert _dropped_file(drop("usage.XLSX")) is not None
    assert _dropped_file(drop("photo.png")) is None
    assert _dropped_file(drop("a.csv", "b.csv")) is None
    assert QApplication.instance() is not None
