"""Exact JSON for every connector: Decimals in and out as exact numbers, never floats.

The standard encoder cannot write a Decimal as a JSON number, so each Decimal is first
marked as a string and the marks are replaced by the bare digits after encoding.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

_MARK = "\u0000D:"
_MARK_RE = re.compile(r'"\\u0000D:([-+0-9.eE]+)\\u0000"')


def exact_dumps(value: Any, *, format_date: Callable[[date], str],
                format_timestamp: Callable[[datetime], str], api: str) -> bytes:
    """JSON with Decimals as exact numbers and dates in the API's own forms; floats refused."""

    def mark(item: Any) -> Any:
        if isinstance(item, Decimal):
            if not item.is_finite():
                raise ValueError(f"not a finite amount: {item}")
            return f"{_MARK}{item}\u0000"
        if isinstance(item, datetime):
            return format_timestamp(item)
        if isinstance(item, date):
            return format_date(item)
        if isinstance(item, dict):
            return {k: mark(v) for k, v in item.items()}
        if isinstance(item, list | tuple):
            return [mark(v) for v in item]
        if isinstance(item, float):
            raise TypeError(f"floats are not allowed in {api} bodies; use Decimal")
        return item

    text = json.dumps(mark(value), separators=(",", ":"))
    return _MARK_RE.sub(r"\1", text).encode()


def loads(content: bytes | str) -> Any:
    """Numbers with a fraction come back as Decimal, exactly as written."""
    return json.loads(content, parse_float=Decimal)


def to_decimal(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not an amount")
    if isinstance(value, int | str):
        return Decimal(value)
    raise TypeError(f"cannot read {type(value).__name__} as an amount")
