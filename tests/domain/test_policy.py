"""Billing policies: typed keys parsed from text, resolution by scope, and their sources."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.domain.daycount import DayCountConvention
from app.domain.money import DOWN_MINOR, HALF_UP_MINOR
from app.domain.periods import BillingTiming
from app.domain.policy import (
    POLICY_KEYS,
    BillingPolicy,
    DecreaseRule,
    EffectiveRule,
    Markup,
    MarkupKind,
    PolicyRule,
    SeatChangeThreshold,
    TrueUpMode,
    parse_policy_value,
    resolve_policy,
)
from app.domain.timeline import LineRounding


def rule(scope, ref, key, value):
    return PolicyRule(scope, ref, key, value)


def test_defaults():
    policy = BillingPolicy.default()
    assert policy.timing is BillingTiming.ADVANCE
    assert policy.effective is EffectiveRule.NEXT_PERIOD
    assert policy.true_up is TrueUpMode.ONE_TIME
    assert policy.decreases is DecreaseRule.CREDIT
    assert policy.day_count is DayCountConvention.CONNECTWISE
    assert policy.rounding is LineRounding.PER_LINE
    assert policy.rounding_rule is HALF_UP_MINOR
    assert policy.markup == Markup(MarkupKind.FIXED)
    assert policy.tolerance == Decimal("0.01")
    assert (policy.internal, policy.exclude, policy.skip_free) == (False, False, True)
    assert policy.negative_margin_alert is True
    assert policy.seat_change_alert_threshold == SeatChangeThreshold(Decimal(5), Decimal(20))
    assert all(where == "global default" for _, _, where in policy.sources)
    assert [name for name, _, _ in policy.sources] == list(POLICY_KEYS)


@pytest.mark.parametrize(("psa", "convention"), [
    ("connectwise", DayCountConvention.CONNECTWISE),
    ("autotask", DayCountConvention.ACTUAL_DAYS),
    (None, DayCountConvention.ACTUAL_DAYS),
])
def test_day_count_defaults_to_the_psa_convention(psa, convention):
    assert BillingPolicy.default(psa).day_count is convention


def test_explicit_day_count_ignores_the_psa():
    policy = resolve_policy([rule("global", "", "day_count", "cloudblue")], psa_kind="autotask")
    assert policy.day_count is DayCountConvention.CLOUDBLUE


def test_most_specific_scope_wins_each_key_independently():
    rules = [
        rule("global", "", "true_up", "none"),
        rule("global", "", "decreases", "defer"),
        rule("vendor", "pax8", "true_up", "back-date"),
        rule("customer", "psa-7", "true_up", "one-time"),
        rule("product", "SKU-1", "markup", "cost+15%"),
        rule("vendor", "pax8", "markup", "list"),
        rule("customer", "psa-other", "timing", "arrears"),
    ]
    policy = resolve_policy(rules, vendor="pax8", customer="psa-7", product="SKU-1")
    assert policy.true_up is TrueUpMode.ONE_TIME
    assert policy.source("true_up") == "customer psa-7"
    assert policy.decreases is DecreaseRule.DEFER and policy.source("decreases") == "global"
    assert policy.markup == Markup(MarkupKind.COST_PLUS, Decimal(15))
    assert policy.source("markup") == "product SKU-1"
    assert policy.timing is BillingTiming.ADVANCE  # another customer's rule
    assert policy.describe(["true_up", "markup"]) == [
        "true_up = one-time (customer psa-7)",
        "markup = cost+15% (product SKU-1)",
    ]
    vendor_only = resolve_policy(rules, vendor="pax8", customer="psa-9", product="SKU-2")
    assert vendor_only.true_up is TrueUpMode.BACK_DATE
    assert vendor_only.source("true_up") == "vendor pax8"
    assert resolve_policy(rules).true_up is TrueUpMode.NONE


def test_a_policy_described_again_by_the_same_keys_says_the_same_in_a_new_list():
    policy = resolve_policy([rule("global", "", "true_up", "none")])
    keys = ("true_up", "markup")
    first = policy.describe(keys)
    assert first == policy.describe(list(keys)) == [
        "true_up = none (global)", "markup = fixed (global default)"]
    first.append("changed by its caller")
    assert policy.describe(keys) == policy.describe(list(keys))
    assert policy.describe(("markup",)) == ["markup = fixed (global default)"]
    assert policy == resolve_policy([rule("global", "", "true_up", "none")])  # no new state


def test_several_references_for_one_scope_first_wins():
    rules = [rule("customer", "v-1", "decreases", "defer"),
             rule("customer", "psa-1", "decreases", "credit")]
    assert resolve_policy(rules, customer=("psa-1", "v-1")).decreases is DecreaseRule.CREDIT
    assert resolve_policy(rules, customer=("v-1",)).decreases is DecreaseRule.DEFER


@pytest.mark.parametrize(("text", "markup"), [
    ("cost+20%", Markup(MarkupKind.COST_PLUS, Decimal(20))),
    (" Cost + 12.5 % ", Markup(MarkupKind.COST_PLUS, Decimal("12.5"))),
    ("cost", Markup(MarkupKind.COST_PLUS, Decimal(0))),
    ("FIXED", Markup(MarkupKind.FIXED)),
    ("list", Markup(MarkupKind.LIST)),
])
def test_markup_parsing(text, markup):
    assert parse_policy_value("markup", text) == markup
    assert markup.factor == Decimal(1) + markup.percent / 100


@pytest.mark.parametrize(("text", "seats", "percent"), [
    ("5 seats or 20%", Decimal(5), Decimal(20)),
    ("3", Decimal(3), None),
    ("10%", None, Decimal(10)),
    ("2 seats, 15%", Decimal(2), Decimal(15)),
    ("off", None, None),
])
def test_threshold_parsing(text, seats, percent):
    assert parse_policy_value("seat_change_alert_threshold", text) == \
        SeatChangeThreshold(seats, percent)


def test_threshold_meaning():
    threshold = SeatChangeThreshold(Decimal(5), Decimal(20))
    assert threshold.exceeded(Decimal(100), Decimal(105))  # 5 seats
    assert threshold.exceeded(Decimal(10), Decimal(8))  # 20 %
    assert not threshold.exceeded(Decimal(10), Decimal(11))
    assert threshold.exceeded(Decimal(0), Decimal(1))  # from nothing
    assert not SeatChangeThreshold(None, None).exceeded(Decimal(1), Decimal(100))


@pytest.mark.parametrize(("key", "text", "value"), [
    ("tolerance", "0.50", Decimal("0.50")),
    ("internal", "yes", True),
    ("exclude", "FALSE", False),
    ("rounding", "per-unit", "per-unit"),
    ("rounding_rule", "down_minor", "down_minor"),
    ("timing", " Arrears ", "arrears"),
])
def test_values_parse_from_text(key, text, value):
    assert parse_policy_value(key, text) == value


def test_resolved_rounding_rule_and_line_rounding():
    policy = resolve_policy([rule("global", "", "rounding_rule", "down_minor"),
                             rule("global", "", "rounding", "per-unit")])
    assert policy.rounding_rule is DOWN_MINOR and policy.rounding is LineRounding.PER_UNIT


@pytest.mark.parametrize(("key", "value", "allowed"), [
    ("timing", "monthly", "advance|arrears"),
    ("true_up", "yes", "one-time|back-date|none"),
    ("day_count", "360", "psa|connectwise|cloudblue|actual|thirty-day|none"),
    ("markup", "cost*2", "cost+N%|fixed|list"),
    ("tolerance", "-1", "an amount >= 0"),
    ("tolerance", "1,00", "an amount >= 0"),
    ("internal", "maybe", "true|false"),
    ("seat_change_alert_threshold", "lots", "N seats or M%|N|M%|off"),
])
def test_invalid_values_name_key_value_and_allowed(key, value, allowed):
    with pytest.raises(ValueError) as error:
        PolicyRule("global" if key != "internal" else "customer",
                   "" if key != "internal" else "c1", key, value)
    message = str(error.value)
    assert key in message and repr(value) in message and allowed in message


def test_unknown_key_scope_and_references_are_refused():
    with pytest.raises(ValueError, match="unknown policy key 'colour'"):
        PolicyRule("global", "", "colour", "red")
    with pytest.raises(ValueError, match="unknown policy scope 'planet'"):
        PolicyRule("planet", "x", "timing", "advance")
    with pytest.raises(ValueError, match="needs the customer"):
        PolicyRule("customer", "", "timing", "advance")
    with pytest.raises(ValueError, match="takes no scope reference"):
        PolicyRule("global", "x", "timing", "advance")
    with pytest.raises(ValueError, match="cannot be set at product scope"):
        PolicyRule("product", "SKU", "internal", "true")


def test_every_key_is_documented_with_a_valid_default():
    for name, spec in POLICY_KEYS.items():
        assert spec.description and spec.allowed
        parse_policy_value(name, spec.default)
