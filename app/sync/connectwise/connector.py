"""ConnectWise PSA (Manage) REST connector: reads companies, agreements, additions, catalogue;
writes additions with absolute values so the push protocol can verify them by re-reading.

Built from the official OpenAPI subset in reference/connectwise. Every request goes through
PoliteClient (timeouts, Retry-After on 429, no automatic resend after a request was sent).
The private key lives only inside the httpx auth object and never reaches a message or repr.
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx

from app.sync.connectwise import wire
from app.sync.credentials import load_secret
from app.sync.http import DEFAULT_TIMEOUT, CancelledError, ConnectorError, PoliteClient
from app.sync.records import (
    PsaAgreementRecord,
    PsaBillingLineRecord,
    PsaCompanyRecord,
    PsaProductRecord,
)

API_VERSION = "2025.1"  # the spec version our reference subset (models, paths) was built from
MAX_PAGE_SIZE = 1000
PAGING_LINK = "link"  # page/pageSize, follow the Link header's rel="next"
PAGING_FORWARD = "forward"  # forward-only: pageId = last id seen (CW: "id > pageId")
ONE_TIME_AGREEMENT = "one_time_agreement"  # charge = addition on the customer's one-time agreement
SAME_PERIOD = "same_period"  # charge = addition effective and cancelled inside one period
ACTIVE_AGREEMENTS = 'agreementStatus="Active" and cancelledFlag=false'

Progress = Callable[[int, int | None, str], None]


class ConnectWiseError(ConnectorError):
    """A CW call failed; carries the method, path, HTTP status and the server's error code."""

    def __init__(self, message: str, *, method: str, path: str, status: int | None = None,
                 code: str | None = None) -> None:
        super().__init__(message)
        self.method, self.path, self.status, self.code = method, path, status, code


class OutcomeUnknownError(ConnectWiseError):
    """A write was sent but no answer came back (timeout, reset, 5xx): it may have landed.

    Never resend blindly; re-read the line (get_addition) to learn what happened.
    """


def replace_ops(fields: Mapping[str, Any]) -> list[dict[str, Any]]:
    """JSON-patch 'replace' operations for absolute values, e.g. {"quantity": Decimal(7)}."""
    return [{"op": "replace", "path": name, "value": value} for name, value in fields.items()]


def _progress_none(done: int, total: int | None, message: str) -> None:
    pass


