"""Rows of an XLSX sheet, streamed with openpyxl's read-only mode (bounded memory).

Cells keep their workbook types: a number cell is a number and a date cell a datetime, so
the profile's text formats (decimal comma, dd/mm/yyyy) apply only to cells typed as text.
Numbers are handed on as text of at most 15 significant digits — what Excel itself stores
and shows — and become Decimal from that text, never through float arithmetic.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.sync.file_import.problems import FileProblem


class NumberCell(str):
    """A number cell's value as plain decimal text ("12.5"), whatever the profile's
    decimal separator: the workbook typed it, so no locale applies."""


Cell = str | date | datetime


def excel_number(value: float | int) -> NumberCell:
    if isinstance(value, int):
        return NumberCell(value)
    return NumberCell(format(value, ".15g"))


class XlsxRecords:
    """Iterate `(sheet_row, cells)` from `header_row` on; `position` counts rows read."""

    def __init__(self, path: Path, sheet: str | None, header_row: int = 1) -> None:
        self.path = path
        self.sheet = sheet
        self.header_row = header_row
        self.position = 0
        self.total = 0

    def __iter__(self) -> Iterator[tuple[int, list[Cell]]]:
        from openpyxl import load_workbook  # only when a workbook is imported

        name = self.path.name
        try:
            book = load_workbook(self.path, read_only=True, data_only=True)
        except Exception as exc:  # zip, XML and format errors all mean "not readable"
            raise FileProblem(name, f"cannot open the workbook: {exc}") from None
        try:
            if self.sheet is None:
                sheet = book.active
            elif self.sheet in book.sheetnames:
                sheet = book[self.sheet]
            else:
                raise FileProblem(name, f"no sheet named {self.sheet!r} (sheets: "
                                  f"{', '.join(book.sheetnames)})")
            if sheet is None:
                raise FileProblem(name, "the workbook has no sheet")
            self.total = max((sheet.max_row or 0) - self.header_row + 1, 0)
            number = self.header_row
            for values in sheet.iter_rows(min_row=self.header_row, values_only=True):
                self.position += 1
                yield number, [_cell(v) for v in values]
                number += 1
        finally:
            book.close()


def _cell(value: Any) -> Cell:
    if value is None:
        return ""
    if isinstance(value, str | datetime | date):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return excel_number(value)
    return str(value)
