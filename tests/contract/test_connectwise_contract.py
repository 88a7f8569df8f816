"""The ConnectWise sandbox and connector against the official OpenAPI subset.

Every sandbox route must be a real CW path; every sandbox answer must validate against the
operation's declared response schema (OpenAPI 3.0: `nullable`, $refs into components) and
use no property the model lacks; every body the connector sends must validate against the
operation's request schema. So the fake cannot drift into an API CW does not have.
"""

from __future__ import annotations

import copy
import json
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker

from app.sync.connectwise import SAME_PERIOD, ConnectWiseSandbox, replace_ops
from tests.contract.reference import reference_dir

MEDIA = "application/vnd.connectwise.com+json; version=2025.1"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = reference_dir("connectwise", "cw-manage-openapi-subset.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def index() -> set[tuple[str, str]]:
    path = reference_dir("connectwise", "cw-manage-endpoint-index.json")
    endpoints = json.loads(path.read_text(encoding="utf-8"))["endpoints"]
    return {(e["method"], e["path"]) for e in endpoints}


@pytest.fixture()
def sandbox() -> ConnectWiseSandbox:
    return ConnectWiseSandbox.seeded(companies=4, seed=11, today=date(2024, 5, 15))


def validate(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """All violations of `schema` (whose $refs point into the spec's components)."""
    root = {**schema, "components": spec["components"]}
    validator = OAS30Validator(root, format_checker=oas30_format_checker)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(instance)]


def unknown_properties(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """Properties the model does not declare (the spec allows extras; CW never sends any)."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    if schema.get("type") == "array" and isinstance(instance, list):
        return [p for item in instance for p in unknown_properties(spec, schema["items"], item)]
    props = schema.get("properties")
    if not isinstance(instance, dict) or props is None:
        return []
    found = [key for key in instance if key not in props]
    for key, value in instance.items():
        if key in props and "$ref" in props[key] or props.get(key, {}).get("type") == "array":
            found += [f"{key}.{p}" for p in unknown_properties(spec, props[key], value)]
    return found


def operation(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    return spec["paths"][template][method.lower()]


def response_schema(spec: dict[str, Any], method: str, template: str) -> dict[str, Any]:
    responses = operation(spec, method, template)["responses"]
    (status, declared), = responses.items()
    return declared["content"][MEDIA]["schema"]


def client(sb: ConnectWiseSandbox) -> httpx.Client:
    c = sb.credentials
    return httpx.Client(base_url=sb.base_url, transport=httpx.MockTransport(sb),
                        auth=(f"{c.company_id}+{c.public_key}", c.private_key),
                        headers={"clientId": c.client_id})


def concrete(sb: ConnectWiseSandbox, template: str) -> str:
    agreement = next(a for a in sb.agreements.values() if sb.additions_of(a["id"]))
    line = sb.additions_of(agreement["id"])[0]
    ids = {"/company/companies/{id}": next(iter(sb.companies)),
           "/finance/agreements/{id}": agreement["id"],
           "/procurement/catalog/{id}": next(iter(sb.catalog))}
    path = template.replace("{parentId}", str(agreement["id"]))
    if template.endswith("/additions/{id}"):
        return path.replace("{id}", str(line["id"]))
    return path.replace("{id}", str(ids.get(template, "")))


def test_every_sandbox_route_is_a_real_cw_path(sandbox, index, spec):
    assert sandbox.route_templates, "the sandbox registered no routes"
    for method, template in sandbox.route_templates:
        assert (method, template) in index, f"{method} {template} is not in the CW spec"
        assert method.lower() in spec["paths"].get(template, {}), f"{template} not in subset"


def test_every_get_answer_validates_against_its_response_schema(sandbox, spec):
    checked = 0
    with client(sandbox) as http:
        for method, template in sandbox.route_templates:
            if method != "GET":
                continue
            response = http.get(concrete(sandbox, template), params={"pageSize": 1000})
            assert response.status_code == 200, (template, response.text)
            body = response.json()
            schema = response_schema(spec, method, template)
            assert validate(spec, schema, body) == [], template
            assert unknown_properties(spec, schema, body) == [], template
            if schema.get("type") == "array":
                assert isinstance(body, list) and body, f"{template}: empty list checks nothing"
            checked += 1
    assert checked >= 12


def test_write_answers_validate(sandbox, spec):
    answers: list[tuple[str, httpx.Response]] = []

    def spy(request: httpx.Request) -> httpx.Response:
        response = sandbox(request)
        answers.append((request.method, response))
        return response

    connector = sandbox.connector(transport=httpx.MockTransport(spy))
    agreement = next(a for a in sandbox.agreements.values() if a["billOneTimeFlag"])
    created = connector.create_one_time_charge(
        agreement["id"], product_id=next(iter(sandbox.catalog)), quantity=Decimal(2),
        unit_price=Decimal("12.3456"), effective_date=date(2024, 5, 1),
        invoice_description="True-up [TU:1]")
    connector.patch_addition(agreement["id"], int(created.external_id),
                             replace_ops({"quantity": Decimal(3)}))
    template = "/finance/agreements/{parentId}/additions"
    statuses = {"POST": (201, template), "PATCH": (200, template + "/{id}")}
    assert [m for m, _ in answers] == ["POST", "PATCH"]
    for method, response in answers:
        status, path = statuses[method]
        assert response.status_code == status
        assert status == int(next(iter(operation(spec, method, path)["responses"])))
        schema = response_schema(spec, method, path)
        assert validate(spec, schema, response.json()) == []
        assert unknown_properties(spec, schema, response.json()) == []


def test_error_answers_are_error_response_messages(sandbox, spec):
    with client(sandbox) as http:
        bad = http.get("/finance/agreements", params={"conditions": "nosuch=1"})
        missing = http.get("/company/companies/1")
    with httpx.Client(transport=httpx.MockTransport(sandbox)) as anonymous:
        unauth = anonymous.get(sandbox.base_url + "/system/info")
    schema = {"$ref": "#/components/schemas/ErrorResponseMessage"}
    for response in (bad, missing, unauth):
        assert response.status_code in (400, 401, 404)
        assert validate(spec, schema, response.json()) == []
        assert unknown_properties(spec, schema, response.json()) == []
        assert response.json()["message"]


def test_connector_request_bodies_validate(sandbox, spec):
    sent: list[httpx.Request] = []
    connector = sandbox.connector(transport=httpx.MockTransport(
        lambda r: sent.append(r) or sandbox(r)))
    recurring = next(a for a in sandbox.agreements.values()
                     if not a["billOneTimeFlag"] and sandbox.additions_of(a["id"]))
    line = sandbox.additions_of(recurring["id"])[0]
    item = next(iter(sandbox.catalog))
    connector.create_addition(recurring["id"], {
        "product": {"id": item}, "billCustomer": "Billable", "quantity": Decimal(4),
        "unitPrice": Decimal("7.20"), "unitCost": Decimal("6.00"),
        "effectiveDate": date(2024, 6, 1), "invoiceDescription": "x [TU:2]"})
    connector.create_one_time_charge(
        recurring["id"], product_id=item, quantity=Decimal(-1), unit_price=Decimal("7.20"),
        effective_date=date(2024, 5, 1), mode=SAME_PERIOD, cancelled_date=date(2024, 5, 31))
    connector.patch_addition(recurring["id"], line["id"], replace_ops(
        {"quantity": Decimal(9), "unitPrice": Decimal("0.045"), "invoiceDescription": "y"}))
    connector.cancel_addition(recurring["id"], line["id"], date(2024, 5, 31))
    writes = [r for r in sent if r.method in ("POST", "PATCH")]
    assert [r.method for r in writes] == ["POST", "POST", "PATCH", "PATCH"]
    patch_spec = _patch_value_as_any(spec)
    for request in writes:
        template = "/finance/agreements/{parentId}/additions" + (
            "/{id}" if request.method == "PATCH" else "")
        schema = operation(spec, request.method, template)["requestBody"]["content"][
            "application/json"]["schema"]
        body = json.loads(request.content)
        assert validate(patch_spec, schema, body) == [], request.content
        assert unknown_properties(spec, schema, body) == []


def test_patch_operation_value_type_is_the_generators_any(spec):
    """PatchOperation.value is C# `object` rendered as `type: object`; CW takes any JSON value.

    op and path are still checked strictly; only value's type is relaxed above.
    """
    schema = {"$ref": "#/components/schemas/PatchOperation"}
    strict = validate(spec, schema, {"op": "replace", "path": "quantity", "value": 9})
    assert strict == ["['value']: 9 is not of type 'object'"]
    assert validate(spec, schema, {"op": 1, "path": "quantity", "value": {}}) != []


def _patch_value_as_any(spec: dict[str, Any]) -> dict[str, Any]:
    relaxed = copy.deepcopy(spec)
    relaxed["components"]["schemas"]["PatchOperation"]["properties"]["value"] = {}
    return relaxed
