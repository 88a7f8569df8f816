"""JSON text written fast: orjson where it writes json's own text, None where it cannot.

The one module of the domain that is not the standard library alone: a finding's stored
hash is taken of JSON text, and writing that text for thousands of findings is a good part
of a month-end run. orjson writes it several times faster. Where both can write a value,
the text is the same byte for byte when it is all ASCII but DEL: sorted keys, "," and ":"
without spaces, json's escapes, and the values neither knows (dates, Decimals) handed to
the same `default`. Where it differs (json escapes non-ASCII and DEL, orjson writes them
as they are) or orjson refuses (a key that is not text, an int beyond 64 bits, a tree
deeper than 254), these functions return None and the caller writes with json.

Floats are never given to them: money is Decimal, and orjson writes some floats in another
form than json (1e-05 as 1e-5).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson

# Dates go to `default` too: the caller decides how they are written.
_PLAIN = orjson.OPT_PASSTHROUGH_DATETIME
_SORTED = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_SORT_KEYS


def sorted_ascii(data: Any, default: Callable[[Any], Any]) -> str | None:
    """`json.dumps(data, sort_keys=True, separators=(",", ":"), default=default)`, or None
    when orjson cannot write that text (see the module's note)."""
    try:
        text = orjson.dumps(data, default=default, option=_SORTED)
    except TypeError:  # orjson.JSONEncodeError
        return None
    # json escapes non-ASCII and DEL (\x7f); orjson writes them as they are
    return text.decode("ascii") if text.isascii() and b"\x7f" not in text else None


def compact(data: Any, default: Callable[[Any], Any]) -> str | None:
    """`data` as compact JSON text, non-ASCII written as UTF-8 (the same data json would
    write), or None when orjson refuses it."""
    try:
        return orjson.dumps(data, default=default, option=_PLAIN).decode()
    except TypeError:  # orjson.JSONEncodeError
        return None
