"""Injected faults against the Pax8 connector: 429, 5xx, timeouts, drops, malformed JSON, and
data that changes between two pages. Sleeps are recorded, never waited."""

from __future__ import annotations

from datetime import date

import httpx
import pytest

from app.sync.http import ConnectorError
from app.sync.pax8 import Pax8Connector
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox.base import (
    DROP,
    MALFORMED,
    RATE_LIMIT,
    SERVER_ERROR,
    TIMEOUT_AFTER_COMMIT,
)

BASE = "https://api.pax8.com/v1"


@pytest.fixture()
def sandbox():
    return Pax8Sandbox.seeded(customers=23, subscriptions=60, seed=11, today=date(2025, 3, 14))


@pytest.fixture()
def sleeps():
    return []


def connect(sandbox, sleeps, **kwargs):
    return Pax8Connector(BASE, sandbox.client_id, sandbox.client_secret, page_size=5,
                         transport=httpx.MockTransport(sandbox), sleep=sleeps.append, **kwargs)


def company_pages(sandbox):
    return sum(1 for m, p in sandbox.log if (m, p) == ("GET", "/companies"))


def on_page(sandbox, path, page, kind, value=None, times=1):
    """Inject `kind` for the request that follows page `page` of `path`."""
    sandbox.after_page(path, page, lambda sb: sb.inject(kind, value, path=f"^{path}$",
                                                        times=times))


def test_429_waits_for_retry_after_then_continues(sandbox, sleeps):
    on_page(sandbox, "/companies", 1, RATE_LIMIT, 7)
    companies = list(connect(sandbox, sleeps).companies())
    assert len(companies) == 23
    assert len(sleeps) == 1 and 7 <= sleeps[0] < 7.1  # Retry-After plus a little jitter


def test_429_with_http_date_retry_after(sandbox, sleeps):
    sandbox.inject(RATE_LIMIT, "Wed, 21 Oct 2015 07:28:00 GMT", path="^/companies$")
    assert len(list(connect(sandbox, sleeps).companies())) == 23
    assert len(sleeps) == 1 and sleeps[0] < 0.1  # a date in the past: retry at once


def test_429_forever_gives_up_with_a_clear_error(sandbox, sleeps):
    sandbox.inject(RATE_LIMIT, 2, path="^/companies$", times=50)
    with pytest.raises(ConnectorError, match="rate limited"):
        list(connect(sandbox, sleeps).companies())
    assert len(sleeps) == 5


def test_500_names_the_endpoint_and_page(sandbox, sleeps):
    on_page(sandbox, "/subscriptions", 1, SERVER_ERROR)
    with pytest.raises(ConnectorError) as info:
        list(connect(sandbox, sleeps).subscriptions())
    message = str(info.value)
    assert "GET /subscriptions?page=2&size=5" in message and "HTTP 500" in message
    assert "Injected server error" in message
    assert sleeps == []  # a 500 is not retried


def test_503_is_retried(sandbox, sleeps):
    """SandboxCore injects 500 only; a gateway 503 comes from a wrapping transport."""
    answered = []

    def flaky(request):
        if request.url.path == "/v1/companies" and not answered:
            answered.append(503)
            return httpx.Response(503, json={"message": "Service Unavailable"})
        return sandbox(request)

    conn = Pax8Connector(BASE, sandbox.client_id, sandbox.client_secret, page_size=5,
                         transport=httpx.MockTransport(flaky), sleep=sleeps.append)
    assert len(list(conn.companies())) == 23
    assert answered == [503] and len(sleeps) == 1


def test_one_timeout_is_retried(sandbox, sleeps):
    on_page(sandbox, "/companies", 2, TIMEOUT_AFTER_COMMIT)
    assert len(list(connect(sandbox, sleeps).companies())) == 23
    assert company_pages(sandbox) == 6  # page 3 asked twice
    assert len(sleeps) == 1


