"""Sandbox connections: `sandbox://pax8` and `sandbox://connectwise` (the demo workspace).

Such a connection is served by a sandbox tenant kept in a file beside the workspace
(`<workspace>.sandboxes/<kind>.json`), so sync and push run offline and every CLI command, a
new process each, sees what the previous one changed. This module is the one place that
resolves them: `sandbox_transport` lends the persisted sandbox as the transport of one unit
of work (a whole sync fetch, a whole push run) and saves it afterwards, under a file lock.

Credentials: a sandbox accepts only its fixed, published demo values, so a sandbox
connection takes them from the sandbox itself (`SandboxTransport.credential`) and stores
nothing in the keyring; the demo therefore runs where no OS keyring exists. Only a
`sandbox://` URL served by a SandboxTransport gets this; every other connection reads its
secret from the keyring, with no fallback.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from app.services.connections import ConnectionSetupError, ConnectionView
from app.services.workspace import Workspace
from app.sync.sandbox.transport import SandboxTransport

KINDS = ("connectwise", "pax8")  # the sandboxes app.sync.sandbox.persist can keep

SCHEME = "sandbox"

__all__ = ["SCHEME", "SandboxTransport", "is_sandbox_url", "sandbox_credential",
           "sandbox_folder", "sandbox_transport", "sandbox_url", "state_file"]


def is_sandbox_url(url: str | None) -> bool:
    return bool(url) and urlsplit(url).scheme.lower() == SCHEME


def sandbox_url(kind: str) -> str:
    return f"{SCHEME}://{kind}"


def sandbox_folder(workspace_path: Path) -> Path:
    """`demo.sqlite` keeps its sandboxes in `demo.sandboxes/`."""
    return workspace_path.with_suffix(".sandboxes")


def state_file(ws: Workspace, view: ConnectionView) -> Path:
    kind = urlsplit(view.base_url or "").netloc.lower()
    if kind not in KINDS or kind != view.kind:
        raise ConnectionSetupError(f"connection {view.name!r}: {view.base_url!r} names no "
                                   f"{view.kind} sandbox (known: "
                                   + ", ".join(sandbox_url(k) for k in KINDS) + ")")
    if ws.path is None:
        raise ConnectionSetupError(f"connection {view.name!r} is a sandbox connection; "
                                   "sandboxes live beside a workspace file, not a server "
                                   "database")
    return sandbox_folder(ws.path) / f"{kind}.json"


@contextmanager
def sandbox_transport(ws: Workspace, view: ConnectionView,
                      transport: httpx.BaseTransport | None = None
                      ) -> Iterator[httpx.BaseTransport | None]:
    """The transport for one unit of work on `view`.

    A transport given by the caller (tests) wins; a real connection gets None (the network);
    a `sandbox://` connection gets its persisted sandbox, locked until the unit ends and
    saved then.
    """
    if transport is not None or not is_sandbox_url(view.base_url):
        yield transport
        return
    path = state_file(ws, view)
    from app.sync.sandbox import persist  # only here: real syncs never load a sandbox server

    try:
        with persist.open_sandbox(path, view.kind) as sandbox:
            yield persist.transport(sandbox)
    except persist.SandboxStateError as exc:
        raise ConnectionSetupError(str(exc)) from exc


def sandbox_credential(view: ConnectionView,
                       transport: httpx.BaseTransport | None) -> tuple[str, str] | None:
    """(base URL, credential) for a sandbox connection, None for any other connection.

    Narrow on purpose: the URL must say `sandbox://` and the transport must be the sandbox
    that will answer; a sandbox URL without one is an error, never a keyring read or a
    network call.
    """
    if not is_sandbox_url(view.base_url):
        return None
    if not isinstance(transport, SandboxTransport):
        raise ConnectionSetupError(
            f"connection {view.name!r} is a sandbox connection ({view.base_url}); it runs "
            "only through TrueUp's sync and push, which open its sandbox")
    return transport.base_url, transport.credential
