"""An uncaught exception in the GUI: log it, tell the user where the log is, keep running.

Without this, PySide6 prints the traceback to a console nobody sees (a frozen windowed app
has none) and the click just does nothing. The failed action's transaction has already
rolled back (every unit of work is `with ws.begin()`), so the workspace stays intact and the
window stays open; the dialog says so.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from app.services.logging_setup import log_dir, log_file, redact

log = logging.getLogger("trueup.crash")


def open_log_folder() -> bool:
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def show_crash_dialog(summary: str, log_path: Path) -> None:
    box = QMessageBox(QMessageBox.Icon.Critical, "TrueUp — something went wrong",
                      "TrueUp hit an unexpected error. Your workspace was not changed by the "
                      "action that failed, and the app is still running.")
    box.setInformativeText(f"{summary}\n\nThe details are in the log:\n{log_path}")
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    open_button = box.addButton("Open log folder", QMessageBox.ButtonRole.ActionRole)
    box.addButton(QMessageBox.StandardButton.Close)
    box.exec()
    if box.clickedButton() is open_button:
        open_log_folder()


class CrashReporter(QObject):
    """Installed as sys.excepthook and threading.excepthook; a worker thread's exception is
    signalled to the GUI thread, the only one allowed to show a dialog."""

    crashed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.crashed.connect(self._show, Qt.ConnectionType.QueuedConnection)
        self._showing = False
        self._previous = (sys.excepthook, threading.excepthook)

    def install(self) -> None:
        self._previous = (sys.excepthook, threading.excepthook)
        sys.excepthook = self.handle
        threading.excepthook = lambda args: self.handle(
            args.exc_type, args.exc_value, args.exc_traceback)

    def uninstall(self) -> None:
        """Put the previous hooks back (the app quit; tests run on in the same process)."""
        sys.excepthook, threading.excepthook = self._previous

    def handle(self, exc_type: type[BaseException], exc: BaseException,
               tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        log.critical("uncaught exception", exc_info=(exc_type, exc, tb))
        self.crashed.emit(redact(f"{exc_type.__name__}: {exc}"))

    def _show(self, summary: str) -> None:
        if self._showing:  # one dialog at a time; the rest are in the log
            return
        self._showing = True
        try:
            show_crash_dialog(summary, log_file())
        finally:
            self._showing = False


def install_crash_reporter(app: QApplication) -> CrashReporter:
    reporter = CrashReporter(app)
    reporter.install()
    return reporter
