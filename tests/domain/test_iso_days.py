"""A day's ISO text is the text `isoformat` writes, whether written before or not."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given
from hypothesis import strategies as st

from app.domain.iso_days import iso_day


@given(st.dates())
def test_a_day_is_written_as_isoformat_writes_it_each_time(day):
    assert iso_day(day) == day.isoformat()
    assert iso_day(day) == day.isoformat()  # the text kept


@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_a_moment_is_written_whole_and_never_as_its_day(moment):
    day = moment.date()
    assert iso_day(day) == day.isoformat()
    assert iso_day(moment) == moment.isoformat()
    assert iso_day(day) == day.isoformat()


def test_the_first_and_last_days_of_the_calendar():
    assert iso_day(date.min) == "0001-01-01"
    assert iso_day(date.max) == "9999-12-31"
    assert iso_day(datetime(2026, 3, 1, 9, 30)) == "2026-03-01T09:30:00"
