"""One polite HTTP client for every connector: timeouts, Retry-After on 429, jittered backoff.

Retries are only automatic where they are safe: a 429 (the server did nothing) and a
connection that could not be opened (nothing was sent). A read timeout or a dropped
connection after a request was sent is raised to the caller, because a write may have
landed; the push protocol settles those by re-reading, never by resending.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx

DEFAULT_TIMEOUT = httpx.Timeout(connect=10.0, read=60.0, write=30.0, pool=10.0)


class ConnectorError(Exception):
    """A connector call failed in a way the user must be told about."""


class CancelledError(ConnectorError):
    """The user cancelled the work."""


class RateLimitedError(ConnectorError):
    """The server kept answering 429 after every allowed retry."""


@dataclass(frozen=True)
class RetryPolicy:
    max_429_retries: int = 5
    max_connect_retries: int = 3
    base_backoff_s: float = 0.5
    max_wait_s: float = 120.0


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header given in seconds or as an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class PoliteClient:
    """Wraps one reused httpx.Client; `request` retries only what is safe to retry."""

    def __init__(
        self,
        base_url: str,
        *,
        headers: dict[str, str] | None = None,
        auth: httpx.Auth | tuple[str, str] | None = None,
        transport: httpx.BaseTransport | None = None,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        retry: RetryPolicy = RetryPolicy(),
        sleep: Callable[[float], None] = time.sleep,
        cancel: threading.Event | None = None,
    ) -> None:
        self.client = httpx.Client(
            base_url=base_url,
            headers=headers,
            auth=auth,
            transport=transport,
            timeout=timeout,
            follow_redirects=False,
        )
        self.retry = retry
        self._sleep = sleep
        self.cancel = cancel or threading.Event()

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _wait(self, seconds: float) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled")
        self._sleep(min(seconds, self.retry.max_wait_s))
        if self.cancel.is_set():
            raise CancelledError("cancelled")

    def request(self, method: str, url: str, **kwargs) -> httpx.Response:
        rate_limited = 0
        connect_failures = 0
        while True:
            if self.cancel.is_set():
                raise CancelledError("cancelled")
            try:
                response = self.client.request(method, url, **kwargs)
            except httpx.ConnectError:
                # The connection was never opened: nothing reached the server.
                connect_failures += 1
                if connect_failures > self.retry.max_connect_retries:
                    raise
                backoff = self.retry.base_backoff_s * 2 ** (connect_failures - 1)
                self._wait(backoff * (0.5 + random.random()))
                continue
            if response.status_code == 429:
                rate_limited += 1
                if rate_limited > self.retry.max_429_retries:
                    raise RateLimitedError(
                        f"{method} {url}: still rate limited (429) after {rate_limited - 1} retries"
                    )
                wait = parse_retry_after(response.headers.get("Retry-After"))
                if wait is None:
                    wait = self.retry.base_backoff_s * 2 ** (rate_limited - 1)
                self._wait(wait + random.random() * 0.05)
                continue
            return response

    def get(self, url: str, **kwargs) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def patch(self, url: str, **kwargs) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)
