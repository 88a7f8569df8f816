"""The findings table: one row per finding, optional per-customer subtotal rows, and the
money at stake of whatever the filter shows, per currency.

The rows are a Python list sorted and filtered in Python and reset (PERFORMANCE.md: a proxy
model needs seconds at 100,000 rows); `data()` stays a few dictionary lookups because one
paint calls it thousands of times.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from app.services.findings import FindingRow
from app.ui import theme
from app.ui.formatting import money, quantity
from app.ui.review.labels import (
    SHORT_KIND_LABELS,
    action_text,
    kind_label,
    proposed_effective,
    vendor_name,
)
from app.ui.table import LEFT, RIGHT, ROW_ROLE, SORT_ROLE, Column, RowTableModel

GROUP_ROLE = Qt.ItemDataRole.UserRole + 3
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_ENABLED = Qt.ItemFlag.ItemIsEnabled
_SELECTABLE = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_INDEX = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class CustomerGroup:
    """A subtotal row: one customer's findings under the current filter."""

    customer: str
    count: int
    totals: tuple[tuple[str, Decimal], ...]  # per currency, never added across currencies


@dataclass(frozen=True)
class Totals:
    """Money at stake of the shown findings, per currency: under- and over-billed apart."""

    count: int
    under: tuple[tuple[str, Decimal], ...]
    over: tuple[tuple[str, Decimal], ...]


def _effective_text(row: FindingRow) -> str:
    day = proposed_effective(row)
    return day.isoformat() if day else ""


def _muted(row: FindingRow) -> Any:
    return None if row.effective_date is not None else QBrush(QColor(theme.colors()["muted"]))


STATUS, KIND, CUSTOMER, PRODUCT, VENDOR_QTY, PSA_QTY, UNIT_PRICE, AMOUNT, ACTION, EFFECTIVE, \
    NOTE = range(11)

COLUMNS: list[Column[FindingRow]] = [
    Column("Status", lambda r: theme.STATUS[r.status].label if r.status in theme.STATUS
           else r.status, lambda r: r.status, width=96),
    Column("Kind", lambda r: SHORT_KIND_LABELS.get(r.kind) or kind_label(r.kind),
           tooltip=lambda r: kind_label(r.kind), width=104),
    Column("Customer", lambda r: r.customer_name, lambda r: r.customer_name.casefold(),
           tooltip=lambda r: f"{r.customer_name}\nVendor: {vendor_name(r.vendor)} · "
                             f"{r.vendor_customer_name or '—'}", width=150),
    Column("Product", lambda r: r.product_name or r.sku or "",
           tooltip=lambda r: f"{r.product_name}\nSKU {r.sku or '—'}", width=170),
    Column("Vendor qty", lambda r: quantity(r.vendor_quantity), lambda r: r.vendor_quantity,
           RIGHT, width=78),
    Column("PSA qty", lambda r: quantity(r.psa_quantity), lambda r: r.psa_quantity, RIGHT,
           width=64),
    Column("Unit price", lambda r: money(r.unit_price, r.currency), lambda r: r.unit_price,
           RIGHT, width=92),
    Column("Amount", lambda r: money(r.amount, r.currency, signed=True),
           lambda r: r.amount, RIGHT,
           tooltip=lambda r: ("Under-billed: the customer owes this" if r.amount > 0 else
                              "Over-billed: the customer is owed this" if r.amount < 0
                              else "No money at stake"), width=108),
    Column("Action", action_text, tooltip=action_text, width=190),
    Column("Effective", _effective_text, proposed_effective, LEFT,
           tooltip=lambda r: "Set by the reviewer" if r.effective_date else
           "Proposed by the billing policy", foreground=_muted, width=88),
    Column("Note", lambda r: r.note or "", tooltip=lambda r: r.note or "", width=160),
]


