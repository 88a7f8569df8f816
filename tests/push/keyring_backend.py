"""Keyring backends for tests. TEST ONLY, never in app/.

- `MemoryKeyring` lives in one process's memory: every test gets a fresh one (conftest), and
  a child process that runs TrueUp seeds its own (the crash child);
- `TestOnlyFileKeyring` keeps secrets in a JSON file named by TRUEUP_TEST_KEYRING_FILE, so a
  secret stored by one CLI call (`connect`) is there for the next (`sync`, `push`). It is
  plain text on disk: acceptable in a test's tmp_path, and the reason it lives here and
  nowhere the app could load it.
Select one in a child with PYTHON_KEYRING_BACKEND=tests.push.keyring_backend.<Class>.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

FILE_ENV = "TRUEUP_TEST_KEYRING_FILE"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in memory for one process; never touches the OS."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


class TestOnlyFileKeyring(KeyringBackend):
    priority = 1

    @property
    def path(self) -> Path:
        return Path(os.environ[FILE_ENV])

    def _load(self) -> dict[str, str]:
        return json.loads(self.path.read_text()) if self.path.exists() else {}

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\n{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        store = self._load()
        store[f"{service}\n{username}"] = password
        self.path.write_text(json.dumps(store))

    def delete_password(self, service: str, username: str) -> None:
        store = self._load()
        if store.pop(f"{service}\n{username}", None) is None:
            raise PasswordDeleteError(username)
        self.path.write_text(json.dumps(store))
