"""Writes to ConnectWise additions: JSON-patch, POST, cancel, one-time charges, read-back."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.sync.connectwise import (
    SAME_PERIOD,
    ConnectWiseError,
    ConnectWiseSandbox,
    replace_ops,
)

TODAY = date(2024, 5, 15)


@pytest.fixture()
def sandbox() -> ConnectWiseSandbox:
    return ConnectWiseSandbox.seeded(companies=3, seed=2, today=TODAY)


def recurring(sb: ConnectWiseSandbox) -> dict:
    return next(a for a in sb.agreements.values() if not a["billOneTimeFlag"])


def one_time(sb: ConnectWiseSandbox) -> dict:
    return next(a for a in sb.agreements.values() if a["billOneTimeFlag"])


def test_patch_sets_absolute_values_and_later_reads_see_them(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    before = line["_info"]["lastUpdated"]
    connector = sandbox.connector()
    ops = replace_ops({"quantity": Decimal(17), "unitPrice": Decimal("26.4000"),
                       "invoiceDescription": "M365 BP [TU:7f3a]"})
    result = connector.patch_addition(agreement["id"], line["id"], ops)
    assert result.quantity == Decimal(17) and result.unit_price == Decimal("26.4000")
    assert result.invoice_description == "M365 BP [TU:7f3a]"
    assert result.last_updated is not None and result.raw["_info"]["lastUpdated"] > before
    assert result.raw["extPrice"] == Decimal("448.8")  # derived by the server
    again = connector.get_addition(agreement["id"], line["id"])
    assert again == result
    assert [w.method for w in sandbox.write_log] == ["PATCH"]
    write = sandbox.write_log[0]
    assert write.path == f"/finance/agreements/{agreement['id']}/additions/{line['id']}"
    assert write.body == [{"op": "replace", "path": "quantity", "value": 17},
                          {"op": "replace", "path": "unitPrice", "value": Decimal("26.4000")},
                          {"op": "replace", "path": "invoiceDescription",
                           "value": "M365 BP [TU:7f3a]"}]


def test_patch_wire_body_is_a_json_patch_array_with_exact_numbers(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    bodies: list[bytes] = []

    def spy(request: httpx.Request) -> httpx.Response:
        if request.method == "PATCH":
            bodies.append(request.content)
            assert request.headers["Content-Type"] == "application/json"
        return sandbox(request)

    sandbox.connector(transport=httpx.MockTransport(spy)).patch_addition(
        agreement["id"], line["id"], replace_ops({"unitCost": Decimal("0.045")}))
    assert bodies == [b'[{"op":"replace","path":"unitCost","value":0.045}]']


def test_patch_nested_reference_and_slash_paths(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    other = next(i for i in sandbox.catalog.values() if i["id"] != line["product"]["id"])
    result = sandbox.connector().patch_addition(agreement["id"], line["id"], [
        {"op": "replace", "path": "/product/id", "value": other["id"]},
        {"op": "add", "path": "/billCustomer", "value": "DoNotBill"}])
    assert result.product_external_id == str(other["id"])
    assert result.raw["product"]["identifier"] == other["identifier"]
    assert result.bill_customer == "DoNotBill"


def test_invalid_patch_is_refused_whole_with_the_servers_message(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    snapshot = json.dumps(line, default=str)
    with pytest.raises(ConnectWiseError) as err:
        sandbox.connector().patch_addition(agreement["id"], line["id"], [
            {"op": "replace", "path": "quantity", "value": 5},
            {"op": "replace", "path": "extPrice", "value": 1}])
    assert err.value.status == 400 and err.value.code == "InvalidObject"
    assert "PATCH /finance/agreements/" in str(err.value)
    assert "extPrice cannot be changed" in str(err.value)
    assert json.dumps(sandbox.additions[line["id"]], default=str) == snapshot
    assert sandbox.write_log == []


def test_create_addition_round_trip(sandbox):
    agreement = recurring(sandbox)
    item = next(iter(sandbox.catalog.values()))
    connector = sandbox.connector()
    existing = {str(i) for i in sandbox.additions}
    created = connector.create_addition(agreement["id"], {
        "product": {"id": item["id"]}, "billCustomer": "Billable", "quantity": Decimal(4),
        "unitPrice": Decimal("7.20"), "unitCost": Decimal("6.00"),
        "effectiveDate": date(2024, 6, 1), "description": "M365 BB [TU:1]"})
    assert created.external_id not in existing
    assert created.effective_date == date(2024, 6, 1) and created.quantity == Decimal(4)
    assert created.agreement_external_id == str(agreement["id"])
    listed = connector.list_additions(agreement["id"])
    assert created.external_id in {x.external_id for x in listed}
    assert sandbox.writes("POST")[0].body["effectiveDate"] == "2024-06-01T00:00:00Z"


def test_create_without_required_fields_names_them(sandbox):
    with pytest.raises(ConnectWiseError, match=r"HTTP 400 InvalidObject: .*product.*required"):
        sandbox.connector().create_addition(recurring(sandbox)["id"], {"quantity": Decimal(1)})
    with pytest.raises(ConnectWiseError, match="not found in the catalog"):
        sandbox.connector().create_addition(recurring(sandbox)["id"], {
            "product": {"id": 999999}, "billCustomer": "Billable"})


def test_cancel_addition(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    result = sandbox.connector().cancel_addition(agreement["id"], line["id"], date(2024, 5, 31))
    assert result.cancelled_date == date(2024, 5, 31)
    assert sandbox.additions[line["id"]]["cancelledDate"] == "2024-05-31T00:00:00Z"


def test_one_time_charge_on_the_one_time_agreement(sandbox):
    agreement = one_time(sandbox)
    item = next(iter(sandbox.catalog.values()))
    charge = sandbox.connector().create_one_time_charge(
        agreement["id"], product_id=item["id"], quantity=Decimal(10),
        unit_price=Decimal("86.40"), unit_cost=Decimal("72.00"),
        effective_date=date(2024, 5, 1), description="Annual M365 BB true-up [TU:9]")
    assert charge.is_one_time and charge.cancelled_date is None
    assert charge.unit_price == Decimal("86.40") and charge.description.endswith("[TU:9]")
    assert len(sandbox.additions_of(agreement["id"])) == 1


def test_one_time_charge_inside_one_period_on_a_recurring_agreement(sandbox):
    agreement = recurring(sandbox)
    item = next(iter(sandbox.catalog.values()))
    connector = sandbox.connector()
    credit = connector.create_one_time_charge(
        agreement["id"], product_id=item["id"], quantity=Decimal(-2),
        unit_price=Decimal("7.20"), effective_date=date(2024, 5, 1), mode=SAME_PERIOD,
        cancelled_date=date(2024, 5, 31), invoice_description="Credit: 2 seats removed")
    assert credit.is_one_time and credit.quantity == Decimal(-2)
    assert (credit.effective_date, credit.cancelled_date) == (date(2024, 5, 1), date(2024, 5, 31))
    read_back = next(x for x in connector.list_additions(agreement["id"])
                     if x.external_id == credit.external_id)
    assert read_back.is_one_time  # effective and cancelled inside one month
    with pytest.raises(ValueError):
        connector.create_one_time_charge(
            agreement["id"], product_id=item["id"], quantity=Decimal(1),
            unit_price=Decimal(1), effective_date=date(2024, 5, 1), mode=SAME_PERIOD)


def test_external_edit_between_approval_and_push_is_visible_and_not_logged(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    connector = sandbox.connector()
    approved = connector.get_addition(agreement["id"], line["id"])
    sandbox.edit_addition_externally(line["id"], quantity=Decimal(99),
                                     cancelledDate=date(2024, 6, 30))
    now = connector.get_addition(agreement["id"], line["id"])
    assert now.quantity == Decimal(99) and now.cancelled_date == date(2024, 6, 30)
    assert now.last_updated > approved.last_updated
    assert now.raw["_info"]["updatedBy"] == "someone_else"
    assert sandbox.write_log == []


def test_missing_addition_is_a_404(sandbox):
    agreement = recurring(sandbox)
    with pytest.raises(ConnectWiseError) as err:
        sandbox.connector().get_addition(agreement["id"], 1)
    assert err.value.status == 404
    assert str(err.value) == (f"GET /finance/agreements/{agreement['id']}/additions/1: "
                              "HTTP 404 NotFound: Addition with id 1 not found")


def test_floats_never_reach_the_wire(sandbox):
    agreement = recurring(sandbox)
    line = sandbox.additions_of(agreement["id"])[0]
    with pytest.raises(TypeError, match="Decimal"):
        sandbox.connector().patch_addition(agreement["id"], line["id"],
                                           replace_ops({"quantity": 1.5}))
    assert sandbox.write_log == []
