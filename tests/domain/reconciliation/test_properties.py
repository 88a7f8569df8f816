"""Properties over random seat histories and policies: deterministic, and settled once fixed."""

from __future__ import annotations

import json
import random
from datetime import date
from decimal import Decimal
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.domain.reconciliation import FindingKind
from app.domain.reconciliation import findings as findings_module
from app.domain.reconciliation.findings import jsonable
from app.domain.timeline import QuantityTimeline, SeatLot

from .support import D, apply_actions, line, policy_of, run, sub

SEAT_KINDS = {FindingKind.QUANTITY_DRIFT, FindingKind.UNBILLED_SUBSCRIPTION,
              FindingKind.BILLED_BUT_CANCELLED}

changes = st.lists(
    st.tuples(st.integers(1, 31), st.integers(-4, 4).filter(bool)), max_size=3)
policies = st.tuples(
    st.sampled_from(["advance", "arrears"]),
    st.sampled_from(["next-period", "back-dated"]),
    st.sampled_from(["one-time", "back-date", "none"]),
    st.sampled_from(["credit", "defer"]),
    st.sampled_from(["psa", "cloudblue", "actual", "thirty-day", "none"]),
    st.sampled_from(["per-line", "per-unit"]),
)
prices = st.decimals(min_value=Decimal("0.01"), max_value=Decimal(200), places=2)


@st.composite
def scenarios(draw):
    base = draw(st.integers(0, 15))
    lots = [SeatLot(D(base), date(2024, 1, 1))] if base else []
    level = base
    for day, delta in sorted(draw(changes)):
        delta = max(delta, -level)
        if delta:
            lots.append(SeatLot(D(delta), date(2024, 3, day)))
            level += delta
    price = draw(prices)
    billed = draw(st.integers(0, 15))
    lines = (line(billed, price=str(price), cost=str(price)),) if billed else ()
    ended = level == 0 and draw(st.booleans())
    facts = sub(QuantityTimeline.from_lots(lots), *lines, vendor_unit_cost=price,
                customer_price=price, status="Cancelled" if ended else "Active")
    keys = ("timing", "effective", "true_up", "decreases", "day_count", "rounding")
    return facts, policy_of(*zip(keys, draw(policies), strict=True))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_reconcile_twice_gives_identical_drafts(scenario):
    facts, policy = scenario
    first, second = run(facts, policy=policy), run(facts, policy=policy)
    assert first == second
    assert [f.inputs_hash for f in first.findings] == [f.inputs_hash for f in second.findings]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_nothing_new_once_the_actions_are_pushed(scenario):
    facts, policy = scenario
    result = run(facts, policy=policy)
    for finding in result.findings:
        if finding.kind in SEAT_KINDS:
            facts = apply_actions(facts, finding)
    again = run(facts, policy=policy)
    assert [f.key for f in again.findings if f.kind in SEAT_KINDS] == []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_one_time_actions_bill_exactly_the_amount(scenario):
    facts, policy = scenario
    for finding in run(facts, policy=policy).findings:
        if finding.kind in SEAT_KINDS and finding.explanation["mode"] == "one-time" \
                and finding.explanation["one_time_amount"] != "0":
            assert sum(a.money_effect for a in finding.actions) == finding.amount


def test_input_order_does_not_matter():
    rng = random.Random(7)
    facts = [sub(QuantityTimeline.from_lots([SeatLot(D(n + 1), date(2024, 3, n + 1))]),
                 vendor_subscription_id=f"S{n:02d}") for n in range(30)]
    expected = run(*facts)
    for _ in range(5):
        rng.shuffle(facts)
        assert run(*facts) == expected


def _floats(value) -> list:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [f for item in value.items() for part in item for f in _floats(part)]
    if isinstance(value, list | tuple):
        return [f for item in value for f in _floats(item)]
    return []


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_hashes_are_taken_of_json_text_without_floats(scenario):
    """A finding's hash material holds no float (orjson writes some as json does not) and
    its text is json's own, whichever encoder wrote it (app.domain.json_text)."""
    facts, policy = scenario
    materials: list = []
    real = findings_module.hash_text

    def recording(material):
        materials.append(material)
        return real(material)

    with mock.patch.object(findings_module, "hash_text", recording):
        result = run(facts, policy=policy)
    assert len(materials) == len(result.findings)
    for material in materials:
        assert not _floats(material)
        assert real(material) == json.dumps(jsonable(material), sort_keys=True,
                                            separators=(",", ":"))
