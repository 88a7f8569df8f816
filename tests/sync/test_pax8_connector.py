"""Pax8 connector against the Pax8 sandbox through real httpx (MockTransport): paging, mapping,
tokens, the size clamp, and secrets kept out of every message."""

from __future__ import annotations

import json
import threading
import traceback
from datetime import UTC, date, datetime
from decimal import Decimal

import httpx
import pytest

from app.sync.credentials import store_secret
from app.sync.http import CancelledError, ConnectorError
from app.sync.pax8 import MAX_PAGE_SIZE, Pax8Connector
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox.base import SERVER_ERROR, LoopbackServer

BASE = "https://api.pax8.com/v1"
TODAY = date(2025, 3, 14)
SECRET = "Px8-very-secret-value-4711"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def clock():
    return Clock()


@pytest.fixture()
def sandbox(clock):
    return Pax8Sandbox.seeded(customers=23, subscriptions=150, seed=7, today=TODAY,
                              clock=clock, client_secret=SECRET)


def connect(sandbox, *, secret=SECRET, transport=None, **kwargs):
    kwargs.setdefault("sleep", lambda s: None)
    kwargs.setdefault("clock", sandbox.clock)
    return Pax8Connector(BASE, sandbox.client_id, secret,
                         transport=transport or httpx.MockTransport(sandbox), **kwargs)


def requested_pages(sandbox, path):
    return [p for m, p in sandbox.log if m == "GET" and p == path]


def test_companies_across_pages_report_progress(sandbox):
    reports = []
    conn = connect(sandbox, page_size=5, progress=lambda *a: reports.append(a))
    companies = list(conn.companies())
    assert {c.external_id for c in companies} == set(sandbox.store.companies)
    assert len(companies) == 23 and len(requested_pages(sandbox, "/companies")) == 5
    assert [r[:2] for r in reports] == [(5, 23), (10, 23), (15, 23), (20, 23), (23, 23)]
    assert reports[-1][2] == "Pax8 companies: page 5 of 5"
    assert all(c.domain and "/" not in c.domain for c in companies)
    assert {c.status for c in companies} == {"Active", "Inactive"}


def test_products_across_pages(sandbox):
    products = list(connect(sandbox, page_size=4).products())
    names = {p.name for p in products}
    assert len(products) == len(sandbox.store.products) > 4
    assert {"Microsoft 365 Business Premium", "Microsoft 365 E5", "Exchange Online (Plan 1)",
            "Microsoft Teams Phone Standard"} <= names
    assert all(p.vendor_name == "Microsoft" and p.sku in sandbox.store.products for p in products)


def test_subscriptions_across_pages_map_every_field(sandbox):
    company = sandbox.add_company("Zeta Zoning Partners")
    sub = sandbox.add_subscription(company["id"], "Microsoft 365 E3", 12,
                                   billing_term="Monthly", commitment="1-Year",
                                   start=date(2024, 6, 3))
    subs = {s.external_id: s for s in connect(sandbox, page_size=20).subscriptions()}
    assert len(subs) == 151 and len(requested_pages(sandbox, "/subscriptions")) == 8
    record = subs[sub["id"]]
    assert record.customer_external_id == company["id"]
    assert record.sku == sub["productId"] and record.product_name == "Microsoft 365 E3"
    assert record.quantity == Decimal(12)
    assert record.unit_price == Decimal("36.00") and record.unit_cost == Decimal("32.40")
    assert (record.term, record.billing_frequency) == ("P1Y", "Monthly")
    assert record.start_date == date(2024, 6, 3)
    assert record.end_date == date(2025, 6, 2)  # commitment end: renewal date
    assert record.status == "Active" and record.currency == "USD"
    assert record.created_at == datetime(2024, 6, 2, 15, record.created_at.minute, tzinfo=UTC)
    for s in subs.values():
        assert isinstance(s.quantity, Decimal) and isinstance(s.unit_cost, Decimal)
        assert s.created_at.tzinfo is UTC
    motions = {(s.billing_frequency, s.term) for s in subs.values()}
    assert {("Monthly", "P1M"), ("Monthly", "P1Y"), ("Annual", "P1Y")} <= motions
    cancelled = [s for s in subs.values() if s.status == "Cancelled"]
    assert cancelled and all(s.end_date is not None for s in cancelled)


def test_subscription_filter_by_company(sandbox):
    company_id = next(iter(sandbox.store.subscriptions.values()))["companyId"]
    subs = list(connect(sandbox, page_size=3).subscriptions(company_id=company_id))
    expected = {s["id"] for s in sandbox.store.subscriptions.values()
                if s["companyId"] == company_id}
    assert {s.external_id for s in subs} == expected


