"""Price findings on billed lines: cost change and negative margin.

Both are priced over the vendor's seats for the period, so their money at stake is what the
price or cost difference is worth this period. Price and cost changes take effect on the 1st
of the next period: a past period is not re-priced.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.actions import ActionType, PsaAction
from app.domain.money import format_decimal
from app.domain.policy import BillingPolicy, MarkupKind
from app.domain.reconciliation.context import (
    DraftParts,
    Run,
    below_tolerance,
    describe_action,
    make_draft,
    money_text,
)
from app.domain.reconciliation.corrections import primary_line
from app.domain.reconciliation.facts import PsaLineFacts, SubscriptionFacts
from app.domain.reconciliation.findings import (
    FindingKind,
    StatusSuggestion,
    breakdown_json,
    finding_key,
    finding_reference,
    segments_json,
)
from app.domain.reconciliation.pricing import markup_price
from app.domain.timeline import ChargeBreakdown


def _over_seats(run: Run, facts: SubscriptionFacts, policy: BillingPolicy, per_seat: Decimal
                ) -> ChargeBreakdown:
    return facts.vendor_timeline.explain_charge(
        run.period, per_seat, policy.day_count, facts.currency, policy.rounding,
        policy.rounding_rule,
    )


def _rule_price(facts: SubscriptionFacts, policy: BillingPolicy) -> Decimal | None:
    """The price the markup rule asks for, unless a customer override pins the price."""
    if facts.customer_price is not None or policy.markup.kind is MarkupKind.FIXED:
        return None
    return markup_price(facts, policy).price


def _set_price(run: Run, facts: SubscriptionFacts, line: PsaLineFacts, desired: dict[str, str]
               ) -> PsaAction:
    return PsaAction(
        ActionType.SET_PRICE, facts.psa_kind, run.period.label, line.agreement_id, line.line_id,
        desired=desired, seen=line.seen(*desired), effective_date=run.period.following(),
        product_ref=line.product_id, currency=facts.currency,
    )


def cost_change(run: Run, facts: SubscriptionFacts, policy: BillingPolicy,
                lines: tuple[PsaLineFacts, ...]) -> bool:
    """The vendor's unit cost differs from the PSA line's cost. Returns True when the finding
    also sets the line's price (so a negative-margin finding need not)."""
    cost = facts.vendor_unit_cost
    line = primary_line(lines, run.period)
    if cost is None or line.unit_cost == cost:
        return False
    new_price = _rule_price(facts, policy)
    price_moves = new_price is not None and new_price != line.unit_price
    key = finding_key(FindingKind.COST_CHANGE, facts.vendor, facts.vendor_subscription_id,
                      line.line_id)
    if price_moves:
        per_seat = new_price - (line.unit_price or Decimal(0))
        meaning = "what the price set by the markup rule would add this period"
    else:
        per_seat = cost - (line.unit_cost or cost)
        meaning = "how much the margin moves this period at the PSA's price"
    breakdown = _over_seats(run, facts, policy, per_seat)
    amount = breakdown.total.amount
    if line.unit_cost is not None and not price_moves and below_tolerance(policy, amount):
        run.residual(key)
        return False
    desired = {"unit_cost": format_decimal(cost)}
    if price_moves:
        desired["unit_price"] = format_decimal(new_price)
    action = _set_price(run, facts, line, desired)
    was = "no cost" if line.unit_cost is None else format_decimal(line.unit_cost)
    summary = (
        f"{facts.customer.name}: {facts.vendor} now costs {format_decimal(cost)} per seat for "
        f"{facts.product_name}; PSA line {line.line_id} records {was}. At stake for "
        f"{run.period.label}: {money_text(amount, facts.currency)} ({meaning}). "
        f"Proposed: {describe_action(action)}."
    )
    run.add(make_draft(run.period, facts, policy, DraftParts(
        kind=FindingKind.COST_CHANGE, key=key,
        reference=finding_reference(facts.vendor, facts.vendor_subscription_id, run.period,
                                    "price"),
        amount=amount, actions=(action,),
        status=StatusSuggestion.REVIEW if price_moves else StatusSuggestion.APPROVE,
        summary=summary,
        details={"vendor_timeline": segments_json(facts.vendor_timeline, run.period),
                 "charge": breakdown_json(breakdown), "meaning": meaning,
                 "psa_unit_cost": line.unit_cost, "psa_unit_price": line.unit_price,
                 "vendor_unit_cost": cost, "new_unit_price": new_price},
        numbers={"vendor": [list(s) for s in facts.vendor_timeline.segments(run.period)],
                 "cost": cost, "psa_cost": line.unit_cost, "psa_price": line.unit_price,
                 "new_price": new_price},
        policy_keys=("markup", "day_count", "rounding", "tolerance"),
        psa_line_ids=(line.line_id,), vendor_quantity=facts.vendor_timeline.quantity_on(
            run.period.end), psa_quantity=line.timeline().quantity_on(run.period.end),
        unit_price=line.unit_price, unit_cost=cost,
    )))
    return price_moves


