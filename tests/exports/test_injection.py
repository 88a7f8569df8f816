"""Customer names that look like formulas reach every output as text, never as formulas."""

from __future__ import annotations

import csv
import zipfile

import pytest
from openpyxl import load_workbook

from app.exports.review_workbook import COL
from app.services.exports import export
from tests.exports.seed import EVIL_NAMES, PERIOD


def _formula_elements(path) -> list[str]:
    with zipfile.ZipFile(path) as archive:
        return [name for name in archive.namelist()
                if name.startswith("xl/worksheets/") and b"<f>" in archive.read(name)]


@pytest.mark.parametrize(("template", "file", "sheet", "column", "names"), [
    ("review", "review.xlsx", "Findings", COL["Customer"], EVIL_NAMES[:1]),
    ("quickbooks", "qbo.xlsx", "Invoices", 2, EVIL_NAMES),
])
def test_xlsx_writes_formula_like_names_as_quote_prefixed_text(ws, seeded, tmp_path, template,
                                                               file, sheet, column, names):
    export(ws, template, PERIOD, tmp_path / file)
    assert _formula_elements(tmp_path / file) == []  # not one formula in any sheet
    cells = [r[column - 1] for r in load_workbook(tmp_path / file)[sheet].iter_rows(min_row=2)]
    evil = [c for c in cells if c.value in EVIL_NAMES]
    assert {c.value for c in evil} == set(names)
    for cell in evil:
        assert cell.data_type == "s" and cell.quotePrefix


def test_money_stays_a_number_even_when_negative(ws, seeded, tmp_path):
    export(ws, "review", PERIOD, tmp_path / "r.xlsx")
    rows = list(load_workbook(tmp_path / "r.xlsx")["Findings"].iter_rows(min_row=2))
    credit = next(r for r in rows if r[0].value == seeded.findings["credit"])
    assert credit[COL["Amount"] - 1].data_type == "n"
    assert credit[COL["Amount"] - 1].value == -7.5


def test_csv_defuses_formula_like_text_but_not_negative_numbers(ws, seeded, tmp_path):
    export(ws, "quickbooks", PERIOD, tmp_path / "q.csv")
    with open(tmp_path / "q.csv", encoding="utf-8", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    customers = {r[1] for r in rows}
    assert {"'" + name for name in EVIL_NAMES} <= customers
    assert not any(c.startswith(("=", "+", "@")) for c in customers)
    amounts = [r[header.index("*ItemAmount")] for r in rows]
    assert "-7.50" in amounts  # a negative amount is a number, not text to defuse
