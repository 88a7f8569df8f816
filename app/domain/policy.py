"""Billing policies: how a customer is billed and how corrections are proposed.

Each setting is a key/value text pair stored at one scope — global, vendor, customer or
product — and set from the CLI (`policy set KEY VALUE`). Resolution is per key: the most
specific scope that sets a key wins (global < vendor < customer < product), so a product rule
for `true_up` does not hide the customer's `decreases`. Every resolved value remembers which
scope chose it, because a finding's explanation cites the policy that chose its action.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.domain.daycount import DayCountConvention
from app.domain.lazy import computed_once
from app.domain.money import (
    DEFAULT_ROUNDING,
    ROUNDING_RULES,
    RoundingRule,
    format_decimal,
    parse_decimal,
    rounding_rule,
)
from app.domain.periods import BillingTiming
from app.domain.timeline import LineRounding


class PolicyScope(StrEnum):
    GLOBAL = "global"
    VENDOR = "vendor"
    CUSTOMER = "customer"
    PRODUCT = "product"


# Least to most specific: a later scope overrides an earlier one, key by key.
SCOPE_ORDER: tuple[PolicyScope, ...] = (
    PolicyScope.GLOBAL,
    PolicyScope.VENDOR,
    PolicyScope.CUSTOMER,
    PolicyScope.PRODUCT,
)


class EffectiveRule(StrEnum):
    """When an approved change takes effect on the PSA line."""

    NEXT_PERIOD = "next-period"  # the 1st of the next period
    BACK_DATED = "back-dated"  # the vendor change date; the PSA prorates


class TrueUpMode(StrEnum):
    """How the elapsed part of the period is billed."""

    ONE_TIME = "one-time"  # a one-time charge or credit
    BACK_DATE = "back-date"  # the change is dated back so the PSA prorates it
    NONE = "none"  # not at all: only the forward change


class DecreaseRule(StrEnum):
    CREDIT = "credit"  # credit the customer for the elapsed part
    DEFER = "defer"  # no credit: the reduction takes effect next period


class MarkupKind(StrEnum):
    FIXED = "fixed"  # keep the PSA's own (catalogue or line) price
    LIST = "list"  # the vendor's list price
    COST_PLUS = "cost-plus"  # vendor cost × (1 + percent/100)


@dataclass(frozen=True)
class Markup:
    """How a customer price follows the vendor: `cost+20%`, `fixed` or `list`."""

    kind: MarkupKind = MarkupKind.FIXED
    percent: Decimal = Decimal(0)

    @property
    def factor(self) -> Decimal:
        """What cost is multiplied by under cost-plus (1.2 for cost+20%)."""
        return Decimal(1) + self.percent / Decimal(100)

    def __str__(self) -> str:
        if self.kind is MarkupKind.COST_PLUS:
            return f"cost+{format_decimal(self.percent)}%"
        return str(self.kind)


@dataclass(frozen=True)
class SeatChangeThreshold:
    """A seat change this large (in seats or percent of the billed seats) asks for review."""

    seats: Decimal | None = Decimal(5)
    percent: Decimal | None = Decimal(20)

    def exceeded(self, billed: Decimal, vendor: Decimal) -> bool:
        change = abs(vendor - billed)
        if change.is_zero():
            return False
        if self.seats is not None and change >= self.seats:
            return True
        if self.percent is None:
            return False
        if billed.is_zero():
            return True
        return change * Decimal(100) >= self.percent * abs(billed)

    def __str__(self) -> str:
        parts = []
        if self.seats is not None:
            parts.append(f"{format_decimal(self.seats)} seats")
        if self.percent is not None:
            parts.append(f"{format_decimal(self.percent)}%")
        return " or ".join(parts) if parts else "off"


# --- parsing ---------------------------------------------------------------------------------


def _choice(options: Iterable[str]) -> Callable[[str], str]:
    allowed = tuple(options)

    def parse(text: str) -> str:
        value = text.strip().lower()
        if value not in allowed:
            raise ValueError
        return value

    return parse


_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


def _boolean(text: str) -> bool:
    value = text.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError


def _amount(text: str) -> Decimal:
    value = parse_decimal(text)
    if value < 0:
        raise ValueError
    return value


_MARKUP = re.compile(r"cost\s*\+\s*(\d+(?:\.\d+)?)\s*%", re.ASCII)


def _markup(text: str) -> Markup:
    value = text.strip().lower()
    if value in (MarkupKind.FIXED, MarkupKind.LIST):
        return Markup(MarkupKind(value))
    if value == "cost":
        return Markup(MarkupKind.COST_PLUS, Decimal(0))
    match = _MARKUP.fullmatch(value)
    if not match:
        raise ValueError
    return Markup(MarkupKind.COST_PLUS, Decimal(match.group(1)))


_SEATS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:seats?)?", re.ASCII)
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%", re.ASCII)


def _threshold(text: str) -> SeatChangeThreshold:
    value = text.strip().lower()
    if value in ("off", "none"):
        return SeatChangeThreshold(None, None)
    seats = percent = None
    for part in re.split(r"\s*(?:\bor\b|,|\|)\s*", value):
        if match := _PERCENT.fullmatch(part):
            if percent is not None:
                raise ValueError
            percent = Decimal(match.group(1))
        elif match := _SEATS.fullmatch(part):
            if seats is not None:
                raise ValueError
            seats = Decimal(match.group(1))
        else:
            raise ValueError
    return SeatChangeThreshold(seats, percent)


_DAY_COUNTS = {
    "connectwise": DayCountConvention.CONNECTWISE,
    "cloudblue": DayCountConvention.CLOUDBLUE,
    "actual": DayCountConvention.ACTUAL_DAYS,
    "thirty-day": DayCountConvention.THIRTY_DAY_MONTH,
    "none": DayCountConvention.NONE,
}
# "psa": each PSA's own proration.
PSA_DAY_COUNTS = {
    "connectwise": DayCountConvention.CONNECTWISE,
    "autotask": DayCountConvention.ACTUAL_DAYS,
}


def day_count_for(value: str, psa_kind: str | None) -> DayCountConvention:
    """The convention a `day_count` value names; "psa" is the PSA's own (actual days if unknown)."""
    if value == "psa":
        return PSA_DAY_COUNTS.get((psa_kind or "").lower(), DayCountConvention.ACTUAL_DAYS)
    return _DAY_COUNTS[value]


