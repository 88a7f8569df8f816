"""Building a live connector for a stored connection, its secret read from the keyring.

A `sandbox://` connection (the demo) is the one exception: its connector talks to the
sandbox lent by `app.services.sandboxes`, with the sandbox's own fixed demo credential.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import httpx

from app.services.connections import ConnectionSetupError, ConnectionView
from app.services.sandboxes import sandbox_credential
from app.sync.autotask.connector import AutotaskConnector
from app.sync.connectwise.connector import ConnectWiseConnector
from app.sync.pax8.connector import Pax8Connector

Progress = Callable[[int, int | None, str], None]


def _require(view: ConnectionView, *names: str) -> list[str]:
    missing = [n for n in names if not view.settings.get(n)]
    if missing or not view.base_url:
        what = ", ".join(missing + ([] if view.base_url else ["url"]))
        raise ConnectionSetupError(f"connection {view.name!r} is missing: {what}")
    return [view.settings[n] for n in names]


def open_connectwise(view: ConnectionView, *, transport: httpx.BaseTransport | None = None,
                     progress: Progress | None = None,
                     cancel: threading.Event | None = None) -> ConnectWiseConnector:
    company, public_key, client_id = _require(view, "company_id", "public_key", "client_id")
    kwargs: dict[str, Any] = {"transport": transport, "progress": progress, "cancel": cancel}
    sandbox = sandbox_credential(view, transport)
    if sandbox is not None:
        base_url, private_key = sandbox
        return ConnectWiseConnector(base_url, company, public_key, private_key, client_id,
                                    **kwargs)
    return ConnectWiseConnector.from_keyring(view.name, view.base_url or "", company, public_key,
                                             client_id, **kwargs)


def open_pax8(view: ConnectionView, *, transport: httpx.BaseTransport | None = None,
              progress: Progress | None = None,
              cancel: threading.Event | None = None) -> Pax8Connector:
    """Settings: client_id (required), token_url and default_currency (optional)."""
    (client_id,) = _require(view, "client_id")
    kwargs: dict[str, Any] = {"transport": transport, "progress": progress, "cancel": cancel,
                              "token_url": view.settings.get("token_url") or None,
                              "default_currency": view.settings.get("default_currency") or None}
    sandbox = sandbox_credential(view, transport)
    if sandbox is not None:
        base_url, client_secret = sandbox
        return Pax8Connector(base_url, client_id, client_secret, **kwargs)
    return Pax8Connector.from_keyring(view.name, view.base_url or "", client_id, **kwargs)


def open_autotask(view: ConnectionView, *, transport: httpx.BaseTransport | None = None,
                  progress: Progress | None = None,
                  cancel: threading.Event | None = None) -> AutotaskConnector:
    """Settings: username, integration_code; base_url = zone URL, or None to look it up."""
    username, code = view.settings.get("username"), view.settings.get("integration_code")
    if not username or not code:
        missing = ", ".join(n for n, v in (("username", username),
                                           ("integration_code", code)) if not v)
        raise ConnectionSetupError(f"connection {view.name!r} is missing: {missing}")
    return AutotaskConnector.from_keyring(view.name, username, code,
                                          zone_url=view.base_url or None, transport=transport,
                                          progress=progress, cancel=cancel)


def psa_account(view: ConnectionView) -> str:
    """Who is billed through this connection: the same string in every workspace.

    Push intent keys and PSA markers derive from it, so two workspaces pushing the same
    correction to the same tenant must produce the same string whatever URL they typed.
    """
    if view.kind == "connectwise":
        url = (view.base_url or "").rstrip("/").lower()
        return f"connectwise:{url}:{view.settings.get('company_id', '').lower()}"
    if view.kind == "autotask":  # the API user names one tenant in every zone
        return f"autotask:{view.settings.get('username', '').lower()}"
    raise ConnectionSetupError(f"{view.name!r} ({view.kind}) is not a PSA connection")