class ConnectWiseConnector:
    """One CW tenant; reads return frozen records, writes return the line as CW stored it."""

    def __init__(
        self,
        base_url: str,
        company_id: str,
        public_key: str,
        private_key: str,
        client_id: str,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        cancel: threading.Event | None = None,
        progress: Progress | None = None,
        page_size: int = MAX_PAGE_SIZE,
        paging: str = PAGING_LINK,
        api_version: str = API_VERSION,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    ) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE} (ConnectWise's hard limit)")
        if paging not in (PAGING_LINK, PAGING_FORWARD):
            raise ValueError(f"paging must be {PAGING_LINK!r} or {PAGING_FORWARD!r}")
        self.base_url = base_url.rstrip("/")
        self.company_id = company_id
        self.page_size = page_size
        self.paging = paging
        self._progress = progress or _progress_none
        self._secrets = tuple(s for s in (private_key, _basic_token(company_id, public_key,
                                                                     private_key)) if s)
        self._http = PoliteClient(
            self.base_url,
            headers={
                "clientId": client_id,
                "Accept": f"application/vnd.connectwise.com+json; version={api_version}",
            },
            auth=httpx.BasicAuth(f"{company_id}+{public_key}", private_key),
            transport=transport,
            timeout=timeout,
            sleep=sleep,
            cancel=cancel,
        )

    @classmethod
    def from_keyring(cls, connection_name: str, base_url: str, company_id: str, public_key: str,
                     client_id: str, *, secret_field: str = "secret",
                     **kwargs: Any) -> ConnectWiseConnector:
        """Build a connector whose private key comes from the OS keyring, never from settings."""
        private_key = load_secret(connection_name, secret_field)
        return cls(base_url, company_id, public_key, private_key, client_id, **kwargs)

    def __repr__(self) -> str:
        return (f"ConnectWiseConnector(base_url={self.base_url!r}, "
                f"company_id={self.company_id!r}, paging={self.paging!r})")

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ConnectWiseConnector:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ reads

    def test_connection(self) -> dict[str, Any]:
        """GET /system/info: proves URL, credentials and clientId; returns CW's Info."""
        return self._call("GET", "/system/info")

    def list_companies(self, *, conditions: str | None = None) -> list[PsaCompanyRecord]:
        return [wire.company_record(r) for r in self.iter_raw("/company/companies",
                                                               conditions=conditions)]

    def list_agreements(self, *, active_only: bool = True, updated_since: datetime | None = None,
                        company_id: int | None = None,
                        conditions: str | None = None) -> list[PsaAgreementRecord]:
        """Agreements, by default only active ones (agreementStatus Active, not cancelled)."""
        parts = [ACTIVE_AGREEMENTS if active_only else None, _since(updated_since),
                 f"company/id={int(company_id)}" if company_id is not None else None, conditions]
        return [wire.agreement_record(r) for r in self.iter_raw(
            "/finance/agreements", conditions=join_conditions(*parts))]

    def list_additions(self, agreement_id: int, *, updated_since: datetime | None = None,
                       conditions: str | None = None,
                       one_time: bool = False) -> list[PsaBillingLineRecord]:
        """Additions of one agreement; pass one_time=True for a one-time agreement's lines."""
        path = f"/finance/agreements/{int(agreement_id)}/additions"
        cond = join_conditions(_since(updated_since), conditions)
        return [wire.addition_record(r, agreement_id, one_time=one_time)
                for r in self.iter_raw(path, conditions=cond)]

    def list_products(self, *, conditions: str | None = None) -> list[PsaProductRecord]:
        """The product catalogue (/procurement/catalog): identifiers, prices and costs."""
        return [wire.product_record(r) for r in self.iter_raw("/procurement/catalog",
                                                               conditions=conditions)]

    def get_addition(self, agreement_id: int, addition_id: int, *,
                     one_time: bool = False) -> PsaBillingLineRecord:
        """Raw read-back of one line, used by the push protocol to verify or settle a write."""
        raw = self._call("GET", _addition_path(agreement_id, addition_id))
        return wire.addition_record(raw, agreement_id, one_time=one_time)

    def iter_raw(self, path: str, *, conditions: str | None = None,
                 order_by: str | None = None) -> Iterator[dict[str, Any]]:
        """Every record of a list endpoint, page by page, reporting progress per page."""
        done = 0
        for page in self._pages(path, conditions, order_by):
            done += len(page)
            self._progress(done, None, f"{path}: {done} read")
            yield from page

    # ------------------------------------------------------------------ writes

    def patch_addition(self, agreement_id: int, addition_id: int,
                       ops: Sequence[Mapping[str, Any]]) -> PsaBillingLineRecord:
        """Apply a JSON-patch array, e.g. replace_ops({"quantity": Decimal(12)})."""
        body = [{"op": o["op"], "path": o["path"], "value": o.get("value")} for o in ops]
        raw = self._call("PATCH", _addition_path(agreement_id, addition_id), body=body)
        return wire.addition_record(raw, agreement_id)

    def create_addition(self, agreement_id: int, body: Mapping[str, Any], *,
                        one_time: bool = False) -> PsaBillingLineRecord:
        """POST a new addition (CW shape: product {id}, billCustomer, quantity, unitPrice...)."""
        path = f"/finance/agreements/{int(agreement_id)}/additions"
        raw = self._call("POST", path, body=dict(body))
        return wire.addition_record(raw, agreement_id, one_time=one_time)

    def cancel_addition(self, agreement_id: int, addition_id: int,
                        cancelled_date: date) -> PsaBillingLineRecord:
        """End a line on a date (CW keeps it for history and stops billing after that day)."""
        return self.patch_addition(agreement_id, addition_id,
                                   replace_ops({"cancelledDate": cancelled_date}))

    def create_one_time_charge(
        self,
        agreement_id: int,
        *,
        product_id: int,
        quantity: Decimal,
        unit_price: Decimal,
        effective_date: date,
        unit_cost: Decimal | None = None,
        description: str | None = None,
        invoice_description: str | None = None,
        bill_customer: str = "Billable",
        mode: str = ONE_TIME_AGREEMENT,
        cancelled_date: date | None = None,
    ) -> PsaBillingLineRecord:
        """A non-recurring charge (or credit, with a negative quantity or price).

        ONE_TIME_AGREEMENT: `agreement_id` is the customer's one-time agreement; CW bills the
        line once. SAME_PERIOD: `agreement_id` is a recurring agreement and the line is
        effective and cancelled inside one period (`cancelled_date`, usually the period end).
        """
        body: dict[str, Any] = {
            "product": {"id": int(product_id)},
            "quantity": quantity,
            "unitPrice": unit_price,
            "billCustomer": bill_customer,
            "effectiveDate": effective_date,
        }
        if mode == SAME_PERIOD:
            if cancelled_date is None or cancelled_date < effective_date:
                raise ValueError("a same-period charge needs cancelled_date >= effective_date")
            body["cancelledDate"] = cancelled_date
        elif mode != ONE_TIME_AGREEMENT:
            raise ValueError(f"mode must be {ONE_TIME_AGREEMENT!r} or {SAME_PERIOD!r}")
        if unit_cost is not None:
            body["unitCost"] = unit_cost
        if description is not None:
            body["description"] = description
        if invoice_description is not None:
            body["invoiceDescription"] = invoice_description
        return self.create_addition(agreement_id, body, one_time=True)

    # ------------------------------------------------------------------ plumbing

    def _pages(self, path: str, conditions: str | None,
               order_by: str | None) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {"pageSize": self.page_size}
        if conditions:
            params["conditions"] = conditions
        if order_by:
            params["orderBy"] = order_by
        if self.paging == PAGING_FORWARD:
            headers = {"pagination-type": "forward-only"}
            while True:
                page, _ = self._list_page(path, params, headers)
                yield page
                if len(page) < self.page_size:
                    return
                params = {**params, "pageId": page[-1]["id"]}
        url: str | None = f"{path}?{_query({**params, 'page': 1})}"
        while url is not None:
            page, response = self._list_page(url, None, None)
            yield page
            nxt = response.links.get("next", {}).get("url")
            url = self._same_origin(nxt, path) if nxt and page else None

    def _list_page(self, url: str, params: dict[str, Any] | None,
                   headers: dict[str, str] | None) -> tuple[list[dict[str, Any]], httpx.Response]:
        if self._http.cancel.is_set():
            raise CancelledError("cancelled")
        full = f"{url}?{_query(params)}" if params else url
        response = self._send("GET", full, None, headers)
        body = self._decode("GET", url, response)
        if not isinstance(body, list):
            path = self._path_of(url)
            raise ConnectWiseError(f"GET {path}: expected a JSON array", method="GET", path=path,
                                   status=response.status_code)
        return body, response

    def _same_origin(self, url: str, path: str) -> str:
        """Follow a Link only to our own server: the credentials must never go elsewhere."""
        ours, theirs = urlsplit(self.base_url), urlsplit(url)
        if theirs.scheme and (theirs.scheme, theirs.netloc) != (ours.scheme, ours.netloc):
            raise ConnectWiseError(f"GET {path}: next-page link points to another host",
                                   method="GET", path=path)
        return url

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        response = self._send(method, path, body, None)
        return self._decode(method, path, response)

    def _send(self, method: str, url: str, body: Any,
              headers: dict[str, str] | None) -> httpx.Response:
        path = self._path_of(url)
        is_write = method != "GET"
        kwargs: dict[str, Any] = {"headers": dict(headers or {})}
        if body is not None:
            kwargs["content"] = wire.dumps(body)
            kwargs["headers"]["Content-Type"] = "application/json"
        try:
            response = self._http.request(method, url, **kwargs)
        except ConnectorError:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise ConnectWiseError(self._scrub(f"{method} {path}: could not connect "
                                               f"({type(exc).__name__})"),
                                   method=method, path=path) from None
        except httpx.HTTPError as exc:
            if is_write:
                raise OutcomeUnknownError(
                    self._scrub(f"{method} {path}: no answer after sending "
                                f"({type(exc).__name__}); the outcome is unknown"),
                    method=method, path=path) from None
            raise ConnectWiseError(self._scrub(f"{method} {path}: no answer "
                                               f"({type(exc).__name__})"),
                                   method=method, path=path) from None
        if response.status_code >= 400:
            kind = (OutcomeUnknownError if is_write and response.status_code >= 500
                    else ConnectWiseError)
            code, message = _error_text(response)
            label = f"HTTP {response.status_code}" + (f" {code}" if code else "")
            raise kind(self._scrub(f"{method} {path}: {label}: {message}"),
                       method=method, path=path, status=response.status_code, code=code)
        return response

    def _decode(self, method: str, url: str, response: httpx.Response) -> Any:
        try:
            return wire.loads(response.content)
        except ValueError:
            path = self._path_of(url)
            raise ConnectWiseError(f"{method} {path}: the answer is not valid JSON",
                                   method=method, path=path,
                                   status=response.status_code) from None

    def _path_of(self, url: str) -> str:
        """The API path of a URL (base path stripped), for messages: never the query string."""
        path = urlsplit(url).path or url
        base = urlsplit(self.base_url).path
        return path[len(base):] if base and path.startswith(base + "/") else path

    def _scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text


def join_conditions(*parts: str | None) -> str | None:
    """AND together condition strings, parenthesised so an 'or' inside one cannot leak."""
    present = [p for p in parts if p]
    if len(present) <= 1:
        return present[0] if present else None
    return " and ".join(f"({p})" for p in present)


def _since(when: datetime | None) -> str | None:
    return f"lastUpdated>[{wire.format_timestamp(when)}]" if when is not None else None


def _basic_token(company_id: str, public_key: str, private_key: str) -> str:
    """The base64 credentials of the Authorization header, so messages can be scrubbed of it."""
    return base64.b64encode(f"{company_id}+{public_key}:{private_key}".encode()).decode()


def _query(params: Mapping[str, Any] | None) -> str:
    """Percent-encode (spaces as %20) so conditions survive exactly; never '+' for space."""
    return urlencode(params or {}, quote_via=quote)


def _addition_path(agreement_id: int, addition_id: int) -> str:
    return f"/finance/agreements/{int(agreement_id)}/additions/{int(addition_id)}"


def _error_text(response: httpx.Response) -> tuple[str | None, str]:
    """CW's ErrorResponseMessage (code, message, errors[]) as one readable line."""
    try:
        body = wire.loads(response.content)
    except ValueError:
        return None, (response.text[:300] or response.reason_phrase)
    if not isinstance(body, dict):
        return None, str(body)[:300]
    message = str(body.get("message") or response.reason_phrase)
    details = [f"{e.get('field') or e.get('resource') or ''}: {e.get('message')}".lstrip(": ")
               for e in body.get("errors") or [] if isinstance(e, dict)]
    if details:
        message += " (" + "; ".join(details) + ")"
    return body.get("code"), message
