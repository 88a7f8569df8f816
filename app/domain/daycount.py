"""Day-count conventions: which share of a period's price a seat owes for part of the period.

Each PSA or vendor prorates its own way, so the convention is a setting. Every convention
answers the same question for an inclusive range [start, end] of a period (the range is
clipped to the period first; `end=None` means "to the period end") and gives an exact
`DayCount`, numerator over denominator, kept as a rational until the caller rounds the money.

Every convention is additive: splitting a range in two and counting both parts gives exactly
the count of the whole, so the segments of a seat timeline always add up to the period.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Context, Decimal
from enum import Enum
from fractions import Fraction

from app.domain.periods import BillingPeriod, is_month_end


@dataclass(frozen=True)
class DayCount:
    """Days charged over days in the period, as shown in "explain this number" (17/31)."""

    counted: int
    in_period: int

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.counted, self.in_period)

    def __str__(self) -> str:
        return f"{self.counted}/{self.in_period}"


class DayCountConvention(Enum):
    """The proration rules TrueUp knows, by the name a setting stores."""

    CONNECTWISE = "connectwise"
    CLOUDBLUE = "cloudblue"
    ACTUAL_DAYS = "actual_days"
    THIRTY_DAY_MONTH = "thirty_day_month"
    NONE = "none"

    @property
    def title(self) -> str:
        return _TITLES[self]

    def count(self, period: BillingPeriod, start: date, end: date | None = None) -> DayCount:
        """Days of [start, end] (clipped to the period) charged under this convention."""
        span = period.clip(start, end)
        if span is None:
            return DayCount(0, _DENOMINATORS.get(self, _actual_days)(period))
        return _COUNTS[self](period, span)

    def fraction(self, period: BillingPeriod, start: date, end: date | None = None) -> Fraction:
        return self.count(period, start, end).fraction


# --- the conventions -----------------------------------------------------------------------


def _actual_days(period: BillingPeriod) -> int:
    return period.days


def _inclusive(period: BillingPeriod, span: BillingPeriod) -> DayCount:
    """ConnectWise and Microsoft: every day from start to end, both included.

    ConnectWise: (period_end − effective + 1) / days_in_period; a cancelled date is the last
    day billed. Microsoft daily proration: days covered / days in the period (or term).
    """
    return DayCount(span.days, period.days)


def _cloudblue(period: BillingPeriod, span: BillingPeriod) -> DayCount:
    """CloudBlue/Ingram: (days_in_period − effective_day) / days_in_period.

    The effective day of a change still belongs to the old quantity. So a range that starts
    after the period's first day loses its first day, and a range that ends before the
    period's last day also owns the day after its end (the day its successor takes effect).
    A range starting on the period's first day is a change at the boundary and counts fully.
    """
    first = span.start.toordinal() + (0 if span.start == period.start else 1)
    last = span.end.toordinal() + (0 if span.end == period.end else 1)
    return DayCount(last - first + 1, period.days)


def _thirty_day_position(day: date) -> int:
    """Where a day starts on a 30-day-month axis.

    Each date is labelled with its day of month, except that the 31st is labelled 30 and the
    last day of February is labelled 30 (the 30/360 start-date rule).
    """
    label = 30 if is_month_end(day) and day.month == 2 else min(day.day, 30)
    return (day.year * 12 + day.month - 1) * 30 + label


def _thirty_day_position_after(day: date) -> int:
    if is_month_end(day):
        return (day.year * 12 + day.month) * 30 + 1
    return _thirty_day_position(date.fromordinal(day.toordinal() + 1))


def _thirty_days(start: date, end: date) -> int:
    return _thirty_day_position_after(end) - _thirty_day_position(start)


def _thirty_day_month(period: BillingPeriod, span: BillingPeriod) -> DayCount:
    """Every month counts 30 days: a range runs from its first day's label up to the day after
    its end. Starting on the 31st counts like starting on the 30th (one day to month end);
    starting on the last day of February likewise counts one day. Ending on the 30th of a
    31-day month leaves the month's 30th day to the 31st."""
    return DayCount(_thirty_days(span.start, span.end), _thirty_days(period.start, period.end))


def _no_proration(period: BillingPeriod, span: BillingPeriod) -> DayCount:
    """No proration: the seats present on the period's first day are billed the full period.

    A change inside the period waits for the next one (ConnectWise with Prorate off bills a
    mid-month addition in full from the next invoice); a cancellation inside the period still
    owes the period it started in. Counting only the first day keeps this additive.
    """
    return DayCount(period.days if span.start == period.start else 0, period.days)


_COUNTS = {
    DayCountConvention.CONNECTWISE: _inclusive,
    DayCountConvention.CLOUDBLUE: _cloudblue,
    DayCountConvention.ACTUAL_DAYS: _inclusive,
    DayCountConvention.THIRTY_DAY_MONTH: _thirty_day_month,
    DayCountConvention.NONE: _no_proration,
}

_DENOMINATORS = {
    DayCountConvention.THIRTY_DAY_MONTH: lambda p: _thirty_days(p.start, p.end),
}

_TITLES = {
    DayCountConvention.CONNECTWISE: "ConnectWise (effective day counted)",
    DayCountConvention.CLOUDBLUE: "CloudBlue (effective day not counted)",
    DayCountConvention.ACTUAL_DAYS: "actual days (Microsoft daily proration)",
    DayCountConvention.THIRTY_DAY_MONTH: "30-day months",
    DayCountConvention.NONE: "no proration (seats on the period's first day)",
}


# --- prorating an amount ------------------------------------------------------------------

# Wide enough that one later rounding to any minor unit equals rounding the exact rational.
PRORATE_DIGITS = 50
_PRORATE = Context(prec=PRORATE_DIGITS)


def exact_decimal(value: Fraction) -> Decimal:
    """The rational as a Decimal: exact when it terminates, else to PRORATE_DIGITS digits."""
    return _PRORATE.divide(Decimal(value.numerator), Decimal(value.denominator))


def is_terminating(value: Fraction) -> bool:
    """Whether the rational has a finite decimal expansion (52 does, 24.129… does not)."""
    denominator = value.denominator
    for prime in (2, 5):
        while denominator % prime == 0:
            denominator //= prime
    return denominator == 1


def prorated_fraction(
    amount_per_period: Decimal,
    period: BillingPeriod,
    start: date,
    end: date | None,
    convention: DayCountConvention,
) -> Fraction:
    """The exact prorated amount as a rational, for callers that round it themselves."""
    if isinstance(amount_per_period, bool) or not isinstance(amount_per_period, Decimal | int):
        raise TypeError(f"amount must be a Decimal, not {type(amount_per_period).__name__}")
    return Fraction(amount_per_period) * convention.fraction(period, start, end)


def prorate(
    amount_per_period: Decimal,
    period: BillingPeriod,
    start: date,
    end: date | None,
    convention: DayCountConvention,
) -> Decimal:
    """The unrounded share of `amount_per_period` owed for [start, end] of `period`.

    Exact when the share terminates (12 × 13/30 = 5.2), otherwise carried to 50 significant
    digits; the caller rounds once with round_money.
    """
    return exact_decimal(prorated_fraction(amount_per_period, period, start, end, convention))
