"""Generic vendor files through a profile: settings checked up front, numbers and dates in
the profile's formats, CSV and XLSX alike, and a preview that shows every cell error."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from app.sync.file_import.encoding import peek_file, scan_file
from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import FileProblem, Reject
from app.sync.generic_import import open_generic, preview
from app.sync.generic_profile import ProfileSettings

EUROPEAN = ProfileSettings(
    columns={"customer_id": "Kunde Nr", "customer_name": "Kunde", "sku": "Artikel",
             "product_name": "Bezeichnung", "quantity": "Menge", "unit_cost": "Preis",
             "charge_start": "Von", "charge_end": "Bis", "term": "Laufzeit"},
    constants={"currency": "EUR"}, delimiter=";", decimal_comma=True, thousands=".",
    date_formats=("%d/%m/%Y",))
HEADER = "Kunde Nr;Kunde;Artikel;Bezeichnung;Menge;Preis;Von;Bis;Laufzeit"


def write(tmp_path, *rows: str, name: str = "v.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(("\r\n".join([HEADER, *rows]) + "\r\n").encode(encoding))
    return path


def read(path, settings=EUROPEAN, vendor="Ingram"):
    return list(open_generic(path, scan_file(path, encoding=None), settings, vendor).lines)


def test_settings_problems_are_all_named():
    bad = ProfileSettings(columns={"customer_id": "A", "colour": "B"},
                          constants={"quantity": "many"}, delimiter=";;", thousands=",",
                          decimal_comma=True, date_formats=("dd/mm/yyyy",), header_row=0,
                          encoding="klingon")
    problems = bad.problems()
    assert any("unknown field 'colour'" in p for p in problems)
    assert "currency needs a column or a constant" in problems
    assert "map sku or product_name (or both)" in problems
    assert any("delimiter must be one character" in p for p in problems)
    assert "the thousands separator cannot be the decimal separator" in problems
    assert any("'dd/mm/yyyy' has no % directive" in p for p in problems)
    assert "the header row is 1 or more" in problems
    assert "unknown encoding 'klingon'" in problems
    assert any(p.startswith("constant quantity: not a number") for p in problems)
    assert EUROPEAN.problems() == []


def test_settings_round_trip_through_json():
    assert ProfileSettings.from_json(EUROPEAN.as_json()) == EUROPEAN


def test_semicolons_decimal_comma_and_day_first_dates(tmp_path):
    path = write(tmp_path, "K-1;Müller GmbH;SKU-9;Backup 1 TB;1.250;1.234,5678;01/05/2024;"
                           "31/05/2024;12 months")
    [parsed] = read(path)
    assert isinstance(parsed, ParsedLine)
    assert parsed.quantity == Decimal(1250) and parsed.unit_price == "1234.5678"
    assert (parsed.charge_start, parsed.charge_end) == ("2024-05-01", "2024-05-31")
    assert (parsed.currency, parsed.term, parsed.charge_type) == ("EUR", "P1Y", "generic")
    assert parsed.customer_name == "Müller GmbH" and parsed.sku == "SKU-9"
    assert parsed.subscription_id == "K-1|SKU-9"  # derived
    assert '"subscription_id":"derived"' in parsed.extra


def test_bad_cells_are_named_by_the_files_own_column_names(tmp_path):
    path = write(tmp_path, "K-1;A;S;P;2;12.50;01/05/2024;31/05/2024;",
                 ";B;S;P;1,5;3,00;2024-05-01;13/13/2024;forever",
                 "K-3;C;S;P;1;1,00;02/05/2024;01/05/2024;")
    items = read(path)
    assert items[0] == (Reject(2, "Preis", "not a number: '12.50' (digit groups do not "
                                           "match the thousands separator '.')"),)
    assert {(r.column, r.reason.split(":")[0]) for r in items[1]} == {
        ("Kunde Nr", "required value is empty"), ("Bis", "not a date"),
        ("Laufzeit", "unknown term")}
    assert items[1][0].row == 3
    assert items[2] == (Reject(4, "Bis", "ends 2024-05-01, before the charge start 2024-05-02"),)


def test_a_wrong_thousands_grouping_fails_loudly(tmp_path):
    [rejects] = read(write(tmp_path, "K;A;S;P;12.50;1,00;;;"))
    assert rejects[0].column == "Menge" and "digit groups" in rejects[0].reason


def test_a_missing_mapped_column_is_named(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("Kunde Nr;Kunde;Artikel\r\nK;A;S\r\n", encoding="utf-8")
    with pytest.raises(FileProblem) as caught:
        read(path)
    assert "missing required columns Bezeichnung, Menge" in str(caught.value)


def test_header_row_and_cp1252(tmp_path):
    settings = ProfileSettings(**{**EUROPEAN.__dict__, "header_row": 3})
    path = tmp_path / "v.csv"
    text = "Export vom 01.06.2024\r\n\r\n" + HEADER + "\r\nK;Café Ñ;S;P;2;3,10;;;\r\n"
    path.write_bytes(text.encode("cp1252"))
    [parsed] = read(path, settings)
    assert parsed.customer_name == "Café Ñ" and parsed.row == 4


def xlsx(tmp_path, settings_sheet: str = "Lines"):
    from openpyxl import Workbook

    book = Workbook()
    book.active.title = "Cover"
    sheet = book.create_sheet(settings_sheet)
    sheet.append(["Report", None])
    sheet.append(["Customer", "Name", "SKU", "Qty", "Cost", "Start", "End", "Currency"])
    sheet.append(["C-1", "Müller GmbH", "SKU-1", 3, 12.5, datetime(2024, 5, 1),
                  datetime(2024, 5, 31), "EUR"])
    sheet.append(["C-2", "Café", "SKU-2", 2, "7,25", "01/05/2024", "31/05/2024", "usd"])
    sheet.append(["C-3", "Bad", "SKU-3", "two", 0.1, "soon", None, "EUR"])
    sheet.append([None] * 8)
    path = tmp_path / "vendor.xlsx"
    book.save(path)
    return path


XLSX_SETTINGS = ProfileSettings(
    columns={"customer_id": "Customer", "customer_name": "Name", "sku": "SKU",
             "quantity": "Qty", "unit_cost": "Cost", "charge_start": "Start",
             "charge_end": "End", "currency": "Currency"},
    decimal_comma=True, date_formats=("%d/%m/%Y",), header_row=2, sheet="Lines")


def test_xlsx_cells_keep_their_types_and_text_cells_use_the_profile(tmp_path):
    path = xlsx(tmp_path)
    first, second, bad = read(path, XLSX_SETTINGS)
    assert first.quantity == Decimal(3) and first.unit_price == "12.5"
    assert (first.charge_start, first.charge_end) == ("2024-05-01", "2024-05-31")
    assert second.unit_price == "7.25" and second.currency == "USD"
    assert second.charge_start == "2024-05-01" and second.row == 4
    assert {(r.row, r.column) for r in bad} == {(5, "Qty"), (5, "Start")}


def test_an_unknown_sheet_is_named(tmp_path):
    settings = ProfileSettings(**{**XLSX_SETTINGS.__dict__, "sheet": "Nope"})
    with pytest.raises(FileProblem, match="no sheet named 'Nope' \\(sheets: Cover, Lines\\)"):
        read(xlsx(tmp_path), settings)


def test_preview_shows_parsed_values_and_per_cell_errors(tmp_path):
    path = write(tmp_path, "K-1;A;S;P;2;12,50;01/05/2024;31/05/2024;",
                 "K-2;B;S;P;zwei;3,00;32/05/2024;31/05/2024;1 year")
    shown = preview(path, peek_file(path), EUROPEAN, rows=10)
    assert shown.problems == () and shown.columns[0] == "Kunde Nr"
    assert shown.fields[:3] == ("customer_id", "customer_name", "sku")
    good, bad = shown.rows
    assert good.ok and not bad.ok
    cells = {cell.field: cell for cell in good.cells}
    assert cells["unit_cost"].value == Decimal("12.50") and cells["unit_cost"].raw == "12,50"
    assert cells["charge_start"].value == date(2024, 5, 1)
    assert cells["currency"].column is None and cells["currency"].value == "EUR"
    errors = {cell.field: cell.error for cell in bad.cells if cell.error}
    assert set(errors) == {"quantity", "charge_start"}
    assert errors["quantity"] == "not a number: 'zwei'"
    assert {cell.field: cell.value for cell in bad.cells}["term"] == "P1Y"


def test_preview_lists_missing_columns_instead_of_failing(tmp_path):
    path = tmp_path / "v.csv"
    path.write_text("Kunde Nr;Menge;Artikel\r\nK;2;S\r\n", encoding="utf-8")
    shown = preview(path, peek_file(path), EUROPEAN)
    assert "column 'Preis' is not in the file's header" in shown.problems
    [row] = shown.rows
    missing = {cell.field: cell.error for cell in row.cells}
    assert missing["unit_cost"] == "column is missing from the header"
    assert {cell.field: cell.value for cell in row.cells}["quantity"] == Decimal(2)


def test_preview_of_an_xlsx(tmp_path):
    shown = preview(xlsx(tmp_path), peek_file(xlsx(tmp_path)), XLSX_SETTINGS, rows=2)
    assert [row.row for row in shown.rows] == [3, 4] and all(r.ok for r in shown.rows)
