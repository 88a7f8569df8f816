"""Row-level helpers shared by the recon and usage readers: the header, the width check and
per-cell parsing that records a Reject instead of raising, so one pass names every bad cell.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TypeVar

from app.sync.file_import.header import locate
from app.sync.file_import.problems import FileProblem, Reject

T = TypeVar("T")
ID_LENGTH = 100  # ChargeLine / VendorSubscription external id columns
EMPTY_REQUIRED = "required value is empty"


class Header:
    """Column positions by field; a field the file lacks points at an always-empty cell."""

    def __init__(self, records: Iterator[tuple[int, list[str]]], file_name: str,
                 wanted: Mapping[str, Sequence[str]], required: Sequence[str]) -> None:
        try:
            self.row, names = next(records)
        except StopIteration:
            raise FileProblem(file_name, "the file has no header line") from None
        self.width = len(names)
        self.index = locate(names, wanted, required, file_name, self.row)
        # Rejects name the column as the file spells it, so the user can find it.
        self.names = {field: names[i].strip().lstrip("\ufeff") for field, i in
                      self.index.items()}
        for field, aliases in wanted.items():
            self.names.setdefault(field, aliases[0])

    def __getitem__(self, field: str) -> int:
        return self.index.get(field, self.width)  # the padding cell appended to each row

    def has(self, field: str) -> bool:
        return field in self.index


def fit(cells: list[str], width: int, row: int) -> list[str] | tuple[Reject, ...] | None:
    """The row padded with one empty cell; None for a blank line; rejects for a bad width.

    Trailing empty fields (a trailing comma) are tolerated; missing or extra values are not,
    because the values would land in the wrong columns.
    """
    count = len(cells)
    if count != width:
        if not any(cells):
            return None
        if count > width and not "".join(cells[width:]).strip():
            del cells[width:]
        else:
            return (Reject(row, None, f"{count} fields where the header has {width}"),)
    elif not any(cells):
        return None
    cells.append("")
    return cells


def value(parse: Callable[[str], T], text: str, row: int, column: str,
          errors: list[Reject], required: bool = False) -> T | None:
    """Parse one cell; a failure (or an empty required cell) becomes a Reject."""
    if not text or text.isspace():
        if required:
            errors.append(Reject(row, column, EMPTY_REQUIRED))
        return None
    try:
        return parse(text)
    except ValueError as exc:
        errors.append(Reject(row, column, str(exc)))
        return None


def identifier(text: str, row: int, column: str, errors: list[Reject],
               required: bool = True) -> str | None:
    cleaned = text.strip()
    if not cleaned:
        if required:
            errors.append(Reject(row, column, EMPTY_REQUIRED))
        return None
    if len(cleaned) > ID_LENGTH:
        errors.append(Reject(row, column, f"longer than {ID_LENGTH} characters"))
        return None
    return cleaned


def text(cell: str) -> str | None:
    cleaned = cell.strip()
    return cleaned or None
