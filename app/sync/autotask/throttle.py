"""Staying inside Autotask's limits: 3 requests in flight per endpoint, and the hourly threshold.

Both limits belong to the MSP's whole tenant, not to TrueUp: the thread limit counts per
integration code and object endpoint, and the 10,000 requests per rolling hour are shared
with every other integration (RMM, quoting, backups). Exhausting them stops all of those, so
TrueUp slows down progressively as the tenant's usage climbs and, near the top, waits with a
visible status instead of spending the last requests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from app.sync.http import CancelledError

THREADS_PER_ENDPOINT = 3
# Percent of the hourly threshold -> pause before each request, highest first.
LEVELS: tuple[tuple[int, float], ...] = ((90, 10.0), (75, 2.0), (50, 0.5))
STOP_AT = 97  # percent: from here on, wait for the rolling hour to free requests
REFRESH_EVERY = 25  # own requests between two reads of ThresholdInformation

# Child paths count against the entity they create or read (Contracts/{id}/Services is the
# ContractServices endpoint).
_CHILD_ENTITIES = {
    ("contracts", "services"): "contractservices",
    ("contracts", "charges"): "contractcharges",
    ("contracts", "serviceadjustments"): "contractserviceadjustments",
    ("contracts", "serviceunits"): "contractserviceunits",
}
UNLIMITED = "zoneinformation"  # zone lookups are not subject to thread limiting


def endpoint_of(path: str) -> str:
    """The object endpoint of an API path, e.g. '/ATServicesRest/V1.0/Companies/query'."""
    parts = [p for p in path.split("/") if p]
    lowered = [p.lower() for p in parts]
    if "v1.0" in lowered:
        parts = parts[lowered.index("v1.0") + 1:]
    if not parts:
        return ""
    if len(parts) >= 3 and parts[1].isdigit():
        key = (parts[0].lower(), parts[2].lower())
        return _CHILD_ENTITIES.get(key, "/".join(key))
    return parts[0].lower()


class EndpointLimiter:
    """One bounded semaphore per object endpoint, shared by every thread of a tenant."""

    def __init__(self, per_endpoint: int = THREADS_PER_ENDPOINT) -> None:
        self.per_endpoint = per_endpoint
        self._lock = threading.Lock()
        self._slots: dict[str, threading.BoundedSemaphore] = {}

    def _semaphore(self, endpoint: str) -> threading.BoundedSemaphore:
        with self._lock:
            if endpoint not in self._slots:
                self._slots[endpoint] = threading.BoundedSemaphore(self.per_endpoint)
            return self._slots[endpoint]

    @contextmanager
    def slot(self, endpoint: str, cancel: threading.Event | None = None) -> Iterator[None]:
        if endpoint == UNLIMITED:
            yield
            return
        semaphore = self._semaphore(endpoint)
        while not semaphore.acquire(timeout=0.05):
            if cancel is not None and cancel.is_set():
                raise CancelledError("cancelled")
        try:
            yield
        finally:
            semaphore.release()


_SHARED: dict[tuple[str, str], EndpointLimiter] = {}
_SHARED_LOCK = threading.Lock()


def shared_limiter(zone_url: str, integration_code: str) -> EndpointLimiter:
    """The limiter of one tenant and integration, shared by every connector in the process."""
    key = (zone_url.rstrip("/").lower(), integration_code)
    with _SHARED_LOCK:
        return _SHARED.setdefault(key, EndpointLimiter())


@dataclass(frozen=True)
class ThresholdStatus:
    """ThresholdInformation: the tenant's hourly allowance and how much of it is used."""

    limit: int
    timeframe_minutes: int
    used: int

    @property
    def percent(self) -> int:
        return 100 * self.used // self.limit if self.limit > 0 else 0

    def describe(self) -> str:
        return (f"Autotask API usage is {self.percent} % of the tenant's threshold "
                f"({self.used:,} of {self.limit:,} requests in {self.timeframe_minutes} "
                "minutes, shared with every integration)")


class Throttle:
    """Decides, before each request, whether to pause, and reports every pause."""

    def __init__(self, read_status: Callable[[], ThresholdStatus | None], *,
                 sleep: Callable[[float], None], report: Callable[[str], None],
                 cancel: threading.Event, levels: tuple[tuple[int, float], ...] = LEVELS,
                 stop_at: int = STOP_AT, refresh_every: int = REFRESH_EVERY,
                 stop_wait_s: float = 60.0, max_stop_wait_s: float = 900.0,
                 exhausted: Callable[[ThresholdStatus], Exception] | None = None) -> None:
        self._read_status = read_status
        self._sleep, self._report, self.cancel = sleep, report, cancel
        self.levels = tuple(sorted(levels, reverse=True))
        self.stop_at, self.refresh_every = stop_at, refresh_every
        self.stop_wait_s, self.max_stop_wait_s = stop_wait_s, max_stop_wait_s
        self._exhausted = exhausted or (lambda s: RuntimeError(s.describe()))
        self._lock = threading.Lock()
        self._last: ThresholdStatus | None = None
        self._since = 0  # our requests since the last reading
        self._refreshing = False
        self.pauses: list[float] = []  # every pause taken, for the user's log and for tests

    @property
    def last_status(self) -> ThresholdStatus | None:
        return self._last

    def estimate(self) -> ThresholdStatus | None:
        """The last reading plus our own requests since; re-read every `refresh_every`."""
        with self._lock:
            refresh = not self._refreshing and (self._last is None
                                                or self._since >= self.refresh_every)
            if refresh:
                self._refreshing = True
        if refresh:
            try:
                status = self._read_status()
            finally:
                with self._lock:
                    self._refreshing = False
            with self._lock:
                if status is not None:
                    self._last, self._since = status, 0
                else:  # not readable (e.g. permission): try again after another batch
                    self._since = 0
        with self._lock:
            if self._last is None:
                return None
            return ThresholdStatus(self._last.limit, self._last.timeframe_minutes,
                                   self._last.used + self._since)

    def before_request(self) -> None:
        status = self.estimate()
        if status is not None and status.percent >= self.stop_at:
            self._wait_for_window(status)
        elif status is not None:
            pause = next((s for pct, s in self.levels if status.percent >= pct), 0.0)
            if pause > 0:
                self._pause(pause, f"{status.describe()}: pausing {pause:g} s between "
                                   "requests to leave room for them")
        with self._lock:
            self._since += 1

    def _wait_for_window(self, status: ThresholdStatus) -> None:
        waited = 0.0
        while status.percent >= self.stop_at:
            if waited >= self.max_stop_wait_s:
                raise self._exhausted(status)
            self._pause(self.stop_wait_s, f"{status.describe()}: waiting "
                        f"{self.stop_wait_s:g} s for the rolling hour to free requests "
                        "instead of using up the tenant's last ones")
            waited += self.stop_wait_s
            fresh = self._read_status()
            with self._lock:
                if fresh is not None:
                    self._last, self._since = fresh, 0
                status = fresh or status

    def _pause(self, seconds: float, message: str) -> None:
        if self.cancel.is_set():
            raise CancelledError("cancelled")
        self._report(message)
        self.pauses.append(seconds)
        self._sleep(seconds)
        if self.cancel.is_set():
            raise CancelledError("cancelled")
