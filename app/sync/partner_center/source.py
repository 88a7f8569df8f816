"""Opening a Partner Center file: the right reader for recon or usage, and a helpful error
when the user picked the wrong one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from app.sync.file_import.csv_records import CsvRecords
from app.sync.file_import.encoding import FileScan
from app.sync.file_import.header import normalize
from app.sync.file_import.lines import ParsedLine
from app.sync.file_import.problems import FileProblem, Reject
from app.sync.partner_center import recon_file, usage_file


@dataclass
class PartnerCenterSource:
    kind: str  # ImportFile.kind
    records: CsvRecords  # .position: bytes read so far
    lines: Iterator[ParsedLine | tuple[Reject, ...]]


def open_partner_center(path: Path, scan: FileScan, *, usage: bool) -> PartnerCenterSource:
    name = path.name
    if scan.is_workbook or scan.encoding is None:
        raise FileProblem(name, "this is an Excel workbook; Partner Center files are imported "
                          "as CSV (download the CSV, or save the sheet as CSV UTF-8)")
    records = CsvRecords(path, scan.encoding)
    stream = iter(records)
    first = next(stream, None)
    if first is None:
        raise FileProblem(name, "the file has no header line")
    header = {normalize(column) for column in first[1]}
    looks_like_usage = all(normalize(c) in header for c in usage_file.SIGNATURE)
    if not usage and looks_like_usage:
        raise FileProblem(name, "this is a daily rated usage file, not an invoice "
                          "reconciliation file: import it as usage (--usage)")
    if usage and not looks_like_usage and normalize("BillableQuantity") in header:
        raise FileProblem(name, "this is an invoice reconciliation file, not a daily rated "
                          "usage file: import it without --usage")
    chained = itertools.chain([first], stream)
    if usage:
        return PartnerCenterSource(usage_file.KIND, records, usage_file.read_usage(chained, name))
    return PartnerCenterSource(recon_file.KIND, records, recon_file.read_recon(chained, name))
