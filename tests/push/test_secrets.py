"""No secret in the database, the logs or any message, after pushes with faults and syncs."""

from __future__ import annotations

import base64
import logging

import keyring
import pytest
from keyring.backends import fail

from app.services.connections import KeyringUnavailableError, add_connection
from app.services.push import preview, push_approved, queue, queue_action
from app.services.sync import sync_connection
from app.sync.sandbox.base import (
    DROP,
    DROP_AFTER_COMMIT,
    MALFORMED,
    RATE_LIMIT,
    SERVER_ERROR,
    TIMEOUT_AFTER_COMMIT,
)
from tests.push.conftest import add_line, one_time_charge, set_quantity

WRONG_KEY = "WrongPrivKey-9f8e7d"


def _secrets(cw) -> dict[str, str]:
    c = cw.sandbox.credentials
    basic = f"{c.company_id}+{c.public_key}:{c.private_key}"
    wrong = f"{c.company_id}+{c.public_key}:{WRONG_KEY}"
    return {"private key": c.private_key, "basic token": base64.b64encode(basic.encode()).decode(),
            "basic credentials": basic, "wrong key": WRONG_KEY,
            "wrong token": base64.b64encode(wrong.encode()).decode()}


def test_no_secret_in_database_logs_or_messages(ws, cw, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    sandbox = cw.sandbox
    add_connection(ws, name="CW wrong key", kind="connectwise", base_url=cw.url,
                   settings=cw.settings(), secret=WRONG_KEY, user="ann")
    messages: list[str] = []

    assert sync_connection(ws, "CW").status == "complete"
    sandbox.inject(SERVER_ERROR, path="/company/companies$")
    messages.append(sync_connection(ws, "CW").error)
    messages.append(sync_connection(ws, "CW wrong key").error)  # 401 from the PSA
    assert "HTTP 401" in messages[-1]

    faults = [(RATE_LIMIT, "0", "PATCH"), (SERVER_ERROR, None, "PATCH"),
              (TIMEOUT_AFTER_COMMIT, None, "PATCH"), (DROP_AFTER_COMMIT, None, "POST"),
              (DROP, None, "PATCH"), (MALFORMED, None, "GET")]
    actions = [set_quantity(sandbox, n) for n in range(5)] + [add_line(sandbox)]
    for (kind, value, method), action in zip(faults, actions, strict=True):
        queue_action(ws, "CW", action, user="ann")
        sandbox.inject(kind, value, method=method)
        messages += [o.message for o in push_approved(ws, user="ann").outcomes]
    queue_action(ws, "CW wrong key", one_time_charge(sandbox), user="ann")
    messages += [o.message for o in push_approved(ws, user="ann").outcomes]
    messages += [line.reason for line in preview(ws)]
    intents = queue(ws)
    assert {"DONE", "FAILED"} <= {i.state for i in intents}
    messages += [i.last_error or "" for i in intents] + [repr(i) for i in intents]

    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeyringUnavailableError) as raised:
        add_connection(ws, name="CW again", kind="connectwise", base_url=cw.url,
                       settings=cw.settings(), secret=cw.private_key, user="ann")
    messages.append(str(raised.value))

    files = sorted(ws.path.parent.glob(ws.path.name + "*"))  # the database, its WAL
    stored = b"".join(f.read_bytes() for f in files)
    ws.close()
    stored += ws.path.read_bytes()
    logs = caplog.text + "".join(str(r.args) for r in caplog.records)
    assert "HTTP Request" in logs  # the logs were captured, at DEBUG
    for name, secret in _secrets(cw).items():
        assert secret.encode() not in stored, f"{name} in the database"
        assert secret not in logs, f"{name} in the logs"
        for message in messages:
            assert secret not in (message or ""), f"{name} in {message!r}"