def currency_totals(rows: Iterable[FindingRow]) -> Totals:
    under: dict[str, Decimal] = {}
    over: dict[str, Decimal] = {}
    count = 0
    for r in rows:
        count += 1
        if r.amount > 0:
            under[r.currency] = under.get(r.currency, Decimal(0)) + r.amount
        elif r.amount < 0:
            over[r.currency] = over.get(r.currency, Decimal(0)) + r.amount
    return Totals(count, tuple(sorted(under.items())), tuple(sorted(over.items())))


def _group(rows: list[FindingRow], descending_customers: bool) -> list[Any]:
    """Stable grouping by customer (rows keep the chosen sort inside each group)."""
    groups: dict[str, list[FindingRow]] = {}
    for r in rows:
        groups.setdefault(r.customer_name, []).append(r)
    out: list[Any] = []
    for customer in sorted(groups, key=str.casefold, reverse=descending_customers):
        members = groups[customer]
        sums: dict[str, Decimal] = {}
        for r in members:
            sums[r.currency] = sums.get(r.currency, Decimal(0)) + r.amount
        out.append(CustomerGroup(customer or "(no customer)", len(members),
                                 tuple(sorted(sums.items()))))
        out.extend(members)
    return out


class FindingsModel(RowTableModel[Any]):
    """RowTableModel over findings, plus subtotal rows, icons and totals.

    Sorting compares raw values (Decimal, date, str) through per-column keys computed once per
    load (wrapping every value in a tuple costs four times the sort itself), and the sorted
    order of all rows is kept per column and direction: a filter change is then one pass over
    that order, never a new sort. Totals change only with the rows or the filter.
    """

    def __init__(self, rows: Sequence[FindingRow] = (), parent: Any = None) -> None:
        super().__init__(COLUMNS, (), parent)
        self.grouped = False
        self.group_rows: list[int] = []
        self._totals: Totals | None = None
        self._positions: dict[int, int] | None = None
        self._keys: dict[int, list[Any]] = {}
        self._orders: dict[tuple[int, bool], list[int]] = {}  # sorted positions of all rows
        self._passing: list[bool] | None = None  # per position, for the current filter
        self._all_totals: Totals | None = None
        self._bold = QFont()
        self._bold.setBold(True)
        self.set_rows(rows)

    # ---------------------------------------------------------------- rows
    def set_rows(self, rows: Sequence[FindingRow], passing: list[bool] | None = None) -> None:
        """New rows, and optionally which of them pass the filter on screen (one reset)."""
        self.all_rows = list(rows)
        self._forget(filter_too=True)
        self._passing = passing
        self._all_totals = None
        self._apply()

    @property
    def totals(self) -> Totals:
        return self._totals or currency_totals(())

    def _forget(self, *, filter_too: bool) -> None:
        self._keys.clear()
        self._orders.clear()
        if filter_too:
            self._passing = None
            self._totals = None

    def set_filter(self, predicate: Callable[[FindingRow], bool] | None) -> None:
        """A per-row test (RowTableModel's interface); `set_mask` is the fast path."""
        self._filter = predicate
        self._passing = None if predicate is None else [predicate(r) for r in self.all_rows]
        self._totals = None
        self._apply()

    def set_mask(self, passing: list[bool] | None) -> None:
        """Which positions of `all_rows` pass the filter (None: all of them)."""
        self._filter = None
        self._passing = passing
        self._totals = None
        self._apply()

    def set_grouped(self, grouped: bool) -> None:
        if grouped != self.grouped:
            self.grouped = grouped
            self._apply()

    def _column_keys(self, column: int) -> list[Any]:
        keys = self._keys.get(column)
        if keys is None:
            col = self.columns[column]
            keys = self._keys[column] = list(map(col.sort_value or col.display, self.all_rows))
        return keys

    def _sorted_positions(self, column: int, descending: bool) -> list[int]:
        order = self._orders.get((column, descending))
        if order is None:
            keys = self._column_keys(column)
            order = [n for n, k in enumerate(keys) if k is not None]
            order.sort(key=keys.__getitem__, reverse=descending)  # stable, also reversed
            if len(order) < len(keys):  # no value sorts last either way
                order += [n for n, k in enumerate(keys) if k is None]
            self._orders[(column, descending)] = order
        return order

    def _apply(self) -> None:
        self.beginResetModel()
        rows = self.all_rows
        descending = False
        if self._sort is not None:
            column, direction = self._sort
            descending = direction == Qt.SortOrder.DescendingOrder
            order: Sequence[int] = self._sorted_positions(column, descending)
        else:
            order = range(len(rows))
        passing = self._passing
        shown = [rows[n] for n in order] if passing is None else \
            [rows[n] for n in order if passing[n]]
        if self._totals is None:
            if passing is None:
                if self._all_totals is None:
                    self._all_totals = currency_totals(rows)
                self._totals = self._all_totals
            else:
                self._totals = currency_totals(shown)
        by_customer_desc = descending and self._sort is not None and self._sort[0] == CUSTOMER
        self.rows = _group(shown, by_customer_desc) if self.grouped else shown
        self.group_rows = [n for n, r in enumerate(self.rows) if isinstance(r, CustomerGroup)] \
            if self.grouped else []
        self._positions = None
        self.endResetModel()

    def findings(self) -> list[FindingRow]:
        """The shown findings, in order, without subtotal rows."""
        return [r for r in self.rows if isinstance(r, FindingRow)]

    def finding_at(self, row: int) -> FindingRow | None:
        item = self.rows[row] if 0 <= row < len(self.rows) else None
        return item if isinstance(item, FindingRow) else None

    def row_of(self, finding_id: int) -> int | None:
        if self._positions is None:
            self._positions = {r.id: n for n, r in enumerate(self.rows)
                               if isinstance(r, FindingRow)}
        return self._positions.get(finding_id)

    def update_findings(self, changed: Iterable[FindingRow]) -> None:
        """Swap in fresh copies of decided findings where they stand, without a reset: the
        selection and scroll position survive, and a row stays until the filter changes."""
        fresh = {r.id: r for r in changed}
        if not fresh:
            return
        self.all_rows = [fresh.get(r.id, r) for r in self.all_rows]
        self._forget(filter_too=False)  # a status, date or note may sort differently now
        touched = []
        for n, r in enumerate(self.rows):
            if isinstance(r, FindingRow) and r.id in fresh:
                self.rows[n] = fresh[r.id]
                touched.append(n)
        for n in touched:
            self.dataChanged.emit(self.index(n, 0), self.index(n, self.columnCount() - 1))

    # ---------------------------------------------------------------- Qt overrides
    def data(self, index: _INDEX, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        if isinstance(row, CustomerGroup):
            return self._group_data(row, index.column(), role)
        if role == Qt.ItemDataRole.DecorationRole and index.column() == STATUS:
            return theme.status_icon(row.status)
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == STATUS:
            look = theme.STATUS.get(row.status)
            return QBrush(look.color()) if look else None
        return super().data(index, role)

    def _group_data(self, group: CustomerGroup, column: int, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if column == STATUS:  # the view spans this cell over the first columns
                return f"{group.customer}  ·  {group.count:,} finding" \
                       f"{'s' if group.count != 1 else ''}"
            if column == AMOUNT:
                return " · ".join(money(v, c, signed=True) for c, v in group.totals)
            return None
        if role == Qt.ItemDataRole.FontRole:
            return self._bold
        if role == Qt.ItemDataRole.BackgroundRole:
            return QBrush(QColor(theme.colors()["tint"]))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.columns[column].align
        if role == GROUP_ROLE:
            return group
        if role in (SORT_ROLE, ROW_ROLE):
            return group
        return None

    def flags(self, index: _INDEX) -> Qt.ItemFlag:
        if not index.isValid():
            return _NO_FLAGS
        if isinstance(self.rows[index.row()], CustomerGroup):
            return _ENABLED  # a subtotal cannot be selected or decided
        return _SELECTABLE
