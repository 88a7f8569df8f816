"""The main window: a navigation sidebar, the current screen, and a status bar."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.services.workspace import Workspace, describe_workspace
from app.ui.dashboard import DashboardPage


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, settings: QSettings | None = None) -> None:
        super().__init__()
        self.workspace = workspace
        self.settings = settings or QSettings()
        self.setWindowTitle("TrueUp")
        self.setMinimumSize(960, 600)

        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        self.pages = QStackedWidget()

        self.dashboard = DashboardPage(workspace)
        self._add_page("Dashboard", self.dashboard)
        self.nav.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.nav.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        info = describe_workspace(workspace)
        self.workspace_label = QLabel(f"Workspace: {info.location}")
        self.workspace_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.statusBar().addPermanentWidget(self.workspace_label)
        self._restore_layout()

    def _add_page(self, title: str, widget: QWidget) -> None:
        self.nav.addItem(title)
        self.pages.addWidget(widget)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1200, 760)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("main_window/geometry", self.saveGeometry())
        super().closeEvent(event)
