"""The customer's price for a subscription: override, markup rule, then a careful fallback.

A computed selling price (cost × 1.2) is rounded to the currency's minor unit under the
policy's rounding rule, because that is a price a PSA line can carry; vendor prices keep
their full precision.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from app.domain.money import format_decimal
from app.domain.policy import BillingPolicy, MarkupKind
from app.domain.reconciliation.context import round_for
from app.domain.reconciliation.facts import SubscriptionFacts


@dataclass(frozen=True)
class PriceChoice:
    """A unit price and where it came from, for the explanation."""

    price: Decimal | None
    source: str
    fallback: bool = False  # the policy's own rule gave no price: review before approving


def markup_price(facts: SubscriptionFacts, policy: BillingPolicy) -> PriceChoice:
    """The price the markup rule sets, or None when the rule has nothing to work from."""
    markup = policy.markup
    if markup.kind is MarkupKind.COST_PLUS:
        if facts.vendor_unit_cost is None:
            return PriceChoice(None, f"markup {markup}: no vendor cost")
        price = round_for(policy, facts.currency,
                          Fraction(facts.vendor_unit_cost) * Fraction(markup.factor))
        return PriceChoice(price, f"markup {markup}: {format_decimal(facts.vendor_unit_cost)} × "
                                  f"{format_decimal(markup.factor)}")
    if markup.kind is MarkupKind.LIST:
        if facts.vendor_list_price is None:
            return PriceChoice(None, "markup list: no vendor list price")
        return PriceChoice(facts.vendor_list_price, "markup list: the vendor list price")
    if facts.psa_product_price is None:
        return PriceChoice(None, "markup fixed: no PSA catalogue price")
    return PriceChoice(facts.psa_product_price, "markup fixed: the PSA catalogue price")


def customer_price(facts: SubscriptionFacts, policy: BillingPolicy) -> PriceChoice:
    """The unit price a new line bills: the customer override, else the markup rule, else the
    first known of catalogue price, list price and cost (flagged for review)."""
    if facts.customer_price is not None:
        return PriceChoice(facts.customer_price, "the customer's price override")
    chosen = markup_price(facts, policy)
    if chosen.price is not None:
        return chosen
    for price, source in (
        (facts.psa_product_price, "the PSA catalogue price"),
        (facts.vendor_list_price, "the vendor list price"),
        (facts.vendor_unit_cost, "the vendor cost (no margin)"),
    ):
        if price is not None:
            return PriceChoice(price, f"{chosen.source}; fell back to {source}", True)
    return PriceChoice(None, f"{chosen.source}; no other price known", True)


def _customer_price_scale(facts: SubscriptionFacts) -> tuple[int | None, str]:
    """What a customer price (per seat per month) is multiplied by to be per vendor unit.

    An upfront subscription's vendor cost and charge unit price are per seat for the whole
    term (a year for A/A), so the monthly price is scaled by the term's months; None when
    the term's length is unknown and no like-for-like comparison is possible.
    """
    if not facts.is_upfront:
        return 1, ""
    months = facts.term_months
    if months is None:
        return None, ""
    return months, f" × {months} months of the {facts.term} term"


def charge_factor(
    facts: SubscriptionFacts, policy: BillingPolicy, vendor_unit_price: Decimal | None
) -> tuple[Fraction, str]:
    """What a vendor charge amount is multiplied by to bill the customer (annual, usage).

    Ratios keep the units straight: an override or a catalogue price is per seat per month,
    so for an upfront subscription (vendor cost and unit price per seat for the whole term)
    it is first scaled to the term, never divided by a per-term figure as it is.
    """
    markup = policy.markup
    scale, scaled = _customer_price_scale(facts)
    if facts.customer_price is not None and vendor_unit_price and scale is not None:
        return (Fraction(facts.customer_price) * scale / Fraction(vendor_unit_price),
                f"the customer's price override {format_decimal(facts.customer_price)}"
                f"{scaled} per {format_decimal(vendor_unit_price)} of vendor price")
    if markup.kind is MarkupKind.COST_PLUS:
        return Fraction(markup.factor), f"markup {markup}"
    cost = facts.vendor_unit_cost
    if markup.kind is MarkupKind.LIST:  # a vendor price: the same unit as the vendor cost
        reference, scale, scaled = facts.vendor_list_price, 1, ""
    else:
        reference = facts.psa_product_price
    if reference is not None and cost and scale is not None:
        return (Fraction(reference) * scale / Fraction(cost),
                f"markup {markup}: {format_decimal(reference)}{scaled} per "
                f"{format_decimal(cost)} of cost")
    if reference is not None and cost:
        return Fraction(1), (f"markup {markup}: the {facts.term or 'unknown'} term's length is "
                             f"unknown, so a monthly price cannot be compared with its cost; "
                             f"billed at vendor amount")
    return Fraction(1), f"markup {markup}: no price to scale by; billed at vendor amount"
