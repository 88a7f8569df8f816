"""Cell parsers that turn text into exact values: Decimal (never float), dates, currency
codes, terms and billing frequencies.

Each parser is a small closure with a bounded cache: a recon file repeats the same prices,
quantities and dates millions of times, and a dict hit is ten times cheaper than parsing
(PERFORMANCE.md). Parsers raise ValueError with a message fit to show the user.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import NamedTuple, Protocol, TypeVar

from app.domain.money import normalise_currency, parse_decimal

T_co = TypeVar("T_co", covariant=True)

CACHE_LIMIT = 50_000


class Number(NamedTuple):
    value: Decimal  # exact
    text: str  # DecimalText's storage form: format(value, "f")
    canonical: str  # the same for 16, 16.00 and 1.6E+1: used in line identity


class Day(NamedTuple):
    value: date
    iso: str


def canonical(value: Decimal) -> str:
    """The same text for 16, 16.00 and 1.6E+1, so a re-saved file keeps its line keys."""
    return _canonical(format(value, "f"))


def _canonical(text: str) -> str:
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


_SHA256 = hashlib.sha256()  # copying a fresh hasher is cheaper than creating one


def line_key(parts: Iterable[str]) -> str:
    """ChargeLine.line_key: sha256 hex of the identifying values, unit-separated."""
    digest = _SHA256.copy()
    digest.update("\x1f".join(parts).encode("utf-8"))
    return digest.hexdigest()


# One encoder for every ChargeLine.extra: json.dumps with options builds a new one per call.
extra_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


class Cached(Protocol[T_co]):
    cache: dict[str, T_co]

    def __call__(self, text: str) -> T_co: ...


def _cached(parse: Callable[[str], T_co]) -> Cached[T_co]:
    """Wrap a parser with a bounded dict; hot loops may probe `.cache.get` directly."""
    cache: dict[str, T_co] = {}

    def lookup(text: str) -> T_co:
        try:
            return cache[text]
        except KeyError:
            pass
        value = parse(text)
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        cache[text] = value
        return value

    lookup.cache = cache  # type: ignore[attr-defined]
    return lookup  # type: ignore[return-value]


# --- numbers ------------------------------------------------------------------------------


def _decimal(text: str) -> Decimal:
    """Decimal from plain decimal text; Decimal() alone would also take NaN, 1_000, Infinity."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if not value.is_finite() or "_" in text:
        raise ValueError(f"not a number: {text!r}")
    return value


def _number(value: Decimal) -> Number:
    text = format(value, "f")
    return Number(value, text, _canonical(text))


def number_parser(*, decimal_comma: bool = False, thousands: str = "") -> Cached[Number]:
    """Text → Number. Thousands groups must be groups of three digits, so a wrong separator
    setting fails loudly instead of turning 12,50 into 1250."""
    if not decimal_comma and not thousands:
        return _cached(lambda text: _number(_decimal(text.strip())))
    point = "," if decimal_comma else "."
    grouped = None
    if thousands:
        sep, dec = re.escape(thousands), re.escape(point)
        grouped = re.compile(rf"[+-]?\d{{1,3}}(?:{sep}\d{{3}})*(?:{dec}\d+)?")

    def parse(text: str) -> Number:
        cleaned = text.strip().replace("\u00a0", "").replace("\u202f", "")
        negative = cleaned.startswith("(") and cleaned.endswith(")")
        if negative:
            cleaned = cleaned[1:-1].strip()
        if not cleaned:
            raise ValueError(f"not a number: {text!r}")
        if thousands and thousands in cleaned:
            if grouped is None or not grouped.fullmatch(cleaned):
                raise ValueError(f"not a number: {text!r} (digit groups do not match the "
                                 f"thousands separator {thousands!r})")
            cleaned = cleaned.replace(thousands, "")
        if decimal_comma:
            if "." in cleaned:
                raise ValueError(f"not a number: {text!r} (the profile expects a decimal comma)")
            cleaned = cleaned.replace(",", ".")
        try:
            value = parse_decimal(cleaned)
        except ValueError:
            raise ValueError(f"not a number: {text!r}") from None
        return _number(-value if negative else value)

    return _cached(parse)


# --- dates ---------------------------------------------------------------------------------

_US_DATE = re.compile(
    r"(\d{1,2})/(\d{1,2})/(\d{4})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?"
)
MS_DATE_FORMS = "ISO 8601 (2024-05-01 or 2024-05-01T00:00:00Z), M/D/YYYY or M/D/YYYY h:mm:ss AM/PM"


