"""Cost change, negative margin, annual charges, usage and vendor invoice mismatches."""

from __future__ import annotations

from datetime import date

from app.domain.actions import ActionType
from app.domain.reconciliation import FindingKind, StatusSuggestion, VendorCharge

from .support import D, apply_actions, kinds, line, lots, only, policy_of, run, sub

TEN = lots((10, date(2024, 1, 1)))


# --- cost change and negative margin ------------------------------------------------------


def test_cost_change_sets_the_cost_under_a_fixed_price():
    finding = only(run(sub(TEN, line(), vendor_unit_cost=D(19))))
    assert finding.kind is FindingKind.COST_CHANGE
    assert finding.key == "cost_change|pax8|S1|L1"
    assert finding.amount == D("10.00")  # 10 seats × 1.00 more cost for March
    [action] = finding.actions
    assert action.type is ActionType.SET_PRICE
    assert action.desired == {"unit_cost": "19"} and action.seen == {"unit_cost": "18"}
    assert action.effective_date == date(2024, 4, 1)
    assert finding.status is StatusSuggestion.APPROVE


def test_cost_change_reprices_under_cost_plus():
    finding = only(run(sub(TEN, line(), vendor_unit_cost=D(19)),
                       policy=policy_of(("markup", "cost+20%"))))
    assert finding.amount == D("8.00")  # 10 × (22.80 − 22)
    assert finding.actions[0].desired == {"unit_cost": "19", "unit_price": "22.80"}
    assert finding.actions[0].seen == {"unit_cost": "18", "unit_price": "22"}
    assert finding.status is StatusSuggestion.REVIEW


def test_cost_change_then_pushed_is_gone():
    before = sub(TEN, line(), vendor_unit_cost=D(19))
    policy = policy_of(("markup", "cost+20%"))
    assert run(apply_actions(before, only(run(before, policy=policy))), policy=policy
               ).findings == ()


def test_sub_cent_cost_difference_is_rounding():
    result = run(sub(TEN, line(), vendor_unit_cost=D("18.0001")))
    assert result.findings == ()
    assert result.summary.rounding_residuals == 1
    assert result.summary.residual_keys == ("cost_change|pax8|S1|L1",)


def test_negative_margin_alert_without_a_price_rule():
    finding = only(run(sub(TEN, line(price="17"))))
    assert finding.kind is FindingKind.NEGATIVE_MARGIN
    assert finding.amount == D("10.00")  # (18 − 17) × 10 seats
    assert finding.actions == () and finding.status is StatusSuggestion.ALERT


def test_negative_margin_sets_the_price_by_markup():
    finding = only(run(sub(TEN, line(price="17")), policy=policy_of(("markup", "cost+20%"))))
    assert finding.actions[0].desired == {"unit_price": "21.60"}
    assert finding.status is StatusSuggestion.REVIEW


def test_negative_margin_with_a_cost_change_prices_once():
    facts = sub(TEN, line(price="17", cost="17"))
    result = run(facts, policy=policy_of(("markup", "cost+20%")))
    assert kinds(result) == ["cost_change", "negative_margin"]
    cost, margin = result.findings
    assert cost.actions[0].desired == {"unit_cost": "18", "unit_price": "21.60"}
    assert margin.actions == ()


def test_negative_margin_alert_can_be_turned_off():
    assert run(sub(TEN, line(price="17")),
               policy=policy_of(("negative_margin_alert", "false"))).findings == ()


# --- annual charges -----------------------------------------------------------------------


def annual(*charges, timeline=None, **changes):
    changes.setdefault("vendor_unit_cost", D(216))
    return sub(timeline or lots((5, date(2024, 3, 10))), term="P1Y", billing_frequency="Annual",
               vendor_charges=charges, **changes)


PURCHASE = VendorCharge("c1", "new", date(2024, 3, 10), date(2025, 3, 9), D(5), D(216),
                        D(1080))


def test_annual_purchase_without_a_psa_charge():
    finding = only(run(annual(PURCHASE), policy=policy_of(("markup", "cost+20%"))))
    assert finding.kind is FindingKind.ANNUAL_CHARGE_MISSING
    assert finding.key == "annual_charge_missing|pax8|S1|2024-03-10..2025-03-09"
    assert finding.amount == D("1296.00")
    [charge] = finding.actions
    assert charge.type is ActionType.ONE_TIME_CHARGE and charge.agreement_ref == "OT1"
    assert charge.desired["unit_price"] == "1296.00"


def test_annual_purchase_already_billed_by_hand():
    billed = line(1, "1296", None, "X1", agreement_kind="one_time",
                  effective_date=date(2024, 3, 12), description="M365 annual")
    result = run(annual(PURCHASE, psa_one_time_charges=(billed,)),
                 policy=policy_of(("markup", "cost+20%")))
    assert result.findings == () and result.summary.settled == 1


