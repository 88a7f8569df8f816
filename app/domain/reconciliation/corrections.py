"""How a seat difference becomes PSA changes: the forward fix and the elapsed part.

Every seat correction (drift, unbilled subscription, billed but cancelled) has two parts:

* the **forward** change, so the PSA bills the vendor's seats from now on; and
* the **elapsed** part of the period, already invoiced at the wrong quantity.

The policy picks one of three modes for them:

* `one-time` — the forward change takes effect on the 1st of the next period and the
  elapsed part is a one-time charge (or credit) of exactly the money at stake;
* `back-date` — the change is dated the day the difference began (clipped to the period
  start) and the PSA prorates it under its own convention, which is the convention the
  amount was computed with; a single back-dated quantity cannot reproduce several changes
  inside one period, so what it does not cover goes on a one-time charge (the residual);
* `forward-only` — only the forward change: `true_up=none`, or a decrease under
  `decreases=defer`; the elapsed money is waived and said so.

`effective=back-dated` and `true_up=back-date` both choose back-date. So does `timing=arrears`:
a period billed in arrears is invoiced after it ends from the quantities in effect during it,
so the next invoice *is* the period's own invoice; dating the change on the vendor change day
lets that invoice bill the drift, and no separate true-up charge is needed. The amount is the
same in both timings; only the quantity change's effective date (and the absence of a
one-time charge) differs. When a PSA one-time charge already bills part of the period, the
change is never back-dated (that would bill the elapsed part twice).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.domain.periods import ONE_DAY, BillingPeriod, BillingTiming
from app.domain.policy import BillingPolicy, DecreaseRule, EffectiveRule, TrueUpMode
from app.domain.reconciliation.context import below_tolerance
from app.domain.reconciliation.facts import PsaLineFacts
from app.domain.reconciliation.findings import breakdown_json, segments_json
from app.domain.reconciliation.matching import MatchResult
from app.domain.timeline import ChargeBreakdown, QuantityTimeline, SeatLot


class Mode(StrEnum):
    ONE_TIME = "one-time"
    BACK_DATE = "back-date"
    FORWARD_ONLY = "forward-only"


@dataclass(frozen=True)
class ModeChoice:
    mode: Mode
    reason: str
    keys: tuple[str, ...]  # the policy keys that chose it


def choose_mode(policy: BillingPolicy, amount: Decimal, *, already_billed: bool) -> ModeChoice:
    if amount < 0 and policy.decreases is DecreaseRule.DEFER:
        return ModeChoice(Mode.FORWARD_ONLY, "decreases=defer: no credit for the elapsed part; "
                          "the reduction takes effect next period", ("decreases",))
    if policy.true_up is TrueUpMode.NONE:
        return ModeChoice(Mode.FORWARD_ONLY, "true_up=none: the elapsed part is not billed; "
                          "only the forward change", ("true_up",))
    if already_billed:
        return ModeChoice(Mode.ONE_TIME, "a PSA one-time charge already bills part of the "
                          "period, so the change is not back-dated", ("true_up",))
    if policy.true_up is TrueUpMode.BACK_DATE:
        return ModeChoice(Mode.BACK_DATE, "true_up=back-date: the change is dated the day the "
                          "difference began and the PSA prorates it", ("true_up",))
    if policy.effective is EffectiveRule.BACK_DATED:
        return ModeChoice(Mode.BACK_DATE, "effective=back-dated: the change is dated the vendor "
                          "change day and the PSA prorates it", ("effective",))
    if policy.timing is BillingTiming.ARREARS:
        return ModeChoice(Mode.BACK_DATE, "timing=arrears: the period is invoiced after it ends, "
                          "so the change is dated the vendor change day and the next invoice "
                          "(the period's own) bills the drift", ("timing",))
    return ModeChoice(Mode.ONE_TIME, "effective=next-period and true_up=one-time: the change "
                      "takes effect the 1st of the next period; the elapsed part is a one-time "
                      "charge or credit", ("timing", "effective", "true_up"))


@dataclass(frozen=True)
class SeatPlan:
    """The numbers of one seat correction and what each action must bill."""

    drift: QuantityTimeline
    breakdown: ChargeBreakdown
    gross: Decimal  # the drift priced for the period
    matched: MatchResult
    net: Decimal  # gross minus what PSA one-time charges already bill
    vendor_end: Decimal  # the seats the PSA should bill from now on
    psa_next: Decimal  # the seats the PSA bills on the day after the period
    choice: ModeChoice
    change_day: date  # when a back-dated change takes effect
    back_effect: Decimal  # what the back-dated change bills for the period
    one_time: Decimal  # the one-time charge (credit < 0), 0 for none
    span: tuple[date, date] | None  # first and last day of drift in the period

    @property
    def forward_needed(self) -> bool:
        return self.vendor_end != self.psa_next

    @property
    def mode(self) -> Mode:
        return self.choice.mode

    def effective_date(self, period: BillingPeriod) -> date:
        return self.change_day if self.mode is Mode.BACK_DATE else period.following()


def plan_seats(
    period: BillingPeriod,
    policy: BillingPolicy,
    currency: str,
    *,
    vendor: QuantityTimeline,
    psa: QuantityTimeline,
    price: Decimal,
    match: Callable[[Decimal], MatchResult],
    back_from: date | None = None,
) -> SeatPlan:
    """Price the drift and split it between the forward change and the elapsed part.

    `back_from` fixes the day a back-dated change takes effect (the day after the vendor
    end for a cancellation); by default it is the first day of drift in the period. `match`
    receives the priced drift and returns the PSA one-time charges that already bill it.
    """
    drift = vendor.difference(psa)
    breakdown = drift.explain_charge(
        period, price, policy.day_count, currency, policy.rounding, policy.rounding_rule
    )
    gross = breakdown.total.amount
    matched = match(gross)
    net = gross - matched.total
    vendor_end = vendor.quantity_on(period.end)
    psa_next = psa.quantity_on(period.following())
    choice = choose_mode(policy, net, already_billed=bool(matched.matches))
    moving = [s for s in drift.segments(period) if not s.quantity.is_zero()]
    span = (moving[0].start, moving[-1].end) if moving else None
    change_day = back_from or (span[0] if span else period.start)
    change_day = min(max(change_day, period.start), period.end)
    settings = (period, price, policy.day_count, currency, policy.rounding, policy.rounding_rule)
    back_effect = Decimal(0)
    remaining = drift  # what is still to bill once the change (if back-dated) is made
    if choice.mode is Mode.BACK_DATE and vendor_end != psa_next:
        new = QuantityTimeline.from_lots([SeatLot(vendor_end, change_day, period.end)])
        effect = new.difference(psa.within(change_day, period.end))
        back_effect = effect.charge(*settings).amount
        remaining = drift.difference(effect)
    one_time = Decimal(0)
    if choice.mode is Mode.BACK_DATE:
        # Priced as the drift left after the change, so a re-run after the push finds
        # exactly this charge to settle it (no cent of rounding left over).
        one_time = net if remaining is drift else remaining.charge(*settings).amount
    elif choice.mode is Mode.ONE_TIME:
        one_time = net
    if below_tolerance(policy, one_time):
        one_time = Decimal(0)
    return SeatPlan(drift, breakdown, gross, matched, net, vendor_end, psa_next, choice,
                    change_day, back_effect, one_time, span)


# --- helpers for seat kinds ------------------------------------------------------------------


def total_timeline(lines: Iterable[PsaLineFacts]) -> QuantityTimeline:
    """The seats all the lines bill together, day by day."""
    lines = tuple(lines)
    if len(lines) == 1:
        return lines[0].timeline()
    return QuantityTimeline.from_changes(
        change for line in lines for change in line.timeline().changes())


def primary_line(lines: tuple[PsaLineFacts, ...], period: BillingPeriod) -> PsaLineFacts:
    """The line a quantity change goes to: billing after the period (else at its end), the
    most recently effective, then the highest id, so the choice is stable."""
    if len(lines) == 1:
        return lines[0]
    for day in (period.following(), period.end):
        live = [line for line in lines if not line.timeline().quantity_on(day).is_zero()]
        if live:
            return max(live, key=lambda line: (line.effective_date or date.min, line.line_id))
    return max(lines, key=lambda line: (line.effective_date or date.min, line.line_id))


def last_seat_day(timeline: QuantityTimeline) -> date | None:
    """The last day with seats, when the timeline has dropped to none; else None."""
    if not timeline.steps or not timeline.steps[-1][1].is_zero():
        return None
    return timeline.steps[-1][0] - ONE_DAY


def has_seats(timeline: QuantityTimeline, period: BillingPeriod) -> bool:
    return timeline.has_seats_within(period.start, period.end)


def plan_details(plan: SeatPlan, period: BillingPeriod, vendor: QuantityTimeline,
                 psa: QuantityTimeline) -> dict[str, Any]:
    """The explanation of a seat correction: timelines, drift, its charge, what settles it."""
    return {
        "vendor_timeline": segments_json(vendor, period),
        "psa_timeline": segments_json(psa, period),
        "drift": segments_json(plan.drift, period),
        "charge": breakdown_json(plan.breakdown),
        "gross_amount": plan.gross,
        "matched_charges": [m.as_json() for m in plan.matched.matches],
        "near_misses": [m.as_json() for m in plan.matched.near_misses],
        "vendor_quantity_at_end": plan.vendor_end,
        "psa_quantity_next_period": plan.psa_next,
        "mode": str(plan.mode),
        "mode_reason": plan.choice.reason,
        "back_dated_effect": plan.back_effect,
        "one_time_amount": plan.one_time,
    }


def plan_numbers(plan: SeatPlan, period: BillingPeriod, vendor: QuantityTimeline,
                 psa: QuantityTimeline, price: Decimal) -> dict[str, Any]:
    """What the finding's hash covers: the inputs and every figure derived from them."""
    return {
        "vendor": [list(s) for s in vendor.segments(period)],
        "psa": [list(s) for s in psa.segments(period)],
        "price": price,
        "charge": [(line.start, line.end, line.quantity, str(line.day_count),
                    line.rounded.amount) for line in plan.breakdown.lines],
        "matched": [(m.line_id, m.amount, m.by) for m in plan.matched.matches],
        "mode": str(plan.mode),
        "change_day": plan.change_day,
        "net": plan.net,
        "one_time": plan.one_time,
        "back_effect": plan.back_effect,
    }