def test_subscription_history_oldest_first_with_previous_quantity(sandbox):
    company = sandbox.add_company("Quartz Quarry Co")
    sub = sandbox.add_subscription(company["id"], "Microsoft 365 Business Standard", 10,
                                   start=date(2025, 1, 6))
    sandbox.set_quantity(sub["id"], 14, datetime(2025, 2, 3, 9, 15, tzinfo=UTC))
    sandbox.set_quantity(sub["id"], 11, datetime(2025, 3, 1, 10, 0, tzinfo=UTC))
    sandbox.cancel_subscription(sub["id"], datetime(2025, 3, 10, 16, 0, tzinfo=UTC))
    history = connect(sandbox).subscription_history(sub["id"])
    assert [(h.quantity, h.previous_quantity, h.action) for h in history] == [
        (Decimal(10), None, "created"),
        (Decimal(14), Decimal(10), "quantity_increase"),
        (Decimal(11), Decimal(14), "quantity_decrease"),
        (Decimal(11), Decimal(11), "status_change"),
    ]
    assert history[1].changed_at == datetime(2025, 2, 3, 9, 15, tzinfo=UTC)
    assert all(h.subscription_external_id == sub["id"] for h in history)


def test_invoices_and_items_across_pages_add_up(sandbox):
    conn = connect(sandbox, page_size=2)
    invoices = list(conn.invoices())
    assert len(invoices) == 6 and len(requested_pages(sandbox, "/invoices")) == 3
    assert invoices[0].invoice_date == date(2025, 3, 1) and invoices[0].status == "Unpaid"
    assert invoices[0].due_date == date(2025, 3, 15)
    conn.page_size = 25
    for invoice in invoices[:2]:
        items = list(conn.invoice_items(invoice))
        assert len(items) == len(sandbox.store.invoice_items[invoice.external_id]) > 25
        assert len({i.source_key for i in items}) == len(items)
        assert sum(i.total for i in items) == invoice.total
        for item in items:
            assert isinstance(item.total, Decimal) and item.currency == "USD"
            assert item.invoice_number == invoice.external_id
            assert item.charge_start <= item.charge_end
    kinds = {i.charge_type for inv in invoices for i in conn.invoice_items(inv)}
    assert {"subscription", "prorate"} <= kinds


def test_usage_summaries_and_lines(sandbox):
    conn = connect(sandbox, page_size=10)
    azure = [s for s in conn.subscriptions() if s.product_name == "Microsoft Azure Plan"
             and s.status == "Active"]
    assert azure
    summaries = [u for s in azure for u in conn.usage_summaries(s.external_id)]
    assert summaries
    for summary in summaries:
        lines = list(conn.usage_lines(summary))
        assert len(lines) > 10  # several pages of 10
        assert sum(line.total for line in lines) == summary.amount
        assert all(line.is_usage and line.customer_external_id == summary.customer_external_id
                   for line in lines)


def recording(sandbox):
    """A transport that passes requests to the sandbox and keeps (request, response) pairs."""
    exchanges = []

    def handle(request):
        response = sandbox(request)
        exchanges.append((request, response))
        return response

    return httpx.MockTransport(handle), exchanges


def test_page_size_is_clamped_to_the_spec_maximum(sandbox):
    company_id = next(iter(sandbox.store.companies))
    for _ in range(300):
        sandbox.add_subscription(company_id, "Microsoft 365 Business Basic", 1)
    transport, exchanges = recording(sandbox)
    conn = connect(sandbox, page_size=5000, transport=transport)
    assert conn.page_size == MAX_PAGE_SIZE == 200
    assert len(list(conn.subscriptions())) == 450
    pages = [r for r, _ in exchanges if r.url.path == "/v1/subscriptions"]
    assert [(r.url.params["page"], r.url.params["size"]) for r in pages] == [
        ("0", "200"), ("1", "200"), ("2", "200")]
    assert connect(sandbox, page_size=0).page_size == 1
    # The sandbox answers 400 above 200, so an unclamped client would have failed.
    raw = httpx.Client(transport=httpx.MockTransport(sandbox), base_url=BASE)
    bearer = {"Authorization": f"Bearer {next(iter(sandbox.tokens))}"}
    assert raw.get("/subscriptions", params={"size": 201}, headers=bearer).status_code == 400


def test_test_connection_summary(sandbox):
    assert connect(sandbox).test_connection() == (
        f"Connected to Pax8 at {BASE}: 23 companies visible.")