def test_annual_add_nets_the_nce_refund_and_recharge():
    refund = VendorCharge("c2", "addQuantity", date(2024, 3, 20), date(2025, 3, 9), D(-5),
                          D(216), D("-1050.00"))
    recharge = VendorCharge("c3", "addQuantity", date(2024, 3, 20), date(2025, 3, 9), D(7),
                            D(216), D("1470.00"))
    timeline = lots((5, date(2024, 3, 10)), (2, date(2024, 3, 20)))
    findings = run(annual(PURCHASE, refund, recharge, timeline=timeline)).findings
    assert [f.amount for f in findings] == [D("1080"), D("420.00")]  # markup fixed: ratio 1
    assert findings[1].key.endswith("2024-03-20..2025-03-09")
    assert findings[1].vendor_quantity == D(2)


def test_annual_charge_from_an_earlier_period_is_not_billed_again():
    old = VendorCharge("c0", "renew", date(2024, 1, 10), date(2025, 1, 9), D(5), D(216),
                       D(1080))
    assert run(annual(old, timeline=lots((5, date(2024, 1, 10))))).findings == ()


def test_annual_then_charged_is_gone():
    policy = policy_of(("markup", "cost+20%"))
    before = annual(PURCHASE)
    assert run(apply_actions(before, only(run(before, policy=policy))), policy=policy
               ).findings == ()


# --- usage --------------------------------------------------------------------------------


def azure(*charges, **changes):
    changes.setdefault("vendor_unit_cost", None)
    return sub(lots(), term=None, billing_frequency="Usage", vendor_charges=charges,
               sku="AZURE", product_name="Azure plan", **changes)


USAGE = (VendorCharge("u1", "Assess usage fee for current cycle", date(2024, 3, 1),
                      date(2024, 3, 31), D(1), None, D("100.00"), is_usage=True),
         VendorCharge("u2", "usage", date(2024, 3, 1), date(2024, 3, 31), D(1), None,
                      D("23.45"), is_usage=True))


def test_usage_is_charged_with_markup():
    finding = only(run(azure(*USAGE), policy=policy_of(("markup", "cost+10%"))))
    assert finding.kind is FindingKind.USAGE_CHARGE
    assert finding.amount == D("135.80")  # 123.45 × 1.1 = 135.795
    assert finding.actions[0].desired["unit_price"] == "135.80"


def test_usage_partly_billed_leaves_the_rest():
    billed = line(1, "100.00", None, "X1", agreement_kind="one_time",
                  effective_date=date(2024, 4, 1), description="Azure March")
    finding = only(run(azure(*USAGE, psa_one_time_charges=(billed,)),
                       policy=policy_of(("markup", "cost+10%"))))
    assert finding.amount == D("35.80")


def test_usage_then_charged_is_gone():
    policy = policy_of(("markup", "cost+10%"))
    before = azure(*USAGE)
    assert run(apply_actions(before, only(run(before, policy=policy))), policy=policy
               ).findings == ()


def test_usage_of_two_subscriptions_of_one_product_is_matched_per_subscription():
    """A customer with two Azure plans, one already charged by hand at its exact amount:
    that charge settles its own plan only; the other plan's usage is still to bill (before,
    the first plan visited took every Azure charge of the customer and was credited)."""
    first = VendorCharge("a1", "usage", date(2024, 3, 1), date(2024, 3, 31), D(1), None,
                         D("100.00"), is_usage=True)
    second = VendorCharge("b1", "usage", date(2024, 3, 1), date(2024, 3, 31), D(1), None,
                          D("40.00"), is_usage=True)
    charged = line(1, "40.00", None, "X2", agreement_kind="one_time",
                   effective_date=date(2024, 4, 1), description="Azure March")
    result = run(azure(first, vendor_subscription_id="A", psa_one_time_charges=(charged,)),
                 azure(second, vendor_subscription_id="B", psa_one_time_charges=(charged,)))
    finding = only(result)
    assert finding.vendor_subscription_id == "A" and finding.amount == D("100.00")
    assert [m["line_id"] for m in finding.explanation["near_misses"]] == ["X2"]
    assert result.summary.settled == 1


# --- vendor invoice mismatch --------------------------------------------------------------


