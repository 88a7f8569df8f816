"""The sandbox's `conditions` evaluator: it must filter the way ConnectWise does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.sync.connectwise.conditions import ConditionError, compile_conditions

AGREEMENT = {
    "id": 701, "name": "Acme Dental - Managed Cloud", "agreementStatus": "Active",
    "cancelledFlag": False, "company": {"id": 19297, "identifier": "AcmeDental"},
    "type": {"id": 1, "name": "Managed Services"}, "billAmount": Decimal("0.00"),
    "endDate": None, "_info": {"lastUpdated": "2024-05-02T08:00:00Z"},
}


@pytest.mark.parametrize(("text", "expected"), [
    ('agreementStatus="Active" and cancelledFlag=false', True),
    ("agreementStatus = 'active'", True),  # CW compares text case-insensitively
    ("cancelledFlag = true", False),
    ("company/id = 19297", True),
    ("company/id != 19297", False),
    ("id > 700 and id <= 701", True),
    ("id < 701", False),
    ("id >= 702 or company/identifier = \"AcmeDental\"", True),
    ("lastUpdated > [2024-05-01T00:00:00Z]", True),
    ("lastUpdated > [2024-05-02T08:00:00Z]", False),
    ("lastUpdated >= [2024-05-02T08:00:00Z]", True),
    ("_info/lastUpdated < [2024-05-03]", True),
    ('name like "Acme%"', True),
    ('name like "*Cloud"', True),
    ('name like "Cloud%"', False),
    ('name contains "dental"', True),
    ('name not contains "dental"', False),
    ('type/name in ("One-Time", "Managed Services")', True),
    ('type/name not in ("One-Time")', True),
    ("endDate = null", True),
    ("endDate != null", False),
    ("billAmount = 0", True),
    ('(agreementStatus="Cancelled" or cancelledFlag=true) and id=701', False),
    ('agreementStatus="Cancelled" or (cancelledFlag=false and id=701)', True),
    ("  ", True),
])
def test_conditions(text, expected):
    assert compile_conditions(text, set(AGREEMENT) | {"lastUpdated"})(AGREEMENT) is expected


@pytest.mark.parametrize("text", [
    "nosuch = 1", "id = ", "id ~ 3", "(id = 1", 'name like 5', "id = 1 and", "lastUpdated > [x]",
    'type/name in "a"',
])
def test_bad_conditions_are_refused(text):
    with pytest.raises(ConditionError):
        compile_conditions(text, set(AGREEMENT) | {"lastUpdated"})(AGREEMENT)


def test_escaped_quotes_in_strings():
    record = {"name": 'Birch "&" Vale'}
    assert compile_conditions(r'name = "Birch \"&\" Vale"')(record)
