"""Money: exact amounts, one currency at a time, rounding by named rule."""

from __future__ import annotations

import decimal
from decimal import Decimal
from fractions import Fraction

import pytest

from app.domain.money import (
    DOWN_2_PLACES,
    DOWN_MINOR,
    HALF_EVEN_MINOR,
    HALF_UP_MINOR,
    ROUNDING_RULES,
    CurrencyMismatchError,
    Money,
    format_decimal,
    from_minor_units,
    microsoft_licence_subtotal,
    minor_digits,
    minor_unit,
    parse_decimal,
    round_money,
    rounding_rule,
    to_minor_units,
)


def usd(text: str) -> Money:
    return Money(Decimal(text), "USD")


def test_float_trap_is_on_in_tests():
    with pytest.raises(decimal.FloatOperation):
        Decimal("0.1") < 0.2  # noqa: B015


@pytest.mark.parametrize(
    ("currency", "digits"),
    [
        ("USD", 2),
        ("EUR", 2),
        ("JPY", 0),
        ("KRW", 0),
        ("BHD", 3),
        ("KWD", 3),
        ("OMR", 3),
        ("TND", 3),
        ("jpy", 0),
    ],
)
def test_minor_units_per_currency(currency, digits):
    assert minor_digits(currency) == digits
    assert minor_unit(currency) == Decimal(1).scaleb(-digits)


def test_arithmetic_is_exact():
    assert usd("0.10") + usd("0.20") == usd("0.30")
    assert usd("1.00") - usd("1.01") == usd("-0.01")
    assert -usd("12.345") == usd("-12.345")
    assert abs(usd("-3")) == usd("3")
    assert usd("4.5678") * 3 == usd("13.7034")
    assert Decimal("0.5") * usd("3.33") == usd("1.665")
    assert Money.total([usd("1"), usd("2.5")], "USD") == usd("3.5")
    assert Money.total([], "EUR") == Money.zero("EUR")


def test_comparison_in_one_currency():
    assert usd("1.00") < usd("1.01") <= usd("1.01")
    assert usd("2") > usd("1.99") >= usd("1.99")
    assert usd("1.0") == usd("1.00")


@pytest.mark.parametrize(
    "operation",
    [
        lambda a, b: a + b,
        lambda a, b: a - b,
        lambda a, b: a < b,
        lambda a, b: a <= b,
        lambda a, b: a > b,
        lambda a, b: a >= b,
        lambda a, b: Money.total([a, b], "USD"),
    ],
)
def test_money_across_currencies_raises(operation):
    with pytest.raises(CurrencyMismatchError, match="USD and EUR|EUR and USD"):
        operation(usd("1"), Money(Decimal("1"), "EUR"))


def test_amounts_in_two_currencies_are_never_equal():
    assert usd("1") != Money(Decimal("1"), "EUR")


@pytest.mark.parametrize("bad", [0.1, 1.0, "1.00", None, True, Fraction(1, 3)])
def test_money_refuses_anything_but_decimal(bad):
    with pytest.raises(TypeError):
        Money(bad, "USD")


def test_money_refuses_float_factor_and_money_product():
    with pytest.raises(TypeError, match="float"):
        usd("1") * 1.5
    with pytest.raises(TypeError):
        usd("1") * usd("2")
    with pytest.raises(TypeError):
        usd("1") + 1


@pytest.mark.parametrize("code", ["US", "USDX", "U$D", "", "12A"])
def test_money_refuses_bad_currency(code):
    with pytest.raises(ValueError, match="ISO 4217"):
        Money(Decimal(1), code)


def test_money_refuses_non_finite():
    with pytest.raises(ValueError, match="finite"):
        Money(Decimal("NaN"), "USD")


@pytest.mark.parametrize(
    ("amount", "currency", "rule", "expected"),
    [
        ("2.345", "USD", HALF_UP_MINOR, "2.35"),
        ("2.345", "USD", HALF_EVEN_MINOR, "2.34"),
        ("2.355", "USD", HALF_EVEN_MINOR, "2.36"),
        ("2.349", "USD", DOWN_MINOR, "2.34"),
        ("-2.345", "USD", HALF_UP_MINOR, "-2.35"),
        ("-2.349", "USD", DOWN_MINOR, "-2.34"),
        ("1234.5", "JPY", HALF_UP_MINOR, "1235"),
        ("1.2345", "KWD", HALF_UP_MINOR, "1.235"),
        ("-0.001", "USD", HALF_UP_MINOR, "0.00"),
        ("7", "USD", HALF_UP_MINOR, "7.00"),
    ],
)
def test_round_money(amount, currency, rule, expected):
    rounded = round_money(Decimal(amount), currency, rule)
    assert rounded == Money(Decimal(expected), currency)
    assert str(rounded.amount) == expected  # the exponent is the minor unit, and never "-0.00"


