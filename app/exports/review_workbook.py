"""The reconciliation review workbook: decide offline in Excel or LibreOffice, import back.

Findings sheet: one row per finding, frozen header, autofilter, number and date formats,
widths that fit, a Decisions area (Decision, Effective date, Note) and the finding's own
explanation. Hidden columns carry what the import needs to match a row to its finding and
to tell an edit from an untouched row (key, version, inputs hash, a digest of the decision
as exported) — in the row itself, so sorting or filtering in Excel cannot break the match.
Summary sheet: totals by kind and by customer, per currency, written after the stream.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from app.exports.engine import Ticker
from app.exports.fields import FieldType
from app.exports.safety import check_row_count, is_dangerous
from app.exports.sources import FindingRow
from app.exports.writers import CellMaker, header_cells, streaming_workbook

FORMAT_VERSION = "1"
FINDINGS_SHEET, SUMMARY_SHEET, META_SHEET = "Findings", "Summary", "_trueup"
DECISIONS = ("approve", "reject", "defer")
STATUS_DECISION = {"approved": "approve", "pushed": "approve", "failed": "approve",
                   "rejected": "reject", "deferred": "defer"}
MONEY_FORMAT, DATE_FORMAT = "#,##0.00##", "yyyy-mm-dd"
DECISION_FILL = PatternFill("solid", fgColor="FFF2CC")
DECISION_HEADER_FILL = PatternFill("solid", fgColor="FFD966")


@dataclass(frozen=True)
class ReviewColumn:
    header: str
    field: str | None
    type: FieldType
    width: float
    format: str | None = None
    decision: bool = False  # part of the Decisions area: the person edits these
    hidden: bool = False


_T, _I, _M, _Q, _D = (FieldType.TEXT, FieldType.INTEGER, FieldType.MONEY, FieldType.QUANTITY,
                      FieldType.DATE)
REVIEW_COLUMNS = (
    ReviewColumn("ID", "finding_id", _I, 8),
    ReviewColumn("Kind", "kind", _T, 12),
    ReviewColumn("Status", "status", _T, 10),
    ReviewColumn("Customer", "customer", _T, 12),
    ReviewColumn("Product", "product", _T, 12),
    ReviewColumn("SKU", "sku", _T, 8),
    ReviewColumn("Currency", "currency", _T, 10),
    ReviewColumn("Vendor qty", "vendor_quantity", _Q, 11),
    ReviewColumn("PSA qty", "psa_quantity", _Q, 10),
    ReviewColumn("Difference", "quantity_difference", _Q, 11),
    ReviewColumn("Unit price", "unit_price", _M, 12, MONEY_FORMAT),
    ReviewColumn("Unit cost", "unit_cost", _M, 12, MONEY_FORMAT),
    ReviewColumn("Amount", "amount", _M, 12, MONEY_FORMAT),
    ReviewColumn("Decision", None, _T, 11, decision=True),
    ReviewColumn("Effective date", "effective_date", _D, 14, DATE_FORMAT, decision=True),
    ReviewColumn("Note", "note", _T, 30, decision=True),
    ReviewColumn("Proposed action", "action", _T, 50),
    ReviewColumn("Explain", "explain", _T, 80),
    ReviewColumn("TrueUp key", "key", _T, 20, hidden=True),
    ReviewColumn("TrueUp version", "version", _I, 8, hidden=True),
    ReviewColumn("TrueUp inputs", "inputs_hash", _T, 16, hidden=True),
    ReviewColumn("TrueUp as exported", None, _T, 18, hidden=True),
)
HEADERS = tuple(c.header for c in REVIEW_COLUMNS)
COL = {c.header: n for n, c in enumerate(REVIEW_COLUMNS, 1)}  # header → 1-based index
_NOTE = COL["Note"]
_WIDTH_HINTS = {"Customer": "customer", "Product": "product", "SKU": "sku", "Note": "note",
                "Kind": "kind", "Amount": "amount"}


def normalise_note(note: str | None) -> str:
    """Notes compare equal across Excel and LibreOffice line-end habits."""
    return (note or "").replace("\r\n", "\n").replace("\r", "\n").strip()


def state_digest(decision: str, effective: date | None, note: str | None) -> str:
    """A short fingerprint of a row's decision cells, to tell an edit from an untouched row."""
    text = "\x1f".join((decision, effective.isoformat() if effective else "",
                        normalise_note(note)))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ReviewMeta:
    period: str
    period_start: date
    period_end: date
    exported_at: datetime
    exported_by: str
    total: int


