"""The Autotask sandbox and connector against the swagger subset and the real samples.

The swagger spells properties in PascalCase while live JSON is camelCase (see the samples);
names are case-insensitive, so each instance is mapped onto the model's declared names
case-insensitively, and any property the model lacks is reported. The mapped instance is
then validated with a real JSON-schema validator (Draft 4, as Swagger 2.0 uses). Three
generator quirks are relaxed, each proven necessary by a real sample below: Swagger 2.0 has
no `nullable` (the real Company sample is full of nulls), C# `object` is rendered as
`type: object` (the real create answer's itemId and the fields sample's booleans), and
Autotask's date-times carry no zone (`2016-03-30T13:10:35.563`).
"""

from __future__ import annotations

import copy
import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from jsonschema import Draft4Validator, FormatChecker

from app.sync.autotask import AutotaskSandbox
from app.sync.autotask import sandbox_data as data
from app.sync.autotask.sandbox import ENTITIES
from tests.contract.reference import reference_dir

MODELS = {"Companies": "CompanyModel", "Contracts": "ContractModel", "Services": "ServiceModel",
          "ContractServices": "ContractServiceModel",
          "ContractServiceUnits": "ContractServiceUnitModel",
          "ContractCharges": "ContractChargeModel"}
TODAY = date(2024, 5, 15)
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _autotask_date_time(value: object) -> bool:
    """ISO 8601 as Autotask writes it: with or without a zone, milliseconds optional."""
    return not isinstance(value, str) or bool(datetime.fromisoformat(value.replace("Z", "+00:00")))


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -2**31 <= value < 2**31


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -2**63 <= value < 2**63


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    path = reference_dir("autotask", "autotask-rest-v1.0-swagger.subset-contracts.json")
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def samples() -> dict[str, Any]:
    folder = reference_dir("autotask", "samples")
    return {p.name.split(".")[0]: json.loads(p.read_text(encoding="utf-8"))
            for p in folder.glob("*.json")}


@pytest.fixture()
def sandbox() -> AutotaskSandbox:
    return AutotaskSandbox.seeded(companies=4, seed=11, today=TODAY)


# ------------------------------------------------------------------ machinery


def _nullable(schema: Any) -> Any:
    """Every declared property may also be null (what Swagger 2.0 cannot say)."""
    if isinstance(schema, dict):
        out = {k: _nullable(v) for k, v in schema.items()}
        if isinstance(out.get("properties"), dict):
            for name, prop in out["properties"].items():
                if "$ref" in prop:
                    out["properties"][name] = {"anyOf": [prop, {"type": "null"}]}
                elif isinstance(prop.get("type"), str):
                    prop["type"] = [prop["type"], "null"]
        return out
    if isinstance(schema, list):
        return [_nullable(v) for v in schema]
    return schema


def relaxed(spec: dict[str, Any], *, value_item: bool = False) -> dict[str, Any]:
    defs = _nullable(copy.deepcopy(spec["definitions"]))
    defs["Object"] = {}  # C# object: any JSON value
    if value_item:  # Filter.value: the .NET ValueItem model; the API takes a plain value
        defs["Filter"]["properties"]["value"] = {}
    return defs


def resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = spec["definitions"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def pascal(spec: dict[str, Any], schema: dict[str, Any], instance: Any, where: str = ""
           ) -> tuple[Any, list[str]]:
    """The instance with keys renamed to the model's spelling, and the undeclared keys."""
    schema = resolve(spec, schema)
    if isinstance(instance, list) and "items" in schema:
        mapped, unknown = [], []
        for n, item in enumerate(instance):
            m, u = pascal(spec, schema["items"], item, f"{where}[{n}]")
            mapped.append(m)
            unknown += u
        return mapped, unknown
    props = schema.get("properties")
    if not isinstance(instance, dict) or props is None:
        return instance, []
    names = {name.lower(): name for name in props}
    mapped, unknown = {}, []
    for key, value in instance.items():
        name = names.get(key.lower())
        if name is None:
            unknown.append(f"{where}.{key}")
            continue
        mapped[name], inner = pascal(spec, props[name], value, f"{where}.{key}")
        unknown += inner
    return mapped, unknown


def check(spec: dict[str, Any], model: str, instance: Any, *, value_item: bool = False
          ) -> list[str]:
    """Undeclared properties plus schema violations of `instance` against `model`."""
    schema = {"$ref": f"#/definitions/{model}"}
    mapped, unknown = pascal(spec, schema, instance)
    root = {**schema, "definitions": relaxed(spec, value_item=value_item)}
    validator = Draft4Validator(root, format_checker=FORMATS)
    return unknown + [f"{list(e.absolute_path)}: {e.message}"
                      for e in validator.iter_errors(json.loads(json.dumps(mapped,
                                                                            default=str)))]


def client(sb: AutotaskSandbox) -> httpx.Client:
    c = sb.credentials
    return httpx.Client(base_url=sb.base_url, transport=httpx.MockTransport(sb), headers={
        "UserName": c.username, "Secret": c.secret, "ApiIntegrationCode": c.integration_code})


def body_model(spec: dict[str, Any], method: str, template: str) -> str:
    op = spec["paths"][template][method.lower()]
    body = next(p for p in op["parameters"] if p["in"] == "body")
    return body["schema"]["$ref"].rsplit("/", 1)[-1]


def spec_path(spec: dict[str, Any], template: str) -> str | None:
    wanted = template.lower()
    return next((p for p in spec["paths"] if p.lower() == wanted), None)


# ------------------------------------------------------------------ the machinery is honest


def test_the_real_samples_pass_and_show_why_each_relaxation_is_needed(spec, samples):
    company = samples["companies-query"]["items"][0]
    assert check(spec, "CompanyModel", company) == []
    assert check(spec, "CompanyModel", {**company, "seats": 3}) == [".seats"]
    assert check(spec, "CompanyModel", {**company, "companyType": "one"}) != []
    strict = Draft4Validator({"$ref": "#/definitions/CompanyModel",
                              "definitions": spec["definitions"]})
    assert any("None is not of type 'string'" in e.message
               for e in strict.iter_errors(pascal(spec, {"$ref": "#/definitions/CompanyModel"},
                                                  company)[0]))
    created = samples["create"]
    assert check(spec, "OperationResultModel", created) == []
    strict_object = Draft4Validator(spec["definitions"]["Object"])
    assert not strict_object.is_valid(created["itemId"])
    assert check(spec, "FieldInformationResultModel",
                 samples["entityinformation-fields"]) == []


def test_filter_value_is_a_plain_value_not_the_value_item_model(spec):
    query = {"filter": [{"op": "eq", "field": "id", "value": 29683616}]}
    assert check(spec, "QueryModel", query, value_item=True) == []
    strict = check(spec, "QueryModel", query)
    assert strict == ["['Filter', 0, 'value']: 29683616 is not valid under any of the given "
                      "schemas"]
    assert check(spec, "QueryModel", {"filter": [{"op": 3}]}, value_item=True) != []


# ------------------------------------------------------------------ sandbox answers


def test_every_sandbox_route_is_a_path_of_the_swagger_subset(sandbox, spec):
    assert len(sandbox.route_templates) >= 20
    for method, template in sandbox.route_templates:
        path = spec_path(spec, template)
        assert path is not None, f"{template} is not in the swagger subset"
        assert method.lower() in spec["paths"][path], f"{method} {template} is not declared"


@pytest.mark.parametrize("entity", ENTITIES)
def test_query_pages_use_the_real_envelope_and_the_models(sandbox, spec, samples, entity):
    with client(sandbox) as http:
        page = http.post(f"/V1.0/{entity}/query", json={
            "filter": [{"op": "gte", "field": "id", "value": 0}], "maxRecords": 1})
        assert page.status_code == 200, page.text
        body = page.json()
        sample = samples["companies-query"]
        assert set(body) == set(sample)
        assert set(body["pageDetails"]) == set(sample["pageDetails"])
        assert body["pageDetails"]["count"] == len(body["items"]) == 1
        assert body["pageDetails"]["requestCount"] == 1
        assert body["items"], "an empty page checks nothing"
        for item in body["items"]:
            assert check(spec, MODELS[entity], item) == [], entity
        following = http.get(body["pageDetails"]["nextPageUrl"]).json()
        assert following["items"][0]["id"] > body["items"][-1]["id"]
        assert following["pageDetails"]["prevPageUrl"]
        one = http.get(f"/V1.0/{entity}/{body['items'][0]['id']}").json()
        assert set(one) == {"item"} and check(spec, MODELS[entity], one["item"]) == []


def test_include_fields_answers_like_the_sample(sandbox, samples):
    with client(sandbox) as http:
        body = http.post("/V1.0/Companies/query", json={
            "filter": [{"op": "gte", "field": "id", "value": 0}],
            "includeFields": ["Id", "companyName", "city", "state"]}).json()
    expected = set(samples["companies-query-includefields"]["items"][0])
    assert all(set(item) == expected for item in body["items"])


def test_zone_threshold_and_fields_answers(sandbox, spec, samples):
    with client(sandbox) as http:
        zone = http.get("/V1.0/ZoneInformation",
                        params={"user": sandbox.credentials.username}).json()
        threshold = http.get("/V1.0/ThresholdInformation").json()
        fields = [http.get(f"/V1.0/{e}/entityInformation/fields").json()
                  for e in ("Companies", "Contracts")]
    assert check(spec, "ZoneInformationResultModel", zone) == []
    assert zone["url"].endswith("/ATServicesRest/")
    assert check(spec, "ThresholdStatusResultModel", threshold) == []
    sample = samples["entityinformation-fields"]["fields"][0]
    for answer in fields:
        assert check(spec, "FieldInformationResultModel", answer) == []
        for field in answer["fields"]:
            assert set(field) == set(sample)
            assert set(field["picklistValues"][0]) == set(sample["picklistValues"][0])


def test_refusals_are_500_with_an_errors_list(sandbox):
    with client(sandbox) as http:
        bad_field = http.post("/V1.0/Contracts/query", json={
            "filter": [{"op": "eq", "field": "nosuch", "value": 1}]})
        no_filter = http.post("/V1.0/Contracts/query", json={"filter": []})
        bad_write = http.post("/V1.0/ContractServiceAdjustments", json={"contractID": 1})
    for response in (bad_field, no_filter, bad_write):
        assert response.status_code == 500
        assert set(response.json()) == {"errors"} and response.json()["errors"]
        assert all(isinstance(e, str) for e in response.json()["errors"])
    assert bad_field.json()["errors"] == ["Unable to find nosuch in the Contract entity."]


# ------------------------------------------------------------------ connector requests


def test_connector_request_bodies_validate(sandbox, spec, samples):
    sent: list[tuple[httpx.Request, httpx.Response]] = []

    def spy(request: httpx.Request) -> httpx.Response:
        response = sandbox(request)
        sent.append((request, response))
        return response

    connector = sandbox.connector(transport=httpx.MockTransport(spy))
    snapshot = connector.snapshot(as_of=TODAY)
    recurring = next(c for c in sandbox.contracts.values()
                     if c["contractType"] == data.RECURRING_SERVICE and c["status"] == 1)
    fixed = next(c for c in sandbox.contracts.values() if c["contractType"] == data.FIXED_PRICE)
    line = next(s for s in sandbox.contract_services.values()
                if s["contractID"] == recurring["id"])
    used = {s["serviceID"] for s in sandbox.contract_services.values()
            if s["contractID"] == recurring["id"]}
    spare = [s for s in sandbox.services if s not in used]
    connector.create_service_adjustment(recurring["id"], contract_service_id=line["id"],
                                        unit_change=2, effective_date=TODAY,
                                        adjusted_unit_price=Decimal("7.2500"),
                                        adjusted_unit_cost=Decimal("0.045"))
    connector.create_service_adjustment(recurring["id"], service_id=spare[0], unit_change=1,
                                        effective_date=TODAY)
    connector.create_contract_service(recurring["id"], spare[1], unit_price=Decimal("4.80"),
                                      unit_cost=Decimal("4.00"), invoice_description="x")
    connector.update_contract_service(recurring["id"], line["id"], unit_price=Decimal("8"))
    connector.create_contract_charge(fixed["id"], name="Annual [TU-1]", quantity=Decimal(10),
                                     unit_price=Decimal("316.80"), unit_cost=Decimal("264"),
                                     date_purchased=TODAY, description="d", product_id=5)
    connector.find_charges(fixed["id"], "TU-1")
    assert snapshot.lines
    queries = [(q, a) for q, a in sent if q.url.path.endswith("/query") and q.method == "POST"]
    assert len(queries) >= 6
    for request, _ in queries:
        assert check(spec, "QueryModel", json.loads(request.content), value_item=True) == []
    writes = [(q, a) for q, a in sent if q.method in ("POST", "PATCH")
              and not q.url.path.endswith("/query")]
    assert [q.method for q, _ in writes] == ["POST", "POST", "POST", "PATCH", "POST"]
    for request, answer in writes:
        template = _template(spec, request)
        model = body_model(spec, request.method, template)
        assert check(spec, model, json.loads(request.content)) == [], request.content
        assert answer.status_code == 200, answer.text
        assert set(answer.json()) == set(samples["create"])
        assert check(spec, "OperationResultModel", answer.json()) == []


def _template(spec: dict[str, Any], request: httpx.Request) -> str:
    path = request.url.path.split("/ATServicesRest", 1)[1]
    parts = path.split("/")
    if len(parts) > 3 and parts[3].isdigit():
        parts[3] = "{parentId}"
    found = spec_path(spec, "/".join(parts))
    assert found is not None, path
    return found
