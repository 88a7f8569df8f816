"""Health checks of the machine TrueUp runs on, for the self-test and the About dialog.

The UI and CLI never import app.sync; this is their one window onto the keyring.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from importlib import metadata

from app.sync import credentials


@dataclass(frozen=True)
class KeyringStatus:
    backend: str  # module.Class of the active keyring backend
    working: bool  # a throwaway secret was stored, read back identical, and deleted
    detail: str  # why not, when it is not working


def keyring_status() -> KeyringStatus:
    """Round-trip a throwaway secret: a backend can exist and still refuse to store (a
    locked Secret Service, the fail or null backend), which only a real write reveals."""
    backend = credentials.backend_name()
    name = f"self-test-{uuid.uuid4().hex}"
    probe = uuid.uuid4().hex
    try:
        credentials.store_secret(name, probe)
        try:
            read = credentials.load_secret(name)
        finally:
            credentials.delete_secret(name)
    except (credentials.KeyringUnavailableError, LookupError) as exc:
        return KeyringStatus(backend, False, str(exc))
    except Exception as exc:  # noqa: BLE001 — any backend failure means "not working"
        return KeyringStatus(backend, False, f"{type(exc).__name__}: {exc}")
    if read != probe:
        return KeyringStatus(backend, False, "the secret read back differs from the one stored")
    return KeyringStatus(backend, True, "")


# Third-party components shipped inside the app, with the licence to fall back on when a
# distribution's metadata does not state one.
BUNDLED = (("PySide6-Essentials", "PySide6 (Qt for Python)", "LGPL-3.0-only"),
           ("shiboken6", "Shiboken6", "LGPL-3.0-only"),
           ("SQLAlchemy", "SQLAlchemy", "MIT"), ("alembic", "Alembic", "MIT"),
           ("httpx", "HTTPX", "BSD-3-Clause"), ("openpyxl", "openpyxl", "MIT"),
           ("keyring", "keyring", "MIT"), ("platformdirs", "platformdirs", "MIT"))


@dataclass(frozen=True)
class Component:
    name: str
    version: str
    licence: str


def _licence(meta, fallback: str) -> str:  # noqa: ANN001 (an email.message.Message)
    expression = meta.get("License-Expression")
    if expression:
        return expression
    text = (meta.get("License") or "").strip()
    if text and "\n" not in text and len(text) <= 60:  # some put the whole licence text here
        return text
    classifiers = [c.rsplit(" :: ", 1)[-1] for c in meta.get_all("Classifier") or []
                   if c.startswith("License ::")]
    return classifiers[0] if classifiers else fallback


def bundled_components() -> list[Component]:
    """Name, version and licence of each bundled library, read from its installed metadata
    (the frozen build carries the dist-info folders for this), for the About dialog."""
    found = []
    for dist, title, fallback in BUNDLED:
        try:
            meta = metadata.metadata(dist)
            found.append(Component(title, meta["Version"], _licence(meta, fallback)))
        except metadata.PackageNotFoundError:
            found.append(Component(title, "not found", fallback))
    return found
