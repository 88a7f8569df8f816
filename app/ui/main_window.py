"""The main window: a navigation sidebar, the current screen, a File menu to switch
workspaces, and a status bar. It owns the task runner and stops its work on quit.

Screens other than Dashboard and Reconciliation are plugged in as `extra_pages`: (title,
factory) pairs where the factory is called as `factory(workspace, runner)` — the page
classes themselves qualify — so every screen is rebuilt on the new workspace when the user
switches workspaces.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QWidget,
)

from app.services.connections import list_connections
from app.services.workspace import Workspace, WorkspaceError, describe_workspace, open_workspace
from app.ui import theme
from app.ui.about import AboutDialog
from app.ui.crash import open_log_folder
from app.ui.dashboard import DashboardPage
from app.ui.first_run import FirstRunPage
from app.ui.review.grid_page import ReviewPage
from app.ui.runtime import settle_heap
from app.ui.status_bar import StatusIndicators
from app.ui.tasks import TaskRunner

PageFactory = Callable[[Workspace, TaskRunner], QWidget]
NAVIGATION = ("Dashboard", "Mapping", "Reconciliation", "Invoice calendar", "Push queue",
              "Sync & activity", "Settings")
NAV_ICONS = {"Dashboard": "dashboard", "Mapping": "mapping", "Reconciliation": "reconciliation",
             "Invoice calendar": "calendar", "Push queue": "push",
             "Sync & activity": "activity", "Settings": "settings"}
RECENT_MAX = 8


class MainWindow(QMainWindow):
    connect_requested = Signal()
    import_requested = Signal()
    demo_requested = Signal()
    workspace_changed = Signal(object)  # the new Workspace

    def __init__(self, workspace: Workspace, settings: QSettings | None = None, *,
                 runner: TaskRunner | None = None,
                 extra_pages: Sequence[tuple[str, PageFactory]] = (),
                 watch_network: bool = True, today: date | None = None) -> None:
        super().__init__()
        self.today = today  # None: the real date (tests pin it)
        self.workspace = workspace
        self.settings = settings or QSettings()
        self.runner = runner or TaskRunner(self)
        self.extra_pages = list(extra_pages)
        self._owned: list[Workspace] = []  # workspaces this window opened and must close
        self.setWindowTitle("TrueUp")
        self.setMinimumSize(960, 600)
        self.nav = QListWidget()
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(184)
        self.nav.setIconSize(theme.ICON_SIZE)
        self.pages = QStackedWidget()
        self.nav.currentRowChanged.connect(self._show_page)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.nav)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        self.status = StatusIndicators(self.statusBar(), self.runner,
                                       watch_network=watch_network)
        self.workspace_label = self.status.workspace_label
        self._menus()
        self._build_pages()
        self._restore_layout()
        settle_heap()  # the startup heap lives all session: keep it out of full collections

    # ---------------------------------------------------------------- pages
    def _build_pages(self) -> None:
        """(Re)create every screen on the current workspace, in sidebar order."""
        current = self.nav.currentItem().text() if self.nav.currentItem() else None
        self.nav.blockSignals(True)
        self.nav.clear()
        while self.pages.count():
            page = self.pages.widget(0)
            self.pages.removeWidget(page)
            page.deleteLater()
        ws = self.workspace
        self.first_run = FirstRunPage(describe_workspace(ws).location)
        self.first_run.connect_requested.connect(self._connect_requested)
        self.first_run.import_requested.connect(self.import_requested)
        self.first_run.demo_requested.connect(self.demo_requested)
        self.dashboard = DashboardPage(ws, self.runner, today=self.today)
        self.dashboard.navigate_requested.connect(self.go_to)
        self.home = QStackedWidget()
        self.home.addWidget(self.first_run)
        self.home.addWidget(self.dashboard)
        self.review = ReviewPage(ws, self.runner, self.settings, today=self.today)
        self.review.status_message.connect(lambda text: self.statusBar().showMessage(text, 4000))
        built: dict[str, QWidget] = {"Dashboard": self.home, "Reconciliation": self.review}
        for title, factory in self.extra_pages:
            built[title] = factory(ws, self.runner)
        order = [t for t in NAVIGATION if t in built] + [t for t in built if t not in NAVIGATION]
        for title in order:
            self.nav.addItem(QListWidgetItem(theme.icon(NAV_ICONS.get(title, "dashboard")),
                                             title))
            self.pages.addWidget(built[title])
        self.page_titles = order
        self.nav.blockSignals(False)
        self.status.set_workspace(ws)
        self._update_home()
        self.go_to(current if current in order else "Dashboard")
        self.setWindowTitle(f"TrueUp — {Path(describe_workspace(ws).location).name}")

    def page(self, title: str) -> QWidget | None:
        return self.pages.widget(self.page_titles.index(title)) if title in \
            self.page_titles else None

    def go_to(self, title: str) -> None:
        if title in self.page_titles:
            self.nav.setCurrentRow(self.page_titles.index(title))

    def _show_page(self, row: int) -> None:
        self.pages.setCurrentIndex(row)
        page = self.pages.widget(row)
        if page is self.home:
            self._update_home()
            if self.home.currentWidget() is self.dashboard:
                self.dashboard.refresh()
        elif page is not None and hasattr(page, "refresh"):
            page.refresh()

    def _update_home(self) -> None:
        first_run = not list_connections(self.workspace)
        self.home.setCurrentWidget(self.first_run if first_run else self.dashboard)

    def _connect_requested(self) -> None:
        if "Settings" in self.page_titles:
            self.go_to("Settings")
        self.connect_requested.emit()

    # ---------------------------------------------------------------- menus
    def _menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        for text, icon, key, slot in (
                ("&New workspace…", "new-file", QKeySequence.StandardKey.New,
                 self.new_workspace_dialog),
                ("&Open workspace…", "folder-open", QKeySequence.StandardKey.Open,
                 self.open_workspace_dialog)):
            action = QAction(theme.icon(icon), text, self)
            action.setShortcut(key)
            action.triggered.connect(slot)
            file.addAction(action)
        self.recent_menu = file.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent)
        demo = file.addAction("Open the &demo workspace")
        demo.triggered.connect(self.demo_requested)
        file.addSeparator()
        quit_action = file.addAction("&Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        view = self.menuBar().addMenu("&View")
        for n, title in enumerate(NAVIGATION, 1):
            action = view.addAction(title)
            action.setShortcut(QKeySequence(f"Ctrl+{n}"))
            action.triggered.connect(lambda _=False, t=title: self.go_to(t))
        help_menu = self.menuBar().addMenu("&Help")
        help_menu.addAction("Open &log folder").triggered.connect(open_log_folder)
        help_menu.addAction("&About TrueUp").triggered.connect(self._about)

    def _about(self) -> None:
        AboutDialog(describe_workspace(self.workspace).location, self).exec()

    def _fill_recent(self) -> None:
        self.recent_menu.clear()
        for path in self.recent():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.switch_workspace(p))
        if self.recent_menu.isEmpty():
            self.recent_menu.addAction("No recent workspaces").setEnabled(False)

    def recent(self) -> list[str]:
        value = self.settings.value("workspaces/recent", [])
        items = [value] if isinstance(value, str) else list(value or [])
        return [p for p in items if p]

    def _remember(self, ws: Workspace) -> None:
        if ws.path is None:
            return
        path = str(ws.path)
        items = [path] + [p for p in self.recent() if p != path]
        self.settings.setValue("workspaces/recent", items[:RECENT_MAX])

    def open_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a workspace", self._folder(),
                                              "TrueUp workspaces (*.sqlite *.db);;All files (*)")
        if path:
            self.switch_workspace(path)

    def new_workspace_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Create a workspace",
                                              str(Path(self._folder()) / "workspace.sqlite"),
                                              "TrueUp workspaces (*.sqlite)")
        if path:
            self.switch_workspace(path if path.endswith((".sqlite", ".db"))
                                  else path + ".sqlite")

    def _folder(self) -> str:
        return str(self.workspace.path.parent) if self.workspace.path else str(Path.home())

    # ---------------------------------------------------------------- switching
    def switch_workspace(self, target: str | Path) -> bool:
        """Open (or create) another workspace and rebuild every screen on it. Running work
        on the old one is cancelled and waited for first; a failure keeps the old one."""
        try:
            new = open_workspace(target)
        except WorkspaceError as exc:
            QMessageBox.critical(self, "TrueUp", f"The workspace could not be opened.\n\n{exc}")
            return False
        self._save_pages()
        self.runner.cancel_all_and_wait()
        old, self.workspace = self.workspace, new
        self._owned.append(new)
        self._build_pages()
        if old in self._owned:
            self._owned.remove(old)
            old.close()
        self._remember(new)
        self.workspace_changed.emit(new)
        return True

    # ---------------------------------------------------------------- layout memory
    def _restore_layout(self) -> None:
        geometry = self.settings.value("main_window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        else:
            self.resize(1280, 800)
        self._remember(self.workspace)

    def _save_pages(self) -> None:
        for n in range(self.pages.count()):
            save = getattr(self.pages.widget(n), "save_state", None)
            if callable(save):
                save()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.settings.setValue("main_window/geometry", self.saveGeometry())
        self.settings.setValue("main_window/page", self.nav.currentItem().text()
                               if self.nav.currentItem() else "Dashboard")
        self._save_pages()
        self.runner.cancel_all_and_wait()
        for ws in self._owned:
            ws.close()
        self._owned.clear()
        super().closeEvent(event)

    def showEvent(self, event) -> None:  # noqa: ANN001
        super().showEvent(event)
        if not getattr(self, "_shown_once", False):
            self._shown_once = True
            page = self.settings.value("main_window/page")
            if isinstance(page, str) and page in self.page_titles:
                self.go_to(page)
