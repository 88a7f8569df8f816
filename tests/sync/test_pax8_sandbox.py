"""The Pax8 sandbox itself: deterministic realistic data, OAuth rules, real paths only."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from decimal import Decimal

import httpx
import pytest

from app.sync.pax8.sandbox import BASE_PATH, Pax8Sandbox

TODAY = date(2025, 3, 14)


class Clock:
    now = 0.0

    def __call__(self) -> float:
        return self.now


def client(sandbox):
    return httpx.Client(transport=httpx.MockTransport(sandbox), base_url="https://sbx" + BASE_PATH)


def token_for(sandbox, **overrides):
    body = {"client_id": sandbox.client_id, "client_secret": sandbox.client_secret,
            "audience": "https://api.pax8.com", "grant_type": "client_credentials", **overrides}
    return client(sandbox).post("/token", json=body)


def bearer(sandbox):
    return {"Authorization": "Bearer " + token_for(sandbox).json()["access_token"]}


def test_same_seed_same_data_other_seed_other_data():
    def dump(sandbox):
        http = client(sandbox)
        return http.get("/subscriptions", params={"size": 200}, headers=bearer(sandbox)).content

    one = dump(Pax8Sandbox.seeded(seed=3, today=TODAY))
    assert one == dump(Pax8Sandbox.seeded(seed=3, today=TODAY))
    assert one != dump(Pax8Sandbox.seeded(seed=4, today=TODAY))


def test_seeded_data_looks_like_an_msp_tenant():
    store = Pax8Sandbox.seeded(customers=20, subscriptions=150, seed=1, today=TODAY).store
    subs = list(store.subscriptions.values())
    assert len(store.companies) == 20 and len(subs) == 150
    names = {p["name"] for p in store.products.values()}
    assert {"Microsoft 365 Business Basic", "Microsoft 365 Business Standard",
            "Microsoft 365 Business Premium", "Microsoft 365 E3", "Microsoft 365 E5",
            "Exchange Online (Plan 1)", "Microsoft Defender for Business",
            "Microsoft Teams Phone Standard"} <= names
    terms = Counter((s["billingTerm"], (s.get("commitmentTerm") or {}).get("term")) for s in subs)
    assert {("Monthly", None), ("Monthly", "1-Year"), ("Annual", "1-Year")} <= set(terms)
    statuses = Counter(s["status"] for s in subs)
    assert statuses["Active"] > 100 and statuses["Cancelled"] >= 5
    changed = [sid for sid, snaps in store.history.items() if len(snaps) > 2]
    assert len(changed) >= 10
    for s in subs:
        assert isinstance(s["price"], Decimal) and isinstance(s["partnerCost"], Decimal)
        assert s["partnerCost"] < s["price"] or s["price"] == 0  # Azure Plan: usage only
    premium = next(s for s in subs if s["productName"] == "Microsoft 365 Business Premium"
                   and s["billingTerm"] == "Monthly" and "commitmentTerm" in s)
    assert premium["price"] == Decimal("22.00")  # annual term, billed monthly (NCE list)


def test_numbers_are_json_numbers_with_exact_digits():
    sandbox = Pax8Sandbox.seeded(seed=1, today=TODAY)
    body = client(sandbox).get("/subscriptions", params={"size": 5}, headers=bearer(sandbox))
    text = body.text
    assert '"price":"' not in text and '"partnerCost":' in text
    first = json.loads(text, parse_float=Decimal)["content"][0]
    assert first["price"] == sandbox.store.subscriptions[first["id"]]["price"]


def test_token_endpoint_validates_the_request():
    sandbox = Pax8Sandbox()
    assert token_for(sandbox).status_code == 200
    assert token_for(sandbox, client_secret="nope").status_code == 401
    assert token_for(sandbox, client_secret="nope").json() == {
        "error": "access_denied", "error_description": "Unauthorized"}
    assert token_for(sandbox, grant_type="password").status_code == 400
    assert token_for(sandbox, audience="https://example.com").status_code == 400
    form = client(sandbox).post("/token", data={"client_id": sandbox.client_id})
    assert form.status_code == 400  # the spec's body is JSON
    assert sandbox.tokens_issued == 1


def test_endpoints_require_a_live_bearer_token():
    clock = Clock()
    sandbox = Pax8Sandbox(clock=clock, token_ttl=3600)
    http = client(sandbox)
    assert http.get("/companies").status_code == 401
    assert http.get("/companies", headers={"Authorization": "Bearer made-up"}).status_code == 401
    headers = bearer(sandbox)
    assert http.get("/companies", headers=headers).status_code == 200
    clock.now += 3600
    expired = http.get("/companies", headers=headers)
    assert expired.status_code == 401 and expired.json()["status"] == 401


def test_only_the_specs_paths_under_v1():
    sandbox = Pax8Sandbox.seeded(customers=3, subscriptions=5, today=TODAY)
    headers = bearer(sandbox)
    outside = httpx.Client(transport=httpx.MockTransport(sandbox), base_url="https://sbx")
    assert outside.get("/companies", headers=headers).status_code == 404
    assert outside.post("/oauth/token", json={}).status_code == 404
    http = client(sandbox)
    assert http.get("/customers", headers=headers).status_code == 404
    assert http.get("/companies/nope", headers=headers).json()["message"] == "Company not found"


def test_paging_envelope_and_size_limits():
    sandbox = Pax8Sandbox.seeded(customers=23, subscriptions=5, today=TODAY)
    http, headers = client(sandbox), bearer(sandbox)
    body = http.get("/companies", params={"page": 2, "size": 10}, headers=headers).json()
    assert body["page"] == {"size": 10, "totalElements": 23, "totalPages": 3, "number": 2}
    assert len(body["content"]) == 3
    default = http.get("/companies", headers=headers).json()["page"]
    assert (default["size"], default["number"]) == (10, 0)  # the spec's defaults
    for bad in ({"size": 0}, {"size": 201}, {"page": -1}, {"page": "x"}):
        assert http.get("/companies", params=bad, headers=headers).status_code == 400


def test_set_quantity_records_history_newest_first():
    sandbox = Pax8Sandbox.seeded(customers=2, subscriptions=0, today=TODAY)
    company = next(iter(sandbox.store.companies))
    sub = sandbox.add_subscription(company, "Microsoft 365 Business Premium", 5,
                                   start=date(2025, 1, 1))
    sandbox.set_quantity(sub["id"], 8)
    history = client(sandbox).get(f"/subscriptions/{sub['id']}/history",
                                  headers=bearer(sandbox)).json()
    assert [h["quantity"] for h in history["content"]] == [8, 5]
    assert "page" not in history  # the spec's history response has content only


def test_unknown_product_name_is_an_error():
    sandbox = Pax8Sandbox.seeded(customers=1, subscriptions=0, today=TODAY)
    with pytest.raises(KeyError):
        sandbox.add_subscription(next(iter(sandbox.store.companies)), "Not A Product", 1)
