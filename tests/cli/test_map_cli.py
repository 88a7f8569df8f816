"""`trueup map ...` in a subprocess: the JSON documents and the exit codes are a contract."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.main import main
from app.models.workspace import Workspace
from tests.services.test_mapping import Build

ROOT = Path(__file__).resolve().parents[2]


def _trueup(db: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "TRUEUP_DATA_DIR": str(db.parent)}
    return subprocess.run([sys.executable, "main.py", "--db", str(db), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, env=env)


def _inproc(capsys, db: Path, *args: str) -> tuple[int, str, str]:
    """The same parser and handlers without a new interpreter, for the non-contract checks."""
    code = main(["--db", str(db), *args])
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture()
def db(db_path):
    ws = Workspace.open(db_path)
    b = Build(ws)
    b.customer("v1", "Contoso, Inc.", domain="admin@contoso.com")
    b.customer("v2", "Northwnd Traders")
    b.customer("v3", "Nobody Like Us")
    b.company("c1", "CONTOSO INC", domain="https://contoso.com")
    b.company("c2", "Northwind Traders")
    b.agreement("a1", "c1")
    b.vendor_product("E3", "Microsoft 365 E3")
    b.product("p1", "E3", "Microsoft 365 E3")
    b.line("l1", "a1", "p1", 10)
    b.sub("s1", "v1", "E3", 10)
    b.sub("s2", "v3", "E3", 4)
    ws.close()
    return db_path


def test_map_auto_json_then_list_unmapped_json(db):
    result = _trueup(db, "map", "auto", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["customers_mapped"] == 1 and report["subscriptions_mapped"] == 1
    assert report["suggestions_created"] == 1 and report["unmapped_customers"] == 2

    result = _trueup(db, "map", "list", "--unmapped", "--json")
    assert result.returncode == 0, result.stderr
    overview = json.loads(result.stdout)
    assert overview["customers"] == [] and overview["subscriptions"] == []
    queue = {(i["kind"], i["id"]): i["reason"] for i in overview["unmapped"]}
    assert set(queue) == {("customer", "v2"), ("customer", "v3"), ("subscription", "s2")}
    assert all(queue.values())

    full = json.loads(_trueup(db, "map", "list", "--json").stdout)
    assert [c["psa_company_id"] for c in full["customers"]] == ["c1"]
    [sub] = full["subscriptions"]
    assert (sub["vendor_subscription_id"], sub["psa_line_id"], sub["quantity"]) == (
        "s1", "l1", "10")


def test_suggestions_accept_override_in_process(db, capsys):
    assert _inproc(capsys, db, "map", "auto")[0] == 0
    code, out, _ = _inproc(capsys, db, "map", "suggestions", "--json")
    [sug] = json.loads(out)
    assert (sug["vendor_id"], sug["psa_id"]) == ("v2", "c2")
    assert _inproc(capsys, db, "map", "accept", str(sug["id"]))[0] == 0
    code, _, err = _inproc(capsys, db, "map", "override", "E3", "--customer", "c1",
                           "--price", "31.9900")
    assert code == 0, err
    overview = json.loads(_inproc(capsys, db, "map", "list", "--json")[1])
    assert {c["vendor_customer_id"]: c["method"] for c in overview["customers"]} == {
        "v1": "domain+name", "v2": "suggestion"}
    assert overview["overrides"] == [{"sku": "E3", "psa_company_id": "c1",
                                      "psa_company_name": "CONTOSO INC",
                                      "unit_price": "31.9900", "description": None}]
    code, _, err = _inproc(capsys, db, "map", "subscription", "s2", "l1")
    assert code == 1 and "not mapped to a PSA company" in err
    code, _, err = _inproc(capsys, db, "map", "override", "E3", "--price", "abc")
    assert code == 1 and "not a number" in err
    code, _, err = _inproc(capsys, db, "map", "agreement", "c1", "annual-annual", "a1")
    assert code == 0 and "warning: annual-annual mapped to recurring agreement a1" in err
    code, _, err = _inproc(capsys, db, "map", "unmap", "agreement", "c1", "annual-annual")
    assert code == 0 and "agreement: unmapped" in err


def test_bad_input_exits_non_zero_with_the_reason(db):
    result = _trueup(db, "map", "customer", "nope", "c1")
    assert result.returncode == 1
    assert "no vendor customer with id 'nope'" in result.stderr and result.stdout == ""
