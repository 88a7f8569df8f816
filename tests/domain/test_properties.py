"""Properties that must hold for any dates, quantities and amounts (hypothesis)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Context, Decimal
from fractions import Fraction

from hypothesis import example, given
from hypothesis import strategies as st

from app.domain.daycount import DayCountConvention, prorate
from app.domain.money import (
    DOWN_MINOR,
    HALF_EVEN_MINOR,
    HALF_UP_MINOR,
    Money,
    format_decimal,
    from_minor_units,
    minor_unit,
    parse_decimal,
    round_amount,
    round_money,
    to_minor_units,
)
from app.domain.periods import (
    Alignment,
    BillingCycle,
    period_containing,
    periods_covering,
)
from app.domain.timeline import (
    ChargeBreakdown,
    LineRounding,
    QuantityTimeline,
    SeatLot,
    charge_line,
)

conventions = st.sampled_from(list(DayCountConvention))
cycles = st.sampled_from(list(BillingCycle))
days = st.dates(min_value=date(1999, 1, 1), max_value=date(2031, 12, 31))
currencies = st.sampled_from(["USD", "EUR", "JPY", "KWD", "BHD", "GBP"])
quantities = st.integers(min_value=-50, max_value=500).map(Decimal)
prices = st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False)


@st.composite
def periods(draw):
    cycle = draw(cycles)
    alignment = draw(st.sampled_from(list(Alignment)))
    return period_containing(cycle, alignment, draw(days), draw(days))


@st.composite
def period_and_day_inside(draw):
    period = draw(periods())
    offset = draw(st.integers(min_value=0, max_value=period.days - 1))
    return period, period.start + timedelta(days=offset)


@st.composite
def period_range_and_split(draw):
    """A period, a range [start, end] inside it and a split day in (start, end]."""
    period = draw(periods().filter(lambda p: p.days >= 2))
    a, b = sorted(
        draw(st.lists(st.integers(0, period.days - 1), min_size=2, max_size=2, unique=True))
    )
    split = draw(st.integers(a + 1, b))
    start = period.start + timedelta(days=a)
    return period, start, period.start + timedelta(days=b), start + timedelta(days=split - a)


@st.composite
def seat_lots(draw):
    start = draw(days)
    length = draw(st.none() | st.integers(min_value=0, max_value=800))
    end = None if length is None else start + timedelta(days=length)
    return SeatLot(draw(quantities), start, end)


# --- day counts -------------------------------------------------------------------------


@given(period_range_and_split(), conventions)
def test_splitting_a_range_counts_exactly_the_whole(case, convention):
    period, start, end, split = case
    before = convention.fraction(period, start, split - timedelta(days=1))
    after = convention.fraction(period, split, end)
    assert before + after == convention.fraction(period, start, end)


@given(st.lists(seat_lots(), max_size=6), periods(), conventions)
def test_segments_of_any_timeline_count_the_whole_period(lots, period, convention):
    segments = QuantityTimeline.from_lots(lots).segments(period)
    assert segments[0].start == period.start and segments[-1].end == period.end
    assert sum(convention.fraction(period, s.start, s.end) for s in segments) == 1


@given(periods(), conventions, days, days)
def test_fractions_stay_between_zero_and_one(period, convention, a, b):
    start, end = min(a, b), max(a, b)
    assert 0 <= convention.fraction(period, start, end) <= 1


@given(period_range_and_split(), prices, conventions)
def test_prorate_returns_a_decimal(case, price, convention):
    period, start, end, _ = case
    assert type(prorate(price, period, start, end, convention)) is Decimal


# --- charges ----------------------------------------------------------------------------


@given(
    st.lists(seat_lots(), min_size=1, max_size=6),
    period_and_day_inside(),
    prices,
    conventions,
    currencies,
)
def test_charging_the_parts_of_a_split_period_sums_to_the_whole(
    lots, case, price, convention, currency
):
    period, split = case
    timeline = QuantityTimeline.from_lots(lots)
    whole = timeline.explain_charge(period, price, convention, currency)
    if split == period.start:
        parts = [period]
    else:
        parts = list(period.split_at(split))
    charged = [
        timeline.within(part.start, part.end).explain_charge(period, price, convention, currency)
        for part in parts
    ]
    assert sum(c.exact_total for c in charged) == whole.exact_total
    difference = abs(Money.total([c.total for c in charged], currency) - whole.total)
    assert difference.amount <= minor_unit(currency) * len(parts)
    assert type(whole.total.amount) is Decimal


@given(st.lists(seat_lots(), max_size=6), periods())
def test_integral_is_the_sum_of_the_lots_seat_days(lots, period):
    expected = Decimal(0)
    for lot in lots:
        span = period.clip(lot.start, lot.end)
        if span is not None:
            expected += lot.quantity * span.days
    assert QuantityTimeline.from_lots(lots).integral(period) == expected


@given(st.lists(seat_lots(), max_size=5), st.lists(seat_lots(), max_size=5), days)
def test_difference_is_pointwise(a_lots, b_lots, day):
    a, b = QuantityTimeline.from_lots(a_lots), QuantityTimeline.from_lots(b_lots)
    assert a.difference(b).quantity_on(day) == a.quantity_on(day) - b.quantity_on(day)


@given(
    st.lists(seat_lots(), max_size=5),
    st.lists(seat_lots(), max_size=5),
    periods(),
    prices,
    conventions,
)
def test_drift_charge_is_linear_before_rounding(a_lots, b_lots, period, price, convention):
    a, b = QuantityTimeline.from_lots(a_lots), QuantityTimeline.from_lots(b_lots)

    def exact(timeline):
        return timeline.explain_charge(period, price, convention, "USD").exact_total

    assert exact(a.difference(b)) == exact(a) - exact(b)


# Quantities written in several ways: 2, 2.0 and 2.00 are one number but not one text.
written_quantities = st.builds(
    lambda q, places: q.quantize(Decimal(1).scaleb(-places)), quantities, st.integers(0, 2))


@st.composite
def written_lots(draw):
    start = draw(days)
    length = draw(st.none() | st.integers(min_value=0, max_value=800))
    return SeatLot(draw(written_quantities), start,
                   None if length is None else start + timedelta(days=length))


@given(st.lists(st.lists(written_lots(), max_size=4), min_size=1, max_size=4), periods(),
       st.sampled_from([Decimal("22"), Decimal("22.00"), Decimal("0.3333")]), conventions,
       st.sampled_from(list(LineRounding)))
def test_a_shared_breakdown_is_the_one_priced_afresh(books, period, price, convention,
                                                     rounding):
    """Equal charges share one breakdown; it says exactly what pricing the segments anew
    says, numbers written as they were (so 2 and 2.00 seats never share an explanation)."""
    for lots in books:
        timeline = QuantityTimeline.from_lots(lots)
        shared = timeline.explain_charge(period, price, convention, "USD", rounding)
        fresh = tuple(charge_line(period, s, price, convention, "USD", rounding)
                      for s in timeline.segments(period) if not s.quantity.is_zero())
        assert [_written(line) for line in shared.lines] == [_written(line) for line in fresh]
        assert shared.describe() == ChargeBreakdown(
            period, "USD", convention, rounding, HALF_UP_MINOR, fresh).describe()


def _written(line) -> tuple:
    return (line.start, line.end, str(line.quantity), str(line.unit_price), line.day_count,
            line.exact, line.unit_rounded, line.rounded)

# --- periods ----------------------------------------------------------------------------


@given(cycles, st.sampled_from(list(Alignment)), days, days)
def test_the_period_containing_a_day_contains_it(cycle, alignment, anchor, day):
    period = period_containing(cycle, alignment, anchor, day)
    assert period.contains(day)
    if alignment is Alignment.ANNIVERSARY:
        month_length = (period.start.replace(day=28) + timedelta(days=4)).replace(day=1) - (
            timedelta(days=1)
        )
        assert period.start.day == min(anchor.day, month_length.day)


@given(cycles, st.sampled_from(list(Alignment)), days, days, st.integers(0, 400))
def test_periods_covering_tile_the_range(cycle, alignment, anchor, first, length):
    last = first + timedelta(days=length)
    covering = periods_covering(cycle, alignment, anchor, first, last)
    assert covering[0].contains(first) and covering[-1].contains(last)
    for before, after in zip(covering, covering[1:], strict=False):
        assert before.end + timedelta(days=1) == after.start


# --- money ------------------------------------------------------------------------------

exact_amounts = st.decimals(
    allow_nan=False, allow_infinity=False, places=6, min_value=-(10**12), max_value=10**12
)


@given(exact_amounts)
@example(Decimal("0.045"))
@example(Decimal("-0.01"))
@example(Decimal("12345678.901234"))
@example(Decimal("-0.000000"))
def test_text_round_trip_is_exact(amount):
    text = format_decimal(amount)
    back = parse_decimal(text)
    assert back == amount and back.as_tuple() == amount.as_tuple()
    assert type(back) is Decimal


@given(st.decimals(allow_nan=True, allow_infinity=True))
@example(Decimal("1E+2"))
@example(Decimal("0.0000001"))
@example(Decimal("-0E-9"))
@example(Decimal("123.4500"))
def test_decimal_text_is_the_plain_format_whatever_the_exponent(amount):
    assert format_decimal(amount) == format(amount, "f")


@given(exact_amounts, currencies)
@example(Decimal("0.045"), "USD")
@example(Decimal("-0.01"), "USD")
@example(Decimal("12345678.901234"), "USD")
@example(Decimal("0.045"), "BHD")
def test_minor_units_round_trip_after_rounding(amount, currency):
    rounded = round_money(amount, currency)
    units = to_minor_units(rounded)
    assert type(units) is int
    assert from_minor_units(units, currency) == rounded
    assert from_minor_units(units, currency).amount.as_tuple() == rounded.amount.as_tuple()
    assert abs(rounded.amount - amount) <= minor_unit(currency) / 2


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=1, max_value=10**6),
    st.sampled_from([HALF_UP_MINOR, HALF_EVEN_MINOR, DOWN_MINOR]),
)
def test_rounding_a_rational_matches_long_division(numerator, denominator, rule):
    # Long division to 80 digits is exact enough: no p/q with q ≤ 10^6 sits that close to a
    # tie without being one, and a tie terminates well within 80 digits.

    long_division = Context(prec=80).divide(Decimal(numerator), Decimal(denominator))
    expected = long_division.quantize(Decimal("0.01"), rounding=rule.mode, context=Context(prec=80))
    got = round_amount(Fraction(numerator, denominator), 2, rule.mode)
    assert got == expected
