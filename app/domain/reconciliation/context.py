"""What every finding kind shares: the run's bookkeeping, rounding, and building drafts.

`Run` is the engine's accumulator for one reconciliation: the drafts so far (one per key),
the PSA one-time charges already matched (a charge settles one difference only), and the
counts of what did not become a finding. It is local to one `reconcile` call.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from app.domain.actions import ActionType, PsaAction
from app.domain.iso_days import iso_day
from app.domain.money import format_decimal, round_amount
from app.domain.periods import BillingPeriod, BillingTiming
from app.domain.policy import BillingPolicy
from app.domain.reconciliation.facts import CustomerRef
from app.domain.reconciliation.findings import (
    FindingDraft,
    FindingKind,
    ReconcileSummary,
    StatusSuggestion,
    explanation_json,
    inputs_hash,
    period_json,
)


class Subject(Protocol):
    """A subscription bundle or an orphan PSA line: what a finding is about."""

    vendor: str
    vendor_subscription_id: str
    customer: CustomerRef
    sku: str
    product_name: str
    currency: str
    psa_kind: str


@dataclass
class Run:
    period: BillingPeriod
    drafts: dict[str, FindingDraft] = field(default_factory=dict)
    consumed: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    residual_keys: list[str] = field(default_factory=list)
    # (customer, PSA product) pairs with usage on several subscriptions (see matching)
    shared_usage: frozenset[tuple[str, str]] = frozenset()

    def add(self, draft: FindingDraft) -> None:
        """Keep the first draft for a key (an orphan line also sent as a bundle, say)."""
        self.drafts.setdefault(draft.key, draft)

    def skip(self, subscription: str, reason: str) -> None:
        self.counts["skipped_non_billable"] += 1
        self.skipped.append((subscription, reason))

    def residual(self, key: str) -> None:
        self.counts["rounding_residuals"] += 1
        self.residual_keys.append(key)

    def summary(self, findings: int) -> ReconcileSummary:
        return ReconcileSummary(
            subscriptions=self.counts["subscriptions"],
            orphans=self.counts["orphans"],
            findings=findings,
            rounding_residuals=self.counts["rounding_residuals"],
            skipped_non_billable=self.counts["skipped_non_billable"],
            settled=self.counts["settled"],
            waived=self.counts["waived"],
            skipped=tuple(sorted(self.skipped)),
            residual_keys=tuple(sorted(self.residual_keys)),
        )


# --- money ------------------------------------------------------------------------------------


def round_for(policy: BillingPolicy, currency: str, value: Fraction | Decimal) -> Decimal:
    """The one rounding step for amounts that are not timeline charges (ratios, markups)."""
    rule = policy.rounding_rule
    return round_amount(value, rule.places_for(currency), rule.mode)


def below_tolerance(policy: BillingPolicy, amount: Decimal) -> bool:
    return abs(amount) < policy.tolerance


def money_text(amount: Decimal, currency: str) -> str:
    return f"{format_decimal(amount)} {currency}"


def charge_date(period: BillingPeriod, timing: BillingTiming) -> date:
    """The date a one-time charge for the period carries so the right invoice bills it.

    In advance the period was invoiced on its first day, so the charge goes on the next
    invoice (the day after the period). In arrears the period's own invoice, run after it
    ends, bills items dated inside it: the period's last day.
    """
    return period.following() if timing is BillingTiming.ADVANCE else period.end


# --- actions ----------------------------------------------------------------------------------


def one_time_action(
    subject: Subject,
    policy: BillingPolicy,
    period: BillingPeriod,
    *,
    amount: Decimal,
    agreement: str,
    on_recurring_agreement: bool,
    product_ref: str | None,
    what: str,
    reference: str,
) -> PsaAction:
    """A one-time charge (or credit, negative) of exactly `amount`, tagged with `reference`.

    One unit at the absolute amount, so the charge bills exactly the rounded figure; a credit
    is one negative unit. On a recurring agreement (no one-time agreement mapped) the line
    is cancelled the day it starts, so the PSA bills it once.
    """
    day = charge_date(period, policy.timing)
    desired = {
        "quantity": "-1" if amount < 0 else "1",
        "unit_price": format_decimal(abs(amount)),
        "effective_date": iso_day(day),
        "description": f"{what} [{reference}]",
    }
    if on_recurring_agreement:
        desired["cancelled_date"] = iso_day(day)
    return PsaAction(
        ActionType.ONE_TIME_CHARGE,
        subject.psa_kind,
        period.label,
        agreement,
        None,
        desired=desired,
        effective_date=day,
        description=desired["description"],
        product_ref=product_ref,
        money_effect=amount,
        currency=subject.currency,
    )


def describe_action(action: PsaAction) -> str:
    desired = action.desired
    when = f" effective {iso_day(action.effective_date)}" if action.effective_date else ""
    if action.type is ActionType.SET_QUANTITY:
        return f"set the quantity of PSA line {action.line_ref} to {desired['quantity']}{when}"
    if action.type is ActionType.CANCEL_LINE:
        return f"cancel PSA line {action.line_ref} (last day billed {desired['cancelled_date']})"
    if action.type is ActionType.ADD_LINE:
        return (f"add a line to agreement {action.agreement_ref}: {desired['quantity']} × "
                f"{desired['unit_price']} {action.currency}{when}")
    if action.type is ActionType.SET_PRICE:
        parts = [f"{name.replace('_', ' ')} {value}" for name, value in sorted(desired.items())]
        return f"set {', '.join(parts)} on PSA line {action.line_ref}{when}"
    kind = "credit" if action.money_effect < 0 else "charge"
    return (f"one-time {kind} of {money_text(abs(action.money_effect), action.currency)} on "
            f"agreement {action.agreement_ref} dated {desired['effective_date']}")


# --- drafts -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DraftParts:
    """What a kind decided; `make_draft` adds the common explanation and the hash."""

    kind: FindingKind
    key: str
    reference: str
    amount: Decimal
    actions: tuple[PsaAction, ...]
    status: StatusSuggestion
    summary: str
    details: dict[str, Any]
    numbers: dict[str, Any]
    policy_keys: tuple[str, ...]
    psa_line_ids: tuple[str, ...] = ()
    vendor_quantity: Decimal | None = None
    psa_quantity: Decimal | None = None
    unit_price: Decimal | None = None
    unit_cost: Decimal | None = None


def make_draft(
    period: BillingPeriod, subject: Subject, policy: BillingPolicy, parts: DraftParts
) -> FindingDraft:
    explanation: dict[str, Any] = {
        "kind": str(parts.kind),
        "summary": parts.summary,
        "period": period_json(period),
        "currency": subject.currency,
        "amount": format_decimal(parts.amount),
        **parts.details,
        "policy": policy.describe(parts.policy_keys),
        "actions": [describe_action(action) for action in parts.actions],
    }
    numbers = {
        "kind": str(parts.kind),
        "period": period.label,
        "currency": subject.currency,
        "amount": parts.amount,
        "vendor_quantity": parts.vendor_quantity,
        "psa_quantity": parts.psa_quantity,
        "unit_price": parts.unit_price,
        "unit_cost": parts.unit_cost,
        **parts.numbers,
    }
    return FindingDraft(
        key=parts.key,
        kind=parts.kind,
        period=period,
        customer=subject.customer,
        vendor=subject.vendor,
        vendor_subscription_id=subject.vendor_subscription_id,
        psa_line_id=parts.psa_line_ids[0] if parts.psa_line_ids else None,
        sku=subject.sku,
        product_name=subject.product_name,
        currency=subject.currency,
        vendor_quantity=parts.vendor_quantity,
        psa_quantity=parts.psa_quantity,
        unit_price=parts.unit_price,
        unit_cost=parts.unit_cost,
        amount=parts.amount,
        actions=parts.actions,
        status=parts.status,
        explanation_json=explanation_json(explanation),
        inputs_hash=inputs_hash(numbers, parts.actions),
        reference=parts.reference,
        psa_line_ids=parts.psa_line_ids,
    )
