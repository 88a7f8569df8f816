"""Every Pax8 sandbox response checked against Pax8's published OpenAPI documents.

Each served path is called, every page of every list is validated with an OpenAPI 3.0 schema
validator (refs resolved, formats checked), and, stricter than the spec (whose schemas allow
any extra property), every property the sandbox writes must be declared, except the few the
spec's own examples use without declaring. The spec's example payloads also go through the
connector's mappers, so the connector copes with Pax8's real formats, not just ours.
"""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Any

import httpx
import pytest
from jsonschema import FormatChecker
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

from app.sync.pax8 import wire
from app.sync.pax8.sandbox import BASE_PATH, Pax8Sandbox
from tests.contract.reference import reference_dir

PARTNER = "pax8-partner-endpoints-openapi.json"
AUTH = "pax8-authentication-openapi.json"
TODAY = date(2025, 3, 14)

# Properties the sandbox writes that the schema does not declare, each used by the spec's
# own examples: Invoice.status (every invoice example, and a query filter) and
# UsageSummary.subscriptionId (every usage-summary example).
UNDECLARED_BUT_IN_EXAMPLES = {
    "/invoices": {"content[].status"},
    "/invoices/{invoiceId}": {"status"},
    "/subscriptions/{subscriptionId}/usage-summaries": {"content[].subscriptionId"},
    "/usage-summaries/{usageSummaryId}": {"subscriptionId"},
}

FORMATS = FormatChecker()


@FORMATS.checks("yyyy-MM-dd", raises=ValueError)
def _is_day(value: object) -> bool:
    """The spec's own name for a calendar-date format."""
    if not isinstance(value, str):
        return True
    return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and bool(date.fromisoformat(value))


@pytest.fixture(scope="module")
def specs() -> dict[str, dict[str, Any]]:
    folder = reference_dir("pax8")
    return {name: json.loads((folder / name).read_text(encoding="utf-8"))
            for name in (PARTNER, AUTH)}


@pytest.fixture(scope="module")
def sandbox() -> Pax8Sandbox:
    return Pax8Sandbox.seeded(customers=20, subscriptions=150, seed=5, today=TODAY)


def resolve(node: Any, doc: dict[str, Any]) -> Any:
    """Inline every local $ref (the Pax8 documents have no cycles)."""
    if isinstance(node, dict):
        if "$ref" in node:
            target: Any = doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return resolve(target, doc)
        return {key: resolve(value, doc) for key, value in node.items()}
    if isinstance(node, list):
        return [resolve(item, doc) for item in node]
    return node


def undeclared(schema: dict[str, Any], value: Any, where: str = "") -> set[str]:
    """Property paths in `value` that `schema` does not declare (arrays written as `[]`)."""
    if isinstance(value, list):
        items = schema.get("items") or {}
        return {p for item in value for p in undeclared(items, item, f"{where}[]")}
    if not isinstance(value, dict):
        return set()
    declared: dict[str, Any] = {}
    for part in (schema, *schema.get("allOf", [])):
        declared.update(part.get("properties", {}))
    found = set()
    for key, item in value.items():
        path = f"{where}.{key}" if where else key
        found |= undeclared(declared[key], item, path) if key in declared else {path}
    return found


