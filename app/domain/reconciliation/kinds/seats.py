"""Seat findings on live subscriptions: quantity drift and unbilled subscriptions.

Both price the difference between the vendor's seats and the PSA's seats per day at the
customer's unit price under the policy's day-count convention (`corrections.plan_seats`),
and both propose the forward change plus the elapsed part the policy asks for.
"""

from __future__ import annotations

from decimal import Decimal

from app.domain.actions import ActionType, PsaAction
from app.domain.iso_days import iso_day
from app.domain.money import format_decimal
from app.domain.periods import BillingPeriod
from app.domain.policy import BillingPolicy
from app.domain.reconciliation.context import (
    DraftParts,
    Run,
    below_tolerance,
    describe_action,
    make_draft,
    money_text,
    one_time_action,
)
from app.domain.reconciliation.corrections import (
    Mode,
    SeatPlan,
    has_seats,
    plan_details,
    plan_numbers,
    plan_seats,
    primary_line,
    total_timeline,
)
from app.domain.reconciliation.facts import AgreementKind, PsaLineFacts, SubscriptionFacts
from app.domain.reconciliation.findings import (
    FindingKind,
    StatusSuggestion,
    finding_key,
    finding_reference,
)
from app.domain.reconciliation.matching import match_charges
from app.domain.reconciliation.pricing import customer_price
from app.domain.timeline import QuantityTimeline

SEAT_POLICY_KEYS = ("timing", "effective", "true_up", "decreases", "day_count", "rounding",
                    "rounding_rule", "tolerance", "seat_change_alert_threshold")


def qty(value: Decimal) -> str:
    return format_decimal(value.normalize()) if not value.is_zero() else "0"


def skip_or_count(run: Run, policy: BillingPolicy, plan: SeatPlan, key: str) -> bool:
    """True when the plan needs no finding; counts why (settled, waived, rounding)."""
    if plan.forward_needed:
        return False
    if plan.mode is Mode.FORWARD_ONLY:
        if not below_tolerance(policy, plan.net):
            run.counts["waived"] += 1
            return True
    elif not plan.one_time.is_zero():
        return False
    if plan.matched.matches and below_tolerance(policy, plan.net):
        run.counts["settled"] += 1
    elif plan.breakdown.exact_total != 0 or not plan.net.is_zero():
        run.residual(key)
    return True


def seat_status(policy: BillingPolicy, billed: Decimal, vendor: Decimal, *review: bool
                ) -> StatusSuggestion:
    large = policy.seat_change_alert_threshold.exceeded(billed, vendor)
    return StatusSuggestion.REVIEW if large or any(review) else StatusSuggestion.APPROVE


def seat_summary(facts: SubscriptionFacts, plan: SeatPlan, period: BillingPeriod, what: str,
                 price: Decimal, actions: tuple[PsaAction, ...], policy: BillingPolicy) -> str:
    direction = "under-billed" if plan.net > 0 else "over-billed"
    settled = ""
    if plan.matched.matches:
        settled = (f"; PSA one-time charges already bill "
                   f"{money_text(plan.matched.total, facts.currency)}")
    todo = "; ".join(describe_action(a) for a in actions) or "nothing"
    return (
        f"{facts.customer.name}: {what}. Priced at {format_decimal(price)} per seat per period "
        f"under the {policy.day_count.title} convention, the difference for {period.label} is "
        f"{money_text(plan.gross, facts.currency)}{settled}, so the customer is {direction} by "
        f"{money_text(abs(plan.net), facts.currency)}. Proposed: {todo}. "
        f"Why: {plan.choice.reason}."
    )


def _one_time(facts: SubscriptionFacts, policy: BillingPolicy, period: BillingPeriod,
              plan: SeatPlan, fallback_agreement: str, product: str | None, reference: str,
              ) -> tuple[PsaAction, ...]:
    if plan.one_time.is_zero():
        return ()
    days = f"{iso_day(plan.span[0])}..{iso_day(plan.span[1])}" if plan.span else ""
    kind = "True-up" if plan.one_time > 0 else "Credit"
    what = f"{kind} {period.label}: {facts.product_name} {days}".rstrip()
    return (one_time_action(
        facts, policy, period, amount=plan.one_time,
        agreement=facts.one_time_agreement_id or fallback_agreement,
        on_recurring_agreement=facts.one_time_agreement_id is None,
        product_ref=product, what=what, reference=reference,
    ),)


