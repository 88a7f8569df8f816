"""The push protocol on ConnectWise: additions carry absolute values and a marker field.

ConnectWise accepts no idempotency key, so every write also sets the intent's marker in one
field of the addition (`marker_field`, by default `serialNumber`, which subscription lines do
not otherwise use). A created line is found again by that marker; an updated line is judged
by its values and the marker.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from app.domain.actions import ActionType
from app.sync.connectwise.connector import (
    ConnectWiseConnector,
    ConnectWiseError,
    OutcomeUnknownError,
    replace_ops,
)
from app.sync.http import ConnectorError
from app.sync.push.engine import PushRejected, PushUncertain, SendResult
from app.sync.push.intents import IntentView
from app.sync.push.verdict import LineSnapshot
from app.sync.records import PsaBillingLineRecord

DEFAULT_MARKER_FIELD = "serialNumber"

# Our normalised value names → ConnectWise Addition fields.
FIELDS = {
    "quantity": "quantity",
    "unit_price": "unitPrice",
    "unit_cost": "unitCost",
    "effective_date": "effectiveDate",
    "cancelled_date": "cancelledDate",
    "description": "description",
}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def line_values(record: PsaBillingLineRecord) -> dict[str, str]:
    return {
        "quantity": _text(record.quantity),
        "unit_price": _text(record.unit_price),
        "unit_cost": _text(record.unit_cost),
        "effective_date": _text(record.effective_date),
        "cancelled_date": _text(record.cancelled_date),
        "description": _text(record.description),
    }


def _wire_value(name: str, text: str) -> Any:
    if name in ("quantity", "unit_price", "unit_cost"):
        return Decimal(text)
    if name in ("effective_date", "cancelled_date"):
        return date.fromisoformat(text) if text else None
    return text


class ConnectWisePushAdapter:
    def __init__(self, connector: ConnectWiseConnector,
                 marker_field: str = DEFAULT_MARKER_FIELD) -> None:
        self.connector = connector
        self.marker_field = marker_field

    def _snapshot(self, record: PsaBillingLineRecord) -> LineSnapshot:
        return LineSnapshot(True, line_values(record), record.raw.get(self.marker_field),
                            record.external_id)

    def read(self, intent: IntentView) -> LineSnapshot:
        agreement = int(intent.target_ref["agreement"])
        if intent.action_type in (ActionType.ADD_LINE, ActionType.ONE_TIME_CHARGE):
            for record in self.connector.list_additions(agreement):
                if intent.marker in (record.raw.get(self.marker_field) or ""):
                    return self._snapshot(record)
            return LineSnapshot(False)
        try:
            record = self.connector.get_addition(agreement, int(intent.target_ref["line"]))
        except ConnectWiseError as exc:
            if exc.status == 404:
                return LineSnapshot(False)
            raise
        return self._snapshot(record)

    def send(self, intent: IntentView) -> SendResult:
        agreement = int(intent.target_ref["agreement"])
        try:
            if intent.action_type in (ActionType.ADD_LINE, ActionType.ONE_TIME_CHARGE):
                record = self.connector.create_addition(
                    agreement, self._new_line_body(intent),
                    one_time=intent.action_type == ActionType.ONE_TIME_CHARGE)
            else:
                changes = {FIELDS[name]: _wire_value(name, text)
                           for name, text in intent.desired_state.items()}
                changes[self.marker_field] = intent.marker
                record = self.connector.patch_addition(
                    agreement, int(intent.target_ref["line"]), replace_ops(changes))
        except OutcomeUnknownError as exc:
            raise PushUncertain(str(exc)) from exc
        except ConnectWiseError as exc:
            if exc.status is not None and exc.status >= 500:
                raise PushUncertain(str(exc)) from exc
            raise PushRejected(str(exc)) from exc
        except ConnectorError as exc:  # the connection never opened: nothing was sent
            raise PushRejected(str(exc)) from exc
        return SendResult(record.external_id, {"line": line_values(record)})

    def _new_line_body(self, intent: IntentView) -> dict[str, Any]:
        desired = intent.desired_state
        product = intent.payload.get("product_ref")
        if not product:
            raise PushRejected("a new ConnectWise addition needs a catalogue product; map the "
                               "vendor SKU to a PSA product first")
        body: dict[str, Any] = {
            "product": {"id": int(product)},
            "billCustomer": "Billable",
            self.marker_field: intent.marker,
        }
        for name, text in desired.items():
            if text != "":
                body[FIELDS[name]] = _wire_value(name, text)
        return body
