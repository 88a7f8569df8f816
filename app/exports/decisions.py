"""Reading decisions back from an edited review workbook and sorting its rows.

Each row is matched to its finding by id and key (a file from another workspace matches
nothing). A row whose decision cells still hash to what was exported is untouched; an edit on
a finding that changed since the export (version or inputs) is stale and never applied.
Works on files saved by Excel or LibreOffice: dates may come back as date cells, serial
numbers or ISO text; ids as integers or floats.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.datetime import from_excel
from sqlalchemy import select
from sqlalchemy.engine import Connection

from app.exports.review_workbook import (
    FINDINGS_SHEET,
    META_SHEET,
    STATUS_DECISION,
    normalise_note,
    state_digest,
)
from app.models.review import Finding

REQUIRED = ("ID", "Decision", "Effective date", "Note", "TrueUp key", "TrueUp version",
            "TrueUp inputs", "TrueUp as exported")
_WORDS = {"approve": "approve", "approved": "approve", "reject": "reject",
          "rejected": "reject", "defer": "defer", "deferred": "defer", "": ""}
MAX_PROBLEMS = 25


class DecisionFileError(ValueError):
    """The file cannot be imported as it is; every problem names its row and column."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        more = f"\n  … and {len(problems) - len(shown)} more" if len(problems) > len(shown) else ""
        super().__init__("nothing was applied:\n  " + "\n  ".join(shown) + more)
        self.problems = problems


@dataclass(frozen=True)
class DecisionRow:
    row: int
    finding_id: int | None
    key: str
    version: int | None
    inputs: str
    exported: str
    decision: str  # "" | approve | reject | defer
    effective: date | None
    note: str | None


@dataclass(frozen=True)
class CurrentFinding:
    id: int
    key: str
    version: int
    inputs_hash: str
    status: str
    effective_date: date | None
    note: str | None


@dataclass(frozen=True)
class RowOutcome:
    row: int
    finding_id: int | None
    decision: str
    reason: str
    effective: date | None = None
    note: str | None = None  # None: keep the finding's note
    expected_version: int | None = None


@dataclass
class Plan:
    apply: list[RowOutcome] = field(default_factory=list)
    unchanged: list[RowOutcome] = field(default_factory=list)
    stale: list[RowOutcome] = field(default_factory=list)
    unknown: list[RowOutcome] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+(\.0+)?\s*", value):
        return int(float(value))
    return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _date(value: Any) -> date | None:
    """A date cell, an Excel serial number, or ISO text; anything else raises ValueError."""
    if value in (None, ""):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value < 2_958_466:
        return from_excel(value).date()
    if isinstance(value, str):
        return date.fromisoformat(value.strip())
    raise ValueError(value)


def read_decision_rows(path: Path) -> tuple[dict[str, str], list[DecisionRow]]:
    """The workbook's metadata and its rows; unreadable cells are listed, not guessed."""
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a file that is not an .xlsx raises many kinds
        raise DecisionFileError([f"{path.name} is not an .xlsx workbook: {exc}"]) from exc
    try:
        if FINDINGS_SHEET not in wb.sheetnames:
            raise DecisionFileError([f"{path.name} has no {FINDINGS_SHEET!r} sheet: export a "
                                     "review workbook with `trueup export --template review`"])
        meta = {}
        if META_SHEET in wb.sheetnames:
            meta = {_text(r[0]): _text(r[1]) for r in wb[META_SHEET].iter_rows(
                max_col=2, values_only=True) if r and r[0] is not None}
        ws = wb[FINDINGS_SHEET]
        ws.reset_dimensions()  # some writers record wrong dimensions; read to the real end
        rows = ws.iter_rows()
        header = [_text(c.value).strip() for c in next(rows, ())]
        missing = [h for h in REQUIRED if h not in header]
        if missing:
            raise DecisionFileError([f"{FINDINGS_SHEET} sheet: column {h!r} is missing (keep "
                                     "the hidden TrueUp columns when editing)" for h in missing])
        at = {h: header.index(h) for h in REQUIRED}
        out, problems = [], []
        edited = [at[h] for h in ("Decision", "Effective date", "Note")]
        for number, cells in enumerate(rows, 2):
            values = tuple(getattr(c, "value", None) for c in cells)
            values += (None,) * (len(header) - len(values))
            if all(v in (None, "") for v in values):
                continue
            for index in edited:
                if index < len(cells) and getattr(cells[index], "data_type", None) == "e":
                    problems.append(f"row {number}, {header[index]}: the cell holds the "
                                    f"formula error {values[index]}; type plain text (start "
                                    "it with an apostrophe if it begins with =)")
            out.append(_row(number, values, at, problems))
        if problems:
            raise DecisionFileError(problems)
        return meta, out
    finally:
        wb.close()


