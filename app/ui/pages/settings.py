"""Settings: connections (add, edit, test, remove), billing policies, import profiles, and the
workspace's own settings — among them the name recorded in the audit log.

Testing a connection talks to the vendor or PSA, so it runs on the task runner; everything
else is a short write that reports a refusal next to the field that caused it.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import available_timezones

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.services.connections import (
    ConnectionSetupError,
    ConnectionView,
    KeyringUnavailableError,
    get_connection,
    list_connections,
    remove_connection,
)
from app.services.connectors import open_autotask, open_connectwise, open_pax8
from app.services.identity import current_user, set_user_name
from app.services.settings import get_setting, set_setting
from app.ui.formatting import day
from app.ui.pages.activity_models import KIND_NAMES
from app.ui.pages.connection_dialog import ConnectionDialog, show_keyring_help
from app.ui.pages.settings_policies import PoliciesTab
from app.ui.pages.settings_profiles import ProfilesTab
from app.ui.pages.widgets import (
    EmptyOr,
    call_safely,
    fit_columns,
    make_table,
    muted_label,
    page_layout,
    primary_button,
    row_layout,
    title_label,
    tone_color,
)
from app.ui.table import Column, RowTableModel
from app.ui.tasks import TaskRunner

OPENERS = {"connectwise": open_connectwise, "pax8": open_pax8, "autotask": open_autotask}
CONNECTION_COLUMNS: list[Column[ConnectionView]] = [
    Column("Name", lambda c: c.name, lambda c: c.name.lower()),
    Column("Kind", lambda c: KIND_NAMES.get(c.kind, c.kind)),
    Column("Side", lambda c: "Vendor" if c.side == "vendor" else "PSA"),
    Column("API URL", lambda c: c.base_url or "—", tooltip=lambda c: c.base_url or ""),
    Column("Last synced", lambda c: day(c.last_sync_at) or "never", lambda c: c.last_sync_at),
]


@dataclass(frozen=True)
class TestOutcome:
    ok: bool
    text: str
    keyring_missing: bool = False


def test_connection(ws, name: str, cancel=None) -> TestOutcome:  # noqa: ANN001
    """Open the connector with its keyring secret and ask the API who it is talking to."""
    view = get_connection(ws, name)
    opener = OPENERS.get(view.kind)
    if opener is None:
        return TestOutcome(True, f"{name} is filled by file imports; there is nothing to test.")
    try:
        with opener(view, cancel=cancel) as connector:
            answer = connector.test_connection()
    except KeyringUnavailableError as exc:
        return TestOutcome(False, str(exc), keyring_missing=True)
    except (LookupError, ConnectionSetupError) as exc:  # no secret stored, a missing field
        return TestOutcome(False, str(exc))
    except Exception as exc:  # noqa: BLE001 - the reason is the answer to "does it work?"
        return TestOutcome(False, f"{name} did not answer as expected: {exc}")
    if isinstance(answer, str):
        return TestOutcome(True, answer)
    if isinstance(answer, dict) and answer.get("summary"):
        return TestOutcome(True, f"Connected to {name}: {answer['summary']}")
    version = answer.get("version") if isinstance(answer, dict) else None
    return TestOutcome(True, f"Connected to {name}" + (f" (version {version})" if version
                                                        else "") + ".")


class ConnectionsTab(QWidget):
    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        self.model = RowTableModel(CONNECTION_COLUMNS)
        self.view = make_table(self.model, stretch=3)
        self.view.doubleClicked.connect(lambda _i: self.edit_selected())
        self.empty = EmptyOr(self.view, "No connections yet — add one to start: your PSA "
                             "(ConnectWise or Autotask) and a vendor (Pax8), or import a "
                             "Partner Center file.")
        layout.addWidget(self.empty, 1)
        self.status = muted_label()
        self.status.hide()
        layout.addWidget(self.status)
        add = primary_button("Add connection…")
        add.clicked.connect(self.add_connection)
        self.edit_button, self.test_button, self.remove_button = (
            QPushButton("Edit…"), QPushButton("Test connection"), QPushButton("Remove"))
        self.edit_button.clicked.connect(self.edit_selected)
        self.test_button.clicked.connect(self.test_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        layout.addLayout(row_layout(add, self.edit_button, self.test_button, None,
                                    self.remove_button))

    def refresh(self) -> None:
        rows = list_connections(self.workspace)
        self.model.set_rows(rows)
        self.empty.set_empty(not rows)
        fit_columns(self.view)

    def selected(self) -> ConnectionView | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def say(self, text: str, tone: str) -> None:
        self.status.setVisible(bool(text))
        self.status.setText(text)
        self.status.setStyleSheet(f"color: {tone_color(tone).name()};")

    def add_connection(self) -> ConnectionDialog:
        dialog = ConnectionDialog(self.workspace, self)
        dialog.accepted.connect(lambda: self._saved(dialog))
        dialog.open()
        return dialog

    def edit_selected(self) -> ConnectionDialog | None:
        view = self.selected()
        if view is None or view.kind not in OPENERS:
            return None
        dialog = ConnectionDialog(self.workspace, self, existing=view)
        dialog.accepted.connect(lambda: self._saved(dialog))
        dialog.open()
        return dialog

    def _saved(self, dialog: ConnectionDialog) -> None:
        self.refresh()
        if dialog.saved is not None:
            self.say(f"Saved {dialog.saved.name}. Test it to check the URL and the secret.",
                     "ok")
            for n, row in enumerate(self.model.rows):
                if row.name == dialog.saved.name:
                    self.view.selectRow(n)

    def test_selected(self) -> None:
        view = self.selected()
        if view is None or self.runner.busy("settings: test"):
            return
        ws, name = self.workspace, view.name
        self.say(f"Testing {name}…", "info")
        self.test_button.setEnabled(False)
        self.runner.submit("settings: test",
                           lambda report, cancel: test_connection(ws, name, cancel),
                           on_done=self._tested, on_error=lambda m, _d: self._tested(
                               TestOutcome(False, m)))

    def _tested(self, outcome: TestOutcome) -> None:
        self.test_button.setEnabled(True)
        if outcome.keyring_missing:
            self.say("✕ The secret cannot be read: no working keyring.", "error")
            show_keyring_help(self, outcome.text)
            return
        self.say(("✓ " if outcome.ok else "✕ ") + outcome.text, "ok" if outcome.ok else "error")

    def remove_selected(self) -> None:
        view = self.selected()
        if view is None:
            return
        if QMessageBox.question(self, "Remove connection",
                                f"Remove {view.name} and its secret?") != \
                QMessageBox.StandardButton.Yes:
            return
        if call_safely(self, "Remove connection", lambda: remove_connection(
                self.workspace, view.name, user=current_user(self.workspace)) or True):
            self.say(f"Removed {view.name}.", "muted")
            self.refresh()


class WorkspaceTab(QWidget):
    """The person's name for the audit log and the workspace-wide settings."""

    def __init__(self, workspace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace = workspace
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 16, 0, 0)
        layout.setSpacing(12)
        form = QFormLayout()
        form.setHorizontalSpacing(24)
        form.setVerticalSpacing(12)
        self.user = QLineEdit()
        self.user.setMaximumWidth(360)
        form.addRow("Your name in the audit log", self.user)
        self.zone = QComboBox()
        self.zone.setEditable(True)
        self.zone.addItems(sorted(available_timezones()))
        self.zone.setMaximumWidth(360)
        form.addRow("Time zone for billing dates", self.zone)
        self.deadline = QSpinBox()
        self.deadline.setRange(1, 28)
        self.deadline.setSuffix(" of the month")
        self.deadline.setMaximumWidth(200)
        form.addRow("Reconcile last month by the", self.deadline)
        self.currency = QLineEdit()
        self.currency.setMaxLength(3)
        self.currency.setMaximumWidth(80)
        form.addRow("Billing currency", self.currency)
        self.window = QSpinBox()
        self.window.setRange(1, 168)
        self.window.setSuffix(" hours before")
        self.window.setMaximumWidth(200)
        form.addRow("Warn of closing NCE windows", self.window)
        layout.addLayout(form)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {tone_color('error').name()};")
        self.error.hide()
        layout.addWidget(self.error)
        self.saved = muted_label()
        save = primary_button("Save")
        save.clicked.connect(self.save)
        layout.addLayout(row_layout(save, self.saved, None))
        layout.addStretch(1)

    def refresh(self) -> None:
        ws = self.workspace
        self.user.setText(current_user(ws))
        self.zone.setCurrentText(str(get_setting(ws, "time_zone")))
        self.deadline.setValue(int(get_setting(ws, "reconciliation_deadline_day")))
        self.currency.setText(str(get_setting(ws, "billing_currency")))
        self.window.setValue(int(get_setting(ws, "alert_window_hours")))

    def save(self) -> bool:
        name = self.user.text().strip()
        currency = self.currency.text().strip().upper()
        problems = []
        if not name:
            problems.append("Your name cannot be empty: the audit log records who did what.")
        if len(currency) != 3 or not currency.isalpha():
            problems.append("The billing currency is a three-letter ISO code, like USD or EUR.")
        try:
            if not problems:
                set_setting(self.workspace, "time_zone", self.zone.currentText().strip())
        except ValueError as exc:
            problems.append(f"{exc}.")
        if problems:
            self.error.setText("✕ " + "\n✕ ".join(problems))
            self.error.show()
            self.saved.setText("")
            return False
        set_user_name(self.workspace, name)
        set_setting(self.workspace, "reconciliation_deadline_day", self.deadline.value())
        set_setting(self.workspace, "billing_currency", currency)
        set_setting(self.workspace, "alert_window_hours", self.window.value())
        self.error.hide()
        self.saved.setText("Saved.")
        return True


class SettingsPage(QWidget):
    """Connections, billing policies, import profiles and the workspace's settings."""

    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        layout = page_layout(self)
        layout.addWidget(title_label("Settings", "Where TrueUp reads from, how it bills, and "
                                     "who you are in the audit log."))
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        self.connections = ConnectionsTab(workspace, runner)
        self.policies = PoliciesTab(workspace)
        self.profiles = ProfilesTab(workspace, runner)
        self.general = WorkspaceTab(workspace)
        for tab, name in ((self.connections, "Connections"), (self.policies, "Billing policies"),
                          (self.profiles, "Import profiles"), (self.general, "Workspace")):
            self.tabs.addTab(tab, name)
        layout.addWidget(self.tabs, 1)
        self.refresh()

    def refresh(self) -> None:
        self.connections.refresh()
        self.policies.refresh()
        self.profiles.refresh()
        self.general.refresh()

    def add_connection(self) -> QDialog:
        self.tabs.setCurrentWidget(self.connections)
        return self.connections.add_connection()
