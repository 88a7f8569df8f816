"""The list-backed table model: real-value sorting, Python filtering, qtmodeltester-clean."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from PySide6.QtCore import Qt

from app.ui.formatting import money, quantity
from app.ui.table import RIGHT, SORT_ROLE, Column, RowTableModel


@dataclass(frozen=True)
class Item:
    name: str
    amount: Decimal
    when: date | None


COLUMNS = [
    Column("Name", lambda r: r.name),
    Column("Amount", lambda r: money(r.amount, "USD"), lambda r: r.amount, RIGHT),
    Column("Date", lambda r: r.when.isoformat() if r.when else "", lambda r: r.when),
]
ROWS = [Item("b", Decimal("100.00"), date(2026, 3, 1)), Item("a", Decimal("9.50"), None),
        Item("c", Decimal("-20"), date(2026, 1, 5))]


def test_model_passes_qtmodeltester(qtmodeltester):
    model = RowTableModel(COLUMNS, ROWS)
    qtmodeltester.check(model)


def test_sorts_money_as_numbers_and_dates_as_dates():
    model = RowTableModel(COLUMNS, ROWS)
    model.sort(1, Qt.SortOrder.AscendingOrder)
    assert [r.name for r in model.rows] == ["c", "a", "b"]  # as text "USD 9.50" > "USD 100"
    model.sort(2, Qt.SortOrder.AscendingOrder)
    assert [r.name for r in model.rows] == ["c", "b", "a"]  # no date sorts last
    assert model.data(model.index(0, 1), SORT_ROLE) == Decimal("-20")


def test_filter_keeps_sort_and_resets():
    model = RowTableModel(COLUMNS, ROWS)
    model.sort(1, Qt.SortOrder.DescendingOrder)
    model.set_filter(lambda r: r.amount > 0)
    assert [r.name for r in model.rows] == ["b", "a"]
    model.set_filter(None)
    assert model.rowCount() == 3


def test_formatting():
    assert money(Decimal("1234.5"), "USD") == "USD 1,234.50"
    assert money(Decimal("-0.01"), "EUR") == "EUR -0.01"
    assert money(Decimal("1.2345"), "USD") == "USD 1.2345"
    assert money(Decimal("1000"), "JPY") == "JPY 1,000"
    assert quantity(Decimal("12.000")) == "12" and quantity(None) == "—"
