"""Encodings Partner Center files arrive in: detected from the bytes, or a clear error."""

from __future__ import annotations

import codecs

import pytest

from app.sync.file_import.csv_records import CsvRecords
from app.sync.file_import.encoding import FileScan, peek_file, scan_file
from app.sync.file_import.problems import FileProblem
from app.sync.partner_center.recon_file import read_recon
from tests.fixtures.partner_center import csv_text, line

ROWS = [line(CustomerName="Müller GmbH"), line(CustomerName="Café Lumière", OrderId="o-2")]


@pytest.mark.parametrize(("encoding", "detected"), [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16"),
    ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("cp1252", "cp1252"),
])
def test_the_same_content_reads_the_same_in_every_encoding(tmp_path, encoding, detected):
    path = tmp_path / f"recon-{encoding}.csv"
    path.write_bytes(csv_text(ROWS).encode(encoding))
    scan = scan_file(path)
    assert scan.encoding == detected
    lines = list(read_recon(iter(CsvRecords(path, scan.encoding)), path.name))
    assert [item.customer_name for item in lines] == ["Müller GmbH", "Café Lumière"]
    assert lines[0].charge_type == "cycleCharge"


def test_utf16_with_bom_in_both_byte_orders(tmp_path):
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        path = tmp_path / f"{codec}.csv"
        path.write_bytes(bom + csv_text(ROWS).encode(codec))
        assert scan_file(path).encoding == "utf-16"
        names = [i.customer_name for i in read_recon(iter(CsvRecords(path, "utf-16")), "x")]
        assert names == ["Müller GmbH", "Café Lumière"]


def test_fingerprint_is_the_sha256_of_the_bytes(tmp_path):
    import hashlib

    path = tmp_path / "r.csv"
    data = csv_text(ROWS).encode("utf-8")
    path.write_bytes(data)
    assert scan_file(path) == FileScan(hashlib.sha256(data).hexdigest(), len(data), "utf-8")


def test_mixed_utf8_and_cp1252_is_an_error_naming_the_line(tmp_path):
    path = tmp_path / "mixed.csv"
    text = csv_text(ROWS)
    first, rest = text.split("\r\n", 2)[0:2], text.split("\r\n", 2)[2]
    path.write_bytes("\r\n".join(first).encode("utf-8") + b"\r\n" + rest.encode("cp1252"))
    with pytest.raises(FileProblem, match=r"mixed.csv: line 3: mixed encodings"):
        scan_file(path)


def test_bytes_undefined_in_windows_1252_are_an_error(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_text([line()]).encode() + b"x,\x81\x8d\r\n")
    with pytest.raises(FileProblem, match=r"line 3: byte 0x81 is neither UTF-8 nor Windows-1252"):
        scan_file(path)


def test_invalid_utf8_after_a_utf8_bom_is_an_error(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(codecs.BOM_UTF8 + csv_text([line()]).encode() + b"\xe9t\xe9\r\n")
    with pytest.raises(FileProblem, match="invalid UTF-8 although the file starts with a UTF-8"):
        scan_file(path)


def test_binary_and_empty_files_are_refused(tmp_path):
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\x00\x01\x02\x00\x00\x00\xff" * 100)
    with pytest.raises(FileProblem, match="not a text file"):
        scan_file(binary)
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    with pytest.raises(FileProblem, match="e.csv: the file is empty"):
        scan_file(empty)
    with pytest.raises(FileProblem, match="cannot read the file"):
        scan_file(tmp_path / "missing.csv")


def test_a_workbook_is_recognised(tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    assert scan_file(path).is_workbook and peek_file(path).is_workbook


def test_peek_detects_from_the_head_only(tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(csv_text(ROWS).encode("cp1252"))
    assert peek_file(path).encoding == "cp1252"
    assert peek_file(path, encoding="latin-1").encoding == "latin-1"
