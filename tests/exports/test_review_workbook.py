"""The review workbook: Summary totals, and a Findings sheet people can work in."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.domain.actions import ActionType, PsaAction, action_from_dict, action_to_dict
from app.domain.reconciliation.context import describe_action
from app.exports.review_workbook import COL, HEADERS
from app.exports.sources import describe_actions
from app.services.exports import export
from tests.exports.seed import PERIOD


def _summary_table(sheet, title):
    rows = [[c.value for c in r] for r in sheet.iter_rows()]
    start = next(n for n, r in enumerate(rows) if r[0] == title) + 2
    out = []
    for r in rows[start:]:
        if r[0] is None:
            break
        out.append(r[:5])
    return out


def test_findings_sheet_is_ready_to_work_in(ws, seeded, tmp_path):
    result = export(ws, "review", PERIOD, tmp_path / "review.xlsx", user="ann")
    wb = load_workbook(tmp_path / "review.xlsx")
    assert wb.sheetnames == ["Summary", "Findings", "_trueup"]
    assert wb["_trueup"].sheet_state == "hidden"
    sheet = wb["Findings"]
    assert [c.value for c in sheet[1]] == list(HEADERS)
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == f"A1:R{result.rows + 1}"
    assert result.rows == 6
    for name in ("TrueUp key", "TrueUp version", "TrueUp inputs", "TrueUp as exported"):
        assert sheet.column_dimensions[_letter(name)].hidden
    assert sheet.column_dimensions[_letter("Customer")].width >= len('=HYPERLINK("http://x","y")')
    assert sheet.column_dimensions[_letter("Explain")].width >= 60
    validations = {str(dv.sqref): dv for dv in sheet.data_validations.dataValidation}
    decision, effective = _letter("Decision"), _letter("Effective date")
    assert validations[f"{decision}2:{decision}7"].formula1 == '"approve,reject,defer"'
    assert validations[f"{effective}2:{effective}7"].type == "date"
    assert sheet.column_dimensions[decision].fill.fgColor.rgb.endswith("FFF2CC")

    rows = {r[0].value: r for r in sheet.iter_rows(min_row=2)}
    drift = rows[seeded.findings["drift"]]
    cell = {name: drift[COL[name] - 1] for name in HEADERS}
    assert cell["Customer"].value == "Contoso" and cell["Kind"].value == "quantity_drift"
    assert Decimal(str(cell["Amount"].value)) == Decimal("24.13")
    assert cell["Amount"].data_type == "n" and cell["Amount"].number_format == "#,##0.00##"
    assert cell["Unit price"].value == 12.065 or Decimal(str(cell["Unit price"].value)) == \
        Decimal("12.065")
    assert (cell["Vendor qty"].value, cell["PSA qty"].value, cell["Difference"].value) == \
        (12, 10, 2)
    assert cell["Decision"].value is None  # open: nothing decided yet
    assert cell["Explain"].value == "Contoso: drift explained"
    assert "set the quantity of PSA line L1 to 12" in cell["Proposed action"].value
    approved = rows[seeded.findings["approved"]]
    assert approved[COL["Decision"] - 1].value == "approve"
    assert approved[COL["Effective date"] - 1].value == datetime(2026, 3, 1)
    assert approved[COL["Effective date"] - 1].number_format == "yyyy-mm-dd"
    assert approved[COL["Note"] - 1].value == "ok by Ann"
    rejected = rows[seeded.findings["rejected"]]
    assert rejected[COL["Note"] - 1].value == "=not a formula"
    assert rejected[COL["Note"] - 1].data_type == "s"
    unmapped = rows[seeded.findings["unmapped"]]
    assert unmapped[COL["Customer"] - 1].value == "Unmapped Ltd"  # the vendor's name


def test_summary_totals_by_kind_and_by_customer(ws, seeded, tmp_path):
    export(ws, "review", PERIOD, tmp_path / "review.xlsx", user="ann")
    sheet = load_workbook(tmp_path / "review.xlsx")["Summary"]
    assert sheet["A1"].value == f"TrueUp reconciliation review — {PERIOD}"
    assert sheet["B2"].value == PERIOD and sheet["D3"].value == "ann"
    by_kind = {r[0]: (r[2], r[3], Decimal(str(r[4]))) for r in _summary_table(sheet,
                                                                              "Totals by kind")}
    assert by_kind == {
        "annual_charge_missing": (1, 0, Decimal("150")),
        "billed_but_cancelled": (1, 0, Decimal("-7.5")),
        "cost_change": (1, 0, Decimal("0")),
        "quantity_drift": (2, 2, Decimal("25.63")),
        "unmapped": (1, 1, Decimal("33")),
    }
    by_customer = {r[0]: (r[2], Decimal(str(r[4])))
                   for r in _summary_table(sheet, "Totals by customer")}
    assert by_customer["Contoso"] == (2, Decimal("16.63"))
    assert by_customer["Fabrikam, Inc."] == (2, Decimal("150"))
    assert by_customer['=HYPERLINK("http://x","y")'] == (1, Decimal("1.5"))
    [total] = _summary_table(sheet, "Total")
    assert total[:4] == ["All", "USD", 6, 3] and Decimal(str(total[4])) == Decimal("201.13")


def test_row_cells_follow_the_column_order():
    """_row_cells writes by position: this pins the positions it relies on."""
    assert [COL[h] for h in ("Unit price", "Amount", "Decision", "Effective date", "Note",
                             "Proposed action", "Explain", "TrueUp inputs")] == \
        [11, 13, 14, 15, 16, 17, 18, 21]


def _letter(header):
    from openpyxl.utils import get_column_letter
    return get_column_letter(COL[header])


@pytest.mark.parametrize("action", [
    PsaAction(ActionType.SET_QUANTITY, "connectwise", "2026-03", "A1", "L1",
              desired={"quantity": "12"}, effective_date=date(2026, 4, 1)),
    PsaAction(ActionType.SET_QUANTITY, "autotask", "2026-03", "A1", "", desired={"quantity": "3"}),
    PsaAction(ActionType.CANCEL_LINE, "connectwise", "2026-03", "A1", "L2",
              desired={"cancelled_date": "2026-03-31"}),
    PsaAction(ActionType.ADD_LINE, "connectwise", "2026-03", "A1", None,
              desired={"quantity": "4", "unit_price": "12.065"}, currency="EUR",
              effective_date=date(2026, 4, 1)),
    PsaAction(ActionType.SET_PRICE, "connectwise", "2026-03", "A1", "L3",
              desired={"unit_price": "22", "unit_cost": "17.6"}),
    PsaAction(ActionType.ONE_TIME_CHARGE, "connectwise", "2026-03", "A1",
              desired={"effective_date": "2026-04-01"}, money_effect=Decimal("-7.50")),
])
def test_proposed_action_words_are_the_domains_own(action):
    data = action_to_dict(action)
    assert describe_actions([data]) == describe_action(action_from_dict(data))
