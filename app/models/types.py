"""Column types that keep money exact and timestamps honest on SQLite and PostgreSQL.

SQLite's NUMERIC goes through float, so amounts and unit prices are stored as canonical
decimal text: what goes in comes back digit for digit (0.045, -0.01, 12345678.901234).
Timestamps are stored as naive UTC and come back aware; a naive value going in is a bug.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated

from sqlalchemy import String, types
from sqlalchemy.orm import mapped_column


class DecimalText(types.TypeDecorator[Decimal]):
    """Exact decimal stored as text; floats are refused on the way in."""

    impl = String(48)
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if isinstance(value, float):
            raise TypeError(f"refusing to store float {value!r} as money; pass a Decimal")
        if isinstance(value, int):
            value = Decimal(value)
        if isinstance(value, str):
            try:
                value = Decimal(value)
            except InvalidOperation as exc:
                raise ValueError(f"not a decimal number: {value!r}") from exc
        if not isinstance(value, Decimal) or not value.is_finite():
            raise ValueError(f"not a finite decimal: {value!r}")
        text = format(value, "f")
        if len(text) > 48:
            raise ValueError(f"decimal too long to store exactly: {text[:20]}…")
        return text

    def process_result_value(self, value, dialect):  # noqa: ANN001
        return None if value is None else Decimal(value)


# Added to a negative value's places by `stored_places`: a sum with a negative term is never
# taken from SQLite's float SUM (see app.services.reconcile_charges).
NEGATIVE_PLACES = 100


def stored_places(value: Decimal | int | str | None) -> int:
    """How many digits DecimalText stores after the point for `value` (0 for None), plus
    NEGATIVE_PLACES when its text starts with "-" (-0 included). Usage lines keep it beside
    their quantity and amount: what proves SQLite's float sums of them exact."""
    if value is None:
        return 0
    return text_places(format(value if isinstance(value, Decimal) else Decimal(value), "f"))


def text_places(text: str | None) -> int:
    """`stored_places` of a value already in DecimalText's storage form."""
    if text is None:
        return 0
    point = text.find(".")
    places = len(text) - point - 1 if point >= 0 else 0
    return places + NEGATIVE_PLACES if text.startswith("-") else places


class UTCDateTime(types.TypeDecorator[datetime]):
    """An aware UTC datetime, stored naive UTC for portability."""

    impl = types.DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: timestamps must be timezone-aware")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value, dialect):  # noqa: ANN001
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


Money = Annotated[Decimal, mapped_column(DecimalText())]
MoneyOrNone = Annotated[Decimal | None, mapped_column(DecimalText(), nullable=True)]
Timestamp = Annotated[datetime, mapped_column(UTCDateTime(), default=utcnow)]
TimestampOrNone = Annotated[datetime | None, mapped_column(UTCDateTime(), nullable=True)]
Str40 = Annotated[str, mapped_column(String(40))]
Str200 = Annotated[str, mapped_column(String(200))]
