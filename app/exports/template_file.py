"""A template as an Excel workbook: the sheet to fill, plus a hidden `_trueup` sheet of bindings.

Why a sheet and not defined names: a person can unhide it in Excel or LibreOffice, read it,
and change a field or a constant in a cell, with the list of fields beside it; defined names
are invisible to most users and awkward to edit. The layout of `_trueup`:

    setting | value           name, title, source, sheet, header_row, output, sort, group,
    ...                       csv_delimiter, csv_bom, max_invoices (one per row)
    (blank row)
    column | header | field | constant | format      one row per bound column
    ...
    (blank row)               anything below is a reference (the fields) and is not read

The data sheet keeps the person's own header rows and styles. The row under the header is the
sample row: its styles are copied to every filled row, and a formula typed there (=H2*I2) is
copied down, its references moving with the row.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Font
from openpyxl.utils.cell import get_column_letter

from app.exports.fields import fields_for
from app.exports.template import PLACEHOLDERS, Column, Template, TemplateError, validate

META_SHEET = "_trueup"
_SETTINGS = ("name", "title", "source", "sheet", "header_row", "output", "sort", "group",
             "csv_delimiter", "csv_bom", "max_invoices")
_COLUMN_HEADER = ("column", "header", "field", "constant", "format")
_YES = {"yes", "true", "1", "y"}


def write_template_workbook(template: Template, path: Path) -> Path:
    """A workbook a person can edit in Excel and register back as their own template."""
    wb = Workbook()
    ws = wb.active
    ws.title = template.sheet
    bold = Font(bold=True)
    for col in template.columns:
        cell = ws.cell(template.header_row, col.index, col.header)
        cell.font = bold
        ws.column_dimensions[col.letter].width = max(len(col.header) + 4, 12)
    ws.freeze_panes = ws.cell(template.header_row + 1, 1).coordinate
    meta = wb.create_sheet(META_SHEET)
    meta.sheet_state = "hidden"
    values = {
        "name": f"{template.name}-copy", "title": template.title, "source": template.source,
        "sheet": template.sheet, "header_row": template.header_row,
        "output": ", ".join(template.outputs), "sort": ", ".join(template.sort),
        "group": template.group or "", "csv_delimiter": template.csv_delimiter,
        "csv_bom": "yes" if template.csv_bom else "no",
        "max_invoices": template.max_invoices or "",
    }
    meta.append(["setting", "value"])
    for key in _SETTINGS:
        meta.append([key, values[key]])
    meta.append([])
    meta.append(list(_COLUMN_HEADER))
    for col in template.columns:
        if col.field or col.constant is not None:
            meta.append([col.letter, col.header, col.field or "", col.constant or "",
                         col.format or ""])
    meta.append([])
    meta.append(["Notes: rows above are read; edit field, constant or format, add a row per "
                 "column you bind. A constant or format may name a workspace setting: "
                 + ", ".join("{" + p + "}" for p in PLACEHOLDERS) + ". Formats: DD/MM/YYYY, "
                 "MM/DD/YYYY or YYYY-MM-DD for dates, an Excel number format for numbers. Type "
                 f"a formula in row {template.header_row + 1} of the sheet to copy it down."])
    meta.append([f"Fields of {template.source}:"])
    for spec in fields_for(template.source).values():
        meta.append([spec.name, str(spec.type), spec.meaning])
    for row in (1, len(_SETTINGS) + 3):  # the two block headers
        for cell in meta[row]:
            cell.font = bold
    for letter, width in zip("ABCDE", (16, 24, 22, 22, 16), strict=True):
        meta.column_dimensions[letter].width = width
    wb.save(path)
    return path


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # Excel stores 500 typed in a cell as a number
    return str(value).strip()


def _blocks(meta: Any) -> tuple[dict[str, str], list[list[str]]]:
    settings: dict[str, str] = {}
    columns: list[list[str]] = []
    mode = None
    for raw in meta.iter_rows(values_only=True):
        cells = [_text(v) for v in raw[:5]] + [""] * (5 - len(raw[:5]))
        if not any(cells):
            if mode == "columns":
                break
            mode = None
            continue
        first = cells[0].lower()
        if mode is None and first == "setting":
            mode = "settings"
        elif mode is None and first == "column":
            mode = "columns"
        elif mode == "settings":
            if first not in _SETTINGS:
                raise TemplateError(f"_trueup sheet: unknown setting {cells[0]!r}; one of "
                                    f"{', '.join(_SETTINGS)}")
            settings[first] = cells[1]
        elif mode == "columns":
            columns.append(cells)
    if "source" not in settings:
        raise TemplateError("_trueup sheet: no 'setting | value' block with a source")
    if not columns:
        raise TemplateError("_trueup sheet: no 'column | header | field | constant | format' "
                            "block")
    return settings, columns


def _csv_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.replace(";", ",").split(",") if part.strip())


def read_template(path: Path, *, name: str | None = None) -> Template:
    """The template a workbook declares, validated against its own data sheet."""
    try:
        wb = load_workbook(path)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not .xlsx
        raise TemplateError(f"{path.name} is not an Excel workbook (.xlsx) openpyxl can read: "
                            f"{exc}") from exc
    if META_SHEET not in wb.sheetnames:
        raise TemplateError(f"{path.name} has no {META_SHEET} sheet saying which fields fill "
                            "which columns; start from `trueup templates copy NAME FILE`")
    settings, rows = _blocks(wb[META_SHEET])
    try:
        header_row = int(settings.get("header_row") or 1)
        max_invoices = int(settings["max_invoices"]) if settings.get("max_invoices") else None
    except ValueError as exc:
        raise TemplateError(f"_trueup sheet: header_row and max_invoices are numbers ({exc})") \
            from exc
    sheet = settings.get("sheet") or wb.sheetnames[0]
    columns = [Column(r[0].upper(), r[1], field=r[2] or None,
                      constant=r[3] if r[3] != "" else None, format=r[4] or None) for r in rows]
    template = Template(
        name=name or settings.get("name") or path.stem, title=settings.get("title") or path.stem,
        source=settings["source"], columns=tuple(columns),
        outputs=_csv_list(settings.get("output") or "xlsx"), sort=_csv_list(
            settings.get("sort", "")), group=settings.get("group") or None, sheet=sheet,
        header_row=header_row, csv_delimiter=settings.get("csv_delimiter") or ",",
        csv_bom=settings.get("csv_bom", "").lower() in _YES, max_invoices=max_invoices,
        path=path)
    validate(template)  # names, fields, formats, before looking at the sheet
    if sheet not in wb.sheetnames:
        raise TemplateError(f"template {template.name!r}: sheet {sheet!r} is not in the "
                            f"workbook (sheets: {', '.join(wb.sheetnames)})")
    return validate(_against_sheet(template, wb[sheet]))


def _against_sheet(template: Template, ws: Any) -> Template:
    """Check the bindings against the data sheet; find the formula columns and the blanks."""
    problems: list[str] = []
    bound = {c.letter: c for c in template.columns}
    sample = template.data_row
    formulas: dict[str, str] = {}
    last = max(ws.max_column, max(c.index for c in template.columns))
    columns = []
    for index in range(1, last + 1):
        letter = get_column_letter(index)
        on_sheet = _text(ws.cell(template.header_row, index).value)
        col = bound.get(letter)
        where = f"column {letter} ({on_sheet or (col.header if col else '')})"
        if col and col.header and on_sheet and col.header != on_sheet:
            problems.append(f"{where}: the sheet's header says {on_sheet!r} but the binding "
                            f"says {col.header!r}")
        cell = ws.cell(sample, index)
        value = cell.value
        if cell.data_type == "f" or (isinstance(value, str) and value.startswith("=")):
            if not isinstance(value, str):
                problems.append(f"{where}: array and data-table formulas are not supported")
            elif col and (col.field or col.constant is not None):
                problems.append(f"{where}: the sample row holds a formula but the column is "
                                "also bound to a field or constant; keep one")
            else:
                formulas[letter] = value
        elif value not in (None, ""):
            what = "bound to a field" if col and col.field else "not bound"
            problems.append(f"{where}: the sample row holds {value!r} but the column is {what}; "
                            "clear the cell, or put a constant in the _trueup sheet")
        if col is not None:
            columns.append(Column(letter, col.header or on_sheet, col.field, col.constant,
                                  col.format, col.width))
        elif on_sheet or letter in formulas:
            columns.append(Column(letter, on_sheet))
    for row in ws.iter_rows(min_row=sample + 1, max_row=max(ws.max_row, sample + 1)):
        filled = [c for c in row if c.value not in (None, "")]
        if filled:
            problems.append(f"row {filled[0].row} of sheet {ws.title!r} has values below the "
                            f"sample row (first at {filled[0].coordinate}); rows below the "
                            "sample row must be empty — put totals on another sheet")
            break
    if problems:
        raise TemplateError(f"template {template.name!r} cannot be used:\n  "
                            + "\n  ".join(problems))
    return replace(template, columns=tuple(columns), formulas=formulas)
