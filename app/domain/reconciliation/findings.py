"""Findings: one discrepancy for one period, with its money at stake, actions and reasons.

A finding's `key` names *what* is wrong (kind, vendor subscription, PSA lines), never how
much, so a re-run finds the same finding and its review state sticks. `inputs_hash` covers
the numbers it was computed from, so the service can tell that a finding changed after it
was approved. The explanation is plain JSON-able data: the UI shows it, exports write it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from app.domain import json_text
from app.domain.actions import PsaAction
from app.domain.daycount import exact_decimal
from app.domain.iso_days import iso_day
from app.domain.lazy import computed_once
from app.domain.money import format_decimal
from app.domain.periods import BillingPeriod
from app.domain.reconciliation.facts import CustomerRef
from app.domain.timeline import ChargeBreakdown, QuantityTimeline

KEY_LENGTH = 200  # the findings table's key column


class FindingKind(StrEnum):
    QUANTITY_DRIFT = "quantity_drift"
    UNBILLED_SUBSCRIPTION = "unbilled_subscription"
    BILLED_BUT_CANCELLED = "billed_but_cancelled"
    COST_CHANGE = "cost_change"
    NEGATIVE_MARGIN = "negative_margin"
    ANNUAL_CHARGE_MISSING = "annual_charge_missing"
    USAGE_CHARGE = "usage_charge"
    VENDOR_INVOICE_MISMATCH = "vendor_invoice_mismatch"
    UNMAPPED = "unmapped"


KIND_ORDER = {kind: index for index, kind in enumerate(FindingKind)}


class StatusSuggestion(StrEnum):
    """What the reviewer is likely to do with it."""

    APPROVE = "approve"  # a routine correction, ready to approve
    REVIEW = "review"  # large, unusual or price-setting: look before approving
    ALERT = "alert"  # nothing to push: information or a question for the vendor
    MAP = "map"  # a mapping task comes first


@dataclass(frozen=True)
class FindingDraft:
    """One proposed finding, before the service stores it and people review it."""

    key: str
    kind: FindingKind
    period: BillingPeriod
    customer: CustomerRef
    vendor: str
    vendor_subscription_id: str | None
    psa_line_id: str | None
    sku: str
    product_name: str
    currency: str
    vendor_quantity: Decimal | None
    psa_quantity: Decimal | None
    unit_price: Decimal | None
    unit_cost: Decimal | None
    amount: Decimal  # money at stake for the period; positive = the customer is under-billed
    actions: tuple[PsaAction, ...]
    status: StatusSuggestion
    explanation_json: str = field(compare=False)  # the explanation as stored, JSON text
    inputs_hash: str
    reference: str  # the tag written into the descriptions of charges this finding creates
    psa_line_ids: tuple[str, ...] = ()

    @computed_once
    def explanation(self) -> dict[str, Any]:
        """The explanation as plain JSON data (read back from its text when asked)."""
        return json.loads(self.explanation_json)

    @property
    def pushable(self) -> bool:
        return bool(self.actions)

    @property
    def summary(self) -> str:
        return str(self.explanation.get("summary", ""))


@dataclass(frozen=True)
class ReconcileSummary:
    """What did not become a finding, and why, so nothing is silently dropped."""

    subscriptions: int = 0
    orphans: int = 0
    findings: int = 0
    rounding_residuals: int = 0  # differences below the tolerance
    skipped_non_billable: int = 0  # internal, trial/free, excluded
    settled: int = 0  # differences already billed by a matching PSA one-time charge
    waived: int = 0  # differences the policy chose not to bill (defer, true_up none)
    skipped: tuple[tuple[str, str], ...] = ()  # (vendor subscription id, reason)
    residual_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReconcileResult:
    findings: tuple[FindingDraft, ...]
    summary: ReconcileSummary


# --- identity ---------------------------------------------------------------------------------


def finding_key(kind: FindingKind, vendor: str, subscription: str | None, *parts: str) -> str:
    """kind|vendor|subscription|parts…: readable, stable, and at most KEY_LENGTH long."""
    text = "|".join([str(kind), vendor, subscription or "-", *parts])
    if len(text) <= KEY_LENGTH:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    return f"{text[: KEY_LENGTH - 18]}|~{digest}"


REFERENCE_PREFIX = "TrueUp R-"  # what every finding reference starts with


def finding_reference(
    vendor: str, subscription: str | None, period: BillingPeriod, family: str = "seats"
) -> str:
    """A short tag for the descriptions of the charges a finding creates.

    It names the subscription, the period and the family of correction ("seats" for drift,
    unbilled and cancelled lines alike; "usage"; "annual:<span>"), not the finding kind, so
    a true-up charged while the subscription had no PSA line still settles the drift found
    after the line was added.
    """
    material = f"{family}|{vendor}|{subscription or '-'}|{period.label}"
    return f"{REFERENCE_PREFIX}{hashlib.sha256(material.encode()).hexdigest()[:10]}"


def explanation_json(explanation: dict[str, Any]) -> str:
    """The explanation as compact JSON text: dates ISO, Decimals and Fractions exact text,
    exactly as `jsonable` converts them, by the encoder itself (one pass, no copy of the
    tree). Read back, it is the same data whichever encoder wrote it (see json_text)."""
    text = json_text.compact(explanation, _scalar)
    if text is None:  # a key that is not text, say: convert everything first
        text = json.dumps(jsonable(explanation))
    return text


def inputs_hash(numbers: dict[str, Any], actions: tuple[PsaAction, ...]) -> str:
    """sha256 of the numbers a finding depends on and of the actions it proposes."""
    material = {
        "numbers": numbers,
        "actions": [
            {**action.identity(), "seen": action.seen, "money": str(action.money_effect)}
            for action in actions
        ],
    }
    return hashlib.sha256(hash_text(material).encode()).hexdigest()


def hash_text(material: Any) -> str:
    """`json.dumps(jsonable(material), sort_keys=True, separators=(",", ":"))`: the text
    every stored hash was taken of, so it must never change by a byte (json_text writes it
    when it can give that very text)."""
    text = json_text.sorted_ascii(material, _scalar)
    if text is not None:
        return text
    try:  # the encoder converts the few non-JSON values itself: the same text
        return _HASH_ENCODER.encode(material)
    except TypeError:  # a key that is not text (a date, say): convert everything first
        return json.dumps(jsonable(material), sort_keys=True, separators=(",", ":"))


# --- JSON-able pieces -------------------------------------------------------------------------

_PLAIN = frozenset({str, int, bool, float, type(None)})


def _scalar(value: Any) -> Any:
    """A date, Decimal or Fraction as `jsonable` writes it (json.dumps's `default`)."""
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, date):
        return iso_day(value)
    if isinstance(value, Fraction):
        return format_decimal(exact_decimal(value))
    raise TypeError(f"not JSON-able: {type(value).__name__}")


# The encoder `json.dumps` would build on every call, built once. The trees it encodes are
# built fresh for one finding: no cycles to check for.
_HASH_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), default=_scalar,
                                 check_circular=False)


def jsonable(value: Any) -> Any:
    """Dates as ISO text, Decimals as exact text, Fractions as exact-or-50-digit text."""
    kind = type(value)
    if kind in _PLAIN:  # most of an explanation: checked first
        return value
    if kind is dict or isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if kind is list or kind is tuple or isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, StrEnum):
        return str(value)
    try:
        return _scalar(value)
    except TypeError:
        return value


def period_json(period: BillingPeriod) -> dict[str, Any]:
    return {"label": period.label, "start": iso_day(period.start),
            "end": iso_day(period.end), "days": period.days}


def segments_json(timeline: QuantityTimeline, period: BillingPeriod) -> list[dict[str, Any]]:
    return [
        {"start": iso_day(s.start), "end": iso_day(s.end), "days": s.days,
         "quantity": format_decimal(s.quantity)}
        for s in timeline.segments(period)
    ]


def breakdown_json(breakdown: ChargeBreakdown) -> dict[str, Any]:
    """Every priced line of a charge: dates, seats, price, day count, exact and rounded."""
    return dict(breakdown.explained)
