"""Importing Partner Center files into a real SQLite workspace: what lands, what is refused,
and that a refused, cancelled or failed import leaves the database exactly as it was."""

from __future__ import annotations

import shutil
import threading
from datetime import datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

import app.sync.vendor_store as vendor_store
from app.models import usage_days
from app.models.connections import Connection, ImportFile
from app.models.vendor import ChargeLine, VendorCustomer, VendorProduct, VendorSubscription
from app.models.workspace import Workspace
from app.services.imports import (
    FileImportError,
    ImportCancelled,
    import_partner_center_file,
)
from app.sync.file_import import loader
from app.sync.file_import import problems as problems_module
from tests.fixtures.partner_center import csv_text, line, usage_line, write_recon, write_usage

try:
    from tests.contract.reference import reference_dir
except ImportError:  # pragma: no cover - see test_partner_center_charge_types.py
    from tests.sync.test_partner_center_charge_types import reference_dir

TABLES = (Connection, ImportFile, ChargeLine, VendorCustomer, VendorProduct, VendorSubscription)


@pytest.fixture(scope="module")
def migrated(tmp_path_factory):
    """One migrated workspace file, copied for each test: migrations run once per module."""
    path = tmp_path_factory.mktemp("template") / "workspace.sqlite"
    Workspace.open(path).close()
    return path


@pytest.fixture()
def ws(db_path, migrated):
    shutil.copyfile(migrated, db_path)
    workspace = Workspace.open(db_path, upgrade=False)
    yield workspace
    workspace.close()


def counts(ws: Workspace) -> dict[str, int]:
    with ws.begin() as s:
        return {t.__tablename__: s.scalar(select(func.count()).select_from(t)) for t in TABLES}


def lines(ws: Workspace) -> list[ChargeLine]:
    with ws.begin() as s:
        return list(s.scalars(select(ChargeLine).order_by(ChargeLine.id)))


def subscription(ws: Workspace, external_id: str) -> VendorSubscription:
    with ws.begin() as s:
        return s.scalars(select(VendorSubscription)
                         .where(VendorSubscription.external_id == external_id)).one()


SUB = "86646af9-e80a-4aa0-da80-3fd2b792c2cc"


# --- what lands ----------------------------------------------------------------------------------


def test_the_reference_sample_imports(ws):
    sample = reference_dir("partner-center", "samples",
                           "nce-invoice-recon.DERIVED-from-ms-docs-json.csv")
    result = import_partner_center_file(ws, sample)
    assert (result.imported, result.duplicates, result.already_imported) == (8, 0, False)
    assert result.connection == "Partner Center" and result.rejected == ()
    assert counts(ws) == {"connections": 1, "import_files": 1, "charge_lines": 8,
                          "vendor_customers": 4, "vendor_products": 4,
                          "vendor_subscriptions": 4}
    power_bi = [c for c in lines(ws) if c.sku == "CFQ7TTC0HL8W:0001"]
    assert {c.invoice_number for c in power_bi} == {"G000773581", None}  # billed + unbilled
    billed = next(c for c in power_bi if c.invoice_number)
    assert (billed.quantity, billed.unit_price, billed.exchange_rate) == (
        Decimal(50), Decimal("14.4"), Decimal(1))
    assert (billed.subtotal, billed.total, billed.currency) == (Decimal(720), Decimal(793), "USD")
    assert billed.charge_start.isoformat() == "2021-05-20" and billed.term == "P1Y"
    assert billed.extra["promotion_id"] == "78bcf906-b945-4210-8818-cfb93caf12a1"
    with ws.begin() as s:
        record = s.scalars(select(ImportFile)).one()
        assert (record.kind, record.rows, record.duplicates, record.rejected) == (
            "partner_center_recon", 8, 0, 0)
        customers = {c.external_id: c for c in s.scalars(select(VendorCustomer))}
    assert customers["org:9060d13d-c5ed-482e-b059-a15a38cbb28e"].name == "recipientCustomerName"


