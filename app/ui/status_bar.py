"""The window's status line: which workspace, when data was last synced, whether the
machine is online (review works offline; sync and push wait for the network), and what
runs in the background."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtNetwork import QNetworkInformation
from PySide6.QtWidgets import QHBoxLayout, QLabel, QStatusBar, QWidget

from app.services.alerts import list_alerts
from app.services.connections import list_connections
from app.services.workspace import Workspace, describe_workspace
from app.ui import theme
from app.ui.tasks import TaskHandle, TaskRunner


def ago(when: datetime, now: datetime | None = None) -> str:
    seconds = int(((now or datetime.now(UTC)) - when).total_seconds())
    if seconds < 90:
        return "just now"
    if seconds < 90 * 60:
        return f"{seconds // 60} min ago"
    if seconds < 36 * 3600:
        return f"{seconds // 3600} h ago"
    return f"{seconds // 86400} days ago"


class _IconLabel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 0, 6, 0)
        layout.setSpacing(4)
        self.icon = QLabel()
        self.text = QLabel()
        layout.addWidget(self.icon)
        layout.addWidget(self.text)

    def set(self, icon: str, text: str, color: str | None = None, tip: str = "") -> None:
        self.icon.setPixmap(theme.icon(icon, color or theme.colors()["muted"]).pixmap(14, 14))
        self.text.setText(text)
        self.setToolTip(tip)


class StatusIndicators(QObject):
    """Owns the permanent widgets of a QStatusBar; refreshed on a timer and after tasks."""

    def __init__(self, bar: QStatusBar, runner: TaskRunner, *, watch_network: bool = True,
                 parent: QObject | None = None) -> None:
        super().__init__(parent or bar)
        self.bar, self.runner = bar, runner
        self.workspace: Workspace | None = None
        self.task = QLabel()
        self.sync = _IconLabel()
        self.network = _IconLabel()
        self.workspace_label = QLabel()
        for w in (self.task, self.sync, self.network, self.workspace_label):
            bar.addPermanentWidget(w)
        runner.task_started.connect(self._tasks_changed)
        runner.task_ended.connect(self._tasks_ended)
        self.timer = QTimer(self, interval=60_000)
        self.timer.timeout.connect(self.refresh_sync)
        self.timer.start()
        self.info = None
        if watch_network and QNetworkInformation.loadDefaultBackend():
            self.info = QNetworkInformation.instance()
            self.info.reachabilityChanged.connect(lambda _r: self.refresh_network())
        self.refresh_network()

    def set_workspace(self, ws: Workspace) -> None:
        self.workspace = ws
        location = describe_workspace(ws).location
        self.workspace_label.setText(f"Workspace: {Path(location).name if ws.path else location}")
        self.workspace_label.setToolTip(location)
        self.refresh_sync()

    def refresh_sync(self) -> None:
        if self.workspace is None:
            return
        synced = [c for c in list_connections(self.workspace) if c.last_sync_at is not None]
        failed = [a for a in list_alerts(self.workspace) if a.kind == "sync_failed"]
        if failed:
            look = theme.LEVEL["error"]
            self.sync.set(look.icon, "Last sync failed", look.dark if theme.is_dark()
                          else look.light, "\n".join(a.message for a in failed))
        elif synced:
            last = max(c.last_sync_at for c in synced if c.last_sync_at)
            self.sync.set("sync", f"Last sync {ago(last)}",
                          tip="\n".join(f"{c.name}: {c.last_sync_at.astimezone():%Y-%m-%d %H:%M}"
                                        for c in synced if c.last_sync_at))
        else:
            self.sync.set("sync", "Never synced", tip="No connection has been synced yet")

    def refresh_network(self) -> None:
        reach = self.info.reachability() if self.info else None
        r = QNetworkInformation.Reachability
        if reach == r.Online:
            self.network.set("online", "Online", tip="Sync and push can reach the services")
        elif reach in (r.Disconnected, r.Local, r.Site):
            look = theme.LEVEL["warning"]
            self.network.set("offline", "Offline", look.dark if theme.is_dark() else look.light,
                             "Review and decide as usual; sync and push wait for the network")
        else:
            self.network.set("online", "Network unknown",
                             tip="This system does not report whether it is online")

    def online(self) -> bool | None:
        if self.info is None:
            return None
        return self.info.reachability() == QNetworkInformation.Reachability.Online

    def _tasks_changed(self, _handle: TaskHandle | None = None) -> None:
        names = [t.name for t in self.runner.tasks if t.running and not t.name.startswith(
            ("load", "explain", "dashboard"))]
        self.task.setText(f"Working: {names[0]}…" if len(names) == 1 else
                          f"Working: {len(names)} tasks…" if names else "")

    def _tasks_ended(self, handle: TaskHandle) -> None:
        self._tasks_changed()
        if "sync" in handle.name.lower():
            self.refresh_sync()