@dataclass(frozen=True)
class PolicyKey:
    """One setting as `policy show` lists it: what it means, what it accepts, its default."""

    name: str
    description: str
    allowed: str
    default: str
    parse: Callable[[str], Any]
    scopes: tuple[PolicyScope, ...] = SCOPE_ORDER


_ALL = SCOPE_ORDER
POLICY_KEYS: dict[str, PolicyKey] = {
    key.name: key
    for key in (
        PolicyKey("timing", "bill each period in advance (invoice on its 1st day) or in arrears",
                  "advance|arrears", "advance", _choice(t.value for t in BillingTiming)),
        PolicyKey("effective", "when approved changes take effect: the 1st of the next period, "
                  "or the vendor change date so the PSA prorates",
                  "next-period|back-dated", "next-period", _choice(EffectiveRule)),
        PolicyKey("true_up", "how the elapsed part of the period is billed: a one-time "
                  "charge/credit, a back-dated change the PSA prorates, or not at all",
                  "one-time|back-date|none", "one-time", _choice(TrueUpMode)),
        PolicyKey("decreases", "seat reductions: credit the elapsed part, or defer the "
                  "reduction to the next period without a credit",
                  "credit|defer", "credit", _choice(DecreaseRule)),
        PolicyKey("day_count", "proration convention; psa = the PSA's own (ConnectWise: "
                  "connectwise, Autotask: actual)",
                  "psa|connectwise|cloudblue|actual|thirty-day|none", "psa",
                  _choice(("psa", *_DAY_COUNTS))),
        PolicyKey("rounding", "round each charge once per line, or the per-seat price first",
                  "per-line|per-unit", "per-line", _choice(("per-line", "per-unit"))),
        PolicyKey("rounding_rule", "rounding mode and places for amounts",
                  "|".join(sorted(ROUNDING_RULES)), DEFAULT_ROUNDING.name,
                  _choice(sorted(ROUNDING_RULES))),
        PolicyKey("markup", "customer price rule: vendor cost plus a percentage, the PSA's "
                  "fixed price, or the vendor list price",
                  "cost+N%|fixed|list", "fixed", _markup),
        PolicyKey("tolerance", "differences smaller than this amount are rounding, not findings",
                  "an amount >= 0", "0.01", _amount),
        PolicyKey("internal", "an internal customer: never billed, never a finding",
                  "true|false", "false", _boolean, (PolicyScope.CUSTOMER,)),
        PolicyKey("exclude", "leave out of reconciliation entirely",
                  "true|false", "false", _boolean),
        PolicyKey("skip_free", "skip trial subscriptions and free SKUs (cost and price 0)",
                  "true|false", "true", _boolean),
        PolicyKey("negative_margin_alert", "alert when the customer price is below vendor cost",
                  "true|false", "true", _boolean),
        PolicyKey("seat_change_alert_threshold", "a seat change at least this large (seats or "
                  "percent of billed seats) is flagged for review",
                  "N seats or M%|N|M%|off", "5 seats or 20%", _threshold),
    )
}


