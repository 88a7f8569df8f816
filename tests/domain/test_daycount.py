"""Day-count conventions: every month length, leap years, and the published formulas."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest

from app.domain.daycount import DayCount, DayCountConvention, exact_decimal, prorate
from app.domain.money import Money, round_money
from app.domain.periods import BillingPeriod, BillingTiming, invoice_date_for

CW = DayCountConvention.CONNECTWISE
CB = DayCountConvention.CLOUDBLUE
ACTUAL = DayCountConvention.ACTUAL_DAYS
THIRTY = DayCountConvention.THIRTY_DAY_MONTH
NONE = DayCountConvention.NONE

FEB_2024 = BillingPeriod.month(2024, 2)  # 29 days
FEB_2023 = BillingPeriod.month(2023, 2)  # 28 days
APR_2024 = BillingPeriod.month(2024, 4)  # 30 days
MAR_2024 = BillingPeriod.month(2024, 3)  # 31 days
MONTHS = [FEB_2024, FEB_2023, APR_2024, MAR_2024]


def day(period: BillingPeriod, n: int) -> date:
    return period.start.replace(day=n)


# Expected counts per month, in the order FEB_2024, FEB_2023, APR_2024, MAR_2024.
CASES = {
    # (first day, last day or None for period end): counts per convention
    "whole period": (
        (1, None),
        {
            CW: (29, 28, 30, 31),
            CB: (29, 28, 30, 31),
            ACTUAL: (29, 28, 30, 31),
            THIRTY: (30, 30, 30, 30),
            NONE: (29, 28, 30, 31),
        },
    ),
    "effective the 15th": (
        (15, None),
        {
            CW: (15, 14, 16, 17),
            CB: (14, 13, 15, 16),
            ACTUAL: (15, 14, 16, 17),
            THIRTY: (16, 16, 16, 16),
            NONE: (0, 0, 0, 0),
        },
    ),
    "effective the last day": (
        ("last", None),
        {
            CW: (1, 1, 1, 1),
            CB: (0, 0, 0, 0),
            ACTUAL: (1, 1, 1, 1),
            THIRTY: (1, 1, 1, 1),
            NONE: (0, 0, 0, 0),
        },
    ),
    "10th to 20th": (
        (10, 20),
        {
            CW: (11, 11, 11, 11),
            CB: (11, 11, 11, 11),
            ACTUAL: (11, 11, 11, 11),
            THIRTY: (11, 11, 11, 11),
            NONE: (0, 0, 0, 0),
        },
    ),
    "1st to 14th": (
        (1, 14),
        {
            CW: (14, 14, 14, 14),
            CB: (15, 15, 15, 15),
            ACTUAL: (14, 14, 14, 14),
            THIRTY: (14, 14, 14, 14),
            NONE: (29, 28, 30, 31),
        },
    ),
}


def _params():
    return list(_each_case())


def _each_case():
    for name, ((first, last), by_convention) in CASES.items():
        for convention, counts in by_convention.items():
            for period, counted in zip(MONTHS, counts, strict=True):
                yield pytest.param(
                    period,
                    first,
                    last,
                    convention,
                    counted,
                    id=f"{name}-{convention.value}-{period.label}",
                )


@pytest.mark.parametrize(("period", "first", "last", "convention", "counted"), _params())
def test_counts_for_every_month_length(period, first, last, convention, counted):
    start = period.end if first == "last" else day(period, first)
    end = None if last is None else day(period, last)
    denominator = 30 if convention is THIRTY else period.days
    assert convention.count(period, start, end) == DayCount(counted, denominator)


def test_connectwise_counts_the_effective_day():
    # $22/month, +1 unit effective 15 March: 22 × 17/31 = 12.06
    assert CW.count(MAR_2024, date(2024, 3, 15)) == DayCount(17, 31)
    share = prorate(Decimal("22"), MAR_2024, date(2024, 3, 15), None, CW)
    assert round_money(share, "USD") == Money(Decimal("12.06"), "USD")


def test_connectwise_bills_the_prorated_part_with_the_next_advance_invoice():
    share = round_money(prorate(Decimal("22"), MAR_2024, date(2024, 3, 15), None, CW), "USD")
    april = BillingPeriod.month(2024, 4)
    assert invoice_date_for(april, BillingTiming.ADVANCE) == date(2024, 4, 1)
    assert share + Money(Decimal("22.00"), "USD") == Money(Decimal("34.06"), "USD")


def test_cloudblue_does_not_count_the_effective_day():
    # (days_in_period − effective_day) / days_in_period = (31 − 15)/31; 22 × 16/31 = 11.35
    assert CB.count(MAR_2024, date(2024, 3, 15)) == DayCount(16, 31)
    share = prorate(Decimal("22"), MAR_2024, date(2024, 3, 15), None, CB)
    assert round_money(share, "USD") == Money(Decimal("11.35"), "USD")


def test_cloudblue_change_on_the_first_day_is_a_whole_period():
    assert CB.count(MAR_2024, date(2024, 3, 1)) == DayCount(31, 31)
    assert CB.count(MAR_2024, date(2024, 2, 10)) == DayCount(31, 31)


def test_cloudblue_effective_day_belongs_to_the_old_quantity():
    # 10 seats until a change effective the 15th: the old seats own days 1..15.
    old = CB.count(MAR_2024, date(2024, 3, 1), date(2024, 3, 14))
    new = CB.count(MAR_2024, date(2024, 3, 15))
    assert (old.counted, new.counted) == (15, 16)
    assert old.counted + new.counted == 31


def test_actual_days_over_an_annual_term():
    term = BillingPeriod(date(2022, 2, 16), date(2023, 2, 15))
    assert ACTUAL.count(term, date(2022, 3, 22)) == DayCount(331, 365)
    share = prorate(Decimal("528"), term, date(2022, 3, 22), None, ACTUAL)  # 2 × $264
    assert round_money(share, "USD") == Money(Decimal("478.82"), "USD")


def test_actual_days_twelve_dollars_a_month_in_april():
    assert prorate(Decimal("120"), APR_2024, date(2024, 4, 3), date(2024, 4, 15), ACTUAL) == (
        Decimal("52")
    )
    assert prorate(Decimal("180"), APR_2024, date(2024, 4, 16), None, ACTUAL) == Decimal("90")


@pytest.mark.parametrize(
    ("period", "start", "end", "counted"),
    [
        (MAR_2024, date(2024, 3, 30), None, 1),
        (MAR_2024, date(2024, 3, 31), None, 1),  # day 31 counts as day 30
        (MAR_2024, date(2024, 3, 1), date(2024, 3, 30), 29),  # the 31st carries day 30
        (FEB_2023, date(2023, 2, 28), None, 1),  # February's end is day 30
        (FEB_2023, date(2023, 2, 27), None, 4),  # 27, 28, 29, 30
        (FEB_2024, date(2024, 2, 28), None, 3),
        (FEB_2024, date(2024, 2, 29), None, 1),
        (FEB_2023, date(2023, 2, 1), date(2023, 2, 14), 14),
    ],
)
def test_thirty_day_month_labels(period, start, end, counted):
    assert THIRTY.count(period, start, end) == DayCount(counted, 30)


def test_thirty_day_month_longer_periods():
    q1 = BillingPeriod(date(2024, 1, 1), date(2024, 3, 31))
    assert THIRTY.count(q1, date(2024, 2, 15)) == DayCount(46, 90)
    term = BillingPeriod(date(2022, 2, 16), date(2023, 2, 15))
    assert THIRTY.count(term, term.start) == DayCount(360, 360)
    # Anniversary months from the 31st are 30 days each, February included.
    for start, end in [
        (date(2023, 1, 31), date(2023, 2, 27)),
        (date(2023, 2, 28), date(2023, 3, 30)),
    ]:
        anniversary = BillingPeriod(start, end)
        assert THIRTY.count(anniversary, anniversary.start) == DayCount(30, 30)


def test_no_proration_bills_the_seats_standing_on_the_first_day():
    assert NONE.count(MAR_2024, date(2024, 2, 1), date(2024, 3, 5)) == DayCount(31, 31)
    assert NONE.count(MAR_2024, date(2024, 3, 2)) == DayCount(0, 31)


@pytest.mark.parametrize("convention", list(DayCountConvention))
def test_a_range_outside_the_period_counts_nothing(convention):
    assert convention.count(MAR_2024, date(2024, 4, 1)).counted == 0
    assert convention.count(MAR_2024, date(2024, 1, 1), date(2024, 2, 29)).counted == 0
    assert prorate(Decimal("22"), MAR_2024, date(2024, 4, 1), None, convention) == 0


@pytest.mark.parametrize("convention", list(DayCountConvention))
def test_every_convention_is_named_and_titled(convention):
    assert DayCountConvention(convention.value) is convention
    assert convention.title


def test_prorate_is_exact_and_unrounded():
    share = prorate(Decimal("22"), MAR_2024, date(2024, 3, 15), None, CW)
    assert isinstance(share, Decimal)
    assert str(share).startswith("12.0645161290322580645161290322580645")
    assert exact_decimal(Fraction(1, 8)) == Decimal("0.125")


def test_prorate_refuses_float():
    with pytest.raises(TypeError):
        prorate(22.0, MAR_2024, date(2024, 3, 15), None, CW)
