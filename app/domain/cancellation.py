"""The NCE cancellation window: 168 hours after a purchase, renewal or seat add.

Inside the window Microsoft refunds the unused part of what was billed and keeps a daily
prorated charge for the days used; after it, nothing is refunded and a seat reduction only
takes effect at renewal. The calendar shows the window; reconciliation uses the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction

from app.domain.daycount import DayCountConvention
from app.domain.money import DEFAULT_ROUNDING, Money, RoundingRule, round_money
from app.domain.periods import ONE_DAY, BillingPeriod

CANCELLATION_WINDOW = timedelta(hours=168)
# From dates alone: the window is the purchase day and the six days after it. On the 8th day
# the 168 hours run out at the hour of purchase, so that day cannot be promised a refund.
WINDOW_DAYS = 7


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, not {moment!r}")


def window_closes_at(purchased_at: datetime) -> datetime:
    """The instant (aware, UTC) the window closes: exactly 168 elapsed hours, across DST."""
    _require_aware(purchased_at, "purchased_at")
    return purchased_at.astimezone(UTC) + CANCELLATION_WINDOW


def is_inside_window(purchased_at: datetime, cancelled_at: datetime) -> bool:
    _require_aware(cancelled_at, "cancelled_at")
    if cancelled_at < purchased_at:
        raise ValueError(f"cancelled {cancelled_at} before purchase {purchased_at}")
    return cancelled_at < window_closes_at(purchased_at)


def last_day_to_cancel(purchase_day: date) -> date:
    """The last calendar day a cancellation is sure to fall inside the window."""
    return purchase_day + timedelta(days=WINDOW_DAYS - 1)


@dataclass(frozen=True)
class CancellationOutcome:
    """What cancelling seats costs: billed, kept as charge, refunded, and when seats drop."""

    inside_window: bool
    billed: Money
    charge: Money
    refund: Money
    days_used: int
    days_billed: int
    days_in_period: int
    window_last_day: date
    reduction_effective: date

    def describe(self) -> list[str]:
        if not self.inside_window:
            return [
                f"Outside the 7-day window (last day {self.window_last_day}): no refund.",
                f"Billed {self.billed} stays charged; the reduction waits for renewal on "
                f"{self.reduction_effective}.",
            ]
        return [
            f"Inside the 7-day window (last day {self.window_last_day}).",
            f"Billed {self.billed} for {self.days_billed}/{self.days_in_period} days; "
            f"charge {self.charge} for {self.days_used} day(s) used; refund {self.refund}.",
        ]


def refund_on_cancel(
    monthly_price_per_seat: Money,
    period: BillingPeriod,
    purchase_day: date,
    cancel_day: date,
    quantity: Decimal | int = 1,
    *,
    term_end: date | None = None,
    rule: RoundingRule = DEFAULT_ROUNDING,
) -> CancellationOutcome:
    """The refund and charge for cancelling `quantity` seats bought (renewed, added) on
    `purchase_day` and billed for `period` at `monthly_price_per_seat` per whole period.

    Days used run from the purchase day up to the day before the cancellation (a same-day
    cancellation is a full refund); billing and charge are Microsoft's daily proration,
    each rounded once per line, and the refund is their difference so nothing is lost.
    `term_end` (default the period end) sets the renewal when the window has closed.
    """
    if cancel_day < purchase_day:
        raise ValueError(f"cancelled {cancel_day} before purchase {purchase_day}")
    if cancel_day > period.end:
        raise ValueError(f"cancellation {cancel_day} is after the billed period {period.label}")
    price = monthly_price_per_seat * quantity
    first_billed = max(purchase_day, period.start)
    actual = DayCountConvention.ACTUAL_DAYS
    billed_days = actual.count(period, first_billed, period.end)
    billed = round_money(Fraction(price.amount) * billed_days.fraction, price.currency, rule)
    window_last_day = last_day_to_cancel(purchase_day)
    if cancel_day > window_last_day:
        renewal = (term_end or period.end) + ONE_DAY
        return CancellationOutcome(
            False,
            billed,
            billed,
            Money.zero(price.currency),
            billed_days.counted,
            billed_days.counted,
            period.days,
            window_last_day,
            renewal,
        )
    used = actual.count(period, first_billed, cancel_day - ONE_DAY)
    charge = round_money(Fraction(price.amount) * used.fraction, price.currency, rule)
    return CancellationOutcome(
        True,
        billed,
        charge,
        billed - charge,
        used.counted,
        billed_days.counted,
        period.days,
        window_last_day,
        cancel_day,
    )
