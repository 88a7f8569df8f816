"""Billed but cancelled: PSA lines still billing a vendor subscription that ended or is gone.

The vendor's seats are its timeline up to its last day (for a missing subscription: the PSA's
own seats up to the last day the vendor is known to have billed, or nothing in the period).
The over-billing is the drift (negative); the lines are cancelled — at the period end with a
credit for the days after the vendor end (one-time mode), or at the vendor end date so the
PSA prorates the credit (back-date mode), or at the period end without credit (forward-only).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from app.domain.actions import ActionType, PsaAction
from app.domain.periods import ONE_DAY
from app.domain.policy import BillingPolicy
from app.domain.reconciliation.context import DraftParts, Run, make_draft, one_time_action
from app.domain.reconciliation.corrections import (
    SeatPlan,
    last_seat_day,
    plan_details,
    plan_numbers,
    plan_seats,
    primary_line,
    total_timeline,
)
from app.domain.reconciliation.facts import OrphanPsaLine, PsaLineFacts, SubscriptionFacts
from app.domain.reconciliation.findings import (
    FindingKind,
    StatusSuggestion,
    finding_key,
    finding_reference,
)
from app.domain.reconciliation.kinds.seats import SEAT_POLICY_KEYS, seat_summary, skip_or_count
from app.domain.reconciliation.matching import match_charges
from app.domain.timeline import QuantityTimeline


@dataclass(frozen=True)
class Ending:
    """What both inputs (a bundle with an ended status, an orphan line) reduce to."""

    subject: SubscriptionFacts | OrphanPsaLine
    lines: tuple[PsaLineFacts, ...]
    vendor: QuantityTimeline
    vendor_end: date  # the last day the vendor billed seats
    status: str
    one_time_charges: tuple[PsaLineFacts, ...]
    one_time_agreement: str | None
    products: tuple[str | None, ...]


def cancelled_subscription(run: Run, facts: SubscriptionFacts, policy: BillingPolicy,
                           lines: tuple[PsaLineFacts, ...]) -> None:
    end = last_seat_day(facts.vendor_timeline) or facts.end_date or \
        run.period.start - ONE_DAY
    billed_cancelled(run, policy, Ending(
        facts, lines, facts.vendor_timeline, end, facts.status, facts.one_time_charges(),
        facts.one_time_agreement_id, (facts.psa_product_id, *(li.product_id for li in lines)),
    ))


def orphan_line(run: Run, orphan: OrphanPsaLine, policy: BillingPolicy) -> None:
    line = orphan.line
    end = orphan.vendor_end_date or run.period.start - ONE_DAY
    psa = line.timeline()
    vendor = psa.within(date.min, end) if end >= date.min else QuantityTimeline()
    charges = tuple(c for c in orphan.psa_one_time_charges if c.line_id != line.line_id)
    billed_cancelled(run, policy, Ending(
        orphan, (line,), vendor, end, orphan.vendor_status, charges,
        orphan.one_time_agreement_id, (line.product_id,),
    ))


def billed_cancelled(run: Run, policy: BillingPolicy, ending: Ending) -> None:
    period, subject = run.period, ending.subject
    psa = total_timeline(ending.lines)
    target = primary_line(ending.lines, period)
    price = target.unit_price or Decimal(0)
    line_ids = tuple(line.line_id for line in ending.lines)
    key = finding_key(FindingKind.BILLED_BUT_CANCELLED, subject.vendor,
                      subject.vendor_subscription_id, *line_ids)
    reference = finding_reference(subject.vendor, subject.vendor_subscription_id, period)

    def match(gross: Decimal):
        return match_charges(run, ending.one_time_charges, reference=reference,
                             products=ending.products, open_amount=gross,
                             tolerance=policy.tolerance)

    plan = plan_seats(period, policy, subject.currency, vendor=ending.vendor, psa=psa,
                      price=price, match=match, back_from=ending.vendor_end + ONE_DAY)
    if skip_or_count(run, policy, plan, key):
        return
    actions = _cancellations(subject, ending.lines, plan, run, policy)
    if not plan.one_time.is_zero():
        days = f"{plan.span[0].isoformat()}..{plan.span[1].isoformat()}" if plan.span else ""
        actions.append(one_time_action(
            subject, policy, period, amount=plan.one_time,
            agreement=ending.one_time_agreement or target.agreement_id,
            on_recurring_agreement=ending.one_time_agreement is None,
            product_ref=target.product_id,
            what=f"Credit {period.label}: {subject.product_name} {days} (vendor ended "
                 f"{ending.vendor_end.isoformat()})",
            reference=reference,
        ))
    psa_end = psa.quantity_on(period.end)
    what = (f"the {subject.vendor} subscription {subject.vendor_subscription_id} "
            f"({subject.product_name}) is {ending.status.lower()}, last billed "
            f"{ending.vendor_end.isoformat()}, but PSA line {', '.join(line_ids)} still bills "
            f"{psa_end.normalize()} seats")
    details = plan_details(plan, period, ending.vendor, psa)
    details.update(price=price, price_source="the PSA line's unit price",
                   vendor_status=ending.status, vendor_end=ending.vendor_end)
    run.add(make_draft(period, subject, policy, DraftParts(
        kind=FindingKind.BILLED_BUT_CANCELLED, key=key, reference=reference, amount=plan.net,
        actions=tuple(actions), status=StatusSuggestion.REVIEW,
        summary=seat_summary(subject, plan, period, what, price, tuple(actions), policy),
        details=details, numbers=plan_numbers(plan, period, ending.vendor, psa, price),
        policy_keys=SEAT_POLICY_KEYS, psa_line_ids=line_ids, vendor_quantity=Decimal(0),
        psa_quantity=psa_end, unit_price=price, unit_cost=getattr(
            subject, "vendor_unit_cost", None),
    )))


def _cancellations(subject: SubscriptionFacts | OrphanPsaLine, lines: tuple[PsaLineFacts, ...],
                   plan: SeatPlan, run: Run, policy: BillingPolicy) -> list[PsaAction]:
    """Cancel every line still billing after the last day it should bill."""
    if not plan.forward_needed:
        return []
    period = run.period
    last_day = plan.effective_date(period) - ONE_DAY
    actions = []
    effect = plan.back_effect
    for line in lines:
        if line.timeline().quantity_on(last_day + ONE_DAY).is_zero() and \
                line.timeline().quantity_on(period.following()).is_zero():
            continue
        actions.append(PsaAction(
            ActionType.CANCEL_LINE, subject.psa_kind, period.label, line.agreement_id,
            line.line_id, desired={"cancelled_date": last_day.isoformat()},
            seen=line.seen("cancelled_date"), effective_date=last_day,
            product_ref=line.product_id, money_effect=effect, currency=subject.currency,
        ))
        effect = Decimal(0)  # the back-dated credit is counted once, on the first line
    return actions
