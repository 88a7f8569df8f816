"""The NCE invoice reconciliation reader: columns by name, exact values, signed lines, and a
Reject naming row and column for every bad cell."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from app.domain.money import microsoft_licence_subtotal
from app.sync.file_import.csv_records import CsvRecords
from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import FileProblem, Reject
from app.sync.partner_center.recon_file import RECON_COLUMNS, read_recon
from tests.fixtures.partner_center import csv_text, line, write_recon


def read(path: Path) -> list[ParsedLine | tuple[Reject, ...]]:
    return list(read_recon(iter(CsvRecords(path, "utf-8")), path.name))


def good(items: list) -> list[ParsedLine]:
    assert all(isinstance(item, ParsedLine) for item in items), items
    return items


def test_the_stored_part_of_a_parsed_line_matches_the_insert_columns():
    from app.sync.file_import.charge_store import COLUMNS
    from app.sync.file_import.lines import STORED

    renamed = {"key": "line_key", "customer_id": "customer_external_id",
               "subscription_id": "subscription_external_id", "quantity_text": "quantity"}
    stored = [renamed.get(name, name) for name in ParsedLine._fields[:STORED]]
    assert [*stored, "quantity_places", "amount_places"] == list(COLUMNS[2:])


def test_the_46_reference_columns_are_known():
    assert len(RECON_COLUMNS) == 46
    assert RECON_COLUMNS[0] == "PartnerId" and RECON_COLUMNS[-1] == "PromotionID"


def test_a_cycle_line_becomes_exact_stored_values(tmp_path):
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [line()])))
    assert parsed.row == 2
    assert parsed.customer_id == "196e2273-9651-43a3-ba7e-7cbcd918fc40"
    assert parsed.customer_name == "Contoso Ltd"
    assert parsed.customer_domain == "contoso.onmicrosoft.com"
    assert parsed.subscription_id == "86646af9-e80a-4aa0-da80-3fd2b792c2cc"
    assert parsed.sku == "CFQ7TTC0LH18:0001"
    assert parsed.product_name == "Microsoft 365 Business Basic"
    assert parsed.charge_type == "cycleCharge"
    assert (parsed.charge_start, parsed.charge_end) == ("2024-05-01", "2024-05-31")
    assert parsed.quantity == Decimal(10) and parsed.quantity_text == "10"
    assert parsed.unit_price == "5.1" and parsed.exchange_rate == "1"
    assert (parsed.subtotal, parsed.total, parsed.currency) == ("51.00", "51.00", "USD")
    assert parsed.invoice_number == "G000111222"
    assert (parsed.term, parsed.billing_frequency) == ("P1Y", "Monthly")
    assert parsed.order_date == "2024-04-12"
    assert (parsed.subscription_start, parsed.subscription_end) == ("2024-04-12", "2025-04-11")
    assert parsed.seats and not parsed.is_usage and not parsed.cancels
    assert len(parsed.key) == 64 and int(parsed.key, 16) >= 0


def test_values_are_stored_raw_and_the_microsoft_subtotal_rule_is_left_to_the_domain(tmp_path):
    row = line(EffectiveUnitPrice="13.333333333", PCToBCExchangeRate="0.846202666",
               BillableQuantity="7", Subtotal="78.96")
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [row])))
    assert parsed.unit_price == "13.333333333" and parsed.exchange_rate == "0.846202666"
    # ROUNDDOWN(13.333333333 × 0.846202666, 2) × 7 = 11.28 × 7
    subtotal = microsoft_licence_subtotal(Decimal(parsed.unit_price),
                                          Decimal(parsed.exchange_rate), parsed.quantity)
    assert subtotal == Decimal("78.96")


@pytest.mark.parametrize(("text", "iso"), [
    ("2024-05-01", "2024-05-01"),
    ("2024-05-01T00:00:00Z", "2024-05-01"),
    ("2024-05-01T00:00:00.1234567Z", "2024-05-01"),
    ("2019-02-04T09:22:40.1767993-08:00", "2019-02-04"),  # the day as written
    ("5/1/2024", "2024-05-01"),
    ("12/31/2024", "2024-12-31"),
    ("5/1/2024 12:00:00 AM", "2024-05-01"),
    ("5/31/2024 11:59:59 PM", "2024-05-31"),
    ("2/29/2024", "2024-02-29"),
])
def test_microsoft_date_forms(tmp_path, text, iso):
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [line(ChargeStartDate=text,
                                                               ChargeEndDate="12/31/2024")])))
    assert parsed.charge_start == iso


@pytest.mark.parametrize("text", ["31/5/2024", "2/30/2023", "2024-13-01", "May 1st", "5-1-2024"])
def test_a_bad_date_is_rejected_naming_row_column_and_value(tmp_path, text):
    [rejects] = read(write_recon(tmp_path / "r.csv", [line(ChargeStartDate=text)]))
    assert rejects == (Reject(2, "ChargeStartDate", rejects[0].reason),)
    assert repr(text) in rejects[0].reason and "not a date" in rejects[0].reason


def test_numbers_with_many_decimals_and_negative_refunds_stay_exact(tmp_path):
    rows = [line(BillableQuantity="-25", Quantity="-25", EffectiveUnitPrice="0.0382500000001",
                 Subtotal="-0.96", Total="-0.96", ChargeType="removeQuantity"),
            line(BillableQuantity="0.005001", EffectiveUnitPrice="12345678.901234",
                 ChargeType="removeQuantity", Subtotal="61740.74", Total="61740.74")]
    first, second = good(read(write_recon(tmp_path / "r.csv", rows)))
    assert first.quantity == Decimal("-25") and first.quantity_text == "-25"
    assert first.unit_price == "0.0382500000001" and first.subtotal == "-0.96"
    assert second.quantity == Decimal("0.005001") and second.unit_price == "12345678.901234"


def test_add_quantity_is_a_refund_line_and_a_charge_line_that_net_to_the_new_seats(tmp_path):
    rows = [line(ChargeType="addQuantity", BillableQuantity="-10", Subtotal="-40.80",
                 Total="-40.80", ChargeStartDate="5/8/2024"),
            line(ChargeType="addQuantity", BillableQuantity="15", Subtotal="61.20",
                 Total="61.20", ChargeStartDate="5/8/2024")]
    refund, charge = good(read(write_recon(tmp_path / "r.csv", rows)))
    assert refund.quantity + charge.quantity == Decimal(5)
    assert refund.key != charge.key


def test_a_refund_written_with_an_unsigned_quantity_gets_the_sign_of_its_subtotal(tmp_path):
    row = line(ChargeType="Cancel", BillableQuantity="10", Subtotal="-51.00", Total="-51.00")
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [row])))
    assert parsed.quantity == Decimal(-10) and parsed.quantity_text == "-10"
    assert parsed.cancels
    assert '"sign":"from subtotal"' in parsed.extra and '"billable_quantity":"10"' in parsed.extra


def test_a_discount_keeps_its_quantity_but_never_counts_as_seats(tmp_path):
    row = line(ChargeType="Cycle discount", BillableQuantity="10", EffectiveUnitPrice="-0.5",
               Subtotal="-5.00", Total="-5.00")
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [row])))
    assert parsed.charge_type == "discount" and parsed.quantity == Decimal(10)
    assert not parsed.seats and '"seats":false' in parsed.extra
    assert '"charge_type":"Cycle discount"' in parsed.extra


@pytest.mark.parametrize(("text", "code"), [("New", "new"), ("new", "new"),
                                            ("renew", "renew"), ("Cycle fee", "cycleFee"),
                                            ("cycle_charge", "cycleCharge"),
                                            ("ADDQUANTITY", "addQuantity")])
def test_charge_type_spellings(tmp_path, text, code):
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [line(ChargeType=text)])))
    assert parsed.charge_type == code


def test_an_unknown_charge_type_is_rejected_by_name(tmp_path):
    [rejects] = read(write_recon(tmp_path / "r.csv", [line(ChargeType="refundEverything")]))
    assert rejects == (Reject(2, "ChargeType", "unknown charge type 'refundEverything'"),)


def test_every_bad_cell_of_a_row_is_named(tmp_path):
    row = line(CustomerId="", BillableQuantity="ten", Currency="US$",
               ChargeStartDate="6/2/2024", ChargeEndDate="6/1/2024", EffectiveUnitPrice="NaN")
    [rejects] = read(write_recon(tmp_path / "r.csv", [line(), row]))[1:]
    by_column = {reject.column: reject.reason for reject in rejects}
    assert all(reject.row == 3 for reject in rejects)
    assert by_column == {
        "CustomerId": "required value is empty",
        "BillableQuantity": "not a number: 'ten'",
        "Currency": "not a 3-letter currency code: 'US$'",
        "ChargeEndDate": "ends 2024-06-01, before ChargeStartDate 2024-06-02",
        "EffectiveUnitPrice": "not a number: 'NaN'",
    }


def test_empty_optional_cells_are_fine(tmp_path):
    optional = {column: "" for column in ("InvoiceNumber", "OrderId", "OrderDate", "UnitPrice",
                                          "Quantity", "Subtotal", "TaxTotal", "Total",
                                          "TermAndBillingCycle", "BillingFrequency",
                                          "SubscriptionStartDate", "SubscriptionEndDate",
                                          "PCToBCExchangeRateDate", "CustomerName")}
    [parsed] = good(read(write_recon(tmp_path / "r.csv", [line(**optional)])))
    assert parsed.invoice_number is None and parsed.subtotal is None and parsed.term is None
    assert parsed.customer_name is None and parsed.order_date is None


def test_missing_required_columns_are_all_named(tmp_path):
    columns = [c for c in RECON_COLUMNS if c not in ("ChargeType", "BillableQuantity")]
    path = write_recon(tmp_path / "r.csv", [line()], columns=columns)
    with pytest.raises(FileProblem) as caught:
        read(path)
    assert str(caught.value) == ("r.csv: missing required columns ChargeType, "
                                 "BillableQuantity")
    assert {(r.row, r.column) for r in caught.value.rejects} == {
        (1, "ChargeType"), (1, "BillableQuantity")}


def test_extra_reordered_and_respelled_columns_are_fine(tmp_path):
    columns = ["ProductCategory", *reversed(RECON_COLUMNS), "Tier2MpnId"]
    rows = [{**line(), "ProductCategory": "Software", "Tier2MpnId": "123"}]
    text = csv_text(rows, columns).replace("ChargeStartDate", "Charge Start Date", 1)
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    [parsed] = good(read(path))
    assert parsed.charge_start == "2024-05-01" and parsed.quantity == Decimal(10)


def test_quoted_fields_with_commas_and_newlines_keep_the_start_line_as_row(tmp_path):
    rows = [line(CustomerName="Müller, Schmidt\nund Partner GmbH"),
            line(CustomerName='Café "Le Zinc"', OrderId="o-2"),
            line(BillableQuantity="x", OrderId="o-3")]
    items = read(write_recon(tmp_path / "r.csv", rows))
    first, second, bad = items
    assert first.customer_name == "Müller, Schmidt\nund Partner GmbH" and first.row == 2
    assert second.customer_name == 'Café "Le Zinc"' and second.row == 4
    assert bad == (Reject(5, "BillableQuantity", "not a number: 'x'"),)


def test_a_row_with_missing_fields_is_rejected_whole(tmp_path):
    text = csv_text([line()]) + "a,b,c\r\n"
    path = tmp_path / "r.csv"
    path.write_text(text, encoding="utf-8")
    _, rejects = read(path)
    assert rejects == (Reject(3, None, "3 fields where the header has 46"),)


def test_blank_lines_and_a_trailing_comma_are_tolerated(tmp_path):
    body = csv_text([line()]).splitlines()
    path = tmp_path / "r.csv"
    path.write_text("\r\n".join([body[0], body[1] + ",", "", ""]) + "\r\n", encoding="utf-8")
    assert len(good(read(path))) == 1


def test_identity_ignores_names_and_number_spelling_but_not_amounts(tmp_path):
    rows = [line(), line(CustomerName="Contoso (renamed)", BillableQuantity="10.00",
                         ChargeStartDate="2024-05-01T00:00:00Z"),
            line(BillableQuantity="11"), line(InvoiceNumber="")]
    a, b, c, d = good(read(write_recon(tmp_path / "r.csv", rows)))
    assert a.key == b.key
    assert len({a.key, c.key, d.key}) == 3


def test_an_empty_file_has_no_header(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("", encoding="utf-8")
    with pytest.raises(FileProblem, match="no header"):
        read(path)
