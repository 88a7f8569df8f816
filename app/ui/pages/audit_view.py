"""The audit log viewer: who did what and when, filtered by entity, user, age and text.

Filtering happens in SQL (the log only grows), on the task runner; typing waits a moment
before asking, so each keystroke does not start a query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from app.services.audit_log import DEFAULT_LIMIT, audit_facets, list_audit
from app.ui.pages import activity_models as am
from app.ui.pages.widgets import EmptyOr, fit_columns, make_table, muted_label, row_layout
from app.ui.table import RowTableModel
from app.ui.tasks import TaskRunner

ANY = "Any"
PERIODS = {"Any time": None, "Today": timedelta(days=1), "Last 7 days": timedelta(days=7),
           "Last 30 days": timedelta(days=30), "Last 90 days": timedelta(days=90)}


class AuditView(QWidget):
    def __init__(self, workspace, runner: TaskRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.workspace, self.runner = workspace, runner
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 12, 0, 0)
        layout.setSpacing(10)
        self.entity = QComboBox()
        self.entity.addItem(ANY)
        self.user = QComboBox()
        self.user.addItem(ANY)
        self.since = QComboBox()
        self.since.addItems(list(PERIODS))
        self.text = QLineEdit()
        self.text.setPlaceholderText("Search actions, ids, values…")
        self.text.setClearButtonEnabled(True)
        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(300)
        self.debounce.timeout.connect(self.reload)
        self.text.textChanged.connect(lambda _t: self.debounce.start())
        for combo in (self.entity, self.user, self.since):
            combo.currentTextChanged.connect(lambda _t: self.reload())
        layout.addLayout(row_layout(QLabel("Entity"), self.entity, QLabel("User"), self.user,
                                    QLabel("When"), self.since, self.text, stretch_at=7))
        self.model = RowTableModel(am.AUDIT_COLUMNS)
        self.view = make_table(self.model, stretch=5)
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._show_entry())
        self.empty = EmptyOr(self.view, "Nothing recorded yet. Every mapping, approval, push "
                             "and settings change will be listed here.")
        self.detail = QPlainTextEdit()
        self.detail.setReadOnly(True)
        self.detail.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.detail.setPlaceholderText("Select an entry to see its before and after in full.")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.empty)
        split.addWidget(self.detail)
        split.setStretchFactor(0, 3)
        split.setStretchFactor(1, 1)
        split.setChildrenCollapsible(False)
        layout.addWidget(split, 1)
        self.count = muted_label()
        layout.addWidget(self.count)

    def refresh(self) -> None:
        """Reload the filter choices, then the entries."""
        ws = self.workspace
        self.runner.submit("audit: facets", lambda report, cancel: audit_facets(ws),
                           on_done=self._facets)

    def _facets(self, facets) -> None:  # noqa: ANN001
        for combo, values in ((self.entity, facets.entities), (self.user, facets.users)):
            current = combo.currentText()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(ANY)
            combo.addItems(list(values))
            combo.setCurrentText(current if current in values else ANY)
            combo.blockSignals(False)
        self.reload()

    def filters(self) -> dict:
        age = PERIODS[self.since.currentText()]
        return {"entity": None if self.entity.currentText() == ANY else self.entity.currentText(),
                "user": None if self.user.currentText() == ANY else self.user.currentText(),
                "since": datetime.now(UTC) - age if age else None,
                "text": self.text.text().strip() or None}

    def reload(self) -> None:
        ws, filters = self.workspace, self.filters()
        self.runner.submit("audit: load", lambda report, cancel: list_audit(ws, **filters),
                           on_done=self._loaded)

    def _loaded(self, rows) -> None:  # noqa: ANN001
        self.model.set_rows(rows)
        filtered = any(v for v in self.filters().values())
        self.empty.set_empty(not rows, "No entry matches these filters." if filtered else None)
        fit_columns(self.view)
        more = " (the newest; narrow the filters to see older ones)" \
            if len(rows) >= DEFAULT_LIMIT else ""
        self.count.setText(f"{len(rows):,} entries{more}")
        self._show_entry()

    def _show_entry(self) -> None:
        rows = self.view.selectionModel().selectedRows()
        self.detail.setPlainText(am.audit_detail(self.model.row_at(rows[0].row()))
                                 if rows else "")
