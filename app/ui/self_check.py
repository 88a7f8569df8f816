"""The self-test's window step: build the real main window offscreen and tear it down.

It proves the Qt plugins, icons and every page load in this build; the settings go to a
file in the self-test's folder so the user's window layout is never touched.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QSettings
from PySide6.QtWidgets import QApplication

from app.services.workspace import Workspace


def build_window_offscreen(workspace: Workspace, folder: Path) -> str:
    from app.ui.app import make_application
    from app.ui.wiring import build_main_window

    make_application()
    settings = QSettings(str(folder / "self-test.ini"), QSettings.Format.IniFormat)
    window = build_main_window(workspace, settings=settings, watch_network=False)
    try:
        window.show()
        QApplication.processEvents()
        pages = window.pages.count()
        platform = QApplication.platformName()
    finally:
        window.close()  # stops the window's jobs and waits for them
        QApplication.processEvents()  # their last signals, while the window still exists
        window.deleteLater()
        # processEvents() leaves deferred deletes alone: without this the window, and the
        # timers of its pages (the daily-sync check), lived on against the workspace.
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    return f"{pages} pages ({platform})"
