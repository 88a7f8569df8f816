"""json_text writes json's own text, or says it cannot: stored finding hashes depend on it."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from app.domain import json_text
from app.domain.reconciliation.findings import FindingKind, _scalar, hash_text, jsonable

SCALARS = (
    st.text()
    | st.text(alphabet=st.characters(max_codepoint=127))
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.booleans()
    | st.none()
    | st.decimals(allow_nan=False, allow_infinity=False)
    | st.decimals(places=6)
    | st.dates()
    | st.fractions(max_denominator=1000)
    | st.sampled_from(list(FindingKind))
)
KEYS = st.text(alphabet=st.characters(max_codepoint=127)) | st.text(max_size=3)
TREES = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=4)
                     | st.tuples(inner, inner)
                     | st.dictionaries(KEYS, inner, max_size=4), max_leaves=30)


def _json_sorted(data):
    return json.dumps(data, sort_keys=True, separators=(",", ":"), default=_scalar)


@given(TREES)
def test_sorted_text_is_json_text_or_none(data):
    fast = json_text.sorted_ascii(data, _scalar)
    if fast is not None:
        assert fast == _json_sorted(data)


@given(TREES)
def test_the_hash_text_is_json_text_whichever_writes_it(data):
    assert hash_text(data) == json.dumps(jsonable(data), sort_keys=True, separators=(",", ":"))


@given(TREES)
def test_compact_text_reads_back_as_json_data(data):
    fast = json_text.compact(data, _scalar)
    if fast is not None:
        assert json.loads(fast) == json.loads(json.dumps(data, default=_scalar))


def test_what_orjson_cannot_write_as_json_does_is_left_to_json():
    assert json_text.sorted_ascii({"a": "caf\u00e9"}, _scalar) is None  # json escapes it
    assert json_text.sorted_ascii({1: "one"}, _scalar) is None  # a key that is not text
    assert json_text.sorted_ascii({"big": 2**70}, _scalar) is None
    assert json_text.sorted_ascii({"d": Decimal("1.50"), "day": date(2026, 3, 1),
                                   "f": Fraction(1, 4)}, _scalar) == \
        '{"d":"1.50","day":"2026-03-01","f":"0.25"}'
    assert hash_text({"a": "caf\u00e9", 1: "x"}) == '{"1":"x","a":"caf\\u00e9"}'
