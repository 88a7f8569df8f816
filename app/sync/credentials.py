"""Secrets live in the OS keyring only; a missing backend is an error with guidance."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import keyring
import keyring.errors
from keyring.backends import chainer, fail, null

SERVICE = "TrueUp"

GUIDANCE = (
    "No working OS keyring was found, and TrueUp never stores secrets in plain text. "
    "On Windows and macOS the system keyring works out of the box; on Linux install and "
    "unlock a Secret Service provider (GNOME Keyring or KWallet), e.g. "
    "`sudo apt install gnome-keyring`, then sign in again."
)


_listeners: list[Callable[[str], None]] = []


def on_secret_loaded(listener: Callable[[str], None]) -> None:
    """Call `listener(secret)` for every secret stored or loaded: the log redactor registers
    here, so a secret that later reaches a log line is masked (sync never imports services)."""
    if listener not in _listeners:
        _listeners.append(listener)


def _notify(secret: str) -> None:
    for listener in _listeners:
        listener(secret)


class KeyringUnavailableError(RuntimeError):
    """There is no keyring backend that can store a secret."""

    def __init__(self, detail: str = "") -> None:
        super().__init__(GUIDANCE + (f" ({detail})" if detail else ""))


def backend_name() -> str:
    kr = keyring.get_keyring()
    return f"{type(kr).__module__}.{type(kr).__name__}"


def ensure_backend() -> None:
    """Raise unless the active backend can really keep a secret."""
    kr = keyring.get_keyring()
    unusable = isinstance(kr, fail.Keyring | null.Keyring) or (
        isinstance(kr, chainer.ChainerBackend) and not kr.backends
    )
    if unusable:
        raise KeyringUnavailableError(f"backend: {backend_name()}")


def secret_key(connection_name: str, field: str = "secret") -> str:
    return f"{connection_name}:{field}"


def store_secret(connection_name: str, secret: str, field: str = "secret") -> None:
    ensure_backend()
    _notify(secret)
    try:
        keyring.set_password(SERVICE, secret_key(connection_name, field), secret)
    except keyring.errors.KeyringError as exc:
        # The exception text never carries the secret itself.
        raise KeyringUnavailableError(type(exc).__name__) from None


def load_secret(connection_name: str, field: str = "secret") -> str:
    ensure_backend()
    try:
        value = keyring.get_password(SERVICE, secret_key(connection_name, field))
    except keyring.errors.KeyringError as exc:
        raise KeyringUnavailableError(type(exc).__name__) from None
    if value is None:
        raise LookupError(
            f"No secret is stored for connection {connection_name!r}; "
            "edit the connection and enter it again."
        )
    _notify(value)
    return value


def delete_secret(connection_name: str, field: str = "secret") -> None:
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE, secret_key(connection_name, field))
