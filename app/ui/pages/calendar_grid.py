"""The invoice calendar's month grid, painted: six weeks of day cells listing their events.

Painted rather than built from widgets so a day with thirty invoice runs stays one cell:
the first few events as coloured chips and "+N more", the rest one click away. Every kind
has a symbol as well as a colour, so the legend reads without colour vision.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, timedelta

from PySide6.QtCore import QEvent, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QHelpEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from app.services.calendar import EVENT_LABELS, CalendarEvent
from app.ui.pages.widgets import is_dark

# kind → (symbol, colour): Okabe–Ito hues, darkened where text sits on them.
KIND_STYLE: dict[str, tuple[str, QColor]] = {
    "vendor_invoice": ("✉", QColor("#0072B2")),
    "data_settled": ("✓", QColor("#3A8FC4")),
    "customer_invoice_run": ("$", QColor("#009E73")),
    "renewal": ("↻", QColor("#B8508C")),
    "commitment_end": ("⚑", QColor("#C98A00")),
    "nce_window_closes": ("⚠", QColor("#D55E00")),
    "reconciliation_deadline": ("★", QColor("#3F3F46")),
}
KIND_ORDER = list(KIND_STYLE)
# Short names for the legend, so it fits one row; the full label is its tooltip.
SHORT_LABELS = {"vendor_invoice": "Vendor invoice", "data_settled": "Data settled",
                "customer_invoice_run": "Customer invoice run", "renewal": "Renewal",
                "commitment_end": "Commitment end", "nce_window_closes": "NCE window closes",
                "reconciliation_deadline": "Reconciliation deadline"}
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
HEADER_HEIGHT = 26
CHIP_HEIGHT = 18
CHIP_GAP = 2


def kind_style(kind: str) -> tuple[str, QColor]:
    symbol, colour = KIND_STYLE.get(str(kind), ("•", QColor("#6B7280")))
    if colour.lightness() < 80 and is_dark():  # the deadline's near-black, on a dark palette
        return symbol, QColor("#c9ced6")
    return symbol, colour


def kind_label(kind: str) -> str:
    for key, label in EVENT_LABELS.items():
        if str(key) == str(kind):
            return label
    return str(kind).replace("_", " ").capitalize()


def chip_text(event: CalendarEvent) -> str:
    """Short enough for a cell: the customer when there is one, else the event's title."""
    return event.customer or event.title


def grid_start(month: date) -> date:
    first = month.replace(day=1)
    return first - timedelta(days=first.weekday())