def test_a_recon_file_alone_gives_customers_products_and_subscriptions(ws, tmp_path):
    rows = [line(),
            line(ChargeType="addQuantity", BillableQuantity="-10", Subtotal="-40.80",
                 Total="-40.80", ChargeStartDate="5/8/2024", OrderId="o-2"),
            line(ChargeType="addQuantity", BillableQuantity="15", Subtotal="61.20",
                 Total="61.20", ChargeStartDate="5/8/2024", OrderId="o-2"),
            line(SubscriptionId="sub-cancelled", ChargeType="new"),
            line(SubscriptionId="sub-cancelled", ChargeType="cancel", BillableQuantity="-10",
                 Subtotal="-51.00", Total="-51.00")]
    import_partner_center_file(ws, write_recon(tmp_path / "may.csv", rows))
    grown = subscription(ws, SUB)
    assert grown.quantity == Decimal(15) and grown.status == "Active"
    assert (grown.sku, grown.product_name, grown.currency) == (
        "CFQ7TTC0LH18:0001", "Microsoft 365 Business Basic", "USD")
    assert (grown.term, grown.billing_frequency) == ("P1Y", "Monthly")
    assert (grown.start_date.isoformat(), grown.end_date.isoformat()) == (
        "2024-04-12", "2025-04-11")
    cancelled = subscription(ws, "sub-cancelled")
    assert cancelled.quantity == 0 and cancelled.status == "Cancelled"
    with ws.begin() as s:
        customer = s.scalars(select(VendorCustomer)).one()
    assert (customer.name, customer.domain) == ("Contoso Ltd", "contoso.onmicrosoft.com")
    assert customer.id == grown.customer_id


def test_a_later_month_updates_the_subscription_and_an_older_one_does_not(ws, tmp_path):
    may = write_recon(tmp_path / "may.csv", [line()])
    june = write_recon(tmp_path / "june.csv", [line(
        BillableQuantity="12", ChargeStartDate="6/1/2024", ChargeEndDate="6/30/2024",
        InvoiceNumber="G000222333", SkuName="Business Basic (renamed)")])
    import_partner_center_file(ws, june)
    assert subscription(ws, SUB).quantity == Decimal(12)
    import_partner_center_file(ws, may)
    after = subscription(ws, SUB)
    assert after.quantity == Decimal(12)
    assert after.product_name == "Microsoft 365 Business Basic"  # names still refresh


def test_usage_lines_are_not_seats(ws, tmp_path):
    result = import_partner_center_file(ws, write_usage(tmp_path / "u.csv", [usage_line()]),
                                        usage=True)
    assert result.imported == 1 and result.kind == "partner_center_usage"
    [stored] = lines(ws)
    assert stored.is_usage and stored.quantity == Decimal("23.200004")
    # how its numbers are written, for exact usage sums (the subtotal: it has no total)
    assert (stored.quantity_places, stored.amount_places) == (6, 15)
    # and its day added up by the import itself, for reconciliations
    with ws.engine.connect() as conn:
        assert usage_days.current(conn)
        assert conn.exec_driver_sql(
            "SELECT day, lines, amount_places FROM usage_days").all() == [("2024-05-13", 1, 15)]
    azure = subscription(ws, "2ae795eb-f76d-ce69-cba0-123456789000")
    assert azure.quantity == 0 and azure.billing_frequency == "Usage"


def test_progress_is_reported_in_bytes_up_to_the_file_size(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "REPORT_EVERY", 2)
    path = write_recon(tmp_path / "r.csv", [line(OrderId=f"o-{i}") for i in range(6)])
    seen = []
    import_partner_center_file(ws, path, progress=lambda d, t, m: seen.append((d, t, m)))
    size = path.stat().st_size
    assert all(total == size and 0 <= done <= size for done, total, _ in seen)
    assert seen[-1][0] == size and "updating customers" in seen[-1][2]
    assert any("6 lines read" in message for _, _, message in seen)


# --- duplicates and re-imports ---------------------------------------------------------------------


def test_the_same_line_twice_in_a_file_is_stored_once(ws, tmp_path):
    path = write_recon(tmp_path / "r.csv", [line(), line(OrderId="o-2"), line()])
    result = import_partner_center_file(ws, path)
    assert (result.imported, result.duplicates) == (2, 1)
    assert counts(ws)["charge_lines"] == 2
    with ws.begin() as s:
        assert s.scalars(select(ImportFile)).one().duplicates == 1
    assert len({c.line_key for c in lines(ws)}) == 2
    assert subscription(ws, SUB).quantity == Decimal(20)  # two lines, not three


