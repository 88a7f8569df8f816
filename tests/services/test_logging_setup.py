"""The log file never holds a secret: tokens, keyed values and registered secrets are masked."""

from __future__ import annotations

import logging

import pytest

from app.services import logging_setup
from app.services.logging_setup import MASK, redact, register_secret, setup_logging
from app.sync import credentials

BASIC = "dXNlcjpodW50ZXIyLXZlcnktc2VjcmV0"
BEARER = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjMifQ.c2lnbmF0dXJl"
REGISTERED = "pax8-client-secret-7f3a9c"


@pytest.fixture()
def log_to(tmp_path, monkeypatch):
    monkeypatch.setenv("TRUEUP_LOG_DIR", str(tmp_path / "logs"))
    logging_setup.teardown_logging()
    path = setup_logging()
    yield path
    logging_setup.teardown_logging()


def test_tokens_and_registered_secrets_never_reach_the_file(log_to):
    register_secret(REGISTERED)
    log = logging.getLogger("trueup.test")
    log.warning("GET /v4 Authorization: Basic %s", BASIC)
    log.warning("refresh with headers={'Authorization': 'Bearer %s'}", BEARER)
    log.warning("connector said: bad credentials %s", REGISTERED)
    try:
        raise RuntimeError(f"token refused: Bearer {BEARER}")
    except RuntimeError:
        log.exception("sync failed")
    for handler in logging.getLogger().handlers:
        handler.flush()
    text = log_to.read_text(encoding="utf-8")
    assert "Authorization: Basic [REDACTED]" in text
    assert text.count(MASK) >= 4
    for secret in (BASIC, BEARER, REGISTERED):
        assert secret not in text
    assert "sync failed" in text and "RuntimeError" in text


@pytest.mark.parametrize("line", [
    'client_secret=abc123def&grant_type=client_credentials',
    '{"password": "hunter2hunter2"}',
    "private_key: MIIEvQIBADANBgkqhkiG9w0BAQEFAASC",
    "?access_token=ya29.a0AfH6SMBx&x=1",
    "secret='s3cr3t-value'",
    "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADAN\n-----END PRIVATE KEY-----",
])
def test_keyed_values_are_masked(line):
    out = redact(line)
    assert MASK in out
    for value in ("abc123def", "hunter2hunter2", "MIIEvQIBADAN", "ya29.a0AfH6SMBx",
                  "s3cr3t-value"):
        assert value not in out


def test_ordinary_lines_are_left_alone():
    line = "imported 5 lines for Fabrikam Dental Group, 2026-10, 3 findings"
    assert redact(line) == line


def test_secrets_loaded_from_the_keyring_are_registered(log_to):
    credentials.store_secret("autotask", "at-integration-code-991")
    assert credentials.load_secret("autotask") == "at-integration-code-991"
    assert redact("echo at-integration-code-991") == f"echo {MASK}"


def test_an_unwritable_log_folder_does_not_stop_the_app(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("TRUEUP_LOG_DIR", str(blocker / "logs"))
    logging_setup.teardown_logging()
    assert setup_logging() is None
    assert "no log file" in capsys.readouterr().err
