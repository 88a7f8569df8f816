"""The HTTP side of the Autotask connector: zone lookup, credentials, limits, paging, errors.

Every request goes through PoliteClient (timeouts, Retry-After on 429, no resend after a
request was sent), one of three slots of its endpoint, and the threshold throttle. The
secret and the integration code live only in the client's default headers; messages are
scrubbed of both, and a next-page URL is followed only to the zone we looked up.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from app.sync.autotask import query, wire
from app.sync.autotask.errors import (
    AutotaskError,
    NotVisibleError,
    OutcomeUnknownError,
    ThresholdExhaustedError,
    ValidationError,
    error_lines,
    not_visible_message,
    plain_text,
)
from app.sync.autotask.throttle import (
    LEVELS,
    STOP_AT,
    EndpointLimiter,
    ThresholdStatus,
    Throttle,
    endpoint_of,
    shared_limiter,
)
from app.sync.http import (
    DEFAULT_TIMEOUT,
    CancelledError,
    ConnectorError,
    PoliteClient,
    RateLimitedError,
    RetryPolicy,
)

DEFAULT_LOOKUP_URL = "https://webservices.autotask.net/atservicesrest"
VERSION = "/V1.0"
MAX_PAGE_SIZE = 500  # Autotask returns at most 500 records per page
DEFAULT_RETRY = RetryPolicy()


@dataclass(frozen=True)
class ZoneInfo:
    """ZoneInformation: where this API user's tenant lives."""

    zone_name: str | None
    url: str
    web_url: str | None
    ci: int | None


