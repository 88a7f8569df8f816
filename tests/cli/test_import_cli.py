"""`trueup import ...` and `trueup profiles ...`: one JSON object with --json, a progress line
and a summary otherwise, and a non-zero exit with the reason when nothing was imported."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from app.main import main
from tests.fixtures.partner_center import line, write_recon

ROOT = Path(__file__).resolve().parents[2]
KEYS = ["file", "imported", "duplicates", "already_imported", "rejected"]


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def charge_lines(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM charge_lines").fetchone()[0]


@pytest.mark.slow
def test_partner_center_import_json_in_a_subprocess(tmp_path, capsys):
    db = tmp_path / "ws.sqlite"
    path = write_recon(tmp_path / "may.csv", [line(), line(OrderId="o-2"), line()])
    command = [sys.executable, "main.py", "--db", str(db), "import", "partner-center",
               str(path), "--json"]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # exactly one JSON object, nothing else on stdout
    assert list(document) == KEYS
    assert document == {"file": "may.csv", "imported": 2, "duplicates": 1,
                        "already_imported": False, "rejected": []}
    code, out, _ = run(capsys, *command[2:])  # the same command, in process
    assert code == 0 and json.loads(out)["already_imported"] is True
    assert charge_lines(db) == 2


def test_a_rejected_file_exits_non_zero_with_the_rows_in_json(tmp_path, capsys):
    db = tmp_path / "ws.sqlite"
    path = write_recon(tmp_path / "bad.csv", [line(), line(OrderId="o-2", Currency="dollars")])
    code, out, err = run(capsys, "--db", str(db), "import", "partner-center", str(path),
                         "--json")
    assert code == 1
    assert json.loads(out) == {"file": "bad.csv", "imported": 0, "duplicates": 0,
                               "already_imported": False, "rejected": [
                                   {"row": 3, "column": "Currency",
                                    "reason": "not a 3-letter currency code: 'dollars'"}]}
    assert "trueup: error: bad.csv: 1 row rejected, nothing imported" in err
    assert charge_lines(db) == 0


def test_human_mode_shows_progress_a_summary_and_the_rejects(tmp_path, capsys):
    db = tmp_path / "ws.sqlite"
    path = write_recon(tmp_path / "mixed.csv", [line(), line(OrderId="o-2", ChargeType="??")])
    code, out, err = run(capsys, "--db", str(db), "import", "partner-center", str(path))
    assert code == 1
    assert "mixed.csv:3: ChargeType: unknown charge type '??'" in err
    assert "nothing imported" in err

    code, out, err = run(capsys, "--db", str(db), "import", "partner-center", str(path),
                         "--accept-good-rows")
    assert code == 0, err
    assert "mixed.csv: 100% 2 lines read" in err  # the progress line
    assert out.startswith("Imported 1 lines from mixed.csv into Partner Center (0 duplicates")
    assert "1 rejected rows were not imported" in out
    assert "  mixed.csv:3: ChargeType: unknown charge type '??'" in out

    code, out, _ = run(capsys, "--db", str(db), "import", "partner-center", str(path))
    assert code == 0 and out == "mixed.csv was already imported; nothing changed.\n"


def test_a_missing_column_and_a_missing_file_are_errors(tmp_path, capsys):
    db = str(tmp_path / "ws.sqlite")
    path = tmp_path / "cols.csv"
    path.write_text("CustomerId,SubscriptionId\r\na,b\r\n", encoding="utf-8")
    code, out, err = run(capsys, "--db", db, "import", "partner-center", str(path), "--json")
    assert code == 1 and "missing required columns CustomerName, InvoiceNumber" in err
    assert {r["column"] for r in json.loads(out)["rejected"]} >= {"ChargeType", "Currency"}
    code, _, err = run(capsys, "--db", db, "import", "partner-center", str(tmp_path / "no.csv"))
    assert code == 1 and "no.csv: cannot read the file" in err


def test_profiles_from_create_to_import_to_delete(tmp_path, capsys):
    db = str(tmp_path / "ws.sqlite")
    create = ["--db", db, "profiles", "create", "Ingram EU", "--vendor", "Ingram Micro",
              "--map", "customer_id=Kunde", "--map", "sku=Artikel", "--map", "quantity=Menge",
              "--map", "unit_cost=Preis", "--map", "charge_start=Von", "--delimiter", ";",
              "--decimal-comma", "--date-format", "%d/%m/%Y", "--currency", "EUR"]
    code, _, err = run(capsys, *create)
    assert code == 0 and "Saved profile 'Ingram EU'" in err
    code, _, err = run(capsys, *create)
    assert code == 1 and "already exists" in err

    code, out, _ = run(capsys, "--db", db, "profiles", "list", "--json")
    [profile] = json.loads(out)
    assert profile["name"] == "Ingram EU" and profile["settings"]["delimiter"] == ";"
    assert profile["settings"]["constants"] == {"currency": "EUR"}
    code, out, _ = run(capsys, "--db", db, "profiles", "show", "Ingram EU")
    assert "quantity" in out and "'Menge'" in out and "%d/%m/%Y" in out

    path = tmp_path / "ingram.csv"
    path.write_text("Kunde;Artikel;Menge;Preis;Von\r\nK-1;A;3;12,50;01/05/2024\r\n"
                    "K-2;B;x;1,00;01/05/2024\r\n", encoding="utf-8")
    code, out, _ = run(capsys, "--db", db, "profiles", "preview", "Ingram EU", str(path),
                       "--json")
    shown = json.loads(out)
    assert code == 0 and [row["row"] for row in shown["rows"]] == [2, 3]
    cells = {c["field"]: c for c in shown["rows"][1]["cells"]}
    assert cells["quantity"]["error"] == "not a number: 'x'"
    assert {c["field"]: c["value"] for c in shown["rows"][0]["cells"]}["unit_cost"] == "12.50"
    code, out, _ = run(capsys, "--db", db, "profiles", "preview", "Ingram EU", str(path))
    assert "BAD" in out and "quantity=!not a number: 'x'" in out

    code, out, _ = run(capsys, "--db", db, "import", "csv", str(path), "--profile",
                       "Ingram EU", "--accept-good-rows", "--json")
    assert code == 0
    assert json.loads(out) == {"file": "ingram.csv", "imported": 1, "duplicates": 0,
                               "already_imported": False, "rejected": [
                                   {"row": 3, "column": "Menge",
                                    "reason": "not a number: 'x'"}]}

    code, _, err = run(capsys, "--db", db, "profiles", "delete", "Ingram EU")
    assert code == 0 and "Deleted profile 'Ingram EU'" in err
    code, out, err = run(capsys, "--db", db, "import", "csv", str(path), "--profile",
                         "Ingram EU", "--json")
    assert code == 1 and "no import profile named 'Ingram EU'" in err
    assert json.loads(out)["rejected"][0]["reason"].startswith("no import profile named")


def test_a_bad_profile_is_refused_with_its_problems(tmp_path, capsys):
    code, _, err = run(capsys, "--db", str(tmp_path / "ws.sqlite"), "profiles", "create", "X",
                       "--vendor", "V", "--map", "customer_id=A", "--map", "nope")
    assert code == 1 and "--map expects FIELD=VALUE, not 'nope'" in err
    code, _, err = run(capsys, "--db", str(tmp_path / "ws.sqlite"), "profiles", "create", "X",
                       "--vendor", "V", "--map", "customer_id=A")
    assert code == 1 and "quantity needs a column or a constant" in err