def test_round_money_defaults_to_half_up_per_line():
    assert round_money(Decimal("0.125"), "USD") == usd("0.13")


def test_round_money_rounds_a_rational_exactly():
    assert round_money(Fraction(22 * 17, 31), "USD") == usd("12.06")
    assert round_money(Fraction(1, 8), "USD", HALF_EVEN_MINOR) == usd("0.12")
    assert round_money(Fraction(1, 8), "USD", HALF_UP_MINOR) == usd("0.13")
    assert round_money(Fraction(-1, 8), "USD", HALF_UP_MINOR) == usd("-0.13")
    assert round_money(Fraction(-2, 3), "USD", DOWN_MINOR) == usd("-0.66")


def test_rules_are_data_by_name():
    assert rounding_rule("half_up_minor") is HALF_UP_MINOR
    assert set(ROUNDING_RULES) >= {"half_up_minor", "down_minor", "half_even_minor"}
    with pytest.raises(ValueError, match="unknown rounding rule 'nearest'"):
        rounding_rule("nearest")


def test_microsoft_licence_subtotal_rounds_the_unit_price_down_first():
    # 4.567891 × 0.846202666 = 3.865…; ROUNDDOWN(…, 2) = 3.86; × 10 = 38.60
    subtotal = microsoft_licence_subtotal(Decimal("4.567891"), Decimal("0.846202666"), 10)
    assert subtotal == Decimal("38.60")
    assert str(subtotal) == "38.60"


def test_microsoft_rounddown_is_toward_zero_for_refunds():
    # A refund line: -3.865… rounds down (toward zero, like Excel) to -3.86, not -3.87.
    subtotal = microsoft_licence_subtotal(Decimal("-4.567891"), Decimal("0.846202666"), 10)
    assert subtotal == Decimal("-38.60")
    assert round_money(Decimal("-3.869"), "USD", DOWN_2_PLACES) == usd("-3.86")


def test_microsoft_licence_subtotal_refuses_float():
    with pytest.raises(TypeError, match="pc_to_bc_exchange_rate"):
        microsoft_licence_subtotal(Decimal("1"), 0.85, 1)


@pytest.mark.parametrize(
    ("amount", "currency", "units"),
    [
        ("45.05", "USD", 4505),
        ("-0.01", "USD", -1),
        ("0.045", "BHD", 45),
        ("1500", "JPY", 1500),
        ("12345678.90", "USD", 1234567890),
    ],
)
def test_minor_units_round_trip(amount, currency, units):
    money = Money(Decimal(amount), currency)
    assert to_minor_units(money) == units
    assert from_minor_units(units, currency) == money


def test_minor_units_refuse_to_round_silently():
    with pytest.raises(ValueError, match="finer than the USD minor unit"):
        to_minor_units(usd("0.045"))
    with pytest.raises(ValueError, match="finer than the USD minor unit"):
        to_minor_units(usd("12345678.901234"))
    with pytest.raises(TypeError):
        from_minor_units(1.0, "USD")


@pytest.mark.parametrize("text", ["0.045", "-0.01", "12345678.901234", "0", "-0.00", "1.50"])
def test_text_round_trip_is_digit_for_digit(text):
    value = parse_decimal(text)
    assert format_decimal(value) == text
    assert parse_decimal(format_decimal(value)).as_tuple() == value.as_tuple()


@pytest.mark.parametrize(
    ("text", "expected"),
    [(" 12.50 ", "12.50"), ("+3", "3"), (".5", "0.5"), ("1.5E-05", "0.000015"), ("7.", "7")],
)
def test_parse_decimal_accepts_plain_numbers(text, expected):
    assert parse_decimal(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["", "abc", "1,234.50", "$12", "NaN", "Infinity", "1_000", "12.5.1", "--1", "١٢"]
)
def test_parse_decimal_names_the_bad_text(text):
    with pytest.raises(ValueError, match="not a decimal number") as info:
        parse_decimal(text)
    assert repr(text) in str(info.value)


def test_parse_decimal_refuses_float():
    with pytest.raises(ValueError, match=r"0\.1"):
        parse_decimal(0.1)


def test_str_shows_currency_and_exact_digits():
    assert str(Money(Decimal("1E+3"), "usd")) == "USD 1000"
    assert str(usd("0.045")) == "USD 0.045"
