"""Start the desktop app: one QApplication, one workspace, one main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox

from app import __version__
from app.services.workspace import WorkspaceError, demo_workspace_path, open_workspace


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("TrueUp")
    app.setOrganizationName("TrueUp")
    app.setApplicationVersion(__version__)
    return app


def run_gui(db: str | None = None, demo: bool = False) -> int:
    app = make_application()
    target = db if db else (demo_workspace_path() if demo else None)
    try:
        workspace = open_workspace(target)
    except WorkspaceError as exc:
        QMessageBox.critical(None, "TrueUp", f"The workspace could not be opened.\n\n{exc}")
        return 1
    from app.ui.main_window import MainWindow

    window = MainWindow(workspace)
    window.show()
    try:
        return app.exec()
    finally:
        workspace.close()