def _microsoft_date(text: str) -> date:
    """The calendar date as written: a time or UTC offset after it does not move the day,
    because Microsoft's charge dates are days, not instants."""
    cleaned = text.strip()
    if len(cleaned) >= 10 and cleaned[4:5] == "-":
        try:
            return datetime.fromisoformat(cleaned).date()
        except ValueError:
            pass
    else:
        match = _US_DATE.fullmatch(cleaned)
        if match:
            month, day, year, hour, _minute, _second, meridiem = match.groups()
            if hour is not None and not (int(hour) <= (12 if meridiem else 23)):
                raise ValueError(f"not a date: {text!r} (hour out of range)")
            try:
                return date(int(year), int(month), int(day))
            except ValueError:
                pass
    raise ValueError(f"not a date: {text!r} (expected {MS_DATE_FORMS})")


def microsoft_date_parser() -> Cached[Day]:
    def parse(text: str) -> Day:
        day = _microsoft_date(text)
        return Day(day, day.isoformat())

    return _cached(parse)


def date_parser(formats: Iterable[str]) -> Cached[date]:
    """Dates in the user's strftime patterns, tried in order (ISO 8601 always accepted)."""
    patterns = tuple(formats)

    def parse(text: str) -> date:
        cleaned = text.strip()
        for pattern in patterns:
            try:
                return datetime.strptime(cleaned, pattern).date()
            except ValueError:
                continue
        try:
            return datetime.fromisoformat(cleaned).date()
        except ValueError:
            shown = " or ".join(patterns) or "ISO 8601"
            raise ValueError(f"not a date: {text!r} (expected {shown})") from None

    return _cached(parse)


# --- codes ----------------------------------------------------------------------------------


def currency_parser() -> Cached[str]:
    def parse(text: str) -> str:
        try:
            return normalise_currency(text)
        except ValueError:
            raise ValueError(f"not a 3-letter currency code: {text!r}") from None

    return _cached(parse)


_TERM = re.compile(r"\b(one|1|three|3|twelve|12|thirty[- ]?six|36)[\s-]*(years?|yrs?|months?)\b")
_TERM_WORDS = {"one": 1, "1": 1, "three": 3, "3": 3, "twelve": 12, "12": 12, "thirtysix": 36,
               "36": 36}
_ISO_TERMS = {"p1m": "P1M", "p1y": "P1Y", "p12m": "P1Y", "p3y": "P3Y", "p36m": "P3Y"}
_BARE_TERMS = {"monthly": "P1M", "month": "P1M", "annual": "P1Y", "yearly": "P1Y",
               "annually": "P1Y", "year": "P1Y", "triennial": "P3Y"}


def parse_term(text: str) -> str | None:
    """The commitment term as P1M, P1Y or P3Y; None when empty; ValueError when unknown.

    "One-Year commitment for monthly/yearly billing" is P1Y: the first number-and-unit
    names the commitment, the rest is the billing plan.
    """
    cleaned = text.strip().lower()
    if not cleaned or cleaned in ("na", "n/a", "none"):
        return None
    if cleaned in _ISO_TERMS:
        return _ISO_TERMS[cleaned]
    match = _TERM.search(cleaned)
    if match:
        count = _TERM_WORDS[match.group(1).replace("-", "").replace(" ", "")]
        months = count * 12 if match.group(2).startswith("y") else count
        term = {1: "P1M", 12: "P1Y", 36: "P3Y"}.get(months)
        if term:
            return term
    if cleaned in _BARE_TERMS:
        return _BARE_TERMS[cleaned]
    raise ValueError(f"unknown term: {text!r} (expected e.g. P1M, P1Y, P3Y, monthly, annual)")


_FREQUENCIES = {
    "monthly": "Monthly", "month": "Monthly", "m": "Monthly", "p1m": "Monthly",
    "annual": "Annual", "annually": "Annual", "yearly": "Annual", "year": "Annual",
    "y": "Annual", "p1y": "Annual",
    "triennial": "Triennial", "threeyears": "Triennial", "3years": "Triennial", "p3y": "Triennial",
    "onetime": "OneTime", "once": "OneTime",
    "usage": "Usage", "payasyougo": "Usage",
}
_NO_FREQUENCY = {"", "na", "none"}


def parse_billing_frequency(text: str) -> str | None:
    """Monthly, Annual, Triennial, OneTime or Usage; None when empty or NA."""
    key = "".join(ch for ch in text.lower() if ch.isalnum())
    if key in _NO_FREQUENCY:
        return None
    try:
        return _FREQUENCIES[key]
    except KeyError:
        raise ValueError(f"unknown billing frequency: {text!r} (expected Monthly, Annual, "
                         "Triennial, OneTime or Usage)") from None
