"""Quantity drift: the exact example of the brief under every policy that changes it."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.domain.actions import ActionType
from app.domain.reconciliation import FindingKind, StatusSuggestion

from .support import D, apply_actions, line, lots, only, policy_of, run, sub

# 10 seats billed in advance at 22 since January; the vendor adds 2 seats on 15 March.
PLUS_TWO = lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15)))
MINUS_TWO = lots((10, date(2024, 1, 1)), (-2, date(2024, 3, 15)))


def facts(timeline=PLUS_TWO, *lines, **changes):
    return sub(timeline, *(lines or (line(),)), **changes)


def types(finding):
    return [a.type for a in finding.actions]


def test_the_brief_example_under_the_default_policy():
    finding = only(run(facts()))
    assert finding.kind is FindingKind.QUANTITY_DRIFT
    assert finding.key == "quantity_drift|pax8|S1|L1"
    assert finding.amount == D("24.13")  # 2 × 22 × 17/31 = 24.129… rounded once
    assert (finding.vendor_quantity, finding.psa_quantity) == (D(12), D(10))
    assert finding.unit_price == D(22) and finding.unit_cost == D(18)
    set_quantity, charge = finding.actions
    assert set_quantity.type is ActionType.SET_QUANTITY
    assert set_quantity.desired == {"quantity": "12"}
    assert set_quantity.seen == {"quantity": "10"}
    assert set_quantity.effective_date == date(2024, 4, 1)
    assert (set_quantity.line_ref, set_quantity.agreement_ref) == ("L1", "AG1")
    assert set_quantity.money_effect == 0
    assert charge.type is ActionType.ONE_TIME_CHARGE
    assert charge.agreement_ref == "OT1" and charge.line_ref is None
    assert charge.desired["quantity"] == "1" and charge.desired["unit_price"] == "24.13"
    assert charge.desired["effective_date"] == "2024-04-01"
    assert "2024-03-15..2024-03-31" in charge.desired["description"]
    assert finding.reference in charge.desired["description"]
    assert charge.money_effect == D("24.13") and charge.product_ref == "P1"
    # 2 seats on 10 is 20 %: at the default threshold, flagged for review.
    assert finding.status is StatusSuggestion.REVIEW


def test_the_explanation_shows_every_number():
    explanation = only(run(facts())).explanation
    assert [s["quantity"] for s in explanation["vendor_timeline"]] == ["10", "12"]
    assert [s["quantity"] for s in explanation["psa_timeline"]] == ["10"]
    [charged] = explanation["charge"]["lines"]
    assert charged["day_count"] == "17/31" and charged["rounded"] == "24.13"
    assert charged["start"] == "2024-03-15" and charged["unit_price"] == "22"
    assert any("2 × 22 × 17/31" in text for text in explanation["charge"]["text"])
    assert "true_up = one-time (global default)" in explanation["policy"]
    assert "day_count = psa → connectwise (connectwise) (global default)" in \
        explanation["policy"]
    assert explanation["mode"] == "one-time"
    assert "24.13 USD" in explanation["summary"]
    assert len(explanation["actions"]) == 2


@pytest.mark.parametrize(("settings", "amount"), [
    ((), "24.13"),
    ((("rounding", "per-unit"),), "24.12"),  # 22 × 17/31 = 12.06 per seat, × 2
    ((("day_count", "cloudblue"),), "22.71"),  # 2 × 22 × 16/31
    ((("day_count", "cloudblue"), ("rounding", "per-unit")), "22.70"),  # 2 × 11.35
    ((("day_count", "actual"),), "24.13"),
    ((("day_count", "thirty-day"),), "23.47"),  # 2 × 22 × 16/30
])
def test_amount_per_convention_and_rounding(settings, amount):
    finding = only(run(facts(), policy=policy_of(*settings)))
    assert finding.amount == D(amount)
    assert finding.actions[1].desired["unit_price"] == amount


def test_autotask_default_is_actual_days():
    finding = only(run(facts(psa_kind="autotask"), policy=policy_of(psa_kind="autotask")))
    assert finding.amount == D("24.13")
    assert finding.actions[0].psa_kind == "autotask"
    assert "day_count = psa → actual_days (autotask) (global default)" in \
        finding.explanation["policy"]


def test_no_proration_bills_nothing_for_the_period_but_fixes_the_quantity():
    finding = only(run(facts(), policy=policy_of(("day_count", "none"))))
    assert finding.amount == 0
    assert types(finding) == [ActionType.SET_QUANTITY]
    assert finding.actions[0].effective_date == date(2024, 4, 1)


@pytest.mark.parametrize("setting", [("true_up", "back-date"), ("effective", "back-dated")])
def test_back_dated_change_lets_the_psa_prorate(setting):
    finding = only(run(facts(), policy=policy_of(setting)))
    assert finding.amount == D("24.13")
    [set_quantity] = finding.actions
    assert set_quantity.desired == {"quantity": "12"}
    assert set_quantity.effective_date == date(2024, 3, 15)
    assert set_quantity.money_effect == D("24.13")


def test_true_up_none_keeps_only_the_forward_change():
    finding = only(run(facts(), policy=policy_of(("true_up", "none"))))
    assert finding.amount == D("24.13")  # at stake, waived by policy
    [set_quantity] = finding.actions
    assert set_quantity.effective_date == date(2024, 4, 1)
    assert "true_up=none" in finding.explanation["mode_reason"]


def test_arrears_same_amount_change_dated_on_the_vendor_change_day():
    """In arrears March is invoiced on 1 April from March's quantities, so the change is dated
    15 March and that invoice bills the drift: same amount, no separate true-up charge."""
    advance = only(run(facts()))
    arrears = only(run(facts(), policy=policy_of(("timing", "arrears"))))
    assert arrears.amount == advance.amount == D("24.13")
    [set_quantity] = arrears.actions
    assert set_quantity.effective_date == date(2024, 3, 15)
    assert advance.actions[0].effective_date == date(2024, 4, 1)
    assert "timing=arrears" in arrears.explanation["mode_reason"]


def test_arrears_true_up_none_and_residual_charge_dated_in_the_period():
    # A bump that is gone by the period end cannot be back-dated: a one-time charge, dated
    # the period's last day so the arrears invoice for March bills it.
    bump = lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15), date(2024, 3, 20)))
    finding = only(run(facts(bump), policy=policy_of(("timing", "arrears"))))
    [charge] = finding.actions
    assert charge.desired["effective_date"] == "2024-03-31"
    assert finding.amount == charge.money_effect == D("8.52")  # 2 × 22 × 6/31


def test_decrease_is_credited_by_default():
    finding = only(run(facts(MINUS_TWO)))
    assert finding.amount == D("-24.13")
    set_quantity, credit = finding.actions
    assert set_quantity.desired == {"quantity": "8"}
    assert set_quantity.effective_date == date(2024, 4, 1)
    assert credit.money_effect == D("-24.13")
    assert credit.desired["quantity"] == "-1" and credit.desired["unit_price"] == "24.13"
    assert credit.desired["description"].startswith("Credit 2024-03")


def test_decrease_deferred_has_no_credit():
    finding = only(run(facts(MINUS_TWO), policy=policy_of(("decreases", "defer"))))
    assert finding.amount == D("-24.13")
    [set_quantity] = finding.actions
    assert set_quantity.effective_date == date(2024, 4, 1)
    assert "decreases=defer" in finding.explanation["mode_reason"]


def test_deferred_decrease_back_date_policy_still_waits_for_next_period():
    policy = policy_of(("decreases", "defer"), ("true_up", "back-date"))
    [set_quantity] = only(run(facts(MINUS_TWO), policy=policy)).actions
    assert set_quantity.effective_date == date(2024, 4, 1)


def test_back_dated_decrease_with_credit():
    [set_quantity] = only(run(facts(MINUS_TWO), policy=policy_of(("true_up", "back-date")))
                          ).actions
    assert set_quantity.effective_date == date(2024, 3, 15)
    assert set_quantity.money_effect == D("-24.13")


def test_several_changes_in_a_period_back_dated_with_a_residual_charge():
    # +2 from 15 March, one of them gone from 25 March: 11 seats at the end.
    timeline = lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15)), (-1, date(2024, 3, 25)))
    finding = only(run(facts(timeline), policy=policy_of(("true_up", "back-date"))))
    assert finding.amount == D("19.16")  # 2 × 22 × 10/31 = 14.19, 1 × 22 × 7/31 = 4.97
    set_quantity, residual = finding.actions
    assert set_quantity.desired == {"quantity": "11"}
    assert set_quantity.effective_date == date(2024, 3, 15)
    assert set_quantity.money_effect == D("12.06")  # 1 × 22 × 17/31
    assert residual.money_effect == D("7.10")  # 1 × 22 × 10/31: what the change cannot bill


def test_large_and_small_seat_changes():
    small = only(run(facts(lots((40, date(2024, 1, 1)), (1, date(2024, 3, 15))),
                           line(40))))
    assert small.status is StatusSuggestion.APPROVE
    off = policy_of(("seat_change_alert_threshold", "off"))
    assert only(run(facts(), policy=off)).status is StatusSuggestion.APPROVE


def test_drift_before_the_period_is_a_whole_period_true_up():
    finding = only(run(facts(lots((12, date(2024, 1, 1))))))
    assert finding.amount == D("44.00")
    assert finding.actions[1].desired["description"].endswith(
        f"2024-03-01..2024-03-31 [{finding.reference}]")


# --- "no more invoice to generate" --------------------------------------------------------


@pytest.mark.parametrize("settings", [
    (),
    (("true_up", "back-date"),),
    (("timing", "arrears"),),
    (("true_up", "none"),),
    (("rounding", "per-unit"), ("day_count", "cloudblue")),
])
def test_nothing_new_after_the_fix(settings):
    before = facts()
    policy = policy_of(*settings)
    finding = only(run(before, policy=policy))
    after = run(apply_actions(before, finding), policy=policy)
    assert after.findings == ()


def test_after_the_default_fix_march_is_settled_by_the_true_up_charge():
    before = facts()
    after = apply_actions(before, only(run(before)))
    [psa_line] = after.recurring_lines()
    assert psa_line.quantity == 12
    assert psa_line.quantity_steps[-1] == (date(2024, 4, 1), D(12))
    result = run(after)
    assert result.findings == ()
    assert result.summary.settled == 1


def test_a_hand_entered_true_up_of_the_same_amount_settles_the_drift():
    finding = only(run(facts()))
    fixed = apply_actions(facts(), finding)
    [charge] = fixed.psa_one_time_charges
    untagged = replace(charge, effective_date=date(2024, 3, 31), description="Extra seats")
    result = run(replace(fixed, psa_one_time_charges=(untagged,)))
    assert result.findings == ()
    assert result.summary.settled == 1


def test_only_the_forward_change_pushed_leaves_only_the_charge():
    before = facts()
    finding = only(run(before))
    forward_only = replace(finding, actions=finding.actions[:1])
    after = only(run(apply_actions(before, forward_only)))
    assert after.key == finding.key  # the same finding, still open
    assert after.inputs_hash != finding.inputs_hash
    assert [a.type for a in after.actions] == [ActionType.ONE_TIME_CHARGE]
    assert after.amount == D("24.13")


def test_only_the_charge_pushed_leaves_only_the_forward_change():
    before = facts()
    finding = only(run(before))
    charge_only = replace(finding, actions=finding.actions[1:])
    after = only(run(apply_actions(before, charge_only)))
    assert after.amount == 0
    assert [a.type for a in after.actions] == [ActionType.SET_QUANTITY]
    assert after.explanation["matched_charges"][0]["matched_by"] == "reference"


def test_a_charge_of_another_amount_is_a_near_miss_not_a_match():
    other = line(1, "20.00", None, "X9", agreement_kind="one_time",
                 effective_date=date(2024, 4, 1), description="misc")
    finding = only(run(facts(psa_one_time_charges=(other,))))
    assert finding.amount == D("24.13")
    assert finding.explanation["near_misses"][0]["line_id"] == "X9"
    assert finding.status is StatusSuggestion.REVIEW


def test_a_charge_for_the_previous_period_does_not_settle_this_one():
    # Dated 1 March: that is where February's true-up lands in advance billing.
    february = line(1, "24.13", None, "X1", agreement_kind="one_time",
                    effective_date=date(2024, 3, 1), description="seats")
    assert only(run(facts(psa_one_time_charges=(february,)))).amount == D("24.13")


def test_two_lines_for_one_subscription():
    first = line(6, line_id="L1", effective_date=date(2023, 6, 1))
    second = line(4, line_id="L2", effective_date=date(2023, 9, 1))
    finding = only(run(facts(PLUS_TWO, first, second)))
    assert finding.key == "quantity_drift|pax8|S1|L1|L2"
    assert finding.psa_line_ids == ("L1", "L2")
    assert finding.actions[0].line_ref == "L2"  # the most recently effective line
    assert finding.actions[0].desired == {"quantity": "6"}  # 12 − the 6 on L1


def test_no_seat_plan_when_the_psa_bills_the_vendor_seats(monkeypatch):
    from app.domain.reconciliation.kinds import seats

    def no_plan(*args, **kwargs):
        raise AssertionError("a seat plan for timelines that agree")

    monkeypatch.setattr(seats, "plan_seats", no_plan)
    result = run(sub(lots((10, date(2024, 1, 1))), line(10)))
    assert result.findings == () and result.summary.rounding_residuals == 0


def test_a_line_builds_its_timeline_once():
    psa_line = line(10, quantity_steps=((date(2024, 1, 1), D(10)), (date(2024, 3, 15), D(12))))
    assert psa_line.timeline() is psa_line.timeline()
    assert psa_line == line(10, quantity_steps=((date(2024, 1, 1), D(10)),
                                                (date(2024, 3, 15), D(12))))
    assert psa_line.timeline().quantity_on(date(2024, 3, 20)) == 12
    assert replace(psa_line, quantity_steps=()).timeline().quantity_on(date(2024, 3, 20)) == 10
