"""Matching PSA one-time charges to what they already bill ("no more invoice to generate").

A one-time charge settles a difference when, in this order:

1. its description carries the finding family's reference (`TrueUp R-…`, written by the
   charge TrueUp proposed): matched whatever its amount, the rest stays a finding; or
2. it bills one of the subscription's PSA products, is dated after the period's first day
   and no later than the day after it (where TrueUp dates a period's charges: the period end
   in arrears, the next invoice date in advance — so a charge dated 1 April belongs to
   March, never to April too), and its amount (quantity × unit price) is within the tolerance of the
   difference still open: a charge someone entered by hand; or
3. for usage only: every same-product charge in that window counts as usage billed —
   unless several of the customer's subscriptions bill usage of that product, where a
   charge is only matched by its reference or its amount (rules 1 and 2).

Each charge is consumed by the first difference it settles (subscriptions are visited in a
fixed order), so one charge can never settle two findings. Same-product charges in the window
that did not match are returned as near misses for the reviewer.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from app.domain.lazy import computed_once
from app.domain.reconciliation.context import Run
from app.domain.reconciliation.facts import PsaLineFacts


@dataclass(frozen=True)
class Match:
    line_id: str
    amount: Decimal
    by: str  # "reference" | "amount" | "product"
    description: str = ""

    def as_json(self) -> dict[str, str]:
        return {"line_id": self.line_id, "amount": str(self.amount), "matched_by": self.by,
                "description": self.description}


@dataclass(frozen=True)
class MatchResult:
    """The charges that settle a difference, and the same-product charges in the window
    that did not (near misses: made when read, as most differences never show them)."""

    matches: tuple[Match, ...] = ()
    candidates: tuple[PsaLineFacts, ...] = ()  # every same-product charge in the window

    @property
    def total(self) -> Decimal:
        return sum((m.amount for m in self.matches), Decimal(0))

    @computed_once
    def near_misses(self) -> tuple[Match, ...]:
        taken = {m.line_id for m in self.matches}
        return tuple(Match(c.line_id, c.amount, "near miss", c.description)
                     for c in self.candidates if c.line_id not in taken)


def match_charges(
    run: Run,
    charges: Iterable[PsaLineFacts],
    *,
    reference: str,
    products: Iterable[str | None],
    open_amount: Decimal | None,
    tolerance: Decimal,
    whole_window: bool = False,
) -> MatchResult:
    """Consume the charges that settle `open_amount` (see the module rules)."""
    period, consumed = run.period, run.consumed
    wanted = {p for p in products if p}
    tag = reference.lower()
    first, last = period.start, period.following()  # the window: after first, up to last
    matches: list[Match] = []
    same_product: list[PsaLineFacts] = []
    for c in charges:  # one pass, in the charges' order, over those nothing consumed yet
        if c.line_id in consumed:
            continue
        if tag in c.folded_description:
            matches.append(Match(c.line_id, c.amount, "reference", c.description))
        elif c.product_id in wanted and (day := c.effective_date) is not None and \
                first < day <= last:
            same_product.append(c)
    if whole_window:
        matches += [Match(c.line_id, c.amount, "product", c.description) for c in same_product]
    elif not matches and open_amount is not None and not open_amount.is_zero():
        hit = next((c for c in same_product if abs(c.amount - open_amount) < tolerance), None)
        if hit is not None:
            matches.append(Match(hit.line_id, hit.amount, "amount", hit.description))
    consumed.update(m.line_id for m in matches)
    return MatchResult(tuple(matches), tuple(same_product))
