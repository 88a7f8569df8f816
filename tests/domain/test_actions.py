"""An action's identity text: what intent keys and finding hashes are made of, so it must
never change for the same action."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from app.domain.actions import desired_text


@given(st.dictionaries(st.text(), st.text()))
def test_desired_text_is_what_json_dumps_writes(desired):
    assert desired_text(desired) == json.dumps(desired, sort_keys=True)


@given(st.dictionaries(st.text(), st.none() | st.integers() | st.text()))
def test_desired_values_that_are_not_text_are_written_by_json_dumps(desired):
    assert desired_text(desired) == json.dumps(desired, sort_keys=True)