def _row(number: int, values: tuple, at: dict[str, int], problems: list[str]) -> DecisionRow:
    fid = _integer(values[at["ID"]])
    who = f"row {number}" + (f" (finding {fid})" if fid is not None else "")
    word = _text(values[at["Decision"]]).strip().lower()
    if word not in _WORDS:
        problems.append(f"{who}, Decision: {values[at['Decision']]!r} is not approve, reject "
                        "or defer (or blank)")
    try:
        effective = _date(values[at["Effective date"]])
    except (ValueError, OverflowError):
        effective = None
        problems.append(f"{who}, Effective date: {values[at['Effective date']]!r} is not a "
                        "date; type a date or YYYY-MM-DD")
    note = values[at["Note"]]
    return DecisionRow(number, fid, _text(values[at["TrueUp key"]]),
                       _integer(values[at["TrueUp version"]]),
                       _text(values[at["TrueUp inputs"]]), _text(values[at["TrueUp as exported"]]),
                       _WORDS.get(word, ""), effective, None if note in (None, "") else _text(note))


def load_current(conn: Connection, ids: list[int]) -> dict[int, CurrentFinding]:
    f = Finding.__table__
    out: dict[int, CurrentFinding] = {}
    unique = sorted(set(ids))
    for start in range(0, len(unique), 500):
        chunk = unique[start:start + 500]
        for row in conn.execute(select(f.c.id, f.c.key, f.c.version, f.c.inputs_hash,
                                       f.c.status, f.c.effective_date, f.c.note)
                                .where(f.c.id.in_(chunk))):
            out[row[0]] = CurrentFinding(*row)
    return out


def _already_so(row: DecisionRow, cur: CurrentFinding) -> bool:
    return (row.decision == STATUS_DECISION.get(cur.status, "")
            and (row.effective is None or row.effective == cur.effective_date)
            and normalise_note(row.note) == normalise_note(cur.note))


def classify(rows: list[DecisionRow], current: dict[int, CurrentFinding]) -> Plan:
    """Sort every row into apply / unchanged / stale / unknown, or list why it cannot be."""
    plan = Plan()
    applying: dict[int, int] = {}
    for row in rows:
        def outcome(reason: str, row: DecisionRow = row) -> RowOutcome:
            return RowOutcome(row.row, row.finding_id, row.decision, reason, row.effective)

        cur = current.get(row.finding_id) if row.finding_id is not None else None
        if row.finding_id is None:
            plan.unknown.append(outcome("no finding ID in the row"))
        elif cur is None:
            plan.unknown.append(outcome(f"no finding {row.finding_id} in this workspace"))
        elif cur.key != row.key:
            plan.unknown.append(outcome(f"finding {row.finding_id} here is a different finding "
                                        "(its key differs): is the file from another workspace?"))
        elif state_digest(row.decision, row.effective, row.note) == row.exported:
            plan.unchanged.append(outcome("not edited"))
        elif _already_so(row, cur):
            plan.unchanged.append(outcome(f"already {cur.status}"))
        elif row.version != cur.version or row.inputs != cur.inputs_hash:
            plan.stale.append(outcome(
                f"finding changed since the export (version {row.version} → {cur.version}, "
                f"now {cur.status}); review it again"))
        elif not row.decision:
            plan.problems.append(f"row {row.row} (finding {row.finding_id}), Decision: blank, "
                                 "but the row was edited; choose approve, reject or defer "
                                 "(a decided finding cannot be reopened from a file)")
        elif row.finding_id in applying:
            plan.problems.append(f"row {row.row} (finding {row.finding_id}): the finding is "
                                 f"also decided on row {applying[row.finding_id]}; keep one")
        else:
            applying[row.finding_id] = row.row
            same_note = normalise_note(row.note) == normalise_note(cur.note)
            plan.apply.append(RowOutcome(
                row.row, row.finding_id, row.decision, "applied", row.effective,
                None if same_note else (row.note or ""), row.version))
    return plan
