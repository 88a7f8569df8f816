"""Partner Center ChargeType values → the short code stored on ChargeLine, with what each
means for seats.

From reference/partner-center/recon-charge-types.csv (all sections), plus the new-commerce
values `renew` and `cycleCharge`. Matching ignores case, spaces, hyphens and underscores
("New", "new", "Cycle fee"); anything else is rejected by name, never guessed.

Seat lines (purchase, change, cancel, renew, cycle) carry a signed seat count over their
dates and build the vendor quantity timeline. Usage, credit and discount lines are money
only: their quantity is not seats. Discounts and credits are stored as "discount" and
"credit" (Microsoft's wording kept in extra) so no code that looks for words like "cycle"
or "renew" in a charge type mistakes them for seats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MONEY_ONLY = ("usage", "credit", "discount")


@dataclass(frozen=True)
class ChargeType:
    code: str  # stored in ChargeLine.charge_type (≤ 40 characters)
    category: str  # purchase, change, cancel, renew, cycle, usage, credit, discount
    microsoft: str  # Microsoft's spelling in the reference
    # Derived once (read for every line of a million-line file):
    seats: bool = field(init=False)  # the quantity is a number of seats over the dates
    is_usage: bool = field(init=False)
    cancels: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "seats", self.category not in MONEY_ONLY)
        object.__setattr__(self, "is_usage", self.category == "usage")
        object.__setattr__(self, "cancels", self.category == "cancel")


_TYPES = (
    # License-based (legacy) charges
    ChargeType("activationFee", "purchase", "Activation fee"),
    ChargeType("cancelFee", "cancel", "Cancel fee"),
    ChargeType("cancelInstanceProrate", "cancel", "Cancel instance prorate"),
    ChargeType("cycleFee", "cycle", "Cycle fee"),
    ChargeType("cycleInstanceProrate", "change", "Cycle instance prorate"),
    ChargeType("prorateFeesWhenCancel", "cancel", "Prorate fees when cancel"),
    ChargeType("prorateFeesWhenConvertAway", "change",
               "Prorate fees when convert away from current offering"),
    ChargeType("prorateFeesWhenConvertToNew", "change",
               "Prorate fees when convert to a new offering"),
    ChargeType("prorateFeesWhenPurchase", "purchase", "Prorate fees when purchase"),
    ChargeType("prorateFeeWhenRenew", "renew", "Prorate fee when renew"),
    ChargeType("renewFee", "renew", "Renew fee"),
    ChargeType("prorateFeesWhenActivate", "purchase", "Prorate fees when activate"),
    # One-time (new commerce) charges
    ChargeType("new", "purchase", "New"),
    ChargeType("addQuantity", "change", "addQuantity"),
    ChargeType("removeQuantity", "change", "removeQuantity"),
    ChargeType("cancel", "cancel", "Cancel"),
    ChargeType("convert", "change", "Convert"),
    ChargeType("renew", "renew", "renew"),
    ChargeType("cycleCharge", "cycle", "cycleCharge"),
    # Usage charges
    ChargeType("usageFeeWhenCancel", "usage", "Assess usage fee when cancel"),
    ChargeType("usageFeeForCurrentCycle", "usage", "Assess usage fee for current cycle"),
    # Credits and usage-based discounts: money only
    ChargeType("credit", "credit", "Offset a line item"),
    ChargeType("discount", "discount", "Activation discount"),
    ChargeType("discount", "discount", "Cycle discount"),
    ChargeType("discount", "discount", "Renew discount"),
    ChargeType("discount", "discount", "Cancel discount"),
)


def _key(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


KNOWN: dict[str, ChargeType] = {}
for _type in _TYPES:
    KNOWN[_key(_type.microsoft)] = _type
    KNOWN.setdefault(_key(_type.code), _type)

USAGE = ChargeType("usage", "usage", "usage")  # a daily rated usage line with no ChargeType


_BY_TEXT: dict[str, ChargeType | None] = {}


def lookup(text: str) -> ChargeType | None:
    """The charge type for Microsoft's text, or None when it is not one we know."""
    try:
        return _BY_TEXT[text]
    except KeyError:
        found = KNOWN.get(_key(text))
        if len(_BY_TEXT) < 1000:
            _BY_TEXT[text] = found
        return found


def affects_seats(code: str) -> bool:
    """Whether stored lines with this ChargeLine.charge_type count toward seats."""
    for charge_type in _TYPES:
        if charge_type.code == code:
            return charge_type.seats
    return code not in MONEY_ONLY
