"""A small demo workspace and its whole book for one month: what the tests of a book read
or reconciled in parts compare the parts with."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import keyring
from keyring.backends import fail

from app.models.workspace import Workspace
from app.services.demo import build_demo
from app.services.reconcile import one_snapshot, parse_period
from app.services.reconcile_book import Book
from app.services.reconcile_facts import read_book

TODAY = date(2026, 3, 18)
PERIOD = parse_period("2026-02")


def small_demo(folder: Path) -> Path:
    """A 25-customer demo workspace in `folder`, built as on a machine without a keyring."""
    path = folder / "demo.sqlite"
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        build_demo(path, TODAY, customers=25)
    finally:
        keyring.set_keyring(previous)
    return path


def whole_book(path: Path) -> Book:
    """The workspace's book for PERIOD, read whole in one snapshot."""
    ws = Workspace.open(path)
    try:
        with ws.begin() as session:
            one_snapshot(session)
            return read_book(session, PERIOD)
    finally:
        ws.close()
