"""The push protocol on Autotask: seats move by adjustments, which can never be read back.

A ContractServiceAdjustment is a create-only delta with no field for a marker, so it is
judged only by its effect: `read` returns the units of the contract service's unit row on
the intent's effective date (or the period's first day), and the engine compares them with
what was seen at approval and what is desired. `send` re-reads, refuses if the units moved,
and posts desired − current. Resending an adjustment is a double bill, so an uncertain send
is only ever settled by that re-read. One-time charges carry the intent's marker in their
name and description and are found again by it; price and cost are absolute PATCHes.
A wrong push is undone by `reversal_action`, a new opposite action, never by deleting.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from app.domain.actions import ActionType, PsaAction
from app.sync.autotask.connector import AutotaskConnector
from app.sync.autotask.errors import (
    AutotaskError,
    OutcomeUnknownError,
    ThresholdExhaustedError,
    ValidationError,
)
from app.sync.http import ConnectorError
from app.sync.push.engine import PushRejected, PushUncertain, SendResult
from app.sync.push.intents import IntentView
from app.sync.push.verdict import LineSnapshot, same_value
from app.sync.records import PsaBillingLineRecord

SEATS = (ActionType.SET_QUANTITY, ActionType.CANCEL_LINE)
NAME_LIMIT = 100  # ContractCharge.name


def entity_for(action_type: str) -> str:
    """The PushIntent.entity of an Autotask action (what the PSA record is)."""
    return {ActionType.SET_QUANTITY: "adjustment", ActionType.CANCEL_LINE: "adjustment",
            ActionType.ADD_LINE: "adjustment", ActionType.SET_PRICE: "contract_service",
            ActionType.ONE_TIME_CHARGE: "contract_charge"}[ActionType(action_type)]


def seat_day(intent: IntentView) -> date:
    """The day whose unit row shows the change: the effective date, else the period start.

    A cancellation without an effective date takes effect the day after its cancelled date.
    """
    effective = intent.payload.get("effective_date")
    if effective:
        return date.fromisoformat(effective)
    cancelled = intent.desired_state.get("cancelled_date")
    if intent.action_type == ActionType.CANCEL_LINE and cancelled:
        return date.fromisoformat(cancelled) + timedelta(days=1)
    period = str(intent.payload.get("period") or "")
    try:
        return date.fromisoformat(f"{period[:7]}-01")
    except ValueError:
        raise PushRejected(f"intent {intent.id} has no effective date and no period like "
                           "'2024-03'; Autotask needs the day the units change") from None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _decimal(intent: IntentView, name: str) -> Decimal | None:
    text = intent.desired_state.get(name)
    if text in (None, ""):
        return None
    try:
        return Decimal(text)
    except InvalidOperation:
        raise PushRejected(f"{name} {text!r} is not a number") from None


def charge_values(record: PsaBillingLineRecord) -> dict[str, str]:
    return {"quantity": _text(record.quantity), "unit_price": _text(record.unit_price),
            "unit_cost": _text(record.unit_cost),
            "effective_date": _text(record.effective_date),
            "description": _text(record.description)}


class AutotaskPushAdapter:
    """PushAdapter for one Autotask connection (see app.sync.push.engine)."""

    def __init__(self, connector: AutotaskConnector, *,
                 charge_extra: Mapping[str, Any] | None = None) -> None:
        self.connector = connector
        self.charge_extra = dict(charge_extra or {})  # tenant picklists: status, chargeType

    # ------------------------------------------------------------------ read

    def read(self, intent: IntentView) -> LineSnapshot:
        contract = int(intent.target_ref["agreement"])
        kind = intent.action_type
        if kind == ActionType.ONE_TIME_CHARGE:
            found = self.connector.find_charges(contract, intent.marker)
            if not found:
                return LineSnapshot(False)
            charge = min(found, key=lambda c: c.external_id)
            marker = f"{charge.invoice_description or ''} {charge.description or ''}"
            return LineSnapshot(True, charge_values(charge), marker, charge.external_id)
        if kind == ActionType.ADD_LINE:
            service = self._service_ref(intent)
            lines = self.connector.find_contract_services(contract, service)
            if not lines:
                return LineSnapshot(False)
            line_id = min(int(line["id"]) for line in lines)
            return self._line_snapshot(intent, line_id, contract)
        return self._line_snapshot(intent, int(intent.target_ref["line"]), contract)

    def _line_snapshot(self, intent: IntentView, line_id: int, contract: int) -> LineSnapshot:
        """Units of the line on the seat day, plus price/cost when the intent is about them."""
        values: dict[str, str] = {}
        wants_price = intent.action_type == ActionType.SET_PRICE or any(
            n in intent.desired_state for n in ("unit_price", "unit_cost"))
        if intent.action_type != ActionType.SET_PRICE:
            unit = self.connector.units_on(line_id, seat_day(intent))
            units = unit.units if unit is not None else Decimal(0)
            values["quantity"] = _text(units)
            if intent.action_type == ActionType.CANCEL_LINE:
                values["cancelled_date"] = (intent.desired_state.get("cancelled_date", "")
                                            if units == 0 else "")
            if unit is None:
                wants_price = True  # no unit row: make sure the line exists and is ours
        if wants_price:
            record = self.connector.get_contract_service(line_id)  # nothing: NotVisibleError
            if record.agreement_external_id != str(contract):
                return LineSnapshot(False)
            values["unit_price"] = _text(record.unit_price)
            values["unit_cost"] = _text(record.unit_cost)
        return LineSnapshot(True, values, None, str(line_id))

    # ------------------------------------------------------------------ send

    def send(self, intent: IntentView) -> SendResult:
        kind = intent.action_type
        if kind in SEATS:
            return self._send_seats(intent)
        write: Callable[[], SendResult] = {
            ActionType.ADD_LINE: lambda: self._add_line(intent),
            ActionType.SET_PRICE: lambda: self._set_price(intent),
            ActionType.ONE_TIME_CHARGE: lambda: self._charge(intent),
        }[ActionType(kind)]
        return _guarded(write)

    def _send_seats(self, intent: IntentView) -> SendResult:
        try:
            current = self.read(intent)
        except Exception as exc:  # noqa: BLE001 - nothing was written yet
            raise PushRejected(f"could not re-read the units before writing: {exc}") from exc
        if not current.exists:
            raise PushRejected("the contract service is no longer on this contract")
        seen = intent.seen_state.get("quantity")
        now = current.values["quantity"]
        if seen is not None and not same_value(seen, now):
            raise PushRejected(f"the units changed since approval (were {seen}, are {now}); "
                               "nothing was sent")
        desired = _decimal(intent, "quantity")
        if desired is None:
            desired = Decimal(0) if intent.action_type == ActionType.CANCEL_LINE else None
        if desired is None:
            raise PushRejected("a seat change needs a desired quantity")
        delta = desired - Decimal(now)
        if delta != delta.to_integral_value():
            raise PushRejected(f"Autotask counts whole units; {desired} is not one")
        line = int(intent.target_ref["line"])
        if delta == 0:
            return SendResult(str(line), {"unit_change": 0, "units": now})
        day = seat_day(intent)

        def post() -> SendResult:
            item = self.connector.create_service_adjustment(
                int(intent.target_ref["agreement"]), contract_service_id=line,
                unit_change=int(delta), effective_date=day,
                adjusted_unit_price=_decimal(intent, "unit_price"),
                adjusted_unit_cost=_decimal(intent, "unit_cost"))
            return SendResult(str(line), {"adjustment_id": item, "unit_change": int(delta),
                                          "units_before": now, "units_after": str(desired),
                                          "effective_date": day.isoformat()})

        return _guarded(post)

    def _add_line(self, intent: IntentView) -> SendResult:
        """One adjustment with the service id: Autotask adds the service with its units."""
        contract, service = int(intent.target_ref["agreement"]), self._service_ref(intent)
        quantity = _decimal(intent, "quantity") or Decimal(0)
        if quantity != quantity.to_integral_value() or quantity < 0:
            raise PushRejected(f"Autotask counts whole units; {quantity} is not one")
        price, cost = _decimal(intent, "unit_price"), _decimal(intent, "unit_cost")
        if quantity == 0:
            if price is None:
                raise PushRejected("a new contract service needs a unit price")
            item = self.connector.create_contract_service(
                contract, service, unit_price=price, unit_cost=cost,
                internal_description=intent.marker)
            return SendResult(str(item), {"contract_service_id": item})
        item = self.connector.create_service_adjustment(
            contract, service_id=service, unit_change=int(quantity),
            effective_date=seat_day(intent), adjusted_unit_price=price, adjusted_unit_cost=cost)
        return SendResult(None, {"adjustment_id": item, "unit_change": int(quantity)})

    def _set_price(self, intent: IntentView) -> SendResult:
        price, cost = _decimal(intent, "unit_price"), _decimal(intent, "unit_cost")
        if price is None and cost is None:
            raise PushRejected("a price change needs unit_price and/or unit_cost")
        line = int(intent.target_ref["line"])
        self.connector.update_contract_service(int(intent.target_ref["agreement"]), line,
                                               unit_price=price, unit_cost=cost)
        return SendResult(str(line), {"unit_price": _text(price), "unit_cost": _text(cost)})

    def _charge(self, intent: IntentView) -> SendResult:
        price = _decimal(intent, "unit_price")
        if price is None:
            raise PushRejected("a one-time charge needs a unit price (negative for a credit)")
        text = intent.desired_state.get("description") or intent.payload.get("description") \
            or "TrueUp correction"
        tag = f" [{intent.marker}]"
        name = text[: NAME_LIMIT - len(tag)] + tag
        effective = intent.desired_state.get("effective_date")
        product = intent.payload.get("product_ref")
        item = self.connector.create_contract_charge(
            int(intent.target_ref["agreement"]), name=name,
            quantity=_decimal(intent, "quantity") or Decimal(1), unit_price=price,
            unit_cost=_decimal(intent, "unit_cost"),
            date_purchased=date.fromisoformat(effective) if effective else seat_day(intent),
            description=f"{text} (TrueUp {intent.marker})",
            product_id=int(product) if product else None, extra=self.charge_extra)
        return SendResult(f"charge:{item}", {"charge_id": item})

    @staticmethod
    def _service_ref(intent: IntentView) -> int:
        product = intent.payload.get("product_ref")
        if not product:
            raise PushRejected("a new Autotask contract service needs a Service; map the "
                               "vendor SKU to an Autotask service first")
        return int(product)


def _guarded(write: Callable[[], SendResult]) -> SendResult:
    """Map connector failures onto the engine's two outcomes: surely not applied, or maybe."""
    try:
        return write()
    except OutcomeUnknownError as exc:
        raise PushUncertain(str(exc)) from exc
    except (ValidationError, ThresholdExhaustedError) as exc:
        raise PushRejected(str(exc)) from exc
    except AutotaskError as exc:
        if exc.status is not None and exc.status >= 500:
            raise PushUncertain(str(exc)) from exc
        raise PushRejected(str(exc)) from exc
    except ConnectorError as exc:  # never sent (connection refused, cancelled)
        raise PushRejected(str(exc)) from exc


