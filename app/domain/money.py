"""Money: an exact Decimal amount with its ISO currency, and the rounding rules applied to it.

A float never becomes money here: floats are refused on the way in, arithmetic is exact or
fails loudly, and amounts in two currencies are never added or ordered against each other.
Rounding happens in one place, `round_money`, under a named `RoundingRule` that settings can
store by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import (
    ROUND_DOWN,
    ROUND_HALF_EVEN,
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    FloatOperation,
    Inexact,
    InvalidOperation,
    Overflow,
)
from fractions import Fraction

# Exact arithmetic: enough digits for any invoice, and a trap on Inexact so nothing is ever
# rounded silently by the context (rounding is round_money's job alone).
_EXACT = Context(
    prec=60,
    traps=[InvalidOperation, DivisionByZero, Overflow, Inexact, FloatOperation],
)
# The same precision without the Inexact trap, for the deliberate rounding step.
_ROUNDING = Context(prec=60, traps=[InvalidOperation, DivisionByZero, Overflow, FloatOperation])

# ISO 4217 currencies whose minor unit is not the usual two digits.
_MINOR_DIGITS: dict[str, int] = {
    **{code: 0 for code in ("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG")},
    **{code: 0 for code in ("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF")},
    **{code: 3 for code in ("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND")},
    **{code: 4 for code in ("CLF", "UYW")},
}
_DEFAULT_MINOR_DIGITS = 2
_CURRENCY = re.compile(r"[A-Z]{3}")


class CurrencyMismatchError(ValueError):
    """Two amounts in different currencies were added, subtracted or compared."""


_NORMALISED: dict[str, str] = {}  # codes seen, as given → normalised (a handful per book)


def normalise_currency(currency: str) -> str:
    """The upper-case ISO 4217 code; anything that is not three letters is refused."""
    known = _NORMALISED.get(currency) if type(currency) is str else None
    if known is not None:
        return known
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency.strip().upper()):
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    code = currency.strip().upper()
    if len(_NORMALISED) < 1024:
        _NORMALISED[currency] = code
    return code


def minor_digits(currency: str) -> int:
    """Digits after the decimal point in the currency's minor unit (JPY 0, USD 2, KWD 3)."""
    return _MINOR_DIGITS.get(normalise_currency(currency), _DEFAULT_MINOR_DIGITS)


def minor_unit(currency: str) -> Decimal:
    """The smallest amount the currency can be invoiced in: 0.01 for USD, 1 for JPY."""
    return Decimal(1).scaleb(-minor_digits(currency))


# --- rounding ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RoundingRule:
    """How an amount is rounded: a decimal rounding mode and a number of places.

    `places=None` means the currency's own minor unit. Rules are data so a billing policy can
    name one in its settings; `round_money` is the only code that applies them.
    """

    name: str
    mode: str
    places: int | None = None
    description: str = ""

    def places_for(self, currency: str | None) -> int:
        if self.places is not None:
            return self.places
        if currency is None:
            raise ValueError(f"rounding rule {self.name!r} needs a currency for its minor unit")
        return minor_digits(currency)


HALF_UP_MINOR = RoundingRule(
    "half_up_minor", ROUND_HALF_UP, None, "half-up to the currency's minor unit"
)
HALF_EVEN_MINOR = RoundingRule(
    "half_even_minor", ROUND_HALF_EVEN, None, "half-even (banker's) to the currency's minor unit"
)
DOWN_MINOR = RoundingRule(
    "down_minor", ROUND_DOWN, None, "toward zero to the currency's minor unit"
)
DOWN_2_PLACES = RoundingRule(
    "down_2_places", ROUND_DOWN, 2, "toward zero to 2 places (Excel ROUNDDOWN(x, 2))"
)

DEFAULT_ROUNDING = HALF_UP_MINOR
ROUNDING_RULES: dict[str, RoundingRule] = {
    rule.name: rule for rule in (HALF_UP_MINOR, HALF_EVEN_MINOR, DOWN_MINOR, DOWN_2_PLACES)
}


def rounding_rule(name: str) -> RoundingRule:
    """The rule a setting names; an unknown name is an error, never a silent default."""
    try:
        return ROUNDING_RULES[name]
    except KeyError:
        known = ", ".join(sorted(ROUNDING_RULES))
        raise ValueError(f"unknown rounding rule {name!r} (known: {known})") from None


