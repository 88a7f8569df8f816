"""Small building blocks the pages share, so every screen has the same spacing and tone.

Status colours come from the Okabe–Ito palette (distinguishable with the common colour
vision deficiencies) and always travel with a symbol and a word, never colour alone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.ui.tasks import TaskHandle

PAGE_MARGINS = (20, 16, 20, 16)  # the same as the other screens' (app.ui.theme)
SPACING = 12

# tone → (symbol, colour on a light background, colour on a dark one): Okabe–Ito hues,
# darkened or lightened so text stays readable; a status is shown as f"{symbol} {word}".
TONES = {"ok": ("✓", "#007a5a", "#3fcf9f"), "error": ("✕", "#b3261e", "#ff8a80"),
         "warning": ("⚠", "#8a5a00", "#f2b33d"), "info": ("•", "#005fa8", "#6cb8f5"),
         "unknown": ("?", "#a3487d", "#f08fc6"), "muted": ("–", "#5f6876", "#9aa3b0"),
         "busy": ("↻", "#005fa8", "#6cb8f5")}


def is_dark() -> bool:
    return QGuiApplication.palette().color(QPalette.ColorRole.Window).lightness() < 128


def tone_text(tone: str, word: str) -> str:
    return f"{TONES[tone][0]} {word}"


def tone_color(tone: str) -> QColor:
    _symbol, light, dark = TONES[tone]
    return QColor(dark if is_dark() else light)


def muted_hex() -> str:
    """The secondary text colour, for rich text (labels use the palette or the theme)."""
    return tone_color("muted").name()


def page_layout(widget: QWidget) -> QVBoxLayout:
    layout = QVBoxLayout(widget)
    layout.setContentsMargins(*PAGE_MARGINS)
    layout.setSpacing(SPACING)
    return layout


def row_layout(*widgets: QWidget | None, stretch_at: int | None = None) -> QHBoxLayout:
    """A row of controls 8 px apart; None adds a stretch at that point."""
    row = QHBoxLayout()
    row.setSpacing(8)
    for i, w in enumerate(widgets):
        if w is None:
            row.addStretch(1)
        else:
            row.addWidget(w, 1 if i == stretch_at else 0)
    return row


def title_label(text: str, subtitle: str | None = None) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 4)
    layout.setSpacing(2)
    title = QLabel(text)
    title.setObjectName("pageTitle")
    font = title.font()
    font.setPointSize(font.pointSize() + 7)
    font.setBold(True)
    title.setFont(font)
    layout.addWidget(title)
    if subtitle:
        layout.addWidget(muted_label(subtitle))
    return box


def section_label(text: str) -> QLabel:
    label = QLabel(text)
    label.setObjectName("sectionTitle")
    font = label.font()
    font.setBold(True)
    font.setPointSize(font.pointSize() + 1)
    label.setFont(font)
    return label


def muted_label(text: str = "", wrap: bool = True) -> QLabel:
    label = QLabel(text)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setObjectName("muted")  # the theme's rule, when a theme is applied
    label.setWordWrap(wrap)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, tone_color("muted"))
    label.setPalette(palette)
    return label


def primary_button(text: str) -> QPushButton:
    button = QPushButton(text)
    button.setObjectName("primary")
    button.setDefault(False)
    font = button.font()
    font.setBold(True)
    button.setFont(font)
    return button


def make_table(model: QAbstractItemModel, *, stretch: int | None = None,
               sortable: bool = True) -> QTableView:
    """A read-only table with row selection; `stretch` is the column that takes spare width."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setShowGrid(False)
    view.verticalHeader().setVisible(False)
    view.verticalHeader().setDefaultSectionSize(view.fontMetrics().height() + 12)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    if sortable:
        # Not setSortingEnabled: it sorts at once by column 0, losing the service's order
        # (the queue's "customers first"); a click on a header sorts, nothing before.
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        header.setSortIndicatorShown(True)
        header.setSectionsClickable(True)
        header.sortIndicatorChanged.connect(
            lambda column, order: model.sort(column, order) if column >= 0 else None)
    header.setStretchLastSection(stretch is None)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return view