def test_repeated_timeouts_fail_naming_endpoint_and_page(sandbox, sleeps):
    on_page(sandbox, "/companies", 2, TIMEOUT_AFTER_COMMIT, times=3)
    with pytest.raises(ConnectorError, match=r"GET /companies\?page=3&size=5 timed out 3 times"):
        list(connect(sandbox, sleeps).companies())


def test_dropped_connection_is_retried(sandbox, sleeps):
    on_page(sandbox, "/companies", 0, DROP)
    assert len(list(connect(sandbox, sleeps).companies())) == 23


def test_malformed_json_names_endpoint_and_page(sandbox, sleeps):
    on_page(sandbox, "/companies", 1, MALFORMED)
    with pytest.raises(ConnectorError,
                       match=r"GET /companies\?page=2&size=5 returned malformed JSON"):
        list(connect(sandbox, sleeps).companies())


def test_record_inserted_between_pages_is_neither_lost_nor_duplicated(sandbox, sleeps):
    """"Aardvark" sorts first, so every later company shifts one place: the first row of
    page 3 was already seen on page 2. The connector notices and re-reads from page 0."""
    sandbox.after_page("/companies", 1, lambda sb: sb.add_company("Aardvark Accounting"))
    reports = []
    companies = list(connect(sandbox, sleeps, progress=lambda *a: reports.append(a)).companies())
    ids = [c.external_id for c in companies]
    assert len(ids) == len(set(ids)) == 24
    assert set(ids) == set(sandbox.store.companies)
    assert any("changed while paging" in r[2] for r in reports)


def test_record_removed_between_pages_loses_nothing_still_there(sandbox, sleeps):
    def remove_first(sb):
        first = min(sb.store.companies.values(), key=lambda c: c["name"].lower())
        del sb.store.companies[first["id"]]

    sandbox.after_page("/companies", 0, remove_first)
    companies = list(connect(sandbox, sleeps).companies())
    ids = [c.external_id for c in companies]
    assert len(ids) == len(set(ids))
    assert set(sandbox.store.companies) <= set(ids)  # the removed one was read before it went


def test_data_that_never_settles_fails_clearly(sandbox, sleeps):
    counter = iter(range(100))
    sandbox.after_page("/companies", 0,
                       lambda sb: sb.add_company(f"AAA Temp {next(counter):02d}"), times=10)
    with pytest.raises(ConnectorError, match="kept changing while being read"):
        list(connect(sandbox, sleeps).companies())


def test_invoice_items_change_between_pages(sandbox, sleeps):
    conn = connect(sandbox, sleeps)
    invoice = next(iter(conn.invoices()))
    items = sandbox.store.invoice_items[invoice.external_id]

    def late_line(sb):
        extra = dict(items[0], id="00000000-0000-4000-8000-000000000001")
        items.insert(0, extra)

    sandbox.after_page(f"/invoices/{invoice.external_id}/items", 0, late_line)
    lines = list(conn.invoice_items(invoice))
    keys = [line.source_key for line in lines]
    assert len(keys) == len(set(keys)) == len(items)


def test_unreachable_host_is_a_clear_error(sleeps):
    def refuse(request):
        raise httpx.ConnectError("Connection refused", request=request)

    conn = Pax8Connector(BASE, "id", "secret", transport=httpx.MockTransport(refuse),
                         sleep=sleeps.append)
    with pytest.raises(ConnectorError, match="Cannot reach the Pax8 token endpoint"):
        conn.test_connection()
    assert len(sleeps) == 3  # PoliteClient's jittered connect retries, then the error


def test_invoice_date_range_is_sent_as_the_specs_query_parameters(sandbox, sleeps):
    invoices = list(connect(sandbox, sleeps).invoices(start=date(2025, 1, 1),
                                                      end=date(2025, 2, 28)))
    assert [i.invoice_date for i in invoices] == [date(2025, 2, 1), date(2025, 1, 1)]
