"""Helpers every CLI command shares: opening the workspace, printing JSON, errors."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.services.workspace import Workspace, WorkspaceError, open_workspace


class CommandError(Exception):
    """A command failed for a reason the user can act on."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


@contextmanager
def workspace_from(args: argparse.Namespace) -> Iterator[Workspace]:
    try:
        ws = open_workspace(args.db)
    except WorkspaceError as exc:
        raise CommandError(str(exc)) from exc
    try:
        yield ws
    finally:
        ws.close()


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "__dataclass_fields__"):
        return {k: getattr(value, k) for k in value.__dataclass_fields__}
    raise TypeError(f"cannot serialise {type(value).__name__}")


def print_json(document: Any) -> None:
    json.dump(document, sys.stdout, default=_default, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


def say(message: str) -> None:
    print(message, file=sys.stderr)