def _matcher(run: Run, facts: SubscriptionFacts, policy: BillingPolicy, reference: str,
             lines: tuple[PsaLineFacts, ...]):
    products = (facts.psa_product_id, *(line.product_id for line in lines))

    def match(gross: Decimal):
        return match_charges(run, facts.one_time_charges(), reference=reference,
                             products=products, open_amount=gross, tolerance=policy.tolerance)

    return match


def _in_step(run: Run, facts: SubscriptionFacts, psa: QuantityTimeline, reference: str
             ) -> bool:
    """The vendor and the PSA bill the same seats every day of the period and the day after,
    and no one-time charge carries the finding's reference: the seat plan would price a
    zero drift, match nothing and need no change, so it is not computed."""
    period = run.period
    vendor = facts.vendor_timeline
    if vendor.quantity_on(period.end) != psa.quantity_on(period.following()):
        return False
    if not vendor.same_within(psa, period.start, period.end):
        return False
    tag = reference.lower()
    return not any(tag in charge.folded_description for charge in facts.one_time_charges()
                   if charge.line_id not in run.consumed)


def quantity_drift(run: Run, facts: SubscriptionFacts, policy: BillingPolicy,
                   lines: tuple[PsaLineFacts, ...]) -> None:
    """Mapped PSA lines bill a different number of seats than the vendor."""
    period = run.period
    psa = total_timeline(lines)
    reference = finding_reference(facts.vendor, facts.vendor_subscription_id, period)
    if _in_step(run, facts, psa, reference):
        return
    target = primary_line(lines, period)
    chosen = customer_price(facts, policy)
    price = target.unit_price if target.unit_price is not None else chosen.price
    price_note = "the PSA line's unit price" if target.unit_price is not None else chosen.source
    price = Decimal(0) if price is None else price
    line_ids = tuple(line.line_id for line in lines)
    key = finding_key(FindingKind.QUANTITY_DRIFT, facts.vendor, facts.vendor_subscription_id,
                      *line_ids)
    plan = plan_seats(period, policy, facts.currency, vendor=facts.vendor_timeline, psa=psa,
                      price=price, match=_matcher(run, facts, policy, reference, lines))
    if skip_or_count(run, policy, plan, key):
        return
    actions: list[PsaAction] = []
    if plan.forward_needed:
        following = period.following()
        others = plan.psa_next - target.timeline().quantity_on(following)
        desired = {"quantity": qty(max(plan.vendor_end - others, Decimal(0)))}
        seen = target.seen("quantity")
        if target.cancelled_date is not None and target.cancelled_date < following:
            desired["cancelled_date"] = ""
            seen.update(target.seen("cancelled_date"))
        actions.append(PsaAction(
            ActionType.SET_QUANTITY, facts.psa_kind, period.label, target.agreement_id,
            target.line_id, desired=desired, seen=seen,
            effective_date=plan.effective_date(period),
            product_ref=target.product_id or facts.psa_product_id,
            money_effect=plan.back_effect, currency=facts.currency,
        ))
    actions += _one_time(facts, policy, period, plan, target.agreement_id,
                         target.product_id or facts.psa_product_id, reference)
    psa_end = psa.quantity_on(period.end)
    what = (f"{facts.vendor} bills {qty(plan.vendor_end)} seats of {facts.product_name} at the "
            f"end of {period.label}; the PSA bills {qty(psa_end)} on line "
            f"{', '.join(line_ids)}")
    fixed = any(line.agreement_kind is AgreementKind.FIXED_PRICE for line in lines)
    details = plan_details(plan, period, facts.vendor_timeline, psa)
    details.update(price=price, price_source=price_note, target_line=target.line_id,
                   fixed_price_agreement=fixed)
    run.add(make_draft(period, facts, policy, DraftParts(
        kind=FindingKind.QUANTITY_DRIFT, key=key, reference=reference, amount=plan.net,
        actions=tuple(actions),
        status=seat_status(policy, psa_end, plan.vendor_end, fixed,
                           bool(plan.matched.near_misses)),
        summary=seat_summary(facts, plan, period, what, price, tuple(actions), policy),
        details=details, numbers=plan_numbers(plan, period, facts.vendor_timeline, psa, price),
        policy_keys=SEAT_POLICY_KEYS, psa_line_ids=line_ids, vendor_quantity=plan.vendor_end,
        psa_quantity=psa_end, unit_price=price, unit_cost=facts.vendor_unit_cost,
    )))


