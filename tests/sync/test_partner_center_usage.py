"""The daily rated usage reader: usage lines over their usage day, never seats."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.sync.file_import.csv_records import CsvRecords
from app.sync.file_import.encoding import scan_file
from app.sync.file_import.problems import FileProblem, Reject
from app.sync.partner_center.source import open_partner_center
from app.sync.partner_center.usage_file import read_usage
from tests.fixtures.partner_center import line, usage_line, write_recon, write_usage


def read(path):
    return list(read_usage(iter(CsvRecords(path, "utf-8")), path.name))


def test_a_usage_line(tmp_path):
    [parsed] = read(write_usage(tmp_path / "u.csv", [usage_line()]))
    assert parsed.is_usage and not parsed.seats
    assert (parsed.charge_start, parsed.charge_end) == ("2024-05-13", "2024-05-13")
    assert parsed.quantity == Decimal("23.200004")
    assert parsed.unit_price == "0.0209496384791679"
    assert parsed.subtotal == "0.486031696515249" and parsed.total is None
    assert parsed.billing_frequency == "Usage" and parsed.sku == "DZH318Z0BCZ4:0001"
    assert '"cycle_start":"2024-05-01"' in parsed.extra


def test_an_empty_charge_type_is_usage_and_a_bad_date_is_named(tmp_path):
    rows = [usage_line(ChargeType=""), usage_line(UsageDate="13/5/2024", MeterId="m2")]
    first, bad = read(write_usage(tmp_path / "u.csv", rows))
    assert first.charge_type == "usage"
    assert bad == (Reject(3, "UsageDate", bad[0].reason),)


def test_the_wrong_kind_of_file_is_named(tmp_path):
    usage = write_usage(tmp_path / "u.csv", [usage_line()])
    with pytest.raises(FileProblem, match="daily rated usage file.*--usage"):
        open_partner_center(usage, scan_file(usage), usage=False)
    recon = write_recon(tmp_path / "r.csv", [line()])
    with pytest.raises(FileProblem, match="invoice reconciliation file.*without --usage"):
        open_partner_center(recon, scan_file(recon), usage=True)
