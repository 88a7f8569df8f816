"""The pure judge: from a fresh re-read, is an intent done, safe to send, or in conflict?"""

from __future__ import annotations

import pytest

from app.sync.push.verdict import LineSnapshot, Verdict, judge, same_value

MARKER = "TU-0123456789"


@pytest.mark.parametrize(("a", "b"), [
    ("10", "10.00"),
    ("10.5", "10.50"),
    ("-26.40", "-26.4"),
    ("1E+1", "10"),
    ("0", "0.00"),
    ("2026-11-01", "2026-11-01T00:00:00Z"),
    ("2026-11-01T00:00:00Z", "2026-11-01T00:00:00+00:00"),
    ("", None),
    (None, None),
    ("", ""),
    ("Microsoft 365 Business Premium", "Microsoft 365 Business Premium"),
    ("NaN", "NaN"),  # text that happens to spell a number is still compared as text
])
def test_equal_values(a, b):
    assert same_value(a, b) and same_value(b, a)


@pytest.mark.parametrize(("a", "b"), [
    ("10", "10.01"),
    ("10", "-10"),
    ("", "0"),  # an empty value is not zero: "no cancelled date" differs from anything
    (None, "0"),
    ("", "2026-11-30"),
    ("2026-11-01", "2026-11-02"),
    ("2026-11-01T00:00:00Z", "2026-11-02T00:00:00Z"),
    ("abc", "ABC"),
    ("Infinity", "inf"),  # not finite: compared as the text it is
    ("2026-11-01 renewal", "2026-11-01 cancelled"),  # a description that starts with a date
    ("10 seats", "10"),
])
def test_different_values(a, b):
    assert not same_value(a, b) and not same_value(b, a)


def line(exists: bool = True, marker: str | None = None, **values: str) -> LineSnapshot:
    return LineSnapshot(exists, dict(values), marker, "30001" if exists else None)


SEEN = {"quantity": "10"}
DESIRED = {"quantity": "12"}


def test_update_still_showing_the_approved_state_is_sent():
    assert judge("set_quantity", MARKER, SEEN, DESIRED, line(quantity="10.00")).verdict \
        is Verdict.SEND


def test_update_already_showing_the_desired_state_is_done():
    result = judge("set_quantity", MARKER, SEEN, DESIRED, line(quantity="12.00"))
    assert result.verdict is Verdict.DONE and "desired" in result.reason


def test_update_carrying_our_marker_is_done_even_if_changed_since():
    result = judge("set_quantity", MARKER, SEEN, DESIRED, line(True, MARKER, quantity="13"))
    assert result.verdict is Verdict.DONE and "marker" in result.reason


def test_another_changes_marker_is_not_ours():
    result = judge("set_quantity", MARKER, SEEN, DESIRED, line(True, "TU-ffffffffff",
                                                               quantity="13"))
    assert result.verdict is Verdict.CONFLICT


def test_update_changed_by_someone_else_is_a_conflict_that_says_what_changed():
    result = judge("set_quantity", MARKER, SEEN, DESIRED, line(quantity="11"))
    assert result.verdict is Verdict.CONFLICT
    assert result.reason == "quantity was 10 at approval, is 11 now"


def test_conflict_names_every_changed_field_and_empty_values():
    seen = {"quantity": "10", "cancelled_date": ""}
    desired = {"quantity": "0", "cancelled_date": "2026-11-30"}
    current = line(quantity="9", cancelled_date="2026-11-15T00:00:00Z")
    result = judge("cancel_line", MARKER, seen, desired, current)
    assert result.verdict is Verdict.CONFLICT
    assert result.reason == ("quantity was 10 at approval, is 9 now; cancelled_date was empty "
                             "at approval, is 2026-11-15T00:00:00Z now")


def test_cancel_with_an_empty_cancelled_date_at_approval_is_sent():
    seen, desired = {"cancelled_date": ""}, {"cancelled_date": "2026-11-30"}
    assert judge("cancel_line", MARKER, seen, desired, line(cancelled_date="")).verdict \
        is Verdict.SEND
    assert judge("cancel_line", MARKER, seen, desired,
                 line(cancelled_date="2026-11-30T00:00:00Z")).verdict is Verdict.DONE


def test_a_field_not_seen_at_approval_does_not_block_the_change():
    current = line(quantity="10", unit_price="99")
    assert judge("set_quantity", MARKER, SEEN, DESIRED, current).verdict is Verdict.SEND


def test_update_of_a_line_that_is_gone_is_a_conflict():
    result = judge("set_quantity", MARKER, SEEN, DESIRED, line(False))
    assert result.verdict is Verdict.CONFLICT and "no longer exists" in result.reason


@pytest.mark.parametrize("action", ["add_line", "one_time_charge"])
def test_create_is_done_when_a_line_with_our_marker_exists_else_sent(action):
    found = judge(action, MARKER, {}, {"quantity": "5"}, line(True, MARKER, quantity="5"))
    assert found.verdict is Verdict.DONE and "30001" in found.reason
    assert judge(action, MARKER, {}, {"quantity": "5"}, line(False)).verdict is Verdict.SEND


def test_judging_is_pure():
    args = ("set_quantity", MARKER, SEEN, DESIRED, line(quantity="11"))
    assert judge(*args) == judge(*args)
