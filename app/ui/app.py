"""Start the desktop app: one QApplication, one workspace, one main window."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog

from app import __version__
from app.services.demo import DemoError, ensure_demo
from app.services.workspace import WorkspaceError, open_workspace


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or [sys.argv[0]])
    app.setApplicationName("TrueUp")
    app.setOrganizationName("TrueUp")
    app.setApplicationVersion(__version__)
    from app.ui.theme import apply_theme

    apply_theme(app)
    return app


def _demo_target(db: str | None) -> str:
    """The demo workspace (at `db` or the default demo path), built on first use with a
    progress dialog: building takes a few seconds, before any window exists."""
    dialog = QProgressDialog("Building the demo workspace…", "", 0, 0)
    dialog.setCancelButton(None)
    dialog.setWindowTitle("TrueUp demo")
    dialog.setMinimumDuration(0)

    def progress(done: int, total: int | None, message: str) -> None:
        dialog.setMaximum(total or 0)
        dialog.setValue(done)
        dialog.setLabelText(f"Building the demo workspace: {message}…")
        QApplication.processEvents()

    try:
        return str(ensure_demo(db, progress=progress))
    finally:
        dialog.close()


def run_gui(db: str | None = None, demo: bool = False) -> int:
    app = make_application()
    target = db
    try:
        if demo:
            target = _demo_target(db)
        workspace = open_workspace(target)
    except (WorkspaceError, DemoError) as exc:
        QMessageBox.critical(None, "TrueUp", f"The workspace could not be opened.\n\n{exc}")
        return 1
    from app.ui.crash import install_crash_reporter
    from app.ui.wiring import build_main_window

    reporter = install_crash_reporter(app)  # from here on, a crash shows where the log is
    window = build_main_window(workspace)
    window.show()
    try:
        return app.exec()
    finally:
        reporter.uninstall()
        workspace.close()
