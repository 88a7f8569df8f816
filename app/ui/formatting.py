"""How money, quantities and dates look in the app: one place, the same everywhere."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from app.domain.money import minor_digits


def money(amount: Decimal | None, currency: str | None = None, *, signed: bool = False) -> str:
    """`USD 1,234.50`; a negative amount shows a minus sign, never parentheses alone."""
    if amount is None:
        return ""
    places = minor_digits(currency) if currency else 2
    quantum = Decimal(1).scaleb(-places)
    text = f"{amount.quantize(quantum):,}" if amount == amount.quantize(quantum) else f"{amount:,}"
    if signed and amount > 0:
        text = "+" + text
    return f"{currency} {text}" if currency else text


def quantity(value: Decimal | None) -> str:
    if value is None:
        return "—"
    normal = value.normalize()
    return f"{normal:,f}" if normal == normal.to_integral() else f"{value:,}"


def day(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return value.isoformat()