def parse_policy_value(key: str, value: str) -> Any:
    """The typed value of one setting; a bad key or value says what is allowed."""
    spec = POLICY_KEYS.get(key)
    if spec is None:
        raise ValueError(f"unknown policy key {key!r} (known: {', '.join(POLICY_KEYS)})")
    if not isinstance(value, str):
        raise ValueError(f"policy {key}: value {value!r} must be text (allowed: {spec.allowed})")
    try:
        return spec.parse(value)
    except ValueError:
        raise ValueError(
            f"policy {key}: invalid value {value!r} (allowed: {spec.allowed})"
        ) from None


@dataclass(frozen=True)
class PolicyRule:
    """One stored setting: `scope` + `scope_ref` (vendor name, customer id, SKU) + key=value."""

    scope: str
    scope_ref: str
    key: str
    value: str

    def __post_init__(self) -> None:
        try:
            scope = PolicyScope(str(self.scope).strip().lower())
        except ValueError:
            known = ", ".join(SCOPE_ORDER)
            raise ValueError(f"unknown policy scope {self.scope!r} (known: {known})") from None
        ref = (self.scope_ref or "").strip()
        if scope is PolicyScope.GLOBAL and ref:
            raise ValueError(f"a global policy takes no scope reference (got {ref!r})")
        if scope is not PolicyScope.GLOBAL and not ref:
            raise ValueError(f"a {scope} policy needs the {scope} it applies to")
        parse_policy_value(self.key, self.value)
        allowed = POLICY_KEYS[self.key].scopes
        if scope not in allowed:
            raise ValueError(
                f"policy {self.key} cannot be set at {scope} scope "
                f"(allowed: {', '.join(allowed)})"
            )
        object.__setattr__(self, "scope", scope)
        object.__setattr__(self, "scope_ref", ref)

    @property
    def where(self) -> str:
        return "global" if self.scope is PolicyScope.GLOBAL else f"{self.scope} {self.scope_ref}"


