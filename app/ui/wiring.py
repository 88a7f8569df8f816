"""Assembling the main window: every screen, and the links between them.

The screens know nothing of each other; they emit navigation signals, and this module turns
them into "go to that page and select that thing". Dropping a vendor file anywhere on the
window starts the import dialog.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMessageBox, QWidget

from app.services.demo import DemoError, ensure_demo
from app.services.workspace import Workspace
from app.ui.main_window import MainWindow
from app.ui.pages.activity import ActivityPage
from app.ui.pages.calendar import CalendarPage
from app.ui.pages.import_dialog import start_import
from app.ui.pages.mapping import MappingPage
from app.ui.pages.push_queue import PushQueuePage
from app.ui.pages.settings import SettingsPage

PAGES = [("Mapping", MappingPage), ("Invoice calendar", CalendarPage),
         ("Push queue", PushQueuePage), ("Sync & activity", ActivityPage),
         ("Settings", SettingsPage)]
IMPORTABLE = {".csv", ".xlsx", ".tsv", ".txt"}


class _FileDrop(QObject):
    """Accepts a dropped vendor file on the window and hands it to the import dialog."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (event.type() == QEvent.Type.DragEnter and isinstance(event, QDragEnterEvent)
                and _dropped_file(event) is not None):
            event.acceptProposedAction()
            return True
        if event.type() == QEvent.Type.Drop and isinstance(event, QDropEvent):
            path = _dropped_file(event)
            if path is not None:
                event.acceptProposedAction()
                open_import(self.window, path)
                return True
        return False


def _dropped_file(event: QDragEnterEvent | QDropEvent) -> Path | None:
    urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
    files = [Path(u.toLocalFile()) for u in urls if u.isLocalFile()]
    return files[0] if len(files) == 1 and files[0].suffix.lower() in IMPORTABLE else None


def open_import(window: MainWindow, path: Path | None = None) -> QWidget:
    return start_import(window.workspace, window.runner, path, parent=window)


def _open_finding(window: MainWindow, finding_id: int) -> None:
    window.go_to("Reconciliation")
    if not window.review.select_finding(finding_id):
        window.statusBar().showMessage(
            f"Finding {finding_id} is not in the period shown; choose its period first.", 6000)


def _open_demo(window: MainWindow) -> None:
    try:
        target = ensure_demo(None)
    except DemoError as exc:
        QMessageBox.warning(window, "TrueUp demo", str(exc))
        return
    window.switch_workspace(target)


def _link_pages(window: MainWindow) -> None:
    """Connect each page's navigation signals; called again after a workspace switch."""
    for title in window.page_titles:
        page = window.page(title)
        if hasattr(page, "open_finding"):
            page.open_finding.connect(lambda fid, w=window: _open_finding(w, fid))
        if hasattr(page, "open_push_queue"):
            page.open_push_queue.connect(lambda w=window: w.go_to("Push queue"))
        if hasattr(page, "open_mapping"):
            page.open_mapping.connect(lambda w=window: w.go_to("Mapping"))
        if hasattr(page, "open_period"):
            page.open_period.connect(lambda label, w=window: (
                w.go_to("Reconciliation"), w.review.period_bar.set_period(label)))


def build_main_window(workspace: Workspace, **kwargs) -> MainWindow:  # noqa: ANN003
    window = MainWindow(workspace, extra_pages=PAGES, **kwargs)
    window.setAcceptDrops(True)
    window.installEventFilter(_FileDrop(window))
    window.import_requested.connect(lambda: open_import(window))
    window.demo_requested.connect(lambda: _open_demo(window))
    window.workspace_changed.connect(lambda _ws: _link_pages(window))
    _link_pages(window)
    return window