def test_importing_the_same_file_again_changes_nothing(ws, tmp_path):
    path = write_recon(tmp_path / "r.csv", [line()])
    import_partner_center_file(ws, path)
    before = counts(ws)
    again = import_partner_center_file(ws, path)
    assert again.already_imported and (again.imported, again.duplicates) == (0, 0)
    assert again.connection == "Partner Center"
    assert counts(ws) == before


def test_the_same_lines_resaved_differently_are_all_duplicates(ws, tmp_path):
    import_partner_center_file(ws, write_recon(tmp_path / "a.csv", [line(), line(OrderId="x")]))
    resaved = write_recon(tmp_path / "b.csv", [
        line(ChargeStartDate="2024-05-01T00:00:00Z", BillableQuantity="10.00"),
        line(OrderId="x", CustomerName="Contoso (renamed)")], encoding="utf-16")
    result = import_partner_center_file(ws, resaved)
    assert (result.already_imported, result.imported, result.duplicates) == (False, 0, 2)
    assert counts(ws)["charge_lines"] == 2


# --- refused imports leave nothing behind ----------------------------------------------------------


def test_a_file_with_bad_rows_imports_nothing_and_names_each_cell(ws, tmp_path):
    import_partner_center_file(ws, write_recon(tmp_path / "earlier.csv", [line(OrderId="e")]))
    before = counts(ws)
    path = write_recon(tmp_path / "bad.csv", [
        line(), line(OrderId="o-2", ChargeStartDate="13/1/2024"),
        line(OrderId="o-3", ChargeType="bogus", Currency="euro"), line(OrderId="o-4")])
    with pytest.raises(FileImportError) as caught:
        import_partner_center_file(ws, path)
    assert str(caught.value) == ("bad.csv: 2 rows rejected, nothing imported (fix the file, "
                                 "or import the good rows only)")
    result = caught.value.result
    assert result.file == "bad.csv" and result.imported == 0 and result.rejected_rows == 2
    assert [(r.row, r.column) for r in result.rejected] == [
        (3, "ChargeStartDate"), (4, "ChargeType"), (4, "Currency")]
    assert result.rejected[1].reason == "unknown charge type 'bogus'"
    assert counts(ws) == before


BAD_CELLS = [  # (overrides, column, reason)
    ({"ChargeStartDate": "31/12/2024"}, "ChargeStartDate", "not a date: '31/12/2024'"),
    ({"ChargeEndDate": "2024-04-30"}, "ChargeEndDate",
     "ends 2024-04-30, before ChargeStartDate 2024-05-01"),
    ({"ChargeType": "giveaway"}, "ChargeType", "unknown charge type 'giveaway'"),
    ({"ChargeType": ""}, "ChargeType", "required value is empty"),
    ({"BillableQuantity": "1,5"}, "BillableQuantity", "not a number: '1,5'"),
    ({"EffectiveUnitPrice": "Infinity"}, "EffectiveUnitPrice", "not a number: 'Infinity'"),
    ({"PCToBCExchangeRate": ""}, "PCToBCExchangeRate", "required value is empty"),
    ({"Total": "12.5.1"}, "Total", "not a number: '12.5.1'"),
    ({"Currency": "EURO"}, "Currency", "not a 3-letter currency code: 'EURO'"),
    ({"CustomerId": " "}, "CustomerId", "required value is empty"),
    ({"SubscriptionId": ""}, "SubscriptionId", "required value is empty"),
    ({"SkuId": "x" * 101}, "SkuId", "longer than 100 characters"),
    ({"OrderDate": "yesterday"}, "OrderDate", "not a date: 'yesterday'"),
]


@pytest.mark.parametrize(("overrides", "column", "reason"), BAD_CELLS,
                         ids=[f"{c}-{r[:20]}" for _, c, r in BAD_CELLS])