def reversal_action(action: PsaAction, *, effective_date: date | None = None,
                    line_ref: str | None = None) -> PsaAction:
    """The opposite of a pushed action, as a new action to approve and push (never a delete).

    Seats and prices swap seen and desired (the undo is itself judged against the PSA);
    a one-time charge is answered by a credit of the same amount; an added line goes back
    to 0 units (`line_ref`: the created contract service); a cancellation restores the seats
    seen at approval. The reversal bills the opposite money effect.
    """
    if action.psa_kind != "autotask":
        raise ValueError("reversal_action is for Autotask actions")
    label = f"Reversal of: {action.description or action.type}"
    effective = effective_date or action.effective_date
    cancelled = action.desired.get("cancelled_date")
    if effective is None and action.type == ActionType.CANCEL_LINE and cancelled:
        effective = date.fromisoformat(cancelled) + timedelta(days=1)  # the units' day
    common = {"effective_date": effective, "description": label,
              "money_effect": -action.money_effect}
    if action.type in (ActionType.SET_QUANTITY, ActionType.SET_PRICE):
        return replace(action, desired=dict(action.seen), seen=dict(action.desired), **common)
    if action.type == ActionType.ONE_TIME_CHARGE:
        desired = dict(action.desired)
        desired["unit_price"] = str(-Decimal(desired["unit_price"]))
        desired["description"] = label
        return replace(action, desired=desired, seen={}, **common)
    if action.type == ActionType.ADD_LINE:
        if not line_ref:
            raise ValueError("reversing an added line needs the created contract service id")
        quantity = action.desired.get("quantity", "0")
        return replace(action, type=ActionType.SET_QUANTITY, line_ref=line_ref,
                       seen={"quantity": quantity}, desired={"quantity": "0"}, **common)
    if action.type == ActionType.CANCEL_LINE:
        if "quantity" not in action.seen:
            raise ValueError("reversing a cancellation needs the units seen at approval")
        return replace(action, type=ActionType.SET_QUANTITY, seen={"quantity": "0"},
                       desired={"quantity": action.seen["quantity"]}, **common)
    raise ValueError(f"cannot reverse a {action.type} action")
