"""One pass over a file's bytes: its fingerprint (sha256) and its text encoding.

Partner Center exports come as UTF-8 with or without BOM, UTF-16 with BOM (Excel "Unicode
text"), or Windows-1252 after a round trip through Excel. We decide from the bytes, never by
guessing per row: a BOM wins; otherwise valid UTF-8 is UTF-8; otherwise pure Windows-1252 is
Windows-1252; anything else (mixed encodings, undefined bytes) is a clear error with the line.
"""

from __future__ import annotations

import codecs
import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path

from app.sync.file_import.problems import FileProblem, Progress, check_cancel

CHUNK = 1 << 20
XLSX_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True)
class FileScan:
    fingerprint: str  # sha256 hex of the bytes: the same file imports once
    size: int
    encoding: str | None  # a Python codec name; None for a workbook
    is_workbook: bool = False


def scan_file(path: Path, *, encoding: str | None = None, progress: Progress | None = None,
              cancel: threading.Event | None = None) -> FileScan:
    """Fingerprint the file and detect its encoding (or trust `encoding` when given)."""
    name = path.name
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise FileProblem(name, f"cannot read the file: {exc.strerror or exc}") from exc
    with handle:
        size = path.stat().st_size
        digest = hashlib.sha256()
        detector = _Detector(name) if encoding is None else None
        done = 0
        reported = 0
        first = True
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
            if first:
                first = False
                if chunk.startswith(XLSX_MAGIC):
                    detector = None
                    encoding = "xlsx"
            if detector is not None:
                detector.feed(chunk)
            done += len(chunk)
            if done - reported >= 64 * CHUNK:
                reported = done
                check_cancel(cancel)
                if progress:
                    progress(done, size, "checking the file")
    if size == 0:
        raise FileProblem(name, "the file is empty")
    if encoding == "xlsx":
        return FileScan(digest.hexdigest(), size, None, is_workbook=True)
    if detector is not None:
        encoding = detector.finish()
    else:
        try:
            codecs.lookup(encoding or "")
        except LookupError:
            raise FileProblem(name, f"unknown encoding {encoding!r}") from None
    return FileScan(digest.hexdigest(), size, encoding)


def peek_file(path: Path, *, encoding: str | None = None, limit: int = CHUNK) -> FileScan:
    """The encoding from the first `limit` bytes only, for a quick preview (no fingerprint)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(limit)
    except OSError as exc:
        raise FileProblem(path.name, f"cannot read the file: {exc.strerror or exc}") from exc
    if not head:
        raise FileProblem(path.name, "the file is empty")
    if head.startswith(XLSX_MAGIC):
        return FileScan("", len(head), None, is_workbook=True)
    if encoding is None:
        detector = _Detector(path.name)
        detector.feed(head)
        encoding = detector.finish(complete=False)
    return FileScan("", len(head), encoding)


class _Detector:
    """Streams chunks through the candidate decoders and keeps the line of the first error."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.encoding: str | None = None  # decided by a BOM or NUL pattern
        self.utf8 = codecs.getincrementaldecoder("utf-8")("strict")
        self.utf8_ok = True
        self.non_ascii_before_failure = False
        self.cp1252_error: tuple[int, int] | None = None  # (line, byte)
        self.utf8_error_line = 0
        self.lines = 0  # newlines seen before the current chunk
        self.first = True

    def feed(self, chunk: bytes) -> None:
        if self.first:
            self.first = False
            self.encoding = _from_bom_or_nuls(chunk, self.name)
            if self.encoding == "utf-8-sig":
                chunk = chunk[3:]
        if self.encoding not in (None, "utf-8-sig"):
            return  # UTF-16: decoding errors surface, with their line, while reading rows
        if self.utf8_ok:
            try:
                self.utf8.decode(chunk)
                if not chunk.isascii():
                    self.non_ascii_before_failure = True
            except UnicodeDecodeError as exc:
                self.utf8_ok = False
                if not chunk[: max(exc.start, 0)].isascii():
                    self.non_ascii_before_failure = True
                self.utf8_error_line = self.lines + chunk[: max(exc.start, 0)].count(b"\n") + 1
                if self.encoding == "utf-8-sig":
                    return
                self._check_cp1252(chunk)
        elif self.cp1252_error is None:
            self._check_cp1252(chunk)
        self.lines += chunk.count(b"\n")

    def _check_cp1252(self, chunk: bytes) -> None:
        try:
            chunk.decode("cp1252")
        except UnicodeDecodeError as exc:
            line = self.lines + chunk[: exc.start].count(b"\n") + 1
            self.cp1252_error = (line, chunk[exc.start])

    def finish(self, complete: bool = True) -> str:
        if self.encoding not in (None, "utf-8-sig"):
            return self.encoding
        if self.utf8_ok and not complete:
            return self.encoding or "utf-8"
        if self.utf8_ok:
            try:
                self.utf8.decode(b"", final=True)
            except UnicodeDecodeError:
                raise FileProblem(self.name, "the file ends inside a UTF-8 character "
                                  "(truncated download?)") from None
            return self.encoding or "utf-8"
        line = self.utf8_error_line
        if self.encoding == "utf-8-sig":
            raise FileProblem(self.name, f"line {line}: invalid UTF-8 although the file "
                              "starts with a UTF-8 byte order mark")
        if self.non_ascii_before_failure:
            raise FileProblem(self.name, f"line {line}: mixed encodings (UTF-8 text before "
                              "this line, then bytes that are not UTF-8); re-export the file "
                              "as UTF-8")
        if self.cp1252_error is not None:
            bad_line, byte = self.cp1252_error
            raise FileProblem(self.name, f"line {bad_line}: byte 0x{byte:02X} is neither "
                              "UTF-8 nor Windows-1252; re-export the file as UTF-8")
        return "cp1252"


def _from_bom_or_nuls(head: bytes, name: str) -> str | None:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        raise FileProblem(name, "UTF-32 text is not supported; re-export the file as UTF-8")
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # the codec reads the BOM and picks the byte order
    sample = head[:4096]
    if b"\x00" not in sample:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    if odd > half * 0.3 and even < half * 0.05:
        return "utf-16-le"
    if even > half * 0.3 and odd < half * 0.05:
        return "utf-16-be"
    raise FileProblem(name, "this is not a text file (it contains NUL bytes)")