Exact = Decimal | Fraction | int


_TAILS = (Decimal(0), Decimal("0.25"), Decimal("0.5"), Decimal("0.75"))  # 0, 1/4, 1/2, 3/4


def round_amount(amount: Exact, places: int, mode: str) -> Decimal:
    """Round an exact amount once to `places` decimals; a Fraction is rounded exactly.

    The rational is reduced to its integer part plus a stand-in for the remainder (0, 1/4,
    1/2 or 3/4) that every decimal rounding mode treats the same way as the true remainder,
    so there is no double rounding however long the repeating decimal would be.
    """
    value = _as_fraction(amount)
    # In integers (no Fraction arithmetic): the remainder compares with the denominator the
    # same way whether or not the scaled fraction is reduced.
    denominator = value.denominator
    whole, rest = divmod(value.numerator * 10**places, denominator)
    twice = 2 * rest
    if rest == 0:
        tail = _TAILS[0]
    elif twice < denominator:
        tail = _TAILS[1]
    elif twice == denominator:
        tail = _TAILS[2]
    else:
        tail = _TAILS[3]
    stand_in = _EXACT.add(Decimal(whole), tail)
    rounded = stand_in.quantize(Decimal(1), rounding=mode, context=_ROUNDING)
    result = _EXACT.scaleb(rounded, -places)
    return result.copy_abs() if result.is_zero() else result


def round_money(amount: Exact, currency: str, rule: RoundingRule = DEFAULT_ROUNDING) -> Money:
    """Round an exact amount under `rule` and attach the currency: the one rounding step."""
    return Money(round_amount(amount, rule.places_for(currency), rule.mode), currency)


def microsoft_licence_subtotal(
    effective_unit_price: Decimal,
    pc_to_bc_exchange_rate: Decimal,
    billable_quantity: Decimal | int,
) -> Decimal:
    """Partner Center's licence-line subtotal, reproduced to the cent.

    ROUNDDOWN(EffectiveUnitPrice × PCToBCExchangeRate, 2) × BillableQuantity: the unit price
    in billing currency is truncated toward zero (Excel ROUNDDOWN) before the quantity.
    """
    for name, value in (
        ("effective_unit_price", effective_unit_price),
        ("pc_to_bc_exchange_rate", pc_to_bc_exchange_rate),
        ("billable_quantity", billable_quantity),
    ):
        _require_exact(value, name)
    unit = round_amount(
        Fraction(effective_unit_price) * Fraction(pc_to_bc_exchange_rate),
        DOWN_2_PLACES.places_for(None),
        DOWN_2_PLACES.mode,
    )
    return _EXACT.multiply(unit, Decimal(billable_quantity))


# --- the Money value ---------------------------------------------------------------------


