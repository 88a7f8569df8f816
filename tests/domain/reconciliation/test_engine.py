"""The engine as a whole: billable rules, tolerance, order, stable keys and hashes, purity."""

from __future__ import annotations

import ast
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from app.domain.policy import PolicyRule
from app.domain.reconciliation import (
    CustomerRef,
    FindingKind,
    finding_key,
    policy_resolver,
    reconcile,
)

from .support import ACME, MARCH, D, kinds, line, lots, only, policy_of, run, sub

PLUS_TWO = lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15)))
PACKAGE = Path(__file__).resolve().parents[3] / "app" / "domain" / "reconciliation"


# --- billable rules -----------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "reason"), [
    ({"customer": replace(ACME, internal=True)}, "internal customer (customer flag)"),
    ({"status": "Trial"}, "trial subscription"),
    ({"term": "Trial"}, "trial subscription"),
    ({"vendor_unit_cost": D(0), "psa_lines": (line(price="0", cost="0"),)},
     "free SKU (cost and price 0)"),
])
def test_non_billable_subscriptions_are_skipped_before_findings(changes, reason):
    result = run(sub(PLUS_TWO, line(), **changes))
    assert result.findings == ()
    assert result.summary.skipped_non_billable == 1
    assert result.summary.skipped == (("S1", reason),)


def test_policy_rules_make_a_customer_internal_or_exclude_a_product():
    facts = sub(PLUS_TWO, line())
    internal = policy_resolver([PolicyRule("customer", "psa-acme", "internal", "true")])
    result = reconcile(MARCH, [facts], (), internal)
    assert result.summary.skipped == (("S1", "internal customer (customer psa-acme)"),)
    excluded = policy_resolver([PolicyRule("product", "SKU-BP", "exclude", "true")])
    assert reconcile(MARCH, [facts], (), excluded).summary.skipped == (
        ("S1", "excluded (product SKU-BP)"),)
    other = policy_resolver([PolicyRule("product", "SKU-OTHER", "exclude", "true")])
    assert kinds(reconcile(MARCH, [facts], (), other)) == ["quantity_drift"]


def test_free_skus_can_be_reconciled_when_the_policy_says_so():
    facts = sub(lots((3, date(2024, 1, 1))), vendor_unit_cost=D(0))
    assert run(facts).summary.skipped_non_billable == 1
    # Not skipped: reconciled, and with no price the unbilled line is at cost 0 (review).
    assert kinds(run(facts, policy=policy_of(("skip_free", "false")))) == [
        "unbilled_subscription"]


def test_internal_orphans_are_skipped_too():
    from app.domain.reconciliation import OrphanPsaLine
    orphan = OrphanPsaLine("pax8", "S1", replace(ACME, internal=True), "SKU-BP", "BP", "USD",
                           line())
    assert run(orphans=[orphan]).summary.skipped_non_billable == 1


# --- tolerance ----------------------------------------------------------------------------

ONE_DAY_BUMP = lots((10, date(2024, 1, 1)), (1, date(2024, 3, 20), date(2024, 3, 20)))


def test_a_difference_below_the_tolerance_is_rounding_not_a_finding():
    assert only(run(sub(ONE_DAY_BUMP, line()))).amount == D("0.71")  # 22 × 1/31
    result = run(sub(ONE_DAY_BUMP, line()), policy=policy_of(("tolerance", "1.00")))
    assert result.findings == ()
    assert result.summary.rounding_residuals == 1
    assert result.summary.residual_keys == ("quantity_drift|pax8|S1|L1",)


def test_the_forward_change_is_a_finding_even_when_the_period_amount_is_tiny():
    timeline = lots((10, date(2024, 1, 1)), (2, date(2024, 3, 31)))
    result = run(sub(timeline, line()), policy=policy_of(("day_count", "cloudblue")))
    finding = only(result)  # CloudBlue: the effective day is not charged, so 0 for March
    assert finding.amount == 0 and finding.actions[0].desired == {"quantity": "12"}


