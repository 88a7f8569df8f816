"""User templates: copy a built-in, edit it as Excel would, register it, fill it.

Its own styles, extra sheets, title rows and formula columns survive a fill; an invalid
template is refused with the column and the problem named.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from openpyxl.styles import Font, PatternFill

from app.services.exports import (
    ExportError,
    copy_template,
    export,
    list_templates,
    preview,
    register_template,
    remove_template,
    show_template,
)
from tests.exports.seed import PERIOD

GREEN = "FF00B050"


def _meta_row(meta, first: str):
    return next(r for r in meta.iter_rows() if r[0].value == first)


def _set(meta, first: str, column: int, value) -> None:
    _meta_row(meta, first)[column].value = value


def _copy(ws, tmp_path, name="xero"):
    path = tmp_path / f"{name}-copy.xlsx"
    copy_template(ws, name, path)
    return path, load_workbook(path)


def test_copy_edit_register_and_fill_keeps_the_persons_workbook(ws, seeded, tmp_path):
    path, wb = _copy(ws, tmp_path)
    sheet, meta = wb["Invoices"], wb["_trueup"]
    sheet.insert_rows(1, 2)  # two title rows above the header
    sheet["A1"] = "Acme MSP — invoices"
    sheet["A1"].font = Font(bold=True, size=16)
    for cell in sheet[3]:
        cell.fill = PatternFill("solid", fgColor=GREEN)
    sheet["A4"].fill = PatternFill("solid", fgColor="FFFFFF00")  # sample row styles
    sheet["S4"].number_format = "0.000"
    sheet["AD3"] = "LineTotal"
    sheet["AD4"] = "=R4*S4"  # a formula column, copied down
    wb.create_sheet("Notes")["A1"] = "Checked by: ________"
    _set(meta, "name", 1, "acme-xero")
    _set(meta, "header_row", 1, 3)
    _set(meta, "output", 1, "xlsx")
    _set(meta, "U", 3, "4100")  # the AccountCode constant
    wb.save(path)

    info = register_template(ws, path)
    assert info.name == "acme-xero" and info.outputs == ("xlsx",)
    assert any(c["binding"] == "formula =R4*S4" for c in info.columns)
    result = export(ws, "acme-xero", PERIOD, tmp_path / "out.xlsx")
    assert result.rows == 9

    out = load_workbook(tmp_path / "out.xlsx")
    assert out.sheetnames == ["Invoices", "Notes"]  # the bindings sheet is not delivered
    assert out["Notes"]["A1"].value == "Checked by: ________"
    filled = out["Invoices"]
    assert filled["A1"].value == "Acme MSP — invoices" and filled["A1"].font.size == 16
    assert filled["A3"].value == "*ContactName" and filled["A3"].fill.fgColor.rgb == GREEN
    assert filled["AD3"].value == "LineTotal"
    for r in range(4, 13):
        assert filled[f"AD{r}"].value == f"=R{r}*S{r}"
        assert filled[f"A{r}"].fill.fgColor.rgb == "FFFFFF00"
        assert filled[f"S{r}"].number_format == "0.000"
        assert filled[f"U{r}"].value == "4100"
        assert filled[f"M{r}"].value == datetime(2026, 3, 1)
        assert filled[f"M{r}"].number_format == "dd/mm/yyyy"
    assert filled["A13"].value is None
    amounts = {filled[f"Q{r}"].value: Decimal(str(filled[f"S{r}"].value)) for r in range(4, 13)}
    assert amounts["Exchange Online"] == Decimal("12.065")
    evil = [filled[f"A{r}"] for r in range(4, 13) if filled[f"A{r}"].value.startswith("=")]
    assert evil and all(c.data_type == "s" and c.quotePrefix for c in evil)


def test_list_show_preview_and_remove(ws, seeded, tmp_path):
    path, wb = _copy(ws, tmp_path, "quickbooks")
    _set(wb["_trueup"], "name", 1, "qbo-mine")
    wb.save(path)
    register_template(ws, path)
    names = [t.name for t in list_templates(ws)]
    assert names == ["xero", "quickbooks", "review", "qbo-mine"]
    shown = show_template(ws, "qbo-mine")
    assert shown.columns[0] == {"column": "A", "header": "*InvoiceNo",
                                "binding": "field invoice_number", "format": ""}
    sample = preview(ws, "qbo-mine", PERIOD, rows=2)
    assert sample.total == 9 and len(sample.rows) == 2
    assert sample.headers[:2] == ["*InvoiceNo", "*Customer"]
    with pytest.raises(ExportError, match="already registered"):
        register_template(ws, path)
    remove_template(ws, "qbo-mine")
    assert [t.name for t in list_templates(ws)] == ["xero", "quickbooks", "review"]
    with pytest.raises(ExportError, match="built in"):
        remove_template(ws, "xero")


@pytest.mark.parametrize(("edit", "message"), [
    (lambda s, m: _set(m, "A", 2, "custmer"),
     r"column A \(\*ContactName\): unknown field 'custmer'"),
    (lambda s, m: _set(m, "M", 4, "DD/MM/YY"),
     r"column M \(\*InvoiceDate\): date format 'DD/MM/YY' is not one of"),
    (lambda s, m: s.cell(1, 1, "Contact"),
     r"column A \(Contact\): the sheet's header says 'Contact' but the binding says"),
    (lambda s, m: s.cell(2, 2, "x"),
     r"column B \(EmailAddress\): the sample row holds 'x' but the column is not bound"),
    (lambda s, m: s.cell(2, 30, "=R2*S2"), r"column AD: formula columns need xlsx output"),
    (lambda s, m: s.cell(5, 1, "Total"), r"row 5 of sheet 'Invoices' has values below"),
    (lambda s, m: _set(m, "R", 2, "quantity_x"), r"column R \(\*Quantity\): unknown field"),
    (lambda s, m: _set(m, "U", 4, "{nope}"), r"column U \(\*AccountCode\): \{nope\} is not"),
    (lambda s, m: _set(m, "sheet", 1, "x" * 32), r"sheet name 'x+' is 32 characters"),
    (lambda s, m: _set(m, "source", 1, "everything"), r"source 'everything' is not one of"),
])
def test_an_invalid_template_is_refused_naming_the_column(ws, tmp_path, edit, message):
    path, wb = _copy(ws, tmp_path)
    edit(wb["Invoices"], wb["_trueup"])
    wb.save(path)
    with pytest.raises(ExportError, match=message):
        register_template(ws, path, name="bad")
    assert [t.name for t in list_templates(ws)] == ["xero", "quickbooks", "review"]


def test_a_workbook_without_bindings_is_refused(ws, tmp_path):
    from openpyxl import Workbook

    Workbook().save(tmp_path / "plain.xlsx")
    with pytest.raises(ExportError, match="has no _trueup sheet"):
        register_template(ws, tmp_path / "plain.xlsx")
    (tmp_path / "text.xlsx").write_text("not a workbook")
    with pytest.raises(ExportError, match="not an Excel workbook"):
        register_template(ws, tmp_path / "text.xlsx")


def test_the_review_workbook_cannot_be_copied_as_a_template(ws, tmp_path):
    with pytest.raises(ExportError, match="built by TrueUp itself"):
        copy_template(ws, "review", tmp_path / "r.xlsx")
