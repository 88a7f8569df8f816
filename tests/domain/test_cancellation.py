"""The NCE 7-day (168-hour) cancellation window."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from app.domain.cancellation import (
    CANCELLATION_WINDOW,
    is_inside_window,
    last_day_to_cancel,
    refund_on_cancel,
    window_closes_at,
)
from app.domain.money import Money
from app.domain.periods import BillingPeriod

APRIL = BillingPeriod.month(2024, 4)  # 30 days
SEAT = Money(Decimal("36.00"), "USD")


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def test_cancelled_three_days_in_is_refunded_less_the_days_used():
    outcome = refund_on_cancel(SEAT, APRIL, date(2024, 4, 1), date(2024, 4, 4))
    assert outcome.inside_window
    assert outcome.days_used == 3
    assert outcome.charge == usd("3.60")
    assert outcome.refund == usd("32.40")
    assert outcome.charge + outcome.refund == outcome.billed == usd("36.00")
    assert outcome.reduction_effective == date(2024, 4, 4)


def test_cancelled_on_day_eight_waits_for_renewal():
    outcome = refund_on_cancel(SEAT, APRIL, date(2024, 4, 1), date(2024, 4, 8))
    assert not outcome.inside_window
    assert outcome.refund == usd("0")
    assert outcome.charge == usd("36.00")
    assert outcome.reduction_effective == date(2024, 5, 1)
    assert "waits for renewal on 2024-05-01" in " ".join(outcome.describe())


def test_last_day_inside_the_window():
    assert last_day_to_cancel(date(2024, 4, 1)) == date(2024, 4, 7)
    outcome = refund_on_cancel(SEAT, APRIL, date(2024, 4, 1), date(2024, 4, 7))
    assert outcome.inside_window and outcome.charge == usd("7.20")


def test_same_day_cancellation_is_a_full_refund():
    outcome = refund_on_cancel(SEAT, APRIL, date(2024, 4, 1), date(2024, 4, 1), 3)
    assert outcome.refund == usd("108.00") and outcome.charge == usd("0.00")


def test_seats_added_mid_period():
    # 2 seats added on 11 April, billed 20/30 of the month; cancelled on the 13th (2 days used)
    outcome = refund_on_cancel(SEAT, APRIL, date(2024, 4, 11), date(2024, 4, 13), Decimal(2))
    assert outcome.billed == usd("48.00")
    assert outcome.charge == usd("4.80")
    assert outcome.refund == usd("43.20")
    assert outcome.days_billed == 20


def test_outside_the_window_on_an_annual_term_waits_for_term_end():
    outcome = refund_on_cancel(
        SEAT, APRIL, date(2024, 4, 1), date(2024, 4, 20), term_end=date(2025, 3, 31)
    )
    assert outcome.reduction_effective == date(2025, 4, 1)


def test_invalid_cancellations():
    with pytest.raises(ValueError, match="before purchase"):
        refund_on_cancel(SEAT, APRIL, date(2024, 4, 5), date(2024, 4, 4))
    with pytest.raises(ValueError, match="after the billed period"):
        refund_on_cancel(SEAT, APRIL, date(2024, 4, 1), date(2024, 5, 2))
    with pytest.raises(TypeError):
        refund_on_cancel(SEAT, APRIL, date(2024, 4, 1), date(2024, 4, 2), 1.0)


def test_window_is_168_elapsed_hours():
    purchased = datetime(2024, 4, 1, 9, 30, tzinfo=UTC)
    assert timedelta(days=7) == CANCELLATION_WINDOW
    assert window_closes_at(purchased) == datetime(2024, 4, 8, 9, 30, tzinfo=UTC)
    assert is_inside_window(purchased, datetime(2024, 4, 8, 9, 29, 59, tzinfo=UTC))
    assert not is_inside_window(purchased, datetime(2024, 4, 8, 9, 30, tzinfo=UTC))


def test_window_across_a_dst_change_is_still_168_hours():
    new_york = ZoneInfo("America/New_York")
    purchased = datetime(2024, 3, 7, 12, 0, tzinfo=new_york)  # EST; DST starts 10 March
    closes = window_closes_at(purchased)
    assert closes == datetime(2024, 3, 14, 17, 0, tzinfo=UTC)
    assert closes.astimezone(new_york).hour == 13  # an hour later on the wall clock
    assert closes - purchased == timedelta(hours=168)


def test_window_needs_aware_times():
    with pytest.raises(ValueError, match="timezone-aware"):
        window_closes_at(datetime(2024, 4, 1, 9, 30))
