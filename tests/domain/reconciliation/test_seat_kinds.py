"""Unbilled subscriptions and billed-but-cancelled lines (bundles and orphans)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from app.domain.actions import ActionType
from app.domain.reconciliation import FindingKind, MappingState, OrphanPsaLine, StatusSuggestion

from .support import ACME, D, apply_actions, kinds, line, lots, only, policy_of, run, sub

FIVE_SEATS = lots((5, date(2024, 2, 1)))


# --- unbilled subscription ----------------------------------------------------------------


def test_unbilled_subscription_at_cost_plus_markup():
    finding = only(run(sub(FIVE_SEATS), policy=policy_of(("markup", "cost+20%"))))
    assert finding.kind is FindingKind.UNBILLED_SUBSCRIPTION
    assert finding.key == "unbilled_subscription|pax8|S1"
    assert finding.amount == D("108.00")  # 5 × 21.60 (18 × 1.2) for the whole of March
    add, charge = finding.actions
    assert add.type is ActionType.ADD_LINE and add.agreement_ref == "AG1"
    assert add.line_ref is None and add.product_ref == "P1"
    assert add.desired["quantity"] == "5" and add.desired["unit_price"] == "21.60"
    assert add.desired["unit_cost"] == "18"
    assert add.desired["effective_date"] == "2024-04-01"
    assert charge.money_effect == D("108.00") and charge.agreement_ref == "OT1"
    assert finding.status is StatusSuggestion.APPROVE
    assert finding.explanation["price_source"] == "markup cost+20%: 18 × 1.2"


def test_unbilled_price_override_wins_and_mid_month_start():
    facts = sub(lots((5, date(2024, 3, 11))), customer_price=D(25))
    finding = only(run(facts, policy=policy_of(("markup", "cost+20%"))))
    assert finding.amount == D("84.68")  # 5 × 25 × 21/31
    assert finding.actions[0].desired["unit_price"] == "25"


def test_unbilled_back_dated_adds_the_line_from_the_vendor_start():
    facts = sub(lots((5, date(2024, 3, 11))), psa_product_price=D(25))
    [add] = only(run(facts, policy=policy_of(("effective", "back-dated")))).actions
    assert add.desired["effective_date"] == "2024-03-11"
    assert add.money_effect == D("84.68")


def test_unbilled_without_a_price_rule_falls_back_and_asks_for_review():
    finding = only(run(sub(FIVE_SEATS)))  # markup fixed, no catalogue price: list, then cost
    assert finding.unit_price == D(18)
    assert finding.status is StatusSuggestion.REVIEW
    assert "fell back to the vendor cost" in finding.explanation["price_source"]


def test_unbilled_then_added_is_settled():
    policy = policy_of(("markup", "cost+20%"))
    before = sub(lots((5, date(2024, 3, 11))))
    after = apply_actions(before, only(run(before, policy=policy)))
    result = run(after, policy=policy)
    assert result.findings == ()
    assert result.summary.settled == 1


def test_unbilled_without_agreement_or_product_is_a_mapping_task():
    finding = only(run(sub(FIVE_SEATS, agreement_id=None)))
    assert finding.kind is FindingKind.UNMAPPED and not finding.pushable
    assert finding.explanation["mapping_state"] == "agreement_unmapped"
    finding = only(run(sub(FIVE_SEATS, psa_product_id=None)))
    assert finding.explanation["mapping_state"] == "sku_unmapped"


def test_a_subscription_without_seats_and_without_line_is_nothing():
    assert run(sub(lots((5, date(2024, 1, 1), date(2024, 2, 10))))).findings == ()


# --- billed but cancelled -----------------------------------------------------------------

ENDED_10TH = lots((10, date(2024, 1, 1), date(2024, 3, 10)))


def cancelled(**changes):
    return sub(ENDED_10TH, line(), status="Cancelled", **changes)


def test_billed_but_cancelled_credits_the_days_after_the_vendor_end():
    finding = only(run(cancelled()))
    assert finding.kind is FindingKind.BILLED_BUT_CANCELLED
    assert finding.key == "billed_but_cancelled|pax8|S1|L1"
    assert finding.amount == D("-149.03")  # 10 × 22 × 21/31 over-billed
    cancel, credit = finding.actions
    assert cancel.type is ActionType.CANCEL_LINE
    assert cancel.desired == {"cancelled_date": "2024-03-31"}
    assert cancel.seen == {"cancelled_date": ""}
    assert credit.money_effect == D("-149.03")
    assert finding.status is StatusSuggestion.REVIEW
    assert finding.explanation["vendor_end"] == "2024-03-10"


def test_billed_but_cancelled_back_dated_cancels_at_the_vendor_end():
    [cancel] = only(run(cancelled(), policy=policy_of(("true_up", "back-date")))).actions
    assert cancel.desired == {"cancelled_date": "2024-03-10"}
    assert cancel.money_effect == D("-149.03")


def test_billed_but_cancelled_deferred_has_no_credit():
    finding = only(run(cancelled(), policy=policy_of(("decreases", "defer"))))
    [cancel] = finding.actions
    assert cancel.desired == {"cancelled_date": "2024-03-31"}


@pytest.mark.parametrize("settings", [(), (("true_up", "back-date"),), (("timing", "arrears"),)])
def test_billed_but_cancelled_nothing_after_the_fix(settings):
    policy = policy_of(*settings)
    before = cancelled()
    after = apply_actions(before, only(run(before, policy=policy)))
    assert run(after, policy=policy).findings == ()


def orphan(end=None, **changes):
    return OrphanPsaLine("pax8", "S1", ACME, "SKU-BP", "Microsoft 365 Business Premium", "USD",
                         line(**changes), vendor_end_date=end, one_time_agreement_id="OT1")


def test_orphan_line_with_a_known_vendor_end_matches_the_bundle_finding():
    from_orphan = only(run(orphans=[orphan(date(2024, 3, 10))]))
    from_bundle = only(run(cancelled()))
    assert from_orphan.key == from_bundle.key
    assert from_orphan.amount == D("-149.03")
    assert [a.desired for a in from_orphan.actions] == [a.desired for a in from_bundle.actions]


def test_orphan_line_of_a_missing_subscription_is_over_billed_for_the_whole_period():
    finding = only(run(orphans=[orphan()], policy=policy_of(("true_up", "back-date"))))
    assert finding.amount == D("-220.00")
    assert finding.actions[0].desired == {"cancelled_date": "2024-02-29"}
    assert "missing" in finding.summary


def test_orphan_already_cancelled_is_nothing():
    assert run(orphans=[orphan(date(2024, 3, 10), cancelled_date=date(2024, 3, 10))]
               ).findings == ()


def test_an_orphan_also_sent_as_a_bundle_is_one_finding():
    result = run(cancelled(), orphans=[orphan(date(2024, 3, 10))])
    assert kinds(result) == ["billed_but_cancelled"]


def test_suspended_subscription_at_zero_is_a_drift_not_a_cancellation():
    facts = replace(cancelled(), status="Suspended")
    assert kinds(run(facts)) == ["quantity_drift"]


def test_customer_unmapped_subscription_is_a_mapping_task_with_an_estimate():
    facts = sub(lots((4, date(2024, 1, 1))), mapping=MappingState.CUSTOMER_UNMAPPED,
                vendor_list_price=D(25), customer=replace(ACME, psa_id=None, psa_name=None))
    finding = only(run(facts))
    assert finding.kind is FindingKind.UNMAPPED
    assert finding.key == "unmapped|pax8|S1"
    assert finding.amount == D("100.00")  # 4 × the list price 25
    assert finding.actions == () and finding.status is StatusSuggestion.MAP
    assert "map the vendor customer Acme Ltd" in finding.summary
