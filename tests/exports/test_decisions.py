"""The decision round trip: export the review workbook, decide in a spreadsheet, import it.

Rows are applied, unchanged, stale or unknown; the import applies all or nothing, and every
applied decision is in the audit log, made by the review service exactly as from the grid.
"""

from __future__ import annotations

import shutil
import subprocess
from datetime import date, datetime

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from app.exports.decisions import _date, _integer
from app.exports.review_workbook import COL
from app.models.activity import AuditEntry, PushIntent
from app.models.review import Finding
from app.services.exports import ExportError, export, import_decisions
from tests.exports.seed import PERIOD


@pytest.fixture()
def review(ws, seeded, tmp_path):
    path = tmp_path / "review.xlsx"
    export(ws, "review", PERIOD, path, user="ann")
    return path


def _edit(path, changes: dict[int, dict[str, object]], extra_rows=()) -> None:
    """Change cells as a person would in Excel: {finding id: {header: value}}."""
    wb = load_workbook(path)
    sheet = wb["Findings"]
    for row in sheet.iter_rows(min_row=2):
        for header, value in changes.get(row[0].value, {}).items():
            cell = row[COL[header] - 1]
            cell.value = value
            if isinstance(value, str) and value.startswith("'"):  # typed with an apostrophe
                cell.value, cell.data_type, cell.quotePrefix = value[1:], "s", True
    for values in extra_rows:
        sheet.append(values)
    wb.save(path)


def _row(values: dict[str, object]) -> list[object]:
    row: list[object] = [None] * len(COL)
    for header, value in values.items():
        row[COL[header] - 1] = value
    return row


def _finding(ws, fid):
    with ws.begin() as s:
        f = s.get(Finding, fid)
        return f.status, f.effective_date, f.note, f.version


def test_round_trip_reports_applied_unchanged_stale_and_unknown(ws, seeded, review):
    ids = seeded.findings
    _edit(review, {
        ids["drift"]: {"Decision": "Approve", "Effective date": datetime(2026, 4, 15),
                       "Note": "customer confirmed"},
        ids["approved"]: {"Decision": "defer", "Note": "wait for April"},
        ids["rejected"]: {"Decision": "reject"},  # what it already was
    }, extra_rows=[_row({"ID": 9999, "Customer": "Ghost", "Decision": "approve"})])
    with ws.begin() as s:  # someone decides in the grid after the export
        s.get(Finding, ids["approved"]).version += 1

    report = import_decisions(ws, review, user="bob")

    assert report.counts() == {"applied": 1, "unchanged": 4, "stale": 1, "unknown": 1}
    assert report.period == PERIOD
    [applied] = report.applied
    assert (applied.finding_id, applied.decision, applied.row) == (ids["drift"], "approve",
                                                                   applied.row)
    assert "changed since the export" in report.stale[0].reason
    assert report.unknown[0].reason == "no finding 9999 in this workspace"
    assert {o.reason for o in report.unchanged} == {"not edited"}
    assert _finding(ws, ids["drift"])[:3] == ("approved", date(2026, 4, 15),
                                              "customer confirmed")
    assert _finding(ws, ids["approved"])[0] == "approved"  # the stale row was not applied
    with ws.begin() as s:
        intents = s.scalars(select(PushIntent).where(
            PushIntent.finding_id == ids["drift"]).order_by(PushIntent.id)).all()
        assert [i.payload["effective_date"] for i in intents] == ["2026-04-15", "2026-03-01"]
        audit = s.scalars(select(AuditEntry).where(AuditEntry.entity == "finding")).all()
        assert [(a.user, a.action, a.entity_id) for a in audit] == \
            [("bob", "approve", str(ids["drift"]))]
        imported = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "import_decisions")).one()
        assert imported.after["applied"] == 1 and imported.entity_id == "review.xlsx"

    again = import_decisions(ws, review, user="bob")  # the same file twice changes nothing
    assert again.counts()["applied"] == 0 and again.unchanged[0].reason != ""


def test_all_or_nothing_when_one_decision_is_refused(ws, seeded, review):
    ids = seeded.findings
    _edit(review, {ids["drift"]: {"Decision": "approve"},
                   ids["unmapped"]: {"Decision": "approve"}})
    with pytest.raises(ExportError, match=r"nothing was applied: row \d+: finding \d+ is an "
                                          "unmapped item"):
        import_decisions(ws, review, user="bob")
    assert _finding(ws, ids["drift"])[0] == "open"
    with ws.begin() as s:
        assert s.scalars(select(PushIntent)).all() == []
        assert s.scalars(select(AuditEntry)).all() == []


