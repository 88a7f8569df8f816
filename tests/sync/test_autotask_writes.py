"""Writes to Autotask: adjustments (unit deltas), contract services, charges; read-back."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.sync.autotask import AutotaskSandbox, ValidationError
from app.sync.autotask import sandbox_data as data
from app.sync.autotask.wire import dumps

TODAY = date(2024, 5, 15)


@pytest.fixture()
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox.seeded(companies=3, seed=2, today=TODAY)


def recurring_line(sb: AutotaskSandbox) -> tuple[int, int]:
    contract = next(c for c in sb.contracts.values()
                    if c["contractType"] == data.RECURRING_SERVICE and c["status"] == 1)
    line = next(s for s in sb.contract_services.values() if s["contractID"] == contract["id"])
    return contract["id"], line["id"]


def fixed_contract(sb: AutotaskSandbox) -> int:
    return next(c["id"] for c in sb.contracts.values() if c["contractType"] == data.FIXED_PRICE)


def test_adjustment_changes_units_from_its_effective_date_on(sandbox):
    contract, line = recurring_line(sandbox)
    before = sandbox.units_on(line, TODAY)
    bodies: list[bytes] = []

    def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and "Adjustments" in request.url.path:
            bodies.append(request.content)
        return sandbox(request)

    connector = sandbox.connector(transport=httpx.MockTransport(spy))
    item = connector.create_service_adjustment(
        contract, contract_service_id=line, unit_change=4, effective_date=date(2024, 5, 20),
        adjusted_unit_price=Decimal("7.2500"))
    assert isinstance(item, int)
    assert bodies == [(
        f'{{"contractID":{contract},"unitChange":4,"effectiveDate":"2024-05-20T00:00:00",'
        f'"contractServiceID":{line},"adjustedUnitPrice":7.2500}}').encode()]
    assert connector.units_on(line, date(2024, 5, 19)).units == Decimal(before)
    assert connector.units_on(line, date(2024, 5, 20)).units == Decimal(before + 4)
    assert connector.units_on(line, date(2024, 8, 1)).units == Decimal(before + 4)
    assert connector.get_contract_service(line).unit_price == Decimal("7.2500")
    [write] = sandbox.writes("POST")
    assert write.path == "/V1.0/ContractServiceAdjustments" and write.body["unitChange"] == 4


def test_adjustment_is_create_only(sandbox):
    contract, line = recurring_line(sandbox)
    connector = sandbox.connector()
    connector.create_service_adjustment(contract, contract_service_id=line, unit_change=1,
                                        effective_date=TODAY)
    for method in ("GET", "PATCH"):
        response = connector.client._client().client.request(
            method, sandbox.base_url + "/V1.0/ContractServiceAdjustments")
        assert response.status_code == 405


def test_adjustment_with_a_service_id_adds_the_service_to_the_contract(sandbox):
    contract, _ = recurring_line(sandbox)
    used = {s["serviceID"] for s in sandbox.contract_services.values()
            if s["contractID"] == contract}
    service = next(s for s in sandbox.services if s not in used)
    connector = sandbox.connector()
    connector.create_service_adjustment(contract, service_id=service, unit_change=6,
                                        effective_date=date(2024, 5, 1),
                                        adjusted_unit_price=Decimal("12.00"))
    [line] = connector.find_contract_services(contract, service)
    assert connector.units_on(line["id"], TODAY).units == Decimal(6)
    assert line["unitPrice"] == Decimal("12.00")


def test_create_and_patch_a_contract_service(sandbox):
    contract, _ = recurring_line(sandbox)
    used = {s["serviceID"] for s in sandbox.contract_services.values()
            if s["contractID"] == contract}
    service = next(s for s in sandbox.services if s not in used)
    connector = sandbox.connector()
    line = connector.create_contract_service(contract, service, unit_price=Decimal("4.80"),
                                             unit_cost=Decimal("4.00"),
                                             invoice_description="Teams")
    assert connector.get_contract_service(line).unit_price == Decimal("4.80")
    assert connector.update_contract_service(contract, line, unit_price=Decimal("5.0450"),
                                             unit_cost=Decimal("0.045")) == line
    record = connector.get_contract_service(line)
    assert (record.unit_price, record.unit_cost) == (Decimal("5.0450"), Decimal("0.045"))
    assert [w.method for w in sandbox.write_log] == ["POST", "PATCH"]
    assert sandbox.write_log[1].body == {"id": line, "unitPrice": Decimal("5.0450"),
                                         "unitCost": Decimal("0.045")}
    with pytest.raises(ValidationError, match="already on contract"):
        connector.create_contract_service(contract, service, unit_price=Decimal(1))


def test_one_time_charge_and_credit_on_a_fixed_price_contract(sandbox):
    contract = fixed_contract(sandbox)
    connector = sandbox.connector()
    charge = connector.create_contract_charge(
        contract, name="M365 BP annual [TU-abc]", quantity=Decimal(12),
        unit_price=Decimal("26.40"), unit_cost=Decimal("22.00"),
        date_purchased=date(2024, 5, 1), description="NCE annual, TU-abc")
    credit = connector.create_contract_charge(
        contract, name="Credit [TU-def]", quantity=Decimal(1), unit_price=Decimal("-13.20"),
        date_purchased=date(2024, 5, 1))
    got = connector.get_contract_charge(charge)
    assert got.quantity == Decimal(12) and got.unit_price == Decimal("26.40")
    assert got.raw["billableAmount"] == Decimal("316.80")
    assert connector.get_contract_charge(credit).unit_price == Decimal("-13.20")
    assert [c.external_id for c in connector.find_charges(contract, "TU-abc")] == [
        f"charge:{charge}"]


def test_validation_error_is_500_with_errors_shown_and_never_retried(sandbox):
    contract, line = recurring_line(sandbox)
    sleeps: list[float] = []
    connector = sandbox.connector(sleep=sleeps.append)
    with pytest.raises(ValidationError) as err:
        connector.create_service_adjustment(contract, contract_service_id=line,
                                            unit_change=-10_000, effective_date=TODAY)
    assert err.value.status == 500
    assert err.value.errors == ("The adjustment would leave fewer than zero units.",)
    assert "Autotask refused the request: The adjustment would leave fewer than zero units" \
        in str(err.value) and "not a passing fault" in str(err.value)
    posts = [entry for entry in sandbox.log if entry[0] == "POST"]
    assert len(posts) == 1 and sleeps == [] and sandbox.write_log == []


def test_adjustments_only_on_recurring_service_contracts(sandbox):
    contract = fixed_contract(sandbox)
    service = next(iter(sandbox.services))
    with pytest.raises(ValidationError, match="Recurring Service"):
        sandbox.connector().create_service_adjustment(contract, service_id=service,
                                                      unit_change=1, effective_date=TODAY)


def test_unknown_field_and_wrong_types_are_refused(sandbox):
    contract, line = recurring_line(sandbox)
    with httpx.Client(transport=httpx.MockTransport(sandbox), base_url=sandbox.base_url,
                      headers=_headers(sandbox)) as http:
        bad = http.post("/V1.0/ContractServiceAdjustments", content=dumps(
            {"contractID": contract, "contractServiceID": line, "unitChange": 1,
             "effectiveDate": "2024-05-01T00:00:00", "seats": 4}))
        half = http.post("/V1.0/ContractServiceAdjustments", content=json.dumps(
            {"contractID": contract, "contractServiceID": line, "unitChange": 1.5,
             "effectiveDate": "2024-05-01T00:00:00"}))
    assert bad.status_code == 500 and bad.json() == {
        "errors": ["Unable to find seats in the ContractServiceAdjustment entity."]}
    assert half.status_code == 500 and "unitChange must be an integer" in half.json()["errors"][0]
    assert sandbox.write_log == []


def test_floats_and_fractional_units_never_leave_the_connector(sandbox):
    contract, line = recurring_line(sandbox)
    connector = sandbox.connector()
    with pytest.raises(TypeError, match="floats are not allowed"):
        connector.create_contract_charge(contract, name="x", quantity=Decimal(1),
                                         unit_price=1.5, date_purchased=TODAY)  # type: ignore
    with pytest.raises(ValueError, match="whole number"):
        connector.create_service_adjustment(contract, contract_service_id=line,
                                            unit_change=Decimal("1.5"),  # type: ignore
                                            effective_date=TODAY)
    assert sandbox.write_log == []


def _headers(sb: AutotaskSandbox) -> dict[str, str]:
    c = sb.credentials
    return {"UserName": c.username, "Secret": c.secret, "ApiIntegrationCode": c.integration_code}
