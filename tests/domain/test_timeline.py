"""Seat timelines: step functions from lots, drift, seat-days and explained charges."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from app.domain.daycount import DayCount, DayCountConvention
from app.domain.money import DOWN_MINOR, Money
from app.domain.periods import BillingPeriod
from app.domain.timeline import (
    LineRounding,
    QuantityTimeline,
    SeatLot,
    Segment,
    explain_lot_charges,
)

CW = DayCountConvention.CONNECTWISE
CB = DayCountConvention.CLOUDBLUE
ACTUAL = DayCountConvention.ACTUAL_DAYS
MARCH = BillingPeriod.month(2024, 3)
APRIL = BillingPeriod.month(2024, 4)
D = Decimal


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def lots(*items: tuple) -> QuantityTimeline:
    return QuantityTimeline.from_lots(SeatLot(D(q), *dates) for q, *dates in items)


def test_quantity_on_each_day():
    timeline = lots(
        (10, date(2024, 3, 1)), (2, date(2024, 3, 15)), (-3, date(2024, 3, 20), date(2024, 3, 25))
    )
    assert timeline.quantity_on(date(2024, 2, 29)) == 0
    assert timeline.quantity_on(date(2024, 3, 14)) == 10
    assert timeline.quantity_on(date(2024, 3, 15)) == 12
    assert timeline.quantity_on(date(2024, 3, 20)) == 9
    assert timeline.quantity_on(date(2024, 3, 25)) == 9
    assert timeline.quantity_on(date(2024, 3, 26)) == 12
    assert timeline.quantity_on(date(2030, 1, 1)) == 12


def test_segments_cover_the_period():
    timeline = lots((10, date(2024, 2, 1), date(2024, 3, 14)), (12, date(2024, 3, 15)))
    assert timeline.segments(MARCH) == [
        Segment(date(2024, 3, 1), date(2024, 3, 14), D(10)),
        Segment(date(2024, 3, 15), date(2024, 3, 31), D(12)),
    ]
    assert lots().segments(MARCH) == [Segment(MARCH.start, MARCH.end, D(0))]
    assert lots((5, date(2024, 4, 1))).segments(MARCH) == [Segment(MARCH.start, MARCH.end, D(0))]


def test_timelines_are_canonical():
    # An NCE addQuantity: refund of the old quantity and a charge of the new one.
    nce = lots((10, date(2024, 3, 1)), (-10, date(2024, 3, 15)), (12, date(2024, 3, 15)))
    psa = lots((10, date(2024, 3, 1), date(2024, 3, 14)), (12, date(2024, 3, 15)))
    assert nce == psa
    assert lots((3, date(2024, 3, 1)), (-3, date(2024, 3, 1))) == QuantityTimeline()


def test_difference_is_the_drift():
    vendor = lots((10, date(2024, 3, 1)), (2, date(2024, 3, 15)))
    psa = lots((10, date(2024, 3, 1)))
    drift = vendor.difference(psa)
    assert drift.segments(MARCH) == [
        Segment(date(2024, 3, 1), date(2024, 3, 14), D(0)),
        Segment(date(2024, 3, 15), date(2024, 3, 31), D(2)),
    ]
    assert psa.difference(vendor).quantity_on(date(2024, 3, 20)) == -2
    assert vendor.difference(vendor) == QuantityTimeline()


def test_integral_is_exact_seat_days():
    timeline = lots((10, date(2024, 4, 3), date(2024, 4, 15)), (15, date(2024, 4, 16)))
    assert timeline.integral(APRIL) == 10 * 13 + 15 * 15
    assert lots((D("0.5"), date(2024, 4, 1))).integral(APRIL) == D("15.0")


def test_within_keeps_only_the_days_asked_for():
    timeline = lots((10, date(2024, 3, 1)))
    part = timeline.within(date(2024, 3, 10), date(2024, 3, 12))
    assert part == lots((10, date(2024, 3, 10), date(2024, 3, 12)))


def test_lot_validation():
    with pytest.raises(ValueError, match="before it starts"):
        SeatLot(D(1), date(2024, 3, 2), date(2024, 3, 1))
    with pytest.raises(TypeError):
        SeatLot(1.0, date(2024, 3, 1))
    assert SeatLot(2, date(2024, 3, 1)).quantity == D(2)


def test_two_units_connectwise_rounded_per_line_and_per_unit():
    added = lots((2, date(2024, 3, 15)))
    assert added.charge(MARCH, D("22"), CW, "USD") == usd("24.13")
    assert added.charge(MARCH, D("22"), CW, "USD", LineRounding.PER_UNIT) == usd("24.12")


def test_one_unit_connectwise_and_cloudblue():
    added = lots((1, date(2024, 3, 15)))
    assert added.charge(MARCH, D("22"), CW, "USD") == usd("12.06")
    assert added.charge(MARCH, D("22"), CB, "USD") == usd("11.35")
    # billed in advance on 1 April: the March part plus April in full
    assert added.charge(MARCH, D("22"), CW, "USD") + added.charge(APRIL, D("22"), CW, "USD") == usd(
        "34.06"
    )


def test_twelve_dollars_a_seat_in_april_rounded_per_line():
    timeline = lots((10, date(2024, 4, 3), date(2024, 4, 15)), (15, date(2024, 4, 16)))
    breakdown = timeline.explain_charge(APRIL, D("12.00"), ACTUAL, "USD")
    assert [line.rounded for line in breakdown.lines] == [usd("52.00"), usd("90.00")]
    assert [line.day_count for line in breakdown.lines] == [DayCount(13, 30), DayCount(15, 30)]
    assert breakdown.total == usd("142.00")
    assert breakdown.rounding_residual == 0


def test_annual_co_termed_add():
    term = BillingPeriod(date(2022, 2, 16), date(2023, 2, 15))
    added = lots((2, date(2022, 3, 22), date(2023, 2, 15)))
    breakdown = added.explain_charge(term, D("264"), ACTUAL, "USD")
    (line,) = breakdown.lines
    assert line.day_count == DayCount(331, 365)
    assert line.rounded == usd("478.82")
    assert breakdown.total == usd("478.82")


def test_rounding_rule_is_a_parameter():
    added = lots((1, date(2024, 3, 15)))
    assert added.charge(MARCH, D("22"), CB, "USD", rule=DOWN_MINOR) == usd("11.35")
    assert added.charge(MARCH, D("23"), CW, "USD", rule=DOWN_MINOR) == usd("12.61")  # 12.6129…
    assert added.charge(MARCH, D("2200"), CW, "JPY") == Money(D("1206"), "JPY")


def test_negative_drift_charges_a_credit():
    drift = lots((-2, date(2024, 3, 15)))
    assert drift.charge(MARCH, D("22"), CW, "USD") == usd("-24.13")


def test_explanation_reads_as_sums():
    added = lots((2, date(2024, 3, 15)))
    lines = added.explain_charge(MARCH, D("22.00"), CW, "USD").describe()
    assert lines[0].startswith("Period 2024-03 (31 days), ConnectWise (effective day counted)")
    assert "rounded per line" in lines[0]
    assert lines[1] == "  2024-03-15..2024-03-31  2 × 22.00 × 17/31 = 24.129032… → USD 24.13"
    assert lines[-1] == "Total USD 24.13 (exact 24.129032…, rounding +0.000968…)"
    per_unit = added.explain_charge(MARCH, D("22.00"), CW, "USD", LineRounding.PER_UNIT)
    assert per_unit.describe()[1] == (
        "  2024-03-15..2024-03-31  22.00 × 17/31 = 12.064516… → 12.06 per seat × 2 → USD 24.12"
    )
    assert per_unit.describe()[-1] == "Total USD 24.12 (exact 24.129032…, rounding -0.009032…)"


def test_equal_charges_written_differently_keep_their_own_explanations():
    """2 seats and 2.00 seats cost the same, but each explanation shows what was written."""
    plain, written = lots((2, date(2024, 3, 15))), lots(("2.00", date(2024, 3, 15)))
    first = plain.explain_charge(MARCH, D("22"), CW, "USD")
    assert plain.explain_charge(MARCH, D("22"), CW, "USD") is first  # priced once, shared
    assert "2 × 22 × 17/31" in first.describe()[1]
    assert "2.00 × 22 × 17/31" in written.explain_charge(MARCH, D("22"), CW, "USD").describe()[1]
    assert "2 × 22.00 × 17/31" in plain.explain_charge(MARCH, D("22.00"), CW, "USD").describe()[1]
    assert first.explained["lines"][0]["quantity"] == "2"
    assert first.describe() is not first.describe()  # a list of one's own to change

def test_explanation_of_nothing():
    breakdown = QuantityTimeline().explain_charge(MARCH, D("22"), CW, "USD")
    assert breakdown.total == usd("0")
    assert breakdown.describe()[1] == "  no seats in the period"


def test_lots_keep_their_own_price():
    held = [
        SeatLot(D(10), date(2024, 1, 1)),  # default price
        SeatLot(D(2), date(2024, 3, 15), None, D("20.00")),  # an NCE add at its old price
    ]
    breakdown = explain_lot_charges(held, MARCH, CW, "USD", default_unit_price=D("22.00"))
    assert [(line.quantity, line.unit_price, line.rounded) for line in breakdown.lines] == [
        (D(10), D("22.00"), usd("220.00")),
        (D(2), D("20.00"), usd("21.94")),  # 40 × 17/31 = 21.935…
    ]
    assert breakdown.total == usd("241.94")
    with pytest.raises(ValueError, match="no unit price"):
        explain_lot_charges(held, MARCH, CW, "USD")


def test_charge_refuses_float_price():
    with pytest.raises(TypeError):
        lots((1, date(2024, 3, 1))).charge(MARCH, 22.0, CW, "USD")


def test_hand_built_steps_must_be_canonical():
    with pytest.raises(ValueError, match="out of order"):
        QuantityTimeline(((date(2024, 3, 2), D(1)), (date(2024, 3, 1), D(2))))
    with pytest.raises(ValueError, match="does not change"):
        QuantityTimeline(((date(2024, 3, 1), D(1)), (date(2024, 3, 2), D(1))))
    with pytest.raises(ValueError, match="does not change"):
        QuantityTimeline(((date(2024, 3, 1), D(0)),))
