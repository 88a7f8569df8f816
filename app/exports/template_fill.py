"""Filling a person's own workbook: their styles, sheets, header rows and formulas survive.

The workbook is opened in openpyxl's normal mode (write-only cannot keep an existing file's
sheets and styles); user templates hold invoice lines, a few thousand rows, not the 100,000
findings the review workbook streams.
"""

from __future__ import annotations

from copy import copy
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.formula.translate import Translator
from openpyxl.utils.cell import get_column_letter, range_boundaries

from app.exports.engine import PreparedColumn, Ticker
from app.exports.safety import check_row_count, is_dangerous, xlsx_text
from app.exports.template import Template
from app.exports.template_file import META_SHEET
from app.exports.writers import MAX_WARNINGS


def fill_template_workbook(template: Template, columns: list[PreparedColumn],
                           rows: list[list[Any]], out: Path,
                           ticker: Ticker) -> tuple[int, list[str], int]:
    """Write `rows` into the template's sheet from its sample row down; save as `out`."""
    if template.path is None:
        raise ValueError(f"template {template.name!r} has no workbook to fill")
    check_row_count(len(rows), template.header_row, template.sheet)
    wb = load_workbook(template.path)
    ws = wb[template.sheet]
    sample = template.data_row
    width = max(ws.max_column, max(c.index for c in columns))
    styles = {n: copy(ws.cell(sample, n)._style) for n in range(1, width + 1)
              if ws.cell(sample, n).has_style}
    general = {n for n in styles if ws.cell(sample, n).number_format == "General"}
    height = ws.row_dimensions[sample].height
    for n in range(1, width + 1):
        ws.cell(sample, n).value = None
    warnings: list[str] = []
    warning_count = 0
    for offset, values in enumerate(rows):
        r = sample + offset
        for n, style in styles.items():
            ws.cell(r, n)._style = copy(style)
        if height is not None:
            ws.row_dimensions[r].height = height
        for col, value in zip(columns, values, strict=True):
            cell = ws.cell(r, col.index)
            if col.kind == "formula":
                origin = f"{col.letter}{sample}"
                cell.value = Translator(template.formulas[col.letter], origin) \
                    .translate_formula(f"{col.letter}{r}")
                continue
            if value is None:
                continue
            if isinstance(value, str):
                value, problem = xlsx_text(value)
                if problem:
                    warning_count += 1
                    if len(warnings) < MAX_WARNINGS:
                        warnings.append(f"{ws.title}!{cell.coordinate}: {problem}")
                cell.value = value
                cell.data_type = "s"  # text stays text, whatever it starts with
                if is_dangerous(value):
                    cell.quotePrefix = True
                continue
            cell.value = value
            if col.number_format and (col.index not in styles or col.index in general):
                cell.number_format = col.number_format  # the person's own format wins
        ticker(offset + 1)
    last = sample + max(len(rows), 1) - 1
    _extend_ranges(ws, template.header_row, sample, last)
    if META_SHEET in wb.sheetnames:
        if wb.active is not None and wb.active.title == META_SHEET:
            wb.active = wb.sheetnames.index(template.sheet)
        del wb[META_SHEET]
    wb.save(out)
    return len(rows), warnings, warning_count


def _extend_ranges(ws: Any, header_row: int, sample: int, last: int) -> None:
    """Tables and the autofilter that ended at the sample row grow to the last filled row."""
    for table in ws.tables.values():
        min_col, min_row, max_col, max_row = range_boundaries(table.ref)
        if min_row == header_row and max_row in (header_row, sample):
            table.ref = f"{get_column_letter(min_col)}{min_row}:{get_column_letter(max_col)}" \
                        f"{last}"
            if table.autoFilter is not None:
                table.autoFilter.ref = table.ref
    if ws.auto_filter.ref:
        min_col, min_row, max_col, max_row = range_boundaries(ws.auto_filter.ref)
        if min_row == header_row and max_row in (header_row, sample):
            ws.auto_filter.ref = f"{get_column_letter(min_col)}{min_row}:" \
                                 f"{get_column_letter(max_col)}{last}"
