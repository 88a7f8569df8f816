"""Rejected cells and file-level problems, reported by row and column, never dropped silently.

A reject names the 1-based line of the file where the record starts (the header is line 1;
a quoted field spanning lines counts from its first line), the column, and the reason.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

Progress = Callable[[int, int, str], None]

# At most this many rejects are listed in memory and in ImportFile.rejects; the count stays
# exact and a final entry says how many more there were.
MAX_LISTED_REJECTS = 10_000


@dataclass(frozen=True)
class Reject:
    """One bad cell (or row, when column is None) and why."""

    row: int | None
    column: str | None
    reason: str

    def as_json(self) -> dict[str, object]:
        return {"row": self.row, "column": self.column, "reason": self.reason}

    def describe(self, file_name: str) -> str:
        where = file_name if self.row is None else f"{file_name}:{self.row}"
        column = f"{self.column}: " if self.column else ""
        return f"{where}: {column}{self.reason}"


class FileProblem(Exception):
    """The file cannot be imported at all (unreadable, wrong encoding, missing column)."""

    def __init__(self, file_name: str, message: str, rejects: Sequence[Reject] = ()) -> None:
        super().__init__(f"{file_name}: {message}" if file_name else message)
        self.file_name = file_name
        self.rejects = tuple(rejects) or (Reject(None, None, message),)


class ImportCancelled(Exception):
    """The user cancelled; the caller's transaction rolls back, so nothing is written."""


def check_cancel(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise ImportCancelled("import cancelled; nothing was written")


class RejectLog:
    """Rejects in file order: the first MAX_LISTED_REJECTS kept, all of them counted."""

    def __init__(self, limit: int | None = None) -> None:
        self.limit = MAX_LISTED_REJECTS if limit is None else limit
        self.listed: list[Reject] = []
        self.count = 0  # rejected cells
        self.rows = 0  # rejected rows (a row with three bad cells counts once)

    def add_row(self, rejects: Sequence[Reject]) -> None:
        self.rows += 1
        self.count += len(rejects)
        room = self.limit - len(self.listed)
        if room > 0:
            self.listed.extend(rejects[:room])

    def entries(self) -> tuple[Reject, ...]:
        """The listed rejects, plus one entry saying how many were not listed."""
        if self.count > len(self.listed):
            more = self.count - len(self.listed)
            return (*self.listed, Reject(None, None, f"{more} more rejected cells not listed"))
        return tuple(self.listed)


class RowsRejected(Exception):
    """Some rows are bad and the user did not ask to import the good ones: nothing is written."""

    def __init__(self, file_name: str, log: RejectLog) -> None:
        rows = f"{log.rows} row{'s' if log.rows != 1 else ''}"
        super().__init__(f"{file_name}: {rows} rejected, nothing imported "
                         "(fix the file, or import the good rows only)")
        self.file_name = file_name
        self.log = log
