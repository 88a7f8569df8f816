"""Where an export's bytes go: whole invoices per file, and files replaced atomically."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.exports.engine import group_key
from app.exports.template import Template


def split_invoices(path: Path, rows: list[Any], template: Template) -> list[tuple[Path, list[Any]]]:
    """Split by whole invoices when the target limits invoices per file (Xero: 500)."""
    limit = template.max_invoices
    if not limit or not template.group:
        return [(path, rows)]
    index: dict[str, int] = {}
    chunks: list[list[Any]] = []
    for row in rows:
        n = index.setdefault(group_key(row, template.group), len(index)) // limit
        while len(chunks) <= n:
            chunks.append([])
        chunks[n].append(row)
    if len(chunks) <= 1:
        return [(path, rows)]
    return [(path.with_name(f"{path.stem}-part{n}{path.suffix}"), chunk)
            for n, chunk in enumerate(chunks, 1)]


class AtomicFiles:
    """Files written beside their targets and moved into place only when all are complete:
    a failed or cancelled export leaves nothing behind and never half-overwrites the
    previous files, even when it is split into parts."""

    def __init__(self) -> None:
        self._pending: list[tuple[Path, Path]] = []

    def write(self, path: Path, write: Callable[[Path], Any]) -> Any:
        partial = path.with_name(f".{path.stem}.{os.getpid()}.part{path.suffix}")
        self._pending.append((partial, path))
        return write(partial)

    def __enter__(self) -> AtomicFiles:
        return self

    def __exit__(self, kind: object, error: object, trace: object) -> None:
        try:
            if kind is None:
                for partial, path in self._pending:
                    partial.replace(path)
        finally:
            for partial, _ in self._pending:
                partial.unlink(missing_ok=True)
