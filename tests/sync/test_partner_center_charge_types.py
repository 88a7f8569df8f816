"""Charge types: every value in Microsoft's reference list is known, with its seat meaning."""

from __future__ import annotations

import csv

import pytest

from app.sync.partner_center import charge_types

try:  # the shared helper (fails under CI=true when the reference is missing, skips otherwise)
    from tests.contract.reference import reference_dir
except ImportError:  # pragma: no cover - same logic, for a checkout without it
    import os
    from pathlib import Path

    def reference_dir(*parts: str) -> Path:
        path = Path(__file__).resolve().parents[2].joinpath("..", "shared", "reference",
                                                            *parts).resolve()
        if not path.exists():
            message = f"reference material not found: {path}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
        return path


def test_every_reference_charge_type_is_known():
    path = reference_dir("partner-center", "recon-charge-types.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) >= 20
    for row in rows:
        found = charge_types.lookup(row["ChargeType"])
        assert found is not None, row["ChargeType"]
        assert len(found.code) <= 40  # ChargeLine.charge_type
        money_only = row["Section"] in ("Usage charges", "Credits", "Usage-based discounts")
        assert found.seats is not money_only, row


def test_new_commerce_values_and_their_meaning():
    for text, code, category in (("new", "new", "purchase"), ("renew", "renew", "renew"),
                                 ("cycleCharge", "cycleCharge", "cycle"),
                                 ("addQuantity", "addQuantity", "change"),
                                 ("removeQuantity", "removeQuantity", "change"),
                                 ("cancel", "cancel", "cancel"), ("convert", "convert", "change")):
        found = charge_types.lookup(text)
        assert found is not None and (found.code, found.category) == (code, category)
    assert charge_types.lookup("cancel").cancels
    assert charge_types.lookup("Assess usage fee for current cycle").is_usage
    assert charge_types.lookup("nonsense") is None


def test_affects_seats_by_stored_code():
    assert charge_types.affects_seats("addQuantity")
    assert not charge_types.affects_seats("discount")
    assert not charge_types.affects_seats("credit")
    assert not charge_types.affects_seats("usage")