def test_vendor_bills_more_seats_than_its_history():
    cycle = VendorCharge("c1", "Cycle fee", date(2024, 3, 1), date(2024, 3, 31), D(12), D(18),
                         D(216))
    result = run(sub(TEN, line(), vendor_charges=(cycle,)))
    finding = only(result)
    assert finding.kind is FindingKind.VENDOR_INVOICE_MISMATCH
    assert finding.amount == D("36.00")  # 62 seat-days × 18 / 31
    assert finding.actions == () and finding.status is StatusSuggestion.ALERT
    assert finding.explanation["billed_seat_days"] == "372"
    assert finding.explanation["timeline_seat_days"] == "310"


def test_nce_add_lines_agree_with_the_history():
    timeline = lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15)))
    charges = (
        VendorCharge("a", "Cycle fee", date(2024, 2, 15), date(2024, 3, 14), D(10), D(18),
                     D(180)),
        VendorCharge("b", "Cycle fee", date(2024, 3, 15), date(2024, 4, 14), D(10), D(18),
                     D(180)),
        VendorCharge("c", "addQuantity", date(2024, 3, 15), date(2024, 4, 14), D(-10), D(18),
                     D(-180)),
        VendorCharge("d", "addQuantity", date(2024, 3, 15), date(2024, 4, 14), D(12), D(18),
                     D(216)),
    )
    billed = line(12, quantity_steps=((date(2024, 1, 1), D(10)), (date(2024, 3, 15), D(12))))
    assert kinds(run(sub(timeline, billed, vendor_charges=charges))) == []


# --- reported bugs: one-time charges listed twice, A/A units, free usage ---------------------


def test_a_one_time_charge_listed_twice_counts_once():
    # The same PSA charge mapped to the subscription (psa_lines) and among the customer's
    # one-time charges: it bills 100.00 of March's usage once, not twice.
    billed = line(1, "100.00", None, "X1", agreement_kind="one_time",
                  effective_date=date(2024, 4, 1), description="Azure March")
    facts = azure(*USAGE, psa_lines=(billed,), psa_one_time_charges=(billed,))
    assert [c.line_id for c in facts.one_time_charges()] == ["X1"]
    finding = only(run(facts, policy=policy_of(("markup", "cost+10%"))))
    assert finding.amount == D("35.80")  # 135.80 − 100.00, not a credit of 64.20


def test_an_annual_charge_listed_twice_settles_once():
    policy = policy_of(("markup", "cost+20%"))
    proposed = only(run(annual(PURCHASE), policy=policy)).actions[0]
    pushed = line(1, proposed.desired["unit_price"], None, "X1", agreement_kind="one_time",
                  effective_date=proposed.effective_date, description=proposed.description)
    result = run(annual(PURCHASE, psa_lines=(pushed,), psa_one_time_charges=(pushed,)),
                 policy=policy)
    assert result.findings == () and result.summary.settled == 1


def test_annual_charge_under_a_fixed_price_scales_the_monthly_price_to_the_term():
    # The PSA catalogue price is per seat per month (22.00); the A/A vendor cost is per seat
    # per year (240.00). Like for like, the customer pays 22 × 12 = 264.00 a seat for the
    # year, so 5 seats bought for a year bill 5 × 22 × 12 = 1,320.00 — not 1200 × 22/240.
    purchase = VendorCharge("c1", "new", date(2024, 3, 10), date(2025, 3, 9), D(5), D(240),
                            D(1200))
    facts = annual(purchase, vendor_unit_cost=D(240), psa_product_price=D(22))
    finding = only(run(facts))  # default markup: fixed
    assert finding.kind is FindingKind.ANNUAL_CHARGE_MISSING
    assert finding.amount == D("1320.00")
    assert finding.actions[0].desired["unit_price"] == "1320.00"


def test_annual_charge_with_a_customer_price_override_scales_to_the_term():
    # A customer override is a monthly price too: 25.00 a month is 300.00 a seat-year.
    purchase = VendorCharge("c1", "new", date(2024, 3, 10), date(2025, 3, 9), D(5), D(240),
                            D(1200))
    facts = annual(purchase, vendor_unit_cost=D(240), customer_price=D(25))
    assert only(run(facts)).amount == D("1500.00")


def test_a_usage_subscription_priced_at_zero_is_not_free():
    # Azure plans carry unit cost and price 0: their money is in the usage charges.
    usage = VendorCharge("u1", "usage", date(2024, 3, 1), date(2024, 3, 31), D(1), None,
                         D("100.00"), is_usage=True)
    facts = azure(usage, vendor_unit_cost=D(0), vendor_list_price=D(0), customer_price=D(0))
    assert not facts.is_free
    result = run(facts, policy=policy_of(("markup", "cost+10%")))
    finding = only(result)
    assert finding.kind is FindingKind.USAGE_CHARGE
    assert finding.amount == D("110.00")
    assert result.summary.skipped_non_billable == 0