def fit_columns(view: QTableView, widths: dict[int, int] | None = None) -> None:
    """Size columns to their contents once data is in, then apply fixed widths given."""
    model = view.model()
    header = view.horizontalHeader()
    for col in range(model.columnCount()):
        if header.sectionResizeMode(col) != QHeaderView.ResizeMode.Stretch:
            view.resizeColumnToContents(col)
            header.resizeSection(col, min(header.sectionSize(col) + 16, 420))
    for col, width in (widths or {}).items():
        header.resizeSection(col, width)


class EmptyOr(QStackedWidget):
    """Shows `content` when it has something to show, else a message saying what to do."""

    def __init__(self, content: QWidget, message: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.content = content
        self.message = QLabel(message)
        self.message.setWordWrap(True)
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setObjectName("muted")
        self.message.setStyleSheet(f"color: {muted_hex()}; padding: 32px;")
        font = self.message.font()
        font.setPointSize(font.pointSize() + 1)
        self.message.setFont(font)
        self.addWidget(content)
        self.addWidget(self.message)

    def set_empty(self, empty: bool, message: str | None = None) -> None:
        if message is not None:
            self.message.setText(message)
        self.setCurrentWidget(self.message if empty else self.content)

    @property
    def is_empty(self) -> bool:
        return self.currentWidget() is self.message


class TableTab(QWidget):
    """One table with its empty state and a row of buttons under it (a tab's whole body)."""

    def __init__(self, model: Any, empty: str, buttons: list[QPushButton],
                 stretch: int | None = None) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(8)
        self.model = model
        self.view = make_table(model, stretch=stretch)
        self.empty = EmptyOr(self.view, empty)
        layout.addWidget(self.empty, 1)
        if buttons:
            layout.addLayout(row_layout(*buttons, None))

    def selected(self) -> Any:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None


class TaskBar(QWidget):
    """A progress bar, its message and a Cancel button for one background task at a time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.bar.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.message = muted_label(wrap=False)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        layout.addWidget(self.bar, 2)
        layout.addWidget(self.message, 3)
        layout.addWidget(self.cancel_button)
        self.handle: TaskHandle | None = None
        self.hide()

    def start(self, message: str) -> None:
        self.bar.setRange(0, 0)
        self.message.setText(message)
        self.cancel_button.setEnabled(True)
        self.cancel_button.setText("Cancel")
        self.show()

    def attach(self, handle: TaskHandle) -> None:
        self.handle = handle

    def progress(self, done: int, total: int, message: str) -> None:
        if total > 0:
            self.bar.setRange(0, total)
            self.bar.setValue(min(done, total))
        else:
            self.bar.setRange(0, 0)
        if message:
            self.message.setText(message)

    def cancel(self) -> None:
        if self.handle is not None:
            self.handle.cancel()
            self.cancel_button.setEnabled(False)
            self.cancel_button.setText("Cancelling…")

    def finish(self) -> None:
        self.handle = None
        self.hide()


def show_error(parent: QWidget, title: str, message: str, details: str = "") -> None:
    box = QMessageBox(QMessageBox.Icon.Warning, title, message, parent=parent)
    if details:
        box.setDetailedText(details)
    box.open()


def bold(font: QFont) -> QFont:
    font = QFont(font)
    font.setBold(True)
    return font


def first_line(text: str | None, limit: int = 140) -> str:
    line = (text or "").strip().splitlines()[0] if (text or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def call_safely(parent: QWidget, title: str, fn: Callable[[], Any],
                errors: tuple[type[BaseException], ...] = (ValueError, LookupError)) -> Any:
    """Run a short write; a refusal from the service becomes a message, not a crash."""
    try:
        return fn()
    except errors as exc:
        show_error(parent, title, str(exc))
        return None