def unbilled_subscription(run: Run, facts: SubscriptionFacts, policy: BillingPolicy) -> bool:
    """An active vendor subscription of a mapped customer with no PSA line at all.

    Returns False when it cannot be proposed (no agreement or product): a mapping task.
    """
    period = run.period
    if not has_seats(facts.vendor_timeline, period) and facts.vendor_timeline.quantity_on(
            period.following()).is_zero():
        return True
    if facts.agreement_id is None or facts.psa_product_id is None:
        return False
    chosen = customer_price(facts, policy)
    price = Decimal(0) if chosen.price is None else chosen.price
    key = finding_key(FindingKind.UNBILLED_SUBSCRIPTION, facts.vendor,
                      facts.vendor_subscription_id)
    reference = finding_reference(facts.vendor, facts.vendor_subscription_id, period)
    empty = QuantityTimeline()
    plan = plan_seats(period, policy, facts.currency, vendor=facts.vendor_timeline, psa=empty,
                      price=price, match=_matcher(run, facts, policy, reference, ()))
    if skip_or_count(run, policy, plan, key):
        return True
    actions: list[PsaAction] = []
    if plan.forward_needed and plan.vendor_end > 0:
        desired = {
            "quantity": qty(plan.vendor_end),
            "unit_price": format_decimal(price),
            "effective_date": iso_day(plan.effective_date(period)),
            "description": f"{facts.product_name} [{reference}]",
        }
        if facts.vendor_unit_cost is not None:
            desired["unit_cost"] = format_decimal(facts.vendor_unit_cost)
        actions.append(PsaAction(
            ActionType.ADD_LINE, facts.psa_kind, period.label, facts.agreement_id, None,
            desired=desired, effective_date=plan.effective_date(period),
            description=desired["description"], product_ref=facts.psa_product_id,
            money_effect=plan.back_effect, currency=facts.currency,
        ))
    actions += _one_time(facts, policy, period, plan, facts.agreement_id, facts.psa_product_id,
                         reference)
    what = (f"{facts.vendor} bills {qty(plan.vendor_end)} seats of {facts.product_name} "
            f"({facts.motion}) and no PSA line bills them")
    details = plan_details(plan, period, facts.vendor_timeline, empty)
    details.update(price=price, price_source=chosen.source, agreement=facts.agreement_id)
    low_margin = facts.vendor_unit_cost is not None and price < facts.vendor_unit_cost
    run.add(make_draft(period, facts, policy, DraftParts(
        kind=FindingKind.UNBILLED_SUBSCRIPTION, key=key, reference=reference, amount=plan.net,
        actions=tuple(actions),
        status=seat_status(policy, Decimal(0), Decimal(0), chosen.fallback, low_margin,
                           bool(plan.matched.near_misses)),
        summary=seat_summary(facts, plan, period, what, price, tuple(actions), policy),
        details=details,
        numbers=plan_numbers(plan, period, facts.vendor_timeline, empty, price),
        policy_keys=(*SEAT_POLICY_KEYS, "markup"), vendor_quantity=plan.vendor_end,
        psa_quantity=Decimal(0), unit_price=price, unit_cost=facts.vendor_unit_cost,
    )))
    return True