def test_waived_differences_are_counted():
    result = run(sub(ONE_DAY_BUMP, line()), policy=policy_of(("true_up", "none")))
    assert result.findings == () and result.summary.waived == 1


# --- identity, order, determinism ---------------------------------------------------------


def customer(n: int) -> CustomerRef:
    return CustomerRef(f"v-{n}", f"Customer {n:02d}", f"psa-{n}", f"Customer {n:02d}")


def portfolio():
    """Many subscriptions of many kinds for several customers."""
    facts = []
    for n in range(12):
        who = customer(n)
        facts.append(sub(lots((10 + n, date(2024, 1, 1)), (n % 3 - 1, date(2024, 3, 1 + n))),
                         line(10 + n, line_id=f"L{n}"), vendor_subscription_id=f"S{n}",
                         customer=who, vendor_unit_cost=D(18 + n % 2)))
        facts.append(sub(lots((n + 1, date(2024, 3, 5))), vendor_subscription_id=f"N{n}",
                         customer=who, customer_price=D(30)))
    return facts


def test_findings_are_sorted_by_customer_then_subscription_then_kind():
    result = run(*portfolio())
    order = [(f.customer.name, f.vendor_subscription_id) for f in result.findings]
    assert order == sorted(order)
    assert result.summary.findings == len(result.findings)
    assert result.summary.subscriptions == 24


def test_reconcile_is_deterministic_and_independent_of_input_order():
    facts = portfolio()
    first = run(*facts)
    again = run(*reversed(facts))
    assert [f.key for f in first.findings] == [f.key for f in again.findings]
    assert [f.inputs_hash for f in first.findings] == [f.inputs_hash for f in again.findings]
    assert first.findings == again.findings
    assert [f.explanation for f in first.findings] == [f.explanation for f in again.findings]
    assert len({f.key for f in first.findings}) == len(first.findings)


def test_explanations_are_json():
    for finding in run(*portfolio()).findings:
        assert json.loads(json.dumps(finding.explanation)) == finding.explanation


def test_key_ignores_amounts_and_the_hash_does_not():
    base = only(run(sub(PLUS_TWO, line())))
    repriced = only(run(sub(PLUS_TWO, line(price="23"))))
    later = only(run(sub(lots((10, date(2024, 1, 1)), (3, date(2024, 3, 15))), line())))
    assert base.key == repriced.key == later.key
    assert len({base.inputs_hash, repriced.inputs_hash, later.inputs_hash}) == 3


def test_the_hash_ignores_where_an_unchanged_policy_value_was_set():
    plain = only(run(sub(PLUS_TWO, line())))
    same_values = only(run(sub(PLUS_TWO, line()), policy=policy_of(("true_up", "one-time"))))
    assert plain.explanation["policy"] != same_values.explanation["policy"]
    assert plain.inputs_hash == same_values.inputs_hash


def test_keys_stay_within_the_column():
    key = finding_key(FindingKind.QUANTITY_DRIFT, "pax8", "S" * 80, *("L" * 40,) * 4)
    assert len(key) == 200 and key.startswith("quantity_drift|pax8|")
    assert key == finding_key(FindingKind.QUANTITY_DRIFT, "pax8", "S" * 80, *("L" * 40,) * 4)


def test_amounts_in_each_currency_stay_apart():
    eur = sub(PLUS_TWO, line(), currency="eur", vendor_subscription_id="S2")
    jpy = sub(lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15))), line(price="2200"),
              currency="JPY", vendor_subscription_id="S3")
    result = run(sub(PLUS_TWO, line()), eur, jpy)
    assert [(f.currency, f.amount) for f in result.findings] == [
        ("USD", D("24.13")), ("EUR", D("24.13")), ("JPY", D("2413"))]


# --- the package stands alone -------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: p.name)
def test_standard_library_only_and_no_float(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and getattr(node, "level", 0) == 0:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) \
                else [node.module or ""]
            for name in names:
                assert name.split(".")[0] in sys.stdlib_module_names or \
                    name.startswith("app.domain"), f"{path.name} imports {name}"
        assert not (isinstance(node, ast.Constant) and isinstance(node.value, float))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            assert node.func.id != "float"
