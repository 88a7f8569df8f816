"""The findings table view: set up for reading many rows, and keeping the reviewer's place.

Sorting, filtering and reloading reset the model (the fast path at 100,000 rows), which
would drop the selection; the view remembers the selected findings by id and selects them
again, as contiguous ranges, so a bulk selection of thousands costs a few ranges.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QItemSelection, QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.services.findings import FindingRow
from app.ui import theme
from app.ui.review.grid_model import PRODUCT, FindingsModel

MAX_SPANS = 20_000  # subtotal rows spanning the first columns, up to this many customers


class FindingsView(QTableView):
    selection_changed = Signal()  # after a click, a key, or a reset that kept the selection

    def __init__(self, model: FindingsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findingsGrid")
        self.findings_model = model
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setIconSize(theme.ICON_SIZE)
        vertical = self.verticalHeader()
        vertical.hide()
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vertical.setDefaultSectionSize(self.fontMetrics().height() + 12)
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setHighlightSections(False)
        header.setStretchLastSection(True)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self._keep: tuple[list[int], int | None] = ([], None)
        self.selectionModel().selectionChanged.connect(lambda *_a: self.selection_changed.emit())
        model.modelAboutToBeReset.connect(self._remember)
        model.modelReset.connect(self._restore)

    # ---------------------------------------------------------------- reading
    def selected_findings(self) -> list[FindingRow]:
        """In the order shown; subtotal rows are never part of a selection."""
        model = self.findings_model
        rows: list[int] = []
        for rng in self.selectionModel().selection():
            rows.extend(range(rng.top(), rng.bottom() + 1))
        found = (model.finding_at(n) for n in sorted(rows))
        return [r for r in found if r is not None]

    def current_finding(self) -> FindingRow | None:
        index = self.currentIndex()
        return self.findings_model.finding_at(index.row()) if index.isValid() else None

    # ---------------------------------------------------------------- choosing
    def select_finding(self, finding_id: int) -> bool:
        row = self.findings_model.row_of(finding_id)
        if row is None:
            return False
        self.select_rows([row], row)
        return True

    def select_rows(self, rows: list[int], current: int | None) -> None:
        model = self.findings_model
        selection = QItemSelection()
        last = model.columnCount() - 1
        start = prev = None
        for n in [*sorted(rows), None]:  # contiguous runs become one range each
            if n is not None and prev is not None and n == prev + 1:
                prev = n
                continue
            if start is not None:
                selection.select(model.index(start, 0), model.index(prev, last))
            start = prev = n
        flags = QItemSelectionModel.SelectionFlag
        self.selectionModel().select(selection, flags.ClearAndSelect)
        if current is not None:
            self.selectionModel().setCurrentIndex(model.index(current, 0), flags.NoUpdate)
            self.scrollTo(model.index(current, 0))

    def move(self, step: int) -> None:
        """Next/previous finding, skipping subtotal rows (J/K, like Down/Up)."""
        model = self.findings_model
        count = model.rowCount()
        if not count:
            return
        index = self.currentIndex()
        if not index.isValid():
            n = 0 if step > 0 else count - 1
        elif not self.selectionModel().hasSelection():
            n = index.row()  # the focus frame sits on a row nobody chose yet: choose it
        else:
            n = index.row() + step
        while 0 <= n < count and model.finding_at(n) is None:
            n += step
        if 0 <= n < count:
            self.select_rows([n], n)

    # ---------------------------------------------------------------- across resets
    def _remember(self) -> None:
        current = self.current_finding()
        self._keep = ([r.id for r in self.selected_findings()], current.id if current else None)

    def _restore(self, *_args: Any) -> None:
        model = self.findings_model
        self.clearSpans()
        if len(model.group_rows) <= MAX_SPANS:
            for n in model.group_rows:
                self.setSpan(n, 0, 1, PRODUCT + 1)
        ids, current = self._keep
        rows = [n for n in map(model.row_of, ids) if n is not None]
        if rows:
            self.select_rows(rows, model.row_of(current) if current is not None else None)
        self.selection_changed.emit()

    def forget_selection(self) -> None:
        """A different period: nothing of the old selection applies."""
        self._keep = ([], None)