def test_each_bad_cell_names_file_row_and_column_and_writes_nothing(ws, tmp_path, overrides,
                                                                    column, reason):
    import_partner_center_file(ws, write_recon(tmp_path / "before.csv", [line(OrderId="b")]))
    before = counts(ws)
    path = write_recon(tmp_path / "bad.csv", [line(), line(OrderId="o-2", **overrides)])
    with pytest.raises(FileImportError, match=r"^bad\.csv: 1 row rejected") as caught:
        import_partner_center_file(ws, path)
    [reject] = caught.value.result.rejected
    assert (reject.row, reject.column) == (3, column)
    assert reason in reject.reason
    assert reject.describe("bad.csv").startswith(f"bad.csv:3: {column}: ")
    assert counts(ws) == before


def test_a_short_row_and_an_empty_file_write_nothing(ws, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text(csv_text([line()]) + "a,b\r\n", encoding="utf-8")
    with pytest.raises(FileImportError) as caught:
        import_partner_center_file(ws, short)
    assert caught.value.result.rejected[0].as_json() == {
        "row": 3, "column": None, "reason": "2 fields where the header has 46"}
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileImportError, match="empty.csv: the file is empty"):
        import_partner_center_file(ws, empty)
    assert counts(ws) == dict.fromkeys(counts(ws), 0)


def test_a_missing_required_column_is_named_and_nothing_is_written(ws, tmp_path):
    from app.sync.partner_center.recon_file import RECON_COLUMNS

    columns = [c for c in RECON_COLUMNS if c != "SubscriptionId"]
    path = write_recon(tmp_path / "cols.csv", [line()], columns=columns)
    before = counts(ws)
    with pytest.raises(FileImportError, match="cols.csv: missing required column "
                                              "SubscriptionId") as caught:
        import_partner_center_file(ws, path)
    assert [r.as_json() for r in caught.value.result.rejected] == [
        {"row": 1, "column": "SubscriptionId",
         "reason": "required column is missing from the header"}]
    assert counts(ws) == before


def test_an_unreadable_encoding_is_refused_with_nothing_written(ws, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_text([line()]).encode() + b"x,\x81\r\n")
    with pytest.raises(FileImportError, match="bad.csv: line 3: byte 0x81"):
        import_partner_center_file(ws, path)
    assert counts(ws) == dict.fromkeys(counts(ws), 0)


def test_a_workbook_or_a_usage_file_given_as_recon_is_refused_clearly(ws, tmp_path):
    from openpyxl import Workbook

    book = tmp_path / "recon.xlsx"
    Workbook().save(book)
    with pytest.raises(FileImportError, match="recon.xlsx: this is an Excel workbook"):
        import_partner_center_file(ws, book)
    usage = write_usage(tmp_path / "u.csv", [usage_line()])
    with pytest.raises(FileImportError, match="daily rated usage file"):
        import_partner_center_file(ws, usage)
    assert counts(ws) == dict.fromkeys(counts(ws), 0)


def test_accept_good_rows_imports_them_and_keeps_the_rejects(ws, tmp_path):
    path = write_recon(tmp_path / "mixed.csv", [
        line(), line(OrderId="o-2", BillableQuantity="lots"), line(OrderId="o-3")])
    result = import_partner_center_file(ws, path, accept_good_rows=True)
    assert (result.imported, result.rejected_rows) == (2, 1)
    assert [r.as_json() for r in result.rejected] == [
        {"row": 3, "column": "BillableQuantity", "reason": "not a number: 'lots'"}]
    with ws.begin() as s:
        record = s.scalars(select(ImportFile)).one()
        assert (record.rows, record.rejected) == (2, 1)
        assert record.rejects == [{"row": 3, "column": "BillableQuantity",
                                   "reason": "not a number: 'lots'"}]
    assert result.as_json()["rejected"] == record.rejects


