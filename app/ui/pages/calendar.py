"""The invoice calendar: a month of billing events, the chosen day's list, and the next 30 days.

Events for the six visible weeks and the agenda come from one service call on the task
runner; the customer and kind filters then work on what is loaded, so they answer at once.
Each event links to its customer and, when one is still open, to its finding.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import quote, unquote

from PySide6.QtCore import QSize, Qt, QUrl, Signal
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.domain.periods import add_months
from app.services.calendar import CalendarEvent, calendar_events
from app.services.findings import list_findings
from app.ui.pages.calendar_grid import (
    KIND_STYLE,
    SHORT_LABELS,
    MonthGrid,
    grid_start,
    kind_label,
    kind_style,
)
from app.ui.pages.widgets import (
    muted_hex,
    muted_label,
    page_layout,
    section_label,
    title_label,
)
from app.ui.tasks import TaskRunner

AGENDA_DAYS = 30
ALL_CUSTOMERS = "All customers"
LIVE_FINDINGS = {"open", "approved", "deferred", "failed"}


@dataclass(frozen=True)
class _Loaded:
    start: date
    end: date
    events: list[CalendarEvent]
    findings: dict[str, int]  # vendor subscription id → its latest live finding


def _swatch(kind: str) -> QIcon:
    symbol, colour = kind_style(kind)
    pixmap = QPixmap(18, 18)
    pixmap.fill(Qt.GlobalColor.transparent)
    p = QPainter(pixmap)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setBrush(colour)
    p.setPen(Qt.PenStyle.NoPen)
    p.drawRoundedRect(1, 1, 16, 16, 4, 4)
    p.setPen(Qt.GlobalColor.white)
    p.drawText(pixmap.rect(), Qt.AlignmentFlag.AlignCenter, symbol)
    p.end()
    return QIcon(pixmap)


class CalendarPage(QWidget):
    """Signals: `open_customer(name)`, `open_finding(id)`, `open_period(label)`."""

    open_customer = Signal(str)
    open_finding = Signal(int)
    open_period = Signal(str)

    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None, *,
                 today: Callable[[], date] = date.today) -> None:
        super().__init__(parent)
        self.workspace, self.runner, self.today = workspace, runner, today
        self.month = today().replace(day=1)
        self.loaded: _Loaded | None = None
        self.selected: date | None = None
        layout = page_layout(self)
        layout.addWidget(title_label(
            "Invoice calendar", "What is due when: vendor invoices and settled data, customer "
            "invoice runs, renewals, NCE cancellation windows and the reconciliation deadline."))
        layout.addLayout(self._toolbar())
        layout.addLayout(self._legend())
        split = QSplitter(Qt.Orientation.Horizontal)
        self.grid = MonthGrid()
        self.grid.day_clicked.connect(self.show_day)
        split.addWidget(self.grid)
        split.addWidget(self._side_panel())
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setSizes([860, 360])
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.refresh()

    # ------------------------------------------------------------ layout
    def _toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(8)
        self.prev_button = QPushButton("‹")
        self.prev_button.setToolTip("Previous month")
        self.prev_button.clicked.connect(lambda: self.go_to(add_months(self.month, -1)))
        self.today_button = QPushButton("Today")
        self.today_button.clicked.connect(lambda: self.go_to(self.today(), select=True))
        self.next_button = QPushButton("›")
        self.next_button.setToolTip("Next month")
        self.next_button.clicked.connect(lambda: self.go_to(add_months(self.month, 1)))
        for button in (self.prev_button, self.next_button):
            button.setFixedWidth(36)
        self.month_label = QLabel()
        font = self.month_label.font()
        font.setPointSize(font.pointSize() + 4)
        font.setBold(True)
        self.month_label.setFont(font)
        self.month_label.setMinimumWidth(220)
        self.customer = QComboBox()
        self.customer.setEditable(True)
        self.customer.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.customer.setMinimumWidth(240)
        self.customer.addItem(ALL_CUSTOMERS)
        self.customer.currentTextChanged.connect(lambda _t: self._show())
        for w in (self.prev_button, self.today_button, self.next_button):
            row.addWidget(w)
        row.addSpacing(8)
        row.addWidget(self.month_label)
        row.addStretch(1)
        row.addWidget(QLabel("Customer"))
        row.addWidget(self.customer)
        return row

    def _legend(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(14)
        self.kind_boxes: dict[str, QCheckBox] = {}
        for kind in KIND_STYLE:
            box = QCheckBox(SHORT_LABELS[kind])
            box.setIcon(_swatch(kind))
            box.setIconSize(QSize(16, 16))
            box.setChecked(True)
            box.setToolTip(f"Show or hide “{kind_label(kind)}”")
            box.toggled.connect(lambda _on: self._show())
            self.kind_boxes[kind] = box
            row.addWidget(box)
        row.addStretch(1)
        return row

    def _side_panel(self) -> QWidget:
        panel = QFrame()
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(12, 0, 0, 0)
        layout.setSpacing(8)
        self.day_title = section_label("")
        layout.addWidget(self.day_title)
        self.day_view = self._browser()
        layout.addWidget(self.day_view, 2)
        layout.addSpacing(8)
        layout.addWidget(section_label(f"Next {AGENDA_DAYS} days"))
        self.agenda_view = self._browser()
        layout.addWidget(self.agenda_view, 3)
        self.status = muted_label()
        layout.addWidget(self.status)
        return panel

    def _browser(self) -> QTextBrowser:
        view = QTextBrowser()
        view.setOpenLinks(False)
        view.setFrameShape(QFrame.Shape.NoFrame)
        view.anchorClicked.connect(self.follow_link)
        view.document().setDocumentMargin(6)
        return view

    # ------------------------------------------------------------ loading
    def go_to(self, day: date, select: bool = False) -> None:
        self.month = day.replace(day=1)
        if select:
            self.selected = day
        self.refresh()

    def refresh(self) -> None:
        today = self.today()
        first = grid_start(self.month)
        start = min(first, today)
        end = max(first + timedelta(days=41), today + timedelta(days=AGENDA_DAYS))
        ws = self.workspace
        self.month_label.setText(f"{self.month:%B %Y}")
        self.grid.set_month(self.month, today)

        def job(report, cancel) -> _Loaded:  # noqa: ANN001
            events = calendar_events(ws, start, end)
            live = {}
            for f in list_findings(ws, with_explanation=False):
                if f.status in LIVE_FINDINGS and f.subscription_id:
                    live[f.subscription_id] = f.id
            return _Loaded(start, end, events, live)

        self.runner.submit("calendar: load", job, on_done=self._loaded,
                           on_error=lambda message, _d: self.status.setText(
                               f"Could not load the calendar: {message}"))

    def _loaded(self, data: _Loaded) -> None:
        self.loaded = data
        current = self.customer.currentText()
        names = sorted({e.customer for e in data.events if e.customer}, key=str.lower)
        self.customer.blockSignals(True)
        self.customer.clear()
        self.customer.addItems([ALL_CUSTOMERS, *names])
        self.customer.setCurrentText(current or ALL_CUSTOMERS)
        self.customer.blockSignals(False)
        self._show()

    # ------------------------------------------------------------ showing
    def visible_events(self) -> list[CalendarEvent]:
        if self.loaded is None:
            return []
        kinds = {k for k, box in self.kind_boxes.items() if box.isChecked()}
        who = self.customer.currentText().strip()
        needle = "" if who in ("", ALL_CUSTOMERS) else who.casefold()
        return [e for e in self.loaded.events if str(e.kind) in kinds
                and (not needle or (e.customer and needle in e.customer.casefold()))]

    def _show(self) -> None:
        events = self.visible_events()
        self.grid.set_events(events)
        self._show_agenda(events)
        day = self.selected
        if day is None or not self.grid.first_day() <= day <= self.grid.last_day():
            today = self.today()
            day = today if today.replace(day=1) == self.month else self.month
        self.grid.selected = day
        self.grid.update()
        self.show_day(day)
        if self.loaded is not None and not self.loaded.events:
            self.status.setText("No billing events in these weeks. Sync a vendor and a PSA "
                                "connection to fill the calendar.")
        else:
            self.status.setText("")

    def show_day(self, day: date) -> None:
        """List one day's events (what a click on a day cell does)."""
        self.selected = day
        if not self.grid.first_day() <= day <= self.grid.last_day():
            self.go_to(day, select=True)
            return
        events = [e for e in self.visible_events() if e.day == day]
        when = "Today · " if day == self.today() else ""
        self.day_title.setText(f"{when}{day:%A %d %B %Y}")
        self.day_view.setHtml(self._events_html(events) if events else self._note(
            "Nothing due on this day."))

    def _show_agenda(self, events: list[CalendarEvent]) -> None:
        today = self.today()
        end = today + timedelta(days=AGENDA_DAYS)
        upcoming = [e for e in events if today <= e.day <= end]
        if not upcoming:
            self.agenda_view.setHtml(self._note(f"Nothing due in the next {AGENDA_DAYS} days."))
            return
        parts, current = [], None
        for e in upcoming[:300]:
            if e.day != current:
                current = e.day
                label = {0: "Today", 1: "Tomorrow"}.get((e.day - today).days,
                                                          f"{e.day:%a %d %b}")
                parts.append(f"<p style='margin:10px 0 2px 0'><b>{label}</b></p>")
            parts.append(self._event_html(e, compact=True))
        if len(upcoming) > 300:
            parts.append(self._note(f"… and {len(upcoming) - 300} more."))
        self.agenda_view.setHtml("".join(parts))

    def _note(self, text: str) -> str:
        return f"<p style='color:{muted_hex()}'>{html.escape(text)}</p>"

    def _events_html(self, events: list[CalendarEvent]) -> str:
        return "".join(self._event_html(e) for e in events)

    def _event_html(self, e: CalendarEvent, compact: bool = False) -> str:
        """Day list: the title, then kind · customer · finding. Agenda (compact): the
        customer first (that is what a bookkeeper scans for), then the title · finding."""
        symbol, colour = kind_style(e.kind)
        customer = (f"<a href='customer:{quote(e.customer)}'>{html.escape(e.customer)}</a>"
                    if e.customer else None)
        links = []
        finding = self._finding_for(e)
        if finding is not None:
            links.append(f"<a href='finding:{finding}'>Finding #{finding}</a>")
        if str(e.kind) == "reconciliation_deadline" and e.ref.get("period"):
            period = e.ref["period"]
            links.append(f"<a href='period:{quote(period)}'>Review {html.escape(period)}</a>")
        if compact and customer:
            head, second = customer, [html.escape(e.title), *links]
        else:
            head = html.escape(e.title)
            second = [html.escape(kind_label(e.kind)), *([customer] if customer else []), *links]
        return (f"<p style='margin:0 0 6px 0'><span style='color:{colour.name()}'>"
                f"{symbol}</span>&nbsp;<b>{head}</b><br>"
                f"<span style='color:{muted_hex()}'>{' · '.join(second)}</span></p>")

    def _finding_for(self, e: CalendarEvent) -> int | None:
        sub = e.ref.get("vendor_subscription")
        return self.loaded.findings.get(sub) if self.loaded and sub else None

    def follow_link(self, url: QUrl) -> None:
        scheme, _, value = url.toString().partition(":")
        value = unquote(value)
        if scheme == "customer":
            self.open_customer.emit(value)
        elif scheme == "finding" and value.isdigit():
            self.open_finding.emit(int(value))
        elif scheme == "period":
            self.open_period.emit(value)
