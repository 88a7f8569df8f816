"""A smart template: output columns bound to fields, constants or formulas, plus options.

The same model describes a built-in (declared in builtins.py) and a user's workbook (read
from its hidden `_trueup` sheet by template_file.py), so both are validated by one function
that names the column and the problem, before any file is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from openpyxl.utils.cell import column_index_from_string, get_column_letter

from app.exports.fields import CONTEXT_FIELDS, SOURCES, FieldType, fields_for
from app.exports.safety import MAX_COLUMNS, check_sheet_name

OUTPUTS = ("csv", "xlsx")
# Workspace settings a constant or a format may name as {placeholder}; the service fills them.
PLACEHOLDERS = ("xero_date_format", "xero_account_code", "xero_tax_type", "qbo_terms")
DEFAULT_FORMATS = {
    FieldType.MONEY: "#,##0.00##",  # cents always, up to 4 places for unit prices
    FieldType.DATE: "YYYY-MM-DD",
}
_DATE_PATTERN = re.compile(r"(DD|MM|YYYY)([/.\- ])(DD|MM|YYYY)\2(DD|MM|YYYY)")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,39}")


class TemplateError(ValueError):
    """A template that cannot be used; the message names the column and the problem."""


@dataclass(frozen=True)
class Column:
    """One output column. Exactly one of field / constant, or neither for a formula column
    (a user workbook's sample row holds the formula) or a column left blank."""

    letter: str
    header: str
    field: str | None = None
    constant: str | None = None
    format: str | None = None  # date pattern (DD/MM/YYYY) or Excel number format
    width: float | None = None

    @property
    def index(self) -> int:
        return column_index_from_string(self.letter)

    def label(self) -> str:
        return f"column {self.letter} ({self.header})" if self.header else f"column {self.letter}"


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    source: str  # findings | adjustments | invoice_lines
    columns: tuple[Column, ...]
    outputs: tuple[str, ...] = ("xlsx",)
    sort: tuple[str, ...] = ()  # field names; "-field" sorts descending
    group: str | None = None  # rows with the same value (and currency) share an invoice number
    sheet: str = "Sheet1"
    header_row: int = 1
    csv_delimiter: str = ","
    csv_bom: bool = False
    max_invoices: int | None = None  # the target's limit per file; bigger exports are split
    builtin: bool = False
    special: str | None = None  # "review": written by review_workbook, not by the engine
    path: Path | None = None  # a user template's registered workbook
    formulas: dict[str, str] = field(default_factory=dict, compare=False)  # letter → formula
    notes: str = ""

    @property
    def data_row(self) -> int:
        return self.header_row + 1

    def column(self, letter: str) -> Column:
        return next(c for c in self.columns if c.letter == letter)


def placeholders_in(text: str) -> list[str]:
    return _PLACEHOLDER.findall(text)


def resolve(text: str, settings: dict[str, str], where: str) -> str:
    """Replace {placeholder}s with workspace settings; an unknown one names the column."""
    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in settings:
            raise TemplateError(f"{where}: {{{name}}} is not a setting a template can use; "
                                f"one of {', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
        return str(settings[name])
    return _PLACEHOLDER.sub(sub, text)


def date_pattern_problem(pattern: str) -> str | None:
    match = _DATE_PATTERN.fullmatch(pattern)
    if match is None or sorted({match.group(1), match.group(3), match.group(4)}) != \
            ["DD", "MM", "YYYY"]:
        return (f"date format {pattern!r} is not one of DD/MM/YYYY, MM/DD/YYYY, YYYY-MM-DD "
                "(any of / - . or space between the parts)")
    return None


def strftime_for(pattern: str) -> str:
    """DD/MM/YYYY → %d/%m/%Y, for dates written as text in CSV."""
    return pattern.replace("DD", "%d").replace("MM", "%m").replace("YYYY", "%Y")


def excel_date_format(pattern: str) -> str:
    """DD/MM/YYYY → dd/mm/yyyy, the number format of a real date cell."""
    return pattern.lower()


def format_date(value: date, pattern: str) -> str:
    return value.strftime(strftime_for(pattern))


def _column_problems(template: Template, column: Column, known: dict) -> list[str]:
    where = column.label()
    problems: list[str] = []
    if column.field and column.constant is not None:
        problems.append(f"{where}: give a field or a constant, not both")
    if column.field and column.field not in known:
        problems.append(f"{where}: unknown field {column.field!r}; fields of {template.source}: "
                        f"{', '.join(sorted(known))}")
    for text in (column.constant or "", column.format or ""):
        problems += [f"{where}: {{{p}}} is not a setting a template can use; one of "
                     f"{', '.join(PLACEHOLDERS)}" for p in placeholders_in(text)
                     if p not in PLACEHOLDERS]
    spec = known.get(column.field or "")
    if spec and column.format and not placeholders_in(column.format):
        if spec.type is FieldType.DATE:
            problem = date_pattern_problem(column.format)
            if problem:
                problems.append(f"{where}: {problem}")
        elif spec.type is FieldType.TEXT:
            problems.append(f"{where}: field {column.field!r} is text; a format applies to "
                            "dates and numbers only")
    if column.letter in template.formulas:
        if column.field or column.constant is not None:
            problems.append(f"{where}: the sample row holds a formula but the column is also "
                            "bound; keep one")
        if "csv" in template.outputs:
            problems.append(f"{where}: formula columns need xlsx output, not csv")
    return problems


def validate(template: Template) -> Template:
    """Return the template if it can be filled; else raise TemplateError listing every
    problem, each naming its column."""
    problems: list[str] = []
    if not _NAME.fullmatch(template.name or ""):
        problems.append(f"template name {template.name!r}: use 1-40 letters, digits, . _ -")
    if template.source not in SOURCES:
        problems.append(f"source {template.source!r} is not one of {', '.join(SOURCES)}")
        raise TemplateError(_joined(template, problems))
    known = fields_for(template.source)
    bad_outputs = [o for o in template.outputs if o not in OUTPUTS]
    if not template.outputs or bad_outputs:
        problems.append(f"output must be csv and/or xlsx, not {', '.join(bad_outputs) or '—'}")
    if problem := check_sheet_name(template.sheet):
        problems.append(problem)
    if template.header_row < 1:
        problems.append("header_row must be 1 or more")
    if len(template.csv_delimiter) != 1 or template.csv_delimiter in "\r\n\"":
        problems.append(f"csv_delimiter {template.csv_delimiter!r} must be one character "
                        "other than a quote or a line break")
    seen: set[str] = set()
    for column in template.columns:
        try:
            index = column.index
        except ValueError:
            problems.append(f"column {column.letter!r}: not a column letter")
            continue
        if index > MAX_COLUMNS:
            problems.append(f"{column.label()}: beyond Excel's last column XFD")
        if column.letter in seen:
            problems.append(f"{column.label()}: declared twice")
        seen.add(column.letter)
        problems += _column_problems(template, column, known)
    if not template.columns:
        problems.append("no columns are declared")
    computed = {f.name for f in CONTEXT_FIELDS}
    for key in template.sort:
        name = key.lstrip("-")
        if name not in known:
            problems.append(f"sort: unknown field {name!r}")
        elif name in computed:
            problems.append(f"sort: {name!r} is computed after sorting; sort by the fields "
                            "it comes from (e.g. customer)")
        elif template.source == "findings" and not known[name].sql_sortable:
            problems.append(f"sort: findings cannot be sorted by {name!r}")
    if template.group and (template.group not in known or template.group in computed):
        problems.append(f"group: {template.group!r} is not a field of {template.source} to "
                        "group by")
    uses_number = any(c.field == "invoice_number" for c in template.columns)
    if uses_number and not template.group:
        problems.append("a column uses invoice_number but no group field says what one "
                        "invoice is (e.g. group = customer_id)")
    if problems:
        raise TemplateError(_joined(template, problems))
    return template


def _joined(template: Template, problems: list[str]) -> str:
    lines = "\n  ".join(problems)
    return f"template {template.name!r} cannot be used:\n  {lines}"


def letters(count: int) -> list[str]:
    return [get_column_letter(n) for n in range(1, count + 1)]
