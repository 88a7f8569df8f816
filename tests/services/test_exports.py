"""The export use cases: progress, cancel, limits, parts, sources; and decide_many."""

from __future__ import annotations

import csv
import threading
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app.exports import safety
from app.exports.template import Column, Template
from app.exports.template_file import write_template_workbook
from app.models.activity import PushIntent
from app.models.review import Finding
from app.models.workspace import Workspace
from app.services.exports import (
    ExportCancelled,
    ExportError,
    export,
    import_decisions,
    register_template,
    templates_folder,
)
from app.services.review import FindingDecision, ReviewError, StaleFindingError, decide_many
from tests.exports.seed import PERIOD, seed


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    yield workspace
    workspace.close()


@pytest.fixture()
def seeded(ws):
    return seed(ws)


def _register(ws, tmp_path, template: Template) -> str:
    path = write_template_workbook(template, tmp_path / f"{template.name}.xlsx")
    return register_template(ws, path, name=template.name).name


def test_progress_is_reported_and_a_cancelled_export_leaves_the_old_file(ws, seeded, tmp_path):
    target = tmp_path / "review.xlsx"
    seen = []
    export(ws, "review", PERIOD, target, progress=lambda *a: seen.append(a))
    assert seen[-1] == (6, 6, "writing review.xlsx")
    before = target.read_bytes()
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ExportCancelled):
        export(ws, "review", PERIOD, target, cancel=cancel)
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_too_many_rows_for_a_sheet_is_refused_before_writing(ws, seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(safety, "MAX_ROWS", 5)
    with pytest.raises(ExportError, match="6 rows do not fit sheet 'Findings'.*CSV"):
        export(ws, "review", PERIOD, tmp_path / "r.xlsx")
    assert list(tmp_path.glob("*.xlsx")) == []


def test_a_note_longer_than_a_cell_is_cut_with_a_warning_and_round_trips(ws, seeded,
                                                                        tmp_path):
    with ws.begin() as s:
        s.get(Finding, seeded.findings["rejected"]).note = "n" * 40_000
    result = export(ws, "review", PERIOD, tmp_path / "r.xlsx")
    assert result.warning_count == 1
    assert "Findings!P" in result.warnings[0]  # the Note column and "32,767" in result.warnings[0]
    report = import_decisions(ws, tmp_path / "r.xlsx", user="ann")
    assert report.counts()["unchanged"] == 6  # the cut note is not mistaken for an edit


def test_a_target_limit_on_invoices_splits_the_file_by_whole_invoices(ws, seeded, tmp_path):
    columns = (Column("A", "No", field="invoice_number"), Column("B", "Customer",
                                                                field="customer"),
               Column("C", "Amount", field="amount"))
    name = _register(ws, tmp_path, Template(
        "small-batches", "t", "invoice_lines", columns, outputs=("csv",), sort=("customer",),
        group="customer_id", max_invoices=2, csv_delimiter=";"))
    result = export(ws, name, PERIOD, tmp_path / "out.csv")
    assert [p.rsplit("/", 1)[1] for p in result.files] == ["out-part1.csv", "out-part2.csv",
                                                           "out-part3.csv"]
    numbers = []
    for path in result.files:
        with open(path, encoding="utf-8", newline="") as handle:
            header, *rows = list(csv.reader(handle, delimiter=";"))
        assert header == ["No", "Customer", "Amount"]
        numbers.append({r[0] for r in rows})
    assert [len(n) for n in numbers] == [2, 2, 1]
    assert not set.intersection(*numbers[:2])


def test_a_cancelled_split_export_leaves_no_part_behind(ws, seeded, tmp_path):
    name = _register(ws, tmp_path, Template(
        "parts", "t", "invoice_lines", (Column("A", "Customer", field="customer"),),
        outputs=("csv",), group="customer_id", max_invoices=1))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(ExportCancelled):
        export(ws, name, PERIOD, tmp_path / "out.csv", cancel=cancel)
    assert list(tmp_path.glob("*.csv")) + list(tmp_path.glob(".*")) == []


def test_sorting_or_grouping_by_a_computed_field_is_refused(ws, tmp_path):
    with pytest.raises(ExportError, match="sort: 'invoice_number' is computed after sorting"):
        _register(ws, tmp_path, Template(
            "bad", "t", "invoice_lines", (Column("A", "No", field="invoice_number"),),
            sort=("invoice_number",), group="invoice_date"))


def test_adjustments_and_findings_sources(ws, seeded, tmp_path):
    adjustments = _register(ws, tmp_path, Template(
        "adjustments", "t", "adjustments", (
            Column("A", "Finding", field="finding_id"), Column("B", "Action", field="action"),
            Column("C", "Amount", field="amount"), Column("D", "When", field="effective_date",
                                                          format="DD.MM.YYYY")),
        outputs=("xlsx",), sort=("finding_id",)))
    export(ws, adjustments, PERIOD, tmp_path / "adj.xlsx")
    sheet = load_workbook(tmp_path / "adj.xlsx")["Sheet1"]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert [(r[0], r[1]) for r in rows] == [(seeded.findings["approved"], "one_time_charge"),
                                            (seeded.findings["credit"], "one_time_charge")]
    assert sheet["D2"].number_format == "dd.mm.yyyy"

    findings = _register(ws, tmp_path, Template(
        "biggest", "t", "findings", (Column("A", "Customer", field="customer"),
                                     Column("B", "Amount", field="amount")),
        outputs=("csv",), sort=("-amount",)))
    export(ws, findings, PERIOD, tmp_path / "f.csv")
    with open(tmp_path / "f.csv", encoding="utf-8", newline="") as handle:
        amounts = [r[1] for r in list(csv.reader(handle))[1:]]
    assert amounts == ["150.00", "33.00", "24.13", "1.50", "0", "-7.50"]


def test_user_templates_are_kept_beside_the_workspace(ws, seeded, tmp_path):
    assert templates_folder(ws) == ws.path.with_name("workspace-templates")


# --- decide_many: per-finding decisions in one transaction ----------------------------------


def _intents(ws, fid):
    with ws.begin() as s:
        return [(i.action_type, i.payload["effective_date"]) for i in s.scalars(
            select(PushIntent).where(PushIntent.finding_id == fid).order_by(PushIntent.id))]


def test_decide_many_takes_each_findings_own_date_and_note(ws, seeded):
    ids = seeded.findings
    decisions = decide_many(ws, [
        FindingDecision(ids["drift"], "approve", 1, date(2026, 4, 15), "yes"),
        FindingDecision(ids["credit"], "reject", 1, None, "no credit"),
    ], user="ann")
    assert [d.status for d in decisions] == ["approved", "rejected"]
    with ws.begin() as s:
        drift, credit = s.get(Finding, ids["drift"]), s.get(Finding, ids["credit"])
        assert (drift.effective_date, drift.note) == (date(2026, 4, 15), "yes")
        assert (credit.status, credit.note) == ("rejected", "no credit")


def test_reapproving_with_a_new_date_replaces_the_queued_push(ws, seeded):
    fid = seeded.findings["drift"]
    decide_many(ws, [FindingDecision(fid, "approve", effective=date(2026, 4, 1))], user="ann")
    decide_many(ws, [FindingDecision(fid, "approve", effective=date(2026, 4, 20))], user="ann")
    assert _intents(ws, fid) == [("set_quantity", "2026-04-20"),
                                 ("one_time_charge", "2026-03-01")]


def test_decide_many_is_all_or_nothing_and_dry_run_writes_nothing(ws, seeded):
    ids = seeded.findings
    batch = [FindingDecision(ids["drift"], "approve", 1),
             FindingDecision(ids["credit"], "reject", 99)]
    with pytest.raises(StaleFindingError, match="you saw version 99"):
        decide_many(ws, batch, user="ann")
    assert _intents(ws, ids["drift"]) == []
    decide_many(ws, batch[:1], user="ann", dry_run=True)
    assert _intents(ws, ids["drift"]) == []
    with pytest.raises(ReviewError, match="decided twice"):
        decide_many(ws, batch[:1] * 2, user="ann")
