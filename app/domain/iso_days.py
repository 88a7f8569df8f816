"""A day as ISO text, written once per day.

A month-end run writes the same few hundred days into the text of thousands of findings
(timelines, charge lines, actions, the period itself): `date.isoformat` formats each time,
through C's printf. The text of a day never changes, so it is kept once written.
"""

from __future__ import annotations

from datetime import date

_WRITTEN: dict[date, str] = {}  # the days of a calendar: a few thousand at most


def iso_day(day: date) -> str:
    """`day.isoformat()` for a calendar date (a datetime is written as it is, not kept)."""
    text = _WRITTEN.get(day)
    if text is None:
        text = day.isoformat()
        if type(day) is date:
            _WRITTEN[day] = text
    return text
