"""Sandbox tenants kept in files, so a sandbox outlives the process that changed it.

The demo workspace talks to its Pax8 and ConnectWise sandboxes through
`httpx.MockTransport`: no server runs, and each CLI command is a new process. So a
sandbox's data lives in a JSON file beside the workspace, loaded at the start of a unit of
work (a sync, a push) and saved at its end.

* Exact: Decimals, dates and datetimes are written as tagged strings (`{"$decimal": "0.045"}`)
  and read back as the same values, never through float.
* Atomic: a save writes a temporary file in the same folder, fsyncs it and renames it over the
  old one, so a crash leaves the old state or the new one, never half a file.
* One writer: `open_sandbox` holds an exclusive lock on `<file>.lock` from load to save, so
  two processes (the desktop app and a CLI push) cannot both read the old state and the last
  save win; the second waits for the first to finish.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.pax8.sandbox import BASE_PATH as PAX8_BASE_PATH
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox.transport import SandboxTransport

Sandbox = ConnectWiseSandbox | Pax8Sandbox
KINDS: dict[str, type[ConnectWiseSandbox] | type[Pax8Sandbox]] = {
    "connectwise": ConnectWiseSandbox, "pax8": Pax8Sandbox}
PAX8_ORIGIN = "https://sandbox.pax8.invalid"  # .invalid: never resolvable, never a real call
FORMAT = 1


class SandboxStateError(RuntimeError):
    """The sandbox file is missing, unreadable, or holds another kind of sandbox."""


# ---------------------------------------------------------------- exact JSON


def _tag(value: Any) -> Any:
    if isinstance(value, Decimal):
        return {"$decimal": str(value)}
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, float):
        raise TypeError("a float in sandbox state would lose money digits; use Decimal")
    if isinstance(value, dict):
        return {str(k): _tag(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_tag(v) for v in value]
    return value


_UNTAG = {"$decimal": Decimal, "$datetime": datetime.fromisoformat, "$date": date.fromisoformat}


def _untag(obj: dict[str, Any]) -> Any:
    if len(obj) == 1:
        (key, text), = obj.items()
        parse = _UNTAG.get(key)
        if parse is not None:
            return parse(text)
    return obj


def dumps(state: dict[str, Any]) -> str:
    return json.dumps(_tag(state), ensure_ascii=False, separators=(",", ":"))


def loads(text: str) -> dict[str, Any]:
    return json.loads(text, object_hook=_untag, parse_float=Decimal)


# ---------------------------------------------------------------- files


def save(sandbox: Sandbox, path: Path) -> None:
    """Write the sandbox's state atomically (temporary file, fsync, rename)."""
    write_text(path, _document(sandbox))


def _document(sandbox: Sandbox) -> str:
    kind = next(k for k, cls in KINDS.items() if isinstance(sandbox, cls))
    return dumps({"format": FORMAT, "kind": kind, "state": sandbox.state()})


def write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def load(path: Path, kind: str) -> Sandbox:
    try:
        document = loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SandboxStateError(f"no sandbox state at {path}: rebuild the demo workspace "
                                "with `trueup demo --force`") from None
    except (OSError, ValueError) as exc:
        raise SandboxStateError(f"sandbox state {path} cannot be read: {exc}") from exc
    if document.get("kind") != kind or document.get("format") != FORMAT:
        raise SandboxStateError(f"{path} holds a {document.get('kind')!r} sandbox "
                                f"(format {document.get('format')}), not {kind!r}")
    return KINDS[kind].from_state(document["state"])


@contextlib.contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `<path>.lock` across processes (flock, or msvcrt on Windows)."""
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+b") as handle:
        if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def open_sandbox(path: Path, kind: str) -> Iterator[Sandbox]:
    """Load, lend and save back one sandbox under the lock.

    The state is saved even when the caller fails: what the sandbox committed (a push that
    landed before a later error) is what the real server would keep. An unchanged state is
    not rewritten, so a sync (reads only) never touches the file.
    """
    with locked(path):
        sandbox = load(path, kind)
        before = _document(sandbox)
        try:
            yield sandbox
        finally:
            after = _document(sandbox)
            if after != before:
                write_text(path, after)


# ---------------------------------------------------------------- transport


def transport(sandbox: Sandbox) -> SandboxTransport:
    """A transport serving `sandbox`, with the base URL and credential to reach it."""
    if isinstance(sandbox, ConnectWiseSandbox):
        kwargs = sandbox.connector_kwargs()
        return SandboxTransport(sandbox, base_url=kwargs["base_url"],
                                credential=kwargs["private_key"])
    return SandboxTransport(sandbox, base_url=PAX8_ORIGIN + PAX8_BASE_PATH,
                            credential=sandbox.client_secret)
