"""Each built-in's output read back cell by cell: exact headers, dates, grouping, totals."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.models.review import Finding
from app.services.exports import ExportError, export
from app.services.settings import get_setting, set_setting
from tests.contract.reference import reference_dir
from tests.exports.seed import PERIOD


def _csv(path, bom: bool) -> list[list[str]]:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf") is bom
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    return list(csv.reader(io.StringIO(text, newline="")))


def _reference_header(*parts: str) -> list[str]:
    raw = reference_dir(*parts).read_bytes().decode("utf-8")
    return next(csv.reader(io.StringIO(raw)))


def _by(rows, header, column):
    return [r[header.index(column)] for r in rows]


def test_xero_csv_has_the_exact_29_column_header_and_one_invoice_per_customer(ws, seeded,
                                                                             tmp_path):
    result = export(ws, "xero", PERIOD, tmp_path / "xero.csv", user="ann")
    header, *rows = _csv(tmp_path / "xero.csv", bom=True)
    assert header == _reference_header("xero", "sales-invoice-import-template.header.csv")
    assert len(header) == 29
    assert result.rows == len(rows) == 9 and result.invoices == 5
    contoso = [r for r in rows if r[0] == "Contoso"]
    # one number per customer; recurring lines first, then the approved one-time credit
    assert {r[header.index("*InvoiceNumber")] for r in contoso} == {"INV-00004"}
    assert _by(contoso, header, "*Description") == ["Defender", "Microsoft 365 E3",
                                                    "Credit Defender [TrueUp R-3]"]
    assert _by(contoso, header, "*Quantity") == ["5", "10", "-1"]
    assert _by(contoso, header, "*UnitAmount") == ["3.5", "22", "7.50"]
    fabrikam = [r for r in rows if r[0] == "Fabrikam, Inc."]
    assert _by(fabrikam, header, "*UnitAmount") == ["12.065", "7", "150.00"]  # full precision
    for row in rows:
        assert row[header.index("*InvoiceDate")] == "01/03/2026"  # DD/MM/YYYY by default
        assert row[header.index("*DueDate")] == "31/03/2026"  # + 30 days
        assert row[header.index("*AccountCode")] == "200"
        assert row[header.index("*TaxType")] == "Tax Exempt"
        assert row[header.index("Currency")] == "USD"
        assert row[header.index("Reference")] == PERIOD
        assert row[header.index("Total")] == row[header.index("TaxAmount")] == ""  # Xero's
    # not billed: the DoNotBill line and the line cancelled before the period
    assert "99" not in _by(rows, header, "*UnitAmount")
    assert any("Teams Phone" in w and "full period price" for w in result.warnings)


def test_xero_region_setting_and_constants_come_from_settings(ws, seeded, tmp_path):
    set_setting(ws, "xero_date_format", "MM/DD/YYYY")
    set_setting(ws, "xero_account_code", "4000")
    set_setting(ws, "xero_tax_type", "20% (VAT on Income)")
    export(ws, "xero", PERIOD, tmp_path / "x.csv")
    header, *rows = _csv(tmp_path / "x.csv", bom=True)
    assert set(_by(rows, header, "*InvoiceDate")) == {"03/01/2026"}
    assert set(_by(rows, header, "*DueDate")) == {"03/31/2026"}
    assert set(_by(rows, header, "*AccountCode")) == {"4000"}
    assert set(_by(rows, header, "*TaxType")) == {"20% (VAT on Income)"}


def test_invoice_numbers_are_remembered_per_period_and_continue_the_sequence(ws, seeded,
                                                                            tmp_path):
    set_setting(ws, "invoice_number_prefix", "TU-")
    set_setting(ws, "invoice_number_next", 41)
    set_setting(ws, "invoice_number_digits", 3)
    export(ws, "xero", PERIOD, tmp_path / "a.csv")
    export(ws, "quickbooks", PERIOD, tmp_path / "b.csv")  # same period: same numbers
    header, *rows = _csv(tmp_path / "a.csv", bom=True)
    qheader, *qrows = _csv(tmp_path / "b.csv", bom=False)
    xero = dict(zip(_by(rows, header, "*ContactName"), _by(rows, header, "*InvoiceNumber"),
                    strict=True))
    qbo = dict(zip(_by(qrows, qheader, "*Customer"), _by(qrows, qheader, "*InvoiceNo"),
                   strict=True))
    assert xero == qbo
    assert sorted(set(xero.values())) == ["TU-041", "TU-042", "TU-043", "TU-044", "TU-045"]
    assert get_setting(ws, "invoice_number_next") == 46


def test_a_true_up_dated_next_month_goes_on_next_months_invoice(ws, seeded, tmp_path):
    """Billed in advance, March's true-up is dated 1 April: April's invoice carries it, and
    April needs no reconciliation of its own to be exported."""
    with ws.begin() as s:
        finding = s.get(Finding, seeded.findings["approved"])
        actions = finding.action["actions"]
        finding.action = {"actions": [{**actions[0], "effective_date": "2026-04-01"}]}
        finding.effective_date = None
    export(ws, "quickbooks", PERIOD, tmp_path / "march.csv")
    export(ws, "quickbooks", "2026-04", tmp_path / "april.csv")
    march_header, *march = _csv(tmp_path / "march.csv", bom=False)
    april_header, *april = _csv(tmp_path / "april.csv", bom=False)
    assert "Annual E3 [TrueUp R-2]" not in _by(march, march_header, "ItemDescription")
    [charge] = [r for r in april if r[april_header.index("ItemDescription")] ==
                "Annual E3 [TrueUp R-2]"]
    assert charge[april_header.index("Service Date")] == "04/01/2026"
    assert charge[april_header.index("*InvoiceDate")] == "04/01/2026"
    assert len(april) == len(march)  # the same recurring lines, the charge moved a month
    with pytest.raises(ExportError, match="period 2026-04 has not been reconciled"):
        export(ws, "review", "2026-04", tmp_path / "r.xlsx")


def test_quickbooks_csv_header_dates_and_amounts(ws, seeded, tmp_path):
    export(ws, "quickbooks", PERIOD, tmp_path / "qbo.csv")
    header, *rows = _csv(tmp_path / "qbo.csv", bom=False)
    assert header == _reference_header("quickbooks", "qbo-invoice-import.observed-header-us.csv")
    assert set(_by(rows, header, "*InvoiceDate")) == {"03/01/2026"}
    assert set(_by(rows, header, "*DueDate")) == {"03/31/2026"}
    assert set(_by(rows, header, "Terms")) == {"Net 30"}
    fabrikam = [r for r in rows if r[1] == "Fabrikam, Inc."]
    # 3 × 12.065 = 36.195 → 36.20 half-up; the mid-period line's service date is its start
    assert _by(fabrikam, header, "*ItemAmount") == ["36.20", "14.00", "150.00"]
    assert _by(fabrikam, header, "Service Date") == ["03/01/2026", "03/15/2026", "03/01/2026"]
    assert _by(fabrikam, header, "Item(Product/Service)")[0] == "M365-E3"
    total = sum(Decimal(v) for v in _by(rows, header, "*ItemAmount"))
    assert total == Decimal("1.50") * 3 + Decimal("17.50") + Decimal("220.00") \
        - Decimal("7.50") + Decimal("36.20") + Decimal("14.00") + Decimal("150.00")


def test_quickbooks_xlsx_has_real_date_cells_and_number_cells(ws, seeded, tmp_path):
    export(ws, "quickbooks", PERIOD, tmp_path / "qbo.xlsx")
    sheet = load_workbook(tmp_path / "qbo.xlsx")["Invoices"]
    header = [c.value for c in sheet[1]]
    assert header == _reference_header("quickbooks", "qbo-invoice-import.observed-header-us.csv")
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:M10"
    rows = list(sheet.iter_rows(min_row=2))
    assert len(rows) == 9
    for row in rows:
        date_cell = row[header.index("*InvoiceDate")]
        assert date_cell.value == datetime(2026, 3, 1) and date_cell.number_format == "mm/dd/yyyy"
        amount = row[header.index("*ItemAmount")]
        assert amount.data_type == "n" and amount.number_format == "#,##0.00##"
        assert row[header.index("ItemQuantity")].data_type == "n"
    fab = [r for r in rows if r[1].value == "Fabrikam, Inc."]
    assert [Decimal(str(r[header.index("*ItemAmount")].value)) for r in fab] == \
        [Decimal("36.2"), Decimal("14"), Decimal("150")]
    assert sheet.column_dimensions["B"].width >= len("Fabrikam, Inc.")


def test_templates_refuse_an_output_they_cannot_write(ws, seeded, tmp_path):
    with pytest.raises(ExportError, match="writes csv, not .xlsx"):
        export(ws, "xero", PERIOD, tmp_path / "x.xlsx")
    with pytest.raises(ExportError, match="period '2030-13' is not a month"):
        export(ws, "xero", "2030-13", tmp_path / "x.csv")
    assert list(tmp_path.glob("x.*")) == []
