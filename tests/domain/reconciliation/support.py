"""Builders for reconciliation scenarios, and a PSA that applies a finding's actions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from app.domain.actions import ActionType
from app.domain.periods import BillingPeriod
from app.domain.policy import PolicyRule, resolve_policy
from app.domain.reconciliation import (
    CustomerRef,
    FindingDraft,
    PsaLineFacts,
    SubscriptionFacts,
    reconcile,
)
from app.domain.timeline import QuantityTimeline, SeatLot

D = Decimal
MARCH = BillingPeriod.month(2024, 3)
ACME = CustomerRef("v-acme", "Acme Ltd", "psa-acme", "Acme", False)


def lots(*items: tuple) -> QuantityTimeline:
    """lots((10, date(2024, 1, 1)), (2, date(2024, 3, 15))) — seats with start [end]."""
    return QuantityTimeline.from_lots(SeatLot(D(q), *days) for q, *days in items)


def line(quantity=10, price="22", cost="18", line_id="L1", **changes) -> PsaLineFacts:
    base = PsaLineFacts(line_id, "AG1", "recurring", "P1", D(quantity),
                        None if price is None else D(price), None if cost is None else D(cost),
                        date(2024, 1, 1))
    return replace(base, **changes)


def sub(vendor_timeline: QuantityTimeline, *lines: PsaLineFacts, **changes) -> SubscriptionFacts:
    base = SubscriptionFacts(
        vendor="pax8", vendor_subscription_id="S1", customer=ACME, sku="SKU-BP",
        product_name="Microsoft 365 Business Premium", currency="USD",
        vendor_timeline=vendor_timeline, vendor_unit_cost=D(18), psa_lines=lines,
        agreement_id="AG1", one_time_agreement_id="OT1", psa_product_id="P1",
    )
    return replace(base, **changes)


def policy_of(*pairs: tuple[str, str], psa_kind: str = "connectwise"):
    """A policy_for giving every subscription the global rules `pairs`."""
    rules = [PolicyRule("global", "", key, value) for key, value in pairs]
    return lambda subject: resolve_policy(rules, psa_kind=psa_kind)


def run(*facts, orphans=(), policy=None, period=MARCH):
    if policy is None:
        return reconcile(period, facts, orphans)
    return reconcile(period, facts, orphans, policy)


def only(result) -> FindingDraft:
    assert len(result.findings) == 1, [f.key for f in result.findings]
    return result.findings[0]


def kinds(result) -> list[str]:
    return [str(f.kind) for f in result.findings]


# --- a PSA that does what the actions say -----------------------------------------------------


def _set_quantity(psa_line: PsaLineFacts, day: date, quantity: Decimal) -> PsaLineFacts:
    steps = list(psa_line.quantity_steps) or [(psa_line.effective_date or date.min,
                                               psa_line.quantity)]
    steps = [step for step in steps if step[0] < day] + [(day, quantity)]
    return replace(psa_line, quantity=quantity, quantity_steps=tuple(steps))


def apply_actions(facts: SubscriptionFacts, finding: FindingDraft) -> SubscriptionFacts:
    """The facts as the next sync would load them after every action was pushed."""
    lines = {li.line_id: li for li in facts.psa_lines}
    charges = list(facts.psa_one_time_charges)
    for number, action in enumerate(finding.actions):
        desired = action.desired
        if action.type is ActionType.SET_QUANTITY:
            current = lines[action.line_ref]
            if desired.get("cancelled_date") == "":
                current = replace(current, cancelled_date=None)
            lines[action.line_ref] = _set_quantity(current, action.effective_date,
                                                   D(desired["quantity"]))
        elif action.type is ActionType.CANCEL_LINE:
            lines[action.line_ref] = replace(
                lines[action.line_ref],
                cancelled_date=date.fromisoformat(desired["cancelled_date"]))
        elif action.type is ActionType.SET_PRICE:
            values = {}
            if "unit_price" in desired:
                values["unit_price"] = D(desired["unit_price"])
            if "unit_cost" in desired:
                values["unit_cost"] = D(desired["unit_cost"])
            lines[action.line_ref] = replace(lines[action.line_ref], **values)
        elif action.type is ActionType.ADD_LINE:
            new_id = f"new-{finding.key[-6:]}-{number}"
            lines[new_id] = PsaLineFacts(
                new_id, action.agreement_ref, "recurring", action.product_ref,
                D(desired["quantity"]), D(desired["unit_price"]),
                D(desired["unit_cost"]) if "unit_cost" in desired else None,
                date.fromisoformat(desired["effective_date"]), None, desired["description"])
        else:
            charges.append(PsaLineFacts(
                f"otc-{finding.key[-6:]}-{number}", action.agreement_ref, "one_time",
                action.product_ref, D(desired["quantity"]), D(desired["unit_price"]), None,
                date.fromisoformat(desired["effective_date"]), None, desired["description"]))
    return replace(facts, psa_lines=tuple(lines.values()), psa_one_time_charges=tuple(charges))
