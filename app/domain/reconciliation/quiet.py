"""The commonest bundle, recognised as in step in a few comparisons.

Most subscriptions of a month-end book need nothing: one seat charge line covers the
period, one recurring PSA line has billed the same seats since before it at the cost the
vendor charges, and nothing is ended, trial, free, excluded or tagged by an earlier
true-up. For such a bundle every check of the engine ends without a finding and without a
count: quantity drift finds the timelines in step, cost change the same cost, negative
margin a price at or above cost, and the vendor invoice check the one line that is the
timeline itself.

`PlainSeats` is that bundle in plain values, taken from built facts (`plain_seats`) or
straight from the workspace's rows (app.services.reconcile_book); `in_step` is the one rule
the engine and the fact builder both use to settle it without the checks. A property test
holds it to the checks: whenever it says in step, the checks find nothing.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import NamedTuple

from app.domain.periods import ONE_DAY, BillingPeriod
from app.domain.policy import BillingPolicy
from app.domain.reconciliation.facts import (
    ENDED_STATUSES,
    AgreementKind,
    ChargeCategory,
    CustomerRef,
    MappingState,
    PsaLineFacts,
    SubscriptionFacts,
    charge_category,
)
from app.domain.reconciliation.findings import REFERENCE_PREFIX, finding_reference
from app.domain.seat_history import states_seats

# Charge types, spelled as stored, that `in_step` takes as the one seat charge line of a
# bundle: they state seats and are not usage (Partner Center's cycle, purchase and renewal
# types; a Pax8 invoice item's "subscription"). A rule applied before the facts are built
# (app.services.quiet_subscriptions) names them; any other type is left to the checks.
PLAIN_SEAT_CHARGE_TYPES: tuple[str, ...] = (
    "cycleCharge", "cycleFee", "new", "renew", "renewFee", "activationFee", "subscription")


# The policy keys `in_step` reads: a rule on any other key cannot change what it says.
IN_STEP_POLICY_KEYS = frozenset({"internal", "exclude", "negative_margin_alert"})


class PlainSeats(NamedTuple):
    """A mapped subscription with one seat charge line, one PSA line and nothing else.

    It has what a policy is resolved from (vendor, customer, products, PSA kind), so the
    engine's `policy_for` takes it as it takes facts.
    """

    vendor: str
    vendor_subscription_id: str
    customer: CustomerRef
    sku: str
    psa_product_id: str | None
    psa_kind: str
    status: str
    term: str | None
    frequency: str | None
    end_date: date | None
    unit_cost: Decimal | None
    charge_type: str  # the one seat charge line
    charge_start: date
    charge_end: date
    charge_quantity: Decimal
    line_kind: AgreementKind  # the one PSA line
    line_quantity: Decimal
    line_cost: Decimal | None
    line_price: Decimal | None
    line_effective: date | None
    line_cancelled: date | None
    line_steps: bool

    def policy_products(self) -> tuple[str, ...]:
        return tuple(ref for ref in (self.sku, self.psa_product_id) if ref)


def in_step(period: BillingPeriod, plain: PlainSeats, policy: BillingPolicy,
            charges: tuple[PsaLineFacts, ...]) -> bool:
    """True when the engine's checks would find nothing and count nothing for the bundle;
    False when they must run (which says nothing about what they find). `charges` are the
    one-time PSA charges the bundle's true-ups would be matched against."""
    if plain.customer.internal or policy.internal or policy.exclude:
        return False  # skipped as non-billable, and counted
    status, term = plain.status.strip().lower(), (plain.term or "").lower()
    if status in ENDED_STATUSES or "trial" in status or "trial" in term:
        return False
    if (plain.frequency or "").strip().lower() != "monthly":
        return False  # usage and upfront subscriptions are checked otherwise
    if plain.end_date is not None and plain.end_date <= period.end:
        return False
    cost = plain.unit_cost
    if cost is not None and cost.is_zero():
        return False  # perhaps free, which policy may skip
    kind = plain.charge_type
    if not states_seats(kind) or charge_category(kind) is ChargeCategory.USAGE:
        return False
    quantity = plain.charge_quantity
    if not (plain.charge_start <= period.start and period.end <= plain.charge_end < date.max):
        return False
    if quantity <= 0 or plain.line_quantity != quantity:
        return False
    if plain.line_kind is AgreementKind.ONE_TIME or plain.line_steps or \
            plain.line_cancelled is not None:
        return False
    if plain.line_effective is not None and plain.line_effective > period.start:
        return False
    if cost is not None and plain.line_cost != cost:
        return False
    if policy.negative_margin_alert and cost is not None and plain.line_price is not None \
            and plain.line_price < cost:
        return False
    # A true-up already charged for the subscription: let the checks see it. Most charges
    # carry no finding reference at all, which spares hashing this one's.
    marked = [c for c in charges if _MARK in c.folded_description]
    if marked:
        tag = finding_reference(plain.vendor, plain.vendor_subscription_id, period).lower()
        if any(tag in charge.folded_description for charge in marked):
            return False
    return True


_MARK = REFERENCE_PREFIX.lower()


def plain_seats(facts: SubscriptionFacts) -> PlainSeats | None:
    """The bundle as PlainSeats when it is one (else None): mapped, one PSA line, one vendor
    charge (not usage), and a vendor timeline that is that charge's own span."""
    if facts.mapping is not MappingState.MAPPED or len(facts.psa_lines) != 1 or \
            len(facts.vendor_charges) != 1:
        return None
    [charge], [line] = facts.vendor_charges, facts.psa_lines
    if charge.is_usage or charge.end >= date.max or facts.vendor_timeline.steps != (
            (charge.start, charge.quantity), (charge.end + ONE_DAY, 0)):
        return None
    return PlainSeats(
        facts.vendor, facts.vendor_subscription_id, facts.customer, facts.sku,
        facts.psa_product_id, facts.psa_kind, facts.status, facts.term,
        facts.billing_frequency, facts.end_date, facts.vendor_unit_cost, charge.charge_type,
        charge.start, charge.end, charge.quantity, line.agreement_kind, line.quantity,
        line.unit_cost, line.unit_price, line.effective_date, line.cancelled_date,
        bool(line.quantity_steps))
