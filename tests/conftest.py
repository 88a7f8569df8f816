"""Test-wide setup: offscreen Qt, an in-memory keyring, a throwaway log folder, and the
decimal float trap."""

from __future__ import annotations

import decimal
import os
import tempfile

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# main() sets up the log file: tests (and their subprocesses) never write the user's log.
os.environ.setdefault("TRUEUP_LOG_DIR", tempfile.mkdtemp(prefix="trueup-test-logs-"))

import keyring  # noqa: E402
import pytest  # noqa: E402

from tests.push.keyring_backend import MemoryKeyring  # noqa: E402

# Every thread created from now on starts from DefaultContext: trap floats there too.
decimal.DefaultContext.traps[decimal.FloatOperation] = True


@pytest.fixture(autouse=True)
def _float_trap():
    """A float mixed into Decimal arithmetic or comparison raises in every test."""
    ctx = decimal.getcontext()
    ctx.traps[decimal.FloatOperation] = True
    yield


@pytest.fixture(autouse=True)
def memory_keyring():
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture()
def db_path(tmp_path):
    return tmp_path / "workspace.sqlite"


@pytest.fixture()
def postgres_url():
    """TRUEUP_TEST_DATABASE_URL, its public schema wiped; the test is skipped without it."""
    url = os.environ.get("TRUEUP_TEST_DATABASE_URL")
    if not url:
        pytest.skip("set TRUEUP_TEST_DATABASE_URL to a PostgreSQL URL to run this")
    from app.models.workspace import make_engine

    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    engine.dispose()
    return url