def normalise_zone_url(url: str) -> str:
    """'https://webservices5.autotask.net/ATServicesRest/' -> without the trailing slash;
    a bare host gets the /ATServicesRest base; a trailing /V1.0 is dropped."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    path = parts.path.rstrip("/")
    if path.lower().endswith("/v1.0"):
        path = path[: -len("/v1.0")]
    if not path:
        path = "/ATServicesRest"
    return f"{parts.scheme}://{parts.netloc}{path}"


class AutotaskClient:
    """Talks to one tenant as one API user; safe to share between threads."""

    def __init__(self, username: str, secret: str, integration_code: str, *,
                 zone_url: str | None = None, lookup_url: str = DEFAULT_LOOKUP_URL,
                 transport: httpx.BaseTransport | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 cancel: threading.Event | None = None,
                 report: Callable[[str], None] | None = None,
                 timeout: httpx.Timeout = DEFAULT_TIMEOUT,
                 limiter: EndpointLimiter | None = None,
                 levels: tuple[tuple[int, float], ...] = LEVELS, stop_at: int = STOP_AT,
                 retry: RetryPolicy = DEFAULT_RETRY) -> None:
        if not username or not secret or not integration_code:
            raise ValueError("an Autotask connection needs a user name, secret and "
                             "integration code")
        self.username = username
        self.lookup_url = normalise_zone_url(lookup_url)
        self.cancel = cancel or threading.Event()
        self._secret, self._code = secret, integration_code
        self._zone = normalise_zone_url(zone_url) if zone_url else None
        self._transport, self._timeout, self._retry = transport, timeout, retry
        self._sleep = sleep
        self._limiter = limiter
        self._http: PoliteClient | None = None
        self._lock = threading.Lock()
        self.throttle = Throttle(self._threshold_or_none, sleep=sleep, cancel=self.cancel,
                                 report=report or (lambda message: None), levels=levels,
                                 stop_at=stop_at, exhausted=self._exhausted)

    def __repr__(self) -> str:
        return f"AutotaskClient(username={self.username!r}, zone={self._zone!r})"

    def close(self) -> None:
        if self._http is not None:
            self._http.close()

    # ------------------------------------------------------------------ zone

    @property
    def zone_url(self) -> str:
        """The tenant's API base, looked up by user name on first use unless given."""
        if self._zone is None:
            self._zone = normalise_zone_url(self.lookup_zone().url)
        return self._zone

    def lookup_zone(self) -> ZoneInfo:
        """GET {lookup}/V1.0/zoneInformation?user=...: no secret is sent for a lookup."""
        path = f"{VERSION}/zoneInformation"
        with PoliteClient(self.lookup_url, transport=self._transport, timeout=self._timeout,
                          sleep=self._sleep, cancel=self.cancel, retry=self._retry) as http:
            try:
                response = http.get(self.lookup_url + path, params={"user": self.username})
            except ConnectorError:
                raise
            except httpx.HTTPError as exc:
                raise AutotaskError(f"GET {path}: the zone lookup failed "
                                    f"({type(exc).__name__})", method="GET", path=path) from None
        body = self._json_or_none(response)
        url = wire.get(body, "url") if isinstance(body, dict) else None
        if response.status_code != 200 or not url:
            detail = "; ".join(error_lines(response)) or plain_text(response)
            raise AutotaskError(self._scrub(
                f"GET {path}: no Autotask zone was found for API user {self.username!r} "
                f"(HTTP {response.status_code}: {detail}); check the user name, or give the "
                "zone URL"), method="GET", path=path, status=response.status_code)
        return ZoneInfo(wire.get(body, "zoneName"), str(url), wire.get(body, "webUrl"),
                        wire.get(body, "ci"))

    # ------------------------------------------------------------------ threshold

    def threshold(self) -> ThresholdStatus:
        """GET /V1.0/ThresholdInformation (outside the throttle, which calls it)."""
        body = self.call("GET", f"{VERSION}/ThresholdInformation", throttled=False)
        return ThresholdStatus(int(wire.get(body, "externalRequestThreshold") or 0),
                               int(wire.get(body, "requestThresholdTimeframe") or 60),
                               int(wire.get(body, "currentTimeframeRequestCount") or 0))

    def _threshold_or_none(self) -> ThresholdStatus | None:
        try:
            return self.threshold()
        except AutotaskError as exc:
            if exc.status in (401, 403):  # an API user without access: throttle blind
                return None
            raise

    def _exhausted(self, status: ThresholdStatus) -> ThresholdExhaustedError:
        path = f"{VERSION}/ThresholdInformation"
        return ThresholdExhaustedError(
            f"{status.describe()}. TrueUp stopped instead of using up the rest, which would "
            "block every integration of the tenant; try again later.",
            method="GET", path=path)

    # ------------------------------------------------------------------ requests

    def call(self, method: str, path_or_url: str, *, body: Any = None,
             params: dict[str, Any] | None = None, throttled: bool = True) -> Any:
        response = self._send(method, path_or_url, body, params, throttled)
        return self._decode(method, path_or_url, response)

    def get_item(self, entity: str, record_id: int | str) -> dict[str, Any]:
        """GET /V1.0/{entity}/{id}; an empty `item` means we may not see it (never "none")."""
        path = f"{VERSION}/{entity}/{int(record_id)}"
        body = self.call("GET", path)
        item = wire.get(body, "item") if isinstance(body, dict) else None
        if not isinstance(item, dict):
            raise NotVisibleError(not_visible_message("GET", path, entity, record_id),
                                  method="GET", path=path, status=200)
        return item

    def query_pages(self, entity: str, filters: Sequence[query.Filter], *,
                    page_size: int = MAX_PAGE_SIZE,
                    include_fields: Sequence[str] | None = None) -> Iterator[list[dict]]:
        """POST /V1.0/{entity}/query, then GET each pageDetails.nextPageUrl until none."""
        path = f"{VERSION}/{entity}/query"
        body = query.query_body(filters, max_records=page_size, include_fields=include_fields)
        page = self.call("POST", path, body=body)
        while True:
            items, next_url = self._page(path, page)
            yield items
            if not next_url or not items:
                return
            if self.cancel.is_set():
                raise CancelledError("cancelled")
            page = self.call("GET", self._same_zone(next_url, path))

    def _page(self, path: str, page: Any) -> tuple[list[dict], str | None]:
        items = wire.get(page, "items") if isinstance(page, dict) else None
        details = wire.get(page, "pageDetails") if isinstance(page, dict) else None
        if not isinstance(items, list):
            raise AutotaskError(f"POST {path}: the answer has no items list", method="POST",
                                path=path)
        next_url = wire.get(details, "nextPageUrl") if isinstance(details, dict) else None
        return items, next_url

    def _same_zone(self, url: str, path: str) -> str:
        """Follow a next-page URL only inside our zone: the credentials go nowhere else."""
        ours, theirs = urlsplit(self.zone_url), urlsplit(url)
        same = (theirs.scheme.lower(), theirs.netloc.lower()) == (
            ours.scheme.lower(), ours.netloc.lower())
        if not same or not theirs.path.lower().startswith(ours.path.lower() + "/"):
            raise AutotaskError(f"GET {path}: the next-page URL points outside the zone",
                                method="GET", path=path)
        return url

    def _client(self) -> PoliteClient:
        with self._lock:
            if self._http is None:
                self._http = PoliteClient(
                    self.zone_url,
                    headers={"UserName": self.username, "Secret": self._secret,
                             "ApiIntegrationCode": self._code, "Accept": "application/json"},
                    transport=self._transport, timeout=self._timeout, retry=self._retry,
                    sleep=self._sleep, cancel=self.cancel)
            return self._http

    def _send(self, method: str, path_or_url: str, body: Any, params: dict[str, Any] | None,
              throttled: bool) -> httpx.Response:
        path = self.path_of(path_or_url)
        url = path_or_url if "://" in path_or_url else self.zone_url + path_or_url
        is_write = method != "GET" and not path.lower().endswith("/query")
        kwargs: dict[str, Any] = {"params": params}
        if body is not None:
            kwargs["content"] = wire.dumps(body)
            kwargs["headers"] = {"Content-Type": "application/json"}
        http = self._client()
        if throttled:
            self.throttle.before_request()
        try:
            with self._limiter_for().slot(endpoint_of(path), self.cancel):
                response = http.request(method, url, **kwargs)
        except RateLimitedError:
            raise self._refused_429(method, path, ask=throttled) from None
        except ConnectorError:
            raise
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            raise AutotaskError(f"{method} {path}: could not connect ({type(exc).__name__})",
                                method=method, path=path) from None
        except httpx.HTTPError as exc:
            kind = OutcomeUnknownError if is_write else AutotaskError
            tail = "; the outcome is unknown" if is_write else ""
            raise kind(f"{method} {path}: no answer after sending ({type(exc).__name__}){tail}",
                       method=method, path=path) from None
        if response.status_code >= 400:
            raise self._http_error(method, path, response, is_write)
        return response

    def _limiter_for(self) -> EndpointLimiter:
        if self._limiter is None:
            self._limiter = shared_limiter(self.zone_url, self._code)
        return self._limiter

    def _refused_429(self, method: str, path: str, *, ask: bool) -> AutotaskError:
        """Still 429 after the retries: a used-up threshold, or (rarely) the thread limit.

        `ask` is False for the ThresholdInformation call itself, which must not recurse.
        """
        status = self._threshold_or_none() if ask else None
        if status is not None and status.used >= status.limit:
            return self._exhausted(status)
        return AutotaskError(f"{method} {path}: Autotask kept refusing the request (HTTP 429, "
                             "too many requests) after every allowed retry; nothing was "
                             "changed", method=method, path=path, status=429)

    def _http_error(self, method: str, path: str, response: httpx.Response,
                    is_write: bool) -> AutotaskError:
        status, errors = response.status_code, error_lines(response)
        if status == 500 and errors:
            text = "; ".join(errors)
            return ValidationError(self._scrub(
                f"{method} {path}: Autotask refused the request: {text} (HTTP 500 with an "
                "errors list is a validation error, not a passing fault: retrying will not "
                "help, nothing was changed)"), method=method, path=path, status=status,
                errors=tuple(self._scrub(e) for e in errors))
        detail = "; ".join(errors) or plain_text(response)
        if status in (401, 403):
            detail = ("Autotask did not accept the API user name, secret or integration code"
                      + (f" ({detail})" if detail and status == 403 else ""))
        kind = OutcomeUnknownError if is_write and status >= 500 else AutotaskError
        return kind(self._scrub(f"{method} {path}: HTTP {status}: {detail}"), method=method,
                    path=path, status=status, errors=tuple(self._scrub(e) for e in errors))

    def _decode(self, method: str, url: str, response: httpx.Response) -> Any:
        if not response.content:
            return None
        try:
            return wire.loads(response.content)
        except ValueError:
            path = self.path_of(url)
            raise AutotaskError(f"{method} {path}: the answer is not valid JSON",
                                method=method, path=path,
                                status=response.status_code) from None

    @staticmethod
    def _json_or_none(response: httpx.Response) -> Any:
        try:
            return wire.loads(response.content)
        except ValueError:
            return None

    def path_of(self, url: str) -> str:
        """The API path of a URL ('/V1.0/...'), for messages: never the query string."""
        path = urlsplit(url).path or url
        lowered = path.lower()
        index = lowered.find("/v1.0/")
        return path[index:] if index >= 0 else path

    def _scrub(self, text: str) -> str:
        for secret in (self._secret, self._code):
            if len(secret) >= 4:  # real ones are long; a 1-letter "secret" would garble text
                text = text.replace(secret, "***")
        return text