def test_a_huge_reject_list_is_capped_but_counted(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(problems_module, "MAX_LISTED_REJECTS", 2)
    path = write_recon(tmp_path / "r.csv", [line(OrderId=f"o{i}", Currency="??")
                                            for i in range(5)] + [line()])
    result = import_partner_center_file(ws, path, accept_good_rows=True)
    assert result.rejected_rows == 5 and result.imported == 1
    assert [r.row for r in result.rejected] == [2, 3, None]
    assert result.rejected[-1].reason == "3 more rejected cells not listed"


def test_cancelling_leaves_nothing(ws, tmp_path, monkeypatch):
    monkeypatch.setattr(loader, "REPORT_EVERY", 2)
    path = write_recon(tmp_path / "r.csv", [line(OrderId=f"o-{i}") for i in range(10)])
    cancel = threading.Event()

    def progress(done: int, total: int, message: str) -> None:
        if "lines read" in message:
            cancel.set()

    with pytest.raises(ImportCancelled):
        import_partner_center_file(ws, path, progress=progress, cancel=cancel)
    assert counts(ws) == dict.fromkeys(counts(ws), 0)


def test_cancelling_at_the_very_end_still_leaves_nothing(ws, tmp_path):
    path = write_recon(tmp_path / "r.csv", [line()])
    cancel = threading.Event()
    with pytest.raises(ImportCancelled):
        import_partner_center_file(ws, path, cancel=cancel,
                                   progress=lambda d, t, m: cancel.set())
    assert counts(ws) == dict.fromkeys(counts(ws), 0)


def test_a_database_error_midway_rolls_everything_back(ws, tmp_path, monkeypatch):
    from app.sync.file_import import vendor_entities

    def boom(self, conn, connection_id):  # noqa: ANN001
        raise RuntimeError("disk full")

    monkeypatch.setattr(vendor_entities.VendorEntities, "write", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        import_partner_center_file(ws, write_recon(tmp_path / "r.csv", [line()]))
    assert counts(ws) == dict.fromkeys(counts(ws), 0)


def test_the_bulk_load_path_drops_and_rebuilds_indexes_within_the_transaction(ws, tmp_path,
                                                                              monkeypatch):
    from app.sync.file_import import charge_store

    monkeypatch.setattr(charge_store, "BYTES_PER_LINE", 1)  # every file counts as big
    import_partner_center_file(ws, write_recon(tmp_path / "r.csv", [line()] * 1))
    with ws.engine.connect() as conn:
        names = {r[0] for r in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE tbl_name = 'charge_lines'")}
    assert {"ix_charge_lines_subscription", "ix_charge_lines_import_file_id"} <= names


# --- connections ------------------------------------------------------------------------------------


def test_a_named_connection_is_used_or_created_and_the_wrong_kind_refused(ws, tmp_path):
    first = import_partner_center_file(ws, write_recon(tmp_path / "a.csv", [line()]),
                                       connection="PC EU")
    assert first.connection == "PC EU"
    with ws.begin() as s:
        s.add(Connection(name="Pax8", kind="pax8", side="vendor", settings={}))
    with pytest.raises(FileImportError, match="'Pax8' is a pax8 connection"):
        import_partner_center_file(ws, write_recon(tmp_path / "b.csv", [line(OrderId="b")]),
                                   connection="Pax8")
    second = import_partner_center_file(ws, write_recon(tmp_path / "c.csv",
                                                        [line(OrderId="c")]))
    assert second.connection == "PC EU"  # the only Partner Center connection


def test_two_partner_center_connections_must_be_named(ws, tmp_path):
    with ws.begin() as s:
        s.add_all([Connection(name=n, kind="partner_center", side="vendor", settings={})
                   for n in ("PC US", "PC EU")])
    with pytest.raises(FileImportError, match=r"several Partner Center connections \(PC EU, "):
        import_partner_center_file(ws, write_recon(tmp_path / "a.csv", [line()]))


# --- generic profiles ---------------------------------------------------------------------------

from app.services.imports import (  # noqa: E402
    ProfileError,
    ProfileSettings,
    create_profile,
    delete_profile,
    get_profile,
    import_with_profile,
    list_profiles,
    preview_with_profile,
)

SEMICOLONS = ProfileSettings(
    columns={"customer_id": "Kunde", "sku": "Artikel", "quantity": "Menge",
             "unit_cost": "Preis", "charge_start": "Von", "charge_end": "Bis"},
    constants={"currency": "EUR"}, delimiter=";", decimal_comma=True,
    date_formats=("%d/%m/%Y",))


def vendor_file(tmp_path, *rows: str, name: str = "ingram.csv"):
    path = tmp_path / name
    path.write_text("\r\n".join(["Kunde;Artikel;Menge;Preis;Von;Bis", *rows]) + "\r\n",
                    encoding="utf-8")
    return path


def test_profiles_are_created_listed_shown_and_deleted(ws):
    created = create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    assert created.settings == SEMICOLONS and created.vendor_name == "Ingram Micro"
    assert [p.name for p in list_profiles(ws)] == ["Ingram EU"]
    assert get_profile(ws, "Ingram EU").settings == SEMICOLONS
    with pytest.raises(ProfileError, match="already exists"):
        create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    with pytest.raises(ProfileError, match="needs a column or a constant"):
        create_profile(ws, "Broken", "X", ProfileSettings(columns={"customer_id": "A",
                                                                    "sku": "B"}))
    delete_profile(ws, "Ingram EU")
    assert list_profiles(ws) == []
    with pytest.raises(ProfileError, match=r"no import profile named 'Ingram EU' \(profiles: "
                                           r"none yet\)"):
        get_profile(ws, "Ingram EU")


def test_a_profile_import_produces_generic_charge_lines_with_the_same_rules(ws, tmp_path):
    create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    path = vendor_file(tmp_path, "K-1;BKP-1TB;3;12,50;01/05/2024;31/05/2024",
                       "K-1;BKP-1TB;3;12,50;01/05/2024;31/05/2024",
                       "K-2;MAIL;10;1,2345;01/05/2024;31/05/2024")
    result = import_with_profile(ws, path, "Ingram EU")
    assert (result.imported, result.duplicates, result.connection) == (2, 1, "Ingram Micro")
    stored = lines(ws)
    assert {c.charge_type for c in stored} == {"generic"}
    assert {(c.customer_external_id, c.quantity, c.unit_price, c.currency) for c in stored} == {
        ("K-1", Decimal(3), Decimal("12.50"), "EUR"), ("K-2", Decimal(10), Decimal("1.2345"),
                                                       "EUR")}
    assert subscription(ws, "K-1|BKP-1TB").quantity == Decimal(3)
    assert import_with_profile(ws, path, "Ingram EU").already_imported
    with ws.begin() as s:
        assert s.scalars(select(Connection)).one().kind == "generic_file"


def test_a_profile_import_with_bad_rows_writes_nothing(ws, tmp_path):
    create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    before = counts(ws)
    path = vendor_file(tmp_path, "K-1;A;3;12,50;01/05/2024;31/05/2024",
                       "K-2;B;drei;1,00;01/05/2024;31/05/2024")
    with pytest.raises(FileImportError) as caught:
        import_with_profile(ws, path, "Ingram EU")
    assert [r.as_json() for r in caught.value.result.rejected] == [
        {"row": 3, "column": "Menge", "reason": "not a number: 'drei'"}]
    assert counts(ws) == before
    accepted = import_with_profile(ws, path, "Ingram EU", accept_good_rows=True)
    assert (accepted.imported, accepted.rejected_rows) == (1, 1)


def test_a_profile_imports_an_xlsx(ws, tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["Kunde", "Artikel", "Menge", "Preis", "Von", "Bis"])
    book.active.append(["K-1", "A", 4, 9.99, datetime(2024, 5, 1), datetime(2024, 5, 31)])
    book.active.append(["K-2", "B", 1, "2,50", "01/05/2024", "31/05/2024"])
    path = tmp_path / "ingram.xlsx"
    book.save(path)
    create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    seen = []
    result = import_with_profile(ws, path, "Ingram EU",
                                 progress=lambda d, t, m: seen.append((d, t, m)))
    assert result.imported == 2
    assert {c.unit_price for c in lines(ws)} == {Decimal("9.99"), Decimal("2.50")}
    assert seen[-1][0] == seen[-1][1] == 3  # rows of the sheet from the header on


def test_preview_through_the_service(ws, tmp_path):
    create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    path = vendor_file(tmp_path, "K-1;A;3;12,50;01/05/2024;31/05/2024",
                       "K-2;B;3;x;01/05/2024;31/05/2024")
    shown = preview_with_profile(ws, "Ingram EU", path, rows=1)
    assert len(shown.rows) == 1 and shown.rows[0].ok
    shown = preview_with_profile(ws, "Ingram EU", path)
    assert [cell.error for cell in shown.rows[1].cells if cell.error] == ["not a number: 'x'"]
    assert counts(ws)["charge_lines"] == 0


@pytest.mark.parametrize(("row", "column", "reason"), [
    ("K-2;B;3;1.000,00;01/05/2024;31/05/2024", "Preis", "not a number: '1.000,00'"),
    ("K-2;B;3;1,00;2024/05/01;31/05/2024", "Von", "not a date: '2024/05/01'"),
    ("K-2;B;3;1,00;02/05/2024;01/05/2024", "Bis", "ends 2024-05-01, before the charge start"),
    (";B;3;1,00;01/05/2024;31/05/2024", "Kunde", "required value is empty"),
    ("K-2;B;;1,00;01/05/2024;31/05/2024", "Menge", "required value is empty"),
])
def test_each_bad_profile_cell_is_named_and_nothing_is_written(ws, tmp_path, row, column,
                                                               reason):
    create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    before = counts(ws)
    path = vendor_file(tmp_path, "K-1;A;3;12,50;01/05/2024;31/05/2024", row)
    with pytest.raises(FileImportError, match=r"^ingram\.csv: 1 row rejected") as caught:
        import_with_profile(ws, path, "Ingram EU")
    [reject] = caught.value.result.rejected
    assert (reject.row, reject.column) == (3, column) and reason in reject.reason
    assert counts(ws) == before


def test_a_profile_column_missing_from_the_file_is_named(ws, tmp_path):
    create_profile(ws, "Ingram EU", "Ingram Micro", SEMICOLONS)
    path = tmp_path / "short.csv"
    path.write_text("Kunde;Artikel;Menge\r\nK;A;1\r\n", encoding="utf-8")
    with pytest.raises(FileImportError, match="short.csv: missing required columns Preis, "
                                              "Von, Bis"):
        import_with_profile(ws, path, "Ingram EU")
    assert counts(ws)["charge_lines"] == 0 and counts(ws)["import_files"] == 0


def test_a_big_import_leaves_the_planner_statistics_of_its_lines(ws, tmp_path, monkeypatch):
    """After many lines come in, SQLite knows how they cluster by subscription: the
    reconciliation then searches a month's usage instead of reading every day ever."""
    def stats() -> list[str]:
        with ws.engine.connect() as conn:
            return [row[0] for row in conn.exec_driver_sql(
                "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_charge_lines_subscription'")]

    monkeypatch.setattr(vendor_store, "STATISTICS_AFTER", 3)
    import_partner_center_file(ws, write_usage(tmp_path / "a.csv", [usage_line()]), usage=True)
    assert stats() == []  # one line: not worth it
    rows = [usage_line(MeterId=f"m{n}") for n in range(3)]
    import_partner_center_file(ws, write_usage(tmp_path / "b.csv", rows), usage=True)
    [stat] = stats()
    assert stat.split()[0] == "4"  # every line counted
    with ws.engine.connect() as conn:  # and their days, added up by the import before
        [days] = [row[0] for row in conn.exec_driver_sql(
            "SELECT stat FROM sqlite_stat1 WHERE tbl = 'usage_days'")]
    assert days.split()[0] == "1"  # four lines of one subscription's one day


def test_small_imports_refresh_the_statistics_once_enough_lines_came_in(ws, tmp_path,
                                                                        monkeypatch):
    """A workspace fed a few lines at a time (daily syncs) is known to the planner as well
    as one fed by a big import: the lines since the last count add up."""
    def counted() -> list[str]:
        with ws.engine.connect() as conn:
            return [row[0].split()[0] for row in conn.exec_driver_sql(
                "SELECT stat FROM sqlite_stat1 WHERE idx = 'ix_charge_lines_subscription'")]

    monkeypatch.setattr(vendor_store, "STATISTICS_AFTER", 3)
    for day in range(1, 7):
        line = usage_line(UsageDate=f"2026-03-{day:02d}T00:00:00Z")
        import_partner_center_file(ws, write_usage(tmp_path / f"d{day}.csv", [line]),
                                   usage=True)
        assert counted() == ([] if day < 3 else ["3"] if day < 6 else ["6"]), day
