"""What a spreadsheet will do with our text, and the limits it imposes.

A customer name such as `=HYPERLINK("http://x","y")` must reach the file as text, never as a
formula (CSV/formula injection); Excel refuses cells over 32,767 characters, sheet names over
31 and more than 1,048,576 rows. Every rule here is applied in one place so the writers agree.
"""

from __future__ import annotations

import re

MAX_CELL_CHARS = 32_767
MAX_SHEET_NAME = 31
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
TRUNCATION_MARK = " …[cut: over 32,767 characters]"

# Control characters an .xlsx cannot hold at all (openpyxl raises on them); tab, LF, CR are fine.
_ILLEGAL_XML = re.compile(r"[\000-\010\013\014\016-\037]")
_SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")


class SpreadsheetLimitError(ValueError):
    """The data cannot fit the target format; the message says what and what to do instead."""


def is_dangerous(text: str) -> bool:
    """Whether a spreadsheet could read this text as a formula or a command."""
    return text.startswith(DANGEROUS_PREFIXES)


def csv_text(text: str) -> str:
    """Text for a CSV cell: a leading apostrophe defuses anything a spreadsheet would run.

    OWASP's advice for CSV injection; the apostrophe is visible in an importer, which is the
    price of a file that is also safe to open in Excel or LibreOffice.
    """
    return "'" + text if is_dangerous(text) else text


def xlsx_text(text: str) -> tuple[str, str | None]:
    """Text an .xlsx cell can hold, and why it was altered (None if it was not).

    Control characters that XML 1.0 forbids are dropped; text over Excel's cell limit is cut
    with a visible mark, because Excel would refuse to open the file otherwise.
    """
    problem = None
    if _ILLEGAL_XML.search(text):
        text = _ILLEGAL_XML.sub("", text)
        problem = "control characters removed"
    if len(text) > MAX_CELL_CHARS:
        text = text[: MAX_CELL_CHARS - len(TRUNCATION_MARK)] + TRUNCATION_MARK
        problem = f"longer than Excel's {MAX_CELL_CHARS:,}-character cell limit, cut"
    return text, problem


def check_sheet_name(name: str) -> str | None:
    """The problem with a sheet name, or None when Excel accepts it."""
    if not name or not name.strip():
        return "a sheet name cannot be blank"
    if len(name) > MAX_SHEET_NAME:
        return (f"sheet name {name!r} is {len(name)} characters; Excel allows at most "
                f"{MAX_SHEET_NAME}")
    if _SHEET_NAME_FORBIDDEN.search(name):
        return f"sheet name {name!r} contains one of [ ] : * ? / \\ which Excel forbids"
    if name.startswith("'") or name.endswith("'"):
        return f"sheet name {name!r} cannot begin or end with an apostrophe"
    return None


def check_row_count(data_rows: int, header_rows: int, sheet: str) -> None:
    """Refuse, before writing anything, an export that cannot fit one Excel sheet."""
    if data_rows + header_rows > MAX_ROWS:
        raise SpreadsheetLimitError(
            f"{data_rows:,} rows do not fit sheet {sheet!r}: an Excel sheet holds at most "
            f"{MAX_ROWS - header_rows:,} rows below its header. Export to CSV instead, or "
            "split the period.")
