"""What can go wrong talking to Autotask, each with a message a bookkeeper can act on.

Autotask answers a refused request (validation, a missing required field, a wrong id) with
HTTP 500 and an `errors` list: that is not a server fault and retrying cannot help, so it is
its own error type. Messages carry the method and API path, never a query string, header or
secret.
"""

from __future__ import annotations

import httpx

from app.sync.autotask import wire
from app.sync.http import ConnectorError


class AutotaskError(ConnectorError):
    """An Autotask call failed; carries method, path, HTTP status and the server's errors."""

    def __init__(self, message: str, *, method: str, path: str, status: int | None = None,
                 errors: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.method, self.path, self.status, self.errors = method, path, status, errors


class ValidationError(AutotaskError):
    """HTTP 500 with an `errors` body: Autotask refused the request; nothing was changed."""


class OutcomeUnknownError(AutotaskError):
    """A write was sent but no usable answer came back: it may have landed.

    Never resend blindly; re-read (units, the charge by its marker) to learn what happened.
    """


class NotVisibleError(AutotaskError):
    """A record that must exist came back empty: a permission or zone problem, not "nothing"."""


class ThresholdExhaustedError(AutotaskError):
    """The tenant's hourly API threshold is (nearly) used up; TrueUp stopped rather than add."""


def not_visible_message(method: str, path: str, entity: str, record_id: int | str) -> str:
    return (f"{method} {path}: Autotask returned nothing for {entity} {record_id}, which should "
            "exist. This is a permission or zone problem, not a missing record: the API user's "
            "security level or line of business may hide it, or the connection points at "
            "another zone's URL. Check the API user's permissions and the zone URL.")


def error_lines(response: httpx.Response) -> tuple[str, ...]:
    """The `errors` list of an Autotask error body (strings or {message} objects)."""
    try:
        body = wire.loads(response.content)
    except ValueError:
        return ()
    if not isinstance(body, dict):
        return ()
    found = wire.get(body, "errors")
    if not isinstance(found, list):
        return ()
    lines = []
    for item in found:
        if isinstance(item, dict):
            item = wire.get(item, "message") or item
        lines.append(str(item))
    return tuple(lines)


def plain_text(response: httpx.Response) -> str:
    """A short text of a non-`errors` body, for messages."""
    try:
        body = wire.loads(response.content)
    except ValueError:
        return response.text[:300] or response.reason_phrase
    if isinstance(body, dict):
        message = wire.get(body, "message")
        if message:
            return str(message)[:300]
    return str(body)[:300] if body else response.reason_phrase