@dataclass(frozen=True)
class ReviewResult:
    rows: int
    warnings: list[str]
    warning_count: int


class _Totals:
    """Exact Decimal sums by kind and by customer, per currency, gathered while streaming."""

    def __init__(self) -> None:
        self.by_kind: dict[tuple[str, str], list[Any]] = defaultdict(lambda: [0, 0, Decimal(0)])
        self.by_customer: dict[tuple[str, str], list[Any]] = defaultdict(
            lambda: [0, 0, Decimal(0)])

    def add(self, row: FindingRow) -> None:
        for table, name in ((self.by_kind, row.kind), (self.by_customer, row.customer)):
            entry = table[(name, row.currency)]
            entry[0] += 1
            entry[1] += row.status == "open"
            entry[2] += row.amount


def _widths(hints: dict[str, int]) -> dict[int, float]:
    out = {}
    for n, col in enumerate(REVIEW_COLUMNS, 1):
        width = col.width
        if col.header in _WIDTH_HINTS:
            longest = hints.get(_WIDTH_HINTS[col.header], 0)
            width = max(width, min(longest + (4 if col.type is _M else 2), 60))
        out[n] = float(width)
    return out


def _row_cells(maker: CellMaker, row: FindingRow, n: int) -> list[Any]:
    """One row's cells in REVIEW_COLUMNS order; empty cells are left out, not styled."""
    decision = STATUS_DECISION.get(row.status, "")
    note = maker.clean(row.note, _NOTE, n) if row.note else None
    text, styled = maker.text, maker.styled

    def money(column: int, value: Decimal | None) -> Any:
        return None if value is None else styled(column, value, number_format=MONEY_FORMAT)

    return [
        row.finding_id, text(row.kind, 2, n), row.status, text(row.customer, 4, n),
        text(row.product, 5, n), text(row.sku, 6, n), row.currency, row.vendor_quantity,
        row.psa_quantity, row.quantity_difference, money(11, row.unit_price),
        money(12, row.unit_cost), money(13, row.amount),
        styled(14, decision, fill=DECISION_FILL) if decision else None,
        styled(15, row.effective_date, number_format=DATE_FORMAT, fill=DECISION_FILL)
        if row.effective_date else None,
        _note_cell(maker, note) if note else None,
        text(row.action, 17, n), text(row.explain, 18, n) if row.explain else None,
        text(row.key, 19, n), row.version, text(row.inputs_hash, 21, n),
        state_digest(decision, row.effective_date, note),
    ]


def _note_cell(maker: CellMaker, note: str) -> Any:
    cell = maker.styled(_NOTE, note, fill=DECISION_FILL)
    cell.quotePrefix = is_dangerous(note)
    return cell


def write_review_workbook(path: Path, rows: Iterable[FindingRow], meta: ReviewMeta,
                          hints: dict[str, int], ticker: Ticker) -> ReviewResult:
    """Stream the findings into the workbook, then write the Summary from the totals."""
    check_row_count(meta.total, 1, FINDINGS_SHEET)
    with streaming_workbook() as wb:
        summary = wb.create_sheet(SUMMARY_SHEET)
        ws = wb.create_sheet(FINDINGS_SHEET)
        maker = CellMaker(ws)
        for n, width in _widths(hints).items():
            dim = ws.column_dimensions[get_column_letter(n)]
            dim.width = width
            dim.hidden = REVIEW_COLUMNS[n - 1].hidden
            if REVIEW_COLUMNS[n - 1].decision:
                dim.fill = DECISION_FILL  # empty cells of the area show it without a cell
        ws.freeze_panes = "B2"
        _printable(ws)
        ws.print_title_rows = "1:1"
        header = header_cells(maker, list(HEADERS))
        for cell, col in zip(header, REVIEW_COLUMNS, strict=True):
            if col.decision:
                cell.fill = DECISION_HEADER_FILL
        ws.append(header)
        totals = _Totals()
        count = 0
        for count, row in enumerate(rows, 1):
            ws.append(_row_cells(maker, row, count + 1))
            totals.add(row)
            ticker(count)
        last_row = max(count + 1, 2)
        ws.auto_filter.ref = f"A1:{get_column_letter(COL['Explain'])}{last_row}"
        _validations(ws, last_row)
        _write_summary(summary, meta, count, totals)
        _write_meta(wb.create_sheet(META_SHEET), meta, count)
        ticker(count, force=True)
        wb.save(path)
    return ReviewResult(count, maker.warnings, maker.warning_count)


