"""About TrueUp: the version, the open workspace, where the log is, and the licences of the
libraries shipped inside the app (the LGPL asks that users can see Qt is in there)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import __version__
from app.services.diagnostics import bundled_components
from app.services.logging_setup import log_dir
from app.ui import theme

COLUMNS = ("Component", "Version", "Licence")


class AboutDialog(QDialog):
    def __init__(self, workspace_location: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About TrueUp")
        self.setMinimumWidth(520)
        heading = QLabel(f"<h2>TrueUp {__version__}</h2>")
        heading.setObjectName("version")
        blurb = QLabel("Reconciles distributor subscriptions with PSA billing, and pushes the "
                       "approved corrections exactly once.")
        blurb.setWordWrap(True)
        where = QLabel(f"Workspace: {workspace_location}<br>Log folder: {log_dir()}")
        where.setObjectName("locations")
        where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        where.setWordWrap(True)
        self.components = QTableWidget(0, len(COLUMNS))
        self.components.setHorizontalHeaderLabels(COLUMNS)
        self.components.verticalHeader().hide()
        self.components.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, c in enumerate(bundled_components()):
            self.components.insertRow(row)
            for col, text in enumerate((c.name, c.version, c.licence)):
                self.components.setItem(row, col, QTableWidgetItem(text))
        self.components.resizeColumnsToContents()
        self.components.horizontalHeader().setStretchLastSection(True)
        note = QLabel("Qt and PySide6 are used under the GNU LGPL v3; their licence texts are "
                      "in the app folder with each component's metadata.")
        note.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.setSpacing(theme.SPACING)
        for widget in (heading, blurb, where, QLabel("Bundled components:"), self.components,
                       note, buttons):
            layout.addWidget(widget)
