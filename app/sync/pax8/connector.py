"""Pax8 Partner API connector: OAuth client-credentials token, 0-based paging, frozen records.

Built from `pax8-authentication-openapi.json` and `pax8-partner-endpoints-openapi.json`
(shared/reference/pax8). Everything goes through one PoliteClient, so 429s honour
Retry-After and connection failures back off with jitter. Reads are GETs and therefore safe
to repeat: a timeout, a dropped connection or a 502/503/504 on a GET is retried a couple of
times before it becomes a ConnectorError naming the endpoint and page.

Paging consistency: Pax8 pages by offset, so a record inserted or removed while we page shifts
the others across page boundaries. Every list is de-duplicated by id, and a pass in which
`totalElements` changes or an id shows up twice is restarted from page 0 (records already
handed out are not handed out again). After MAX_RESTARTS unsettled passes the sync fails with
a clear message instead of returning a list that may have lost a record. One insert plus one
delete during the same pass keeps the total and shifts nothing onto a seen id, so it cannot
be detected from the envelope; the next sync's snapshot picks it up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any, TypeVar

import httpx

from app.sync.credentials import load_secret
from app.sync.http import (
    DEFAULT_TIMEOUT,
    CancelledError,
    ConnectorError,
    PoliteClient,
    RetryPolicy,
)
from app.sync.pax8 import wire
from app.sync.records import (
    ChargeLineRecord,
    SubscriptionChangeRecord,
    UsageSummaryRecord,
    VendorCustomerRecord,
    VendorInvoiceRecord,
    VendorProductRecord,
    VendorSubscriptionRecord,
)

T = TypeVar("T")
Progress = Callable[[int, int, str], None]

PAX8_BASE_URL = "https://api.pax8.com/v1"  # servers[0] of both reference specs
# The spec's description: "The audience should be set to `https://api.pax8.com` for the
# partner endpoints" (the enum also lists api://p8p.client, used by older integrations).
PARTNER_AUDIENCE = "https://api.pax8.com"
MAX_PAGE_SIZE = 200  # `size` parameter: minimum 1, maximum 200 (default 10)
MAX_RESTARTS = 3
TRANSIENT_RETRIES = 2  # extra attempts for a GET that timed out, dropped or got 502/503/504
TOKEN_MARGIN_S = 60.0


class Pax8Connector:
    """Reads companies, products, subscriptions (+history), invoices (+items) and usage.

    `page_size` is clamped to 1..200 (the spec's maximum) rather than rejected, so a setting
    typed too high still syncs. `token_url` defaults to `{base_url}/token`, the auth spec's
    path under its server; the spec's securityScheme also names
    `https://token-manager.pax8.com/oauth/token`, which can be passed instead.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        *,
        token_url: str | None = None,
        audience: str = PARTNER_AUDIENCE,
        page_size: int = MAX_PAGE_SIZE,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.monotonic,
        default_currency: str | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_url = token_url or f"{self.base_url}/token"
        self.audience = audience
        self.page_size = max(1, min(int(page_size), MAX_PAGE_SIZE))
        self.progress = progress
        self.default_currency = default_currency
        self._sleep = sleep
        self._clock = clock
        self._http = PoliteClient(self.base_url, transport=transport, timeout=timeout,
                                  retry=retry or RetryPolicy(), sleep=sleep, cancel=cancel,
                                  headers={"Accept": "application/json"})
        self.cancel = self._http.cancel
        self._token: str | None = None
        self._token_expires = 0.0
        self.tokens_fetched = 0

    @classmethod
    def from_keyring(cls, connection_name: str, base_url: str, client_id: str,
                     **kwargs: Any) -> Pax8Connector:
        """The client secret comes from the OS keyring, never from settings or the database."""
        try:
            secret = load_secret(connection_name)
        except LookupError as exc:
            raise ConnectorError(str(exc)) from None
        return cls(base_url, client_id, secret, **kwargs)

    def __repr__(self) -> str:
        return f"Pax8Connector(base_url={self.base_url!r}, client_id={self.client_id!r})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Pax8Connector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------ token

    def _access_token(self) -> str:
        if self._token is None or self._clock() >= self._token_expires:
            self._fetch_token()
        assert self._token is not None
        return self._token

    def _fetch_token(self) -> None:
        """POST the spec's TokenRequest as JSON. Errors are raised `from None`: the httpx
        exception carries the request, whose body holds the client secret."""
        body = {"client_id": self.client_id, "client_secret": self._client_secret,
                "audience": self.audience, "grant_type": "client_credentials"}
        where = f"the Pax8 token endpoint ({self.token_url})"
        try:
            response = self._http.post(self.token_url, json=body)
        except httpx.TimeoutException:
            raise ConnectorError(f"{where} timed out") from None
        except httpx.TransportError as exc:
            raise ConnectorError(f"Cannot reach {where}: {type(exc).__name__}") from None
        if response.status_code in (400, 401, 403):
            raise ConnectorError(
                f"Pax8 credentials rejected: {where} answered {response.status_code}"
                f"{_error_detail(response)}. Check the client id and secret of this connection.")
        if response.status_code != 200:
            raise ConnectorError(f"{where} failed: HTTP {response.status_code}"
                                 f"{_error_detail(response)}")
        try:
            payload = wire.loads(response.content)
            token = str(payload["access_token"])
            ttl = float(payload.get("expires_in") or 0)
        except (ValueError, KeyError, TypeError):
            raise ConnectorError(f"{where} returned an unreadable token response") from None
        self._token = token
        # Refresh a little early so a token never expires between check and use.
        self._token_expires = self._clock() + max(0.0, ttl - min(TOKEN_MARGIN_S, ttl / 10))
        self.tokens_fetched += 1

    # ------------------------------------------------------------ requests

    def _get_json(self, path: str, params: dict[str, Any] | None, what: str) -> Any:
        """GET with Bearer auth: one token refresh on 401, transient retries, clear errors."""
        refreshed = False
        transient = 0
        while True:
            if self.cancel.is_set():
                raise CancelledError("cancelled")
            headers = {"Authorization": f"Bearer {self._access_token()}"}
            try:
                response = self._http.get(path, params=params, headers=headers)
            except httpx.ConnectError:
                raise ConnectorError(f"Cannot reach Pax8 at {self.base_url} ({what})") from None
            except (httpx.TimeoutException, httpx.RemoteProtocolError, httpx.ReadError) as exc:
                transient += 1
                if transient > TRANSIENT_RETRIES:
                    kind = "timed out" if isinstance(exc, httpx.TimeoutException) else \
                        "dropped the connection"
                    raise ConnectorError(f"Pax8 {what} {kind} {transient} times; "
                                         "try the sync again later") from None
                self._pause(transient)
                continue
            status = response.status_code
            if status == 401:
                if refreshed:
                    raise ConnectorError(
                        f"Pax8 credentials rejected: {what} answered 401 even with a new "
                        "access token. Check that the API credentials are allowed to use "
                        "the Partner API.")
                self._token = None
                refreshed = True
                continue
            if status in (502, 503, 504) and transient < TRANSIENT_RETRIES:
                transient += 1
                self._pause(transient)
                continue
            if status == 403:
                raise ConnectorError(f"Pax8 refused {what} (403){_error_detail(response)}")
            if status == 404:
                raise ConnectorError(f"Pax8 {what}: not found (404){_error_detail(response)}")
            if status != 200:
                raise ConnectorError(
                    f"Pax8 {what} failed: HTTP {status}{_error_detail(response)}")
            try:
                return wire.loads(response.content)
            except ValueError as exc:
                reason = getattr(exc, "msg", type(exc).__name__)
                raise ConnectorError(f"Pax8 {what} returned malformed JSON ({reason})") from None

    def _pause(self, attempt: int) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled")
        self._sleep(self._http.retry.base_backoff_s * 2 ** (attempt - 1))

    def _report(self, done: int, total: int, message: str) -> None:
        if self.progress is not None:
            self.progress(done, total, message)

    def _paged(self, path: str, params: dict[str, Any], label: str,
               convert: Callable[[dict[str, Any]], T],
               key: Callable[[dict[str, Any]], str] = lambda item: str(item.get("id") or ""),
               ) -> Iterator[T]:
        """Yield converted items of every page once each; restart a pass that shifted."""
        seen: set[str] = set()
        reason = ""
        for _attempt in range(MAX_RESTARTS + 1):
            reason = ""
            in_pass: set[str] = set()
            first_total: int | None = None
            page = 0
            while True:
                what = f"GET {path}?page={page}&size={self.page_size}"
                body = self._get_json(path, {**params, "page": page, "size": self.page_size},
                                      what)
                content, total, total_pages = _envelope(body, what)
                if first_total is None:
                    first_total = total
                elif total != first_total:
                    reason = f"totalElements went from {first_total} to {total}"
                for item in content:
                    ident = key(item)
                    if not ident:
                        raise ConnectorError(f"Pax8 {what}: a record has no id")
                    if ident in in_pass and not reason:
                        reason = f"record {ident} appeared on two pages"
                    in_pass.add(ident)
                    if ident not in seen:
                        seen.add(ident)
                        try:
                            record = convert(item)
                        except wire.Pax8DataError as exc:
                            raise ConnectorError(f"Pax8 {what}: {exc}") from None
                        except (TypeError, AttributeError) as exc:
                            raise ConnectorError(f"Pax8 {what}: record {ident} has an "
                                                 f"unexpected shape ({exc})") from None
                        yield record
                self._report(len(seen), total, f"Pax8 {label}: page {page + 1} of "
                                               f"{max(total_pages, 1)}")
                page += 1
                if reason or not content or page >= total_pages:
                    break
            if not reason:
                return
            self._report(len(seen), first_total or 0,
                         f"Pax8 {label} changed while paging ({reason}); reading again")
        raise ConnectorError(
            f"Pax8 {label} kept changing while being read ({reason}); {MAX_RESTARTS} re-reads "
            "did not settle. Run the sync again when the Pax8 data is quiet.")

    # ------------------------------------------------------------ public API

    def test_connection(self) -> str:
        """A one-line summary for the connection dialog, or a ConnectorError saying why not."""
        what = "GET /companies?page=0&size=1"
        body = self._get_json("/companies", {"page": 0, "size": 1}, what)
        _content, total, _pages = _envelope(body, what)
        noun = "company" if total == 1 else "companies"
        return f"Connected to Pax8 at {self.base_url}: {total} {noun} visible."

    def companies(self, *, status: str | None = None) -> Iterator[VendorCustomerRecord]:
        params = {"status": status} if status else {}
        return self._paged("/companies", params, "companies", wire.company_record)

    def products(self, *, vendor_name: str | None = None) -> Iterator[VendorProductRecord]:
        params = {"vendorName": vendor_name} if vendor_name else {}
        return self._paged("/products", params, "products", wire.product_record)

    def subscriptions(self, *, company_id: str | None = None, status: str | None = None,
                      billing_term: str | None = None) -> Iterator[VendorSubscriptionRecord]:
        params = {k: v for k, v in (("companyId", company_id), ("status", status),
                                    ("billingTerm", billing_term)) if v}
        return self._paged("/subscriptions", params, "subscriptions",
                           lambda item: wire.subscription_record(item, self.default_currency))

    def subscription_history(self, subscription_id: str) -> list[SubscriptionChangeRecord]:
        """Oldest first. The history endpoint is not paged in the spec (`content` only)."""
        path = f"/subscriptions/{subscription_id}/history"
        what = f"GET {path}"
        body = self._get_json(path, None, what)
        if not isinstance(body, dict) or not isinstance(body.get("content"), list):
            raise ConnectorError(f"Pax8 {what}: unexpected response shape (no content list)")
        try:
            return wire.history_records(subscription_id, body["content"])
        except wire.Pax8DataError as exc:
            raise ConnectorError(f"Pax8 {what}: {exc}") from None

    def invoices(self, *, status: str | None = None, start: date | None = None,
                 end: date | None = None) -> Iterator[VendorInvoiceRecord]:
        """`start`/`end` (dates) map to invoiceDateRangeStart/End (yyyy-MM-dd)."""
        params = {k: str(v) for k, v in (("status", status), ("invoiceDateRangeStart", start),
                                         ("invoiceDateRangeEnd", end)) if v}
        return self._paged("/invoices", params, "invoices",
                           lambda item: wire.invoice_record(item, self.default_currency))

    def invoice_items(self, invoice: VendorInvoiceRecord | str) -> Iterator[ChargeLineRecord]:
        """Items of one invoice; an item without currencyCode takes the invoice's currency."""
        invoice_id = invoice if isinstance(invoice, str) else invoice.external_id
        currency = self.default_currency if isinstance(invoice, str) else invoice.currency
        return self._paged(
            f"/invoices/{invoice_id}/items", {}, f"invoice {invoice_id} items",
            lambda item: wire.invoice_item_record(invoice_id, item, currency),
            key=lambda item: wire.invoice_item_key(invoice_id, item))

    def usage_summaries(self, subscription_id: str) -> Iterator[UsageSummaryRecord]:
        return self._paged(
            f"/subscriptions/{subscription_id}/usage-summaries", {},
            f"usage summaries of {subscription_id}",
            lambda item: wire.usage_summary_record(item, subscription_id,
                                                   self.default_currency))

    def usage_lines(self, summary: UsageSummaryRecord) -> Iterator[ChargeLineRecord]:
        """The spec lists no page/size for usage-lines but answers with a page object, so we
        page it like the others (a server that ignores the parameters gives one page)."""
        return self._paged(
            f"/usage-summaries/{summary.external_id}/usage-lines", {},
            f"usage lines of {summary.external_id}",
            lambda item: wire.usage_line_record(summary, item),
            key=lambda item: wire.usage_line_key(summary.external_id, item))


def _envelope(body: Any, what: str) -> tuple[list[dict[str, Any]], int, int]:
    """`{"content": [...], "page": {size, totalElements, totalPages, number}}` (spec)."""
    if not isinstance(body, dict) or not isinstance(body.get("content"), list):
        raise ConnectorError(f"Pax8 {what}: unexpected response shape (no content list)")
    page = body.get("page")
    if not isinstance(page, dict):
        raise ConnectorError(f"Pax8 {what}: unexpected response shape (no page object)")
    try:
        total = int(page["totalElements"])
        pages = int(page["totalPages"])
    except (KeyError, TypeError, ValueError, ArithmeticError):
        raise ConnectorError(f"Pax8 {what}: page object lacks totalElements/totalPages") from None
    return body["content"], total, pages


def _error_detail(response: httpx.Response) -> str:
    """A short server message for the user (the spec's Error.message or OAuth error)."""
    try:
        body = wire.loads(response.content)
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    message = body.get("message") or body.get("error_description") or body.get("error")
    return f": {str(message)[:200]}" if message else ""
