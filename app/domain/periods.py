"""Billing periods: the inclusive date spans a customer invoice covers, and when they are billed.

Periods follow a cycle (monthly to annual) aligned either to the calendar or to an anniversary
date. Anniversary periods are always computed from the anchor, never chained from the previous
period, so an anchor on the 31st clamps to short months and comes back to the 31st afterwards
(Jan 31 → Feb 29 → Mar 31).
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import Enum

from app.domain.lazy import computed_once

ONE_DAY = timedelta(days=1)


def days_in_month(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def is_month_end(day: date) -> bool:
    return day.day == days_in_month(day.year, day.month)


def add_months(day: date, months: int, *, day_of_month: int | None = None) -> date:
    """The same day-of-month `months` later (or earlier), clamped to the month's last day."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    wanted = day.day if day_of_month is None else day_of_month
    return date(year, month + 1, min(wanted, days_in_month(year, month + 1)))


def _require_date(value: object, name: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise TypeError(f"{name} must be a calendar date, not {type(value).__name__}")
    return value


@dataclass(frozen=True, order=True)
class BillingPeriod:
    """A span of billing days, both ends included: March 2024 is 2024-03-01..2024-03-31."""

    start: date
    end: date

    def __post_init__(self) -> None:
        _require_date(self.start, "start")
        _require_date(self.end, "end")
        if self.end < self.start:
            raise ValueError(f"billing period ends {self.end} before it starts {self.start}")

    @classmethod
    def month(cls, year: int, month: int) -> BillingPeriod:
        return cls(date(year, month, 1), date(year, month, days_in_month(year, month)))

    @computed_once
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @computed_once
    def is_calendar_month(self) -> bool:
        return (
            self.start.day == 1
            and self.start.year == self.end.year
            and self.start.month == self.end.month
            and is_month_end(self.end)
        )

    @computed_once
    def label(self) -> str:
        """'2024-03' for a calendar month, otherwise '2024-01-01..2024-03-31'."""
        if self.is_calendar_month:
            return f"{self.start:%Y-%m}"
        return f"{self.start.isoformat()}..{self.end.isoformat()}"

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and not isinstance(day, datetime) and self.contains(day)

    def clip(self, start: date, end: date | None = None) -> BillingPeriod | None:
        """The part of [start, end] inside this period (end None = open); None if disjoint."""
        first = max(start, self.start)
        last = self.end if end is None else min(end, self.end)
        return BillingPeriod(first, last) if first <= last else None

    def split_at(self, day: date) -> tuple[BillingPeriod, BillingPeriod]:
        """Two periods: up to the day before `day`, and from `day` to the end."""
        if not self.start < day <= self.end:
            raise ValueError(f"cannot split {self.label} at {day}: not after its first day")
        return BillingPeriod(self.start, day - ONE_DAY), BillingPeriod(day, self.end)

    def following(self) -> date:
        """The first day after the period."""
        return self.end + ONE_DAY

    def __str__(self) -> str:
        return self.label


class BillingCycle(Enum):
    """How often a customer is invoiced for a recurring line."""

    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    SEMI_ANNUAL = "semi-annual"
    ANNUAL = "annual"

    @property
    def months(self) -> int:
        return _CYCLE_MONTHS[self]


_CYCLE_MONTHS = {
    BillingCycle.MONTHLY: 1,
    BillingCycle.QUARTERLY: 3,
    BillingCycle.SEMI_ANNUAL: 6,
    BillingCycle.ANNUAL: 12,
}


class Alignment(Enum):
    """Where periods begin: on calendar boundaries (1 Jan, 1 Apr…) or on an anchor's date."""

    CALENDAR = "calendar"
    ANNIVERSARY = "anniversary"


class BillingTiming(Enum):
    """Whether a period is invoiced on its first day or on the day after it ends."""

    ADVANCE = "advance"
    ARREARS = "arrears"


# Calendar alignment is anniversary alignment anchored on a 1 January.
_CALENDAR_ANCHOR = date(2000, 1, 1)


def _anchor_for(alignment: Alignment, anchor: date | None) -> date:
    if alignment is Alignment.CALENDAR:
        return _CALENDAR_ANCHOR
    if anchor is None:
        raise ValueError("anniversary alignment needs an anchor date")
    return _require_date(anchor, "anchor")


def _period_start(cycle: BillingCycle, anchor: date, index: int) -> date:
    return add_months(anchor, index * cycle.months)


def _period_at(cycle: BillingCycle, anchor: date, index: int) -> BillingPeriod:
    start = _period_start(cycle, anchor, index)
    return BillingPeriod(start, _period_start(cycle, anchor, index + 1) - ONE_DAY)


def _index_containing(cycle: BillingCycle, anchor: date, day: date) -> int:
    months = (day.year - anchor.year) * 12 + (day.month - anchor.month)
    index = months // cycle.months
    while _period_start(cycle, anchor, index) > day:
        index -= 1
    while _period_start(cycle, anchor, index + 1) <= day:
        index += 1
    return index


def period_containing(
    cycle: BillingCycle, alignment: Alignment, anchor: date | None, day: date
) -> BillingPeriod:
    """The billing period `day` falls in. `anchor` is ignored for calendar alignment."""
    base = _anchor_for(alignment, anchor)
    _require_date(day, "day")
    return _period_at(cycle, base, _index_containing(cycle, base, day))


def periods_covering(
    cycle: BillingCycle,
    alignment: Alignment,
    anchor: date | None,
    first_day: date,
    last_day: date,
) -> list[BillingPeriod]:
    """Every whole billing period that shares at least one day with first_day..last_day."""
    if last_day < first_day:
        raise ValueError(f"{last_day} is before {first_day}")
    base = _anchor_for(alignment, anchor)
    index = _index_containing(cycle, base, first_day)
    periods = []
    while True:
        period = _period_at(cycle, base, index)
        if period.start > last_day:
            return periods
        periods.append(period)
        index += 1


def invoice_date_for(period: BillingPeriod, timing: BillingTiming) -> date:
    """In advance the invoice is dated the period's first day; in arrears the day after."""
    return period.start if timing is BillingTiming.ADVANCE else period.following()


def billed_period_on(
    invoice_date: date,
    cycle: BillingCycle,
    alignment: Alignment,
    anchor: date | None,
    timing: BillingTiming,
) -> BillingPeriod | None:
    """The period an invoice dated `invoice_date` bills, or None if no invoice falls that day."""
    day = invoice_date if timing is BillingTiming.ADVANCE else invoice_date - ONE_DAY
    period = period_containing(cycle, alignment, anchor, day)
    return period if invoice_date_for(period, timing) == invoice_date else None


@dataclass(frozen=True)
class BillingSchedule:
    """A cycle, its alignment and timing together: what a billing policy configures."""

    cycle: BillingCycle = BillingCycle.MONTHLY
    alignment: Alignment = Alignment.CALENDAR
    anchor: date | None = None
    timing: BillingTiming = BillingTiming.ADVANCE

    def __post_init__(self) -> None:
        _anchor_for(self.alignment, self.anchor)

    def period_containing(self, day: date) -> BillingPeriod:
        return period_containing(self.cycle, self.alignment, self.anchor, day)

    def periods_covering(self, first_day: date, last_day: date) -> list[BillingPeriod]:
        return periods_covering(self.cycle, self.alignment, self.anchor, first_day, last_day)

    def invoice_date_for(self, period: BillingPeriod) -> date:
        return invoice_date_for(period, self.timing)

    def billed_period_on(self, invoice_date: date) -> BillingPeriod | None:
        return billed_period_on(invoice_date, self.cycle, self.alignment, self.anchor, self.timing)
