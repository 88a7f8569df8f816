"""Writing rows of typed values: CSV text, and streamed .xlsx (openpyxl write-only mode).

Numbers stay numbers (Decimal cells, never text), dates become real date cells with the
column's number format, and text is always a text cell: a value that a spreadsheet would
run (=, +, -, @, tab, CR) gets a quote prefix in .xlsx and an apostrophe in CSV.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from app.domain.money import format_decimal
from app.exports.engine import PreparedColumn, Ticker
from app.exports.fields import FieldType
from app.exports.safety import csv_text, is_dangerous, xlsx_text
from app.exports.template import format_date

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE4EE")
MAX_WARNINGS = 20


class CellMaker:
    """Cells for one write-only sheet, with one reusable styled cell per column.

    openpyxl serialises each appended cell at once, so a column's styled cell can be reused
    on the next row; creating and styling a fresh cell per value is what makes naive exports
    slow. Only texts that need a quote prefix get a cell of their own.
    """

    def __init__(self, ws: WriteOnlyWorksheet) -> None:
        self.ws = ws
        self._protos: dict[int, WriteOnlyCell] = {}
        self.warnings: list[str] = []
        self.warning_count = 0

    def styled(self, column: int, value: Any, *, number_format: str | None = None,
               font: Font | None = None, fill: PatternFill | None = None,
               alignment: Alignment | None = None) -> WriteOnlyCell:
        cell = self._protos.get(column)
        if cell is None:
            cell = self._protos[column] = WriteOnlyCell(self.ws)
            if number_format:
                cell.number_format = number_format
            if font:
                cell.font = font
            if fill:
                cell.fill = fill
            if alignment:
                cell.alignment = alignment
        if isinstance(value, str):
            value = self.clean(value, column)
        cell.value = value
        if isinstance(value, str):
            cell.data_type = "s"
        return cell

    def single(self, value: Any, *, number_format: str | None = None, font: Font | None = None,
               alignment: Alignment | None = None) -> WriteOnlyCell:
        """A one-off styled cell (titles, labels), not reused."""
        cell = WriteOnlyCell(self.ws, self.clean(value, 1) if isinstance(value, str) else value)
        if isinstance(value, str):
            cell.data_type = "s"
        if number_format:
            cell.number_format = number_format
        if font:
            cell.font = font
        if alignment:
            cell.alignment = alignment
        return cell

    def text(self, value: str | None, column: int, row: int) -> Any:
        """A plain text value, or a quote-prefixed text cell when it looks like a formula."""
        if value is None:
            return None
        value = self.clean(value, column, row)
        if not is_dangerous(value):
            return value
        cell = WriteOnlyCell(self.ws, value)
        cell.data_type = "s"  # never a formula, whatever it starts with
        cell.quotePrefix = True  # and Excel keeps it text when someone edits the cell
        return cell

    def clean(self, value: str, column: int, row: int | None = None) -> str:
        text, problem = xlsx_text(value)
        if problem:
            self.warning_count += 1
            if len(self.warnings) < MAX_WARNINGS:
                where = f"{get_column_letter(column)}{row}" if row else get_column_letter(column)
                self.warnings.append(f"{self.ws.title}!{where}: {problem}")
        return text


@contextmanager
def streaming_workbook() -> Iterator[Workbook]:
    """A write-only workbook whose half-written sheets are closed if writing fails or is
    cancelled, so their temporary files are released at once, not by the garbage collector."""
    wb = Workbook(write_only=True)
    try:
        yield wb
    except BaseException:
        for sheet in wb.worksheets:
            with suppress(Exception):
                sheet.close()
        raise


def xlsx_value(maker: CellMaker, col: PreparedColumn, value: Any, row: int) -> Any:
    """The cell (or plain value) for one typed value of one column."""
    if value is None:
        return None
    if isinstance(value, str):
        return maker.text(value, col.index, row)
    if isinstance(value, date) or col.type is FieldType.MONEY or col.number_format:
        return maker.styled(col.index, value, number_format=col.number_format)
    return value  # int or Decimal in the General format


def header_cells(maker: CellMaker, headers: list[str]) -> list[Any]:
    out = []
    for n, text in enumerate(headers, 1):
        cell = WriteOnlyCell(maker.ws, maker.clean(text, n, 1))
        cell.data_type = "s"
        cell.font, cell.fill = HEADER_FONT, HEADER_FILL
        out.append(cell)
    return out


def fit_widths(columns: list[PreparedColumn], rows: list[list[Any]],
               sample: int = 5_000) -> dict[int, float]:
    """Column widths that fit the header and the longest of the first `sample` values."""
    widths = {c.index: max(len(c.header) + 2, 8) for c in columns}
    for values in rows[:sample]:
        for col, value in zip(columns, values, strict=True):
            if value is None:
                continue
            if isinstance(value, date):
                size = 11
            elif isinstance(value, Decimal):
                size = len(format_decimal(value)) + 3
            else:
                size = len(str(value))
            widths[col.index] = max(widths[col.index], min(size + 2, 60))
    return {k: float(v) for k, v in widths.items()}


def write_xlsx_table(path: Path, sheet: str, columns: list[PreparedColumn],
                     rows: Iterable[list[Any]], ticker: Ticker,
                     widths: dict[int, float] | None = None) -> tuple[int, list[str], int]:
    """A one-sheet workbook: header, frozen and filtered, then the rows, streamed.

    Returns (rows written, warnings, warning count).
    """
    with streaming_workbook() as wb:
        ws = wb.create_sheet(sheet)
        maker = CellMaker(ws)
        last = max(c.index for c in columns)
        for index, width in (widths or {}).items():
            ws.column_dimensions[get_column_letter(index)].width = width
        ws.freeze_panes = "A2"
        headers = [""] * last
        for c in columns:
            headers[c.index - 1] = c.header
        ws.append(header_cells(maker, headers))
        count = 0
        for count, values in enumerate(rows, 1):
            line: list[Any] = [None] * last
            for col, value in zip(columns, values, strict=True):
                line[col.index - 1] = xlsx_value(maker, col, value, count + 1)
            ws.append(line)
            ticker(count)
        ws.auto_filter.ref = f"A1:{get_column_letter(last)}{count + 1}"
        wb.save(path)
    return count, maker.warnings, maker.warning_count


def csv_value(col: PreparedColumn, value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_text(value)
    if isinstance(value, date):
        return format_date(value, col.date_pattern or "YYYY-MM-DD")
    if isinstance(value, Decimal):
        return format_decimal(value)
    return str(value)


def write_csv(path: Path, columns: list[PreparedColumn], rows: Iterable[list[Any]],
              ticker: Ticker, *, delimiter: str = ",", bom: bool = False) -> int:
    """UTF-8 CSV (with a byte-order mark when the target wants one), CRLF line ends."""
    last = max(c.index for c in columns)
    count = 0
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter, lineterminator="\r\n")
        headers = [""] * last
        for c in columns:
            headers[c.index - 1] = c.header
        writer.writerow(headers)
        for count, values in enumerate(rows, 1):
            line = [""] * last
            for col, value in zip(columns, values, strict=True):
                line[col.index - 1] = csv_value(col, value)
            writer.writerow(line)
            ticker(count)
    return count
