"""Sandbox connections take the sandbox's public demo credential; every other connection
still needs the keyring, with no fallback, whatever transport it is given."""

from __future__ import annotations

import httpx
import keyring
import pytest
from keyring.backends import fail

from app.models.workspace import Workspace
from app.services.connections import ConnectionSetupError, add_connection, get_connection
from app.services.connectors import open_connectwise, open_pax8
from app.services.sandboxes import sandbox_transport, sandbox_url, state_file
from app.services.sync import sync_connection
from app.sync.connectwise.sandbox import ConnectWiseSandbox
from app.sync.credentials import KeyringUnavailableError
from app.sync.pax8.sandbox import Pax8Sandbox
from app.sync.sandbox import persist

CW_SETTINGS = {"company_id": "trueup_demo", "public_key": "PubKeyDemo0001",
               "client_id": "8d4f0b5e-6c3a-4e39-9a6f-0f7c2b1d9e11"}


@pytest.fixture()
def ws(db_path):
    workspace = Workspace.open(db_path)
    add_connection(workspace, name="Real CW", kind="connectwise",
                   base_url="https://api-na.myconnectwise.net/v4_6_release/apis/3.0",
                   settings=CW_SETTINGS, secret=None, user="ann")
    add_connection(workspace, name="Demo CW", kind="connectwise",
                   base_url=sandbox_url("connectwise"), settings=CW_SETTINGS, secret=None,
                   user="ann")
    add_connection(workspace, name="Demo Pax8", kind="pax8", base_url=sandbox_url("pax8"),
                   settings={"client_id": "sandbox-client-id"}, secret=None, user="ann")
    yield workspace
    workspace.close()


def test_a_real_url_still_needs_the_keyring(ws):
    real = get_connection(ws, "Real CW")
    with pytest.raises(LookupError, match="No secret is stored"):
        open_connectwise(real)
    # not even a sandbox's transport lends its credential to a real URL
    sandbox = persist.transport(ConnectWiseSandbox.seeded(companies=1))
    with pytest.raises(LookupError, match="No secret is stored"):
        open_connectwise(real, transport=sandbox)
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(KeyringUnavailableError):
            open_connectwise(real, transport=sandbox)
    finally:
        keyring.set_keyring(previous)


def test_a_sandbox_url_runs_only_on_its_sandbox(ws):
    demo = get_connection(ws, "Demo CW")
    for transport in (None, httpx.MockTransport(lambda request: httpx.Response(200))):
        with pytest.raises(ConnectionSetupError, match="sandbox connection"):
            open_connectwise(demo, transport=transport)
    with pytest.raises(ConnectionSetupError, match="sandbox connection"):
        open_pax8(get_connection(ws, "Demo Pax8"))


def test_a_sandbox_connection_needs_no_keyring(ws, db_path):
    sandbox = ConnectWiseSandbox.seeded(companies=2)
    persist.save(sandbox, state_file(ws, get_connection(ws, "Demo CW")))
    persist.save(Pax8Sandbox.seeded(customers=2, subscriptions=5),
                 state_file(ws, get_connection(ws, "Demo Pax8")))
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        for name in ("Demo CW", "Demo Pax8"):
            result = sync_connection(ws, name)
            assert result.status == "complete", result.error
    finally:
        keyring.set_keyring(previous)
    assert state_file(ws, get_connection(ws, "Demo CW")).parent == \
        db_path.with_suffix(".sandboxes")


def test_a_missing_sandbox_is_a_clear_sync_failure(ws):
    result = sync_connection(ws, "Demo CW")
    assert result.status == "failed" and "trueup demo --force" in (result.error or "")


def test_the_sandbox_must_match_the_connection_kind(ws):
    add_connection(ws, name="Odd", kind="pax8", base_url=sandbox_url("connectwise"),
                   settings={"client_id": "x"}, secret=None, user="ann")
    with pytest.raises(ConnectionSetupError, match="names no pax8 sandbox"), \
            sandbox_transport(ws, get_connection(ws, "Odd")):
        pass


def test_a_given_transport_wins(ws):
    given = httpx.MockTransport(lambda request: httpx.Response(200))
    with sandbox_transport(ws, get_connection(ws, "Demo CW"), given) as transport:
        assert transport is given
    with sandbox_transport(ws, get_connection(ws, "Real CW")) as transport:
        assert transport is None
