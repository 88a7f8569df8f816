"""`trueup export`, `templates` and `import-decisions`: JSON documents and exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

from app.exports.review_workbook import COL
from app.main import main
from app.models.workspace import Workspace
from tests.exports.seed import PERIOD, seed

ROOT = Path(__file__).resolve().parents[2]


def _trueup(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TRUEUP_DATA_DIR": str(db.parent)}
    return subprocess.run([sys.executable, "main.py", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def _inproc(capsys, db: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def seeded(db_path):
    ws = Workspace.open(db_path)
    ids = seed(ws)
    ws.close()
    return ids


@pytest.fixture()
def db(db_path, seeded):
    return db_path


def test_export_review_edit_and_import_decisions_end_to_end(db, seeded, tmp_path, capsys):
    out = tmp_path / "review.xlsx"
    result = _trueup(db, "export", "--template", "review", "--period", PERIOD, "-o", str(out),
                     "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["rows"] == 6 and document["files"] == [str(out)]

    wb = load_workbook(out)
    for row in wb["Findings"].iter_rows(min_row=2):
        if row[0].value == seeded.findings["drift"]:
            row[COL["Decision"] - 1].value = "approve"
    wb.save(out)

    result = _trueup(db, "import-decisions", str(out), "--dry-run", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dry_run"] is True and report["applied"] == 1 and report["unchanged"] == 5
    assert report["rows"]["applied"][0]["finding_id"] == seeded.findings["drift"]

    code, _, err = _inproc(capsys, db, "import-decisions", str(out))
    assert code == 0, err
    assert "applied 1, unchanged 5, stale 0 (not applied), unknown 0" in err


def test_templates_list_json_and_export_csv(db, tmp_path):
    result = _trueup(db, "templates", "list", "--json")
    assert result.returncode == 0, result.stderr
    assert [t["name"] for t in json.loads(result.stdout)] == ["xero", "quickbooks", "review"]
    result = _trueup(db, "export", "--template", "xero", "--period", PERIOD, "-o",
                     str(tmp_path / "x.csv"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(tmp_path / "x.csv")
    assert "9 rows, 5 invoices" in result.stderr and "warning: Fabrikam" in result.stderr


def test_templates_copy_add_show_remove(db, tmp_path, capsys):
    copy = tmp_path / "mine.xlsx"
    assert _inproc(capsys, db, "templates", "copy", "quickbooks", str(copy))[0] == 0
    code, _, err = _inproc(capsys, db, "templates", "add", str(copy), "--name", "mine")
    assert code == 0 and "Registered template 'mine'" in err
    code, out, _ = _inproc(capsys, db, "templates", "show", "mine", "--period", PERIOD,
                           "--rows", "2")
    assert code == 0 and "field invoice_number" in out and "First 2 of 9 rows" in out
    code, out, _ = _inproc(capsys, db, "templates", "list")
    assert code == 0 and "mine" in out
    assert _inproc(capsys, db, "templates", "remove", "mine")[0] == 0
    code, _, err = _inproc(capsys, db, "templates", "remove", "mine")
    assert code == 1 and "no registered template named 'mine'" in err


def test_errors_exit_non_zero_with_the_reason(db, tmp_path, capsys):
    code, _, err = _inproc(capsys, db, "export", "--template", "nope", "--period", PERIOD,
                           "-o", str(tmp_path / "x.csv"))
    assert code == 1 and "no template named 'nope'; known: xero, quickbooks, review" in err
    code, _, err = _inproc(capsys, db, "export", "--template", "review", "--period", "2031-01",
                           "-o", str(tmp_path / "x.xlsx"))
    assert code == 1 and "period 2031-01 has not been reconciled" in err
    code, _, err = _inproc(capsys, db, "import-decisions", str(tmp_path / "missing.xlsx"))
    assert code == 1 and "is not an .xlsx workbook" in err
