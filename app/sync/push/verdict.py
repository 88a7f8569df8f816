"""Deciding, from a fresh read of the PSA, whether an intent is done, safe to send, or in conflict.

Pure: the same inputs always give the same verdict, so the rules are tested without a PSA.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

CREATES = {"add_line", "one_time_charge"}


@dataclass(frozen=True)
class LineSnapshot:
    """A PSA line as re-read just now, its values normalised to text."""

    exists: bool
    values: dict[str, str] = field(default_factory=dict)
    marker: str | None = None
    record_id: str | None = None


class Verdict(StrEnum):
    DONE = "done"  # the PSA already shows the desired state or our marker
    SEND = "send"  # the PSA still shows what was approved against: safe to write
    CONFLICT = "conflict"  # someone else changed the line: stop and ask


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str = ""


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None  # "NaN", "Infinity" are words here


def _day(text: str) -> date | None:
    """A calendar date, or a date-time standing for one (CW's `2024-05-01T00:00:00Z`)."""
    try:
        return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text).date()
    except ValueError:
        return None


def same_value(a: str | None, b: str | None) -> bool:
    """Equal as numbers when both are numbers (10 == 10.00), as dates, else as text.

    Only whole values count as numbers or dates: a description that merely starts with a date
    ("2026-11-01 renewal") is text, so a change to the rest of it is still seen.
    """
    if a is None or b is None or a == "" or b == "":
        return (a or "") == (b or "")
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return x == y
    d, e = _day(a), _day(b)
    if d is not None and e is not None:
        return d == e
    return a == b


def _differences(expected: dict[str, str], current: dict[str, str]) -> list[str]:
    return [
        f"{name} was {want or 'empty'} at approval, is {current.get(name) or 'empty'} now"
        for name, want in expected.items()
        if not same_value(want, current.get(name))
    ]


def judge(
    action_type: str,
    marker: str,
    seen: dict[str, str],
    desired: dict[str, str],
    current: LineSnapshot,
) -> Judgement:
    if action_type in CREATES:
        if current.exists:
            return Judgement(Verdict.DONE, f"the PSA already has line {current.record_id}")
        return Judgement(Verdict.SEND)
    if not current.exists:
        return Judgement(Verdict.CONFLICT, "the PSA line no longer exists")
    if current.marker and marker in current.marker:
        return Judgement(Verdict.DONE, "the PSA line carries this change's marker")
    if not _differences(desired, current.values):
        return Judgement(Verdict.DONE, "the PSA line already shows the desired values")
    changed = _differences(seen, current.values)
    if changed:
        return Judgement(Verdict.CONFLICT, "; ".join(changed))
    return Judgement(Verdict.SEND)