@dataclass(frozen=True)
class Money:
    """An exact amount in one currency. Unit prices keep their full precision.

    Equality is value equality (a USD amount is simply not equal to a EUR amount, so Money
    can sit in sets and in compared records); ordering and arithmetic across currencies raise
    `CurrencyMismatchError`.
    """

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "amount", _checked_amount(self.amount))
        object.__setattr__(self, "currency", normalise_currency(self.currency))

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal(0), currency)

    @classmethod
    def parse(cls, text: str, currency: str) -> Money:
        return cls(parse_decimal(text), currency)

    @classmethod
    def total(cls, amounts: list[Money] | tuple[Money, ...], currency: str) -> Money:
        """Sum amounts that must all be in `currency` (an empty list sums to zero)."""
        result = cls.zero(currency)
        for amount in amounts:
            result = result + amount
        return result

    def rounded(self, rule: RoundingRule = DEFAULT_ROUNDING) -> Money:
        return round_money(self.amount, self.currency, rule)

    def is_zero(self) -> bool:
        return self.amount.is_zero()

    def _same_currency(self, other: Money, operation: str) -> None:
        if other.currency != self.currency:
            raise CurrencyMismatchError(
                f"cannot {operation} {self.currency} and {other.currency} amounts"
            )

    def __add__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "add")
        return Money(_EXACT.add(self.amount, other.amount), self.currency)

    def __sub__(self, other: object) -> Money:
        if not isinstance(other, Money):
            return NotImplemented
        self._same_currency(other, "subtract")
        return Money(_EXACT.subtract(self.amount, other.amount), self.currency)

    def __neg__(self) -> Money:
        return Money(_EXACT.minus(self.amount), self.currency)

    def __abs__(self) -> Money:
        return Money(self.amount.copy_abs(), self.currency)

    def __mul__(self, factor: object) -> Money:
        if isinstance(factor, bool) or not isinstance(factor, Decimal | int):
            if isinstance(factor, float):
                raise TypeError(f"refusing to multiply money by float {factor!r}")
            return NotImplemented
        return Money(_EXACT.multiply(self.amount, Decimal(factor)), self.currency)

    __rmul__ = __mul__

    def _ordered(self, other: object) -> tuple[Decimal, Decimal] | None:
        if not isinstance(other, Money):
            return None
        self._same_currency(other, "compare")
        return self.amount, other.amount

    def __lt__(self, other: object) -> bool:
        pair = self._ordered(other)
        return NotImplemented if pair is None else pair[0] < pair[1]

    def __le__(self, other: object) -> bool:
        pair = self._ordered(other)
        return NotImplemented if pair is None else pair[0] <= pair[1]

    def __gt__(self, other: object) -> bool:
        pair = self._ordered(other)
        return NotImplemented if pair is None else pair[0] > pair[1]

    def __ge__(self, other: object) -> bool:
        pair = self._ordered(other)
        return NotImplemented if pair is None else pair[0] >= pair[1]

    def __str__(self) -> str:
        return f"{self.currency} {format_decimal(self.amount)}"


# --- storage and text --------------------------------------------------------------------


def to_minor_units(money: Money) -> int:
    """The amount as an integer of minor units (cents, fils, yen) for exact storage.

    An amount finer than the minor unit is refused rather than rounded: round it first.
    """
    scaled = _EXACT.scaleb(money.amount, minor_digits(money.currency))
    if scaled != scaled.to_integral_value():
        raise ValueError(
            f"{money} is finer than the {money.currency} minor unit; round it with round_money"
        )
    return int(scaled)


def from_minor_units(units: int, currency: str) -> Money:
    """Money from an integer of minor units: 4505 USD → 45.05."""
    if isinstance(units, bool) or not isinstance(units, int):
        raise TypeError(f"minor units must be an int, not {type(units).__name__}")
    return Money(_EXACT.scaleb(Decimal(units), -minor_digits(currency)), currency)


_DECIMAL_TEXT = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def parse_decimal(text: str) -> Decimal:
    """An exact Decimal from text such as '12.50', '-0.01' or '1.5E-05'.

    Floats are refused (their digits are already lost), and so is anything that is not a
    plain decimal number: thousands separators, currency signs, NaN, infinity.
    """
    if isinstance(text, float):
        raise ValueError(f"refusing float {text!r}: pass the amount as text or Decimal")
    if isinstance(text, Decimal):
        return _checked_amount(text)
    if not isinstance(text, str):
        raise ValueError(f"not decimal text: {text!r}")
    cleaned = text.strip()
    if not _DECIMAL_TEXT.fullmatch(cleaned):
        raise ValueError(f"not a decimal number: {text!r}")
    return Decimal(cleaned)


def format_decimal(amount: Decimal) -> str:
    """Plain decimal text without an exponent that `parse_decimal` reads back exactly:
    `format(amount, "f")`. `str` writes that very text, four times faster, wherever it
    writes no exponent (any amount of money), so it is only formatted when `str` does."""
    text = str(amount)
    return text if "E" not in text else format(amount, "f")


# --- internals -----------------------------------------------------------------------------


def _checked_amount(amount: object) -> Decimal:
    if isinstance(amount, bool) or not isinstance(amount, Decimal | int):
        raise TypeError(f"money amounts are Decimal, not {type(amount).__name__} ({amount!r})")
    value = Decimal(amount)
    if not value.is_finite():
        raise ValueError(f"money amount must be finite, not {value}")
    return value


def _require_exact(value: object, name: str) -> None:
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__} ({value!r})")


def _as_fraction(amount: Exact) -> Fraction:
    if isinstance(amount, Fraction):
        return amount
    return Fraction(_checked_amount(amount))
