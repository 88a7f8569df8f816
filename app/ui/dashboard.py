"""Dashboard: where the month-end stands — what awaits review, the money at stake, what waits
to be pushed, what needs attention — and the next step, in words, with a button to it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from app.services.alerts import AlertView, refresh_alerts
from app.services.connections import ConnectionView, list_connections
from app.services.history import PeriodOverview, period_overview, reconciled_periods
from app.services.workspace import Workspace, describe_workspace
from app.ui import theme
from app.ui.formatting import money
from app.ui.review.period_bar import month_name, previous_month
from app.ui.tasks import TaskRunner
from app.ui.widgets import Card, muted, page_title

LABELS = {
    "connections": "Connections",
    "vendor_customers": "Vendor customers",
    "vendor_subscriptions": "Vendor subscriptions",
    "charge_lines": "Vendor charge lines",
    "psa_companies": "PSA companies",
    "psa_billing_lines": "PSA billing lines",
    "findings": "Findings",
    "push_intents": "Push intents",
}
UNMAPPED = ("unmapped_customer", "unmapped_subscription")
KIND_NAMES = {"connectwise": "ConnectWise PSA", "autotask": "Autotask", "pax8": "Pax8",
              "partner_center": "Microsoft Partner Center", "generic_file": "File import"}


@dataclass(frozen=True)
class DashboardData:
    location: str
    counts: tuple[tuple[str, int], ...]
    connections: tuple[ConnectionView, ...]
    alerts: tuple[AlertView, ...]
    overview: PeriodOverview | None  # the latest reconciled period
    suggested_period: str


def load_dashboard(ws: Workspace, today: date, report: object = None,
                   cancel: threading.Event | None = None) -> DashboardData:
    """Alerts are recomputed here (idempotent, keyed), so the dashboard never shows a
    stale "all clear"."""
    info = describe_workspace(ws)
    periods = reconciled_periods(ws)
    latest = max(periods) if periods else None
    return DashboardData(info.location, tuple(info.counts.items()),
                         tuple(list_connections(ws)), tuple(refresh_alerts(ws)),
                         period_overview(ws, latest) if latest else None,
                         previous_month(today))


def _kind_suffix(c: ConnectionView) -> str:
    name = KIND_NAMES.get(c.kind, c.kind)
    return "" if name.casefold() == c.name.casefold() else f" · {name}"


@dataclass(frozen=True)
class Step:
    text: str
    page: str
    button: str


def next_steps(data: DashboardData) -> list[Step]:
    """The month-end workflow (DESIGN.md section 1) read against the workspace's state."""
    steps: list[Step] = []
    sides = {c.side for c in data.connections}
    for side, word in (("vendor", "a vendor connection or import a vendor file"),
                       ("psa", "your PSA connection (ConnectWise or Autotask)")):
        if side not in sides:
            steps.append(Step(f"Add {word}.", "Settings", "Open settings"))
    never = [c.name for c in data.connections if c.last_sync_at is None
             and c.kind != "generic_file"]
    if never:
        steps.append(Step(f"Sync {', '.join(never)}: never synced yet.", "Sync & activity",
                          "Sync"))
    unmapped = sum(1 for a in data.alerts if a.kind in UNMAPPED)
    if unmapped:
        steps.append(Step(f"Map {unmapped:,} vendor item{'s' * (unmapped != 1)} to the PSA; "
                          "unmapped items are not reconciled.", "Mapping", "Map"))
    o = data.overview
    if o is None or o.label < data.suggested_period:
        steps.append(Step(f"Reconcile {month_name(data.suggested_period)}.", "Reconciliation",
                          "Reconcile"))
    if o is not None:
        undecided = o.count("open") + o.count("deferred")
        if undecided:
            steps.append(Step(f"Review {undecided:,} finding{'s' * (undecided != 1)} of "
                              f"{month_name(o.label)}.", "Reconciliation", "Review"))
        if o.count("approved"):
            steps.append(Step(f"Push {o.count('approved'):,} approved change"
                              f"{'s' * (o.count('approved') != 1)} to the PSA.", "Push queue",
                              "Push"))
    return steps


class Tile(Card):
    """A number with what it means; clicking it opens the screen that acts on it."""

    clicked = Signal()

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent=parent)
        self.caption = muted(caption, wrap=False)
        self.value = QLabel("—")
        self.value.setObjectName("bigNumber")
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.detail = muted()
        for w in (self.caption, self.value, self.detail):
            self.body.addWidget(w)
        self.body.addStretch(1)
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def set(self, value: str, detail: str) -> None:
        self.value.setText(value)
        self.detail.setText(detail)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.clicked.emit()
        super().mousePressEvent(event)


