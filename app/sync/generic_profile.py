"""A saved column mapping for any vendor's CSV or XLSX file (ImportProfile.settings).

A profile says which source column feeds which charge-line field, which constants fill the
gaps (a default currency), and how the file writes numbers and dates. Dates and numbers are
parsed with the profile's own patterns, never by guessing per row: 03/04/2024 is one date
or the other for the whole file.
"""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.sync.file_import.values import (
    currency_parser,
    date_parser,
    number_parser,
    parse_billing_frequency,
    parse_term,
)

# field → kind of value; the order is the order the preview shows them in.
FIELDS: dict[str, str] = {
    "customer_id": "text", "customer_name": "text", "customer_domain": "text",
    "subscription_id": "text", "sku": "text", "product_name": "text",
    "quantity": "number", "unit_cost": "number", "total": "number", "currency": "currency",
    "charge_start": "date", "charge_end": "date", "term": "term",
    "billing_frequency": "frequency", "invoice_number": "text",
}
REQUIRED = ("customer_id", "quantity", "currency")
ONE_OF = ("sku", "product_name")  # a line needs at least one of these
THOUSANDS = ("", ",", ".", " ", "'", "\u00a0")


@dataclass(frozen=True)
class ProfileSettings:
    columns: Mapping[str, str]  # field → source column header
    constants: Mapping[str, str] = field(default_factory=dict)  # field → value if no cell
    date_formats: tuple[str, ...] = ("%Y-%m-%d",)
    decimal_comma: bool = False
    thousands: str = ""
    delimiter: str = ","
    encoding: str = "auto"  # or a Python codec name (utf-8, cp1252, utf-16...)
    header_row: int = 1  # the line (CSV record) or sheet row holding the column names
    sheet: str | None = None  # XLSX: the sheet's name; None = the active sheet

    def source(self, name: str) -> str | None:
        return self.columns.get(name)

    def problems(self) -> list[str]:
        """Everything wrong with the settings, as sentences; empty when usable."""
        found: list[str] = []
        for name in [*self.columns, *self.constants]:
            if name not in FIELDS:
                found.append(f"unknown field {name!r} (fields: {', '.join(FIELDS)})")
        for name in REQUIRED:
            if name not in self.columns and name not in self.constants:
                found.append(f"{name} needs a column or a constant")
        if not any(name in self.columns or name in self.constants for name in ONE_OF):
            found.append("map sku or product_name (or both)")
        for name, column in self.columns.items():
            if not column.strip():
                found.append(f"{name}: empty column name")
        if len(self.delimiter) != 1:
            found.append(f"the delimiter must be one character, not {self.delimiter!r}")
        if self.thousands not in THOUSANDS:
            found.append(f"unsupported thousands separator {self.thousands!r}")
        if self.thousands == ("," if self.decimal_comma else "."):
            found.append("the thousands separator cannot be the decimal separator")
        if self.header_row < 1:
            found.append("the header row is 1 or more")
        if self.encoding != "auto":
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                found.append(f"unknown encoding {self.encoding!r}")
        for pattern in self.date_formats:
            if "%" not in pattern:
                found.append(f"date format {pattern!r} has no % directive (e.g. %d/%m/%Y)")
                continue
            try:
                datetime(2024, 1, 31).strftime(pattern)
            except ValueError:
                found.append(f"invalid date format {pattern!r}")
        for name, constant in self.constants.items():
            if name in FIELDS:
                try:
                    self.parser(name)(constant)
                except ValueError as exc:
                    found.append(f"constant {name}: {exc}")
        return found

    def parser(self, name: str) -> Any:
        """The text parser for a field under these settings (text fields: strip only)."""
        kind = FIELDS[name]
        if kind == "number":  # → (Decimal, canonical text)
            return number_parser(decimal_comma=self.decimal_comma, thousands=self.thousands)
        if kind == "date":
            return date_parser(self.date_formats)
        if kind == "currency":
            return currency_parser()
        if kind == "term":
            return parse_term
        if kind == "frequency":
            return parse_billing_frequency
        return str.strip

    def as_json(self) -> dict[str, Any]:
        return {"columns": dict(self.columns), "constants": dict(self.constants),
                "date_formats": list(self.date_formats), "decimal_comma": self.decimal_comma,
                "thousands": self.thousands, "delimiter": self.delimiter,
                "encoding": self.encoding, "header_row": self.header_row, "sheet": self.sheet}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ProfileSettings:
        return cls(
            columns={str(k): str(v) for k, v in dict(data.get("columns") or {}).items()},
            constants={str(k): str(v) for k, v in dict(data.get("constants") or {}).items()},
            date_formats=tuple(data.get("date_formats") or ("%Y-%m-%d",)),
            decimal_comma=bool(data.get("decimal_comma", False)),
            thousands=str(data.get("thousands") or ""),
            delimiter=str(data.get("delimiter") or ","),
            encoding=str(data.get("encoding") or "auto"),
            header_row=int(data.get("header_row") or 1),
            sheet=data.get("sheet") or None,
        )
