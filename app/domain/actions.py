"""Actions: the PSA changes a finding proposes and a person approves.

An action says what the PSA should show afterwards (absolute values), never a delta, so that
sending it twice cannot bill twice and a re-read can tell whether it already happened.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from enum import StrEnum

from app.domain.iso_days import iso_day


class ActionType(StrEnum):
    SET_QUANTITY = "set_quantity"
    SET_PRICE = "set_price"  # unit price and/or unit cost
    ADD_LINE = "add_line"
    CANCEL_LINE = "cancel_line"
    ONE_TIME_CHARGE = "one_time_charge"  # a positive amount; a credit is a negative one


@dataclass(frozen=True)
class PsaAction:
    """One approved change to one PSA line (or a new line on one agreement)."""

    type: ActionType
    psa_kind: str  # "connectwise" | "autotask"
    period: str  # billing period label, e.g. "2024-03"
    agreement_ref: str  # the PSA's own agreement/contract id
    line_ref: str | None = None  # the PSA's own line id; None for a new line or charge
    desired: dict[str, str] = field(default_factory=dict)  # absolute target values, as text
    seen: dict[str, str] = field(default_factory=dict)  # the line as it was at approval
    effective_date: date | None = None
    description: str | None = None
    product_ref: str | None = None
    money_effect: Decimal = Decimal(0)  # what the change bills for the period (+ = more)
    currency: str = "USD"

    def identity(self) -> dict[str, str]:
        """What is billed: the fields that make two approvals the same correction."""
        return {
            "psa": self.psa_kind,
            "type": str(self.type),
            "period": self.period,
            "agreement": self.agreement_ref,
            "line": self.line_ref or "",
            "product": self.product_ref or "",
            "desired": desired_text(self.desired),
            "effective": iso_day(self.effective_date) if self.effective_date else "",
        }


def desired_text(desired: dict[str, str]) -> str:
    """`json.dumps(desired, sort_keys=True)`, written directly when every key and value is
    text (as they always are): the same characters, without building an encoder."""
    pairs = []
    for key, value in sorted(desired.items()):
        if type(key) is not str or type(value) is not str:
            return json.dumps(desired, sort_keys=True)
        pairs.append(f"{_text(key)}: {_text(value)}")
    return "{" + ", ".join(pairs) + "}"


_text = json.encoder.encode_basestring_ascii  # json.dumps's own string encoder


def intent_key(action: PsaAction, psa_account: str) -> str:
    """A stable key for one correction: the same in every workspace that bills `psa_account`."""
    material = json.dumps({"account": psa_account, **action.identity()}, sort_keys=True)
    return hashlib.sha256(material.encode()).hexdigest()


def marker_for(key: str) -> str:
    """The short tag written into the PSA line, so anyone can see the change was made."""
    return f"TU-{key[:10]}"


def action_to_dict(action: PsaAction) -> dict[str, object]:
    """A JSON-safe form for storing an action on its finding (money stays exact text)."""
    return {
        "type": str(action.type),
        "psa_kind": action.psa_kind,
        "period": action.period,
        "agreement_ref": action.agreement_ref,
        "line_ref": action.line_ref,
        "desired": dict(action.desired),
        "seen": dict(action.seen),
        "effective_date": iso_day(action.effective_date) if action.effective_date else None,
        "description": action.description,
        "product_ref": action.product_ref,
        "money_effect": str(action.money_effect),
        "currency": action.currency,
    }


def action_from_dict(data: dict[str, object]) -> PsaAction:
    effective = data.get("effective_date")
    return PsaAction(
        type=ActionType(str(data["type"])),
        psa_kind=str(data["psa_kind"]),
        period=str(data["period"]),
        agreement_ref=str(data["agreement_ref"]),
        line_ref=str(data["line_ref"]) if data.get("line_ref") not in (None, "") else None,
        desired={str(k): str(v) for k, v in dict(data.get("desired") or {}).items()},
        seen={str(k): str(v) for k, v in dict(data.get("seen") or {}).items()},
        effective_date=date.fromisoformat(str(effective)) if effective else None,
        description=str(data["description"]) if data.get("description") else None,
        product_ref=str(data["product_ref"]) if data.get("product_ref") else None,
        money_effect=Decimal(str(data.get("money_effect") or "0")),
        currency=str(data.get("currency") or "USD"),
    )


def with_effective_date(action: PsaAction, effective: date) -> PsaAction:
    """The same action with a person's chosen effective date (desired dates follow it)."""
    desired = dict(action.desired)
    if "effective_date" in desired:
        desired["effective_date"] = effective.isoformat()
    return replace(action, effective_date=effective, desired=desired)
