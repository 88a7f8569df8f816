"""Any vendor's CSV or XLSX through a saved profile → the same ParsedLines as Partner Center,
with charge_type "generic", and a preview of the first rows with per-cell errors.

Every mapped column must exist in the header. A line without a subscription id gets one
derived from customer and SKU ("customer|sku"), so mapping has a subscription to work on.
Line identity: vendor, customer id, subscription id, SKU, product name, invoice number,
charge start and end, quantity, unit cost, total, currency, term and billing frequency
(dates ISO, numbers canonical).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from app.sync.file_import.csv_records import CsvRecords
from app.sync.file_import.encoding import FileScan
from app.sync.file_import.header import locate
from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import FileProblem, Reject
from app.sync.file_import.values import Number, line_key, number_parser
from app.sync.file_import.xlsx_records import NumberCell, XlsxRecords
from app.sync.generic_profile import FIELDS, ONE_OF, REQUIRED, ProfileSettings

KIND = "generic"
CHARGE_TYPE = "generic"
ID_LENGTH = 100
EMPTY = "required value is empty"


@dataclass
class GenericSource:
    kind: str
    records: CsvRecords | XlsxRecords
    lines: Iterator[ParsedLine | tuple[Reject, ...]]
    unit: str  # what position/total count: "bytes" or "rows"

    def position(self) -> int:
        return self.records.position

    def total(self, size: int) -> int:
        return self.records.total if isinstance(self.records, XlsxRecords) else size


def open_records(path: Path, scan: FileScan, settings: ProfileSettings,
                 ) -> tuple[CsvRecords | XlsxRecords, Iterator[tuple[int, list[Any]]]]:
    """The records from the header row on, whatever the file type."""
    if scan.is_workbook:
        records: CsvRecords | XlsxRecords = XlsxRecords(path, settings.sheet, settings.header_row)
        return records, iter(records)
    records = CsvRecords(path, scan.encoding or "utf-8", settings.delimiter)
    return records, _skip(records, settings.header_row - 1)


def _skip(records: CsvRecords, count: int) -> Iterator[tuple[int, list[Any]]]:
    stream = iter(records)
    try:
        yield from itertools.islice(stream, count, None)
    finally:
        stream.close()  # type: ignore[attr-defined]


class FieldReader:
    """Parses the mapped cells of one row into values and Rejects."""

    def __init__(self, settings: ProfileSettings, header: list[Any], file_name: str,
                 header_row: int, *, strict: bool = True) -> None:
        names = [str(cell) for cell in header]
        wanted = {name: (column,) for name, column in settings.columns.items()}
        index = locate(names, wanted, list(wanted) if strict else (), file_name, header_row)
        self.missing = [settings.columns[name] for name in wanted if name not in index]
        self.fields = [(name, index.get(name), settings.columns.get(name),
                        settings.parser(name), FIELDS[name]) for name in FIELDS
                       if name in settings.columns or name in settings.constants]
        self.constants = {name: settings.parser(name)(text)
                          for name, text in settings.constants.items()}
        self.plain_number = number_parser()

    def read(self, row: int, cells: list[Any]) -> tuple[dict[str, Any], list[Reject]]:
        values: dict[str, Any] = {}
        errors: list[Reject] = []
        for name, index, column, parse, kind in self.fields:
            cell = cells[index] if index is not None and index < len(cells) else ""
            label = column or name
            if index is None and column is not None:
                errors.append(Reject(row, label, "column is missing from the header"))
                continue
            if isinstance(cell, str) and (not cell or cell.isspace()):
                values[name] = self.constants.get(name)
                continue
            try:
                values[name] = self._parse(cell, parse, kind)
            except ValueError as exc:
                errors.append(Reject(row, label, str(exc)))
        for name in REQUIRED:
            if values.get(name) is None and not _failed(errors, self._label(name)):
                errors.append(Reject(row, self._label(name), EMPTY))
        if all(values.get(name) is None for name in ONE_OF) and not any(
                _failed(errors, self._label(name)) for name in ONE_OF):
            errors.append(Reject(row, self._label("sku") if "sku" in self._labels()
                                 else self._label("product_name"), EMPTY))
        start, end = values.get("charge_start"), values.get("charge_end")
        if start is not None and end is not None and end < start:
            errors.append(Reject(row, self._label("charge_end"),
                                 f"ends {end.isoformat()}, before the charge start "
                                 f"{start.isoformat()}"))
        for name in ("customer_id", "subscription_id", "sku", "invoice_number"):
            if values.get(name) and len(values[name]) > ID_LENGTH:
                errors.append(Reject(row, self._label(name), f"longer than {ID_LENGTH} "
                                     "characters"))
        return values, errors

    def _parse(self, cell: Any, parse: Any, kind: str) -> Any:
        if kind == "date":
            if isinstance(cell, datetime):
                return cell.date()
            if isinstance(cell, date):
                return cell
            if isinstance(cell, NumberCell):
                raise ValueError(f"not a date: {cell} (a number cell)")
            return parse(cell)
        if isinstance(cell, date | datetime):
            if kind == "number":
                raise ValueError(f"not a number: {cell.isoformat()} (a date cell)")
            cell = cell.date().isoformat() if isinstance(cell, datetime) else cell.isoformat()
        if kind == "number" and isinstance(cell, NumberCell):
            return self.plain_number(cell)
        return parse(cell)

    def _labels(self) -> dict[str, str]:
        return {name: column or name for name, _i, column, _p, _k in self.fields}

    def _label(self, name: str) -> str:
        return self._labels().get(name, name)


def _failed(errors: list[Reject], column: str) -> bool:
    return any(error.column == column for error in errors)


def read_generic(records: Iterator[tuple[int, list[Any]]], settings: ProfileSettings,
                 vendor: str, file_name: str) -> Iterator[ParsedLine | tuple[Reject, ...]]:
    try:
        header_row, header = next(records)
    except StopIteration:
        raise FileProblem(file_name, f"no header at row {settings.header_row}") from None
    reader = FieldReader(settings, header, file_name, header_row)
    for row, cells in records:
        if not any(isinstance(c, date) or (c and not str(c).isspace()) for c in cells):
            continue  # a blank line
        values, errors = reader.read(row, cells)
        if errors:
            yield tuple(errors)
            continue
        yield _line(row, values, vendor)


def _line(row: int, v: dict[str, Any], vendor: str) -> ParsedLine:
    customer = v["customer_id"]
    sku = v.get("sku") or v.get("product_name")
    product = v.get("product_name") or sku
    extra = f'{{"row":{row}}}'
    subscription = v.get("subscription_id")
    if not subscription:
        subscription = f"{customer}|{sku}"
        if len(subscription) > ID_LENGTH:
            subscription = "derived:" + hashlib.sha256(subscription.encode()).hexdigest()[:40]
        extra = f'{{"row":{row},"subscription_id":"derived"}}'
    quantity, unit_cost, total = v["quantity"], v.get("unit_cost"), v.get("total")
    start, end = v.get("charge_start"), v.get("charge_end")
    frequency = v.get("billing_frequency")
    key = line_key((
        "generic", vendor, customer, subscription, sku, product or "",
        v.get("invoice_number") or "", start.isoformat() if start else "",
        end.isoformat() if end else "", quantity.canonical,
        unit_cost.canonical if unit_cost else "", total.canonical if total else "",
        v["currency"], v.get("term") or "", frequency or "",
    ))
    is_usage = frequency == "Usage"
    return ParsedLine(
        key=key, customer_id=customer, customer_name=v.get("customer_name"),
        subscription_id=subscription, sku=sku, product_name=product, charge_type=CHARGE_TYPE,
        charge_start=start.isoformat() if start else None,
        charge_end=end.isoformat() if end else None, quantity_text=quantity.text,
        unit_price=unit_cost.text if unit_cost else None, exchange_rate=None, subtotal=None,
        total=total.text if total else None, currency=v["currency"],
        invoice_number=v.get("invoice_number"), term=v.get("term"),
        billing_frequency=frequency, order_date=None, is_usage=is_usage, extra=extra,
        row=row, customer_domain=v.get("customer_domain"), quantity=quantity.value,
        seats=not is_usage, cancels=False, subscription_start=None, subscription_end=None,
    )


def open_generic(path: Path, scan: FileScan, settings: ProfileSettings,
                 vendor: str) -> GenericSource:
    problems = settings.problems()
    if problems:
        raise FileProblem(path.name, "the profile is not usable: " + "; ".join(problems))
    records, stream = open_records(path, scan, settings)
    unit = "rows" if scan.is_workbook else "bytes"
    return GenericSource(KIND, records, read_generic(stream, settings, vendor, path.name), unit)


# --- preview ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewCell:
    field: str
    column: str | None  # the source column, None when the field is a constant
    raw: str  # the cell as the file has it
    value: Any  # Decimal, date or str once parsed; None when empty or bad
    error: str | None


@dataclass(frozen=True)
class PreviewRow:
    row: int
    cells: tuple[PreviewCell, ...]

    @property
    def ok(self) -> bool:
        return all(cell.error is None for cell in self.cells)


@dataclass(frozen=True)
class ImportPreview:
    """What the first rows of a file become under a profile, for the mapping dialog."""

    file: str
    columns: tuple[str, ...]  # the file's header
    fields: tuple[str, ...]  # the profile's fields, in display order
    rows: tuple[PreviewRow, ...]
    problems: tuple[str, ...]  # file- or profile-level: missing columns, bad settings


def preview(path: Path, scan: FileScan, settings: ProfileSettings, rows: int = 20,
            ) -> ImportPreview:
    """Parse the first `rows` data rows; every cell error is reported, nothing raises for
    bad data (a file that cannot be read at all still raises FileProblem)."""
    problems = settings.problems()
    records, stream = open_records(path, scan, settings)
    first = next(stream, None)
    if first is None:
        return ImportPreview(path.name, (), (), (), (*problems,
                                                    f"no header at row {settings.header_row}"))
    header_row, header = first
    columns = tuple(str(cell) for cell in header)
    if problems:
        return ImportPreview(path.name, columns, (), (), tuple(problems))
    reader = FieldReader(settings, header, path.name, header_row, strict=False)
    problems += [f"column {name!r} is not in the file's header" for name in reader.missing]
    fields = tuple(name for name, *_ in reader.fields)
    shown: list[PreviewRow] = []
    for row, cells in stream:
        if len(shown) >= rows:
            break
        if not any(isinstance(c, date) or (c and not str(c).isspace()) for c in cells):
            continue
        values, errors = reader.read(row, cells)
        by_column = {error.column: error.reason for error in errors}
        row_cells = []
        for name, index, column, _parse, _kind in reader.fields:
            raw = cells[index] if index is not None and index < len(cells) else ""
            raw_text = raw.isoformat() if isinstance(raw, date) else str(raw)
            value = values.get(name)
            if isinstance(value, Number):
                value = value.value
            error = by_column.get(column or name)
            row_cells.append(PreviewCell(name, column, raw_text, None if error else value,
                                         error))
        row_errors = [e for e in errors if e.column not in {c.column or c.field
                                                             for c in row_cells}]
        row_cells += [PreviewCell("", e.column, "", None, e.reason) for e in row_errors]
        shown.append(PreviewRow(row, tuple(row_cells)))
    stream.close()  # type: ignore[attr-defined]
    return ImportPreview(path.name, columns, fields, tuple(shown), tuple(problems))