class Checker:
    """Calls the sandbox, validates each answer, and remembers which routes were covered."""

    def __init__(self, sandbox: Pax8Sandbox, specs: dict[str, dict[str, Any]]) -> None:
        self.sandbox, self.specs = sandbox, specs
        self.http = httpx.Client(transport=httpx.MockTransport(sandbox),
                                 base_url="https://api.pax8.com" + BASE_PATH)
        self.covered: set[tuple[str, str]] = set()
        self.validated = 0
        token = self.call("POST", "/token", json={
            "client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "audience": "https://api.pax8.com", "grant_type": "client_credentials"})
        self.headers = {"Authorization": f"Bearer {token['access_token']}"}

    def schema_for(self, method: str, template: str, status: int) -> dict[str, Any]:
        doc = self.specs[AUTH if template == "/token" else PARTNER]
        responses = doc["paths"][template][method.lower()]["responses"]
        if str(status) in responses:
            content = responses[str(status)]["content"]["application/json"]
            return resolve(content["schema"], doc)
        assert status in (400, 401), f"{method} {template} answered {status}, not in the spec"
        return resolve(doc["components"]["schemas"]["Error"], doc)  # undeclared error codes

    def call(self, method: str, template: str, status: int = 200, params: Any = None,
             json: Any = None, **path_args: str) -> Any:
        url = template.format(**path_args)
        response = self.http.request(method, url, params=params, json=json,
                                     headers=getattr(self, "headers", None))
        assert response.status_code == status, (url, response.text[:300])
        body = response.json()
        schema = self.schema_for(method, template, status)
        OAS30Validator(schema, format_checker=FORMATS).validate(body)
        extra = undeclared(schema, body) - UNDECLARED_BUT_IN_EXAMPLES.get(template, set())
        assert not extra, f"{method} {template}: properties not in the spec: {sorted(extra)}"
        self.validated += 1
        if status == 200:
            self.covered.add((method, template))
        return body

    def every_page(self, template: str, size: int = 50, **path_args: str) -> list[Any]:
        items, page = [], 0
        while True:
            body = self.call("GET", template, params={"page": page, "size": size}, **path_args)
            assert body["page"]["number"] == page and body["page"]["size"] == size
            assert body["page"]["totalPages"] == -(-body["page"]["totalElements"] // size)
            items += body["content"]
            page += 1
            if page >= body["page"]["totalPages"]:
                assert len(items) == body["page"]["totalElements"]
                return items


def test_reference_documents_are_valid_openapi(specs):
    for doc in specs.values():
        validate_spec(doc)


def test_every_served_path_is_a_path_of_the_specs(specs, sandbox):
    for method, template in sandbox.served:
        doc = specs[AUTH if template == "/token" else PARTNER]
        assert method.lower() in doc["paths"].get(template, {}), (method, template)
    for doc in specs.values():
        assert doc["servers"][0]["url"].endswith(BASE_PATH)


def test_every_sandbox_response_matches_the_spec(specs, sandbox):
    check = Checker(sandbox, specs)
    companies = check.every_page("/companies")
    check.call("GET", "/companies/{companyId}", companyId=companies[0]["id"])
    products = check.every_page("/products", size=7)
    check.call("GET", "/products/{productId}", productId=products[0]["id"])
    subs = check.every_page("/subscriptions", size=40)
    for sub in subs:
        check.call("GET", "/subscriptions/{subscriptionId}/history", subscriptionId=sub["id"])
    check.call("GET", "/subscriptions/{subscriptionId}", subscriptionId=subs[0]["id"])
    for sub in (s for s in subs if s["productName"] == "Microsoft Azure Plan"):
        for summary in check.every_page("/subscriptions/{subscriptionId}/usage-summaries",
                                        size=2, subscriptionId=sub["id"]):
            check.call("GET", "/usage-summaries/{usageSummaryId}", usageSummaryId=summary["id"])
            check.every_page("/usage-summaries/{usageSummaryId}/usage-lines", size=200,
                             usageSummaryId=summary["id"])
    for invoice in check.every_page("/invoices", size=4):
        check.call("GET", "/invoices/{invoiceId}", invoiceId=invoice["id"])
        check.every_page("/invoices/{invoiceId}/items", size=200, invoiceId=invoice["id"])
    assert check.covered == set(sandbox.served)
    assert check.validated > 150


def test_error_responses_match_the_spec(specs, sandbox):
    check = Checker(sandbox, specs)
    missing = "00000000-0000-4000-8000-000000000000"
    for template, arg in [("/companies/{companyId}", "companyId"),
                          ("/products/{productId}", "productId"),
                          ("/subscriptions/{subscriptionId}", "subscriptionId"),
                          ("/subscriptions/{subscriptionId}/history", "subscriptionId"),
                          ("/subscriptions/{subscriptionId}/usage-summaries", "subscriptionId"),
                          ("/invoices/{invoiceId}/items", "invoiceId"),
                          ("/usage-summaries/{usageSummaryId}/usage-lines", "usageSummaryId")]:
        check.call("GET", template, 404, **{arg: missing})
    check.call("GET", "/companies", 400, params={"size": 500})
    check.headers = {"Authorization": "Bearer expired"}
    check.call("GET", "/subscriptions", 401)


def test_token_error_has_the_shape_of_the_spec_example(specs, sandbox):
    example = specs[AUTH]["components"]["examples"]["token-error-auth-example"]["value"]
    response = httpx.Client(transport=httpx.MockTransport(sandbox)).post(
        "https://api.pax8.com/v1/token", json={
            "client_id": sandbox.client_id, "client_secret": "wrong",
            "audience": "https://api.pax8.com", "grant_type": "client_credentials"})
    assert response.status_code == 401 and response.json() == example


def test_the_specs_examples_map_to_records(specs):
    """Pax8's own payloads, parsed like the connector parses them (numbers as Decimal)."""
    text = (reference_dir("pax8") / PARTNER).read_text(encoding="utf-8")
    examples = {k: v["value"] for k, v in wire.loads(text)["components"]["examples"].items()}
    companies = [wire.company_record(c) for c in examples["companies-paged"]["content"]]
    assert companies[0].domain == "cloud-communications-backup.com"
    subs = [wire.subscription_record(s) for s in examples["subscriptions-paged"]["content"]]
    assert {s.billing_frequency for s in subs} == {"Monthly"}
    assert subs[1].end_date == date(2020, 11, 18)  # a bare date in a date-time field
    assert subs[0].created_at.isoformat() == "2020-12-03T00:00:00+00:00"
    e3 = wire.subscription_record(examples["microsoft-office-365-e3-subscription"])
    assert str(e3.unit_price) == "32.01" and e3.start_date == date(2021, 1, 1)
    history = wire.history_records("99b90e2e", examples["subscription-history"]["content"])
    assert [(h.quantity, h.previous_quantity) for h in history] == [(2, None), (5, 2)]
    assert history[1].changed_at.isoformat() == "2020-12-10T06:12:14.453000+00:00"
    invoices = [wire.invoice_record(i) for i in examples["invoices-paged"]["content"]]
    assert str(invoices[0].total) == "9985.96" and invoices[0].status == "Unpaid"
    items = [wire.invoice_item_record("inv", i) for i in examples["invoice-items"]["content"]]
    assert items[0].unit_price == 2500 and items[0].total == 27500
    assert items[0].source_key.startswith("inv:f6b60139")  # the example item has no id
    usage = [wire.usage_summary_record(u) for u in examples["usage-summaries-paged"]["content"]]
    assert str(usage[0].amount) == "86.456"
    lines = [wire.usage_line_record(usage[0], x) for x in examples["usage-lines-paged"]["content"]]
    assert len({line.source_key for line in lines}) == len(lines)
    product = wire.product_record(examples["microsoft-office-365-e3"])
    assert product.sku == "e91bba5e-a9a3-483f-b036-f80165d410e3"


def test_missing_reference_fails_on_ci_and_skips_locally(monkeypatch, tmp_path):
    from tests.contract import reference

    monkeypatch.setattr(reference, "REFERENCE_ROOT", tmp_path)
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="reference material not found"):
        reference.reference_dir("pax8")
    monkeypatch.setenv("CI", "")
    with pytest.raises(pytest.skip.Exception, match="reference material not found"):
        reference.reference_dir("pax8", PARTNER)
    (tmp_path / "pax8").mkdir()
    assert reference.reference_dir("pax8") == (tmp_path / "pax8").resolve()
