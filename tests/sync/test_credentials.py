"""Secrets go to the keyring or nowhere: a missing backend is an error with guidance."""

from __future__ import annotations

import keyring
import pytest
from keyring.backends import fail

from app.sync.credentials import (
    KeyringUnavailableError,
    delete_secret,
    load_secret,
    store_secret,
)


def test_secret_round_trip_through_the_keyring(memory_keyring):
    store_secret("cw-main", "s3cr3t-value")
    assert load_secret("cw-main") == "s3cr3t-value"
    assert "s3cr3t-value" in memory_keyring.store.values()
    delete_secret("cw-main")
    with pytest.raises(LookupError, match="cw-main"):
        load_secret("cw-main")


def test_missing_backend_is_a_clear_error_and_never_a_fallback():
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailableError) as excinfo:
        store_secret("cw-main", "s3cr3t-value")
    message = str(excinfo.value)
    assert "keyring" in message.lower() and "plain text" in message
    assert "s3cr3t-value" not in message
