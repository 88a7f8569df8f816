"""Billing periods, cycles, alignment and invoice dates."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from app.domain.periods import (
    Alignment,
    BillingCycle,
    BillingPeriod,
    BillingSchedule,
    BillingTiming,
    add_months,
    billed_period_on,
    invoice_date_for,
    period_containing,
    periods_covering,
)

MONTHLY, QUARTERLY, SEMI, ANNUAL = (
    BillingCycle.MONTHLY,
    BillingCycle.QUARTERLY,
    BillingCycle.SEMI_ANNUAL,
    BillingCycle.ANNUAL,
)
CAL, ANNIV = Alignment.CALENDAR, Alignment.ANNIVERSARY


@pytest.mark.parametrize(
    ("year", "month", "days"),
    [
        (2024, 2, 29),
        (2023, 2, 28),
        (2100, 2, 28),
        (2000, 2, 29),
        (2024, 4, 30),
        (2024, 3, 31),
        (2024, 12, 31),
    ],
)
def test_month_lengths_and_leap_years(year, month, days):
    period = BillingPeriod.month(year, month)
    assert period.days == days
    assert period.label == f"{year}-{month:02d}"
    assert period.is_calendar_month


def test_label_of_other_spans():
    assert BillingPeriod(date(2024, 1, 1), date(2024, 3, 31)).label == "2024-01-01..2024-03-31"
    assert BillingPeriod(date(2024, 3, 2), date(2024, 3, 31)).label == "2024-03-02..2024-03-31"
    assert BillingPeriod(date(2024, 1, 31), date(2024, 2, 28)).label == "2024-01-31..2024-02-28"


def test_contains_is_inclusive():
    period = BillingPeriod.month(2024, 3)
    assert period.contains(date(2024, 3, 1)) and period.contains(date(2024, 3, 31))
    assert not period.contains(date(2024, 2, 29)) and not period.contains(date(2024, 4, 1))
    assert date(2024, 3, 15) in period
    assert datetime(2024, 3, 15, 12) not in period


def test_invalid_periods():
    with pytest.raises(ValueError, match="before it starts"):
        BillingPeriod(date(2024, 3, 2), date(2024, 3, 1))
    with pytest.raises(TypeError, match="calendar date"):
        BillingPeriod(datetime(2024, 3, 1), date(2024, 3, 31))


def test_split_at():
    first, second = BillingPeriod.month(2024, 3).split_at(date(2024, 3, 15))
    assert first == BillingPeriod(date(2024, 3, 1), date(2024, 3, 14))
    assert second == BillingPeriod(date(2024, 3, 15), date(2024, 3, 31))
    assert first.days + second.days == 31
    with pytest.raises(ValueError):
        BillingPeriod.month(2024, 3).split_at(date(2024, 3, 1))
    with pytest.raises(ValueError):
        BillingPeriod.month(2024, 3).split_at(date(2024, 4, 1))


def test_clip():
    march = BillingPeriod.month(2024, 3)
    assert march.clip(date(2024, 2, 1)) == march
    assert march.clip(date(2024, 3, 10), date(2024, 4, 10)) == BillingPeriod(
        date(2024, 3, 10), date(2024, 3, 31)
    )
    assert march.clip(date(2024, 4, 1)) is None
    assert march.clip(date(2024, 1, 1), date(2024, 2, 29)) is None


def test_add_months_clamps_to_month_end():
    assert add_months(date(2024, 1, 31), 1) == date(2024, 2, 29)
    assert add_months(date(2023, 1, 31), 1) == date(2023, 2, 28)
    assert add_months(date(2024, 1, 31), 2) == date(2024, 3, 31)
    assert add_months(date(2024, 3, 31), -1) == date(2024, 2, 29)
    assert add_months(date(2024, 12, 15), 1) == date(2025, 1, 15)


@pytest.mark.parametrize(
    ("cycle", "day", "expected"),
    [
        (MONTHLY, date(2024, 2, 29), (date(2024, 2, 1), date(2024, 2, 29))),
        (QUARTERLY, date(2024, 5, 20), (date(2024, 4, 1), date(2024, 6, 30))),
        (SEMI, date(2024, 12, 31), (date(2024, 7, 1), date(2024, 12, 31))),
        (ANNUAL, date(2024, 1, 1), (date(2024, 1, 1), date(2024, 12, 31))),
    ],
)
def test_calendar_alignment(cycle, day, expected):
    assert period_containing(cycle, CAL, None, day) == BillingPeriod(*expected)


def test_anniversary_on_the_31st_clamps_and_comes_back():
    anchor = date(2024, 1, 31)
    periods = periods_covering(MONTHLY, ANNIV, anchor, date(2024, 1, 31), date(2024, 5, 1))
    assert [(p.start, p.end) for p in periods] == [
        (date(2024, 1, 31), date(2024, 2, 28)),
        (date(2024, 2, 29), date(2024, 3, 30)),
        (date(2024, 3, 31), date(2024, 4, 29)),
        (date(2024, 4, 30), date(2024, 5, 30)),
    ]
    assert period_containing(MONTHLY, ANNIV, anchor, date(2024, 2, 29)).start == date(2024, 2, 29)


def test_anniversary_non_leap_february():
    period = period_containing(MONTHLY, ANNIV, date(2023, 1, 31), date(2023, 2, 28))
    assert period == BillingPeriod(date(2023, 2, 28), date(2023, 3, 30))


def test_anniversary_annual_term():
    period = period_containing(ANNUAL, ANNIV, date(2022, 2, 16), date(2022, 3, 22))
    assert period == BillingPeriod(date(2022, 2, 16), date(2023, 2, 15))
    assert period.days == 365
    leap = period_containing(ANNUAL, ANNIV, date(2022, 2, 16), date(2024, 1, 1))
    assert leap == BillingPeriod(date(2023, 2, 16), date(2024, 2, 15))
    assert leap.days == 365
    assert period_containing(ANNUAL, ANNIV, date(2023, 3, 1), date(2024, 2, 29)).days == 366


def test_anniversary_quarterly_from_the_31st():
    periods = periods_covering(
        QUARTERLY, ANNIV, date(2024, 1, 31), date(2024, 1, 31), date(2024, 12, 31)
    )
    assert [p.start for p in periods] == [
        date(2024, 1, 31),
        date(2024, 4, 30),
        date(2024, 7, 31),
        date(2024, 10, 31),
    ]
    assert periods[0].end == date(2024, 4, 29)


def test_anniversary_before_the_anchor():
    period = period_containing(MONTHLY, ANNIV, date(2024, 3, 15), date(2024, 1, 1))
    assert period == BillingPeriod(date(2023, 12, 15), date(2024, 1, 14))


def test_anniversary_needs_an_anchor():
    with pytest.raises(ValueError, match="anchor"):
        period_containing(MONTHLY, ANNIV, None, date(2024, 1, 1))


def test_periods_covering_partial_overlaps():
    periods = periods_covering(MONTHLY, CAL, None, date(2024, 1, 15), date(2024, 3, 1))
    assert [p.label for p in periods] == ["2024-01", "2024-02", "2024-03"]
    assert periods_covering(MONTHLY, CAL, None, date(2024, 2, 1), date(2024, 2, 1)) == [
        BillingPeriod.month(2024, 2)
    ]
    with pytest.raises(ValueError):
        periods_covering(MONTHLY, CAL, None, date(2024, 2, 2), date(2024, 2, 1))


def test_periods_covering_are_contiguous_for_years():
    periods = periods_covering(
        MONTHLY, ANNIV, date(2020, 1, 31), date(2020, 1, 1), date(2025, 12, 31)
    )
    for before, after in zip(periods, periods[1:], strict=False):
        assert before.end.toordinal() + 1 == after.start.toordinal()
    assert sum(p.days for p in periods[1:-1]) == (periods[-2].end - periods[1].start).days + 1


def test_invoice_dates():
    march = BillingPeriod.month(2024, 3)
    assert invoice_date_for(march, BillingTiming.ADVANCE) == date(2024, 3, 1)
    assert invoice_date_for(march, BillingTiming.ARREARS) == date(2024, 4, 1)
    february = BillingPeriod.month(2024, 2)
    assert invoice_date_for(february, BillingTiming.ARREARS) == date(2024, 3, 1)


def test_billed_period_on():
    adv, arr = BillingTiming.ADVANCE, BillingTiming.ARREARS
    assert billed_period_on(date(2024, 4, 1), MONTHLY, CAL, None, adv) == BillingPeriod.month(
        2024, 4
    )
    assert billed_period_on(date(2024, 4, 1), MONTHLY, CAL, None, arr) == BillingPeriod.month(
        2024, 3
    )
    assert billed_period_on(date(2024, 4, 2), MONTHLY, CAL, None, adv) is None
    assert billed_period_on(date(2024, 5, 1), QUARTERLY, CAL, None, adv) is None
    assert billed_period_on(date(2024, 7, 1), QUARTERLY, CAL, None, arr) == BillingPeriod(
        date(2024, 4, 1), date(2024, 6, 30)
    )
    assert billed_period_on(date(2024, 2, 29), MONTHLY, ANNIV, date(2024, 1, 31), adv) == (
        BillingPeriod(date(2024, 2, 29), date(2024, 3, 30))
    )


def test_schedule_bundles_the_settings():
    schedule = BillingSchedule(ANNUAL, ANNIV, date(2022, 2, 16), BillingTiming.ADVANCE)
    term = schedule.period_containing(date(2022, 3, 22))
    assert schedule.invoice_date_for(term) == date(2022, 2, 16)
    assert schedule.billed_period_on(date(2023, 2, 16)).start == date(2023, 2, 16)
    assert len(schedule.periods_covering(date(2022, 2, 16), date(2024, 2, 16))) == 3
    with pytest.raises(ValueError, match="anchor"):
        BillingSchedule(MONTHLY, ANNIV)
