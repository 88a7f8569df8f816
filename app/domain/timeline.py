"""Seat timelines: how many seats a subscription has on each day, and what that costs.

Vendor recon lines, API snapshots and PSA additions all become signed seat lots over
inclusive date ranges; summing them gives a step function of seats per day. Two timelines
subtract into the drift, and any timeline can be charged for a period under a day-count
convention with a `ChargeBreakdown` that shows every number behind the total.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from enum import Enum
from fractions import Fraction
from functools import lru_cache
from typing import NamedTuple

from app.domain.daycount import DayCount, DayCountConvention, exact_decimal, is_terminating
from app.domain.iso_days import iso_day
from app.domain.lazy import computed_once
from app.domain.money import (
    DEFAULT_ROUNDING,
    Money,
    RoundingRule,
    format_decimal,
    normalise_currency,
    round_amount,
)
from app.domain.periods import ONE_DAY, BillingPeriod


def _decimal(value: object, name: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__} ({value!r})")
    return Decimal(value)


@dataclass(frozen=True)
class SeatLot:
    """Signed seats over an inclusive date range (end None = still running).

    A negative lot removes seats, as an NCE refund line does; `unit_price` is the lot's own
    price per period when it keeps one (NCE adds keep the price they were bought at).
    """

    quantity: Decimal
    start: date
    end: date | None = None
    unit_price: Decimal | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "quantity", _decimal(self.quantity, "quantity"))
        if self.unit_price is not None:
            object.__setattr__(self, "unit_price", _decimal(self.unit_price, "unit_price"))
        if self.end is not None and self.end < self.start:
            raise ValueError(f"seat lot ends {self.end} before it starts {self.start}")


class Segment(NamedTuple):
    """A run of days with a constant seat count, both ends included."""

    start: date
    end: date
    quantity: Decimal

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


class LineRounding(Enum):
    """Where a charge is rounded: once per line (segment), or per seat then multiplied."""

    PER_LINE = "per_line"
    PER_UNIT = "per_unit"


@dataclass(frozen=True)
class QuantityTimeline:
    """Seats per day as a step function: `steps` are (first day, seats from that day on).

    Seats are zero before the first step. The steps are canonical (sorted, no repeats), so
    two timelines with the same seats on every day compare equal.
    """

    steps: tuple[tuple[date, Decimal], ...] = ()
    _days: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        previous_day, previous_level = None, Decimal(0)
        for day, level in self.steps:
            if previous_day is not None and day <= previous_day:
                raise ValueError(f"timeline steps out of order at {day}")
            if level == previous_level:
                raise ValueError(f"timeline step on {day} does not change the seats")
            previous_day, previous_level = day, level
        object.__setattr__(self, "_days", tuple(day for day, _ in self.steps))

    @classmethod
    def from_lots(cls, lots: Iterable[SeatLot]) -> QuantityTimeline:
        changes: list[tuple[date, Decimal]] = []
        for lot in lots:
            changes.append((lot.start, lot.quantity))
            if lot.end is not None and lot.end < date.max:
                changes.append((lot.end + ONE_DAY, -lot.quantity))
        return cls.from_changes(changes)

    @classmethod
    def from_changes(cls, changes: Iterable[tuple[date, Decimal]]) -> QuantityTimeline:
        """From (day, seats added that day) pairs, in any order; negative deltas remove."""
        totals: dict[date, Decimal] = {}
        for day, delta in changes:
            totals[day] = totals.get(day, Decimal(0)) + delta
        steps: list[tuple[date, Decimal]] = []
        level = Decimal(0)
        for day in sorted(totals):
            if totals[day].is_zero():
                continue
            level += totals[day]
            steps.append((day, level))
        return cls._canonical(tuple(steps))

    @classmethod
    def one_span(cls, quantity: Decimal, start: date, end: date) -> QuantityTimeline:
        """`quantity` seats from start to end inclusive (end before date.max): what
        `from_lots` gives for one lot, without its general bookkeeping."""
        if quantity.is_zero():
            return cls._canonical(())
        level = Decimal(0) + quantity
        return cls._canonical(((start, level), (end + ONE_DAY, level - quantity)))

    @classmethod
    def _canonical(cls, steps: tuple[tuple[date, Decimal], ...]) -> QuantityTimeline:
        """A timeline from steps already sorted and each changing the seats (as every
        internal construction makes them): no re-validation, which the engine would pay
        hundreds of thousands of times per run."""
        timeline = object.__new__(cls)
        object.__setattr__(timeline, "steps", steps)
        object.__setattr__(timeline, "_days", tuple(day for day, _ in steps))
        return timeline

    def changes(self) -> list[tuple[date, Decimal]]:
        """(day, seats added that day) for every step: what `from_changes` takes."""
        previous = Decimal(0)
        changes = []
        for day, level in self.steps:
            changes.append((day, level - previous))
            previous = level
        return changes

    def quantity_on(self, day: date) -> Decimal:
        index = bisect_right(self._days, day)
        return self.steps[index - 1][1] if index else Decimal(0)

    def same_within(self, other: QuantityTimeline, start: date, end: date) -> bool:
        """The same seats on every day from start to end inclusive."""
        if self.quantity_on(start) != other.quantity_on(start):
            return False
        mine = self.steps[bisect_right(self._days, start):bisect_right(self._days, end)]
        theirs = other.steps[bisect_right(other._days, start):bisect_right(other._days, end)]
        return mine == theirs

    def has_seats_within(self, start: date, end: date) -> bool:
        """Seats (other than zero) on some day from start to end inclusive."""
        if not self.quantity_on(start).is_zero():
            return True
        first, last = bisect_right(self._days, start), bisect_right(self._days, end)
        return any(not level.is_zero() for _, level in self.steps[first:last])

    def segments(self, period: BillingPeriod) -> list[Segment]:
        """Constant runs covering the whole period, zero-seat runs included."""
        runs = []
        start = period.start
        level = self.quantity_on(start)
        for day, quantity in self.steps[bisect_right(self._days, start) :]:
            if day > period.end:
                break
            runs.append(Segment(start, day - ONE_DAY, level))
            start, level = day, quantity
        runs.append(Segment(start, period.end, level))
        return runs

    def difference(self, other: QuantityTimeline) -> QuantityTimeline:
        """Seats in this timeline minus seats in `other`, day by day (the drift)."""
        negated = [(day, -delta) for day, delta in other.changes()]
        return self.from_changes(self.changes() + negated)

    def within(self, start: date, end: date) -> QuantityTimeline:
        """The same seats between start and end inclusive, and none outside."""
        lots = [
            SeatLot(s.quantity, s.start, s.end) for s in self.segments(BillingPeriod(start, end))
        ]
        return self.from_lots(lots)

    def integral(self, period: BillingPeriod) -> Decimal:
        """Seat-days over the period, exactly."""
        return self.seat_days(period.start, period.end)

    def seat_days(self, start: date, end: date) -> Decimal:
        """Seat-days from start to end inclusive, exactly."""
        level = self.quantity_on(start)
        total = Decimal(0)
        day = start
        for step_day, quantity in self.steps[bisect_right(self._days, start):]:
            if step_day > end:
                break
            total += level * (step_day - day).days
            day, level = step_day, quantity
        return total + level * ((end - day).days + 1)

    def explain_charge(
        self,
        period: BillingPeriod,
        unit_price: Decimal,
        convention: DayCountConvention,
        currency: str,
        rounding: LineRounding = LineRounding.PER_LINE,
        rule: RoundingRule = DEFAULT_ROUNDING,
    ) -> ChargeBreakdown:
        """What the seats cost over the period at `unit_price` per seat per whole period.

        The same seats at the same price in the same period cost the same: a book's drifts
        repeat (a seat added on the 12th of a product's price), so equal charges are priced
        once and the one breakdown is shared (it is frozen). Equal here means written alike:
        2 and 2.00 seats are one number but not one explanation."""
        price = _decimal(unit_price, "unit_price")
        start, end = period.start, period.end
        first = bisect_right(self._days, start)
        last = bisect_right(self._days, end)
        key = (period, str(self.quantity_on(start)),
               tuple((day, str(level)) for day, level in self.steps[first:last]),
               str(price), convention, currency, rounding, rule)
        return _priced(key)

    def charge(
        self,
        period: BillingPeriod,
        unit_price: Decimal,
        convention: DayCountConvention,
        currency: str,
        rounding: LineRounding = LineRounding.PER_LINE,
        rule: RoundingRule = DEFAULT_ROUNDING,
    ) -> Money:
        return self.explain_charge(period, unit_price, convention, currency, rounding, rule).total


BREAKDOWNS_KEPT = 4096


@lru_cache(maxsize=BREAKDOWNS_KEPT)
def _priced(key: tuple) -> ChargeBreakdown:
    """`explain_charge` of a key naming the seats on the period's first day and the steps
    inside it as text (so every number is rebuilt exactly as it was written)."""
    period, opening, steps, price_text, convention, currency, rounding, rule = key
    level = Decimal(opening)
    seats = (((period.start, level),) if not level.is_zero() else ()) + tuple(
        (day, Decimal(text)) for day, text in steps)
    price = Decimal(price_text)
    lines = tuple(
        charge_line(period, s, price, convention, currency, rounding, rule)
        for s in QuantityTimeline._canonical(seats).segments(period)
        if not s.quantity.is_zero()
    )
    return ChargeBreakdown(
        period, normalise_currency(currency), convention, rounding, rule, lines
    )


def charge_line(
    period: BillingPeriod,
    segment: Segment,
    unit_price: Decimal,
    convention: DayCountConvention,
    currency: str,
    rounding: LineRounding = LineRounding.PER_LINE,
    rule: RoundingRule = DEFAULT_ROUNDING,
) -> ChargeLine:
    """One segment priced and rounded: the unit of every charge and every explanation."""
    day_count = convention.count(period, segment.start, segment.end)
    places = rule.places_for(currency)
    exact = Fraction(segment.quantity) * Fraction(unit_price) * day_count.fraction
    if rounding is LineRounding.PER_LINE:
        unit_rounded = None
        rounded = round_amount(exact, places, rule.mode)
    else:
        unit_rounded = round_amount(Fraction(unit_price) * day_count.fraction, places, rule.mode)
        rounded = round_amount(
            Fraction(unit_rounded) * Fraction(segment.quantity), places, rule.mode
        )
    return ChargeLine(
        segment.start,
        segment.end,
        segment.quantity,
        unit_price,
        day_count,
        exact,
        None if unit_rounded is None else Money(unit_rounded, currency),
        Money(rounded, currency),
    )


def explain_lot_charges(
    lots: Iterable[SeatLot],
    period: BillingPeriod,
    convention: DayCountConvention,
    currency: str,
    default_unit_price: Decimal | None = None,
    rounding: LineRounding = LineRounding.PER_LINE,
    rule: RoundingRule = DEFAULT_ROUNDING,
) -> ChargeBreakdown:
    """Charge lots that keep their own prices: one timeline per price, lines in date order."""
    by_price: dict[Decimal, list[SeatLot]] = {}
    for lot in lots:
        price = lot.unit_price if lot.unit_price is not None else default_unit_price
        if price is None:
            raise ValueError(f"seat lot from {lot.start} has no unit price and no default")
        by_price.setdefault(_decimal(price, "unit_price"), []).append(lot)
    lines: list[ChargeLine] = []
    for price, group in by_price.items():
        timeline = QuantityTimeline.from_lots(group)
        breakdown = timeline.explain_charge(period, price, convention, currency, rounding, rule)
        lines.extend(breakdown.lines)
    lines.sort(key=lambda line: (line.start, line.end, line.unit_price))
    return ChargeBreakdown(
        period, normalise_currency(currency), convention, rounding, rule, tuple(lines)
    )


# --- explanation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ChargeLine:
    """One priced segment: the dates, seats, price, day count, exact and rounded amounts."""

    start: date
    end: date
    quantity: Decimal
    unit_price: Decimal
    day_count: DayCount
    exact: Fraction
    unit_rounded: Money | None
    rounded: Money

    @computed_once
    def unrounded(self) -> Decimal:
        return exact_decimal(self.exact)

    def describe(self) -> str:
        dates = f"{iso_day(self.start)}..{iso_day(self.end)}"
        seats = format_decimal(self.quantity)
        price = format_decimal(self.unit_price)
        if self.unit_rounded is None:
            sums = f"{seats} × {price} × {self.day_count} = {_show(self.exact)}"
        else:
            per_unit = Fraction(self.unit_price) * self.day_count.fraction
            sums = (
                f"{price} × {self.day_count} = {_show(per_unit)}"
                f" → {format_decimal(self.unit_rounded.amount)} per seat × {seats}"
            )
        return f"{dates}  {sums} → {self.rounded}"


@dataclass(frozen=True)
class ChargeBreakdown:
    """Every line behind a period charge, for "explain this number"."""

    period: BillingPeriod
    currency: str
    convention: DayCountConvention
    rounding: LineRounding
    rule: RoundingRule
    lines: tuple[ChargeLine, ...]

    @computed_once
    def total(self) -> Money:
        return Money.total([line.rounded for line in self.lines], self.currency)

    @computed_once
    def exact_total(self) -> Fraction:
        return sum((line.exact for line in self.lines), Fraction(0))

    @property
    def rounding_residual(self) -> Decimal:
        """Rounded total minus the exact total: reported as rounding, never as a finding."""
        return exact_decimal(Fraction(self.total.amount) - self.exact_total)

    def describe(self) -> list[str]:
        return list(self._text)

    @computed_once
    def _text(self) -> tuple[str, ...]:
        where = "per line" if self.rounding is LineRounding.PER_LINE else "per seat"
        out = [
            f"Period {self.period.label} ({self.period.days} days), {self.convention.title}; "
            f"rounded {where}, {self.rule.description or self.rule.name}",
        ]
        if not self.lines:
            out.append("  no seats in the period")
        out.extend(f"  {line.describe()}" for line in self.lines)
        out.append(
            f"Total {self.total} (exact {_show(self.exact_total)},"
            f" rounding {_show(Fraction(self.total.amount) - self.exact_total, signed=True)})"
        )
        return tuple(out)

    @computed_once
    def explained(self) -> dict[str, object]:
        """Every priced line as text (dates, seats, price, day count, exact and rounded),
        the total and `describe`: an explanation's part, shared by every finding with this
        breakdown, so read it, never change it."""
        return {
            "convention": self.convention.value,
            "rounding": self.rounding.value,
            "rule": self.rule.name,
            "lines": [
                {
                    "start": iso_day(line.start),
                    "end": iso_day(line.end),
                    "quantity": format_decimal(line.quantity),
                    "unit_price": format_decimal(line.unit_price),
                    "day_count": str(line.day_count),
                    "exact": format_decimal(line.unrounded),
                    "unit_rounded": None if line.unit_rounded is None
                    else format_decimal(line.unit_rounded.amount),
                    "rounded": format_decimal(line.rounded.amount),
                }
                for line in self.lines
            ],
            "total": format_decimal(self.total.amount),
            "text": list(self._text),
        }


def _show(value: Fraction, places: int = 6, *, signed: bool = False) -> str:
    """Exact decimal text when it terminates, else `places` decimals and an ellipsis."""
    if is_terminating(value):
        text = format_decimal(exact_decimal(value).normalize())
    else:
        text = f"{format_decimal(round_amount(value, places, ROUND_HALF_EVEN))}…"
    return f"+{text}" if signed and value > 0 else text