class DashboardPage(QWidget):
    navigate_requested = Signal(str)  # a page title of the sidebar

    def __init__(self, workspace: Workspace, runner: TaskRunner | None = None,
                 parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner or TaskRunner(self, inline=True)
        self.today = today or date.today()
        self.data: DashboardData | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        outer.addWidget(scroll)
        content = QWidget()
        scroll.setWidget(content)
        layout = QVBoxLayout(content)
        layout.setContentsMargins(*theme.PAGE_MARGINS)
        layout.setSpacing(16)
        layout.addWidget(page_title("Dashboard"))
        self.hint = muted()
        layout.addWidget(self.hint)
        tiles = QHBoxLayout()
        tiles.setSpacing(16)
        self.tiles: dict[str, Tile] = {}
        for key, caption, page in (("review", "To review", "Reconciliation"),
                                   ("money", "Money at stake", "Reconciliation"),
                                   ("push", "Approved, waiting to push", "Push queue"),
                                   ("alerts", "Needs attention", "Sync & activity")):
            tile = Tile(caption)
            tile.clicked.connect(lambda p=page: self.navigate_requested.emit(p))
            self.tiles[key] = tile
            tiles.addWidget(tile, 1)
        layout.addLayout(tiles)
        grid = QGridLayout()
        grid.setSpacing(16)
        self.steps_card = Card("Next steps")
        self.alerts_card = Card("Alerts")
        self.connections_card = Card("Connections")
        self.counts_card = Card("In this workspace")
        grid.addWidget(self.steps_card, 0, 0)
        grid.addWidget(self.alerts_card, 0, 1)
        grid.addWidget(self.connections_card, 1, 0)
        grid.addWidget(self.counts_card, 1, 1)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        layout.addLayout(grid)
        layout.addStretch(1)
        self.refresh()

    def refresh(self) -> None:
        self.runner.submit("dashboard", lambda report, cancel: load_dashboard(
            self.workspace, self.today), on_done=self.show_data)

    # ---------------------------------------------------------------- filling in
    def show_data(self, data: DashboardData) -> None:
        self.data = data
        counts = dict(data.counts)
        self.hint.setText(f"Workspace {data.location}")
        if counts.get("connections", 0) == 0 and counts.get("charge_lines", 0) == 0:
            self.hint.setText("This workspace is empty. Add a vendor and a PSA connection, or "
                              "import a Partner Center reconciliation file, to start "
                              "reconciling a billing period.")
        self._tiles(data)
        self._fill(self.steps_card, [(s.text, s.button, s.page) for s in next_steps(data)]
                   or [("All caught up. Nothing waits for you.", None, None)])
        errors = [a for a in data.alerts if a.severity == "error"]
        alerts = [(a.message, None, None, a.severity) for a in data.alerts[:6]]
        if len(data.alerts) > 6:
            alerts.append((f"… and {len(data.alerts) - 6:,} more in Sync & activity.",
                           "Show all", "Sync & activity", "info"))
        self._fill(self.alerts_card, alerts or [("No alerts.", None, None, "success")])
        warnings = sum(1 for a in data.alerts if a.severity == "warning")
        parts = [f"{len(errors):,} error{'s' * (len(errors) != 1)}"] if errors else []
        parts += [f"{warnings:,} warning{'s' * (warnings != 1)}"] if warnings else []
        self.tiles["alerts"].set(f"{len(data.alerts):,}", ", ".join(parts) or
                                 ("notices" if data.alerts else "all clear"))
        conns = [(f"{c.name}{_kind_suffix(c)} · "
                  + (f"synced {c.last_sync_at.astimezone():%Y-%m-%d %H:%M}"
                     if c.last_sync_at else "never synced"), None, None)
                 for c in data.connections]
        self._fill(self.connections_card, conns or [("No connection yet.", "Add one",
                                                     "Settings")])
        self._fill_counts(counts)

    def _tiles(self, data: DashboardData) -> None:
        o = data.overview
        if o is None:
            for key in ("review", "money", "push"):
                self.tiles[key].set("—", "No period reconciled yet")
            return
        month = month_name(o.label)
        undecided = o.count("open") + o.count("deferred")
        self.tiles["review"].set(f"{undecided:,}", f"of {o.findings:,} findings in {month}")
        under = [money(v, c) for c, v in o.undecided_under]
        over = [money(-v, c) for c, v in o.undecided_over]
        detail = f"under-billed, awaiting a decision ({month})" if under else \
            f"nothing under-billed awaits a decision ({month})"
        if over:
            detail += "\nOver-billed: " + ", ".join(over)
        self.tiles["money"].set("\n".join(under) or "—", detail)
        self.tiles["push"].set(f"{o.count('approved'):,}",
                               f"{o.count('pushed'):,} pushed, {o.count('failed'):,} failed")

    @staticmethod
    def _content(card: Card) -> QVBoxLayout:
        """A fresh content widget for the card; the old one goes as a whole."""
        old = card.findChild(QWidget, "cardContent")
        if old is not None:
            old.hide()
            old.setObjectName("")
            old.deleteLater()
        content = QWidget()
        content.setObjectName("cardContent")
        layout = QVBoxLayout(content)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        card.body.insertWidget(1, content, 1)
        return layout

    def _fill(self, card: Card, lines: list[tuple]) -> None:  # noqa: ANN001
        body = self._content(card)
        for line in lines:
            text, button, page = line[:3]
            level = line[3] if len(line) > 3 else None
            row = QHBoxLayout()
            row.setSpacing(theme.SPACING)
            if level:
                icon = QLabel()
                icon.setPixmap(theme.level_icon(level).pixmap(16, 16))
                row.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
            label = QLabel(text)
            label.setWordWrap(True)
            row.addWidget(label, 1)
            if button:
                b = QPushButton(button)
                b.clicked.connect(lambda _=False, p=page: self.navigate_requested.emit(p))
                row.addWidget(b, 0, Qt.AlignmentFlag.AlignTop)
            body.addLayout(row)
        body.addStretch(1)

    def _fill_counts(self, counts: dict[str, int]) -> None:
        body = self._content(self.counts_card)
        grid = QGridLayout()
        grid.setHorizontalSpacing(24)
        grid.setVerticalSpacing(4)
        for n, key in enumerate(LABELS):
            grid.addWidget(QLabel(LABELS[key]), n // 2, (n % 2) * 2)
            number = QLabel(f"{counts.get(key, 0):,}")
            number.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            grid.addWidget(number, n // 2, (n % 2) * 2 + 1)
        body.addLayout(grid)
        body.addStretch(1)
