"""Sync & activity: each connection's last run, "Sync now" for one or all with progress and
cancel, the daily schedule, the alerts that need a person, and the audit log with filters.

Syncs run on the task runner, one connection after another, and report which connection
they are reading. The schedule is a time of day kept as the `sync_time` setting; a minute
timer starts the daily sync while the app runs, at most once per day.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta

from PySide6.QtCore import Qt, QTime, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QPushButton,
    QSplitter,
    QTabWidget,
    QTimeEdit,
    QVBoxLayout,
    QWidget,
)

from app.services.alerts import list_alerts, refresh_alerts
from app.services.audit_log import latest_sync_runs, list_sync_runs
from app.services.connections import list_connections
from app.services.settings import get_setting, set_setting
from app.services.sync import SYNCERS, SyncResult, sync_connection
from app.ui.pages import activity_models as am
from app.ui.pages.audit_view import AuditView
from app.ui.pages.widgets import (
    EmptyOr,
    TaskBar,
    fit_columns,
    make_table,
    muted_label,
    page_layout,
    primary_button,
    row_layout,
    section_label,
    title_label,
    tone_color,
)
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner

SYNC_TASK = "sync"
SCHEDULE_CHECK_MS = 30_000


class ActivityPage(QWidget):
    """Signals: `open_finding(id)`, `open_push_queue()`, `open_mapping()` from an alert."""

    open_finding = Signal(int)
    open_push_queue = Signal()
    open_mapping = Signal()

    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None, *,
                 now: Callable[[], datetime] = datetime.now) -> None:
        super().__init__(parent)
        self.workspace, self.runner, self.now = workspace, runner, now
        self.schedule_fired_on = None
        self.syncing = False  # our own flag: on_done runs before the runner marks it done
        layout = page_layout(self)
        layout.addWidget(title_label(
            "Sync & activity", "Each connection's last sync, what needs your attention, and "
            "who changed what."))
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        layout.addWidget(self.tabs, 1)
        self.tabs.addTab(self._connections_tab(), "Connections")
        self.alert_model = RowTableModel(am.ALERT_COLUMNS)
        self.alert_view = make_table(self.alert_model, stretch=2)
        self.alert_view.doubleClicked.connect(lambda _i: self.follow_alert())
        self.alert_empty = EmptyOr(self.alert_view, "No alerts. Everything synced, mapped and "
                                   "pushed cleanly.")
        alerts = QWidget()
        alerts_layout = QVBoxLayout(alerts)
        alerts_layout.setContentsMargins(0, 12, 0, 0)
        alerts_layout.addWidget(self.alert_empty, 1)
        self.alert_refresh = QPushButton("Check again")
        self.alert_refresh.clicked.connect(self.check_alerts)
        open_button = QPushButton("Open")
        open_button.setToolTip("Go to the finding, the push queue or the mapping it is about")
        open_button.clicked.connect(self.follow_alert)
        alerts_layout.addLayout(row_layout(self.alert_refresh, open_button, None))
        self.tabs.addTab(alerts, "Alerts")
        self.audit = AuditView(workspace, runner)
        self.tabs.addTab(self.audit, "Audit log")

        self.timer = QTimer(self)
        self.timer.setInterval(SCHEDULE_CHECK_MS)
        self.timer.timeout.connect(self.check_schedule)
        self.timer.start()
        self.refresh()

    def _connections_tab(self) -> QWidget:
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        self.sync_all_button = primary_button("Sync all")
        self.sync_all_button.clicked.connect(lambda: self.sync([r.name for r in self._syncable()]))
        self.sync_one_button = QPushButton("Sync selected")
        self.sync_one_button.clicked.connect(self.sync_selected)
        self.schedule_on = QCheckBox("Sync every day at")
        self.schedule_time = QTimeEdit()
        self.schedule_time.setDisplayFormat("HH:mm")
        self.schedule_time.setTime(QTime(6, 0))
        self.schedule_on.toggled.connect(lambda _on: self.save_schedule())
        self.schedule_time.editingFinished.connect(self.save_schedule)
        self.schedule_note = muted_label(wrap=False)
        layout.addLayout(row_layout(self.sync_all_button, self.sync_one_button, None,
                                    self.schedule_on, self.schedule_time, self.schedule_note))
        self.task = TaskBar()
        layout.addWidget(self.task)
        self.message = muted_label()
        self.message.hide()
        layout.addWidget(self.message)
        self.connection_model = RowTableModel(am.CONNECTION_COLUMNS)
        self.connection_view = make_table(self.connection_model, stretch=5)
        self.connection_view.selectionModel().selectionChanged.connect(
            lambda *_: self._connection_selected())
        self.connection_view.doubleClicked.connect(lambda _i: self.sync_selected())
        self.connection_empty = EmptyOr(self.connection_view, "No connections yet — add one in "
                                        "Settings to start, or import a Partner Center file.")
        self.history_title = section_label("Recent runs")
        self.history_model = RowTableModel(am.RUN_COLUMNS)
        self.history_view = make_table(self.history_model, stretch=4)
        self.history_empty = EmptyOr(self.history_view, "Select a connection to see its runs.")
        history = self.history_box = QWidget()
        history_layout = QVBoxLayout(history)
        history_layout.setContentsMargins(0, 8, 0, 0)
        history_layout.setSpacing(6)
        history_layout.addWidget(self.history_title)
        history_layout.addWidget(self.history_empty, 1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.connection_empty)
        split.addWidget(history)
        split.setStretchFactor(0, 1)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        return tab

    # ------------------------------------------------------------ loading
    def refresh(self) -> None:
        ws = self.workspace

        def job(report, cancel):  # noqa: ANN001, ANN202
            runs = latest_sync_runs(ws)
            rows = [am.ConnectionRow(c, runs.get(c.name), c.kind in SYNCERS)
                    for c in list_connections(ws)]
            return rows, list_alerts(ws), str(get_setting(ws, "sync_time"))

        self.runner.submit("activity: load", job, on_done=self._loaded,
                           on_error=lambda m, _d: self._say(f"Could not load: {m}", "error"))
        self.audit.refresh()

    def _loaded(self, data) -> None:  # noqa: ANN001
        rows, alerts, sync_time = data
        previous = self.selected_connection()
        self.connection_model.set_rows(rows)
        self.connection_empty.set_empty(not rows)
        self.history_box.setVisible(bool(rows))
        fit_columns(self.connection_view, {4: 330})
        names = [r.name for r in rows]
        if rows:
            keep = names.index(previous.name) if previous and previous.name in names else 0
            self.connection_view.selectRow(keep)
        self.alert_model.set_rows(alerts)
        self.alert_empty.set_empty(not alerts)
        fit_columns(self.alert_view)
        errors = sum(1 for a in alerts if a.severity == "error")
        self.tabs.setTabText(1, f"Alerts ({len(alerts)})" if alerts else "Alerts")
        if errors:
            self.tabs.setTabToolTip(1, f"{errors} error(s) need attention")
        self._show_schedule(sync_time)
        self._update_buttons()

    def _connection_selected(self) -> None:
        self._update_buttons()
        row = self.selected_connection()
        if row is None:
            self.history_model.set_rows([])
            self.history_empty.set_empty(True, "Select a connection to see its runs.")
            return
        self.history_title.setText(f"Recent runs of {row.name}")
        ws, name = self.workspace, row.name
        self.runner.submit("activity: runs", lambda report, cancel: list_sync_runs(
            ws, name, limit=50), on_done=self._runs_loaded)

    def _runs_loaded(self, runs) -> None:  # noqa: ANN001
        self.history_model.set_rows(runs)
        self.history_empty.set_empty(not runs, "This connection has not synced yet. "
                                     "Sync it to read its data.")
        fit_columns(self.history_view)

    def _syncable(self) -> list[am.ConnectionRow]:
        return [r for r in self.connection_model.all_rows if r.syncable]

    def selected_connection(self) -> am.ConnectionRow | None:
        rows = self.connection_view.selectionModel().selectedRows()
        return self.connection_model.row_at(rows[0].row()) if rows else None

    def _update_buttons(self) -> None:
        busy = self.syncing
        row = self.selected_connection()
        self.sync_all_button.setEnabled(not busy and bool(self._syncable()))
        self.sync_one_button.setEnabled(not busy and row is not None and row.syncable)
        self.sync_one_button.setText(f"Sync {row.name}" if row is not None and row.syncable
                                     else "Sync selected")

    def _say(self, text: str, tone: str = "ok") -> None:
        self.message.setVisible(bool(text))
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {tone_color(tone).name()};")

    # ------------------------------------------------------------ syncing
    def sync_selected(self) -> None:
        row = self.selected_connection()
        if row is not None and row.syncable:
            self.sync([row.name])

    def sync(self, names: list[str]) -> None:
        """Sync these connections one after another, in the background."""
        if not names or self.syncing:
            return
        self.syncing = True
        ws = self.workspace

        def job(report, cancel) -> list[SyncResult]:  # noqa: ANN001
            results = []
            for n, name in enumerate(names, 1):
                if cancel.is_set():
                    break
                prefix = f"{name} ({n} of {len(names)})" if len(names) > 1 else name

                def progress(done: int, total: int | None, message: str,
                             prefix: str = prefix) -> None:
                    report(done, total, f"{prefix}: {message}")

                report(0, None, f"{prefix}: connecting…")
                results.append(sync_connection(ws, name, progress=progress, cancel=cancel))
            return results

        self.task.start(f"Syncing {', '.join(names)}…")
        handle = self.runner.submit(SYNC_TASK, job, on_done=self._synced,
                                    on_error=self._sync_failed, on_progress=self.task.progress)
        self.task.attach(handle)
        self._update_buttons()

    def _synced(self, results: list[SyncResult]) -> None:
        self.syncing = False
        self.task.finish()
        failed = [r for r in results if r.status == "failed"]
        parts = [f"{r.connection}: {r.status}" + (f" ({am.counts_text(r.counts)})"
                                                   if r.counts else "") for r in results]
        tone = "error" if failed else ("muted" if any(r.status == "cancelled" for r in results)
                                       else "ok")
        self._say("Sync finished — " + "; ".join(parts) if parts else "Nothing was synced.",
                  tone)
        self.check_alerts()
        self.refresh()

    def _sync_failed(self, message: str, _details: str) -> None:
        self.syncing = False
        self.task.finish()
        self._say(f"The sync stopped: {message}", "error")
        self.refresh()

    def check_alerts(self) -> None:
        ws = self.workspace
        self.runner.submit("activity: alerts", lambda report, cancel: refresh_alerts(ws),
                           on_done=self._alerts_loaded)

    def _alerts_loaded(self, alerts) -> None:  # noqa: ANN001
        self.alert_model.set_rows(alerts)
        self.alert_empty.set_empty(not alerts)
        fit_columns(self.alert_view)
        self.tabs.setTabText(1, f"Alerts ({len(alerts)})" if alerts else "Alerts")

    def follow_alert(self) -> None:
        rows = self.alert_view.selectionModel().selectedRows()
        if not rows:
            return
        alert = self.alert_model.row_at(rows[0].row())
        if "finding" in alert.ref:
            self.open_finding.emit(int(alert.ref["finding"]))
        elif "intent" in alert.ref:
            self.open_push_queue.emit()
        elif alert.kind.startswith("unmapped"):
            self.open_mapping.emit()
        elif alert.kind == "sync_failed":
            self.tabs.setCurrentIndex(0)

    # ------------------------------------------------------------ schedule
    def _show_schedule(self, sync_time: str) -> None:
        for w in (self.schedule_on, self.schedule_time):
            w.blockSignals(True)
        self.schedule_on.setChecked(bool(sync_time))
        if sync_time:
            hours, minutes = (int(x) for x in sync_time.split(":"))
            self.schedule_time.setTime(QTime(hours, minutes))
        self.schedule_time.setEnabled(bool(sync_time))
        for w in (self.schedule_on, self.schedule_time):
            w.blockSignals(False)
        due = next_due(sync_time, self.now())
        when = "" if due is None else (f"today {due:%H:%M}" if due.date() == self.now().date()
                                       else f"tomorrow {due:%H:%M}")
        self.schedule_note.setText(f"next {when}, while TrueUp is open" if due else "")

    def save_schedule(self) -> None:
        value = self.schedule_time.time().toString("HH:mm") if self.schedule_on.isChecked() \
            else ""
        set_setting(self.workspace, "sync_time", value)
        self._show_schedule(value)
        self._say(f"Daily sync at {value}." if value else "Daily sync is off.", "muted")

    def check_schedule(self) -> bool:
        """Start the daily sync once the set time has passed today, if no sync has run since;
        True when it started one. Called by the timer; public so a test can call it."""
        value = str(get_setting(self.workspace, "sync_time"))
        if not value or self.syncing:
            return False
        now = self.now()
        hours, minutes = (int(x) for x in value.split(":"))
        due = datetime.combine(now.date(), time(hours, minutes))
        if now < due or self.schedule_fired_on == now.date():
            return False
        due_utc = due.astimezone(UTC) if due.tzinfo else due.astimezone().astimezone(UTC)
        runs = latest_sync_runs(self.workspace)
        names = [c.name for c in list_connections(self.workspace) if c.kind in SYNCERS
                 and (c.name not in runs or runs[c.name].started_at < due_utc)]
        self.schedule_fired_on = now.date()
        if not names:
            return False
        self._say(f"Daily sync started at {now:%H:%M}.", "info")
        self.sync(names)
        return True


def next_due(sync_time: str, now: datetime) -> datetime | None:
    if not sync_time:
        return None
    hours, minutes = (int(x) for x in sync_time.split(":"))
    due = datetime.combine(now.date(), time(hours, minutes))
    return due if due > now else due + timedelta(days=1)