def test_dry_run_checks_everything_and_changes_nothing(ws, seeded, review):
    _edit(review, {seeded.findings["drift"]: {"Decision": "reject", "Note": "no"}})
    report = import_decisions(ws, review, dry_run=True, user="bob")
    assert report.dry_run and report.counts()["applied"] == 1
    assert _finding(ws, seeded.findings["drift"]) == ("open", None, None, 1)
    with ws.begin() as s:
        assert s.scalars(select(AuditEntry)).all() == []


@pytest.mark.parametrize(("change", "message"), [
    ({"Decision": "aprove"}, r"row \d+ \(finding \d+\), Decision: 'aprove' is not approve"),
    ({"Decision": "approve", "Effective date": "15/04/2026"},
     r"Effective date: '15/04/2026' is not a date"),
    ({"Note": "only a note"}, r"Decision: blank, but the row was edited"),
    ({"Decision": "approve", "Note": "#VALUE!"}, r"Note: the cell holds the formula error"),
])
def test_unreadable_rows_stop_the_import_naming_row_and_column(ws, seeded, review, change,
                                                               message):
    _edit(review, {seeded.findings["drift"]: change})
    with pytest.raises(ExportError, match=message):
        import_decisions(ws, review, user="bob")
    assert _finding(ws, seeded.findings["drift"])[0] == "open"


def test_a_file_from_another_workspace_matches_nothing(ws, seeded, review):
    _edit(review, {seeded.findings["drift"]: {"Decision": "approve", "TrueUp key": "other"}})
    report = import_decisions(ws, review, user="bob")
    assert report.counts()["unknown"] == 1 and "key differs" in report.unknown[0].reason


def test_a_workbook_that_is_not_a_review_file_is_refused(ws, tmp_path):
    Workbook().save(tmp_path / "x.xlsx")
    with pytest.raises(ExportError, match="no 'Findings' sheet"):
        import_decisions(ws, tmp_path / "x.xlsx", user="bob")


def test_cell_values_as_spreadsheets_save_them():
    assert _integer(12.0) == 12 and _integer("12") == 12 and _integer("x") is None
    assert _date(datetime(2026, 4, 1, 0, 0)) == date(2026, 4, 1)
    assert _date("2026-04-01") == date(2026, 4, 1)
    assert _date(46113) == date(2026, 4, 1)  # a serial number when the format was lost
    with pytest.raises(ValueError):
        _date("01/04/2026")  # ambiguous: refused, never guessed


def _resave_with_libreoffice(path, out_dir) -> bool:
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        return False
    profile = (out_dir / "lo-profile").as_uri()
    subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", "--convert-to",
                    "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out_dir), str(path)],
                   check=True, capture_output=True, timeout=180)
    return True


def _resave_with_openpyxl(path, target) -> None:
    """Stand-in when LibreOffice is not installed: a plain re-save of the values only (no
    hidden-column styles, validations or quote prefixes), as a different writer would."""
    source = load_workbook(path)
    wb = Workbook()
    wb.remove(wb.active)
    for sheet in source.worksheets:
        copy = wb.create_sheet(sheet.title)
        copy.sheet_state = sheet.sheet_state
        for row in sheet.iter_rows():
            for cell in row:
                if cell.value is not None:
                    new = copy.cell(cell.row, cell.column, cell.value)
                    new.data_type = cell.data_type  # text stays text
    wb.save(target)


@pytest.mark.parametrize("writer", ["libreoffice", "openpyxl"])
def test_a_review_workbook_saved_by_libreoffice_imports(ws, seeded, review, tmp_path, writer):
    """Uses LibreOffice (soffice --convert-to xlsx) when installed; without it, the file is
    re-saved with openpyxl instead, which checks less — the test says which in its output.
    The openpyxl re-save also runs on its own, so both paths stay tested."""
    ids = seeded.findings
    _edit(review, {ids["drift"]: {"Decision": "approve", "Effective date": datetime(2026, 4, 2),
                                  "Note": "'=looks like a formula"}})
    out_dir = tmp_path / "lo"
    out_dir.mkdir()
    if writer == "libreoffice" and _resave_with_libreoffice(review, out_dir):
        saved, how = out_dir / "review.xlsx", "LibreOffice"
    else:
        saved, how = out_dir / "review.xlsx", "openpyxl (LibreOffice not installed)"
        _resave_with_openpyxl(review, saved)
    print(f"review workbook re-saved with {how}")
    report = import_decisions(ws, saved, user="bob")
    assert report.counts() == {"applied": 1, "unchanged": 5, "stale": 0, "unknown": 0}, how
    assert _finding(ws, ids["drift"])[:3] == ("approved", date(2026, 4, 2),
                                              "=looks like a formula")
