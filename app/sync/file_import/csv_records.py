"""CSV records with the line each starts on, read as a stream with byte-based progress.

`row` in every report is the physical line where a record starts (header = 1), because
that is where a user looking at the file in an editor finds it, even when a quoted field
carries newlines and the record spans several lines.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

from app.sync.file_import.problems import FileProblem

BUFFER = 1 << 20


class CsvRecords:
    """Iterate `(start_line, fields)`; `position` is how many bytes have been consumed."""

    def __init__(self, path: Path, encoding: str, delimiter: str = ",") -> None:
        self.path = path
        self.encoding = encoding
        self.delimiter = delimiter
        self._text: io.TextIOWrapper | None = None

    @property
    def position(self) -> int:
        text = self._text
        return text.buffer.tell() if text is not None and not text.closed else 0

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        name = self.path.name
        with self.path.open(encoding=self.encoding, newline="", buffering=BUFFER) as text:
            self._text = text
            reader = csv.reader(text, delimiter=self.delimiter)
            previous = 0
            try:
                for fields in reader:
                    start = previous + 1
                    previous = reader.line_num
                    yield start, fields
            except UnicodeDecodeError as exc:
                raise FileProblem(name, f"line {previous + 1}: cannot decode the text as "
                                  f"{self.encoding} ({exc.reason})") from None
            except csv.Error as exc:
                raise FileProblem(name, f"line {previous + 1}: not valid CSV ({exc})") from None