class MonthGrid(QWidget):
    """Emits `day_clicked(date)` on a click or Enter; arrow keys move the selection."""

    day_clicked = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.month = date.today().replace(day=1)
        self.today = date.today()
        self.selected: date | None = None
        self.by_day: dict[date, list[CalendarEvent]] = {}
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setMouseTracking(True)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(560, 420)

    def sizeHint(self) -> QSize:
        return QSize(840, 620)

    # ------------------------------------------------------------ data
    def set_month(self, month: date, today: date) -> None:
        self.month, self.today = month.replace(day=1), today
        self.update()

    def set_events(self, events: Sequence[CalendarEvent]) -> None:
        by_day: dict[date, list[CalendarEvent]] = defaultdict(list)
        for event in events:
            by_day[event.day].append(event)
        for day_events in by_day.values():
            day_events.sort(key=lambda e: (KIND_ORDER.index(str(e.kind))
                                           if str(e.kind) in KIND_ORDER else 99,
                                           chip_text(e).lower()))
        self.by_day = dict(by_day)
        self.update()

    def first_day(self) -> date:
        return grid_start(self.month)

    def last_day(self) -> date:
        return self.first_day() + timedelta(days=41)

    def select(self, day: date) -> None:
        self.selected = day
        if not self.first_day() <= day <= self.last_day():
            self.month = day.replace(day=1)
        self.update()
        self.day_clicked.emit(day)

    # ------------------------------------------------------------ geometry
    def _cell(self, index: int) -> QRect:
        width = (self.width() - 1) / 7
        height = (self.height() - HEADER_HEIGHT - 1) / 6
        col, row = index % 7, index // 7
        return QRect(round(col * width), round(HEADER_HEIGHT + row * height),
                     round((col + 1) * width) - round(col * width),
                     round(HEADER_HEIGHT + (row + 1) * height)
                     - round(HEADER_HEIGHT + row * height))

    def day_at(self, point: QPoint) -> date | None:
        for index in range(42):
            if self._cell(index).contains(point):
                return self.first_day() + timedelta(days=index)
        return None

    def cell_rect(self, day: date) -> QRect:
        return self._cell((day - self.first_day()).days)

    # ------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        base, text = pal.base().color(), pal.text().color()
        grid = QColor(text)
        grid.setAlpha(40)
        muted = QColor(text)
        muted.setAlpha(110)
        p.fillRect(self.rect(), base)
        font = QFont(self.font())
        small = QFont(font)
        small.setPointSizeF(max(7.0, font.pointSizeF() - 1))
        bold = QFont(font)
        bold.setBold(True)
        p.setFont(small)
        width = (self.width() - 1) / 7
        for col, name in enumerate(WEEKDAYS):
            p.setPen(muted)
            p.drawText(QRectF(col * width, 0, width, HEADER_HEIGHT),
                       Qt.AlignmentFlag.AlignCenter, name)
        for index in range(42):
            day = self.first_day() + timedelta(days=index)
            rect = self._cell(index)
            in_month = day.month == self.month.month
            if day == self.selected:
                highlight = QColor(pal.highlight().color())
                highlight.setAlpha(40)
                p.fillRect(rect, highlight)
            elif not in_month:
                shade = QColor(text)
                shade.setAlpha(10)
                p.fillRect(rect, shade)
            p.setPen(grid)
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawRect(rect)
            self._paint_day_number(p, rect, day, in_month, bold, font, muted, text)
            self._paint_chips(p, rect, self.by_day.get(day, []), small, text, in_month)
        p.setBrush(Qt.BrushStyle.NoBrush)
        if self.hasFocus() and self.selected and self.first_day() <= self.selected \
                <= self.last_day():
            p.setPen(pal.highlight().color())
            p.drawRect(self.cell_rect(self.selected).adjusted(1, 1, -2, -2))
        p.end()

    def _paint_day_number(self, p: QPainter, rect: QRect, day: date, in_month: bool,
                          bold: QFont, font: QFont, muted: QColor, text: QColor) -> None:
        label = str(day.day) if day.day != 1 else f"{day.day} {day:%b}"
        number = QRect(rect.left() + 6, rect.top() + 4, rect.width() - 12, CHIP_HEIGHT)
        if day == self.today:
            p.setFont(bold)
            badge_w = p.fontMetrics().horizontalAdvance(label) + 12
            badge = QRectF(number.left() - 3, number.top(), badge_w, CHIP_HEIGHT)
            p.setBrush(self.palette().highlight())
            p.setPen(Qt.PenStyle.NoPen)
            p.drawRoundedRect(badge, 9, 9)
            p.setPen(self.palette().highlightedText().color())
            p.drawText(badge, Qt.AlignmentFlag.AlignCenter, label)
            p.setPen(self.palette().highlight().color())
            p.drawText(number, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                       "Today")
            return
        p.setFont(bold if in_month else font)
        p.setPen(text if in_month else muted)
        p.drawText(number, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)

    def _paint_chips(self, p: QPainter, rect: QRect, events: list[CalendarEvent],
                     font: QFont, text: QColor, in_month: bool) -> None:
        if not events:
            return
        p.setFont(font)
        top = rect.top() + 6 + CHIP_HEIGHT
        room = max(0, (rect.bottom() - 4 - top) // (CHIP_HEIGHT + CHIP_GAP))
        shown = events if len(events) <= room else events[: max(0, room - 1)]
        for n, event in enumerate(shown):
            symbol, colour = kind_style(event.kind)
            chip = QRect(rect.left() + 4, top + n * (CHIP_HEIGHT + CHIP_GAP),
                         rect.width() - 8, CHIP_HEIGHT)
            tint = QColor(colour)
            tint.setAlpha(38 if in_month else 20)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(tint)
            p.drawRoundedRect(chip, 3, 3)
            p.setBrush(colour)
            p.drawRect(QRect(chip.left(), chip.top(), 3, chip.height()))
            p.setPen(colour)
            p.drawText(chip.adjusted(6, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, symbol)
            body = chip.adjusted(20, 0, -3, 0)
            p.setPen(text)
            p.drawText(body, Qt.AlignmentFlag.AlignVCenter,
                       p.fontMetrics().elidedText(chip_text(event), Qt.TextElideMode.ElideRight,
                                                  body.width()))
        hidden = len(events) - len(shown)
        if hidden:
            more = QRect(rect.left() + 8, top + len(shown) * (CHIP_HEIGHT + CHIP_GAP),
                         rect.width() - 12, CHIP_HEIGHT)
            p.setPen(self.palette().link().color())
            p.drawText(more, Qt.AlignmentFlag.AlignVCenter, f"+{hidden} more")

    # ------------------------------------------------------------ input
    def mousePressEvent(self, event: QMouseEvent) -> None:
        day = self.day_at(event.position().toPoint())
        if day is not None and event.button() == Qt.MouseButton.LeftButton:
            self.select(day)
        super().mousePressEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1, Qt.Key.Key_Up: -7,
                 Qt.Key.Key_Down: 7}
        if event.key() in steps:
            self.select((self.selected or self.today) + timedelta(days=steps[event.key()]))
            return
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.selected:
            self.day_clicked.emit(self.selected)
            return
        super().keyPressEvent(event)

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            day = self.day_at(event.pos())
            events = self.by_day.get(day, []) if day else []
            if events:
                lines = [f"{kind_style(e.kind)[0]} {e.title}" + (f" — {e.customer}"
                                                                  if e.customer else "")
                         for e in events[:12]]
                if len(events) > 12:
                    lines.append(f"… and {len(events) - 12} more: click the day")
                QToolTip.showText(event.globalPos(), "\n".join(lines), self)
            else:
                QToolTip.hideText()
            return True
        return super().event(event)
