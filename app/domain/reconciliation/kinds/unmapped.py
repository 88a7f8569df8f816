"""Unmapped: a vendor subscription TrueUp cannot reconcile until a person maps something.

Never pushable. Its money is an estimate of what is at stake: the vendor charges of the
period for usage and upfront subscriptions, else the vendor's seats priced at the list price
(or, without one, the cost) under the policy's day-count convention.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.money import format_decimal
from app.domain.policy import BillingPolicy
from app.domain.reconciliation.context import DraftParts, Run, make_draft, money_text
from app.domain.reconciliation.corrections import has_seats
from app.domain.reconciliation.facts import ChargeCategory, MappingState, SubscriptionFacts
from app.domain.reconciliation.findings import (
    FindingKind,
    StatusSuggestion,
    breakdown_json,
    finding_key,
    finding_reference,
    segments_json,
)

TASKS = {
    MappingState.CUSTOMER_UNMAPPED: "map the vendor customer {customer} to a PSA company",
    MappingState.SUBSCRIPTION_UNMAPPED: "confirm which PSA line bills this subscription",
    MappingState.SKU_UNMAPPED: "map the vendor SKU {sku} to a PSA product",
    MappingState.AGREEMENT_UNMAPPED: "choose the PSA agreement that bills the {motion} motion",
}


def unmapped(run: Run, facts: SubscriptionFacts, policy: BillingPolicy,
             state: MappingState) -> None:
    period = run.period
    in_period = [c for c in facts.vendor_charges
                 if period.clip(c.start, c.end) is not None
                 and (c.category is ChargeCategory.USAGE or period.contains(c.start))]
    if not has_seats(facts.vendor_timeline, period) and not in_period:
        return
    details: dict = {"mapping_state": str(state),
                     "vendor_timeline": segments_json(facts.vendor_timeline, period)}
    if facts.is_usage or facts.is_upfront:
        amount = sum((c.amount for c in in_period), Decimal(0))
        basis = "the vendor's charges in the period"
        details["vendor_charges"] = [c.charge_id for c in in_period]
    else:
        price = facts.vendor_list_price if facts.vendor_list_price is not None \
            else facts.vendor_unit_cost
        basis = ("the vendor list price" if facts.vendor_list_price is not None
                 else "the vendor cost" if price is not None else "no known price")
        amount = Decimal(0)
        if price is not None:
            breakdown = facts.vendor_timeline.explain_charge(
                period, price, policy.day_count, facts.currency, policy.rounding,
                policy.rounding_rule)
            amount = breakdown.total.amount
            details["charge"] = breakdown_json(breakdown)
    task = TASKS[state].format(customer=facts.customer.vendor_name, sku=facts.sku,
                               motion=facts.motion)
    summary = (f"{facts.customer.name}: {facts.vendor} subscription "
               f"{facts.vendor_subscription_id} ({facts.product_name}, {facts.sku}) cannot be "
               f"reconciled: {task}. About {money_text(amount, facts.currency)} is at stake "
               f"for {period.label} ({basis}).")
    details["basis"] = basis
    run.add(make_draft(period, facts, policy, DraftParts(
        kind=FindingKind.UNMAPPED,
        key=finding_key(FindingKind.UNMAPPED, facts.vendor, facts.vendor_subscription_id),
        reference=finding_reference(facts.vendor, facts.vendor_subscription_id, period, "map"),
        amount=amount, actions=(), status=StatusSuggestion.MAP, summary=summary,
        details=details,
        numbers={"state": str(state), "amount_basis": basis,
                 "vendor": [list(s) for s in facts.vendor_timeline.segments(period)],
                 "charges": [(c.charge_id, format_decimal(c.amount)) for c in in_period]},
        policy_keys=("day_count", "rounding"),
        vendor_quantity=facts.vendor_timeline.quantity_on(period.end),
        unit_cost=facts.vendor_unit_cost,
    )))
