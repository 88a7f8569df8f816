"""The input facts: PSA line timelines, charge categories, motions and validation."""

from __future__ import annotations

from datetime import date

import pytest

from app.domain.reconciliation import ChargeCategory, VendorCharge

from .support import D, line, lots, sub


def test_a_line_bills_its_quantity_from_effective_to_cancelled_date():
    timeline = line(10, effective_date=date(2024, 3, 5), cancelled_date=date(2024, 3, 20)
                    ).timeline()
    assert timeline.quantity_on(date(2024, 3, 4)) == 0
    assert timeline.quantity_on(date(2024, 3, 5)) == 10
    assert timeline.quantity_on(date(2024, 3, 20)) == 10
    assert timeline.quantity_on(date(2024, 3, 21)) == 0


def test_quantity_steps_are_the_line_history():
    psa_line = line(12, quantity_steps=((date(2024, 4, 1), D(12)), (date(2023, 1, 1), D(10))),
                    cancelled_date=date(2024, 6, 30))
    timeline = psa_line.timeline()
    assert timeline.quantity_on(date(2024, 3, 31)) == 10
    assert timeline.quantity_on(date(2024, 4, 1)) == 12
    assert timeline.quantity_on(date(2024, 7, 1)) == 0
    assert timeline.quantity_on(date(2023, 12, 31)) == 0  # before the line's effective date


def test_line_values_as_the_push_protocol_sees_them():
    psa_line = line(10, cancelled_date=date(2024, 3, 31))
    assert psa_line.seen("quantity", "cancelled_date") == {
        "quantity": "10", "cancelled_date": "2024-03-31"}
    assert psa_line.seen()["unit_price"] == "22"


@pytest.mark.parametrize(("charge_type", "usage", "category"), [
    ("New", False, ChargeCategory.PURCHASE),
    ("Prorate fees when purchase", False, ChargeCategory.PURCHASE),
    ("Renew fee", False, ChargeCategory.RENEWAL),
    ("addQuantity", False, ChargeCategory.ADD),
    ("removeQuantity", False, ChargeCategory.REDUCTION),
    ("Cancel", False, ChargeCategory.CANCEL),
    ("Cycle fee", False, ChargeCategory.CYCLE),
    ("Assess usage fee for current cycle", False, ChargeCategory.USAGE),
    ("anything", True, ChargeCategory.USAGE),
    ("Offset a line item", False, ChargeCategory.OTHER),
])
def test_charge_categories(charge_type, usage, category):
    charge = VendorCharge("c", charge_type, date(2024, 3, 1), date(2024, 3, 31), D(1), None,
                          D(1), is_usage=usage)
    assert charge.category is category


@pytest.mark.parametrize(("term", "frequency", "motion", "upfront"), [
    ("P1M", "Monthly", "M/M", False),
    ("P1Y", "Monthly", "A/M", False),
    ("P1Y", "Annual", "A/A", True),
    ("P3Y", "Triennial", "3Y/3Y", True),
    (None, "Usage", "usage", False),
])
def test_billing_motion(term, frequency, motion, upfront):
    facts = sub(lots(), term=term, billing_frequency=frequency)
    assert facts.motion == motion and facts.is_upfront is upfront


def test_money_is_never_a_float():
    with pytest.raises(TypeError):
        line(10, price=None, unit_price=22.0)
    with pytest.raises(TypeError):
        VendorCharge("c", "New", date(2024, 3, 1), date(2024, 3, 31), D(1), None, 1.5)
    with pytest.raises(ValueError):
        sub(lots(), currency="dollars")