def _printable(ws: Any) -> None:
    """Landscape, one page wide: a printed review is read across, not cut into strips."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True


def _validations(ws: Any, last_row: int) -> None:
    decision = DataValidation(type="list", formula1='"approve,reject,defer"', allow_blank=True,
                              showErrorMessage=True, errorTitle="Decision",
                              error="Choose approve, reject or defer, or leave it blank.")
    letter = get_column_letter(COL["Decision"])
    decision.add(f"{letter}2:{letter}{last_row}")
    when = DataValidation(type="date", operator="between", formula1="36526", formula2="73415",
                          allow_blank=True, showErrorMessage=True, errorTitle="Effective date",
                          error="Type a date (for example 2026-04-01).")
    letter = get_column_letter(COL["Effective date"])
    when.add(f"{letter}2:{letter}{last_row}")
    ws.data_validations.append(decision)
    ws.data_validations.append(when)


def _write_summary(ws: Any, meta: ReviewMeta, count: int, totals: _Totals) -> None:
    longest = max((len(k[0]) for k in totals.by_customer), default=10)
    for letter, width in zip("ABCDE", (max(22, min(longest + 2, 60)), 10, 10, 10, 16),
                             strict=True):
        ws.column_dimensions[letter].width = width
    bold = Font(bold=True)
    _printable(ws)
    maker = CellMaker(ws)
    day = {"number_format": DATE_FORMAT}
    ws.append([maker.single(f"TrueUp reconciliation review — {meta.period}",
                            font=Font(bold=True, size=14))])
    ws.append(["Period", meta.period, maker.single(meta.period_start, **day),
               maker.single(meta.period_end, **day)])
    ws.append(["Exported", meta.exported_at.strftime("%Y-%m-%d %H:%M %Z").strip(), "by",
               maker.text(meta.exported_by, 4, 3)])
    ws.append(["Findings", count])
    ws.append([])
    ws.append([maker.single(
        "How to decide: on the Findings sheet fill Decision (approve, reject or defer), "
        "Effective date (blank keeps the proposed date) and Note; save the file (Excel or "
        "LibreOffice, keep .xlsx), then run `trueup import-decisions FILE`. Rows whose finding "
        "changed since this export are reported as stale and not applied.")])
    ws.append([])
    for title, table, first in (("Totals by kind", totals.by_kind, "Kind"),
                                ("Totals by customer", totals.by_customer, "Customer")):
        ws.append([maker.single(title, font=bold)])
        ws.append(header_cells(maker, [first, "Currency", "Findings", "Open", "Amount"]))
        for (name, currency), (n, open_n, amount) in sorted(
                table.items(), key=lambda item: (item[0][0].casefold(), item[0][1])):
            ws.append([maker.text(name, 1, 0), currency, n, open_n,
                       maker.styled(5, amount, number_format=MONEY_FORMAT)])
        ws.append([])
    ws.append([maker.single("Total", font=bold)])
    ws.append(header_cells(maker, ["All findings", "Currency", "Findings", "Open", "Amount"]))
    grand: dict[str, list[Any]] = defaultdict(lambda: [0, 0, Decimal(0)])
    for (_, currency), (n, open_n, amount) in totals.by_kind.items():
        entry = grand[currency]
        entry[0], entry[1], entry[2] = entry[0] + n, entry[1] + open_n, entry[2] + amount
    for currency, (n, open_n, amount) in sorted(grand.items()):
        ws.append(["All", currency, n, open_n,
                   maker.single(amount, number_format=MONEY_FORMAT, font=bold)])


def _write_meta(ws: Any, meta: ReviewMeta, count: int) -> None:
    """Who, what and when, for the import to check it is reading a TrueUp review file."""
    ws.sheet_state = "hidden"
    for key, value in (("template", "review"), ("format", FORMAT_VERSION),
                       ("period", meta.period), ("exported_at", meta.exported_at.isoformat()),
                       ("exported_by", meta.exported_by), ("findings", count)):
        ws.append([key, value])
