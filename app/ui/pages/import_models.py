"""Table models of the import dialog: the parsed preview with per-cell errors, and rejects.

A bad cell is marked three ways — a ✕, a red tint and its reason as the tooltip — so the
person sees at a glance which column of which row the profile cannot read, and why.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor

from app.services.imports import ImportPreview, PreviewCell, PreviewRow, Reject
from app.ui.pages.widgets import tone_color
from app.ui.table import RIGHT, Column

BAD_CELL = QColor(213, 94, 0, 46)  # vermillion, light
_INDEX = QModelIndex | QPersistentModelIndex
FIELD_TITLES = {"customer_id": "Customer id", "customer_name": "Customer",
                "customer_domain": "Domain", "subscription_id": "Subscription",
                "sku": "SKU", "product_name": "Product", "quantity": "Quantity",
                "unit_cost": "Unit cost", "total": "Total", "currency": "Currency",
                "charge_start": "From", "charge_end": "To", "term": "Term",
                "billing_frequency": "Billing", "invoice_number": "Invoice"}
NUMERIC = {"quantity", "unit_cost", "total"}


def field_title(name: str) -> str:
    return FIELD_TITLES.get(name, name.replace("_", " ").capitalize())


def cell_text(cell: PreviewCell) -> str:
    if cell.error:
        return f"✕ {cell.raw}" if cell.raw else "✕ (empty)"
    value = cell.value
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


class PreviewModel(QAbstractTableModel):
    """The first rows of a file as a profile reads them: one column per profile field, plus
    a last column for problems that belong to the row rather than to one field."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.fields: tuple[str, ...] = ()
        self.rows: tuple[PreviewRow, ...] = ()
        self._cells: list[dict[str, PreviewCell]] = []
        self._row_errors: list[str] = []

    def set_preview(self, preview: ImportPreview | None) -> None:
        self.beginResetModel()
        self.fields = preview.fields if preview else ()
        self.rows = preview.rows if preview else ()
        self._cells = [{c.field: c for c in r.cells if c.field} for r in self.rows]
        self._row_errors = ["; ".join(f"{c.column + ': ' if c.column else ''}{c.error}"
                                      for c in r.cells if not c.field and c.error)
                            for r in self.rows]
        self.endResetModel()

    @property
    def bad_cells(self) -> int:
        return sum(1 for r in self.rows for c in r.cells if c.error)

    def rowCount(self, parent: _INDEX = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _INDEX = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.fields) + 2

    def _cell(self, index: _INDEX) -> PreviewCell | None:
        column = index.column() - 1
        if 0 <= column < len(self.fields):
            return self._cells[index.row()].get(self.fields[column])
        return None

    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row, column = index.row(), index.column()
        if column == 0:
            if role == Qt.ItemDataRole.DisplayRole:
                return str(self.rows[row].row)
            if role == Qt.ItemDataRole.TextAlignmentRole:
                return RIGHT
            return None
        if column == len(self.fields) + 1:
            text = self._row_errors[row]
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                return text
            if role == Qt.ItemDataRole.ForegroundRole and text:
                return tone_color("error")
            return None
        cell = self._cell(index)
        if cell is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return cell_text(cell)
        if role == Qt.ItemDataRole.ToolTipRole:
            source = f"column “{cell.column}”" if cell.column else "constant"
            return f"{cell.error} ({source})" if cell.error else f"from {source}: {cell.raw}"
        if role == Qt.ItemDataRole.BackgroundRole and cell.error:
            return BAD_CELL
        if role == Qt.ItemDataRole.ForegroundRole and cell.error:
            return tone_color("error")
        if role == Qt.ItemDataRole.TextAlignmentRole and cell.field in NUMERIC:
            return RIGHT
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        if section == 0:
            return "Row"
        if section == len(self.fields) + 1:
            return "Row problems"
        if 0 < section <= len(self.fields):
            return field_title(self.fields[section - 1])
        return None


REJECT_COLUMNS: list[Column[Reject]] = [
    Column("Row", lambda r: "" if r.row is None else f"{r.row:,}", lambda r: r.row, RIGHT),
    Column("Column", lambda r: r.column or "—"),
    Column("Why it was rejected", lambda r: r.reason, tooltip=lambda r: r.reason),
]