def negative_margin(run: Run, facts: SubscriptionFacts, policy: BillingPolicy,
                    lines: tuple[PsaLineFacts, ...], *, price_already_set: bool) -> None:
    """The customer's price is below the vendor's cost: an alert, and a price if a rule sets
    one (cost-plus or list) that is not already proposed by a cost-change finding."""
    cost = facts.vendor_unit_cost
    line = primary_line(lines, run.period)
    price = line.unit_price
    if not policy.negative_margin_alert or cost is None or price is None or price >= cost:
        return
    key = finding_key(FindingKind.NEGATIVE_MARGIN, facts.vendor, facts.vendor_subscription_id,
                      line.line_id)
    breakdown = _over_seats(run, facts, policy, cost - price)
    amount = breakdown.total.amount
    if below_tolerance(policy, amount):
        if breakdown.exact_total != 0:
            run.residual(key)
        return
    new_price = _rule_price(facts, policy)
    actions: tuple[PsaAction, ...] = ()
    if not price_already_set and new_price is not None and new_price != price:
        actions = (_set_price(run, facts, line, {"unit_price": format_decimal(new_price)}),)
    todo = describe_action(actions[0]) if actions else (
        "the cost-change finding sets the price" if price_already_set
        else f"no price rule applies (markup {policy.markup}): review the price")
    summary = (
        f"{facts.customer.name}: PSA line {line.line_id} bills {facts.product_name} at "
        f"{format_decimal(price)} per seat, below the vendor cost of {format_decimal(cost)}. "
        f"The loss for {run.period.label} is {money_text(amount, facts.currency)}. "
        f"Proposed: {todo}."
    )
    run.add(make_draft(run.period, facts, policy, DraftParts(
        kind=FindingKind.NEGATIVE_MARGIN, key=key,
        reference=finding_reference(facts.vendor, facts.vendor_subscription_id, run.period,
                                    "price"),
        amount=amount, actions=actions,
        status=StatusSuggestion.REVIEW if actions else StatusSuggestion.ALERT,
        summary=summary,
        details={"vendor_timeline": segments_json(facts.vendor_timeline, run.period),
                 "charge": breakdown_json(breakdown), "psa_unit_price": price,
                 "vendor_unit_cost": cost, "new_unit_price": new_price},
        numbers={"vendor": [list(s) for s in facts.vendor_timeline.segments(run.period)],
                 "cost": cost, "price": price, "new_price": new_price,
                 "price_already_set": price_already_set},
        policy_keys=("negative_margin_alert", "markup", "day_count", "rounding", "tolerance"),
        psa_line_ids=(line.line_id,),
        vendor_quantity=facts.vendor_timeline.quantity_on(run.period.end),
        psa_quantity=line.timeline().quantity_on(run.period.end),
        unit_price=price, unit_cost=cost,
    )))
