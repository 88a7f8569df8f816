"""Filling a template: typed cell values per row, sort order, invoice numbers, progress.

The engine turns source rows into one tuple of typed values per output row (Decimal, int,
date, str or None) and leaves the look to the writers: a date stays a date here, and only
the CSV writer turns it into DD/MM/YYYY text.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.exports.fields import FieldType, fields_for
from app.exports.template import (
    DEFAULT_FORMATS,
    Template,
    TemplateError,
    date_pattern_problem,
    excel_date_format,
    resolve,
)

Report = Callable[[int, int, str], None]
PROGRESS_EVERY = 1_000


class ExportCancelled(Exception):
    """The person cancelled; nothing was left behind."""


@dataclass(frozen=True)
class ExportContext:
    """What the workspace decides for every template: settings, dates, invoice numbers."""

    settings: dict[str, str]
    invoice_date: date
    due_date: date
    invoice_numbers: dict[str, str] = field(default_factory=dict)  # group key → number


@dataclass(frozen=True)
class PreparedColumn:
    index: int  # 1-based
    letter: str
    header: str
    kind: str  # field | constant | formula | blank
    field: str | None = None
    type: FieldType = FieldType.TEXT
    constant: str | None = None
    date_pattern: str | None = None  # for dates: the text pattern (CSV)
    number_format: str | None = None  # for .xlsx cells
    width: float | None = None


class Ticker:
    """Progress and cancellation every PROGRESS_EVERY rows (a cancellation point)."""

    def __init__(self, total: int, report: Report | None, cancel: threading.Event | None,
                 message: str) -> None:
        self.total, self.report, self.cancel, self.message = total, report, cancel, message

    def __call__(self, done: int, force: bool = False) -> None:
        if done % PROGRESS_EVERY and not force:
            return
        if self.cancel is not None and self.cancel.is_set():
            raise ExportCancelled("export cancelled")
        if self.report is not None:
            self.report(done, self.total, self.message)


def prepare(template: Template, context: ExportContext) -> list[PreparedColumn]:
    """Resolve placeholders and formats once per column; errors name the column."""
    known = fields_for(template.source)
    out = []
    for col in sorted(template.columns, key=lambda c: c.index):
        where = f"template {template.name!r}, {col.label()}"
        if col.letter in template.formulas:
            out.append(PreparedColumn(col.index, col.letter, col.header, "formula",
                                      width=col.width))
        elif col.field:
            spec = known[col.field]
            fmt = resolve(col.format, context.settings, where) if col.format else None
            fmt = fmt or DEFAULT_FORMATS.get(spec.type)
            pattern = None
            if spec.type is FieldType.DATE:
                if problem := date_pattern_problem(fmt):
                    raise TemplateError(f"{where}: {problem}")
                pattern, fmt = fmt, excel_date_format(fmt)
            out.append(PreparedColumn(col.index, col.letter, col.header, "field", col.field,
                                      spec.type, date_pattern=pattern, number_format=fmt,
                                      width=col.width))
        elif col.constant is not None:
            out.append(PreparedColumn(col.index, col.letter, col.header, "constant",
                                      constant=resolve(col.constant, context.settings, where),
                                      width=col.width))
        else:
            out.append(PreparedColumn(col.index, col.letter, col.header, "blank",
                                      width=col.width))
    return out


def group_key(row: Any, group: str) -> str:
    """One invoice per value of the group field and currency (an invoice has one currency)."""
    return f"{getattr(row, group)}|{getattr(row, 'currency', '')}"


def sort_rows(rows: list[Any], sort: tuple[str, ...]) -> list[Any]:
    """Stable multi-key sort; blanks first; "-field" descending."""
    def sort_key(value: Any) -> tuple[int, Any]:
        if value is None:
            return (0, 0)
        return (1, value.casefold()) if isinstance(value, str) else (1, value)

    out = list(rows)
    for key in reversed(sort):
        name = key.lstrip("-")
        out.sort(key=lambda r, n=name: sort_key(getattr(r, n)), reverse=key.startswith("-"))
    return out


def groups_in_order(rows: Iterable[Any], group: str) -> list[str]:
    return list(dict.fromkeys(group_key(r, group) for r in rows))


@dataclass(frozen=True)
class Numbering:
    numbers: dict[str, str]  # group key → invoice number, for this export
    allocated: dict[str, str]  # the new ones, to remember for the period
    next_number: int


def number_invoices(keys: list[str], existing: dict[str, str], next_number: int, prefix: str,
                    width: int) -> Numbering:
    """Reuse a customer's number for the period if it has one; give new ones in sequence.

    Re-exporting a period therefore gives the same numbers, and a new customer the next one.
    """
    numbers, allocated = {}, {}
    for key in keys:
        if key in existing:
            numbers[key] = existing[key]
        else:
            numbers[key] = allocated[key] = f"{prefix}{next_number:0{width}d}"
            next_number += 1
    return Numbering(numbers, allocated, next_number)


def row_values(row: Any, columns: list[PreparedColumn], context: ExportContext,
               group: str | None) -> list[Any]:
    """The typed value of every column for one row (formula and blank columns are None)."""
    values: list[Any] = []
    for col in columns:
        if col.kind == "field":
            name = col.field
            if name == "invoice_number":
                values.append(context.invoice_numbers.get(group_key(row, group)) if group
                              else None)
            elif name == "invoice_date":
                values.append(context.invoice_date)
            elif name == "due_date":
                values.append(context.due_date)
            else:
                values.append(getattr(row, name))
        elif col.kind == "constant":
            values.append(col.constant)
        else:
            values.append(None)
    return values


def table_rows(rows: Iterable[Any], columns: list[PreparedColumn], context: ExportContext,
               group: str | None) -> Iterator[list[Any]]:
    for row in rows:
        yield row_values(row, columns, context, group)