def test_token_request_follows_the_auth_spec_and_is_cached(sandbox):
    transport, exchanges = recording(sandbox)
    conn = connect(sandbox, page_size=50, transport=transport)
    list(conn.companies())
    list(conn.products())
    list(conn.subscriptions())
    sent = [request for request, _ in exchanges]
    token_requests = [r for r in sent if r.url.path == "/v1/token"]
    assert len(token_requests) == 1 and sandbox.tokens_issued == 1
    request = token_requests[0]
    assert request.method == "POST" and request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "client_id": sandbox.client_id, "client_secret": SECRET,
        "audience": "https://api.pax8.com", "grant_type": "client_credentials"}
    api = [r for r in sent if r.url.path != "/v1/token"]
    assert all(r.headers["Authorization"].startswith("Bearer ") for r in api)


def test_token_refreshed_when_it_expires(sandbox, clock):
    transport, exchanges = recording(sandbox)
    conn = connect(sandbox, transport=transport)
    conn.test_connection()
    clock.now += 86400 - 30  # inside the refresh margin: fetch before the server says 401
    conn.test_connection()
    assert sandbox.tokens_issued == 2
    assert [r.status_code for _, r in exchanges] == [200, 200, 200, 200]


def test_token_refreshed_once_on_401(sandbox):
    conn = connect(sandbox)
    conn.test_connection()
    sandbox.revoke_tokens()
    assert len(list(conn.companies())) == 23
    assert sandbox.tokens_issued == 2


def test_second_401_is_credentials_rejected(sandbox):
    conn = connect(sandbox)
    sandbox.deny_all_tokens = True
    with pytest.raises(ConnectorError, match="credentials rejected") as info:
        list(conn.companies())
    assert "GET /companies?page=0&size=200" in str(info.value)
    assert sandbox.tokens_issued == 2  # one refresh, not a loop


def test_wrong_secret_is_credentials_rejected(sandbox):
    with pytest.raises(ConnectorError, match="credentials rejected.*401.*Unauthorized"):
        connect(sandbox, secret="not-the-secret").test_connection()


def _all_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)


def test_no_secret_in_any_error_message_or_repr(sandbox):
    failures = []
    conn = connect(sandbox)
    assert SECRET not in repr(conn) and SECRET not in str(conn)
    scenarios = [
        lambda: connect(sandbox, secret=SECRET + "-wrong").test_connection(),
        lambda: (sandbox.inject(SERVER_ERROR, path="^/token$"), connect(sandbox).companies()
                 .__next__()),
        lambda: (sandbox.inject("malformed", path="^/token$"), connect(sandbox).test_connection()),
        lambda: (sandbox.inject("timeout_after_commit", path="^/token$"),
                 connect(sandbox).test_connection()),
        lambda: (sandbox.inject("drop", path="^/token$"), connect(sandbox).test_connection()),
        lambda: (setattr(sandbox, "deny_all_tokens", True), connect(sandbox).test_connection()),
    ]
    for scenario in scenarios:
        with pytest.raises(ConnectorError) as info:
            scenario()
        failures.append(info.value)
    for exc in failures:
        assert SECRET not in _all_text(exc), _all_text(exc)
    assert len({str(e) for e in failures}) == len(scenarios)


def test_from_keyring_loads_the_secret(sandbox):
    store_secret("pax8-main", SECRET)
    conn = Pax8Connector.from_keyring("pax8-main", BASE, sandbox.client_id,
                                      transport=httpx.MockTransport(sandbox), clock=sandbox.clock)
    assert "23 companies" in conn.test_connection()
    with pytest.raises(ConnectorError, match="No secret is stored"):
        Pax8Connector.from_keyring("pax8-other", BASE, sandbox.client_id)


def test_cancel_stops_between_pages(sandbox):
    cancel = threading.Event()
    conn = connect(sandbox, page_size=5, cancel=cancel,
                   progress=lambda done, total, msg: cancel.set() if done >= 10 else None)
    seen = []
    with pytest.raises(CancelledError):
        for company in conn.companies():
            seen.append(company)
    assert len(seen) == 10


def test_works_over_loopback_sockets(sandbox):
    with LoopbackServer(sandbox) as server:
        # Few requests: each loopback round trip costs a delayed ACK (~40 ms) on Linux.
        conn = Pax8Connector(server.url + "/v1", sandbox.client_id, SECRET, page_size=10,
                             clock=sandbox.clock)
        try:
            assert "23 companies" in conn.test_connection()
            assert len(list(conn.companies())) == 23
        finally:
            conn.close()