@dataclass(frozen=True)
class BillingPolicy:
    """The resolved settings for one subscription, and which scope chose each of them."""

    timing: BillingTiming = BillingTiming.ADVANCE
    effective: EffectiveRule = EffectiveRule.NEXT_PERIOD
    true_up: TrueUpMode = TrueUpMode.ONE_TIME
    decreases: DecreaseRule = DecreaseRule.CREDIT
    day_count: DayCountConvention = DayCountConvention.CONNECTWISE
    rounding: LineRounding = LineRounding.PER_LINE
    rounding_rule: RoundingRule = DEFAULT_ROUNDING
    markup: Markup = Markup()
    tolerance: Decimal = Decimal("0.01")
    internal: bool = False
    exclude: bool = False
    skip_free: bool = True
    negative_margin_alert: bool = True
    seat_change_alert_threshold: SeatChangeThreshold = SeatChangeThreshold()
    # (key, value as text, where it was set) for every key, in POLICY_KEYS order.
    sources: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def default(cls, psa_kind: str | None = "connectwise") -> BillingPolicy:
        return resolve_policy((), psa_kind=psa_kind)

    def source(self, key: str) -> str:
        """Where `key` was set: 'global default', 'global', 'customer 42', 'product SKU-1'."""
        for name, _, where in self.sources:
            if name == key:
                return where
        return "global default"

    def describe(self, keys: Iterable[str] | None = None) -> list[str]:
        """'true_up = one-time (global default)' per key: the policy that chose an action.
        A new list each time, written once per tuple of keys (every finding of a
        subscription's kind asks for the same keys of the same policy)."""
        if not isinstance(keys, tuple):
            return self._described(keys)
        texts = self._descriptions.get(keys)
        if texts is None:
            texts = self._descriptions[keys] = tuple(self._described(keys))
        return list(texts)

    def _described(self, keys: Iterable[str] | None) -> list[str]:
        wanted = None if keys is None else set(keys)
        return [
            f"{name} = {text} ({where})"
            for name, text, where in self.sources
            if wanted is None or name in wanted
        ]

    @computed_once
    def _descriptions(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        return {}


_REFS = str | Iterable[str] | None


def _refs(value: _REFS) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,) if value else ()
    return tuple(ref for ref in value if ref)


def resolve_policy(
    rules: Iterable[PolicyRule],
    *,
    vendor: _REFS = None,
    customer: _REFS = None,
    product: _REFS = None,
    psa_kind: str | None = None,
) -> BillingPolicy:
    """Resolve every key independently: product > customer > vendor > global > default.

    `vendor`, `customer` and `product` are the references a rule may use for this
    subscription (a customer may be named by its PSA id and its vendor id; a product by SKU
    and PSA product id); when two of them carry a rule at the same scope, the first wins.
    """
    stored: dict[tuple[PolicyScope, str, str], str] = {}
    for rule in rules:
        stored[(PolicyScope(rule.scope), rule.scope_ref, rule.key)] = rule.value
    refs = {
        PolicyScope.GLOBAL: ("",),
        PolicyScope.VENDOR: _refs(vendor),
        PolicyScope.CUSTOMER: _refs(customer),
        PolicyScope.PRODUCT: _refs(product),
    }
    values: dict[str, Any] = {}
    sources = []
    for name, spec in POLICY_KEYS.items():
        text, where = spec.default, "global default"
        for scope in reversed(SCOPE_ORDER):
            hit = next((ref for ref in refs[scope] if (scope, ref, name) in stored), None)
            if hit is not None:
                text = stored[(scope, hit, name)]
                where = "global" if scope is PolicyScope.GLOBAL else f"{scope} {hit}"
                break
        values[name] = parse_policy_value(name, text)
        sources.append((name, _shown(name, values[name], psa_kind), where))
    return BillingPolicy(
        timing=BillingTiming(values["timing"]),
        effective=EffectiveRule(values["effective"]),
        true_up=TrueUpMode(values["true_up"]),
        decreases=DecreaseRule(values["decreases"]),
        day_count=day_count_for(values["day_count"], psa_kind),
        rounding=LineRounding.PER_UNIT if values["rounding"] == "per-unit" else
        LineRounding.PER_LINE,
        rounding_rule=rounding_rule(values["rounding_rule"]),
        markup=values["markup"],
        tolerance=values["tolerance"],
        internal=values["internal"],
        exclude=values["exclude"],
        skip_free=values["skip_free"],
        negative_margin_alert=values["negative_margin_alert"],
        seat_change_alert_threshold=values["seat_change_alert_threshold"],
        sources=tuple(sources),
    )


def _shown(name: str, value: Any, psa_kind: str | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format_decimal(value)
    if name == "day_count" and value == "psa":
        return f"psa → {day_count_for(value, psa_kind).value} ({psa_kind or 'unknown PSA'})"
    return str(value)
