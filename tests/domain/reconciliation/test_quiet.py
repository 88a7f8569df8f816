"""The plain in-step rule against the checks it stands in for: whenever it says a bundle is
in step, the engine's checks find nothing and count nothing, and the engine's results are
the same with the rule as without it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.domain.reconciliation.engine as engine
from app.domain.reconciliation import VendorCharge, finding_reference
from app.domain.reconciliation.quiet import in_step, plain_seats
from app.domain.seat_history import states_seats
from app.domain.timeline import QuantityTimeline

from .support import ACME, MARCH, D, line, policy_of, run, sub

DAYS = [None, date(2024, 1, 1), date(2024, 2, 15), date(2024, 3, 1), date(2024, 3, 2),
        date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 30)]
costs = st.sampled_from([None, "0", "17", "18"])


def _d(text: str | None) -> Decimal | None:
    return None if text is None else D(text)


# Each field: the value of a bundle in step first, then values that may break it. A drawn
# bundle changes a few fields at most, so both sides of the rule are drawn often.
CHOICES = {
    "charge_type": ["cycleCharge", "new", "Renew", "addQuantity", "usage fee", "discount"],
    "start": [date(2024, 3, 1), date(2024, 2, 15), date(2024, 3, 2)],
    "end": [date(2024, 3, 31), date(2024, 4, 30), date(2024, 3, 30)],
    "seats": [10, 0, 5],
    "charge_usage": [False, True],
    "cost": ["18", None, "0", "17"],
    "line_quantity": [10, 5],
    "line_price": ["22", None, "15"],
    "line_cost": ["18", None, "17"],
    "effective": [date(2024, 1, 1), None, date(2024, 3, 1), date(2024, 3, 2),
                  date(2024, 3, 31)],
    "cancelled": [None, date(2024, 3, 31), date(2024, 4, 30)],
    "kind": ["recurring", "fixed_price", "one_time"],
    "steps": [(), ((date(2024, 1, 1), D(10)),)],
    "charges": ["none", "untagged", "tagged"],
    "status": ["Active", "Suspended", "Cancelled", "InTrial"],
    "term": ["P1M", "P1Y", "trial"],
    "frequency": ["Monthly", "monthly ", "Annual", "Usage"],
    "end_date": [None, date(2024, 4, 30), date(2024, 3, 31)],
    "internal": [False, True],
    "negative_margin_alert": ["true", "false"],
    "exclude": ["false", "true"],
    "skip_free": ["true", "false"],
}


@st.composite
def bundles(draw):
    changed = draw(st.sets(st.sampled_from(sorted(CHOICES)), max_size=3))
    v = {name: draw(st.sampled_from(options)) if name in changed else options[0]
         for name, options in CHOICES.items()}
    seats = D(v["seats"])
    charge = VendorCharge("k1", v["charge_type"], v["start"], v["end"], seats, _d(v["cost"]),
                          seats * D(18), v["charge_usage"], "INV1")
    timeline = QuantityTimeline.one_span(seats, v["start"], v["end"]) \
        if states_seats(v["charge_type"]) else QuantityTimeline()
    psa = line(v["line_quantity"], price=v["line_price"], cost=v["line_cost"],
               effective_date=v["effective"], cancelled_date=v["cancelled"],
               agreement_kind=v["kind"], quantity_steps=v["steps"])
    reference = finding_reference("pax8", "S1", MARCH)
    charges = {"none": (),
               "untagged": (line(1, line_id="X1", agreement_kind="one_time",
                                 description="True-up"),),
               "tagged": (line(1, line_id="X2", agreement_kind="one_time",
                               description=f"True-up [{reference}]"),)}[v["charges"]]
    facts = sub(timeline, psa, vendor_charges=(charge,), vendor_unit_cost=_d(v["cost"]),
                status=v["status"], term=v["term"], billing_frequency=v["frequency"],
                end_date=v["end_date"], customer=replace(ACME, internal=v["internal"]),
                psa_one_time_charges=charges)
    return facts, policy_of(*((name, v[name]) for name in (
        "negative_margin_alert", "exclude", "skip_free")))


def _without_rule(monkeypatch):
    monkeypatch.setattr(engine, "in_step", lambda *args: False)


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(bundles())
def test_in_step_means_the_checks_find_and_count_nothing(monkeypatch, bundle):
    facts, policy_for = bundle
    plain = plain_seats(facts)
    quiet = plain is not None and in_step(MARCH, plain, policy_for(facts),
                                          facts.one_time_charges())
    with_rule = run(facts, policy=policy_for)
    with monkeypatch.context() as patched:
        _without_rule(patched)
        checked = run(facts, policy=policy_for)
    assert with_rule == checked  # the rule never changes what the engine concludes
    if quiet:
        assert checked.findings == ()
        assert replace(checked.summary, subscriptions=0) == replace(
            run(policy=policy_for).summary)


def test_the_commonest_bundle_is_in_step():
    charge = VendorCharge("k1", "cycleCharge", date(2024, 3, 1), date(2024, 3, 31), D(10),
                          D(18), D(180))
    facts = sub(QuantityTimeline.one_span(D(10), date(2024, 3, 1), date(2024, 3, 31)),
                line(10), vendor_charges=(charge,))
    plain = plain_seats(facts)
    policy = policy_of()(facts)
    assert plain is not None and in_step(MARCH, plain, policy, ())
    assert not in_step(MARCH, plain._replace(line_quantity=D(9)), policy, ())
    assert not in_step(MARCH, plain._replace(line_cost=D(17)), policy, ())
    assert not in_step(MARCH, plain._replace(charge_start=date(2024, 3, 2)), policy, ())
    assert not in_step(MARCH, plain._replace(line_effective=date(2024, 3, 2)), policy, ())


@pytest.mark.parametrize("change", [
    {"vendor_charges": ()},
    {"psa_lines": ()},
    {"vendor_timeline": QuantityTimeline.one_span(D(12), date(2024, 3, 1), date(2024, 3, 31))},
])
def test_anything_else_is_no_plain_bundle(change):
    charge = VendorCharge("k1", "cycleCharge", date(2024, 3, 1), date(2024, 3, 31), D(10),
                          D(18), D(180))
    facts = sub(QuantityTimeline.one_span(D(10), date(2024, 3, 1), date(2024, 3, 31)),
                line(10), vendor_charges=(charge,))
    assert plain_seats(replace(facts, **change)) is None
