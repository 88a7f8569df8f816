"""Which PSA one-time charges settle a difference, and which are only near misses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from app.domain.reconciliation.context import Run
from app.domain.reconciliation.matching import match_charges

from .support import MARCH, line

D = Decimal
TAG = "TrueUp R-0123456789"


def charge(line_id: str, amount: str, day: date | None, product: str = "P1",
           description: str = "misc"):
    return line(1, amount, None, line_id, agreement_kind="one_time", product_id=product,
                effective_date=day, description=description)


APRIL_1, MARCH_1, MARCH_20 = date(2024, 4, 1), date(2024, 3, 1), date(2024, 3, 20)
BOOK = (
    charge("TAGGED", "5.00", MARCH_1, product="P9", description=f"seats {TAG.lower()}"),
    charge("FIRST_DAY", "24.13", MARCH_1),  # February's, dated the period's first day
    charge("IN", "20.00", MARCH_20),
    charge("LAST", "24.13", APRIL_1),  # the day after the period: still this period's
    charge("LATER", "24.13", date(2024, 4, 2)),
    charge("OTHER", "24.13", MARCH_20, product="P2"),
    charge("UNDATED", "24.13", None),
)


def test_a_reference_matches_whatever_its_product_date_or_amount():
    result = match_charges(Run(MARCH), BOOK, reference=TAG, products=("P1",),
                           open_amount=D("24.13"), tolerance=D("0.01"))
    assert [(m.line_id, m.by) for m in result.matches] == [("TAGGED", "reference")]
    # no match by amount once the reference matched; the window's others are near misses
    assert [m.line_id for m in result.near_misses] == ["IN", "LAST"]
    assert {m.by for m in result.near_misses} == {"near miss"}


def test_an_amount_within_the_tolerance_matches_one_charge_of_the_window():
    result = match_charges(Run(MARCH), BOOK[1:], reference=TAG, products=("P1", None),
                           open_amount=D("24.135"), tolerance=D("0.01"))
    assert [(m.line_id, m.by) for m in result.matches] == [("LAST", "amount")]
    assert result.total == D("24.13")
    assert [m.line_id for m in result.near_misses] == ["IN"]


def test_usage_takes_the_whole_window_and_leaves_no_near_miss():
    result = match_charges(Run(MARCH), BOOK, reference=TAG, products=("P1",),
                           open_amount=None, tolerance=D("0.01"), whole_window=True)
    assert [(m.line_id, m.by) for m in result.matches] == [
        ("TAGGED", "reference"), ("IN", "product"), ("LAST", "product")]
    assert result.total == D("49.13")
    assert result.near_misses == ()


def test_a_charge_settles_one_difference_only():
    run = Run(MARCH)
    first = match_charges(run, BOOK[1:], reference=TAG, products=("P1",),
                          open_amount=D("24.13"), tolerance=D("0.01"))
    second = match_charges(run, BOOK[1:], reference=TAG, products=("P1",),
                           open_amount=D("24.13"), tolerance=D("0.01"))
    assert [m.line_id for m in first.matches] == ["LAST"]
    assert second.matches == ()  # LAST is consumed: neither matched nor a near miss again
    assert [m.line_id for m in second.near_misses] == ["IN"]
    assert run.consumed == {"LAST"}
