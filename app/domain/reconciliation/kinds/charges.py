"""Findings from the vendor's charge lines: annual charges, usage, and invoice mismatches.

Annual-upfront subscriptions (A/A, 3Y/3Y) are billed to the customer as one-time charges, so
what matters is whether each upfront vendor charge of the period — a purchase, renewal or
seat add, netted per charge span so an NCE addQuantity's refund-and-recharge counts as the
add it is — has a matching PSA one-time charge. Usage is billed the same way, marked up.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from app.domain.iso_days import iso_day
from app.domain.money import format_decimal
from app.domain.periods import BillingPeriod
from app.domain.policy import BillingPolicy, DecreaseRule
from app.domain.reconciliation.context import (
    DraftParts,
    Run,
    below_tolerance,
    describe_action,
    make_draft,
    money_text,
    one_time_action,
    round_for,
)
from app.domain.reconciliation.facts import ChargeCategory, SubscriptionFacts, VendorCharge
from app.domain.reconciliation.findings import (
    FindingKind,
    StatusSuggestion,
    finding_key,
    finding_reference,
    segments_json,
)
from app.domain.reconciliation.matching import MatchResult, match_charges
from app.domain.reconciliation.pricing import charge_factor

CHARGE_POLICY_KEYS = ("markup", "decreases", "timing", "tolerance", "rounding_rule")


def _charge_json(charge: VendorCharge) -> dict[str, str | None]:
    return {
        "charge_id": charge.charge_id, "charge_type": charge.charge_type,
        "category": str(charge.category), "start": iso_day(charge.start),
        "end": iso_day(charge.end), "quantity": format_decimal(charge.quantity),
        "unit_price": None if charge.unit_price is None else format_decimal(charge.unit_price),
        "amount": format_decimal(charge.amount), "invoice": charge.invoice_ref,
    }


def _settled(run: Run, policy: BillingPolicy, key: str, expected: Decimal,
             matched: MatchResult) -> bool:
    """True when what PSA charges already bill leaves nothing to find (counted as settled,
    waived or a residual): most usage is billed, and its explanation is then never written."""
    open_amount = expected - matched.total
    if below_tolerance(policy, open_amount):
        if matched.matches:
            run.counts["settled"] += 1
        elif not open_amount.is_zero():
            run.residual(key)
        return True
    if open_amount < 0 and policy.decreases is DecreaseRule.DEFER:
        run.counts["waived"] += 1
        return True
    return False


def _bill_open_amount(run: Run, facts: SubscriptionFacts, policy: BillingPolicy, *,
                      kind: FindingKind, key: str, reference: str, expected: Decimal,
                      matched: MatchResult, what: str, why: str, details: dict,
                      numbers: dict, quantity: Decimal | None) -> None:
    """Turn "expected customer amount minus what PSA charges already bill" into a finding
    (`_settled` said it needs one)."""
    open_amount = expected - matched.total
    agreement = facts.one_time_agreement_id or facts.agreement_id
    actions = ()
    if agreement is not None and facts.psa_product_id is not None:
        actions = (one_time_action(
            facts, policy, run.period, amount=open_amount, agreement=agreement,
            on_recurring_agreement=facts.one_time_agreement_id is None,
            product_ref=facts.psa_product_id, what=what, reference=reference,
        ),)
    todo = describe_action(actions[0]) if actions else \
        "map a one-time agreement and the PSA product first"
    already = ""
    if matched.matches:
        already = f"; PSA one-time charges already bill {money_text(matched.total, facts.currency)}"
    summary = (f"{facts.customer.name}: {why}. The customer owes "
               f"{money_text(expected, facts.currency)}{already}. Proposed: {todo}.")
    status = StatusSuggestion.APPROVE if actions else StatusSuggestion.MAP
    if actions and matched.near_misses:
        status = StatusSuggestion.REVIEW
    run.add(make_draft(run.period, facts, policy, DraftParts(
        kind=kind, key=key, reference=reference, amount=open_amount, actions=actions,
        status=status, summary=summary,
        details={**details, "expected_amount": expected,
                 "matched_charges": [m.as_json() for m in matched.matches],
                 "near_misses": [m.as_json() for m in matched.near_misses]},
        numbers={**numbers, "expected": expected,
                 "matched": [(m.line_id, m.amount, m.by) for m in matched.matches]},
        policy_keys=CHARGE_POLICY_KEYS, vendor_quantity=quantity,
        unit_cost=facts.vendor_unit_cost,
    )))


def annual_charges(run: Run, facts: SubscriptionFacts, policy: BillingPolicy) -> None:
    """Upfront vendor charges starting in the period, each needing a PSA one-time charge."""
    groups: dict[tuple[date, date], list[VendorCharge]] = {}
    for charge in facts.vendor_charges:
        if charge.category is not ChargeCategory.USAGE and run.period.contains(charge.start):
            groups.setdefault((charge.start, charge.end), []).append(charge)
    for (start, end), charges in sorted(groups.items()):
        vendor_amount = sum((c.amount for c in charges), Decimal(0))
        if vendor_amount.is_zero():
            continue
        quantity = sum((c.quantity for c in charges), Decimal(0))
        unit = next((c.unit_price for c in charges if c.unit_price), None)
        factor, source = charge_factor(facts, policy, unit)
        expected = round_for(policy, facts.currency, Fraction(vendor_amount) * factor)
        span = f"{iso_day(start)}..{iso_day(end)}"
        key = finding_key(FindingKind.ANNUAL_CHARGE_MISSING, facts.vendor,
                          facts.vendor_subscription_id, span)
        reference = finding_reference(facts.vendor, facts.vendor_subscription_id, run.period,
                                      f"annual:{span}")
        matched = match_charges(run, facts.one_time_charges(), reference=reference,
                                products=(facts.psa_product_id,), open_amount=expected,
                                tolerance=policy.tolerance)
        if _settled(run, policy, key, expected, matched):
            continue
        types = ", ".join(sorted({c.charge_type for c in charges}))
        _bill_open_amount(
            run, facts, policy, kind=FindingKind.ANNUAL_CHARGE_MISSING, key=key,
            reference=reference, expected=expected, matched=matched,
            what=f"{facts.product_name} {facts.motion} {span} ({types})",
            why=(f"{facts.vendor} billed {money_text(vendor_amount, facts.currency)} upfront "
                 f"for {facts.product_name} ({types}, {format_decimal(quantity)} seats, {span})"
                 f"; at {source} that is {money_text(expected, facts.currency)} to bill"),
            details={"vendor_charges": [_charge_json(c) for c in charges],
                     "vendor_amount": vendor_amount, "factor_source": source,
                     "factor": format_decimal(round_for(policy, facts.currency, factor))},
            numbers={"charges": [(c.charge_id, c.quantity, c.amount) for c in charges],
                     "factor": str(factor)},
            quantity=quantity,
        )


def usage_charges(run: Run, facts: SubscriptionFacts, policy: BillingPolicy) -> None:
    """Usage the vendor billed for the period, marked up, less usage already charged."""
    usage = [c for c in facts.vendor_charges if c.category is ChargeCategory.USAGE]
    if not usage:
        return
    vendor_amount = sum((c.amount for c in usage), Decimal(0))
    factor, source = charge_factor(facts, policy, None)
    expected = round_for(policy, facts.currency, Fraction(vendor_amount) * factor)
    key = finding_key(FindingKind.USAGE_CHARGE, facts.vendor, facts.vendor_subscription_id)
    reference = finding_reference(facts.vendor, facts.vendor_subscription_id, run.period,
                                  "usage")
    # Same-product charges in the window all count as this usage billed, unless another
    # subscription of the customer bills usage of the same product: then only a charge
    # carrying the reference or of the very amount is this subscription's.
    shared = (facts.customer.psa_id or facts.customer.vendor_id,
              facts.psa_product_id) in run.shared_usage
    matched = match_charges(run, facts.one_time_charges(), reference=reference,
                            products=(facts.psa_product_id,),
                            open_amount=expected if shared else None,
                            tolerance=policy.tolerance, whole_window=not shared)
    if _settled(run, policy, key, expected, matched):
        return
    _bill_open_amount(
        run, facts, policy, kind=FindingKind.USAGE_CHARGE, key=key, reference=reference,
        expected=expected, matched=matched,
        what=f"{facts.product_name} usage {run.period.label}",
        why=(f"{facts.vendor} billed {money_text(vendor_amount, facts.currency)} of usage for "
             f"{facts.product_name} in {run.period.label}; at {source} that is "
             f"{money_text(expected, facts.currency)}"),
        details={"vendor_charges": [_charge_json(c) for c in usage],
                 "vendor_amount": vendor_amount, "factor_source": source},
        numbers={"charges": [(c.charge_id, c.amount) for c in usage], "factor": str(factor)},
        quantity=None,
    )


def _covered(charges: list[VendorCharge], period: BillingPeriod) -> list[tuple[date, date]]:
    """The days of the period the charge lines cover, as merged runs (first, last day)."""
    first, last = period.start, period.end
    spans = sorted((max(c.start, first), min(c.end, last)) for c in charges
                   if c.start <= last and c.end >= first)
    merged: list[tuple[date, date]] = []
    for start, end in spans:
        if merged and start.toordinal() <= merged[-1][1].toordinal() + 1:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def invoice_mismatch(run: Run, facts: SubscriptionFacts, policy: BillingPolicy) -> None:
    """The vendor's seat charges disagree with its own seat history over the days they cover:
    signed quantity × days billed ≠ the timeline's seat-days. An alert; nothing to push."""
    period = run.period
    charges = [c for c in facts.vendor_charges if c.category is not ChargeCategory.USAGE]
    covered = _covered(charges, period)
    if not covered:
        return
    billed = Decimal(0)
    first, last = period.start, period.end
    for charge in charges:
        if charge.start <= last and charge.end >= first:
            days = (min(charge.end, last) - max(charge.start, first)).days + 1
            billed += charge.quantity * days
    timeline = facts.vendor_timeline
    expected = sum((timeline.seat_days(start, end) for start, end in covered), Decimal(0))
    difference = billed - expected
    if difference.is_zero():
        return
    key = finding_key(FindingKind.VENDOR_INVOICE_MISMATCH, facts.vendor,
                      facts.vendor_subscription_id)
    cost = facts.vendor_unit_cost
    amount = Decimal(0)
    if cost is not None:
        amount = round_for(policy, facts.currency,
                           Fraction(difference) * Fraction(cost) / period.days)
        if below_tolerance(policy, amount):
            run.residual(key)
            return
    summary = (
        f"{facts.customer.name}: {facts.vendor}'s charge lines for {facts.product_name} bill "
        f"{format_decimal(billed)} seat-days in {period.label} where its seat history has "
        f"{format_decimal(expected)} over the same days ({format_decimal(difference)} "
        f"seat-days, about {money_text(amount, facts.currency)} at cost). Check the vendor "
        f"invoice or the missing data; nothing is pushed to the PSA."
    )
    run.add(make_draft(period, facts, policy, DraftParts(
        kind=FindingKind.VENDOR_INVOICE_MISMATCH, key=key,
        reference=finding_reference(facts.vendor, facts.vendor_subscription_id, period,
                                    "vendor"),
        amount=amount, actions=(), status=StatusSuggestion.ALERT, summary=summary,
        details={"vendor_charges": [_charge_json(c) for c in charges],
                 "covered": [{"start": start, "end": end, "days": (end - start).days + 1}
                             for start, end in covered],
                 "billed_seat_days": billed, "timeline_seat_days": expected,
                 "vendor_timeline": segments_json(facts.vendor_timeline, period),
                 "amount_meaning": "seat-day difference × unit cost ÷ days in period "
                                   "(positive: the vendor billed more than its history)"},
        numbers={"charges": [(c.charge_id, c.start, c.end, c.quantity) for c in charges],
                 "vendor": [list(s) for s in facts.vendor_timeline.segments(period)],
                 "billed": billed, "expected": expected},
        policy_keys=("tolerance",), vendor_quantity=facts.vendor_timeline.quantity_on(
            period.end), unit_cost=cost,
    )))
